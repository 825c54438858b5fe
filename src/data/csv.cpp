// CSV tables: one sample per line, one label column, every other column a numeric feature.
// A small, strict reader rather than a general CSV library: no quoted delimiters or multi-line
// cells, but every rejected cell is reported with its line and column.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <string_view>

#include "nabla/data/datasets.h"
#include "nabla/error.h"

namespace nabla::data {

namespace {

// The most classes integer labels may imply when num_classes is not given.
constexpr int64_t kMaxInferredClasses = 1 << 16;
// From this many rows on, a label column whose every value differs (an id, a feature) is refused:
// below it, a few samples of as many classes are a plausible table.
constexpr int64_t kMinRowsForUniqueLabels = 10;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

std::vector<std::string_view> split_cells(std::string_view line, char delim) {
  std::vector<std::string_view> cells;
  size_t start = 0;
  for (;;) {
    size_t end = line.find(delim, start);
    cells.push_back(trim(line.substr(start, end == std::string_view::npos ? end : end - start)));
    if (end == std::string_view::npos) return cells;
    start = end + 1;
  }
}

// A float that uses the whole cell ("nan" and "inf" parse too, and are caught by the caller).
bool parse_float(std::string_view s, float& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool parse_int(std::string_view s, int64_t& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

}  // namespace

Dataset load_csv(const std::string& path, const CsvOptions& options) {
  std::ifstream file(path);
  NABLA_CHECK(file.is_open(), path, ": cannot open CSV file (missing or unreadable)");

  std::string line;
  int64_t line_no = 0;
  auto next_line = [&]() -> bool {
    while (std::getline(file, line)) {
      ++line_no;
      if (!blank(line)) return true;
    }
    return false;
  };
  NABLA_CHECK(next_line(), path, ": the file is empty (no header and no samples)");

  std::vector<std::string_view> cells = split_cells(line, options.delimiter());
  auto columns = static_cast<int64_t>(cells.size());
  NABLA_CHECK(columns >= 2, path, ": line ", line_no, ": ", columns,
              " column; a CSV dataset needs a label column and at least one feature column "
              "(is the delimiter '",
              options.delimiter(), "'?)");
  bool has_header = options.header() == CsvOptions::Header::Yes;
  if (options.header() == CsvOptions::Header::Auto) {
    float ignored;
    has_header = std::none_of(cells.begin(), cells.end(),
                              [&](std::string_view c) { return parse_float(c, ignored); });
  }
  std::vector<std::string> names;
  if (has_header)
    for (auto c : cells) names.emplace_back(c);

  int64_t label_col;
  if (!options.label_name().empty()) {
    NABLA_CHECK(has_header, path, ": label column '", options.label_name(),
                "' is named, but the file has no header line (line 1 is data)");
    auto it = std::find(names.begin(), names.end(), options.label_name());
    if (it == names.end()) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "'" : ", '") + n + "'";
      nabla::detail::throw_error(path, ": line ", line_no, ": no column named '",
                                 options.label_name(), "'; the header has ", list);
    }
    label_col = it - names.begin();
  } else {
    label_col = options.label_index() < 0 ? options.label_index() + columns : options.label_index();
    NABLA_CHECK(label_col >= 0 && label_col < columns, path, ": label column index ",
                options.label_index(), " is outside the ", columns, " columns");
  }
  auto column_desc = [&](int64_t c) {
    std::string s = "column " + std::to_string(c + 1);
    if (has_header) s += " ('" + names[c] + "')";
    return s;
  };

  std::vector<float> features;
  std::vector<std::string> label_cells;
  std::vector<int64_t> label_lines;
  bool have_row = !has_header;
  while (have_row || next_line()) {
    if (!have_row) cells = split_cells(line, options.delimiter());
    have_row = false;
    NABLA_CHECK(static_cast<int64_t>(cells.size()) == columns, path, ": line ", line_no, ": ",
                cells.size(), " columns, expected ", columns, " (as on the first line)");
    int64_t sample = static_cast<int64_t>(label_cells.size());
    for (int64_t c = 0; c < columns; ++c) {
      if (c == label_col) continue;
      float v;
      NABLA_CHECK(parse_float(cells[c], v), path, ": line ", line_no, ", ", column_desc(c), ": '",
                  cells[c], "' is not a number");
      NABLA_CHECK(std::isfinite(v), path, ": line ", line_no, ", ", column_desc(c),
                  ": feature of sample ", sample, " is ", cells[c],
                  "; NaN and infinite features are not allowed");
      features.push_back(v);
    }
    NABLA_CHECK(!cells[label_col].empty(), path, ": line ", line_no, ", ", column_desc(label_col),
                ": the label is empty");
    label_cells.emplace_back(cells[label_col]);
    label_lines.push_back(line_no);
  }
  NABLA_CHECK(!label_cells.empty(), path, ": no samples after the header line");
  const auto rows = static_cast<int64_t>(label_cells.size());
  const auto distinct =
      static_cast<int64_t>(std::set<std::string>(label_cells.begin(), label_cells.end()).size());
  NABLA_CHECK(rows < kMinRowsForUniqueLabels || distinct < rows, path, ": ", column_desc(label_col),
              " holds ", distinct, " distinct values in ", rows,
              " rows, so every sample would be a class of its own: it is not a label column",
              "\n---> HINT: choose the label column by header name or 0-based index ",
              "(CsvOptions::label_name or label_index; the default is the last column)");

  // Integer labels are class indices; anything else makes every label a class name.
  std::vector<int64_t> labels(label_cells.size());
  bool numeric = std::all_of(label_cells.begin(), label_cells.end(), [](const std::string& s) {
    int64_t ignored;
    return parse_int(s, ignored);
  });
  std::vector<std::string> classes;
  if (numeric) {
    int64_t max_label = 0;
    for (size_t i = 0; i < labels.size(); ++i) {
      parse_int(label_cells[i], labels[i]);
      NABLA_CHECK(labels[i] >= 0, path, ": line ", label_lines[i], ", ", column_desc(label_col),
                  ": label ", labels[i], " of sample ", i, " is negative");
      NABLA_CHECK(options.num_classes() <= 0 || labels[i] < options.num_classes(), path, ": line ",
                  label_lines[i], ", ", column_desc(label_col), ": label ", labels[i],
                  " of sample ", i, " is outside [0, ", options.num_classes(), ")");
      // Without num_classes the labels decide how many classes (and names) there are: a
      // single stray label must not make that a billion.
      NABLA_CHECK(options.num_classes() > 0 || labels[i] < kMaxInferredClasses, path, ": line ",
                  label_lines[i], ", ", column_desc(label_col), ": label ", labels[i],
                  " of sample ", i, " would make ", labels[i], " + 1 classes; class indices above ",
                  kMaxInferredClasses - 1, " need num_classes set");
      max_label = std::max(max_label, labels[i]);
    }
    int64_t n_classes = options.num_classes() > 0 ? options.num_classes() : max_label + 1;
    for (int64_t k = 0; k < n_classes; ++k) classes.push_back(std::to_string(k));
  } else {
    std::map<std::string, int64_t> index;
    for (const auto& s : label_cells) index.emplace(s, 0);
    NABLA_CHECK(
        options.num_classes() <= 0 || static_cast<int64_t>(index.size()) == options.num_classes(),
        path, ": ", index.size(), " distinct class names in ", column_desc(label_col),
        ", but num_classes is ", options.num_classes());
    for (auto& [name, k] : index) {
      k = static_cast<int64_t>(classes.size());
      classes.push_back(name);
    }
    for (size_t i = 0; i < labels.size(); ++i) labels[i] = index[label_cells[i]];
  }
  return Dataset::from_float(path, Shape{columns - 1}, std::move(features), std::move(labels),
                             std::move(classes));
}

}  // namespace nabla::data

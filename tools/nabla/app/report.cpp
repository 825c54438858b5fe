// The HTML training report (app/report.h). The page is assembled as a string by
// a small Page helper: sections, tables, embedded PNGs. nlohmann-json reads the run's config back
// from its checkpoint; nothing else is needed to view the page.
#include "app/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "app/run_detail.h"
#include "app/run_info.h"
#include "nabla/error.h"
#include "nabla/io/atomic_file.h"
#include "nabla/io/checkpoint.h"
#include "nabla/models.h"
#include "nabla/nn/summary.h"
#include "nabla/suggest.h"

namespace nabla::app {

namespace fs = std::filesystem;
using nlohmann::json;

std::string base64_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = static_cast<uint8_t>(bytes[i]) << 16 |
                       static_cast<uint8_t>(bytes[i + 1]) << 8 | static_cast<uint8_t>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
  }
  if (i < bytes.size()) {  // one or two bytes left: pad to four characters with '='
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

namespace {

// Long CSV files (per-step diagnostics) show their first and last rows only.
constexpr size_t kMaxTableRows = 60;

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A number as the console prints it: integers whole, others to 4 significant digits.
std::string number_text(double v) {
  if (std::isfinite(v) && v == std::round(v) && std::abs(v) < 1e15)
    return std::to_string(static_cast<int64_t>(v));
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", v);
  return text;
}

// A CSV cell for the page: accuracies (a column named *acc*, a fraction) as percentages, other
// numbers as number_text; text as it is.
std::string cell_text(const std::string& column, const std::string& cell) {
  char* end = nullptr;
  const double v = std::strtod(cell.c_str(), &end);
  if (cell.empty() || end != cell.c_str() + cell.size()) return cell;
  if (column.find("acc") != std::string::npos && v >= 0 && v <= 1) return run_detail::percent(v);
  return number_text(v);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A CSV line split at commas, honouring double quotes (the search table quotes its messages).
std::vector<std::string> csv_cells(const std::string& line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (char c : line) {
    if (c == '"')
      quoted = !quoted;
    else if (c == ',' && !quoted)
      cells.emplace_back();
    else if (c != '\r')
      cells.back() += c;
  }
  return cells;
}

constexpr const char* kStyle = R"(
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1340px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
h3 { font-size: 1em; margin: 0.8em 0 0.3em; }
.path { color: #666; font-family: monospace; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f4f4f4; }
td.text, th.text { text-align: left; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.85em; color: #555; text-align: center; }
pre { background: #f8f8f8; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
.note { color: #666; font-size: 0.85em; }
)";

// Marks each image's decoded size once everything has loaded (see report.h).
constexpr const char* kScript = R"(
window.addEventListener('load', function () {
  var loaded = 0, broken = 0;
  document.querySelectorAll('img').forEach(function (img) {
    img.dataset.naturalWidth = img.naturalWidth;
    img.dataset.naturalHeight = img.naturalHeight;
    if (img.complete && img.naturalWidth > 0) loaded++; else broken++;
  });
  document.body.dataset.imagesLoaded = loaded;
  document.body.dataset.imagesBroken = broken;
  document.body.dataset.ready = 'true';
});
)";

class Page {
 public:
  Page(const std::string& title, const std::string& subtitle) {
    html_ << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>"
          << escape(title) << "</title>\n<style>" << kStyle << "</style>\n<script>" << kScript
          << "</script>\n</head>\n<body>\n<h1>" << escape(title) << "</h1>\n<p class=\"path\">"
          << escape(subtitle) << "</p>\n";
  }

  void heading(const std::string& text, const std::string& id) {
    html_ << "<h2 id=\"" << id << "\">" << escape(text) << "</h2>\n";
  }
  void note(const std::string& text) { html_ << "<p class=\"note\">" << escape(text) << "</p>\n"; }
  void raw(const std::string& html) { html_ << html; }
  void pre(const std::string& text) { html_ << "<pre>" << escape(text) << "</pre>\n"; }

  // Rows of cells; a cell that does not look like a number is left-aligned.
  void table(const std::vector<std::string>& header,
             const std::vector<std::vector<std::string>>& rows) {
    auto is_number = [](const std::string& s) {
      if (s.empty()) return true;
      char* end = nullptr;
      std::strtod(s.c_str(), &end);
      return end != s.c_str() && (*end == '\0' || *end == '%');
    };
    html_ << "<table>\n<tr>";
    for (const std::string& h : header) html_ << "<th>" << escape(h) << "</th>";
    html_ << "</tr>\n";
    for (const auto& row : rows) {
      html_ << "<tr>";
      for (const std::string& cell : row)
        html_ << (is_number(cell) ? "<td>" : "<td class=\"text\">") << escape(cell) << "</td>";
      html_ << "</tr>\n";
    }
    html_ << "</table>\n";
  }

  // Label-value pairs, `per_row` pairs to a table row (a long option list stays compact).
  void key_values(const std::vector<std::pair<std::string, std::string>>& pairs,
                  size_t per_row = 1) {
    html_ << "<table>\n";
    for (size_t i = 0; i < pairs.size(); i += per_row) {
      html_ << "<tr>";
      for (size_t k = i; k < std::min(pairs.size(), i + per_row); ++k)
        html_ << "<th class=\"text\">" << escape(pairs[k].first) << "</th><td class=\"text\">"
              << escape(pairs[k].second) << "</td>";
      html_ << "</tr>\n";
    }
    html_ << "</table>\n";
  }

  // The PNGs among `files` that exist in `dir`, side by side, each with its file name below.
  // Returns how many were embedded.
  int figures(const fs::path& dir, const std::vector<std::string>& files) {
    int shown = 0;
    for (const std::string& f : files) {
      const fs::path path = dir / f;
      if (!fs::is_regular_file(path)) continue;
      if (shown++ == 0) html_ << "<div class=\"figures\">\n";
      html_ << "<figure><img class=\"chart\" data-file=\"" << escape(f) << "\" alt=\"" << escape(f)
            << "\" src=\"data:image/png;base64," << base64_encode(read_file(path))
            << "\"><figcaption>" << escape(f) << "</figcaption></figure>\n";
    }
    if (shown > 0) html_ << "</div>\n";
    return shown;
  }

  // A CSV file as a table; files longer than kMaxTableRows show their first and last rows.
  void csv_table(const fs::path& path) {
    std::ifstream in(path);
    std::string line;
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
    if (std::getline(in, line)) header = csv_cells(line);
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      rows.push_back(csv_cells(line));
      for (size_t c = 0; c < rows.back().size() && c < header.size(); ++c)
        rows.back()[c] = cell_text(header[c], rows.back()[c]);
    }
    const size_t total = rows.size();
    if (total > kMaxTableRows) {
      const size_t keep = kMaxTableRows / 2;
      rows.erase(rows.begin() + static_cast<std::ptrdiff_t>(keep),
                 rows.end() - static_cast<std::ptrdiff_t>(keep));
      rows.insert(rows.begin() + static_cast<std::ptrdiff_t>(keep),
                  std::vector<std::string>(header.size(), "…"));
      note(path.filename().string() + ": " + std::to_string(total) + " rows; showing the first " +
           std::to_string(keep) + " and the last " + std::to_string(keep));
    }
    table(header, rows);
  }

  void write(const fs::path& path) {
    html_ << "</body>\n</html>\n";
    io::write_file_atomic(path.string(), html_.str());
  }

 private:
  std::ostringstream html_;
};

std::string json_value_text(const json& v) {
  if (v.is_null()) return "not used";
  if (v.is_string()) return v.get<std::string>().empty() ? "none" : v.get<std::string>();
  if (v.is_number()) return number_text(v.get<double>());
  return v.dump();
}

// The layer table (nabla/nn/summary.h) for the run's batch size; the description's lines if the
// description no longer builds, so that the page still shows what ran.
std::string model_summary_text(const json& config) {
  const json& model = config.at("model");
  try {
    const int64_t batch = config.contains("options")
                              ? config.at("options").value("batch_size", int64_t{1})
                              : int64_t{1};
    const auto built = model_from_json(model.dump(), 0, "the run's model");
    return nn::format_summary(
        nn::summary(*built, model.at("input").get<std::vector<int64_t>>(), batch));
  } catch (const std::exception&) {
    std::string text = "input " + model.value("input", json::array()).dump() + "\n";
    for (const json& layer : model.value("layers", json::array())) text += layer.dump() + "\n";
    return text;
  }
}

// When, where and with what the run ran, and its test result (trainer_state.json's "run" and
// "test"; absent from older checkpoints, then nothing is shown).
void run_section(Page& page, const json& config) {
  if (!config.is_object() || !config.contains("run")) return;
  const json& run = config.at("run");
  std::vector<std::pair<std::string, std::string>> rows;
  if (config.contains("test"))
    rows.emplace_back("test accuracy",
                      run_detail::percent(config.at("test").at("accuracy").get<double>()) + " of " +
                          std::to_string(config.at("test").at("samples").get<int64_t>()) +
                          " images");
  rows.emplace_back("date", run.value("date", "unknown"));
  rows.emplace_back("duration", duration_text(run.value("seconds", -1.0)));
  rows.emplace_back("nabla version", run.value("version", "unknown"));
  rows.emplace_back("CPU", run.value("cpu", "unknown"));
  rows.emplace_back("threads", std::to_string(run.value("threads", 0)));
  if (run.contains("epoch_times"))
    rows.emplace_back("time (last epoch)", epoch_times_text(run.at("epoch_times")));
  page.heading("Run", "run");
  page.key_values(rows);
}

void configuration_section(Page& page, const json& config) {
  page.heading("Configuration", "configuration");
  if (config.is_null()) {
    page.note("No checkpoint with the run's configuration was found.");
    return;
  }
  // The values the run used (run.cpp's "effective_options"); a value the run chose itself, where
  // the option was left at its default ("threads 0"), is marked "(auto)". Checkpoints from before
  // effective_options show the options as given.
  std::vector<std::pair<std::string, std::string>> rows;
  const json given = config.value("options", json::object());
  const json& used = config.contains("effective_options") ? config.at("effective_options") : given;
  for (const auto& [key, value] : used.items()) {
    const bool chosen = !value.is_null() && given.contains(key) && given.at(key) != value;
    rows.emplace_back(key, json_value_text(value) + (chosen ? " (auto)" : ""));
  }
  page.key_values(rows, 3);
  if (config.contains("class_names")) {
    page.raw("<h3>Classes</h3>\n");
    page.pre(join(config.at("class_names").get<std::vector<std::string>>()));
  }
  if (config.contains("model")) {
    page.raw("<h3>Model</h3>\n");
    page.pre(model_summary_text(config));
  }
}

std::vector<std::string> files_with_extension(const fs::path& dir, const std::string& ext) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().extension() == ext)
      names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

json read_run_config(const std::string& run_dir) {
  for (const char* sub : {"final", "last", "best"}) {
    const fs::path checkpoint = fs::path(run_dir) / sub;
    if (!fs::exists(io::resolve_atomic_directory(checkpoint.string()))) continue;
    try {
      return json::parse(io::read_training_state(checkpoint.string()).config);
    } catch (const std::exception&) {
      continue;  // a checkpoint that does not read: try the next, the page is still useful
    }
  }
  return nullptr;
}

void write_run_report(const std::string& run_dir, const ReportSummary& summary) {
  const fs::path dir(run_dir);
  NABLA_CHECK(fs::is_directory(dir), "report: ", run_dir, " is not a run directory");
  Page page("Training report", fs::absolute(dir).lexically_normal().string());
  if (!summary.empty()) {
    page.heading("Summary", "summary");
    page.key_values(summary);
  }
  const json config = read_run_config(run_dir);
  run_section(page, config);
  configuration_section(page, config);

  std::set<std::string> shown;
  auto section = [&](const std::string& title, const std::string& id,
                     const std::vector<std::string>& files) {
    std::vector<std::string> present;
    for (const std::string& f : files)
      if (fs::is_regular_file(dir / f)) present.push_back(f);
    if (present.empty()) return;
    page.heading(title, id);
    page.figures(dir, present);
    shown.insert(present.begin(), present.end());
  };
  section("Curves", "curves", {"loss.png", "loss_steps.png", "accuracy.png"});
  section("First-layer filters", "filters", {"filters.png"});
  section("Confusion matrix (test set)", "confusion", {"confusion.png"});
  section("Misclassified test images", "misclassified", {"misclassified.png"});
  std::vector<std::string> others;
  for (const std::string& f : files_with_extension(dir, ".png"))
    if (!shown.count(f)) others.push_back(f);
  section("More figures", "more-figures", others);

  for (const std::string& f : files_with_extension(dir, ".csv")) {
    page.heading(f == "metrics.csv" ? "Metrics per epoch (metrics.csv)" : f,
                 "csv-" + fs::path(f).stem().string());
    page.csv_table(dir / f);
  }
  page.write(dir / "report.html");
}

void write_comparison_report(const std::string& out_dir, const std::vector<std::string>& run_dirs,
                             const std::vector<std::string>& header,
                             const std::vector<std::vector<std::string>>& rows) {
  const fs::path dir(out_dir);
  Page page("Runs compared", fs::absolute(dir).lexically_normal().string());
  page.heading("Settings that differ, and results", "table");
  page.table(header, rows);
  std::string links = "<p class=\"note\">Each run's own report:";
  for (size_t i = 0; i < run_dirs.size() && i < rows.size(); ++i) {
    const fs::path report = fs::absolute(fs::path(run_dirs[i]) / "report.html");
    if (fs::exists(report))
      links += " <a href=\"" +
               escape(report.lexically_relative(fs::absolute(dir)).generic_string()) + "\">" +
               escape(rows[i][0]) + "</a>";
  }
  page.raw(links + "</p>\n");
  page.heading("Curves", "curves");
  page.figures(dir, {"compare_loss.png", "compare_accuracy.png"});
  page.write(dir / "compare.html");
}

void write_search_report(const SearchResult& result) {
  const fs::path dir(result.out_dir);
  NABLA_CHECK(fs::is_directory(dir), "report: ", result.out_dir, " is not a search directory");
  Page page("Hyperparameter search", fs::absolute(dir).lexically_normal().string());

  page.heading("Ranges", "ranges");
  std::vector<std::vector<std::string>> ranges;
  for (size_t r = 0; r < result.round_spaces.size(); ++r) {
    std::string items;
    for (const SearchDimension& d : result.round_spaces[r])
      items += (items.empty() ? "" : "  ") + d.str();
    ranges.push_back({std::to_string(r + 1), items});
  }
  page.table({"round", "sampled from"}, ranges);

  page.heading("Trials, best first", "trials");
  page.csv_table(dir / "trials.csv");
  std::string links = "<p class=\"note\">Each trial's own report:";
  std::vector<Trial> by_index = result.trials;
  std::sort(by_index.begin(), by_index.end(),
            [](const Trial& a, const Trial& b) { return a.index < b.index; });
  for (const Trial& t : by_index) {
    const fs::path rel = fs::path(t.dir).lexically_relative(dir) / "report.html";
    if (fs::exists(fs::path(t.dir) / "report.html"))
      links +=
          " <a href=\"" + escape(rel.generic_string()) + "\">" + std::to_string(t.index) + "</a>";
  }
  page.raw(links + "</p>\n");

  page.heading("Validation accuracy against each hyperparameter", "scatter");
  std::vector<std::string> plots;
  for (const SearchDimension& d : result.space) plots.push_back("accuracy_vs_" + d.name + ".png");
  page.figures(dir, plots);
  page.write(dir / "report.html");
}

}  // namespace nabla::app

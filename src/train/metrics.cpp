// metrics.csv and the confusion matrix (see include/nabla/train/metrics.h).
#include "nabla/train/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "nabla/error.h"
#include "nabla/io/atomic_file.h"

namespace nabla::train {

namespace {

constexpr const char* kColumns[] = {"epoch",    "lr",      "train_loss", "train_acc",
                                    "val_loss", "val_acc", "seconds",    "images_per_s"};

// The shortest text that reads back as the same double ("0.001", not "0.0010000000000000000208");
// empty for NaN (a missing value).
std::string cell(double v) {
  if (std::isnan(v)) return "";
  char buf[32];
  const auto [end, error] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

}  // namespace

std::string metrics_csv_header() {
  std::string out;
  for (const char* c : kColumns) {
    if (!out.empty()) out += ',';
    out += c;
  }
  return out;
}

std::string metrics_csv_row(const EpochMetrics& m) {
  return std::to_string(m.epoch) + "," + cell(m.lr) + "," + cell(m.train_loss) + "," +
         cell(m.train_acc) + "," + cell(m.val_loss) + "," + cell(m.val_acc) + "," +
         cell(m.seconds) + "," + cell(m.images_per_s);
}

void write_metrics_csv(const std::string& path, const std::vector<EpochMetrics>& rows) {
  std::string text = metrics_csv_header() + "\n";
  for (const EpochMetrics& m : rows) text += metrics_csv_row(m) + "\n";
  io::write_file_atomic(path, text);
}

std::vector<EpochMetrics> read_metrics_csv(const std::string& path) {
  std::ifstream in(path);
  NABLA_CHECK(in.good(), "read_metrics_csv: ", path, ": cannot open for reading");
  std::string line;
  NABLA_CHECK(std::getline(in, line) && line == metrics_csv_header(), "read_metrics_csv: ", path,
              ": line 1: expected the header '", metrics_csv_header(), "'");
  std::vector<EpochMetrics> rows;
  for (int64_t line_no = 2; std::getline(in, line); ++line_no) {
    if (line.empty()) continue;
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    NABLA_CHECK(cells.size() == std::size(kColumns), "read_metrics_csv: ", path, ": line ", line_no,
                ": ", cells.size(), " cells; expected ", std::size(kColumns));
    double v[std::size(kColumns)];
    for (size_t i = 0; i < cells.size(); ++i) {
      if (cells[i].empty()) {
        v[i] = std::nan("");
        continue;
      }
      size_t used = 0;
      try {
        v[i] = std::stod(cells[i], &used);
      } catch (const std::exception&) {
        used = 0;
      }
      NABLA_CHECK(used == cells[i].size() && used > 0, "read_metrics_csv: ", path, ": line ",
                  line_no, ", column ", kColumns[i], ": '", cells[i], "' is not a number");
    }
    rows.push_back({static_cast<int64_t>(v[0]), v[1], v[2], v[3], v[4], v[5], v[6], v[7]});
  }
  return rows;
}

ConfusionMatrix::ConfusionMatrix(int64_t num_classes) {
  NABLA_CHECK(num_classes >= 0, "ConfusionMatrix: negative number of classes ", num_classes);
  counts_.assign(static_cast<size_t>(num_classes),
                 std::vector<int64_t>(static_cast<size_t>(num_classes), 0));
}

void ConfusionMatrix::add(int64_t truth, int64_t predicted) {
  NABLA_CHECK(truth >= 0 && truth < num_classes() && predicted >= 0 && predicted < num_classes(),
              "ConfusionMatrix::add: true class ", truth, " and predicted class ", predicted,
              " must lie in [0, ", num_classes(), ")");
  ++counts_[static_cast<size_t>(truth)][static_cast<size_t>(predicted)];
}

void ConfusionMatrix::merge(const ConfusionMatrix& other) {
  NABLA_CHECK(other.num_classes() == num_classes(), "ConfusionMatrix::merge: ", other.num_classes(),
              " classes into ", num_classes());
  for (size_t i = 0; i < counts_.size(); ++i)
    for (size_t j = 0; j < counts_.size(); ++j) counts_[i][j] += other.counts_[i][j];
}

int64_t ConfusionMatrix::count(int64_t truth, int64_t predicted) const {
  NABLA_CHECK(truth >= 0 && truth < num_classes() && predicted >= 0 && predicted < num_classes(),
              "ConfusionMatrix::count: (", truth, ", ", predicted, ") outside [0, ", num_classes(),
              ")");
  return counts_[static_cast<size_t>(truth)][static_cast<size_t>(predicted)];
}

int64_t ConfusionMatrix::support(int64_t c) const {
  int64_t n = 0;
  for (int64_t p = 0; p < num_classes(); ++p) n += count(c, p);
  return n;
}

int64_t ConfusionMatrix::total() const {
  int64_t n = 0;
  for (int64_t c = 0; c < num_classes(); ++c) n += support(c);
  return n;
}

double ConfusionMatrix::accuracy() const {
  int64_t correct = 0;
  for (int64_t c = 0; c < num_classes(); ++c) correct += count(c, c);
  const int64_t n = total();
  return n > 0 ? static_cast<double>(correct) / static_cast<double>(n) : 0.0;
}

std::vector<double> ConfusionMatrix::per_class_accuracy() const {
  std::vector<double> out;
  for (int64_t c = 0; c < num_classes(); ++c) {
    const int64_t n = support(c);
    out.push_back(n > 0 ? static_cast<double>(count(c, c)) / static_cast<double>(n) : std::nan(""));
  }
  return out;
}

std::string format_confusion_matrix(const ConfusionMatrix& matrix,
                                    const std::vector<std::string>& class_names) {
  const int64_t K = matrix.num_classes();
  NABLA_CHECK(static_cast<int64_t>(class_names.size()) == K,
              "format_confusion_matrix: ", class_names.size(), " class names for ", K, " classes");
  size_t name_width = 4, cell_width = 5;
  for (const std::string& n : class_names) name_width = std::max(name_width, n.size());
  for (const auto& row : matrix.counts())
    for (int64_t c : row) cell_width = std::max(cell_width, std::to_string(c).size() + 1);
  auto pad_left = [](const std::string& s, size_t w) {
    return std::string(w > s.size() ? w - s.size() : 0, ' ') + s;
  };
  std::ostringstream out;
  // Columns are headed by the predicted class's name cut to the cell width.
  out << pad_left("true \\ predicted", name_width) << "\n" << std::string(name_width, ' ');
  for (const std::string& n : class_names) out << pad_left(n.substr(0, cell_width - 1), cell_width);
  out << "\n";
  for (int64_t i = 0; i < K; ++i) {
    out << pad_left(class_names[static_cast<size_t>(i)], name_width);
    for (int64_t j = 0; j < K; ++j) out << pad_left(std::to_string(matrix.count(i, j)), cell_width);
    out << "\n";
  }
  return out.str();
}

}  // namespace nabla::train

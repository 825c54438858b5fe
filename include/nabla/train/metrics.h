// What training measures: one row of numbers per epoch (written as metrics.csv), and the
// confusion matrix of a classifier on a data set.
//
// metrics.csv has a header line and one row per epoch:
//   epoch,lr,train_loss,train_acc,val_loss,val_acc,seconds,images_per_s
//   1,0.001,0.6021,0.7795,0.4312,0.8442,41.3,1306.5
// epochs count from 1, accuracies are fractions in [0, 1], seconds is the epoch's training time
// (validation excluded) and images_per_s the training throughput. Without a validation set the
// val_ cells are empty, which CSV readers (pandas, R) take as missing.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace nabla::train {

struct EpochMetrics {
  int64_t epoch = 0;  // 1-based
  double lr = 0;      // the learning rate used during the epoch
  double train_loss = 0, train_acc = 0;
  double val_loss = std::numeric_limits<double>::quiet_NaN();  // NaN: no validation set
  double val_acc = std::numeric_limits<double>::quiet_NaN();
  double seconds = 0, images_per_s = 0;

  bool has_validation() const { return val_loss == val_loss; }
};

// The header line, without a newline.
std::string metrics_csv_header();
// One row, without a newline; numbers keep enough digits to read back the same doubles.
std::string metrics_csv_row(const EpochMetrics& m);
// Header and rows, written atomically (the file is whole after a crash, old or new).
void write_metrics_csv(const std::string& path, const std::vector<EpochMetrics>& rows);
// Reads what write_metrics_csv wrote. Throws nabla::Error naming the path and line on a wrong
// header, a row with the wrong number of cells, or a cell that is not a number.
std::vector<EpochMetrics> read_metrics_csv(const std::string& path);

// Counts of (true class, predicted class) pairs.
class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int64_t num_classes = 0);

  // requires: 0 <= truth, predicted < num_classes() (else throws naming both).
  void add(int64_t truth, int64_t predicted);
  void merge(const ConfusionMatrix& other);

  int64_t num_classes() const { return static_cast<int64_t>(counts_.size()); }
  int64_t count(int64_t truth, int64_t predicted) const;
  int64_t total() const;
  // Samples of class c (row sum).
  int64_t support(int64_t c) const;
  // Correct / total; 0 for an empty matrix.
  double accuracy() const;
  // For each class, correct / support (the recall); NaN for a class with no samples.
  std::vector<double> per_class_accuracy() const;
  const std::vector<std::vector<int64_t>>& counts() const { return counts_; }

 private:
  std::vector<std::vector<int64_t>> counts_;
};

// A text table: a header row of (abbreviated) class names, one row per true class, with the
// class name leading each row. For `nabla eval` and logs.
std::string format_confusion_matrix(const ConfusionMatrix& matrix,
                                    const std::vector<std::string>& class_names);

}  // namespace nabla::train

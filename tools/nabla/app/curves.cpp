// Epoch curves (app/curves.h), drawn by io/plot.h with whole-number epoch ticks.
#include "app/curves.h"

#include <filesystem>

#include "nabla/io/plot.h"

namespace nabla::app {

namespace {

struct Curve {
  std::vector<double> epochs, loss, acc;
};

// `validation` picks the val_ columns (epochs without a validation value are left out).
Curve curve_of(const std::vector<train::EpochMetrics>& history, bool validation) {
  Curve c;
  for (const train::EpochMetrics& m : history) {
    if (validation && !m.has_validation()) continue;
    c.epochs.push_back(static_cast<double>(m.epoch));
    c.loss.push_back(validation ? m.val_loss : m.train_loss);
    c.acc.push_back(100 * (validation ? m.val_acc : m.train_acc));
  }
  return c;
}

io::LinePlot epoch_plot(const std::string& title, const std::string& y_label) {
  io::LinePlot plot;
  plot.figure = {.title = title, .x_label = "epoch", .y_label = y_label};
  plot.integer_x = true;
  return plot;
}

}  // namespace

void write_curves(const std::string& dir, const std::vector<train::EpochMetrics>& history) {
  io::LinePlot loss = epoch_plot("Loss", "cross-entropy"),
               acc = epoch_plot("Accuracy", "accuracy (%)");
  for (const bool validation : {false, true}) {
    const Curve c = curve_of(history, validation);
    if (c.epochs.empty()) continue;
    const char* name = validation ? "validation" : "train";
    loss.series.push_back({name, c.epochs, c.loss});
    acc.series.push_back({name, c.epochs, c.acc});
  }
  const std::filesystem::path out(dir);
  io::write_line_plot((out / "loss.png").string(), loss);
  io::write_line_plot((out / "accuracy.png").string(), acc);
}

void write_overlaid_curves(const std::string& path_prefix, const std::vector<NamedHistory>& runs) {
  io::LinePlot loss = epoch_plot("Validation loss", "cross-entropy");
  io::LinePlot acc = epoch_plot("Validation accuracy", "accuracy (%)");
  for (const NamedHistory& run : runs) {
    Curve c = curve_of(run.history, true);
    const bool train = c.epochs.empty();
    if (train) c = curve_of(run.history, false);
    if (c.epochs.empty()) continue;
    const std::string name = run.name + (train ? " (train)" : "");
    loss.series.push_back({name, c.epochs, c.loss});
    acc.series.push_back({name, c.epochs, c.acc});
  }
  if (loss.series.empty()) return;
  io::write_line_plot(path_prefix + "loss.png", loss);
  io::write_line_plot(path_prefix + "accuracy.png", acc);
}

}  // namespace nabla::app

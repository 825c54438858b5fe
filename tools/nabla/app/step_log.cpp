// The loss per optimizer step (see app/step_log.h).
#include "app/step_log.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "nabla/error.h"
#include "nabla/io/atomic_file.h"
#include "nabla/io/plot.h"

namespace nabla::app {

namespace fs = std::filesystem;

StepLog::StepLog(train::Trainer& trainer, const optim::Optimizer& optimizer, std::string out_dir,
                 int64_t first_step)
    : out_dir_(std::move(out_dir)) {
  if (first_step > 0) {
    const std::string path = (fs::path(out_dir_) / "steps.csv").string();
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);  // the header
    Row r{};
    while (std::getline(in, line)) {
      char comma;
      std::istringstream cells(line);
      NABLA_CHECK(cells >> r.step >> comma >> r.epoch >> comma >> r.loss >> comma >> r.accuracy >>
                      comma >> r.lr,
                  path, ": cannot read the row '", line, "'");
      if (r.step <= first_step) rows_.push_back(r);  // later ones are trained again
    }
  }
  trainer.after_step.push_back([this, &optimizer](const train::StepInfo& s) {
    const auto images = static_cast<double>(s.input->labels.size());
    rows_.push_back(
        {s.step + 1, s.epoch + 1, s.loss, static_cast<double>(s.correct) / images, optimizer.lr()});
  });
}

void StepLog::write() const {
  std::ostringstream csv;
  csv << "step,epoch,loss,accuracy,lr\n";
  io::Series raw{"loss per step", {}, {}}, smooth{"smoothed (EMA 0.9)", {}, {}};
  double average = 0, weight = 0;
  for (const Row& r : rows_) {
    char line[160];
    std::snprintf(line, sizeof line, "%lld,%lld,%.9g,%.9g,%.9g\n", static_cast<long long>(r.step),
                  static_cast<long long>(r.epoch), r.loss, r.accuracy, r.lr);
    csv << line;
    raw.x.push_back(static_cast<double>(r.step));
    raw.y.push_back(r.loss);
    average = 0.9 * average + 0.1 * r.loss;
    weight = 0.9 * weight + 0.1;
    smooth.x.push_back(static_cast<double>(r.step));
    smooth.y.push_back(average / weight);
  }
  io::write_file_atomic((fs::path(out_dir_) / "steps.csv").string(), csv.str());
  if (rows_.empty()) return;
  io::LinePlot plot;
  plot.figure = {.title = "Loss per step", .x_label = "step", .y_label = "cross-entropy"};
  plot.integer_x = true;
  plot.series = {raw, smooth};
  io::write_line_plot((fs::path(out_dir_) / "loss_steps.png").string(), plot);
}

}  // namespace nabla::app

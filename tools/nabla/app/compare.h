// `nabla compare RUN... [--out DIR]`: training runs side by side. One table, one row per run,
// of the settings that differ between the runs (effective values, app/run_detail.h's
// effective_options; out_dir and data_dir left out) and their results: epochs, best and last
// validation accuracy, test accuracy, date, duration, nabla version, CPU and threads. Printed to
// the console, and written with the runs' validation curves overlaid (compare_loss.png,
// compare_accuracy.png) to DIR/compare.html.
//
// A run is an OUT directory of `nabla train`; its settings and results come from its
// checkpoint's trainer_state.json (final/, else last/, else best/) and its curves from
// metrics.csv. Runs from before nabla recorded the date, version or test accuracy show "—".
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace nabla::app {

struct Comparison {
  std::vector<std::string> header;             // "run", the differing settings, the results
  std::vector<std::vector<std::string>> rows;  // one per run, in the order given
};

// The table for `run_dirs`. Throws nabla::Error naming a directory that is not a training run.
// requires: at least one directory.
Comparison compare_runs(const std::vector<std::string>& run_dirs);

// Prints compare_runs' table to `out` and writes OUT/compare.html and the overlaid curves into
// `out_dir` (created if needed).
Comparison write_comparison(const std::vector<std::string>& run_dirs, const std::string& out_dir,
                            std::ostream& out);

}  // namespace nabla::app

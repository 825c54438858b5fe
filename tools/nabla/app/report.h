// The training report: one self-contained HTML page per run folder, OUT/report.html, that opens
// offline in any browser. Every figure is a PNG embedded as a base64 data URI, the CSS is inline,
// and the only script is a few inline lines that mark, once the page has loaded, each image's
// decoded size (data-natural-width, data-natural-height) and the body's counts
// (data-images-loaded, data-images-broken, data-ready="true"), so a headless browser can tell
// that the charts really render.
//
//   app::write_run_report("runs/lenet5", {{"test accuracy", "90.12%"}});
//
// A run's page: the summary given, the run's configuration (the options, the model's layers, the
// classes, from OUT/final — or last — /trainer_state.json), the curves (loss.png, loss_steps.png,
// accuracy.png), the first layer's filters (filters.png), the confusion matrix (confusion.png),
// then every other
// *.png in the folder under "More figures" (diagnostics such as activation histograms and
// update-ratio curves), and tables of metrics.csv and of any other *.csv (long ones cut to
// their first and last rows). Missing files are skipped, so the page is written whatever the
// run produced.
//
// A search's page (app/search.h): the ranges of each round, the ranked table, the scatter
// plots of validation accuracy against each hyperparameter, and a link to each trial's report.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/search.h"

namespace nabla::app {

// Label and value rows shown first on the page (test accuracy, best epoch, ...).
using ReportSummary = std::vector<std::pair<std::string, std::string>>;

// Writes OUT/report.html for the run folder `run_dir` (atomically). Throws nabla::Error if
// `run_dir` is not a directory or the page cannot be written.
void write_run_report(const std::string& run_dir, const ReportSummary& summary = {});

// Writes result.out_dir/report.html for a finished search.
void write_search_report(const SearchResult& result);

// `nabla compare`'s page (app/compare.h): OUT/compare.html with the table, links to each run's
// report, and OUT/compare_loss.png and compare_accuracy.png embedded.
void write_comparison_report(const std::string& out_dir, const std::vector<std::string>& run_dirs,
                             const std::vector<std::string>& header,
                             const std::vector<std::vector<std::string>>& rows);

// The run config in a run folder's checkpoint (final/, else last/, else best/): options,
// effective options, model, history, "run" and "test" (app/run.h); null when none reads.
nlohmann::json read_run_config(const std::string& run_dir);

// RFC 4648 base64 with padding, for data URIs.
std::string base64_encode(std::string_view bytes);

}  // namespace nabla::app

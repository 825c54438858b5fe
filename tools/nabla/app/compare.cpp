// Runs side by side (app/compare.h).
#include "app/compare.h"

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "app/curves.h"
#include "app/report.h"
#include "app/run_detail.h"
#include "app/run_info.h"
#include "nabla/error.h"
#include "nabla/train/metrics.h"

namespace nabla::app {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kMissing = "—";

struct LoadedRun {
  std::string name;
  json config;
  std::vector<train::EpochMetrics> history;
};

// metrics.csv when it reads, else the history saved in the checkpoint.
std::vector<train::EpochMetrics> run_history(const fs::path& dir, const json& config) {
  if (fs::is_regular_file(dir / "metrics.csv")) try {
      return train::read_metrics_csv((dir / "metrics.csv").string());
    } catch (const Error&) {  // a damaged file: the checkpoint's copy is as good
    }
  return config.contains("history") ? run_detail::history_from_json(config.at("history"))
                                    : std::vector<train::EpochMetrics>{};
}

// Each run's folder name, with as much of its path as tells equal names apart.
std::vector<std::string> run_names(const std::vector<std::string>& dirs) {
  std::vector<std::string> names;
  for (const std::string& d : dirs)
    names.push_back(fs::path(d).lexically_normal().filename().string());
  for (size_t i = 0; i < names.size(); ++i)
    if (std::count(names.begin(), names.end(), names[i]) > 1 || names[i].empty())
      for (size_t k = 0; k < names.size(); ++k)
        if (names[k] == names[i] || names[k].empty())
          names[k] = fs::path(dirs[k]).lexically_normal().generic_string();
  return names;
}

std::string setting_text(const json& v) {
  if (v.is_null()) return "not used";
  if (v.is_string()) return v.get<std::string>().empty() ? "none" : v.get<std::string>();
  if (v.is_number_float()) {
    std::ostringstream s;
    s << std::setprecision(4) << v.get<double>();
    return s.str();
  }
  return v.dump();
}

std::vector<std::string> results(const LoadedRun& run) {
  double best_val = -1, last_val = -1;
  for (const train::EpochMetrics& m : run.history)
    if (m.has_validation()) best_val = std::max(best_val, m.val_acc), last_val = m.val_acc;
  auto pct = [](double v) { return v < 0 ? std::string(kMissing) : run_detail::percent(v); };
  const json run_info = run.config.value("run", json::object());
  auto info = [&](const char* key) {
    return run_info.contains(key) ? setting_text(run_info.at(key)) : std::string(kMissing);
  };
  return {
      std::to_string(run.history.size()),
      pct(best_val),
      pct(last_val),
      run.config.contains("test") ? pct(run.config.at("test").at("accuracy").get<double>())
                                  : kMissing,
      run_info.contains("date") ? run_info.at("date").get<std::string>() : kMissing,
      run_info.contains("seconds") ? duration_text(run_info.at("seconds").get<double>()) : kMissing,
      info("version"),
      info("cpu"),
      info("threads")};
}

}  // namespace

Comparison compare_runs(const std::vector<std::string>& run_dirs) {
  NABLA_CHECK(!run_dirs.empty(), "compare: no runs given");
  const std::vector<std::string> names = run_names(run_dirs);
  std::vector<LoadedRun> runs;
  for (size_t i = 0; i < run_dirs.size(); ++i) {
    NABLA_CHECK(fs::is_directory(run_dirs[i]), "compare: ", run_dirs[i], " is not a directory");
    const json config = read_run_config(run_dirs[i]);
    NABLA_CHECK(!config.is_null(), "compare: ", run_dirs[i],
                " holds no training run (no final/, last/ or best/ checkpoint)");
    runs.push_back({names[i], config, run_history(run_dirs[i], config)});
  }
  // The settings whose values are not the same in every run, in the options' order.
  auto settings_of = [](const json& config) {
    return config.contains("effective_options") ? config.at("effective_options")
                                                : config.value("options", json::object());
  };
  std::vector<std::string> differing;
  const json first = settings_of(runs.front().config);
  for (const auto& [key, value] : first.items()) {
    if (key == "out_dir" || key == "data_dir") continue;
    for (const LoadedRun& r : runs)
      if (settings_of(r.config).value(key, json()) != value) {
        differing.push_back(key);
        break;
      }
  }
  Comparison c;
  c.header = {"run"};
  c.header.insert(c.header.end(), differing.begin(), differing.end());
  for (const char* h : {"epochs", "best val acc", "last val acc", "test acc", "date", "duration",
                        "version", "CPU", "threads"})
    c.header.push_back(h);
  for (const LoadedRun& r : runs) {
    std::vector<std::string> row{r.name};
    const json settings = settings_of(r.config);
    for (const std::string& key : differing)
      row.push_back(settings.contains(key) ? setting_text(settings.at(key)) : kMissing);
    for (std::string& cell : results(r)) row.push_back(std::move(cell));
    c.rows.push_back(std::move(row));
  }
  return c;
}

Comparison write_comparison(const std::vector<std::string>& run_dirs, const std::string& out_dir,
                            std::ostream& out) {
  Comparison c = compare_runs(run_dirs);
  // Console: columns padded to their widest cell (counted in UTF-8 code points).
  auto width = [](const std::string& s) {
    return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char ch) {
      return (static_cast<unsigned char>(ch) & 0xc0) != 0x80;
    }));
  };
  std::vector<size_t> widths(c.header.size());
  for (size_t k = 0; k < c.header.size(); ++k) {
    widths[k] = width(c.header[k]);
    for (const auto& row : c.rows) widths[k] = std::max(widths[k], width(row[k]));
  }
  auto print = [&](const std::vector<std::string>& cells) {
    for (size_t k = 0; k < cells.size(); ++k) {
      out << cells[k];
      if (k + 1 < cells.size()) out << std::string(widths[k] - width(cells[k]) + 2, ' ');
    }
    out << "\n";
  };
  print(c.header);
  for (const auto& row : c.rows) print(row);

  fs::create_directories(out_dir);
  std::vector<NamedHistory> curves;
  for (size_t i = 0; i < run_dirs.size(); ++i) {
    const json config = read_run_config(run_dirs[i]);
    curves.push_back({c.rows[i][0], run_history(run_dirs[i], config)});
  }
  write_overlaid_curves((fs::path(out_dir) / "compare_").string(), curves);
  write_comparison_report(out_dir, run_dirs, c.header, c.rows);
  out << "wrote compare.html, compare_loss.png and compare_accuracy.png to " << out_dir << "\n";
  return c;
}

}  // namespace nabla::app

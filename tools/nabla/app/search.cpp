// Random search, coarse to fine (app/search.h). Each trial is a whole
// run_training in its own folder with its output discarded; this file only samples values,
// ranks the results and narrows the ranges.
#include "app/search.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <optional>
#include <ostream>
#include <sstream>

#include "app/report.h"
#include "app/run_detail.h"
#include "nabla/error.h"
#include "nabla/io/atomic_file.h"
#include "nabla/io/plot.h"
#include "nabla/models.h"
#include "nabla/random.h"
#include "nabla/suggest.h"
#include "nabla/train/interrupt.h"

namespace nabla::app {

namespace fs = std::filesystem;

namespace {

constexpr const char* kForms = "NAME=log(LO,HI) or NAME=uniform(LO,HI)";

// The whole of `text` as a finite number, or nothing.
bool parse_number(const std::string& text, double& value) {
  if (text.empty()) return false;
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(value);
}

// Where the search happens: log10 of the value for log-uniform dimensions.
double to_axis(const SearchDimension& d, double v) {
  return d.scale == SearchScale::Log ? std::log10(v) : v;
}
double from_axis(const SearchDimension& d, double t) {
  return d.scale == SearchScale::Log ? std::pow(10.0, t) : t;
}

double sample(const SearchDimension& d, Generator& gen) {
  const double v =
      from_axis(d, to_axis(d, d.lo) + gen.uniform() * (to_axis(d, d.hi) - to_axis(d, d.lo)));
  return d.name == "batch_size" ? std::round(v) : v;
}

void apply(RunOptions& o, const std::string& name, double v) {
  if (name == "lr")
    o.lr = v;
  else if (name == "weight_decay")
    o.weight_decay = v;
  else if (name == "dropout")
    o.dropout = v;
  else if (name == "momentum")
    o.momentum = v;
  else if (name == "batch_size")
    o.batch_size = static_cast<int64_t>(v);
}

// The valid values of each hyperparameter, checked against a whole range.
void check_range(const SearchDimension& d, const std::string& item) {
  const auto fail = [&](const char* rule) {
    detail::throw_error("search space: '", item, "': ", d.name, " ", rule);
  };
  if (d.name == "lr" && d.lo <= 0) fail("must be positive");
  if (d.name == "weight_decay" && d.lo < 0) fail("must be >= 0");
  if ((d.name == "dropout" || d.name == "momentum") && (d.lo < 0 || d.hi >= 1))
    fail("must lie in [0, 1)");
  if (d.name == "batch_size" && d.lo < 1) fail("must be at least 1");
}

std::string format_value(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// Best validation accuracy first; then lower validation loss; failed trials last; ties by index.
void rank(std::vector<Trial>& trials) {
  std::stable_sort(trials.begin(), trials.end(), [](const Trial& a, const Trial& b) {
    if (a.ok() != b.ok()) return a.ok();
    if (!a.ok()) return a.index < b.index;
    if (a.val_acc != b.val_acc) return a.val_acc > b.val_acc;
    if (a.val_loss != b.val_loss) return a.val_loss < b.val_loss;
    return a.index < b.index;
  });
}

Trial run_trial(const SearchOptions& options, const std::vector<SearchDimension>& space,
                int64_t round, int64_t index, Generator& gen, const std::string& out_dir) {
  Trial t;
  t.round = round;
  t.index = index;
  RunOptions o = options.base;
  o.seed = options.seed;
  o.interactive = false;
  // The search's own InterruptGuard catches the signals for the whole search; a trial asks.
  o.handle_signals = false;
  o.stop_when = [&options] {
    return (options.handle_signals && train::stop_requested()) ||
           (options.stop_when && options.stop_when());
  };
  for (const SearchDimension& d : space) {
    t.values.push_back(sample(d, gen));
    apply(o, d.name, t.values.back());
  }
  char name[32];
  std::snprintf(name, sizeof name, "trial-%02lld", static_cast<long long>(index));
  o.out_dir = t.dir = (fs::path(out_dir) / name).string();
  const fs::path final_state = fs::path(t.dir) / "final" / "trainer_state.json";
  if (options.resume && fs::exists(final_state)) {
    // Finished before the search stopped: its numbers are in its checkpoint's history.
    const std::string final_dir = final_state.parent_path().string();
    const auto history = run_detail::history_from_json(
        run_detail::checkpoint_config(io::read_training_state(final_dir), final_dir).at("history"));
    t.val_acc = history.back().val_acc;
    t.val_loss = history.back().val_loss;
    t.train_loss = history.back().train_loss;
    return t;
  }
  if (options.resume) fs::remove_all(t.dir);
  std::ostream quiet(nullptr);  // no buffer: the trial's progress and summary go nowhere
  const auto start = std::chrono::steady_clock::now();
  try {
    const RunResult r = run_training(o, quiet);
    if (r.interrupted) {
      t.interrupted = true;
      return t;
    }
    const train::EpochMetrics& last = r.history.back();
    t.val_acc = last.val_acc;
    t.val_loss = last.val_loss;
    t.train_loss = last.train_loss;
  } catch (const Error& e) {
    t.error = e.what();
    t.val_acc = t.val_loss = t.train_loss = std::nan("");
  }
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return t;
}

void write_scatter_plots(const SearchResult& result, int64_t rounds) {
  for (size_t k = 0; k < result.space.size(); ++k) {
    const SearchDimension& d = result.space[k];
    io::ScatterPlot plot;
    plot.figure.title = "Validation accuracy vs " + d.name;
    plot.figure.x_label = d.name + (d.scale == SearchScale::Log ? " (log scale)" : "");
    plot.figure.y_label = "validation accuracy (%)";
    plot.log_x = d.scale == SearchScale::Log;
    for (int64_t r = 1; r <= rounds; ++r) {
      io::Series series;
      series.name = rounds > 1 ? "round " + std::to_string(r) : "";
      for (const Trial& t : result.trials)
        if (t.round == r && t.ok()) {
          series.x.push_back(t.values[k]);
          series.y.push_back(100 * t.val_acc);
        }
      if (!series.x.empty()) plot.series.push_back(series);
    }
    if (plot.series.empty()) continue;
    io::write_scatter_plot((fs::path(result.out_dir) / ("accuracy_vs_" + d.name + ".png")).string(),
                           plot);
  }
}

}  // namespace

std::string SearchDimension::str() const {
  return name + (scale == SearchScale::Log ? "=log(" : "=uniform(") + format_value(lo) + "," +
         format_value(hi) + ")";
}

const std::vector<std::string>& search_parameter_names() {
  static const std::vector<std::string> names = {"lr", "weight_decay", "dropout", "momentum",
                                                 "batch_size"};
  return names;
}

std::vector<SearchDimension> parse_search_space(const std::string& text) {
  std::vector<SearchDimension> space;
  std::istringstream items(text);
  std::string item;
  while (items >> item) {
    const size_t eq = item.find('=');
    const size_t open = item.find('(', eq == std::string::npos ? 0 : eq);
    if (eq == std::string::npos || eq == 0 || open == std::string::npos || item.back() != ')')
      detail::throw_error("search space: '", item, "' is not ", kForms,
                          "; names: ", join(search_parameter_names()));
    SearchDimension d;
    d.name = item.substr(0, eq);
    const auto& names = search_parameter_names();
    if (std::find(names.begin(), names.end(), d.name) == names.end())
      detail::throw_error("search space: '", item, "': unknown hyperparameter '", d.name, "'",
                          did_you_mean(d.name, names), "; valid names: ", join(names));
    const std::string form = item.substr(eq + 1, open - eq - 1);
    if (form == "log") {
      d.scale = SearchScale::Log;
    } else if (form == "uniform") {
      d.scale = SearchScale::Uniform;
    } else {
      detail::throw_error("search space: '", item, "': unknown distribution '", form, "'",
                          did_you_mean(form, {"log", "uniform"}), "; valid forms: ", kForms);
    }
    const std::string args = item.substr(open + 1, item.size() - open - 2);
    const size_t comma = args.find(',');
    if (comma == std::string::npos || !parse_number(args.substr(0, comma), d.lo) ||
        !parse_number(args.substr(comma + 1), d.hi))
      detail::throw_error("search space: '", item, "': expected two numbers LO,HI in ", form,
                          "(...), as in ", kForms);
    if (!(d.lo < d.hi))
      detail::throw_error("search space: '", item, "': LO ", d.lo, " must be below HI ", d.hi);
    if (d.scale == SearchScale::Log && d.lo <= 0)
      detail::throw_error("search space: '", item, "': log needs LO > 0 (got ", d.lo,
                          "); use uniform(", d.lo, ",", d.hi, ") for a range from ", d.lo);
    check_range(d, item);
    for (const SearchDimension& e : space)
      if (e.name == d.name) detail::throw_error("search space: '", d.name, "' appears twice");
    space.push_back(d);
  }
  NABLA_CHECK(!space.empty(), "search space: empty; give items such as ",
              "'lr=log(1e-5,1e-1) dropout=uniform(0,0.5)' (", kForms,
              "; names: ", join(search_parameter_names()), ")");
  return space;
}

std::vector<SearchDimension> narrow_search_space(const std::vector<SearchDimension>& current,
                                                 const std::vector<Trial>& ranked) {
  std::vector<const Trial*> ok;
  for (const Trial& t : ranked)
    if (t.ok()) ok.push_back(&t);
  if (ok.size() < 2) return current;  // nothing to narrow around
  const size_t best = std::max<size_t>(2, (ok.size() + 3) / 4);
  std::vector<SearchDimension> next = current;
  for (size_t k = 0; k < current.size(); ++k) {
    const SearchDimension& d = current[k];
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < best; ++i) {
      lo = std::min(lo, to_axis(d, ok[i]->values[k]));
      hi = std::max(hi, to_axis(d, ok[i]->values[k]));
    }
    const double margin = 0.1 * (to_axis(d, d.hi) - to_axis(d, d.lo));
    next[k].lo = from_axis(d, std::max(to_axis(d, d.lo), lo - margin));
    next[k].hi = from_axis(d, std::min(to_axis(d, d.hi), hi + margin));
    if (!(next[k].lo < next[k].hi)) next[k] = d;  // best trials outside this range: keep it
  }
  return next;
}

namespace {

// Both renderings of the ranked table from one list of columns: text (right-aligned to each
// column's width, what run_search prints) and CSV (full precision, underscores in the header, and
// a last column with the error of a failed trial).
std::string render_search_table(const SearchResult& result, bool csv) {
  struct Column {
    std::string name;
    int width;
  };
  std::vector<Column> columns{{"rank", 4},    {"trial", 5},    {"round", 5},
                              {"val acc", 7}, {"val loss", 8}, {"train loss", 10}};
  for (const SearchDimension& d : result.space) columns.push_back({d.name, 12});
  std::ostringstream s;
  auto write_row = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < cells.size(); ++c) {
      if (c > 0) s << (csv ? "," : "  ");
      if (!csv) s << std::setw(columns[c].width);
      s << cells[c];
    }
  };
  std::vector<std::string> header;
  for (Column column : columns) {
    if (csv) std::replace(column.name.begin(), column.name.end(), ' ', '_');
    header.push_back(column.name);
  }
  write_row(header);
  s << (csv ? ",error\n" : "\n");
  auto number = [csv](double v, const char* text_format) {
    char cell[32];
    std::snprintf(cell, sizeof cell, csv ? "%.9g" : text_format, v);
    return std::string(cell);
  };
  for (size_t i = 0; i < result.trials.size(); ++i) {
    const Trial& t = result.trials[i];
    std::vector<std::string> cells{std::to_string(i + 1), std::to_string(t.index),
                                   std::to_string(t.round)};
    if (t.ok()) {
      cells.push_back(csv ? number(t.val_acc, "") : number(100 * t.val_acc, "%.2f%%"));
      cells.push_back(number(t.val_loss, "%.4f"));
      cells.push_back(number(t.train_loss, "%.4f"));
    } else {
      cells.insert(cells.end(), {csv ? "" : "failed", csv ? "" : "-", csv ? "" : "-"});
    }
    for (double v : t.values) cells.push_back(number(v, "%.4g"));
    write_row(cells);
    if (csv) {
      // One line per trial: quotes around the message, and no newlines or quotes inside it.
      std::string error = t.error;
      std::replace(error.begin(), error.end(), '\n', ' ');
      std::replace(error.begin(), error.end(), '"', '\'');
      s << "," << (error.empty() ? "" : "\"" + error + "\"");
    }
    s << "\n";
  }
  return s.str();
}

}  // namespace

std::string format_search_table(const SearchResult& result) {
  return render_search_table(result, /*csv=*/false);
}

std::string search_table_csv(const SearchResult& result) {
  return render_search_table(result, /*csv=*/true);
}

namespace {

// The ranked table, the scatter plots and the report of the trials so far.
void write_search_files(const SearchResult& result, int64_t rounds) {
  SearchResult ranked = result;
  rank(ranked.trials);
  io::write_file_atomic((fs::path(result.out_dir) / "trials.csv").string(),
                        search_table_csv(ranked));
  write_scatter_plots(ranked, rounds);
  write_search_report(ranked);
}

}  // namespace

SearchOptions search_to_resume(const std::string& dir) {
  const fs::path path = fs::path(dir) / "search.json";
  NABLA_CHECK(fs::is_regular_file(path), "search: ", dir, " holds no search to resume (no ",
              path.string(), ")");
  std::ifstream in(path);
  const run_detail::json j = run_detail::json::parse(in);
  SearchOptions o;
  o.base = run_detail::options_from_json(j.at("base"));
  for (const auto& d : j.at("space"))
    o.space.push_back({d.at("name").get<std::string>(),
                       d.at("log").get<bool>() ? SearchScale::Log : SearchScale::Uniform,
                       d.at("lo").get<double>(), d.at("hi").get<double>()});
  o.trials = j.at("trials").get<int64_t>();
  o.rounds = j.at("rounds").get<int64_t>();
  o.seed = j.at("seed").get<uint64_t>();
  o.out_dir = dir;
  o.resume = true;
  return o;
}

SearchResult run_search(const SearchOptions& options, std::ostream& out) {
  NABLA_CHECK(!options.space.empty(), "search: no hyperparameters to search (--space)");
  NABLA_CHECK(options.trials >= 1, "search: --trials must be at least 1, got ", options.trials);
  NABLA_CHECK(options.rounds >= 1, "search: --rounds must be at least 1, got ", options.rounds);
  NABLA_CHECK(options.base.val_fraction > 0, "search: trials are ranked by validation accuracy, ",
              "so --val-fraction must be above 0");
  for (const SearchDimension& d : options.space) {
    const std::string& opt = options.base.optimizer;
    NABLA_CHECK(d.name != "momentum" || opt == "sgd" || opt == "rmsprop",
                "search: momentum applies to the sgd and rmsprop optimizers, not ", opt);
    const auto& presets = preset_names();
    NABLA_CHECK(d.name != "dropout" ||
                    std::find(presets.begin(), presets.end(), options.base.model) != presets.end(),
                "search: dropout is searched for the presets (", join(presets), "); ",
                options.base.model, " sets its dropout layers itself");
  }
  SearchResult result;
  result.space = options.space;
  result.out_dir = options.out_dir.empty() ? timestamped_run_dir("search") : options.out_dir;
  NABLA_CHECK(options.resume || (!fs::exists(fs::path(result.out_dir) / "trials.csv") &&
                                 !fs::exists(fs::path(result.out_dir) / "trial-01")),
              "search: ", result.out_dir, " already holds a search; choose another --out");
  fs::create_directories(result.out_dir);
  if (!options.resume) {
    run_detail::json space = run_detail::json::array();
    for (const SearchDimension& d : options.space)
      space.push_back(
          {{"name", d.name}, {"log", d.scale == SearchScale::Log}, {"lo", d.lo}, {"hi", d.hi}});
    io::write_file_atomic((fs::path(result.out_dir) / "search.json").string(),
                          run_detail::json{{"base", run_detail::options_to_json(options.base)},
                                           {"space", space},
                                           {"trials", options.trials},
                                           {"rounds", options.rounds},
                                           {"seed", options.seed}}
                              .dump(2));
  }

  out << "searching " << options.space.size() << " hyperparameter"
      << (options.space.size() == 1 ? "" : "s") << " of " << options.base.model << " on "
      << options.base.dataset << ": " << options.rounds << " round"
      << (options.rounds == 1 ? "" : "s") << " of " << options.trials << " trials, "
      << options.base.epochs << " epoch" << (options.base.epochs == 1 ? "" : "s") << " each, seed "
      << options.seed << "\nwriting to " << result.out_dir << "\n";

  Generator gen(options.seed);
  std::vector<SearchDimension> space = options.space;
  int64_t index = 0;
  std::optional<train::InterruptGuard> guard;
  if (options.handle_signals) guard.emplace();
  for (int64_t round = 1; round <= options.rounds && !result.interrupted_trial; ++round) {
    if (round > 1) {
      std::vector<Trial> ranked = result.trials;
      rank(ranked);
      space = narrow_search_space(space, ranked);
    }
    result.round_spaces.push_back(space);
    out << "round " << round << ":";
    for (const SearchDimension& d : space) out << " " << d.str();
    out << "\n" << std::flush;
    for (int64_t k = 0; k < options.trials; ++k) {
      Trial t = run_trial(options, space, round, ++index, gen, result.out_dir);
      if (t.interrupted) {
        result.interrupted_trial = t.index;
        result.signal = options.handle_signals ? train::stop_signal() : 0;
        break;
      }
      std::ostringstream line;
      line << "  trial " << std::setw(2) << t.index << " ";
      for (size_t d = 0; d < space.size(); ++d)
        line << " " << space[d].name << " " << format_value(t.values[d]);
      if (t.ok())
        line << "  val acc " << std::fixed << std::setprecision(2) << 100 * t.val_acc
             << "%  val loss " << std::setprecision(4) << t.val_loss;
      else
        line << "  failed: " << t.error;
      line << "  (" << std::fixed << std::setprecision(1) << t.seconds << "s)";
      out << line.str() << "\n" << std::flush;
      result.trials.push_back(t);
      write_search_files(result, round);  // a crash or Ctrl-C keeps every finished trial
    }
    // A mistake in the options fails every trial the same way: report it, not a table of failures.
    if (round == 1 && !result.interrupted_trial &&
        std::none_of(result.trials.begin(), result.trials.end(),
                     [](const Trial& t) { return t.ok(); }))
      detail::throw_error("search: every trial of round 1 failed; the first: ",
                          result.trials.front().error);
  }
  guard.reset();
  rank(result.trials);

  const std::string table = format_search_table(result);
  out << "\n" << table;
  write_search_files(result, static_cast<int64_t>(result.round_spaces.size()));
  if (result.interrupted_trial) {
    out << "search interrupted in trial " << result.interrupted_trial << ": the "
        << result.trials.size() << " finished trial" << (result.trials.size() == 1 ? "" : "s")
        << " are ranked in trials.csv and report.html in " << result.out_dir << "\n";
    return result;
  }
  out << "wrote trials.csv, accuracy_vs_*.png and report.html to " << result.out_dir << "\n";
  return result;
}

}  // namespace nabla::app

// Random hyperparameter search, coarse to fine, as CS231n's lecture 6 recommends: sample
// learning rate and regularisation at random (log-uniform where the scale matters), train each
// trial briefly, rank the trials by validation accuracy, then search again in a range narrowed
// around the best ones.
//
//   app::SearchOptions o;
//   o.base.model = "lenet5";  o.base.epochs = 1;      // every trial trains like `nabla train`
//   o.space = app::parse_search_space("lr=log(1e-5,1e-1) dropout=uniform(0,0.5)");
//   o.trials = 8;  o.rounds = 2;  o.out_dir = "runs/search";
//   app::SearchResult r = app::run_search(o, std::cout);
//
// Files in OUT: search.json (the options, for --resume), trial-NN/ (each trial's run folder, as
// `nabla train --out`), trials.csv (the ranked table, rewritten after every trial),
// accuracy_vs_<name>.png (validation accuracy against each hyperparameter, a log axis for
// log-uniform ones, one colour per round) and report.html (app/report.h).
//
// Coarse to fine: round r + 1 samples each hyperparameter from the span of the best quarter of
// all trials so far (at least two trials), widened on each side by a tenth of the current range
// (on the log scale for log-uniform ones) and clipped to the current range. Trials that diverge
// (their loss becomes NaN or infinite) rank last and do not steer the narrowing.
//
// Deterministic: the values depend only on the seed, and each trial trains with the same seed
// (the same initial weights, split and batch order), so the same seed gives the same table.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "app/run.h"

namespace nabla::app {

enum class SearchScale { Log, Uniform };

// One searched hyperparameter: NAME=log(LO,HI) or NAME=uniform(LO,HI).
struct SearchDimension {
  std::string name;  // one of search_parameter_names()
  SearchScale scale = SearchScale::Uniform;
  double lo = 0, hi = 0;
  std::string str() const;  // "lr=log(1e-05,0.1)"
};

// lr, weight_decay, dropout, momentum, batch_size (rounded to an integer).
const std::vector<std::string>& search_parameter_names();

// Parses space-separated NAME=log(LO,HI) / NAME=uniform(LO,HI) items. Throws nabla::Error
// naming the bad item, the valid forms and the valid names (with the closest to a typo), for a
// repeated name, LO >= HI, log with LO <= 0, or a range outside the parameter's valid values.
std::vector<SearchDimension> parse_search_space(const std::string& text);

struct SearchOptions {
  RunOptions base;                     // every trial's options before the sampled values
  std::vector<SearchDimension> space;  // at least one dimension
  int64_t trials = 8;                  // per round
  int64_t rounds = 1;                  // 2: coarse, then fine
  uint64_t seed = 0;                   // sampling; also every trial's RunOptions::seed
  std::string out_dir;                 // "": runs/search-<YYYYmmdd-HHMMSS>
  // Stopping early (docs/cli.md, "nabla search"): SIGINT/SIGTERM, or stop_when (asked after
  // each step of a trial) stops the current trial after its step; the finished trials' table,
  // plots and report are written and run_search returns with `interrupted` set.
  bool handle_signals = false;
  std::function<bool()> stop_when = nullptr;
  // Continue the search in out_dir (search_to_resume): trials with a final checkpoint are read
  // back, not trained again; the others (the stopped one, failed ones) train afresh.
  bool resume = false;
};

// The options of the search in `dir` (its search.json), set to resume it there.
SearchOptions search_to_resume(const std::string& dir);

struct Trial {
  int64_t round = 1;           // 1-based
  int64_t index = 1;           // 1-based, over the whole search
  std::vector<double> values;  // one per SearchOptions::space dimension
  double val_acc = 0;          // after the last epoch; NaN when the trial failed
  double val_loss = 0;
  double train_loss = 0;
  double seconds = 0;
  std::string error;         // why it failed (a diverging loss); empty when it finished
  std::string dir;           // its run folder
  bool interrupted = false;  // stopped before its end (SearchOptions::stop_when, a signal)
  bool ok() const { return error.empty(); }
};

struct SearchResult {
  std::string out_dir;
  std::vector<SearchDimension> space;
  // Each round's ranges, as sampled from (rounds entries).
  std::vector<std::vector<SearchDimension>> round_spaces;
  std::vector<Trial> trials;  // ranked: best validation accuracy first
  // Set when the search was stopped: the trial it stopped (1-based; its folder holds its last
  // checkpoint, and it is not in `trials`) and the signal (0 for stop_when).
  int64_t interrupted_trial = 0;
  int signal = 0;
};

// Runs the search, printing one line per trial, each round's ranges and the ranked table to
// `out`; trials train quietly. Writes the files listed above. Throws nabla::Error for bad options.
SearchResult run_search(const SearchOptions& options, std::ostream& out);

// The ranked table as text (what run_search prints) and as CSV (trials.csv).
std::string format_search_table(const SearchResult& result);
std::string search_table_csv(const SearchResult& result);

// The ranges of the next round from `ranked` trials sampled in `current` (the rule above).
std::vector<SearchDimension> narrow_search_space(const std::vector<SearchDimension>& current,
                                                 const std::vector<Trial>& ranked);

}  // namespace nabla::app

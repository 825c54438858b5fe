// The progress display of a training epoch.
//
// On a terminal it is one line redrawn in place ('\r', at most every `refresh_s` seconds):
//   epoch 2/5 [==========>         ] 412/844  loss 0.4123  acc 85.02%  1843 img/s  ETA 0:14
// Anywhere else (a log file, a pipe, CI) '\r' would pile up into one huge line, so the same text
// is printed as a plain line each time another tenth of the epoch is done.
//
// The caller passes the elapsed time, so the display holds no clock and tests are exact.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

namespace nabla::train {

// "0:07", "12:34", "1:02:03".
std::string format_duration(double seconds);

struct ProgressState {
  int64_t epoch = 1, epochs = 1;   // 1-based epoch of how many
  int64_t batch = 0, batches = 0;  // batches done of how many
  int64_t images = 0;              // images seen this epoch
  double loss = 0, accuracy = 0;   // running means over the epoch so far
  double seconds = 0;              // elapsed in this epoch
};

// The line without '\r' or '\n'; bar_width 0 leaves out the bar.
std::string render_progress(const ProgressState& state, int bar_width = 20);

class ProgressBar {
 public:
  // `interactive`: out is a terminal (redraw in place); otherwise plain lines.
  ProgressBar(std::ostream& out, bool interactive, double refresh_s = 0.1);

  // Shows `state` when due: on a terminal if refresh_s passed since the last draw or the epoch
  // is complete; otherwise when batch crosses the next tenth of batches.
  void update(const ProgressState& state);
  // Ends the epoch's display: on a terminal, erases the bar so a summary line can take its place.
  void finish();

 private:
  std::ostream& out_;
  bool interactive_;
  double refresh_s_;
  double last_draw_s_ = -1;
  int64_t last_tenth_ = 0;
  size_t drawn_width_ = 0;
};

}  // namespace nabla::train

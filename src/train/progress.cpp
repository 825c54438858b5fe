// The training progress line (see include/nabla/train/progress.h).
#include "nabla/train/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>

namespace nabla::train {

std::string format_duration(double seconds) {
  const int64_t s = std::isfinite(seconds) && seconds > 0 ? std::llround(seconds) : 0;
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  return buf;
}

std::string render_progress(const ProgressState& s, int bar_width) {
  std::string line = "epoch " + std::to_string(s.epoch) + "/" + std::to_string(s.epochs);
  const double done =
      s.batches > 0 ? static_cast<double>(s.batch) / static_cast<double>(s.batches) : 0.0;
  if (bar_width > 0) {
    const int filled = static_cast<int>(done * bar_width);
    std::string bar(static_cast<size_t>(bar_width), ' ');
    std::fill_n(bar.begin(), filled, '=');
    if (filled < bar_width) bar[static_cast<size_t>(filled)] = '>';
    line += " [" + bar + "]";
  }
  const double rate = s.seconds > 0 ? static_cast<double>(s.images) / s.seconds : 0.0;
  // Remaining batches at this epoch's average pace so far.
  const double eta = s.batch > 0 ? s.seconds / static_cast<double>(s.batch) *
                                       static_cast<double>(s.batches - s.batch)
                                 : 0.0;
  char numbers[160];
  std::snprintf(numbers, sizeof numbers, " %lld/%lld  loss %.4f  acc %.2f%%  %.0f img/s  %s %s",
                static_cast<long long>(s.batch), static_cast<long long>(s.batches), s.loss,
                100 * s.accuracy, rate, s.batch < s.batches ? "ETA" : "took",
                format_duration(s.batch < s.batches ? eta : s.seconds).c_str());
  return line + numbers;
}

ProgressBar::ProgressBar(std::ostream& out, bool interactive, double refresh_s)
    : out_(out), interactive_(interactive), refresh_s_(refresh_s) {}

void ProgressBar::update(const ProgressState& state) {
  const bool complete = state.batch >= state.batches;
  if (interactive_) {
    if (!complete && last_draw_s_ >= 0 && state.seconds - last_draw_s_ < refresh_s_) return;
    last_draw_s_ = state.seconds;
    std::string line = render_progress(state);
    // Blank out what is left of a longer previous line.
    const size_t width = line.size();
    if (width < drawn_width_) line += std::string(drawn_width_ - width, ' ');
    drawn_width_ = width;
    out_ << '\r' << line << std::flush;
    return;
  }
  const int64_t tenth = state.batches > 0 ? state.batch * 10 / state.batches : 10;
  if (tenth <= last_tenth_) return;
  last_tenth_ = tenth;
  out_ << render_progress(state, 0) << '\n' << std::flush;
}

void ProgressBar::finish() {
  if (interactive_ && drawn_width_ > 0) out_ << '\r' << std::string(drawn_width_, ' ') << '\r';
  out_ << std::flush;
  drawn_width_ = 0;
  last_draw_s_ = -1;
  last_tenth_ = 0;
}

}  // namespace nabla::train

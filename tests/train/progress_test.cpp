// The progress line: its contents, in-place redraws on a terminal, plain lines elsewhere.
#include "nabla/train/progress.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

namespace nabla::train {
namespace {

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(format_duration(7.4), "0:07");
  EXPECT_EQ(format_duration(754), "12:34");
  EXPECT_EQ(format_duration(3723), "1:02:03");
  EXPECT_EQ(format_duration(-1), "0:00");
}

TEST(Progress, LineShowsLossAccuracyRateAndEta) {
  ProgressState s{.epoch = 2,
                  .epochs = 5,
                  .batch = 25,
                  .batches = 100,
                  .images = 1600,
                  .loss = 0.41234,
                  .accuracy = 0.85,
                  .seconds = 10};
  const std::string line = render_progress(s, 20);
  EXPECT_EQ(
      line,
      "epoch 2/5 [=====>              ] 25/100  loss 0.4123  acc 85.00%  160 img/s  ETA 0:30");
  s.batch = 100;
  EXPECT_NE(render_progress(s, 0).find("took 0:10"), std::string::npos);
}

TEST(Progress, PlainOutputPrintsOneLinePerTenthWithoutCarriageReturns) {
  std::ostringstream out;
  ProgressBar bar(out, /*interactive=*/false);
  for (int64_t b = 1; b <= 37; ++b)
    bar.update({.batch = b, .batches = 37, .images = b * 8, .seconds = 0.01 * b});
  bar.finish();
  const std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 10);
  EXPECT_EQ(text.find('\r'), std::string::npos);
}

TEST(Progress, TerminalOutputRedrawsInPlaceAtMostEveryRefreshInterval) {
  std::ostringstream out;
  ProgressBar bar(out, /*interactive=*/true, /*refresh_s=*/0.5);
  // 100 batches over 2 s: a draw every 0.5 s (5 of them, the first at 0.02 s) plus the last.
  for (int64_t b = 1; b <= 100; ++b)
    bar.update({.batch = b, .batches = 100, .images = b, .seconds = 0.02 * b});
  const std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 0);
  const auto draws = std::count(text.begin(), text.end(), '\r');
  EXPECT_GE(draws, 5);
  EXPECT_LE(draws, 6);
  bar.finish();
  // The bar is wiped so the epoch summary can be printed on a clean line.
  const std::string after = out.str().substr(text.size());
  EXPECT_EQ(after.front(), '\r');
  EXPECT_EQ(after.back(), '\r');
}

}  // namespace
}  // namespace nabla::train

// predict's automatic inversion (app/auto_invert.h, issue 16 item 1): an image whose border is
// the opposite of the training images' is inverted, with a notice; a plain match, or training
// images whose borders vary (natural photos), leave it alone; --no-auto-invert turns it off and
// --show-input writes what the model saw.
#include "app/auto_invert.h"

#include <gtest/gtest.h>

#include "nabla/io/image.h"
#include "train/cli_fixture.h"

namespace nabla::app {
namespace {

// A 1 × 4 × 4 image: `border` on the outer ring, `centre` inside.
std::vector<uint8_t> framed(uint8_t border, uint8_t centre) {
  std::vector<uint8_t> p(16, border);
  for (int y = 1; y < 3; ++y)
    for (int x = 1; x < 3; ++x) p[static_cast<size_t>(y * 4 + x)] = centre;
  return p;
}

TEST(AutoInvert, BorderBrightnessAndItsStatisticsOverADataSet) {
  EXPECT_DOUBLE_EQ(border_brightness(framed(255, 0).data(), 1, 4, 4), 1.0);
  EXPECT_DOUBLE_EQ(border_brightness(framed(0, 255).data(), 1, 4, 4), 0.0);
  std::vector<uint8_t> pixels = framed(0, 200);
  const std::vector<uint8_t> light = framed(51, 200);  // border 0.2
  pixels.insert(pixels.end(), light.begin(), light.end());
  const auto stats =
      border_stats(data::Dataset::from_uint8("two", Shape{1, 4, 4}, pixels, {0, 1}, {"a", "b"}));
  ASSERT_TRUE(stats.has_value());
  EXPECT_NEAR(stats->mean, 0.1, 1e-12);
  EXPECT_NEAR(stats->std, 0.1, 1e-9);
  EXPECT_FALSE(border_stats(data::Dataset::from_float("t", Shape{2}, {0.5f, 0.5f}, {0}, {"a"})));
}

TEST(AutoInvert, InvertsOnlyAnOppositeBackgroundOfAPlainTrainingBackground) {
  const AutoInvert dark_training(BorderStats{0.02, 0.03}, {1, 4, 4});
  std::vector<uint8_t> drawing = framed(250, 10);  // dark ink on white paper
  const std::string notice = dark_training.apply(drawing);
  EXPECT_NE(notice.find("inverted the image: its border is light (0.98)"), std::string::npos)
      << notice;
  EXPECT_NE(notice.find("--no-auto-invert"), std::string::npos) << notice;
  EXPECT_EQ(drawing, framed(5, 245));
  std::vector<uint8_t> digit = framed(0, 255);
  EXPECT_EQ(dark_training.apply(digit), "");
  EXPECT_EQ(digit, framed(0, 255));
  std::vector<uint8_t> grey = framed(100, 10);  // 0.39 from the training mean: not far enough
  EXPECT_EQ(dark_training.apply(grey), "");
  // Training borders of every brightness (photographs): never inverted.
  std::vector<uint8_t> photo = framed(250, 10);
  EXPECT_EQ(AutoInvert(BorderStats{0.45, 0.25}, {1, 4, 4}).apply(photo), "");
  // No recorded statistics (an older checkpoint): never inverted.
  EXPECT_EQ(AutoInvert(std::nullopt, {1, 4, 4}).apply(photo), "");
}

class AutoInvertCliTest : public CliTest {};

TEST_F(AutoInvertCliTest, PredictInvertsAWhiteBackgroundSaysSoAndShowsTheInput) {
  ASSERT_EQ(nabla(train_args("run", 1)).code, 0);
  // The fake data set's class 3 (a bright band of rows 6..13 on a dark background), drawn dark
  // on white as a user would.
  io::Image paper = io::make_image(28, 28, 1);
  for (int64_t y = 0; y < 28; ++y)
    for (int64_t x = 0; x < 28; ++x)
      paper.pixels[static_cast<size_t>(y * 28 + x)] = y >= 6 && y < 14 ? 40 : 250;
  io::write_png(dir.file("paper.png"), paper);

  Result r = nabla("predict " + dir.file("run") + " " + dir.file("paper.png") + " --show-input " +
                   dir.file("seen.png"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("inverted the image"), std::string::npos) << r.out;
  const io::Image seen = io::read_png(dir.file("seen.png"));
  EXPECT_EQ(seen.at(0, 0), 255 - 250);
  EXPECT_EQ(seen.at(8, 5), 255 - 40);

  r = nabla("predict --no-auto-invert " + dir.file("run") + " " + dir.file("paper.png") +
            " --show-input " + dir.file("seen.png"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find("inverted"), std::string::npos) << r.out;
  EXPECT_EQ(io::read_png(dir.file("seen.png")).at(0, 0), 250);

  // Several images: the notice goes to stderr, the lines stay one per image.
  r = nabla("predict " + dir.file("run") + " " + dir.file("paper.png") + " " +
            dir.file("paper.png"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines(r.out), 2);
  EXPECT_NE(r.err.find("inverted the image"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace nabla::app

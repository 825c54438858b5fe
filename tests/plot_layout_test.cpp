// The layout rules of the figures (issue 16 item 12), tested on the layout functions themselves:
// whole-number ticks on an epoch axis, at least three ticks on a log axis that spans a decade or
// two, a legend that covers no curve point (outside the axes when every corner would), and a
// filter grid large enough to see whose gaps never take a filter's colours.
#include <gtest/gtest.h>

#include <cmath>

#include "data/temp_dir.h"
#include "nabla/io/image.h"
#include "nabla/io/plot.h"
#include "plot/canvas.h"

namespace nabla::io {
namespace {

using namespace canvas_detail;

TEST(PlotLayout, AnEpochAxisHasWholeNumberTicksOnly) {
  // Two epochs, padded by 5% as the plots do: without `integer`, ticks every 0.2.
  double lo = 1, hi = 2;
  pad_range(lo, hi);
  EXPECT_GT(nice_ticks(lo, hi).size(), 2u);
  EXPECT_EQ(nice_ticks(lo, hi, 6, true), (std::vector<double>{1, 2}));
  for (double epochs : {1.0, 3.0, 7.0, 12.0, 40.0}) {
    double a = 1, b = epochs;
    pad_range(a, b);
    const std::vector<double> ticks = nice_ticks(a, b, 6, true);
    ASSERT_FALSE(ticks.empty()) << epochs;
    for (double t : ticks) EXPECT_EQ(t, std::round(t)) << epochs << " epochs: tick " << t;
    EXPECT_LE(ticks.size(), 11u);
  }
}

TEST(PlotLayout, ALogAxisOverADecadeOrTwoHasAtLeastThreeTicks) {
  // A gradient std between 1.5e-3 and 2.5e-2: only 10^-2 is a whole power inside.
  std::vector<double> ticks;
  std::vector<std::string> labels;
  log_axis_ticks(std::log10(1.5e-3), std::log10(2.5e-2), 3, ticks, labels);
  EXPECT_GE(ticks.size(), 3u);
  ASSERT_EQ(ticks.size(), labels.size());
  for (size_t i = 1; i < ticks.size(); ++i) EXPECT_GT(ticks[i], ticks[i - 1]);
  EXPECT_NE(std::find(labels.begin(), labels.end(), "0.01"), labels.end());
  // Less than a decade (2 to 8): round values on the log scale.
  ticks.clear(), labels.clear();
  log_axis_ticks(std::log10(2), std::log10(8), 3, ticks, labels);
  EXPECT_GE(ticks.size(), 3u);
  // Many decades: whole powers only.
  ticks.clear(), labels.clear();
  log_axis_ticks(-6, 0, 3, ticks, labels);
  EXPECT_EQ(labels.front(), power_of_ten_label(-6));
}

bool inside(const LegendPlace& box, std::pair<double, double> p) {
  return p.first >= box.x && p.first <= box.x + box.w && p.second >= box.y &&
         p.second <= box.y + box.h;
}

TEST(PlotLayout, TheLegendCoversNoCurvePoint) {
  const double left = 80, right = 576, top = 58, bottom = 427, w = 120, h = 60, gap = 7;
  // A curve along the top edge: the legend goes to a lower corner.
  std::vector<std::pair<double, double>> top_curve;
  for (double x = left; x <= right; x += 4) top_curve.emplace_back(x, top + 10);
  LegendPlace place = place_legend(left, right, top, bottom, 640, w, h, gap, top_curve);
  EXPECT_FALSE(place.outside);
  EXPECT_GT(place.y, top + 10);
  for (const auto& p : top_curve) EXPECT_FALSE(inside(place, p));
  // Curves through all four corners (per-layer gradient std lines spread over the axes): the
  // legend goes outside the axes, which end before it.
  std::vector<std::pair<double, double>> everywhere;
  for (double x = left; x <= right; x += 4)
    for (double y : {top + 5, (top + bottom) / 2, bottom - 5}) everywhere.emplace_back(x, y);
  place = place_legend(left, right, top, bottom, 640, w, h, gap, everywhere);
  EXPECT_TRUE(place.outside);
  EXPECT_LT(place.right, place.x);
  EXPECT_LE(place.x + place.w, 640);
  for (const auto& p : everywhere) {
    if (p.first <= place.right) {
      EXPECT_FALSE(inside(place, p));
    }
  }
}

TEST(PlotLayout, TheFilterGridIsLargeEnoughWithGapsUnlikeAnyFilterPixel) {
  // LeNet-5's first layer: 6 filters of 5 × 5, one channel.
  const FilterGridLayout l = filter_grid_layout(Shape{6, 1, 5, 5}, {});
  EXPECT_EQ(l.columns, 3);
  EXPECT_EQ(l.rows, 2);
  EXPECT_GE(l.width(), 280);
  EXPECT_LE(l.width(), kFilterGridWidth);
  EXPECT_GE(l.gap, 4) << "a gap of a few pixels, not one";
  // An explicit scale stays.
  EXPECT_EQ(filter_grid_layout(Shape{6, 1, 5, 5}, {.scale = 2}).scale, 2);

  // All-black filters (every filter constant 0 but one pixel, so most pixels map to 0): the gaps
  // and frame are pale blue, never black.
  std::vector<float> w(6 * 25, 0.0f);
  for (int f = 0; f < 6; ++f) w[f * 25 + 12] = 1.0f;
  testing::TempDir dir;
  const std::string path = dir.file("filters.png");
  write_filter_grid_png(path, Tensor::from_vector(w, {6, 1, 5, 5}), {.title = "Filters"});
  const Image image = read_png(path);
  ASSERT_EQ(image.channels, 3);
  EXPECT_GT(image.height, l.height() + 20) << "a title band";
  // Find the grid's first black pixel (tile 0's top left) and step across to the gap.
  int64_t gx = -1, gy = -1;
  for (int64_t y = 32; y < image.height && gx < 0; ++y)  // below the title's black text
    for (int64_t x = 0; x < image.width; ++x)
      if (image.at(y, x, 0) == 0 && image.at(y, x, 1) == 0 && image.at(y, x, 2) == 0) {
        gx = x, gy = y;
        break;
      }
  ASSERT_GE(gx, 0);
  const int64_t gap_x = gx + l.tile_width + l.gap / 2;
  EXPECT_EQ(image.at(gy, gap_x, 0), 0xc6);
  EXPECT_EQ(image.at(gy, gap_x, 1), 0xdb);
  EXPECT_EQ(image.at(gy, gap_x, 2), 0xef);
  EXPECT_EQ(image.at(gy, gap_x + l.gap, 0), 0) << "the next tile starts after the gap";
  EXPECT_EQ(image.at(gy - 1, gx, 2), 0xef) << "the frame above the first tile";
}

}  // namespace
}  // namespace nabla::io

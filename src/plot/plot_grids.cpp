// The decision-boundary figure and the histogram grid (see include/nabla/io/plot.h), drawn on
// the canvas of plot/canvas.h like plot.cpp's line and scatter plots.
#include <algorithm>
#include <cmath>

#include "nabla/io/plot.h"
#include "plot/canvas.h"

namespace nabla::io {

using namespace canvas_detail;

void write_decision_boundary_plot(const std::string& path, const DecisionBoundaryPlot& plot,
                                  const ClassifyFn& classify) {
  NABLA_CHECK(plot.x_min < plot.x_max && plot.y_min < plot.y_max,
              "write_decision_boundary_plot: empty region x [", plot.x_min, ", ", plot.x_max,
              "], y [", plot.y_min, ", ", plot.y_max, "]");
  NABLA_CHECK(plot.resolution >= 2, "write_decision_boundary_plot: resolution ", plot.resolution,
              " is below 2");
  const auto& pts = plot.points;
  NABLA_CHECK(pts.x.size() == pts.y.size() && pts.x.size() == pts.label.size(),
              "write_decision_boundary_plot: points have ", pts.x.size(), " x, ", pts.y.size(),
              " y and ", pts.label.size(), " labels");

  Canvas canvas(plot.figure);
  canvas.set_limits(plot.x_min, plot.x_max, plot.y_min, plot.y_max);

  // Classify the centre of every grid cell in one call.
  const int nx = plot.resolution;
  const int ny = std::max(2, static_cast<int>(std::lround(nx * (canvas.bottom() - canvas.top()) /
                                                          (canvas.right() - canvas.left()))));
  std::vector<double> gx, gy;
  gx.reserve(static_cast<size_t>(nx) * ny);
  gy.reserve(static_cast<size_t>(nx) * ny);
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      gx.push_back(plot.x_min + (i + 0.5) / nx * (plot.x_max - plot.x_min));
      gy.push_back(plot.y_min + (j + 0.5) / ny * (plot.y_max - plot.y_min));
    }
  std::vector<int> cls = classify(gx, gy);
  NABLA_CHECK(cls.size() == gx.size(), "write_decision_boundary_plot: the classifier returned ",
              cls.size(), " classes for ", gx.size(), " grid points");

  int num_classes = 0;
  for (int c : cls) num_classes = std::max(num_classes, c + 1);
  for (int c : pts.label) num_classes = std::max(num_classes, c + 1);

  // The legend is placed first: outside the axes, if it must go there, narrows them.
  std::vector<std::string> names = plot.class_names;
  for (int c = static_cast<int>(names.size()); c < num_classes; ++c)
    names.push_back("class " + std::to_string(c));
  std::vector<std::pair<double, double>> drawn;
  for (size_t k = 0; k < pts.x.size(); ++k)
    drawn.emplace_back(canvas.px(pts.x[k]), canvas.py(pts.y[k]));
  const LegendPlace legend = canvas.plan_legend(names, drawn);

  // Regions: each cell covers whole pixels, so neighbouring cells leave no anti-aliased seams.
  cairo_t* cr = canvas.cr();
  cairo_save(cr);
  cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
  auto edge_x = [&](int i) {
    return std::round(canvas.px(plot.x_min + double(i) / nx * (plot.x_max - plot.x_min)));
  };
  auto edge_y = [&](int j) {
    return std::round(canvas.py(plot.y_min + double(j) / ny * (plot.y_max - plot.y_min)));
  };
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      Rgb c = tint(colour_of(cls[static_cast<size_t>(j) * nx + i]), 0.35);
      cairo_set_source_rgb(cr, c.r, c.g, c.b);
      cairo_rectangle(cr, edge_x(i), edge_y(j + 1), edge_x(i + 1) - edge_x(i),
                      edge_y(j) - edge_y(j + 1));
      cairo_fill(cr);
    }
  cairo_restore(cr);

  // The boundary itself, traced by marching squares over the cell centres so that it runs
  // diagonally instead of in steps: for each class, every 2 x 2 block of centres whose corners
  // disagree on "is this class" gets segments between the midpoints of its mixed edges.
  canvas.clip_to_axes();
  cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
  cairo_set_line_width(cr, 1.0 * canvas.scale());
  auto at = [&](int i, int j) { return cls[static_cast<size_t>(j) * nx + i]; };
  auto centre_x = [&](double i) {
    return canvas.px(plot.x_min + (i + 0.5) / nx * (plot.x_max - plot.x_min));
  };
  auto centre_y = [&](double j) {
    return canvas.py(plot.y_min + (j + 0.5) / ny * (plot.y_max - plot.y_min));
  };
  // Edge midpoints of the block at (i, j), in grid units: bottom, right, top, left.
  const double mid[4][2] = {{0.5, 0}, {1, 0.5}, {0.5, 1}, {0, 0.5}};
  // Pairs of edges to join for each corner pattern (bit 0: (i, j), 1: (i+1, j), 2: (i+1, j+1),
  // 3: (i, j+1)); a pattern and its complement share their segments.
  const int segments[16][4] = {{-1, -1, -1, -1}, {3, 0, -1, -1}, {0, 1, -1, -1}, {3, 1, -1, -1},
                               {1, 2, -1, -1},   {3, 2, 0, 1},   {0, 2, -1, -1}, {3, 2, -1, -1},
                               {3, 2, -1, -1},   {0, 2, -1, -1}, {3, 0, 1, 2},   {1, 2, -1, -1},
                               {3, 1, -1, -1},   {0, 1, -1, -1}, {3, 0, -1, -1}, {-1, -1, -1, -1}};
  for (int c = 0; c + 1 < std::max(num_classes, 2); ++c)
    for (int j = 0; j + 1 < ny; ++j)
      for (int i = 0; i + 1 < nx; ++i) {
        int pattern = (at(i, j) == c) | (at(i + 1, j) == c) << 1 | (at(i + 1, j + 1) == c) << 2 |
                      (at(i, j + 1) == c) << 3;
        for (int k = 0; k < 4 && segments[pattern][k] >= 0; k += 2) {
          const double* a = mid[segments[pattern][k]];
          const double* b = mid[segments[pattern][k + 1]];
          cairo_move_to(cr, centre_x(i + a[0]), centre_y(j + a[1]));
          cairo_line_to(cr, centre_x(i + b[0]), centre_y(j + b[1]));
        }
      }
  cairo_stroke(cr);

  const double radius = 5.5 * canvas.scale();
  for (size_t k = 0; k < pts.x.size(); ++k)
    marker(cr, canvas.px(pts.x[k]), canvas.py(pts.y[k]), radius, colour_of(pts.label[k]),
           canvas.scale());
  canvas.unclip();

  std::vector<double> x_ticks = nice_ticks(plot.x_min, plot.x_max);
  std::vector<double> y_ticks = nice_ticks(plot.y_min, plot.y_max);
  canvas.decorate(x_ticks, tick_labels(x_ticks), y_ticks, tick_labels(y_ticks));

  canvas.draw_legend(names, legend, [&](int i, double x, double y, double) {
    marker(cr, x, y, 4 * canvas.scale(), colour_of(i), canvas.scale());
  });
  canvas.write(path);
}

void write_histogram_grid(const std::string& path, const HistogramGrid& plot) {
  NABLA_CHECK(!plot.panels.empty(), "write_histogram_grid: no panels to draw for '", path, "'");
  NABLA_CHECK(plot.bins >= 1, "write_histogram_grid: bins must be >= 1, got ", plot.bins);
  NABLA_CHECK(plot.x_min <= plot.x_max, "write_histogram_grid: x_min ", plot.x_min,
              " is above x_max ", plot.x_max);
  NABLA_CHECK(plot.figure.width >= 100 && plot.figure.height >= 100,
              "write_histogram_grid: panels of ", plot.figure.width, " x ", plot.figure.height,
              " pixels are too small (at least 100 x 100)");
  const int n = static_cast<int>(plot.panels.size());
  const int cols = plot.columns > 0 ? std::min(plot.columns, n) : std::min(n, 4);
  const int rows = (n + cols - 1) / cols;
  const int pw = plot.figure.width, ph = plot.figure.height;
  const int title_h = plot.figure.title.empty() ? 0 : ph / 6;
  Figure whole;  // the title and label are drawn per panel below, not by the Canvas
  whole.width = cols * pw;
  whole.height = rows * ph + title_h;
  Canvas canvas(whole);
  cairo_t* cr = canvas.cr();
  // Sizes in pixels for a 240-pixel panel, scaled with the panel and turned into the canvas's
  // points (its scale grows with the whole image's height).
  const double px = ph / 240.0, pt = px / canvas.scale();
  if (!plot.figure.title.empty())
    canvas.text(plot.figure.title, cols * pw / 2.0, title_h * 0.35, 15 * pt, 0.5, 0.5, 0, true);

  for (int k = 0; k < n; ++k) {
    const HistogramPanel& panel = plot.panels[static_cast<size_t>(k)];
    const double x0 = (k % cols) * pw, y0 = title_h + (k / cols) * ph;
    const double left = x0 + 0.2 * pw, right = x0 + 0.95 * pw;
    const double top = y0 + 0.14 * ph, bottom = y0 + 0.76 * ph;
    double lo = plot.x_min, hi = plot.x_max;
    if (lo == hi) {
      lo = INFINITY, hi = -INFINITY;
      for (double v : panel.values)
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
      if (!(lo <= hi)) lo = 0, hi = 1;  // no finite value: an empty panel
      if (hi - lo < 1e-12 * std::max(1.0, std::abs(lo))) lo -= 0.5, hi += 0.5;
    }
    std::vector<double> counts(static_cast<size_t>(plot.bins), 0.0);
    for (double v : panel.values) {
      if (!std::isfinite(v) || v < lo || v > hi) continue;
      const auto b = std::min(plot.bins - 1, static_cast<int>((v - lo) / (hi - lo) * plot.bins));
      counts[static_cast<size_t>(b)] += 1;
    }
    const double top_count = std::max(1.0, *std::max_element(counts.begin(), counts.end()));
    const auto sx = [&](double v) { return left + (v - lo) / (hi - lo) * (right - left); };
    const auto sy = [&](double c) { return bottom - c / (top_count * 1.05) * (bottom - top); };

    const Rgb c = colour_of(0);
    cairo_set_source_rgb(cr, c.r, c.g, c.b);
    for (int b = 0; b < plot.bins; ++b) {
      const double count = counts[static_cast<size_t>(b)];
      if (count == 0) continue;
      const double a = sx(lo + (hi - lo) * b / plot.bins);
      const double e = sx(lo + (hi - lo) * (b + 1) / plot.bins);
      cairo_rectangle(cr, a, sy(count), e - a, bottom - sy(count));
    }
    cairo_fill(cr);

    // Frame, ticks and labels, as the line plots' but smaller.
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 0.8 * px);
    cairo_rectangle(cr, std::floor(left) + 0.5, std::floor(top) + 0.5,
                    std::floor(right) - std::floor(left), std::floor(bottom) - std::floor(top));
    cairo_stroke(cr);
    const std::vector<double> x_ticks = nice_ticks(lo, hi, 4);
    const std::vector<std::string> x_labels = tick_labels(x_ticks);
    for (size_t i = 0; i < x_ticks.size(); ++i) {
      const double x = std::floor(sx(x_ticks[i])) + 0.5;
      cairo_move_to(cr, x, bottom);
      cairo_line_to(cr, x, bottom + 3 * px);
      canvas.text(x_labels[i], x, bottom + 5 * px, 9 * pt, 0.5, 0);
    }
    const std::vector<double> y_ticks = nice_ticks(0, top_count * 1.05, 3);
    const std::vector<std::string> y_labels = tick_labels(y_ticks);
    for (size_t i = 0; i < y_ticks.size(); ++i) {
      const double y = std::floor(sy(y_ticks[i])) + 0.5;
      cairo_move_to(cr, left, y);
      cairo_line_to(cr, left - 3 * px, y);
      canvas.text(y_labels[i], left - 5 * px, y, 9 * pt, 1, 0.5);
    }
    cairo_stroke(cr);
    canvas.text(panel.title, (left + right) / 2, y0 + 0.07 * ph, 10 * pt, 0.5, 0.5);
    if (!plot.figure.x_label.empty())
      canvas.text(plot.figure.x_label, (left + right) / 2, bottom + 20 * px, 9 * pt, 0.5, 0);
  }
  canvas.write(path);
}

}  // namespace nabla::io

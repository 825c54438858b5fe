// PNG figures with cairo (see include/nabla/io/plot.h). Sizes are in points, as matplotlib's:
// a point is 100/72 pixels on a 480-pixel-high figure (matplotlib's 100 dpi) and scales with the
// figure's height, so a bigger figure keeps the proportions.
#include "nabla/io/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "nabla/error.h"
#include "plot/canvas.h"

namespace nabla::io {

const std::vector<Rgb>& tab10() {
  static const std::vector<Rgb> colours = [] {
    const unsigned hex[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                            0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
    std::vector<Rgb> out;
    for (unsigned h : hex)
      out.push_back({((h >> 16) & 0xff) / 255.0, ((h >> 8) & 0xff) / 255.0, (h & 0xff) / 255.0});
    return out;
  }();
  return colours;
}

using namespace canvas_detail;

void write_line_plot(const std::string& path, const LinePlot& plot) {
  NABLA_CHECK(!plot.series.empty(), "write_line_plot: no series to draw for '", path, "'");
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const auto& s : plot.series) {
    NABLA_CHECK(!s.x.empty() && s.x.size() == s.y.size(), "write_line_plot: series '", s.name,
                "' has ", s.x.size(), " x values and ", s.y.size(), " y values");
    for (size_t i = 0; i < s.x.size(); ++i) {
      NABLA_CHECK(!plot.log_y || s.y[i] > 0, "write_line_plot: series '", s.name,
                  "' has y = ", s.y[i], " at x = ", s.x[i], ", which a log_y axis cannot show");
      double y = plot.log_y ? std::log10(s.y[i]) : s.y[i];
      x_lo = std::min(x_lo, s.x[i]), x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, y), y_hi = std::max(y_hi, y);
    }
  }
  pad_range(x_lo, x_hi);
  pad_range(y_lo, y_hi);

  Canvas canvas(plot.figure);
  canvas.set_limits(x_lo, x_hi, y_lo, y_hi);
  auto y_of = [&](double y) { return plot.log_y ? std::log10(y) : y; };
  std::vector<std::string> names;
  for (const auto& s : plot.series) names.push_back(s.name);
  const bool any_named =
      std::any_of(names.begin(), names.end(), [](auto& n) { return !n.empty(); });
  // The legend avoids the curves: sample every segment every few pixels.
  std::vector<std::pair<double, double>> drawn;
  for (const auto& s : plot.series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      double x1 = canvas.px(s.x[i]), y1 = canvas.py(y_of(s.y[i]));
      if (i > 0) {
        auto [x0, y0] = drawn.back();
        int n = static_cast<int>(std::hypot(x1 - x0, y1 - y0) / 4);
        for (int k = 1; k < n; ++k)
          drawn.emplace_back(x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n);
      }
      drawn.emplace_back(x1, y1);
    }
  LegendPlace legend;
  if (any_named) legend = canvas.plan_legend(names, drawn);

  std::vector<double> x_ticks = nice_ticks(x_lo, x_hi, 6, plot.integer_x), y_ticks;
  std::vector<std::string> y_labels;
  if (plot.log_y) {
    log_axis_ticks(y_lo, y_hi, 3, y_ticks, y_labels);
  } else {
    y_ticks = nice_ticks(y_lo, y_hi);
    y_labels = tick_labels(y_ticks);
  }

  cairo_t* cr = canvas.cr();
  if (plot.grid) canvas.grid(x_ticks, y_ticks);
  canvas.clip_to_axes();
  cairo_set_line_width(cr, 1.5 * canvas.scale());
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  for (size_t k = 0; k < plot.series.size(); ++k) {
    const auto& s = plot.series[k];
    Rgb c = colour_of(static_cast<int>(k));
    cairo_set_source_rgb(cr, c.r, c.g, c.b);
    for (size_t i = 0; i < s.x.size(); ++i) {
      double y = plot.log_y ? std::log10(s.y[i]) : s.y[i];
      if (i == 0)
        cairo_move_to(cr, canvas.px(s.x[i]), canvas.py(y));
      else
        cairo_line_to(cr, canvas.px(s.x[i]), canvas.py(y));
    }
    if (s.x.size() == 1) {  // a lone point would draw nothing as a line
      cairo_arc(cr, canvas.px(s.x[0]), canvas.py(plot.log_y ? std::log10(s.y[0]) : s.y[0]),
                3 * canvas.scale(), 0, 2 * M_PI);
      cairo_fill(cr);
    }
    cairo_stroke(cr);
  }
  canvas.unclip();
  canvas.decorate(x_ticks, tick_labels(x_ticks), y_ticks, y_labels);

  if (any_named)
    canvas.draw_legend(names, legend, [&](int i, double x, double y, double w) {
      Rgb c = colour_of(i);
      cairo_set_source_rgb(cr, c.r, c.g, c.b);
      cairo_set_line_width(cr, 1.5 * canvas.scale());
      cairo_move_to(cr, x - w / 2, y);
      cairo_line_to(cr, x + w / 2, y);
      cairo_stroke(cr);
    });
  canvas.write(path);
}

void write_scatter_plot(const std::string& path, const ScatterPlot& plot) {
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const auto& s : plot.series) {
    NABLA_CHECK(s.x.size() == s.y.size(), "write_scatter_plot: series '", s.name, "' has ",
                s.x.size(), " x values and ", s.y.size(), " y values");
    for (size_t i = 0; i < s.x.size(); ++i) {
      NABLA_CHECK(!plot.log_x || s.x[i] > 0, "write_scatter_plot: series '", s.name,
                  "' has x = ", s.x[i], ", which a log_x axis cannot show");
      const double x = plot.log_x ? std::log10(s.x[i]) : s.x[i];
      x_lo = std::min(x_lo, x), x_hi = std::max(x_hi, x);
      y_lo = std::min(y_lo, s.y[i]), y_hi = std::max(y_hi, s.y[i]);
    }
  }
  NABLA_CHECK(x_lo <= x_hi, "write_scatter_plot: no points to draw for '", path, "'");
  pad_range(x_lo, x_hi);
  pad_range(y_lo, y_hi);

  Canvas canvas(plot.figure);
  canvas.set_limits(x_lo, x_hi, y_lo, y_hi);
  std::vector<double> x_ticks;
  std::vector<std::string> x_labels;
  if (plot.log_x) {
    log_axis_ticks(x_lo, x_hi, 2, x_ticks, x_labels);
  } else {
    x_ticks = nice_ticks(x_lo, x_hi);
    x_labels = tick_labels(x_ticks);
  }
  const std::vector<double> y_ticks = nice_ticks(y_lo, y_hi);

  std::vector<std::string> names;
  for (const auto& s : plot.series) names.push_back(s.name);
  const bool any_named =
      std::any_of(names.begin(), names.end(), [](const auto& n) { return !n.empty(); });
  auto points = [&](const Canvas& c) {
    std::vector<std::pair<double, double>> at;
    for (const auto& s : plot.series)
      for (size_t i = 0; i < s.x.size(); ++i)
        at.emplace_back(c.px(plot.log_x ? std::log10(s.x[i]) : s.x[i]), c.py(s.y[i]));
    return at;
  };
  LegendPlace legend;
  if (any_named) legend = canvas.plan_legend(names, points(canvas));

  cairo_t* cr = canvas.cr();
  if (plot.grid) canvas.grid(x_ticks, y_ticks);
  canvas.clip_to_axes();
  const double radius = 4 * canvas.scale();
  const std::vector<std::pair<double, double>> drawn = points(canvas);
  size_t at = 0;
  for (size_t k = 0; k < plot.series.size(); ++k)
    for (size_t i = 0; i < plot.series[k].x.size(); ++i, ++at)
      marker(cr, drawn[at].first, drawn[at].second, radius, colour_of(static_cast<int>(k)),
             canvas.scale());
  canvas.unclip();
  canvas.decorate(x_ticks, x_labels, y_ticks, tick_labels(y_ticks));

  if (any_named)
    canvas.draw_legend(names, legend, [&](int i, double x, double y, double) {
      marker(cr, x, y, radius, colour_of(i), canvas.scale());
    });
  canvas.write(path);
}

}  // namespace nabla::io

// PNG figures with cairo (see include/nabla/io/plot.h). Sizes are in points, as matplotlib's:
// a point is 100/72 pixels on a 480-pixel-high figure (matplotlib's 100 dpi) and scales with the
// figure's height, so a bigger figure keeps the proportions.
#include "nabla/io/plot.h"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "nabla/error.h"

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

namespace {

constexpr const char* kFont = "DejaVu Sans";  // matplotlib's default face

Rgb colour_of(int i) {
  return tab10()[static_cast<size_t>(i) % tab10().size()];
}

// `c` mixed with white: what matplotlib's alpha over a white background gives.
Rgb tint(Rgb c, double alpha) {
  return {1 - alpha * (1 - c.r), 1 - alpha * (1 - c.g), 1 - alpha * (1 - c.b)};
}

// Tick positions at 1, 2, 2.5 or 5 times a power of ten, about `target` of them in [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target = 6) {
  double raw = (hi - lo) / target;
  double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude * 10;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

// matplotlib typesets negative numbers with a minus sign (U+2212), not a hyphen.
std::string with_unicode_minus(std::string s) {
  if (!s.empty() && s[0] == '-') s.replace(0, 1, "\u2212");
  return s;
}

// "10⁻³", as matplotlib labels a log axis.
std::string power_of_ten_label(int p) {
  static const char* superscript[] = {"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"};
  std::string digits = std::to_string(std::abs(p)), out = p < 0 ? "10⁻" : "10";
  for (char d : digits) out += superscript[d - '0'];
  return out;
}

// As few decimals as the step needs ("0.25", "0.50"; "200", "400").
std::string format_tick(double v, double step) {
  int decimals = 0;
  while (decimals < 8) {
    double scaled = step * std::pow(10.0, decimals);
    if (std::abs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) break;
    ++decimals;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return with_unicode_minus(buf);
}

// A cairo canvas with one set of axes: the data rectangle [x_lo, x_hi] x [y_lo, y_hi] mapped
// onto the pixel rectangle left..right, top..bottom.
class Canvas {
 public:
  Canvas(const Figure& figure) : figure_(figure) {
    NABLA_CHECK(figure.width >= 100 && figure.height >= 100, "plot: figure of ", figure.width,
                " x ", figure.height, " pixels is too small (at least 100 x 100)");
    surface_ = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, figure.width, figure.height);
    cr_ = cairo_create(surface_);
    scale_ = figure.height / 480.0 * 100.0 / 72.0;  // pixels per point
    cairo_set_source_rgb(cr_, 1, 1, 1);
    cairo_paint(cr_);
    // matplotlib's default subplot box: left 0.125, right 0.9, bottom 0.11, top 0.88.
    left_ = 0.125 * figure.width;
    right_ = 0.9 * figure.width;
    top_ = 0.12 * figure.height;
    bottom_ = 0.89 * figure.height;
  }
  ~Canvas() {
    cairo_destroy(cr_);
    cairo_surface_destroy(surface_);
  }
  Canvas(const Canvas&) = delete;
  Canvas& operator=(const Canvas&) = delete;

  cairo_t* cr() { return cr_; }
  double scale() const { return scale_; }

  void set_limits(double x_lo, double x_hi, double y_lo, double y_hi) {
    x_lo_ = x_lo, x_hi_ = x_hi, y_lo_ = y_lo, y_hi_ = y_hi;
  }
  double px(double x) const { return left_ + (x - x_lo_) / (x_hi_ - x_lo_) * (right_ - left_); }
  double py(double y) const { return bottom_ - (y - y_lo_) / (y_hi_ - y_lo_) * (bottom_ - top_); }
  double left() const { return left_; }
  double right() const { return right_; }
  double top() const { return top_; }
  double bottom() const { return bottom_; }

  void clip_to_axes() {
    cairo_save(cr_);
    cairo_rectangle(cr_, left_, top_, right_ - left_, bottom_ - top_);
    cairo_clip(cr_);
  }
  void unclip() { cairo_restore(cr_); }

  // Text with its anchor at (x, y): h_align 0 left, 0.5 centre, 1 right; v_align likewise from
  // the top. `angle` in radians turns it about the anchor (-pi/2 reads bottom to top).
  void text(const std::string& s, double x, double y, double size, double h_align, double v_align,
            double angle = 0, bool bold = false) {
    cairo_save(cr_);
    cairo_select_font_face(cr_, kFont, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr_, size * scale_);
    cairo_font_extents_t font;
    cairo_font_extents(cr_, &font);
    cairo_text_extents_t ext;
    cairo_text_extents(cr_, s.c_str(), &ext);
    cairo_translate(cr_, x, y);
    cairo_rotate(cr_, angle);
    // Align on the font's ascent, not the glyphs', so that "0.5" and "1.0" share a baseline.
    cairo_move_to(cr_, -h_align * ext.x_advance, -v_align * font.ascent + font.ascent);
    cairo_set_source_rgb(cr_, 0, 0, 0);
    cairo_show_text(cr_, s.c_str());
    cairo_restore(cr_);
  }

  double text_width(const std::string& s, double size) {
    cairo_save(cr_);
    cairo_select_font_face(cr_, kFont, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr_, size * scale_);
    cairo_text_extents_t ext;
    cairo_text_extents(cr_, s.c_str(), &ext);
    cairo_restore(cr_);
    return ext.x_advance;
  }

  // Light grid lines at the ticks, under the data.
  void grid(const std::vector<double>& x_ticks, const std::vector<double>& y_ticks) {
    cairo_save(cr_);
    cairo_set_source_rgb(cr_, 0.9, 0.9, 0.9);
    cairo_set_line_width(cr_, 0.8 * scale_);
    for (double t : x_ticks) {
      cairo_move_to(cr_, snap(px(t)), top_);
      cairo_line_to(cr_, snap(px(t)), bottom_);
    }
    for (double t : y_ticks) {
      cairo_move_to(cr_, left_, snap(py(t)));
      cairo_line_to(cr_, right_, snap(py(t)));
    }
    cairo_stroke(cr_);
    cairo_restore(cr_);
  }

  // The frame, outward ticks with their labels, axis labels and the title.
  void decorate(const std::vector<double>& x_ticks, const std::vector<std::string>& x_labels,
                const std::vector<double>& y_ticks, const std::vector<std::string>& y_labels) {
    // matplotlib's rcParams: 3.5 pt ticks, 3.5 pt tick padding, 10 pt text, 12 pt title.
    const double tick = 3.5 * scale_, pad = 3.5 * scale_;
    const double tick_size = 10, label_size = 10, title_size = 12;
    cairo_set_source_rgb(cr_, 0, 0, 0);
    cairo_set_line_width(cr_, 0.8 * scale_);
    cairo_rectangle(cr_, snap(left_), snap(top_), snap(right_) - snap(left_),
                    snap(bottom_) - snap(top_));
    cairo_stroke(cr_);
    double widest = 0;
    for (size_t i = 0; i < x_ticks.size(); ++i) {
      double x = snap(px(x_ticks[i]));
      cairo_move_to(cr_, x, bottom_);
      cairo_line_to(cr_, x, bottom_ + tick);
      text(x_labels[i], x, bottom_ + tick + pad, tick_size, 0.5, 0);
    }
    for (size_t i = 0; i < y_ticks.size(); ++i) {
      double y = snap(py(y_ticks[i]));
      cairo_move_to(cr_, left_, y);
      cairo_line_to(cr_, left_ - tick, y);
      text(y_labels[i], left_ - tick - pad, y, tick_size, 1, 0.5);
      widest = std::max(widest, text_width(y_labels[i], tick_size));
    }
    cairo_stroke(cr_);
    if (!figure_.x_label.empty())
      text(figure_.x_label, (left_ + right_) / 2, bottom_ + tick + pad + 16 * scale_, label_size,
           0.5, 0);
    if (!figure_.y_label.empty())
      text(figure_.y_label, left_ - tick - pad - 5 * scale_ - widest, (top_ + bottom_) / 2,
           label_size, 0.5, 1, -M_PI / 2);
    if (!figure_.title.empty())
      text(figure_.title, (left_ + right_) / 2, top_ - 6 * scale_, title_size, 0.5, 1);
  }

  // A legend box in the corner of the axes that covers the fewest of `obstacles` (pixel
  // positions of the data), trying upper right first, as matplotlib's loc="best".
  // `draw_key` draws each entry's sample centred at (x, y) within `width`.
  template <class DrawKey>
  void legend(const std::vector<std::string>& names,
              const std::vector<std::pair<double, double>>& obstacles, DrawKey draw_key) {
    const double size = 10, pad = 5 * scale_, key_width = 20 * scale_, row = 15 * scale_;
    const double gap = 5 * scale_, r = 2 * scale_;
    double widest = 0;
    for (const auto& n : names) widest = std::max(widest, text_width(n, size));
    const double w = pad * 3 + key_width + widest, h = pad * 2 + row * names.size();
    double x0 = 0, y0 = 0;
    size_t fewest = SIZE_MAX;
    for (auto [right_side, top_side] :
         {std::pair{true, true}, {false, true}, {false, false}, {true, false}}) {
      double cx = right_side ? right_ - w - gap : left_ + gap;
      double cy = top_side ? top_ + gap : bottom_ - h - gap;
      size_t covered = std::count_if(obstacles.begin(), obstacles.end(), [&](const auto& p) {
        return p.first >= cx - gap && p.first <= cx + w + gap && p.second >= cy - gap &&
               p.second <= cy + h + gap;
      });
      if (covered < fewest) fewest = covered, x0 = cx, y0 = cy;
    }
    cairo_new_sub_path(cr_);
    cairo_arc(cr_, x0 + w - r, y0 + r, r, -M_PI / 2, 0);
    cairo_arc(cr_, x0 + w - r, y0 + h - r, r, 0, M_PI / 2);
    cairo_arc(cr_, x0 + r, y0 + h - r, r, M_PI / 2, M_PI);
    cairo_arc(cr_, x0 + r, y0 + r, r, M_PI, 3 * M_PI / 2);
    cairo_close_path(cr_);
    cairo_set_source_rgba(cr_, 1, 1, 1, 0.8);
    cairo_fill_preserve(cr_);
    cairo_set_source_rgb(cr_, 0.8, 0.8, 0.8);
    cairo_set_line_width(cr_, 1.0 * scale_);
    cairo_stroke(cr_);
    for (size_t i = 0; i < names.size(); ++i) {
      double cy = y0 + pad + row * (i + 0.5);
      draw_key(static_cast<int>(i), x0 + pad + key_width / 2, cy, key_width);
      text(names[i], x0 + pad * 2 + key_width, cy, size, 0, 0.5);
    }
  }

  void write(const std::string& path) {
    cairo_surface_flush(surface_);
    cairo_status_t status = cairo_surface_write_to_png(surface_, path.c_str());
    NABLA_CHECK(status == CAIRO_STATUS_SUCCESS, "plot: cannot write PNG '", path,
                "': ", cairo_status_to_string(status));
  }

 private:
  // The centre of a pixel, so that one-pixel lines stay sharp.
  double snap(double v) const { return std::floor(v) + 0.5; }

  Figure figure_;
  cairo_surface_t* surface_;
  cairo_t* cr_;
  double scale_;
  double left_, right_, top_, bottom_;
  double x_lo_ = 0, x_hi_ = 1, y_lo_ = 0, y_hi_ = 1;
};

std::vector<std::string> tick_labels(const std::vector<double>& ticks) {
  double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  std::vector<std::string> labels;
  for (double t : ticks) labels.push_back(format_tick(t, step));
  return labels;
}

// A circle marker with a thin dark edge, as matplotlib's scatter(..., edgecolors="k").
void marker(cairo_t* cr, double x, double y, double radius, Rgb c, double scale) {
  cairo_new_path(cr);  // no line from whatever point the path was at
  cairo_arc(cr, x, y, radius, 0, 2 * M_PI);
  cairo_set_source_rgb(cr, c.r, c.g, c.b);
  cairo_fill_preserve(cr);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  cairo_set_line_width(cr, 0.8 * scale);
  cairo_stroke(cr);
}

// matplotlib pads the data range by 5% on each side; a flat range gets a unit span.
void pad_range(double& lo, double& hi) {
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(lo))) lo -= 0.5, hi += 0.5;
  const double m = 0.05 * (hi - lo);
  lo -= m, hi += m;
}

// Ticks of a log axis whose data span [lo, hi] in log10 units: whole powers of ten (every second
// or third on a wide span); with fewer than `min_powers` of them, round values placed on the log
// scale instead (a span of less than a decade).
void log_axis_ticks(double lo, double hi, size_t min_powers, std::vector<double>& ticks,
                    std::vector<std::string>& labels) {
  const int first = static_cast<int>(std::ceil(lo)), last = static_cast<int>(std::floor(hi));
  const int every = std::max(1, (last - first + 1 + 6) / 7);
  for (int p = first; p <= last; p += every) {
    ticks.push_back(p);
    labels.push_back(power_of_ten_label(p));
  }
  if (ticks.size() >= min_powers) return;
  ticks.clear();
  labels.clear();
  for (double t : nice_ticks(std::pow(10.0, lo), std::pow(10.0, hi), 4)) {
    if (t <= 0) continue;
    ticks.push_back(std::log10(t));
    labels.push_back(format_tick(t, t));
  }
}

}  // namespace

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
  std::vector<double> x_ticks = nice_ticks(x_lo, x_hi), y_ticks;
  std::vector<std::string> y_labels;
  if (plot.log_y) {
    log_axis_ticks(y_lo, y_hi, 1, y_ticks, y_labels);
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

  std::vector<std::string> names;
  for (const auto& s : plot.series) names.push_back(s.name);
  bool any_named = std::any_of(names.begin(), names.end(), [](auto& n) { return !n.empty(); });
  // The legend avoids the curves: sample every segment every few pixels.
  std::vector<std::pair<double, double>> drawn;
  for (const auto& s : plot.series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      double x1 = canvas.px(s.x[i]), y1 = canvas.py(plot.log_y ? std::log10(s.y[i]) : s.y[i]);
      if (i > 0) {
        auto [x0, y0] = drawn.back();
        int n = static_cast<int>(std::hypot(x1 - x0, y1 - y0) / 4);
        for (int k = 1; k < n; ++k)
          drawn.emplace_back(x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n);
      }
      drawn.emplace_back(x1, y1);
    }
  if (any_named)
    canvas.legend(names, drawn, [&](int i, double x, double y, double w) {
      Rgb c = colour_of(i);
      cairo_set_source_rgb(cr, c.r, c.g, c.b);
      cairo_set_line_width(cr, 1.5 * canvas.scale());
      cairo_move_to(cr, x - w / 2, y);
      cairo_line_to(cr, x + w / 2, y);
      cairo_stroke(cr);
    });
  canvas.write(path);
}

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

  std::vector<std::string> names = plot.class_names;
  for (int c = static_cast<int>(names.size()); c < num_classes; ++c)
    names.push_back("class " + std::to_string(c));
  std::vector<std::pair<double, double>> drawn;
  for (size_t k = 0; k < pts.x.size(); ++k)
    drawn.emplace_back(canvas.px(pts.x[k]), canvas.py(pts.y[k]));
  canvas.legend(names, drawn, [&](int i, double x, double y, double) {
    marker(cr, x, y, 4 * canvas.scale(), colour_of(i), canvas.scale());
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

  cairo_t* cr = canvas.cr();
  if (plot.grid) canvas.grid(x_ticks, y_ticks);
  canvas.clip_to_axes();
  const double radius = 4 * canvas.scale();
  std::vector<std::pair<double, double>> drawn;
  for (size_t k = 0; k < plot.series.size(); ++k) {
    const auto& s = plot.series[k];
    for (size_t i = 0; i < s.x.size(); ++i) {
      const double px = canvas.px(plot.log_x ? std::log10(s.x[i]) : s.x[i]);
      const double py = canvas.py(s.y[i]);
      marker(cr, px, py, radius, colour_of(static_cast<int>(k)), canvas.scale());
      drawn.emplace_back(px, py);
    }
  }
  canvas.unclip();
  canvas.decorate(x_ticks, x_labels, y_ticks, tick_labels(y_ticks));

  std::vector<std::string> names;
  for (const auto& s : plot.series) names.push_back(s.name);
  if (std::any_of(names.begin(), names.end(), [](const auto& n) { return !n.empty(); }))
    canvas.legend(names, drawn, [&](int i, double x, double y, double) {
      marker(cr, x, y, radius, colour_of(i), canvas.scale());
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

// The cairo canvas and the axis helpers that plot.cpp's line and scatter plots and
// plot_grids.cpp's decision-boundary and histogram figures share. Internal to nabla::plot.
#pragma once

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "nabla/error.h"
#include "nabla/io/plot.h"

namespace nabla::io::canvas_detail {

inline constexpr const char* kFont = "DejaVu Sans";  // matplotlib's default face

inline Rgb colour_of(int i) {
  return tab10()[static_cast<size_t>(i) % tab10().size()];
}

// `c` mixed with white: what matplotlib's alpha over a white background gives.
inline Rgb tint(Rgb c, double alpha) {
  return {1 - alpha * (1 - c.r), 1 - alpha * (1 - c.g), 1 - alpha * (1 - c.b)};
}

// Tick positions at 1, 2, 2.5 or 5 times a power of ten, about `target` of them in [lo, hi].
// `integer`: whole-number steps only (an epoch axis: 1, 2, 3, never 0.5 or 2.5).
inline std::vector<double> nice_ticks(double lo, double hi, int target = 6, bool integer = false) {
  double raw = (hi - lo) / target;
  if (integer) raw = std::max(raw, 1.0);
  double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude * 10;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * magnitude >= raw && (!integer || m * magnitude == std::round(m * magnitude))) {
      step = m * magnitude;
      break;
    }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

// matplotlib typesets negative numbers with a minus sign (U+2212), not a hyphen.
inline std::string with_unicode_minus(std::string s) {
  if (!s.empty() && s[0] == '-') s.replace(0, 1, "\u2212");
  return s;
}

// "10⁻³", as matplotlib labels a log axis.
inline std::string power_of_ten_label(int p) {
  static const char* superscript[] = {"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"};
  std::string digits = std::to_string(std::abs(p)), out = p < 0 ? "10⁻" : "10";
  for (char d : digits) out += superscript[d - '0'];
  return out;
}

// As few decimals as the step needs ("0.25", "0.50"; "200", "400").
inline std::string format_tick(double v, double step) {
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

// `text` in the current font, its ink centred on (cx, cy).
inline void show_centered(cairo_t* cr, const std::string& text, double cx, double cy) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, text.c_str(), &e);
  cairo_move_to(cr, cx - e.width / 2 - e.x_bearing, cy - e.height / 2 - e.y_bearing);
  cairo_show_text(cr, text.c_str());
}

// Where a legend box of w × h pixels goes on axes spanning left..right, top..bottom: the first
// corner (upper right, upper left, lower left, lower right, as matplotlib's loc="best" tries
// them) whose box, `gap` inside the axes and grown by `gap`, holds none of `obstacles` (the
// curves' pixels). When every corner would cover some, the legend goes outside, right of the
// axes, and `right` is where the axes must end to leave it room (`outside` true).
struct LegendPlace {
  double x = 0, y = 0, w = 0, h = 0;
  bool outside = false;
  double right = 0;  // the axes' right edge with this placement
};
inline LegendPlace place_legend(double left, double right, double top, double bottom,
                                double figure_width, double w, double h, double gap,
                                const std::vector<std::pair<double, double>>& obstacles) {
  for (auto [right_side, top_side] :
       {std::pair{true, true}, {false, true}, {false, false}, {true, false}}) {
    const double x = right_side ? right - w - gap : left + gap;
    const double y = top_side ? top + gap : bottom - h - gap;
    const bool covers = std::any_of(obstacles.begin(), obstacles.end(), [&](const auto& p) {
      return p.first >= x - gap && p.first <= x + w + gap && p.second >= y - gap &&
             p.second <= y + h + gap;
    });
    if (!covers) return {x, y, w, h, false, right};
  }
  const double new_right = std::min(right, figure_width - w - 3 * gap);
  return {new_right + 2 * gap, top, w, h, true, new_right};
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

  // Narrows the axes (a legend placed outside them, place_legend).
  void set_right(double right) { right_ = right; }
  double width() const { return figure_.width; }

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

  // The legend of `names` placed by place_legend around `obstacles` (pixel positions of the
  // data under the current limits); narrows the axes when it goes outside them. Call before
  // drawing the data, then draw_legend with the result.
  LegendPlace plan_legend(const std::vector<std::string>& names,
                          const std::vector<std::pair<double, double>>& obstacles) {
    const double size = 10, pad = 5 * scale_, key_width = 20 * scale_, row = 15 * scale_;
    double widest = 0;
    for (const auto& n : names) widest = std::max(widest, text_width(n, size));
    const LegendPlace place =
        place_legend(left_, right_, top_, bottom_, figure_.width, pad * 3 + key_width + widest,
                     pad * 2 + row * static_cast<double>(names.size()), 5 * scale_, obstacles);
    right_ = place.right;
    return place;
  }

  // `draw_key` draws each entry's sample centred at (x, y) within `width`.
  template <class DrawKey>
  void draw_legend(const std::vector<std::string>& names, const LegendPlace& place,
                   DrawKey draw_key) {
    const double size = 10, pad = 5 * scale_, key_width = 20 * scale_, row = 15 * scale_;
    const double r = 2 * scale_, x0 = place.x, y0 = place.y, w = place.w, h = place.h;
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

inline std::vector<std::string> tick_labels(const std::vector<double>& ticks) {
  double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  std::vector<std::string> labels;
  for (double t : ticks) labels.push_back(format_tick(t, step));
  return labels;
}

// A circle marker with a thin dark edge, as matplotlib's scatter(..., edgecolors="k").
inline void marker(cairo_t* cr, double x, double y, double radius, Rgb c, double scale) {
  cairo_new_path(cr);  // no line from whatever point the path was at
  cairo_arc(cr, x, y, radius, 0, 2 * M_PI);
  cairo_set_source_rgb(cr, c.r, c.g, c.b);
  cairo_fill_preserve(cr);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  cairo_set_line_width(cr, 0.8 * scale);
  cairo_stroke(cr);
}

// matplotlib pads the data range by 5% on each side; a flat range gets a unit span.
inline void pad_range(double& lo, double& hi) {
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(lo))) lo -= 0.5, hi += 0.5;
  const double m = 0.05 * (hi - lo);
  lo -= m, hi += m;
}

// Ticks of a log axis whose data span [lo, hi] in log10 units: whole powers of ten (every second
// or third on a wide span); with fewer than `min_powers` of them, 1, 2 and 5 times the powers
// (a span of a decade or two), else round values placed on the log scale (a narrower span).
inline void log_axis_ticks(double lo, double hi, size_t min_powers, std::vector<double>& ticks,
                           std::vector<std::string>& labels) {
  const int first = static_cast<int>(std::ceil(lo)), last = static_cast<int>(std::floor(hi));
  const int every = std::max(1, (last - first + 1 + 6) / 7);
  for (int p = first; p <= last; p += every) {
    ticks.push_back(p);
    labels.push_back(power_of_ten_label(p));
  }
  if (ticks.size() >= min_powers) return;
  // 1, 2 and 5 times each power of ten, as long as they give min_powers ticks.
  std::vector<double> subdivided;
  for (int p = static_cast<int>(std::floor(lo)); p <= last; ++p)
    for (double m : {1.0, 2.0, 5.0})
      if (const double t = p + std::log10(m); t >= lo - 1e-9 && t <= hi + 1e-9)
        subdivided.push_back(t);
  if (subdivided.size() >= min_powers) {
    ticks = subdivided;
    labels.clear();
    for (double t : ticks) {
      const double v = std::pow(10.0, t);
      labels.push_back(format_tick(v, std::pow(10.0, std::floor(t + 1e-9))));
    }
    return;
  }
  ticks.clear();
  labels.clear();
  for (double t : nice_ticks(std::pow(10.0, lo), std::pow(10.0, hi), 4)) {
    if (t <= 0) continue;
    ticks.push_back(std::log10(t));
    labels.push_back(format_tick(t, t));
  }
}

}  // namespace nabla::io::canvas_detail

// PNG figures drawn with cairo, styled after matplotlib's defaults (DejaVu Sans, the tab10
// colours, outward ticks, a 640 x 480 canvas like a 6.4 x 4.8 inch figure at 100 dpi).
//
// Two kinds, enough for the demos and training curves:
//   write_line_plot              series of (x, y) points with a legend (loss, accuracy curves)
//   write_decision_boundary_plot a 2-d classifier's predicted class as filled regions, with the
//                                labelled data points on top
// Not a plotting library: no subplots, no styles, no other formats. Errors (bad sizes, empty
// data, an unwritable path) throw nabla::Error.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace nabla::io {

struct Rgb {
  double r = 0, g = 0, b = 0;  // each in [0, 1]
};
// matplotlib's "tab10" palette; series and classes take its colours in order, cycling.
const std::vector<Rgb>& tab10();

// What every figure has.
struct Figure {
  int width = 640;  // pixels
  int height = 480;
  std::string title;
  std::string x_label;
  std::string y_label;
};

// One set of points (x[i], y[i]) of a line or scatter plot.
struct Series {
  std::string name;  // legend entry; the legend is drawn when any series has a name
  std::vector<double> x, y;
};

struct LinePlot {
  Figure figure;
  std::vector<Series> series;
  bool log_y = false;      // logarithmic y axis (requires every y > 0); suits loss curves
  bool grid = true;        // light grid lines at the ticks
  bool integer_x = false;  // x ticks at whole numbers only (epochs)
};

// requires: at least one series; each series has x.size() == y.size() >= 1.
void write_line_plot(const std::string& path, const LinePlot& plot);

// Points of a 2-d data set with integer class labels in [0, number of classes).
struct LabeledPoints {
  std::vector<double> x, y;
  std::vector<int> label;
};

// Predicts the class of each point (x[i], y[i]); called once with the whole grid, so that a
// model can evaluate it as one batch. Must return one class per point.
using ClassifyFn =
    std::function<std::vector<int>(const std::vector<double>& x, const std::vector<double>& y)>;

struct DecisionBoundaryPlot {
  Figure figure;
  double x_min = 0, x_max = 1, y_min = 0, y_max = 1;  // the plotted region
  int resolution = 300;                  // grid cells along x (y in proportion to the axes)
  std::vector<std::string> class_names;  // legend entries; empty means "class 0", "class 1", ...
  LabeledPoints points;
};

// requires: x_min < x_max, y_min < y_max, resolution >= 2.
void write_decision_boundary_plot(const std::string& path, const DecisionBoundaryPlot& plot,
                                  const ClassifyFn& classify);

// Points without lines, one marker colour per series (hyperparameter search: validation accuracy
// against a sampled value, as in CS231n's figures).
struct ScatterPlot {
  Figure figure;
  std::vector<Series> series;
  bool log_x = false;  // logarithmic x axis (requires every x > 0); suits learning rates
  bool grid = true;
};

// requires: at least one series with a point; each series has x.size() == y.size().
void write_scatter_plot(const std::string& path, const ScatterPlot& plot);

// Histograms in a grid of small panels, one per entry, as CS231n's per-layer activation
// histograms (train/diagnostics.h). figure.title goes above the grid, figure.x_label under each
// panel; figure.width and height are those of one panel (the whole image is columns × rows of
// them, plus the title).
struct HistogramPanel {
  std::string title;
  std::vector<double> values;  // non-finite values are left out of the counts
};
struct HistogramGrid {
  Figure figure{.width = 320, .height = 240, .title = "", .x_label = "", .y_label = ""};
  std::vector<HistogramPanel> panels;
  int bins = 50;
  int columns = 0;              // 0: up to 4 per row
  double x_min = 0, x_max = 0;  // a shared x range; x_min == x_max: each panel's own range
};
// requires: at least one panel, bins >= 1, x_min <= x_max.
void write_histogram_grid(const std::string& path, const HistogramGrid& plot);

}  // namespace nabla::io

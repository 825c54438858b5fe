// Pictures made of many small images (see include/nabla/io/image.h): the grid of first-layer
// filters and the labelled grid of misclassified images, composed pixel by pixel and titled with
// cairo.
#include <cairo.h>

#include <algorithm>
#include <cmath>

#include "nabla/error.h"
#include "nabla/io/image.h"
#include "plot/canvas.h"

namespace nabla::io {

using canvas_detail::kFont;
using canvas_detail::show_centered;

namespace {

// The gaps and frame of the filter grid: pale blue, which no gray tile has.
constexpr uint8_t kGap[3] = {0xc6, 0xdb, 0xef};

// An RGB cairo surface, white, on which pixels are set and text is drawn.
class Sheet {
 public:
  Sheet(int64_t width, int64_t height)
      : surface_(cairo_image_surface_create(CAIRO_FORMAT_RGB24, static_cast<int>(width),
                                            static_cast<int>(height))),
        cr_(cairo_create(surface_)) {
    cairo_set_source_rgb(cr_, 1, 1, 1);
    cairo_paint(cr_);
    cairo_surface_flush(surface_);
  }
  ~Sheet() {
    cairo_destroy(cr_);
    cairo_surface_destroy(surface_);
  }
  Sheet(const Sheet&) = delete;
  Sheet& operator=(const Sheet&) = delete;

  void fill(int64_t x, int64_t y, int64_t w, int64_t h, const uint8_t rgb[3]) {
    cairo_set_source_rgb(cr_, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
    cairo_rectangle(cr_, static_cast<double>(x), static_cast<double>(y), static_cast<double>(w),
                    static_cast<double>(h));
    cairo_fill(cr_);
    cairo_surface_flush(surface_);
  }
  // `image` enlarged `scale` times (nearest neighbour) with its top left at (x, y).
  void blit(const Image& image, int64_t x, int64_t y, int64_t scale) {
    cairo_surface_flush(surface_);
    unsigned char* data = cairo_image_surface_get_data(surface_);
    const int stride = cairo_image_surface_get_stride(surface_);
    for (int64_t py = 0; py < image.height * scale; ++py)
      for (int64_t px = 0; px < image.width * scale; ++px) {
        const int64_t sy = py / scale, sx = px / scale;
        const uint32_t r = image.at(sy, sx, 0), g = image.at(sy, sx, image.channels == 3 ? 1 : 0),
                       b = image.at(sy, sx, image.channels == 3 ? 2 : 0);
        auto* pixel = reinterpret_cast<uint32_t*>(data + (y + py) * stride) + x + px;
        *pixel = 0xff000000u | r << 16 | g << 8 | b;
      }
    cairo_surface_mark_dirty(surface_);
  }
  void centered_text(const std::string& text, double cx, double cy, double size, bool bold) {
    cairo_select_font_face(cr_, kFont, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr_, size);
    cairo_set_source_rgb(cr_, 0, 0, 0);
    show_centered(cr_, text, cx, cy);
    cairo_surface_flush(surface_);
  }
  void write(const std::string& path, const char* what) {
    const cairo_status_t status = cairo_surface_write_to_png(surface_, path.c_str());
    NABLA_CHECK(status == CAIRO_STATUS_SUCCESS, what, ": ", path, ": ",
                cairo_status_to_string(status));
  }

 private:
  cairo_surface_t* surface_;
  cairo_t* cr_;
};

constexpr int64_t kTitleBand = 32, kMargin = 8;

}  // namespace

// ---- filter grid ----

FilterGridLayout filter_grid_layout(const Shape& shape, const FilterGridOptions& options) {
  NABLA_CHECK(shape.size() == 4, "filter_grid: weight ", shape, " is not (OC, C, KH, KW)");
  NABLA_CHECK(options.padding >= 0 && options.scale >= 0, "filter_grid: padding ", options.padding,
              " and scale ", options.scale, " must be >= 0");
  const int64_t OC = shape[0], C = shape[1], KH = shape[2], KW = shape[3];
  NABLA_CHECK(OC >= 1 && C >= 1 && KH >= 1 && KW >= 1, "filter_grid: weight ", shape, " is empty");
  FilterGridLayout l;
  l.tiles = C == 3 ? OC : OC * C;
  l.columns = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(l.tiles))));
  l.rows = (l.tiles + l.columns - 1) / l.columns;
  const int64_t unscaled = l.columns * (KW + options.padding) - options.padding;
  l.scale = options.scale > 0 ? options.scale : std::max<int64_t>(4, kFilterGridWidth / unscaled);
  l.tile_height = KH * l.scale;
  l.tile_width = KW * l.scale;
  l.gap = options.padding * l.scale;
  return l;
}

Image filter_grid(const Tensor& weight, const FilterGridOptions& options) {
  NABLA_CHECK(weight.dim() == 4, "filter_grid: weight ", weight.shape(), " is not (OC, C, KH, KW)");
  const FilterGridLayout l = filter_grid_layout(weight.shape(), options);
  const int64_t KH = weight.size(2), KW = weight.size(3);
  const int64_t tile_channels = weight.size(1) == 3 ? 3 : 1, tile_values = tile_channels * KH * KW;
  const std::vector<double> w = weight.contiguous().to_vector();  // (tiles, tile_values) either way
  const int64_t pad = options.padding;
  Image grid = make_image(l.rows * KH + (l.rows - 1) * pad, l.columns * KW + (l.columns - 1) * pad,
                          tile_channels);
  std::fill(grid.pixels.begin(), grid.pixels.end(), options.background);
  for (int64_t t = 0; t < l.tiles; ++t) {
    const double* v = w.data() + t * tile_values;
    const auto [lo, hi] = std::minmax_element(v, v + tile_values);
    const double range = *hi - *lo;
    const int64_t top = (t / l.columns) * (KH + pad), left = (t % l.columns) * (KW + pad);
    for (int64_t c = 0; c < tile_channels; ++c)
      for (int64_t y = 0; y < KH; ++y)
        for (int64_t x = 0; x < KW; ++x) {
          const double value = v[(c * KH + y) * KW + x];
          const double scaled = range > 0 ? 255.0 * (value - *lo) / range : 127.5;
          grid.pixels[static_cast<size_t>(((top + y) * grid.width + left + x) * tile_channels +
                                          c)] = static_cast<uint8_t>(std::lround(scaled));
        }
  }
  if (l.scale == 1) return grid;
  // Nearest-neighbour enlargement keeps each weight a crisp square.
  Image big = make_image(grid.height * l.scale, grid.width * l.scale, tile_channels);
  for (int64_t y = 0; y < big.height; ++y)
    for (int64_t x = 0; x < big.width; ++x)
      for (int64_t c = 0; c < tile_channels; ++c)
        big.pixels[static_cast<size_t>((y * big.width + x) * tile_channels + c)] =
            grid.at(y / l.scale, x / l.scale, c);
  return big;
}

void write_filter_grid_png(const std::string& path, const Tensor& weight,
                           const FilterGridOptions& options) {
  const FilterGridLayout l = filter_grid_layout(weight.shape(), options);
  // Each tile separately, so that the gaps between them can take their own colour.
  FilterGridOptions one = options;
  one.scale = l.scale;
  const int64_t frame = std::max<int64_t>(l.gap, 2);
  const int64_t top = options.title.empty() ? kMargin : kTitleBand;
  const int64_t width = std::max<int64_t>(l.width() + 2 * frame + 2 * kMargin, 160);
  const int64_t left = (width - l.width()) / 2;
  Sheet sheet(width, top + l.height() + 2 * frame + kMargin);
  sheet.fill(left - frame, top, l.width() + 2 * frame, l.height() + 2 * frame, kGap);
  const Image grid = filter_grid(weight, one);
  for (int64_t t = 0; t < l.tiles; ++t) {
    const int64_t x = (t % l.columns) * (l.tile_width + l.gap),
                  y = (t / l.columns) * (l.tile_height + l.gap);
    Image tile = make_image(l.tile_height, l.tile_width, grid.channels);
    for (int64_t r = 0; r < l.tile_height; ++r)
      std::copy_n(grid.pixels.begin() + ((y + r) * grid.width + x) * grid.channels,
                  l.tile_width * grid.channels,
                  tile.pixels.begin() + r * tile.width * grid.channels);
    sheet.blit(tile, left + x, top + frame + y, 1);
  }
  if (!options.title.empty())
    sheet.centered_text(options.title, width / 2.0, kTitleBand / 2.0, 14, false);
  sheet.write(path, "write_filter_grid_png");
}

// ---- labelled image grid ----

void write_labeled_image_grid_png(const std::string& path, const std::vector<LabeledImage>& images,
                                  const ImageGridOptions& options) {
  NABLA_CHECK(!images.empty(), "write_labeled_image_grid_png: no images for ", path);
  NABLA_CHECK(options.columns >= 1 && options.tile >= 8, "write_labeled_image_grid_png: columns ",
              options.columns, " and tile ", options.tile, " must be >= 1 and >= 8");
  const auto n = static_cast<int64_t>(images.size());
  const int64_t columns = std::min(options.columns, n), rows = (n + columns - 1) / columns;
  const int64_t caption_lines = 2, line = 13, cell_w = std::max<int64_t>(options.tile, 110);
  const int64_t cell_h = options.tile + caption_lines * line + 10;
  const int64_t top = options.title.empty() ? kMargin : kTitleBand;
  const int64_t width = columns * cell_w + 2 * kMargin;
  Sheet sheet(width, top + rows * cell_h + kMargin);
  for (int64_t i = 0; i < n; ++i) {
    const Image& image = images[static_cast<size_t>(i)].image;
    NABLA_CHECK(
        image.height >= 1 && image.width >= 1 && (image.channels == 1 || image.channels == 3) &&
            image.pixels.size() == static_cast<size_t>(image.height * image.width * image.channels),
        "write_labeled_image_grid_png: image ", i, " is ", image.height, " x ", image.width, " x ",
        image.channels);
    const int64_t scale = std::max<int64_t>(1, options.tile / std::max(image.height, image.width));
    const int64_t cx = kMargin + (i % columns) * cell_w, cy = top + (i / columns) * cell_h;
    sheet.blit(image, cx + (cell_w - image.width * scale) / 2, cy, scale);
    const auto& caption = images[static_cast<size_t>(i)].caption;
    for (size_t k = 0; k < caption.size() && k < caption_lines; ++k)
      sheet.centered_text(caption[k], static_cast<double>(cx + cell_w / 2),
                          static_cast<double>(cy + options.tile + 4 + line * k + line / 2), 10,
                          k == 1);
  }
  if (!options.title.empty())
    sheet.centered_text(options.title, width / 2.0, kTitleBand / 2.0, 14, false);
  sheet.write(path, "write_labeled_image_grid_png");
}

}  // namespace nabla::io

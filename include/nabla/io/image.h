// 8-bit images in and out: PNG (through cairo), PGM (P2 text and P5 binary, by hand), and the two
// pictures training draws: a grid of convolution filters and a confusion-matrix heat map.
//
// An Image is gray (1 channel) or RGB (3), 8 bits per channel, rows top to bottom, channels
// interleaved per pixel (RGBRGB...), the layout of the files. to_planar() gives the (C, H, W)
// layout nabla's datasets and tensors use.
//
// Readers trust nothing in a file: every error is a nabla::Error naming the function, the path
// and, for PGM, the byte offset and what was expected there.
//
// Not here: 16-bit output, colour spaces, other formats (JPEG, ...), an alpha channel (PNG alpha
// is composited over black, the background of MNIST-style digits).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nabla/tensor.h"

namespace nabla::io {

struct Image {
  int64_t height = 0, width = 0, channels = 0;  // channels: 1 (gray) or 3 (RGB)
  std::vector<uint8_t> pixels;                  // height · width · channels, interleaved

  uint8_t at(int64_t y, int64_t x, int64_t c = 0) const {
    return pixels[static_cast<size_t>((y * width + x) * channels + c)];
  }
  // The pixels as (C, H, W), channel planes one after another.
  std::vector<uint8_t> to_planar() const;
  // (C, H, W) float32 with values in [0, 1] (pixel / 255).
  Tensor to_tensor() const;
};

// A blank (zero) image; throws unless height, width >= 1 and channels is 1 or 3.
Image make_image(int64_t height, int64_t width, int64_t channels);

// PNG of any kind cairo reads (gray, RGB, palette, with alpha). The result is gray when every
// pixel has r == g == b, RGB otherwise. The size in the IHDR header is checked against the file's
// size before cairo allocates the image: deflate expands at most 1032:1, so a file cannot hold
// more than 8 · 1032 pixels per byte (1-bit gray), and cairo reads at most 32767 × 32767.
Image read_png(const std::string& path);
void write_png(const std::string& path, const Image& image);

// PGM, "P2" (text) or "P5" (binary): the magic, width, height and maxval separated by whitespace,
// '#' comments allowed in the header, one whitespace byte, then the raster. maxval may be
// 1..65535 (P5 stores 2-byte big-endian samples above 255); values are rescaled to 0..255.
Image read_pgm(const std::string& path);
// requires: image.channels == 1. `binary`: P5, else P2 (at most 17 values a line).
void write_pgm(const std::string& path, const Image& image, bool binary = true);

// PNG or PGM, told apart by the first bytes of the file (not the name).
Image read_image(const std::string& path);
// The same from a file's bytes in memory; `name` stands for the path in error messages.
Image decode_image(std::string_view bytes, const std::string& name);

// Gray to RGB by copying, RGB to gray by ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B), as PIL's
// convert("L"). The same image when it already has `channels`.
Image convert_channels(const Image& image, int64_t channels);
// Bilinear resampling to height × width (pixel centres aligned, as OpenCV's INTER_LINEAR).
Image resize(const Image& image, int64_t height, int64_t width);

// CS231n's visualize_grid for first-layer filters: each filter is scaled on its own to [0, 255]
// (min to 0, max to 255; a constant filter is mid gray), the filters are tiled row-major in a
// ⌈√n⌉-wide grid with `padding` pixels of background between them, and the grid is enlarged
// `scale` times (nearest neighbour) so 5 × 5 filters stay visible.
//   weight (OC, C, KH, KW): with C == 3 each filter is an RGB tile; otherwise every (oc, c) pair
//   is a gray tile (OC·C of them, the channels of one filter side by side).
struct FilterGridOptions {
  int64_t padding = 1;  // background pixels between tiles, before scaling
  int64_t scale = 0;    // each weight becomes scale × scale pixels; 0: filter_grid_layout's
  uint8_t background = 0;
  std::string title{};  // write_filter_grid_png: a line above the grid ("" none)
};
// Where the tiles go: `columns` × `rows` tiles of tile_height × tile_width pixels, `gap` pixels
// apart (padding · scale). With options.scale 0 the scale is the largest that keeps the grid
// within kFilterGridWidth pixels, and at least 4, so 6 LeNet-5 filters of 5 × 5 come out about
// 300 pixels wide instead of a thumbnail.
inline constexpr int64_t kFilterGridWidth = 320;
struct FilterGridLayout {
  int64_t tiles = 0, columns = 0, rows = 0, scale = 1, tile_height = 0, tile_width = 0, gap = 0;
  int64_t width() const { return columns * tile_width + (columns - 1) * gap; }
  int64_t height() const { return rows * tile_height + (rows - 1) * gap; }
};
FilterGridLayout filter_grid_layout(const Shape& weight_shape, const FilterGridOptions& options);
Image filter_grid(const Tensor& weight, const FilterGridOptions& options = {});
// The grid as a figure: a white margin, the title above, and the gaps between tiles (and a frame)
// in a pale blue that no gray or dark filter pixel has, so a black pixel at a tile's edge never
// merges with its neighbour's.
void write_filter_grid_png(const std::string& path, const Tensor& weight,
                           const FilterGridOptions& options = {});

// Small labelled pictures in a grid (the misclassified test images of a run): each image scaled
// up to about `tile` pixels, its caption lines (one or two, "true T-shirt/top",
// "pred Shirt 87%") below it, and a title above. Gray and RGB images may be mixed.
struct LabeledImage {
  Image image;
  std::vector<std::string> caption;
};
struct ImageGridOptions {
  std::string title;
  int64_t columns = 8;
  int64_t tile = 84;  // pixels, the longer side of each enlarged image
};
// requires: at least one image, columns >= 1, tile >= 8.
void write_labeled_image_grid_png(const std::string& path, const std::vector<LabeledImage>& images,
                                  const ImageGridOptions& options = {});

// A K × K confusion matrix as a heat map: rows are the true classes, columns the predicted ones,
// each cell shaded by its share of its row (so the diagonal reads as per-class recall) and
// labelled with its count; class names label both axes.
//   requires: counts is K × K, K == class_names.size() >= 1, counts >= 0.
void write_confusion_matrix_png(const std::string& path,
                                const std::vector<std::vector<int64_t>>& counts,
                                const std::vector<std::string>& class_names,
                                const std::string& title = "Confusion matrix");

}  // namespace nabla::io

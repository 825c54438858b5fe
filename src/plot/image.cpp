// Image files and training's pictures (see include/nabla/io/image.h). PNG goes through cairo,
// which the plots already use; PGM is simple enough to parse here, strictly, with byte offsets in
// every error.
#include "nabla/io/image.h"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "nabla/error.h"
#include "plot/canvas.h"

namespace nabla::io {

using canvas_detail::show_centered;

// ---- Image ----

std::vector<uint8_t> Image::to_planar() const {
  std::vector<uint8_t> out(pixels.size());
  const int64_t plane = height * width;
  for (int64_t i = 0; i < plane; ++i)
    for (int64_t c = 0; c < channels; ++c)
      out[static_cast<size_t>(c * plane + i)] = pixels[static_cast<size_t>(i * channels + c)];
  return out;
}

Tensor Image::to_tensor() const {
  std::vector<uint8_t> planar = to_planar();
  std::vector<float> values(planar.begin(), planar.end());
  for (float& v : values) v /= 255.0f;
  return Tensor::from_vector(values, {channels, height, width});
}

Image make_image(int64_t height, int64_t width, int64_t channels) {
  NABLA_CHECK(height >= 1 && width >= 1, "image: size ", width, " x ", height,
              " is empty (width and height must be at least 1)");
  NABLA_CHECK(channels == 1 || channels == 3, "image: ", channels,
              " channels; expected 1 (gray) or 3 (RGB)");
  Image image{height, width, channels, {}};
  image.pixels.assign(static_cast<size_t>(height * width * channels), 0);
  return image;
}

namespace {

std::string read_whole_file(const char* what, const std::string& path) {
  std::error_code error;
  NABLA_CHECK(std::filesystem::exists(path, error), what, ": ", path,
              ": no such file --- check the path");
  NABLA_CHECK(!std::filesystem::is_directory(path, error), what, ": ", path,
              " is a directory, not an image file");
  std::ifstream in(path, std::ios::binary);
  NABLA_CHECK(in.good(), what, ": ", path, ": cannot open for reading");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// ---- PGM ----

// A cursor over a PGM file's bytes; every error names the path and the byte offset.
class PgmParser {
 public:
  PgmParser(std::string path, std::string bytes)
      : path_(std::move(path)), bytes_(std::move(bytes)) {}

  template <class... Parts>
  [[noreturn]] void fail(size_t offset, const Parts&... parts) const {
    detail::throw_error("read_pgm: ", path_, ": byte ", offset, ": ", parts...);
  }

  static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  }

  // Whitespace and '#' comments (to the end of the line).
  void skip_space_and_comments() {
    while (pos_ < bytes_.size()) {
      if (is_space(bytes_[pos_])) {
        ++pos_;
      } else if (bytes_[pos_] == '#') {
        while (pos_ < bytes_.size() && bytes_[pos_] != '\n' && bytes_[pos_] != '\r') ++pos_;
      } else {
        break;
      }
    }
  }

  std::string found() const {
    if (pos_ >= bytes_.size()) return "the end of the file";
    char c = bytes_[pos_];
    if (c >= 0x20 && c < 0x7f) return std::string("'") + c + "'";
    char hex[16];
    std::snprintf(hex, sizeof hex, "byte 0x%02x", static_cast<unsigned char>(c));
    return hex;
  }

  // A decimal number in [lo, hi], after optional whitespace and comments.
  int64_t number(const char* what, int64_t lo, int64_t hi) {
    skip_space_and_comments();
    const size_t start = pos_;
    if (pos_ >= bytes_.size() || bytes_[pos_] < '0' || bytes_[pos_] > '9')
      fail(pos_, "expected ", what, " (a decimal number), found ", found());
    int64_t value = 0;
    while (pos_ < bytes_.size() && bytes_[pos_] >= '0' && bytes_[pos_] <= '9') {
      value = value * 10 + (bytes_[pos_] - '0');
      if (value > hi) fail(start, what, " is larger than ", hi);
      ++pos_;
    }
    if (pos_ < bytes_.size() && !is_space(bytes_[pos_]) && bytes_[pos_] != '#')
      fail(pos_, "expected whitespace after ", what, ", found ", found());
    if (value < lo) fail(start, what, " ", value, " is below ", lo);
    return value;
  }

  Image parse() {
    if (bytes_.size() < 2 || bytes_[0] != 'P' || (bytes_[1] != '2' && bytes_[1] != '5'))
      fail(0, "expected the magic 'P2' or 'P5' of a PGM file, found '",
           bytes_.substr(0, std::min<size_t>(2, bytes_.size())), "'",
           bytes_.size() >= 2 && bytes_[0] == 'P' ? " (another Netpbm type; only gray PGM is read)"
                                                  : "");
    const bool binary = bytes_[1] == '5';
    pos_ = 2;
    if (pos_ < bytes_.size() && !is_space(bytes_[pos_]) && bytes_[pos_] != '#')
      fail(pos_, "expected whitespace after the magic, found ", found());
    const int64_t width = number("the width", 1, 1 << 24);
    const int64_t height = number("the height", 1, 1 << 24);
    const int64_t maxval = number("the maxval", 1, 65535);
    const int64_t count = width * height;
    const int64_t sample_bytes = maxval > 255 ? 2 : 1;
    Image image;

    if (binary) {
      // Exactly one whitespace byte separates the header from the raster (which may itself
      // start with bytes that look like whitespace).
      if (pos_ >= bytes_.size()) fail(pos_, "the file ends before the raster");
      ++pos_;
      const size_t need = static_cast<size_t>(count * sample_bytes);
      const size_t have = bytes_.size() - pos_;
      if (have < need)
        fail(pos_, "the raster of ", width, " x ", height, " pixels at maxval ", maxval, " needs ",
             need, " bytes but only ", have, " remain --- the file is truncated");
      if (have > need)
        fail(pos_ + need, have - need, " bytes follow the raster (expected the end of the file)");
      image = make_image(height, width, 1);
      const auto* raw = reinterpret_cast<const uint8_t*>(bytes_.data() + pos_);
      for (int64_t i = 0; i < count; ++i) {
        const int64_t v = sample_bytes == 2 ? (raw[2 * i] << 8) | raw[2 * i + 1] : raw[i];
        if (v > maxval)
          fail(pos_ + static_cast<size_t>(i * sample_bytes), "pixel ", i, " is ", v,
               ", above the maxval ", maxval);
        image.pixels[static_cast<size_t>(i)] = rescale(v, maxval);
      }
      return image;
    }

    // P2: each value needs at least one byte, so a header claiming more cannot be honest.
    if (count > static_cast<int64_t>(bytes_.size() - pos_))
      fail(pos_, "the header claims ", width, " x ", height, " pixels but only ",
           bytes_.size() - pos_, " bytes remain --- the file is truncated");
    image = make_image(height, width, 1);
    for (int64_t i = 0; i < count; ++i) {
      skip_space_and_comments();
      if (pos_ >= bytes_.size())
        fail(pos_, "the file ends after ", i, " of ", count, " pixels --- it is truncated");
      const size_t at = pos_;
      const int64_t v = number("a pixel value", 0, 65535);
      if (v > maxval) fail(at, "pixel ", i, " is ", v, ", above the maxval ", maxval);
      image.pixels[static_cast<size_t>(i)] = rescale(v, maxval);
    }
    skip_space_and_comments();
    if (pos_ < bytes_.size())
      fail(pos_, "expected the end of the file after ", count, " pixels, found ", found());
    return image;
  }

 private:
  static uint8_t rescale(int64_t v, int64_t maxval) {
    return static_cast<uint8_t>((v * 255 + maxval / 2) / maxval);
  }

  std::string path_, bytes_;
  size_t pos_ = 0;
};

// cairo's 32-bit pixels are native-endian 0xAARRGGBB words.
uint32_t pixel_word(const unsigned char* row, int x) {
  uint32_t word;
  std::copy_n(row + 4 * x, 4, reinterpret_cast<unsigned char*>(&word));
  return word;
}

}  // namespace

Image read_pgm(const std::string& path) {
  return PgmParser(path, read_whole_file("read_pgm", path)).parse();
}

void write_pgm(const std::string& path, const Image& image, bool binary) {
  NABLA_CHECK(image.channels == 1, "write_pgm: ", path, ": PGM holds gray images; this one has ",
              image.channels, " channels (convert_channels(image, 1) first)");
  NABLA_CHECK(image.pixels.size() == static_cast<size_t>(image.height * image.width),
              "write_pgm: ", path, ": ", image.pixels.size(), " pixels for ", image.width, " x ",
              image.height);
  std::ostringstream out;
  out << (binary ? "P5" : "P2") << "\n" << image.width << " " << image.height << "\n255\n";
  if (binary) {
    out.write(reinterpret_cast<const char*>(image.pixels.data()),
              static_cast<std::streamsize>(image.pixels.size()));
  } else {
    for (size_t i = 0; i < image.pixels.size(); ++i)
      out << static_cast<int>(image.pixels[i]) << ((i + 1) % 17 == 0 ? "\n" : " ");
    out << "\n";
  }
  std::ofstream file(path, std::ios::binary);
  NABLA_CHECK(file.good(), "write_pgm: ", path, ": cannot open for writing");
  const std::string bytes = out.str();
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  file.close();
  NABLA_CHECK(!file.fail(), "write_pgm: ", path, ": write failed (disk full?)");
}

namespace {

// Big-endian 32-bit word at `at`.
uint32_t be32(std::string_view bytes, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

struct PngSource {
  std::string_view bytes;
  size_t pos = 0;
};

cairo_status_t read_png_bytes(void* closure, unsigned char* out, unsigned int length) {
  auto* src = static_cast<PngSource*>(closure);
  if (length > src->bytes.size() - src->pos) return CAIRO_STATUS_READ_ERROR;
  std::copy_n(src->bytes.data() + src->pos, length, out);
  src->pos += length;
  return CAIRO_STATUS_SUCCESS;
}

Image decode_png(std::string_view bytes, const std::string& path) {
  NABLA_CHECK(bytes.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8), "read_png: ", path,
              ": byte 0: not a PNG file (no PNG signature)");
  // The first chunk is IHDR: length 13 at byte 8, "IHDR" at 12, width at 16, height at 20.
  // cairo allocates width · height · 4 bytes before it reads a row, so check the size first.
  NABLA_CHECK(bytes.size() >= 33 && bytes.substr(12, 4) == "IHDR", "read_png: ", path,
              ": byte 8: expected the IHDR chunk after the signature --- the file is truncated or "
              "not a PNG");
  const uint64_t width = be32(bytes, 16), height = be32(bytes, 20);
  constexpr uint64_t kMaxSide = 32767;  // cairo's limit
  constexpr uint64_t kPixelsPerByte = 8 * 1032;
  NABLA_CHECK(width >= 1 && height >= 1 && width <= kMaxSide && height <= kMaxSide,
              "read_png: ", path, ": byte 16: IHDR size ", width, " x ", height,
              " is outside 1 .. 32767 per side (what nabla reads)");
  NABLA_CHECK(width * height <= kPixelsPerByte * bytes.size(), "read_png: ", path,
              ": byte 16: IHDR size ", width, " x ", height, " is more pixels than a ",
              bytes.size(), "-byte PNG can hold (at most ", kPixelsPerByte,
              " a byte) --- the file is truncated or corrupt");
  PngSource source{bytes};
  cairo_surface_t* surface = cairo_image_surface_create_from_png_stream(read_png_bytes, &source);
  const cairo_status_t status = cairo_surface_status(surface);
  if (status != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(surface);
    detail::throw_error("read_png: ", path, ": ", cairo_status_to_string(status),
                        " --- the file is damaged or not a PNG cairo can read");
  }
  cairo_surface_flush(surface);
  const int w = cairo_image_surface_get_width(surface), h = cairo_image_surface_get_height(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  const cairo_format_t format = cairo_image_surface_get_format(surface);
  const unsigned char* data = cairo_image_surface_get_data(surface);
  Image rgb = make_image(h, w, 3);
  bool gray = true;
  for (int y = 0; y < h; ++y) {
    const unsigned char* row = data + static_cast<ptrdiff_t>(y) * stride;
    for (int x = 0; x < w; ++x) {
      uint8_t r, g, b;
      if (format == CAIRO_FORMAT_A8) {
        r = g = b = row[x];
      } else if (format == CAIRO_FORMAT_ARGB32 || format == CAIRO_FORMAT_RGB24) {
        // Premultiplied colour is the colour composited over black.
        const uint32_t word = pixel_word(row, x);
        r = (word >> 16) & 0xff, g = (word >> 8) & 0xff, b = word & 0xff;
      } else {
        cairo_surface_destroy(surface);
        detail::throw_error("read_png: ", path, ": unsupported pixel format ",
                            static_cast<int>(format));
      }
      uint8_t* out = &rgb.pixels[static_cast<size_t>((y * w + x) * 3)];
      out[0] = r, out[1] = g, out[2] = b;
      gray = gray && r == g && g == b;
    }
  }
  cairo_surface_destroy(surface);
  return gray ? convert_channels(rgb, 1) : rgb;
}

}  // namespace

Image read_png(const std::string& path) {
  return decode_png(read_whole_file("read_png", path), path);
}

void write_png(const std::string& path, const Image& image) {
  NABLA_CHECK(image.channels == 1 || image.channels == 3, "write_png: ", path, ": ", image.channels,
              " channels; expected 1 or 3");
  NABLA_CHECK(
      image.pixels.size() == static_cast<size_t>(image.height * image.width * image.channels),
      "write_png: ", path, ": ", image.pixels.size(), " values for ", image.width, " x ",
      image.height, " x ", image.channels);
  cairo_surface_t* surface = cairo_image_surface_create(
      CAIRO_FORMAT_RGB24, static_cast<int>(image.width), static_cast<int>(image.height));
  cairo_surface_flush(surface);
  unsigned char* data = cairo_image_surface_get_data(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  for (int64_t y = 0; y < image.height; ++y)
    for (int64_t x = 0; x < image.width; ++x) {
      const uint32_t r = image.at(y, x, 0);
      const uint32_t g = image.at(y, x, image.channels == 3 ? 1 : 0);
      const uint32_t b = image.at(y, x, image.channels == 3 ? 2 : 0);
      const uint32_t word = 0xff000000u | (r << 16) | (g << 8) | b;
      std::copy_n(reinterpret_cast<const unsigned char*>(&word), 4, data + y * stride + 4 * x);
    }
  cairo_surface_mark_dirty(surface);
  const cairo_status_t status = cairo_surface_write_to_png(surface, path.c_str());
  cairo_surface_destroy(surface);
  NABLA_CHECK(status == CAIRO_STATUS_SUCCESS, "write_png: ", path, ": ",
              cairo_status_to_string(status));
}

Image read_image(const std::string& path) {
  return decode_image(read_whole_file("read_image", path), path);
}

Image decode_image(std::string_view bytes, const std::string& name) {
  if (bytes.substr(0, 4) == "\x89PNG") return decode_png(bytes, name);
  if (bytes.size() >= 2 && bytes[0] == 'P' && (bytes[1] == '2' || bytes[1] == '5'))
    return PgmParser(name, std::string(bytes)).parse();
  detail::throw_error("read_image: ", name,
                      ": byte 0: neither a PNG nor a PGM (P2/P5) file; nabla reads those two");
}

Image convert_channels(const Image& image, int64_t channels) {
  NABLA_CHECK(channels == 1 || channels == 3, "convert_channels: ", channels,
              " channels; expected 1 or 3");
  if (image.channels == channels) return image;
  Image out = make_image(image.height, image.width, channels);
  const int64_t n = image.height * image.width;
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* in = &image.pixels[static_cast<size_t>(i * image.channels)];
    if (channels == 3) {
      std::fill_n(&out.pixels[static_cast<size_t>(i * 3)], 3, in[0]);
    } else {
      out.pixels[static_cast<size_t>(i)] =
          static_cast<uint8_t>(std::lround(0.299 * in[0] + 0.587 * in[1] + 0.114 * in[2]));
    }
  }
  return out;
}

Image resize(const Image& image, int64_t height, int64_t width) {
  Image out = make_image(height, width, image.channels);
  if (height == image.height && width == image.width) return image;
  // Source coordinate of an output pixel centre, clamped to the outermost source centres.
  auto source = [](int64_t o, int64_t in_size, int64_t out_size) {
    double s = (static_cast<double>(o) + 0.5) * static_cast<double>(in_size) /
                   static_cast<double>(out_size) -
               0.5;
    return std::clamp(s, 0.0, static_cast<double>(in_size - 1));
  };
  for (int64_t y = 0; y < height; ++y) {
    const double sy = source(y, image.height, height);
    const int64_t y0 = static_cast<int64_t>(sy), y1 = std::min(y0 + 1, image.height - 1);
    const double fy = sy - static_cast<double>(y0);
    for (int64_t x = 0; x < width; ++x) {
      const double sx = source(x, image.width, width);
      const int64_t x0 = static_cast<int64_t>(sx), x1 = std::min(x0 + 1, image.width - 1);
      const double fx = sx - static_cast<double>(x0);
      for (int64_t c = 0; c < image.channels; ++c) {
        const double top = image.at(y0, x0, c) * (1 - fx) + image.at(y0, x1, c) * fx;
        const double bottom = image.at(y1, x0, c) * (1 - fx) + image.at(y1, x1, c) * fx;
        out.pixels[static_cast<size_t>((y * width + x) * image.channels + c)] =
            static_cast<uint8_t>(std::lround(top * (1 - fy) + bottom * fy));
      }
    }
  }
  return out;
}

// ---- confusion matrix ----

namespace {

// matplotlib's "Blues" colour map at t in [0, 1].
void blues(double t, double& r, double& g, double& b) {
  static const unsigned stops[] = {0xf7fbff, 0xdeebf7, 0xc6dbef, 0x9ecae1, 0x6baed6,
                                   0x4292c6, 0x2171b5, 0x08519c, 0x08306b};
  t = std::clamp(t, 0.0, 1.0) * 8;
  const int i = std::min(static_cast<int>(t), 7);
  const double f = t - i;
  auto channel = [&](int shift) {
    const double a = ((stops[i] >> shift) & 0xff) / 255.0;
    const double z = ((stops[i + 1] >> shift) & 0xff) / 255.0;
    return a + (z - a) * f;
  };
  r = channel(16), g = channel(8), b = channel(0);
}

double text_width(cairo_t* cr, const std::string& text) {
  cairo_text_extents_t extents;
  cairo_text_extents(cr, text.c_str(), &extents);
  return extents.x_advance;
}

}  // namespace

void write_confusion_matrix_png(const std::string& path,
                                const std::vector<std::vector<int64_t>>& counts,
                                const std::vector<std::string>& class_names,
                                const std::string& title) {
  const size_t K = class_names.size();
  NABLA_CHECK(K >= 1 && counts.size() == K, "write_confusion_matrix_png: ", counts.size(),
              " rows for ", K, " class names");
  for (size_t i = 0; i < K; ++i) {
    NABLA_CHECK(counts[i].size() == K, "write_confusion_matrix_png: row ", i, " has ",
                counts[i].size(), " columns; expected ", K);
    for (int64_t c : counts[i])
      NABLA_CHECK(c >= 0, "write_confusion_matrix_png: negative count ", c, " in row ", i);
  }
  const double cell = K <= 12 ? 48 : std::max(16.0, 576.0 / static_cast<double>(K));
  const double label_font = 13, count_font = std::min(13.0, cell * 0.3);

  // Measure the class names first: they decide the margins.
  cairo_surface_t* probe = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t* pcr = cairo_create(probe);
  cairo_select_font_face(pcr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(pcr, label_font);
  double longest = 0;
  for (const std::string& name : class_names) longest = std::max(longest, text_width(pcr, name));
  cairo_destroy(pcr);
  cairo_surface_destroy(probe);

  const double grid = cell * static_cast<double>(K);
  const double left = longest + 48, top = 48;
  const double bottom = longest * std::sqrt(0.5) + 56, right = 24;
  const int width = static_cast<int>(std::ceil(left + grid + right));
  const int height = static_cast<int>(std::ceil(top + grid + bottom));
  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
  cairo_t* cr = cairo_create(surface);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

  for (size_t i = 0; i < K; ++i) {
    int64_t row_total = 0;
    for (int64_t c : counts[i]) row_total += c;
    for (size_t j = 0; j < K; ++j) {
      const double share =
          row_total > 0 ? static_cast<double>(counts[i][j]) / static_cast<double>(row_total) : 0;
      double r, g, b;
      blues(share, r, g, b);
      const double x = left + cell * static_cast<double>(j),
                   y = top + cell * static_cast<double>(i);
      cairo_set_source_rgb(cr, r, g, b);
      cairo_rectangle(cr, x, y, cell, cell);
      cairo_fill(cr);
      cairo_set_font_size(cr, count_font);
      const double ink = share > 0.5 ? 1.0 : 0.0;
      cairo_set_source_rgb(cr, ink, ink, ink);
      show_centered(cr, std::to_string(counts[i][j]), x + cell / 2, y + cell / 2);
    }
  }
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, left + 0.5, top + 0.5, grid - 1, grid - 1);
  cairo_stroke(cr);

  cairo_set_font_size(cr, label_font);
  for (size_t i = 0; i < K; ++i) {
    const double centre = cell * (static_cast<double>(i) + 0.5);
    // Row labels, right-aligned against the grid.
    const double w = text_width(cr, class_names[i]);
    cairo_move_to(cr, left - 6 - w, top + centre + label_font * 0.35);
    cairo_show_text(cr, class_names[i].c_str());
    // Column labels, turned 45 degrees so long names do not collide, ending under their column
    // (matplotlib's rotation=45, ha="right").
    cairo_save(cr);
    cairo_translate(cr, left + centre, top + grid + 8);
    cairo_rotate(cr, -std::acos(-1.0) / 4);
    cairo_move_to(cr, -text_width(cr, class_names[i]), label_font * 0.7);
    cairo_show_text(cr, class_names[i].c_str());
    cairo_restore(cr);
  }
  show_centered(cr, "predicted class", left + grid / 2, height - 14);
  cairo_save(cr);
  cairo_translate(cr, 14, top + grid / 2);
  cairo_rotate(cr, -std::acos(-1.0) / 2);
  show_centered(cr, "true class", 0, 0);
  cairo_restore(cr);
  cairo_set_font_size(cr, 16);
  show_centered(cr, title, left + grid / 2, top / 2);

  cairo_destroy(cr);
  const cairo_status_t status = cairo_surface_write_to_png(surface, path.c_str());
  cairo_surface_destroy(surface);
  NABLA_CHECK(status == CAIRO_STATUS_SUCCESS, "write_confusion_matrix_png: ", path, ": ",
              cairo_status_to_string(status));
}

}  // namespace nabla::io

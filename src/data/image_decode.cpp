// PNG through libpng, JPEG through libjpeg-turbo (data/image_folder.h).
//
// Both libraries report errors by longjmp out of their callbacks. Each decoder therefore keeps
// every C++ object it fills (the pixel vector, the row pointers) outside the frame that calls
// setjmp, and that frame only returns false: no destructor is skipped, and the message the
// library gave is turned into a nabla::Error by the caller.
#include <png.h>
// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>

#include <algorithm>
#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>

#include "nabla/data/image_folder.h"
#include "nabla/error.h"

namespace nabla::data {

namespace {

// More pixels than this is refused before allocating: a 16384 × 16384 photo fits.
constexpr int64_t kMaxPixels = int64_t{1} << 28;

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

// What a decoder hands back: interleaved pixels (file layout) and an error text when it failed.
struct Decoded {
  int64_t channels = 0, height = 0, width = 0;
  std::vector<uint8_t> interleaved;
  std::vector<uint8_t*> rows;
  char error[JMSG_LENGTH_MAX + 64] = "";
};

// ---- PNG ----

void png_fail(png_structp png, png_const_charp message) {
  auto* out = static_cast<Decoded*>(png_get_error_ptr(png));
  std::snprintf(out->error, sizeof out->error, "corrupt PNG (%s)", message);
  png_longjmp(png, 1);
}
void png_warn(png_structp, png_const_charp) {}  // e.g. unknown chunks: the pixels are intact

// Channels after the transforms: gray 1, gray + alpha 2, RGB 3, RGB + alpha 4.
bool decode_png(FILE* file, Decoded& out) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &out, png_fail, png_warn);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    std::snprintf(out.error, sizeof out.error, "out of memory starting libpng");
    png_destroy_read_struct(&png, nullptr, nullptr);
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_init_io(png, file);
  png_read_info(png, info);
  png_set_expand(png);  // palette to RGB, 1/2/4-bit gray to 8, tRNS to alpha
  png_set_strip_16(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  out.width = png_get_image_width(png, info);
  out.height = png_get_image_height(png, info);
  out.channels = png_get_channels(png, info);
  if (out.width * out.height <= kMaxPixels) {
    out.interleaved.resize(static_cast<size_t>(out.width * out.height * out.channels));
    out.rows.resize(static_cast<size_t>(out.height));
    for (int64_t y = 0; y < out.height; ++y)
      out.rows[y] = &out.interleaved[static_cast<size_t>(y * out.width * out.channels)];
    png_read_image(png, out.rows.data());
    png_read_end(png, nullptr);
  }
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

// ---- JPEG ----

struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  Decoded* out;
};

void jpeg_fail(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  char message[JMSG_LENGTH_MAX];
  err->mgr.format_message(cinfo, message);
  std::snprintf(err->out->error, sizeof err->out->error, "corrupt JPEG (%s)", message);
  std::longjmp(err->jump, 1);
}

// libjpeg only warns about corrupt data (a truncated file decodes to gray rows): such an image
// is not the one in the file, so the first warning fails the decode.
void jpeg_message(j_common_ptr cinfo, int level) {
  if (level < 0) jpeg_fail(cinfo);
}

bool decode_jpeg(FILE* file, Decoded& out) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_fail;
  err.mgr.emit_message = jpeg_message;
  err.out = &out;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_stdio_src(&cinfo, file);
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.num_components != 1 && cinfo.num_components != 3) {
    std::snprintf(out.error, sizeof out.error,
                  "JPEG with %d colour components (CMYK?); only gray and RGB are read",
                  cinfo.num_components);
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  out.width = cinfo.image_width;
  out.height = cinfo.image_height;
  out.channels = cinfo.num_components;
  if (out.width * out.height <= kMaxPixels) {
    jpeg_start_decompress(&cinfo);
    out.interleaved.resize(static_cast<size_t>(out.width * out.height * out.channels));
    while (cinfo.output_scanline < cinfo.output_height) {
      JSAMPROW row = &out.interleaved[static_cast<size_t>(cinfo.output_scanline) *
                                      static_cast<size_t>(out.width * out.channels)];
      jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
  }
  jpeg_destroy_decompress(&cinfo);
  return true;
}

// Alpha composited over black, gray kept gray, RGB with r == g == b everywhere made gray.
PlanarImage to_planar(const Decoded& d) {
  const int64_t n = d.height * d.width;
  const bool alpha = d.channels == 2 || d.channels == 4;
  const int64_t colours = alpha ? d.channels - 1 : d.channels;
  bool gray = colours == 1;
  if (!gray) {
    gray = true;
    for (int64_t i = 0; i < n && gray; ++i) {
      const uint8_t* p = &d.interleaved[static_cast<size_t>(i * d.channels)];
      gray = p[0] == p[1] && p[1] == p[2];
    }
  }
  PlanarImage image{gray ? 1 : 3, d.height, d.width, {}};
  image.pixels.resize(static_cast<size_t>(image.channels * n));
  for (int64_t c = 0; c < image.channels; ++c)
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t* p = &d.interleaved[static_cast<size_t>(i * d.channels)];
      const int v = p[c];
      image.pixels[static_cast<size_t>(c * n + i)] =
          alpha ? static_cast<uint8_t>((v * p[colours] + 127) / 255) : static_cast<uint8_t>(v);
    }
  return image;
}

Decoded decode(const std::string& path) {
  File file(std::fopen(path.c_str(), "rb"));
  NABLA_CHECK(file, path, ": cannot open (", std::strerror(errno), ")");
  unsigned char magic[8] = {};
  const size_t got = std::fread(magic, 1, sizeof magic, file.get());
  std::rewind(file.get());
  Decoded out;
  bool ok;
  if (got == 8 && png_sig_cmp(magic, 0, 8) == 0) {
    ok = decode_png(file.get(), out);
  } else if (got >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF) {
    ok = decode_jpeg(file.get(), out);
  } else {
    detail::throw_error(path, ": not a PNG or JPEG file (", got, " bytes read; ",
                        "neither PNG's signature nor JPEG's 0xFF 0xD8 0xFF starts it)");
  }
  NABLA_CHECK(ok, path, ": ", out.error);
  NABLA_CHECK(out.width * out.height <= kMaxPixels, path, ": ", out.width, " x ", out.height,
              " pixels is more than nabla reads (", kMaxPixels, ")");
  return out;
}

}  // namespace

PlanarImage read_image_file(const std::string& path) {
  return to_planar(decode(path));
}

}  // namespace nabla::data

// Writers for the PNG and JPEG files the image-folder tests build: libpng and libjpeg used
// directly, so the files are what other tools write (8-bit gray or RGB, or RGBA for PNG).
#pragma once

#include <gtest/gtest.h>
#include <png.h>
// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace nabla::testing {

// `pixels`: height rows of width · channels interleaved values; channels 1 (gray), 3 (RGB) or
// 4 (RGBA).
inline void write_png_file(const std::string& path, int width, int height, int channels,
                           const std::vector<uint8_t>& pixels) {
  ASSERT_EQ(pixels.size(), static_cast<size_t>(width * height * channels));
  FILE* file = std::fopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_init_io(png, file);
  const int type = channels == 1   ? PNG_COLOR_TYPE_GRAY
                   : channels == 3 ? PNG_COLOR_TYPE_RGB
                                   : PNG_COLOR_TYPE_RGB_ALPHA;
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8,
               type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < height; ++y)
    png_write_row(png, &pixels[static_cast<size_t>(y * width * channels)]);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  std::fclose(file);
}

// channels 1 (gray) or 3 (RGB); quality 100 keeps values within a few levels.
inline void write_jpeg_file(const std::string& path, int width, int height, int channels,
                            const std::vector<uint8_t>& pixels, int quality = 100) {
  ASSERT_EQ(pixels.size(), static_cast<size_t>(width * height * channels));
  FILE* file = std::fopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  jpeg_compress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, file);
  cinfo.image_width = static_cast<JDIMENSION>(width);
  cinfo.image_height = static_cast<JDIMENSION>(height);
  cinfo.input_components = channels;
  cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    auto* row = const_cast<JSAMPROW>(
        &pixels[static_cast<size_t>(cinfo.next_scanline) * static_cast<size_t>(width * channels)]);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::fclose(file);
}

// A flat image: every pixel `value` (every channel).
inline std::vector<uint8_t> flat(int width, int height, int channels, uint8_t value) {
  return std::vector<uint8_t>(static_cast<size_t>(width * height * channels), value);
}

}  // namespace nabla::testing

// Image files (PGM by hand, PNG through cairo) and the pictures training writes.
#include "nabla/io/image.h"

#include <gtest/gtest.h>

#include "data/temp_dir.h"
#include "test_util.h"

namespace nabla::io {
namespace {

using nabla::testing::error_message;

using nabla::testing::TempDir;
using nabla::testing::write_bytes;
using nabla::testing::write_text;

Image gradient_image(int64_t h, int64_t w, int64_t channels) {
  Image img = make_image(h, w, channels);
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<uint8_t>(i * 7 % 256);
  return img;
}

TEST(Pgm, BinaryAndTextRoundTrip) {
  TempDir dir;
  const Image img = gradient_image(5, 7, 1);
  for (bool binary : {true, false}) {
    write_pgm(dir.file("a.pgm"), img, binary);
    const Image back = read_pgm(dir.file("a.pgm"));
    EXPECT_EQ(back.height, 5);
    EXPECT_EQ(back.width, 7);
    EXPECT_EQ(back.pixels, img.pixels) << (binary ? "P5" : "P2");
  }
}

TEST(Pgm, ReadsCommentsAndRescalesMaxval) {
  TempDir dir;
  write_text(dir.file("c.pgm"), "P2\n# made by hand\n3 1 # width height\n15\n0 15 # end\n  7\n");
  const Image img = read_pgm(dir.file("c.pgm"));
  EXPECT_EQ(img.pixels, (std::vector<uint8_t>{0, 255, 119}));  // 7·255/15 = 119
  // 16-bit P5: big-endian samples.
  write_bytes(dir.file("d.pgm"), {'P', '5', ' ', '2', ' ', '1', ' ', '6', '5', '5', '3', '5', '\n',
                                  0xff, 0xff, 0x80, 0x00});
  EXPECT_EQ(read_pgm(dir.file("d.pgm")).pixels, (std::vector<uint8_t>{255, 128}));
}

TEST(Pgm, ErrorsNameTheFileAndTheByteOffset) {
  TempDir dir;
  const std::string path = dir.file("bad.pgm");
  write_text(path, "P6\n1 1\n255\nabc");
  EXPECT_NE(error_message([&] { read_pgm(path); }).find("byte 0: expected the magic 'P2' or 'P5'"),
            std::string::npos);
  write_text(path, "P5\n4 x\n255\n");
  const std::string bad_height = error_message([&] { read_pgm(path); });
  EXPECT_NE(bad_height.find(path), std::string::npos) << bad_height;
  EXPECT_NE(bad_height.find("byte 5: expected the height"), std::string::npos) << bad_height;
  write_text(path, "P5\n4 4\n255\nabc");
  EXPECT_NE(error_message([&] { read_pgm(path); }).find("byte 11: the raster of 4 x 4 pixels"),
            std::string::npos);
  write_text(path, "P2\n2 1\n10\n3 11\n");
  EXPECT_NE(
      error_message([&] { read_pgm(path); }).find("byte 12: pixel 1 is 11, above the maxval 10"),
      std::string::npos);
  write_text(path, "P2\n2 1\n10\n3\n");
  EXPECT_NE(error_message([&] { read_pgm(path); }).find("ends after 1 of 2 pixels"),
            std::string::npos);
  write_text(path, "P5\n0 1\n255\n");
  EXPECT_NE(error_message([&] { read_pgm(path); }).find("the width 0 is below 1"),
            std::string::npos);
  EXPECT_NE(error_message([&] { read_pgm(dir.file("none.pgm")); }).find("no such file"),
            std::string::npos);
  EXPECT_THROW(write_pgm(dir.file("rgb.pgm"), gradient_image(2, 2, 3)), Error);
}

TEST(Png, GrayAndRgbRoundTripAndReadImageTellsFormatsApart) {
  TempDir dir;
  const Image gray = gradient_image(6, 9, 1), rgb = gradient_image(4, 3, 3);
  write_png(dir.file("g.png"), gray);
  write_png(dir.file("c.png"), rgb);
  const Image g = read_png(dir.file("g.png")), c = read_image(dir.file("c.png"));
  EXPECT_EQ(g.channels, 1);
  EXPECT_EQ(g.pixels, gray.pixels);
  EXPECT_EQ(c.channels, 3);
  EXPECT_EQ(c.pixels, rgb.pixels);

  write_pgm(dir.file("p.png"), gray);  // a PGM under a misleading name
  EXPECT_EQ(read_image(dir.file("p.png")).pixels, gray.pixels);
  write_text(dir.file("t.png"), "hello");
  EXPECT_NE(error_message([&] { read_png(dir.file("t.png")); }).find("not a PNG file"),
            std::string::npos);
  EXPECT_NE(error_message([&] { read_image(dir.file("t.png")); }).find("neither a PNG nor a PGM"),
            std::string::npos);
}

TEST(Image, PlanarTensorConversionAndResizing) {
  Image rgb = make_image(1, 2, 3);
  rgb.pixels = {255, 0, 0, 0, 255, 51};
  EXPECT_EQ(rgb.to_planar(), (std::vector<uint8_t>{255, 0, 0, 255, 0, 51}));
  const Tensor t = rgb.to_tensor();
  EXPECT_EQ(t.shape(), Shape({3, 1, 2}));
  EXPECT_FLOAT_EQ(static_cast<float>(t.at({2, 0, 1})), 0.2f);
  EXPECT_EQ(convert_channels(rgb, 1).pixels, (std::vector<uint8_t>{76, 155}));  // 601 luma

  Image two = make_image(1, 2, 1);
  two.pixels = {0, 200};
  const Image wide = resize(two, 1, 4);
  EXPECT_EQ(wide.pixels, (std::vector<uint8_t>{0, 50, 150, 200}));
  EXPECT_EQ(resize(wide, 1, 2).pixels, (std::vector<uint8_t>{25, 175}))
      << "halving averages neighbouring pairs";
  EXPECT_THROW(make_image(0, 3, 1), Error);
  EXPECT_THROW(make_image(2, 3, 2), Error);
}

TEST(FilterGrid, EachFilterIsStretchedToTheFullRangeAndTiled) {
  // 5 filters of 1 × 2 × 2: a grid 3 wide and 2 high.
  std::vector<float> w;
  for (int f = 0; f < 5; ++f)
    for (int k = 0; k < 4; ++k) w.push_back(f == 4 ? 0.5f : static_cast<float>((f + 1) * k));
  const Tensor weight = Tensor::from_vector(w, {5, 1, 2, 2});
  const Image grid = filter_grid(weight, {.padding = 1, .scale = 1, .background = 9});
  EXPECT_EQ(grid.channels, 1);
  EXPECT_EQ(grid.height, 2 * 2 + 1);
  EXPECT_EQ(grid.width, 3 * 2 + 2);
  // Filter 1 (second tile): values 0, 2, 4, 6 -> 0, 85, 170, 255, whatever its own scale.
  EXPECT_EQ(grid.at(0, 3), 0);
  EXPECT_EQ(grid.at(0, 4), 85);
  EXPECT_EQ(grid.at(1, 3), 170);
  EXPECT_EQ(grid.at(1, 4), 255);
  EXPECT_EQ(grid.at(0, 2), 9) << "padding column";
  EXPECT_EQ(grid.at(4, 4), 128) << "a constant filter is mid gray";
  EXPECT_EQ(grid.at(4, 7), 9) << "the unused sixth cell stays background";

  const Image big = filter_grid(weight, {.padding = 1, .scale = 4});
  EXPECT_EQ(big.height, grid.height * 4);
  EXPECT_EQ(big.at(5, 13), grid.at(1, 3));

  const Tensor rgb = Tensor::from_vector(std::vector<float>(2 * 3 * 3 * 3, 1.0f), {2, 3, 3, 3});
  EXPECT_EQ(filter_grid(rgb).channels, 3);
  EXPECT_THROW(filter_grid(Tensor::zeros({2, 3})), Error);
}

TEST(ConfusionPng, WritesAReadablePictureSizedByTheClasses) {
  TempDir dir;
  const std::vector<std::vector<int64_t>> counts = {{5, 1, 0}, {2, 7, 1}, {0, 0, 9}};
  write_confusion_matrix_png(dir.file("cm.png"), counts, {"cat", "dog", "a long class name"});
  const Image img = read_png(dir.file("cm.png"));
  EXPECT_GT(img.width, 3 * 40);
  EXPECT_GT(img.height, 3 * 40);
  EXPECT_EQ(img.channels, 3) << "the cells are shaded blue";
  EXPECT_THROW(write_confusion_matrix_png(dir.file("x.png"), counts, {"a", "b"}), Error);
  EXPECT_THROW(write_confusion_matrix_png(dir.file("x.png"), {{1, -1}, {0, 0}}, {"a", "b"}), Error);
  EXPECT_THROW(write_confusion_matrix_png(dir.file("no/such/dir/x.png"), counts, {"a", "b", "c"}),
               Error);
}

}  // namespace
}  // namespace nabla::io

// Image folders: PNG and JPEG files the test writes (gray and RGB, several sizes, corrupt ones),
// the class names, the shape rule, the resize rule, skip_bad_images; and the CSV label column.
#include "nabla/data/image_folder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "data/image_files.h"
#include "data/temp_dir.h"
#include "nabla/data/datasets.h"
#include "nabla/error.h"
#include "test_util.h"

namespace nabla::data {
namespace {

using nabla::testing::error_message;
using nabla::testing::flat;
using nabla::testing::TempDir;
using nabla::testing::write_jpeg_file;
using nabla::testing::write_png_file;
using nabla::testing::write_text;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace fs = std::filesystem;

PlanarImage gray(int64_t h, int64_t w, std::vector<uint8_t> pixels) {
  return PlanarImage{1, h, w, std::move(pixels)};
}

// Three classes written out of order, 8 images each (24): gray and RGB PNGs of 8 × 8, RGB JPEGs
// of 12 × 10 (r = g = b: they decode gray), gray JPEGs of 6 × 6; the class's value v (bird 40,
// cat 120, dog 200) fills each, but the RGB PNGs' blue is 255 - v.
// Plus a text file, which is not an image and is ignored.
void write_folder(const std::string& dir) {
  const std::vector<std::pair<std::string, uint8_t>> classes = {
      {"dog", 200}, {"bird", 40}, {"cat", 120}};
  for (const auto& [name, v] : classes) {
    const std::string d = dir + "/" + name;
    fs::create_directories(d);
    for (int i = 0; i < 2; ++i) {
      const std::string n = std::to_string(i);
      write_png_file(d + "/gray" + n + ".png", 8, 8, 1, flat(8, 8, 1, v));
      std::vector<uint8_t> rgb = flat(8, 8, 3, v);  // blue 255 - v: a colour image
      for (size_t k = 2; k < rgb.size(); k += 3) rgb[k] = static_cast<uint8_t>(255 - v);
      write_png_file(d + "/rgb" + n + ".PNG", 8, 8, 3, rgb);
      write_jpeg_file(d + "/photo" + n + ".jpg", 12, 10, 3, flat(12, 10, 3, v));
      write_jpeg_file(d + "/scan" + n + ".jpeg", 6, 6, 1, flat(6, 6, 1, v));
    }
    write_text(d + "/notes.txt", "not an image");
  }
}

TEST(ImageDecode, PngAndJpegReadBackGrayAndRgbAsPlanes) {
  TempDir dir;
  // A gray gradient, and an RGB image whose channels differ: (C, H, W) planes come back.
  std::vector<uint8_t> g(6);
  for (int i = 0; i < 6; ++i) g[i] = static_cast<uint8_t>(40 * i);
  write_png_file(dir.file("g.png"), 3, 2, 1, g);
  const PlanarImage pg = read_image_file(dir.file("g.png"));
  EXPECT_EQ(pg.channels, 1);
  EXPECT_EQ(pg.height, 2);
  EXPECT_EQ(pg.width, 3);
  EXPECT_EQ(pg.pixels, g);
  write_png_file(dir.file("rgb.png"), 2, 1, 3, {10, 20, 30, 40, 50, 60});
  EXPECT_THAT(read_image_file(dir.file("rgb.png")).pixels, ElementsAre(10, 40, 20, 50, 30, 60));
  // RGB with r == g == b everywhere is gray; alpha is composited over black.
  write_png_file(dir.file("grayish.png"), 2, 1, 3, {7, 7, 7, 9, 9, 9});
  EXPECT_EQ(read_image_file(dir.file("grayish.png")).channels, 1);
  write_png_file(dir.file("alpha.png"), 2, 1, 4, {200, 200, 200, 255, 200, 200, 200, 0});
  EXPECT_THAT(read_image_file(dir.file("alpha.png")).pixels, ElementsAre(200, 0));
  // JPEG is lossy: a flat image comes back within a level or two.
  write_jpeg_file(dir.file("c.jpg"), 16, 8, 3, flat(16, 8, 3, 90));
  const PlanarImage pj = read_image_file(dir.file("c.jpg"));
  EXPECT_EQ(pj.channels, 1) << "a flat colour JPEG of r == g == b decodes gray";
  EXPECT_EQ(pj.width, 16);
  EXPECT_EQ(pj.height, 8);
  for (uint8_t p : pj.pixels) EXPECT_NEAR(p, 90, 2);
  std::vector<uint8_t> red = flat(4, 4, 3, 0);
  for (size_t i = 0; i < red.size(); i += 3) red[i] = 250;
  write_jpeg_file(dir.file("red.jpg"), 4, 4, 3, red);
  const PlanarImage pr = read_image_file(dir.file("red.jpg"));
  ASSERT_EQ(pr.channels, 3);
  EXPECT_NEAR(pr.pixels[0], 250, 4);  // red plane
  EXPECT_NEAR(pr.pixels[16], 0, 4);   // green plane
}

TEST(ImageDecode, BadFilesAreNamedWithWhatIsWrong) {
  TempDir dir;
  write_png_file(dir.file("ok.png"), 8, 8, 1, flat(8, 8, 1, 1));
  std::string png = testing::read_file(dir.file("ok.png"));
  write_text(dir.file("cut.png"), png.substr(0, png.size() / 2));
  EXPECT_THAT(error_message([&] { read_image_file(dir.file("cut.png")); }),
              AllOf(HasSubstr(dir.file("cut.png")), HasSubstr("corrupt PNG")));
  png[40] = static_cast<char>(png[40] ^ 0x55);  // inside the IDAT chunk: its CRC fails
  write_text(dir.file("flipped.png"), png);
  EXPECT_THAT(error_message([&] { read_image_file(dir.file("flipped.png")); }),
              AllOf(HasSubstr(dir.file("flipped.png")), HasSubstr("corrupt PNG")));
  write_jpeg_file(dir.file("ok.jpg"), 32, 32, 3, flat(32, 32, 3, 50));
  const std::string jpg = testing::read_file(dir.file("ok.jpg"));
  write_text(dir.file("cut.jpg"), jpg.substr(0, jpg.size() * 2 / 3));
  EXPECT_THAT(error_message([&] { read_image_file(dir.file("cut.jpg")); }),
              AllOf(HasSubstr(dir.file("cut.jpg")), HasSubstr("corrupt JPEG")));
  write_text(dir.file("text.png"), "hello, not a picture");
  EXPECT_THAT(error_message([&] { read_image_file(dir.file("text.png")); }),
              AllOf(HasSubstr(dir.file("text.png")), HasSubstr("not a PNG or JPEG file")));
  EXPECT_THAT(error_message([&] { read_image_file(dir.file("missing.png")); }),
              AllOf(HasSubstr(dir.file("missing.png")), HasSubstr("cannot open")));
}

TEST(FitImage, ShrinkingAveragesTheCoveredAreaGrowingInterpolatesCentres) {
  // 4 × 4 to 2 × 2: each output pixel is the mean of a 2 × 2 block.
  const PlanarImage big = gray(4, 4,
                               {0, 10, 100, 110,   //
                                20, 30, 120, 130,  //
                                0, 0, 200, 200,    //
                                0, 4, 200, 200});
  EXPECT_THAT(fit_image(big, Shape{1, 2, 2}).pixels, ElementsAre(15, 115, 1, 200));
  // 3 to 2 pixels: output 0 covers source [0, 1.5): (60 + 0.5 · 90) / 1.5 = 70.
  EXPECT_THAT(fit_image(gray(1, 3, {60, 90, 30}), Shape{1, 1, 2}).pixels, ElementsAre(70, 50));
  // 2 to 4 pixels: centres at -0.25, 0.25, 0.75, 1.25 of the source, clamped at the ends.
  EXPECT_THAT(fit_image(gray(1, 2, {0, 100}), Shape{1, 1, 4}).pixels, ElementsAre(0, 25, 75, 100));
  // The same size is a copy.
  EXPECT_EQ(fit_image(big, Shape{1, 4, 4}).pixels, big.pixels);
}

TEST(FitImage, ChannelsConvertByCopyOrLuma) {
  EXPECT_THAT(fit_image(gray(1, 1, {77}), Shape{3, 1, 1}).pixels, ElementsAre(77, 77, 77));
  // 0.299 · 200 + 0.587 · 100 + 0.114 · 50 = 124.2
  const PlanarImage rgb{3, 1, 1, {200, 100, 50}};
  EXPECT_THAT(fit_image(rgb, Shape{1, 1, 1}).pixels, ElementsAre(124));
  EXPECT_THAT(error_message([&] { fit_image(rgb, Shape{2, 1, 1}); }), HasSubstr("(C, H, W)"));
}

TEST(ImageFolder, ClassesAreSortedFolderNamesAndTheShapeFollowsTheRule) {
  TempDir dir;
  write_folder(dir.file("pets"));
  const Dataset d = load_image_folder(dir.file("pets"));
  EXPECT_THAT(d.class_names(), ElementsAre("bird", "cat", "dog"));
  ASSERT_EQ(d.size(), 24);
  // 8 × 8 is the most common size (12 of 24); one RGB image makes every sample RGB.
  EXPECT_EQ(d.sample_shape(), (Shape{3, 8, 8}));
  const std::vector<uint8_t> value = {40, 120, 200};
  for (int64_t i = 0; i < d.size(); ++i) {
    EXPECT_EQ(d.label(i), i / 8) << "class folders in sorted order, each file once";
    // Red and green planes hold v whatever the file; blue too, except in the RGB PNGs.
    const bool rgb_png = i % 8 == 4 || i % 8 == 5;  // files sorted: gray, photo, rgb, scan
    for (int64_t k = 0; k < 3 * 64; ++k)
      EXPECT_NEAR(d.uint8_sample(i)[k],
                  k >= 128 && rgb_png ? 255 - value[d.label(i)] : value[d.label(i)], 2)
          << "sample " << i << ", value " << k;
  }
  // Fixed shape and class list, as a test folder is read: a gray 5 × 5 of the same images.
  const Dataset fixed = load_image_folder(
      dir.file("pets"),
      ImageFolderOptions().shape(Shape{1, 5, 5}).class_names({"ant", "bird", "cat", "dog"}));
  EXPECT_EQ(fixed.sample_shape(), (Shape{1, 5, 5}));
  EXPECT_EQ(fixed.num_classes(), 4);
  EXPECT_EQ(fixed.label(0), 1) << "bird is class 1 of the given list";
  EXPECT_THAT(error_message([&] {
                load_image_folder(dir.file("pets"), ImageFolderOptions().class_names({"cat"}));
              }),
              AllOf(HasSubstr("class folder 'bird'"), HasSubstr("not one of the training")));
}

TEST(ImageFolder, ATieInSizeGoesToTheSizeMetFirstAndGrayStaysGray) {
  TempDir dir;
  fs::create_directories(dir.file("d/a"));
  fs::create_directories(dir.file("d/b"));
  write_png_file(dir.file("d/a/1.png"), 4, 6, 1, flat(4, 6, 1, 9));
  write_png_file(dir.file("d/b/1.png"), 5, 5, 1, flat(5, 5, 1, 9));
  EXPECT_EQ(load_image_folder(dir.file("d")).sample_shape(), (Shape{1, 6, 4}));
}

TEST(ImageFolder, CorruptImagesAreNamedOrSkipped) {
  TempDir dir;
  write_folder(dir.file("pets"));
  write_text(dir.file("pets/cat/zz-broken.png"), "\x89PNG\r\n\x1a\n garbage after the signature");
  write_text(dir.file("pets/dog/empty.jpg"), "");
  const std::string message = error_message([&] { load_image_folder(dir.file("pets")); });
  EXPECT_THAT(message, AllOf(HasSubstr(dir.file("pets/cat/zz-broken.png")),
                             HasSubstr("corrupt PNG"), HasSubstr("skip_bad_images")));
  std::vector<std::string> skipped;
  const Dataset d =
      load_image_folder(dir.file("pets"), ImageFolderOptions().skip_bad_images(true), &skipped);
  EXPECT_EQ(d.size(), 24);
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_THAT(skipped[0], HasSubstr("zz-broken.png"));
  EXPECT_THAT(skipped[1], AllOf(HasSubstr("empty.jpg"), HasSubstr("not a PNG or JPEG")));
}

TEST(ImageFolder, FoldersWithoutClassesOrImagesAreRefused) {
  TempDir dir;
  EXPECT_THAT(error_message([&] { load_image_folder(dir.file("nowhere")); }),
              HasSubstr("not a directory"));
  EXPECT_THAT(error_message([&] { load_image_folder(dir.str()); }), HasSubstr("no class"));
  fs::create_directories(dir.file("a"));
  write_text(dir.file("a/readme.txt"), "x");
  EXPECT_THAT(error_message([&] { load_image_folder(dir.str()); }), HasSubstr("no .png, .jpg"));
}

// ---- CSV label column ----

TEST(CsvLabelColumn, FirstColumnByIndexOrByName) {
  TempDir dir;
  // Fashion-MNIST's CSV layout: the label first, pixels after.
  write_text(dir.file("t.csv"), "label,p1,p2\n3,0,255\n1,10,20\n3,5,6\n");
  for (const CsvOptions& options :
       {CsvOptions().label_index(0), CsvOptions().label_name("label")}) {
    const Dataset d = load_csv(dir.file("t.csv"), options);
    EXPECT_EQ(d.sample_shape(), (Shape{2}));
    EXPECT_EQ(d.label(0), 3);
    EXPECT_EQ(d.label(1), 1);
    EXPECT_FLOAT_EQ(d.float_sample(0)[1], 255);
  }
}

TEST(CsvLabelColumn, AColumnOfAllDifferentValuesIsRefusedWithAHint) {
  TempDir dir;
  std::string text = "id,x,y\n";
  for (int i = 0; i < 12; ++i)
    text += std::to_string(100 + i) + "," + std::to_string(i) + "," + std::to_string(i % 2) + "\n";
  write_text(dir.file("t.csv"), text);
  EXPECT_EQ(load_csv(dir.file("t.csv")).num_classes(), 2) << "the last column is a fine label";
  EXPECT_THAT(error_message([&] { load_csv(dir.file("t.csv"), CsvOptions().label_index(0)); }),
              AllOf(HasSubstr(dir.file("t.csv")), HasSubstr("column 1 ('id')"),
                    HasSubstr("12 distinct values in 12 rows"), HasSubstr("HINT"),
                    HasSubstr("label_name")));
  // A few rows of as many classes is a plausible table, not refused.
  write_text(dir.file("small.csv"), "1,2,0\n3,4,1\n");
  EXPECT_EQ(load_csv(dir.file("small.csv")).size(), 2);
}

}  // namespace
}  // namespace nabla::data

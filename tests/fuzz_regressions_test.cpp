// Inputs that once crashed, hung or over-allocated a reader, found by the fuzz targets in fuzz/
// or by reading the readers for what a fuzzer with small inputs cannot reach (docs/reliability.md
// lists them). Each must now be a nabla::Error naming the file and what was wrong.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "data/temp_dir.h"
#include "models/description.h"
#include "nabla/data/datasets.h"
#include "nabla/io/checkpoint.h"
#include "nabla/io/image.h"
#include "nabla/io/safetensors.h"
#include "nabla/models.h"
#include "nabla/nn/linear.h"
#include "nabla/nn/sequential.h"
#include "test_util.h"

namespace nabla {
namespace {

using ::testing::AllOf;
using testing::error_message;
using ::testing::HasSubstr;
using testing::TempDir;
using testing::write_text;

std::string nested(size_t depth) {
  return std::string(depth, '[') + "1" + std::string(depth, ']');
}

// Offset of the '[' that takes `text` past 64 levels, when `enclosing` levels of '{' come first.
size_t too_deep_at(const std::string& text, size_t enclosing) {
  return text.find('[') + (64 - enclosing);
}

// ---- JSON nesting: nlohmann copies and dump()s recursively, so deep nesting overflowed the
// stack while printing an error. Every JSON reader now refuses more than 64 levels up front.

TEST(FuzzRegressions, DeeplyNestedModelDescriptionIsAnError) {
  const std::string text = R"({"input": )" + nested(200000) + R"(, "layers": []})";
  EXPECT_THAT(error_message([&] { model_output_shape(text); }),
              HasSubstr("model.json: JSON nested deeper than 64 levels at byte offset " +
                        std::to_string(too_deep_at(text, 1))));
}

TEST(FuzzRegressions, NestingWithinTheLimitStillGetsAShortMessage) {
  // 60 levels pass the guard; the type error prints the value cut short, not all of it.
  const std::string text = R"({"input": )" + nested(60) + R"(, "layers": [{"type": "relu"}]})";
  const std::string msg = error_message([&] { model_output_shape(text); });
  EXPECT_THAT(msg, HasSubstr("field 'input' must hold positive integers"));
  EXPECT_LT(msg.size(), 400u) << msg;
}

TEST(FuzzRegressions, DeeplyNestedSafetensorsHeaderIsAnError) {
  TempDir dir;
  std::string header =
      R"({"t": {"dtype": "F32", "shape": )" + nested(100000) + R"(, "data_offsets": [0, 4]}})";
  std::string bytes(8, '\0');
  for (size_t b = 0; b < 8; ++b) bytes[b] = static_cast<char>(header.size() >> (8 * b));
  bytes += header + std::string(4, '\0');
  const std::string path = dir.file("deep.safetensors");
  write_text(path, bytes);
  EXPECT_THAT(error_message([&] { io::load_safetensors(path); }),
              HasSubstr(path + ": byte " + std::to_string(8 + too_deep_at(header, 2)) +
                        ": the header nests deeper than 64"));
}

TEST(FuzzRegressions, DeeplyNestedTrainerStateIsAnError) {
  TempDir dir;
  nn::Sequential model(nn::Linear(2, 2));
  const std::string ckpt = dir.file("ckpt");
  io::save_checkpoint(ckpt, model, nullptr, {});
  const std::string state =
      R"({"format": "nabla.checkpoint", "version": 1, "epoch": 0, "step": 0, "config": )" +
      nested(100000) + "}";
  write_text(ckpt + "/trainer_state.json", state);
  EXPECT_THAT(error_message([&] { io::read_training_state(ckpt); }),
              HasSubstr("trainer_state.json: byte " + std::to_string(too_deep_at(state, 1)) +
                        ": JSON nested deeper than 64"));
}

// ---- numbers beyond a double: nlohmann throws out_of_range, not parse_error, for "1e999", and
// only parse_error was caught, so the std::exception escaped every JSON reader. Found by
// fuzz_json_model (crash-3ec943b7: "out_features": 101e308).

TEST(FuzzRegressions, JsonNumberOverflowIsAnError) {
  EXPECT_EQ(error_message([] {
              model_output_shape(R"({"input": [1], "layers": [{"type": "linear",
                                     "out_features": 101e308}]})");
            }),
            "model.json: invalid JSON: number overflow parsing '101e308'");

  TempDir dir;
  const std::string header = R"({"t": {"dtype": "F32", "shape": [1e999], "data_offsets": [0, 4]}})";
  std::string bytes(8, '\0');
  for (size_t b = 0; b < 8; ++b) bytes[b] = static_cast<char>(header.size() >> (8 * b));
  const std::string path = dir.file("overflow.safetensors");
  write_text(path, bytes + header + std::string(4, '\0'));
  EXPECT_THAT(error_message([&] { io::load_safetensors(path); }),
              HasSubstr(path + ": byte 8: the header is not valid JSON: number overflow parsing "
                               "'1e999'"));

  nn::Sequential model(nn::Linear(2, 2));
  const std::string ckpt = dir.file("ckpt");
  io::save_checkpoint(ckpt, model, nullptr, {});
  write_text(ckpt + "/trainer_state.json",
             R"({"format": "nabla.checkpoint", "version": 1, "epoch": 1e999, "step": 0})");
  EXPECT_THAT(error_message([&] { io::read_training_state(ckpt); }),
              HasSubstr("trainer_state.json: byte 0: not valid JSON: number overflow parsing "
                        "'1e999'"));
}

// ---- sizes in model descriptions: each field is at most 2^31 - 1, shape arithmetic cannot
// overflow (it was signed overflow, undefined behaviour), and the weights of all layers
// together are bounded as each one was.

TEST(FuzzRegressions, HugeModelFieldsAreErrorsNotOverflows) {
  struct Case {
    std::string text, message;
  };
  const std::vector<Case> cases = {
      {R"({"input": [1, 8, 8], "layers": [{"type": "conv2d", "out_channels": 1,
           "kernel_size": 3, "padding": 4611686018427387904}]})",
       "layers[0] (conv2d): field 'padding' is 4611686018427387904; nabla takes sizes up to "
       "2147483647"},
      {R"({"input": [1, 8, 8], "layers": [{"type": "maxpool2d",
           "kernel_size": 9223372036854775807}]})",
       "field 'kernel_size' is 9223372036854775807; nabla takes sizes up to 2147483647"},
      {R"({"input": [3, 4294967296], "layers": [{"type": "relu"}]})",
       "model.json: field 'input' holds 4294967296; nabla takes sizes up to 2147483647"},
      {R"({"input": [2147483647, 2147483647, 2147483647],
           "layers": [{"type": "flatten"}]})",
       "layers[0] (flatten): flattening input [2147483647, 2147483647, 2147483647] gives more "
       "than 2^63 features"},
      {R"({"input": [40000], "layers": [{"type": "linear", "out_features": 40000},
           {"type": "linear", "out_features": 40000}]})",
       "layers[1] (linear): the model would hold 3.2e+09 weight values in all, more than 2^31"},
      {R"({"input": [1000000000], "layers": [{"type": "batchnorm1d"}]})",
       "layers[0] (batchnorm1d): the weight would hold 4e+09 values, more than 2^31"},
  };
  for (const Case& c : cases)
    EXPECT_THAT(error_message([&] { model_output_shape(c.text); }), HasSubstr(c.message)) << c.text;
}

TEST(FuzzRegressions, OutputShapeChecksWithoutAllocatingWeights) {
  // 2^31 - 1 weight values (8 GiB of float32) is within the limit; model_output_shape used to
  // build the layers, and allocate it, just to infer the shape.
  const std::string text =
      R"({"input": [1], "layers": [{"type": "linear", "out_features": 2147483647}]})";
  EXPECT_EQ(model_output_shape(text), (std::vector<int64_t>{2147483647}));
  const auto cost = models_detail::description_cost(text, "model.json");
  EXPECT_EQ(cost.weight_values, 2147483647.0);
}

// ---- CSV: an integer label is a class index, and without num_classes the largest one decides
// how many class names to make. A label of 10^12 made 10^12 of them (std::bad_alloc).

TEST(FuzzRegressions, HugeCsvLabelIsAnErrorNotAnAllocation) {
  TempDir dir;
  const std::string path = dir.file("labels.csv");
  write_text(path, "x,label\n0.5,1\n0.25,1000000000000\n");
  EXPECT_THAT(error_message([&] { data::load_csv(path); }),
              AllOf(HasSubstr(path),
                    HasSubstr("line 3, column 2 ('label'): label 1000000000000 "
                              "of sample 1 would make"),
                    HasSubstr("need num_classes set")));
  write_text(path, "x,label\n0.5,9223372036854775807\n");  // max_label + 1 overflowed
  EXPECT_THAT(error_message([&] { data::load_csv(path); }),
              HasSubstr("label 9223372036854775807 of sample 0"));
  // With num_classes given the labels are only checked against it.
  write_text(path, "x,label\n0.5,1\n");
  EXPECT_EQ(data::load_csv(path, data::CsvOptions().num_classes(70000)).num_classes(), 70000);
}

// ---- PNG: cairo allocates width x height x 4 bytes before it reads a row, so a 60-byte file
// with an IHDR of 30000 x 30000 asked for 3.6 GB. The size is now checked against the file's.

std::string png_with_ihdr(uint32_t width, uint32_t height) {
  std::string out = "\x89PNG\r\n\x1a\n";
  out += std::string("\0\0\0\x0dIHDR", 8);
  for (uint32_t v : {width, height})
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>(v >> shift);
  out += std::string("\x08\x00\x00\x00\x00", 5);  // 8-bit gray, no interlace
  out += std::string(4, '\0');                    // CRC (never reached)
  out += std::string(27, '\0');
  return out;
}

TEST(FuzzRegressions, PngSizeIsCheckedAgainstTheFileBeforeCairoAllocates) {
  TempDir dir;
  const std::string path = dir.file("huge.png");
  write_text(path, png_with_ihdr(30000, 30000));
  EXPECT_THAT(error_message([&] { io::read_image(path); }),
              AllOf(HasSubstr("read_png: " + path +
                              ": byte 16: IHDR size 30000 x 30000 is more "
                              "pixels than a 60-byte PNG can hold")));
  EXPECT_THAT(error_message([&] { io::decode_image(png_with_ihdr(70000, 1), "mem.png"); }),
              HasSubstr("read_png: mem.png: byte 16: IHDR size 70000 x 1 is outside 1 .. 32767"));
  EXPECT_THAT(error_message([&] { io::decode_image(std::string("\x89PNG\r\n\x1a\n", 8), "t"); }),
              HasSubstr("read_png: t: byte 8: expected the IHDR chunk"));
}

TEST(FuzzRegressions, DecodeImageFromMemoryMatchesTheFileReader) {
  TempDir dir;
  io::Image image = io::make_image(3, 5, 3);
  for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>(i * 17);
  const std::string path = dir.file("rgb.png");
  io::write_png(path, image);
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  io::Image from_memory = io::decode_image(bytes, "rgb.png");
  EXPECT_EQ(from_memory.pixels, image.pixels);
  EXPECT_EQ(io::read_image(path).pixels, image.pixels);
}

}  // namespace
}  // namespace nabla

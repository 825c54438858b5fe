// safetensors: nabla's own files round-trip bit for bit, a file written from the format's spec by
// tests/fixtures/make_safetensors_fixture.py reads back, the bytes nabla writes follow the spec,
// and each kind of corrupt file is refused with a message naming the file and the byte offset.
#include "nabla/io/safetensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "data/temp_dir.h"
#include "test_util.h"

namespace nabla {
namespace {

using io::NamedTensors;
using nabla::testing::read_file;
using testing::error_message;
using testing::TempDir;

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A file from a raw header text and data section, as a corrupt or foreign writer would make it.
std::string file_bytes(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  const uint64_t n = header.size();
  for (int b = 0; b < 8; ++b) out[b] = static_cast<char>(n >> (8 * b));
  return out + header + data;
}

uint64_t read_u64_le(const std::string& bytes) {
  uint64_t n = 0;
  for (int b = 0; b < 8; ++b)
    n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[b])) << (8 * b);
  return n;
}

// Bitwise equality of shape, dtype and every element (NaN and -0.0 included).
void expect_same_bits(const Tensor& a, const Tensor& b, const std::string& name) {
  ASSERT_EQ(a.shape(), b.shape()) << name;
  ASSERT_EQ(a.dtype(), b.dtype()) << name;
  const Tensor ca = a.contiguous(), cb = b.contiguous();
  dispatch_all(a.dtype(), [&]<class T>() {
    EXPECT_EQ(std::memcmp(ca.data<T>(), cb.data<T>(), sizeof(T) * a.numel()), 0) << name;
  });
}

TEST(Safetensors, RoundTripsFloat32Float64AndInt64OfManyShapesBitwise) {
  TempDir dir;
  Generator gen(7);
  NamedTensors tensors;
  const std::vector<Shape> shapes = {
      {}, {1}, {5}, {3, 4}, {2, 0}, {0}, {2, 3, 4}, {1, 1, 1, 1}, {2, 1, 3, 1, 2, 1, 2, 1}};
  for (size_t i = 0; i < shapes.size(); ++i) {
    tensors.emplace_back("f32." + std::to_string(i), Tensor::randn(shapes[i], gen, kFloat32));
    tensors.emplace_back("f64." + std::to_string(i), Tensor::randn(shapes[i], gen, kFloat64));
  }
  // Special values must survive as bits, and a strided view must be written in logical order.
  tensors.emplace_back(
      "special", Tensor::from_vector({0.0, -0.0, 1e-310, INFINITY, -INFINITY, NAN}, {6}, kFloat64));
  Tensor base = Tensor::arange(0, 12, 1, kFloat32).reshape({3, 4});
  tensors.emplace_back("transposed", base.t());
  // int64 (PyTorch's I64), with values no float64 holds exactly.
  tensors.emplace_back("i64",
                       Tensor::from_vector(std::vector<int64_t>{INT64_MAX, INT64_MIN, -1, 0}));
  tensors.emplace_back("i64.transposed", Tensor::arange(0, 6, 1, kInt64).reshape({2, 3}).t());

  const io::Metadata metadata = {{"epoch", "3"}, {"note", "ünïcode \"quoted\"\n"}};
  const std::string path = dir.file("t.safetensors");
  io::save_safetensors(path, tensors, metadata);
  io::SafetensorsFile loaded = io::load_safetensors(path);

  EXPECT_EQ(loaded.metadata, metadata);
  ASSERT_EQ(loaded.tensors.size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(loaded.tensors[i].first, tensors[i].first);  // written in order, read in data order
    expect_same_bits(loaded.tensors[i].second, tensors[i].second, tensors[i].first);
    EXPECT_TRUE(loaded.tensors[i].second.is_contiguous());
  }
  EXPECT_EQ(loaded.at("transposed").to_vector(), base.t().contiguous().to_vector());
  EXPECT_EQ(io::safetensors_bytes(tensors, metadata), read_file(path));
}

TEST(Safetensors, WritesTheSpecLayout) {
  NamedTensors tensors = {
      {"0.weight", Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3})},
      {"0.bias", Tensor::from_vector(std::vector<double>{-1.0, 0.5})}};
  const std::string bytes = io::safetensors_bytes(tensors, {{"k", "v"}});
  const uint64_t n = read_u64_le(bytes);
  ASSERT_LE(8 + n, bytes.size());
  EXPECT_EQ((8 + n) % 8, 0u) << "data should start 8-byte aligned";
  const std::string header = bytes.substr(8, n);
  EXPECT_EQ(header[0], '{');
  const auto json = nlohmann::json::parse(header);  // padding is JSON whitespace
  EXPECT_EQ(json["__metadata__"]["k"], "v");
  EXPECT_EQ(json["0.weight"]["dtype"], "F32");
  EXPECT_EQ(json["0.weight"]["shape"], nlohmann::json({2, 3}));
  EXPECT_EQ(json["0.weight"]["data_offsets"], nlohmann::json({0, 24}));
  EXPECT_EQ(json["0.bias"]["dtype"], "F64");
  EXPECT_EQ(json["0.bias"]["data_offsets"], nlohmann::json({24, 40}));
  ASSERT_EQ(bytes.size(), 8 + n + 40);
  // Raw little-endian IEEE data, row-major.
  float w[6];
  std::memcpy(w, bytes.data() + 8 + n, sizeof w);
  EXPECT_EQ(w[0], 1.f);
  EXPECT_EQ(w[5], 6.f);
  EXPECT_EQ(static_cast<unsigned char>(bytes[8 + n + 24 + 7]), 0xbf);  // -1.0: sign+exp high byte
}

// Narrower dtypes widen exactly: integers (sign-extended or not) to int64, F16 and BF16 to
// float32, whatever the host's byte order.
TEST(Safetensors, WidensNarrowIntegersAndHalvesByAStatedRule) {
  const std::string header = R"({"i32":{"dtype":"I32","shape":[2],"data_offsets":[0,8]},)"
                             R"("i8":{"dtype":"I8","shape":[2],"data_offsets":[8,10]},)"
                             R"("u8":{"dtype":"U8","shape":[1],"data_offsets":[10,11]},)"
                             R"("f16":{"dtype":"F16","shape":[4],"data_offsets":[11,19]},)"
                             R"("bf16":{"dtype":"BF16","shape":[2],"data_offsets":[19,23]}})";
  const std::string data(
      "\xfe\xff\xff\xff"  // I32 -2
      "\xff\xff\xff\x7f"  // I32 2^31 - 1
      "\x80\x7f"          // I8 -128, 127
      "\xff"              // U8 255
      "\x00\x3c"          // F16 1.0
      "\x01\x80"          // F16 -2^-24, the smallest subnormal
      "\x00\x7c"          // F16 +inf
      "\x00\xc1"          // F16 -2.5
      "\x80\x3f"          // BF16 1.0
      "\x20\xc0",         // BF16 -2.5
      23);
  TempDir dir;
  const std::string path = dir.file("narrow.safetensors");
  write_all(path, file_bytes(header, data));
  io::SafetensorsFile f = io::load_safetensors(path);
  EXPECT_EQ(f.at("i32").dtype(), kInt64);
  EXPECT_EQ(f.at("i32").to_vector(), (std::vector<double>{-2, 2147483647}));
  EXPECT_EQ(f.at("i8").to_vector(), (std::vector<double>{-128, 127}));
  EXPECT_EQ(f.at("u8").dtype(), kInt64);
  EXPECT_EQ(f.at("u8").to_vector(), (std::vector<double>{255}));
  EXPECT_EQ(f.at("f16").dtype(), kFloat32);
  const float* h = f.at("f16").data<float>();
  EXPECT_EQ(h[0], 1.f);
  EXPECT_EQ(h[1], -std::ldexp(1.f, -24));
  EXPECT_EQ(h[2], std::numeric_limits<float>::infinity());
  EXPECT_EQ(h[3], -2.5f);
  EXPECT_EQ(f.at("bf16").dtype(), kFloat32);
  EXPECT_EQ(f.at("bf16").to_vector(), (std::vector<double>{1.0, -2.5}));
}

// tests/fixtures/make_torch_fixtures.py: each narrow tensor's bytes are PyTorch's, and nabla's
// widening matches PyTorch's .to(int64) / .to(float32) bit for bit (NaN aside, none there).
TEST(Safetensors, WidensAsPyTorchConvertsOnItsOwnFile) {
  io::SafetensorsFile f = io::load_safetensors(NABLA_FIXTURE_DIR "/torch_dtypes.safetensors");
  for (const char* name : {"I32", "I8", "U8", "F16", "BF16"}) {
    SCOPED_TRACE(name);
    const Tensor& got = f.at(name);
    const Tensor& expected = f.at(std::string(name) + ".expected");
    ASSERT_EQ(got.dtype(), expected.dtype());
    ASSERT_EQ(got.shape(), expected.shape());
    const size_t bytes = static_cast<size_t>(got.numel()) * dtype_size(got.dtype());
    const void* g = got.dtype() == kInt64 ? static_cast<const void*>(got.data<int64_t>())
                                          : static_cast<const void*>(got.data<float>());
    const void* e = got.dtype() == kInt64 ? static_cast<const void*>(expected.data<int64_t>())
                                          : static_cast<const void*>(expected.data<float>());
    EXPECT_EQ(std::memcmp(g, e, bytes), 0) << got << " vs " << expected;
  }
}

// As PyTorch's state dicts hold batch norm's num_batches_tracked: a 0-d I64 tensor.
TEST(Safetensors, ReadsAndWritesI64AsInt64) {
  const std::string header = R"({"1.num_batches_tracked":{"dtype":"I64","shape":[],)"
                             R"("data_offsets":[0,8]}})";
  std::string data(8, '\0');
  data[0] = 0x2a;  // 42 + 2^40, little-endian
  data[5] = 0x01;
  TempDir dir;
  const std::string path = dir.file("torch.safetensors");
  write_all(path, file_bytes(header, data));
  io::SafetensorsFile f = io::load_safetensors(path);
  const Tensor& t = f.at("1.num_batches_tracked");
  EXPECT_EQ(t.dtype(), kInt64);
  EXPECT_EQ(t.shape(), Shape{});
  EXPECT_EQ(*t.data<int64_t>(), 42 + (int64_t{1} << 40));

  const std::string bytes = io::safetensors_bytes({{"n", t}});
  const auto json = nlohmann::json::parse(bytes.substr(8, read_u64_le(bytes)));
  EXPECT_EQ(json["n"]["dtype"], "I64");
  EXPECT_EQ(bytes.substr(bytes.size() - 8), data);
}

TEST(Safetensors, ReadsAFileWrittenFromTheSpecByPython) {
  io::SafetensorsFile f = io::load_safetensors(NABLA_FIXTURE_DIR "/spec_example.safetensors");
  EXPECT_EQ(f.metadata.at("written_by"), "make_safetensors_fixture.py");
  ASSERT_EQ(f.tensors.size(), 5u);
  // In data order, whatever the header's order.
  std::vector<std::string> order;
  for (const auto& entry : f.tensors) order.push_back(entry.first);
  EXPECT_EQ(order, (std::vector<std::string>{"bias", "weight", "scalar", "empty", "deep"}));

  const Tensor& weight = f.at("weight");
  EXPECT_EQ(weight.shape(), Shape({3, 4}));
  EXPECT_EQ(weight.dtype(), kFloat32);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(weight.data<float>()[i], i * 0.25f - 1.5f) << i;
  const Tensor& bias = f.at("bias");
  EXPECT_EQ(bias.dtype(), kFloat64);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(bias.data<double>()[i], (i + 1) / 3.0) << i;
  EXPECT_EQ(f.at("scalar").dim(), 0);
  EXPECT_EQ(f.at("scalar").item(), -2.5);
  EXPECT_EQ(f.at("empty").shape(), Shape({2, 0}));
  EXPECT_EQ(f.at("empty").dtype(), kFloat64);
  EXPECT_EQ(f.at("deep").shape(), Shape({2, 1, 3, 1, 2}));
  for (int i = 0; i < 12; ++i) EXPECT_EQ(f.at("deep").data<float>()[i], i - 6.f) << i;
  EXPECT_FALSE(f.contains("missing"));
  EXPECT_NE(error_message([&] { f.at("missing"); }).find("no tensor named 'missing'"),
            std::string::npos);
}

// ---- corrupt files: each case is one row ----

struct CorruptCase {
  const char* name;
  std::string bytes;
  uint64_t offset;       // the byte the message must name
  const char* expected;  // and a phrase it must contain
};

std::string f32_data(int n) {
  return std::string(static_cast<size_t>(n) * 4, '\0');
}

// File offset of `needle` in a header (the header starts at byte 8).
uint64_t at(const std::string& header, const std::string& needle) {
  return 8 + header.find(needle);
}

std::vector<CorruptCase> corrupt_cases() {
  const std::string one = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  std::string truncated = file_bytes(one, f32_data(2));
  truncated.resize(truncated.size() - 3);
  std::string lying(8, '\0');
  lying[0] = static_cast<char>(0xff);
  lying[4] = 0x01;  // a 4 GiB header in a 10-byte file: must not be allocated
  lying += "{}";
  const std::string bad_json = R"({"a":{"dtype":"F32",,}})";
  const std::string two_overlap = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                  R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  const std::string two_hole = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                               R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
  const std::string two_same = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                               R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
  auto entry = [](const std::string& dtype, const std::string& shape, const std::string& offsets) {
    return R"({"a":{"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":)" +
           offsets + "}}";
  };
  const std::string meta = R"({"__metadata__":{"epoch":3}})";
  return {
      {"shorter than the length field", std::string("\x05\0\0", 3), 0,
       "fewer than the 8-byte header length"},
      {"header length past the end", lying, 0, "runs past the end of the file"},
      {"truncated data", truncated, at(one, "\"a\""), "past its end"},
      {"bad JSON", file_bytes(bad_json, ""), at(bad_json, ",,") + 1, "not valid JSON"},
      {"not an object", file_bytes("[1, 2]", ""), 8, "must be a JSON object"},
      {"unknown dtype", file_bytes(entry("F33", "[2]", "[0,8]"), f32_data(2)), 9,
       "unknown dtype \"F33\""},
      {"unsupported dtype", file_bytes(entry("U16", "[4]", "[0,8]"), f32_data(2)), 9,
       "dtype U16 is not supported"},
      {"shape and offsets disagree", file_bytes(entry("F32", "[3]", "[0,8]"), f32_data(2)), 9,
       "need 12 bytes, but data_offsets [0, 8] span 8 bytes"},
      {"offsets out of range", file_bytes(entry("F32", "[4]", "[0,16]"), f32_data(2)), 9,
       "past its end"},
      {"offsets reversed", file_bytes(entry("F32", "[0]", "[8,0]"), f32_data(2)), 9,
       "end before they begin"},
      {"huge shape", file_bytes(entry("F64", "[4611686018427387904,4]", "[0,8]"), f32_data(2)), 9,
       "need more than 2^64 bytes"},
      {"negative extent", file_bytes(entry("F32", "[-2]", "[0,8]"), f32_data(2)), 9,
       "non-negative integers"},
      {"missing field", file_bytes(R"({"a":{"dtype":"F32","shape":[2]}})", f32_data(2)), 9,
       "missing \"data_offsets\""},
      {"overlapping tensors", file_bytes(two_overlap, f32_data(3)), 8 + two_overlap.size() + 4,
       "overlap tensor 'a'"},
      {"hole between tensors", file_bytes(two_hole, f32_data(3)), 8 + two_hole.size() + 4,
       "belong to no tensor"},
      {"trailing bytes", file_bytes(one, f32_data(3)), 8 + one.size() + 8, "no trailing data"},
      {"duplicate name", file_bytes(two_same, f32_data(2)), 9, "names 'a' twice"},
      {"metadata not strings", file_bytes(meta, ""), at(meta, "\"epoch\""), "must be a string"},
  };
}

TEST(Safetensors, CorruptFilesNameTheFileAndByteOffset) {
  TempDir dir;
  for (const CorruptCase& c : corrupt_cases()) {
    SCOPED_TRACE(c.name);
    const std::string path = dir.file("corrupt.safetensors");
    write_all(path, c.bytes);
    const std::string message = error_message([&] { io::load_safetensors(path); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find(path + ": byte " + std::to_string(c.offset) + ":"), std::string::npos)
        << message;
    EXPECT_NE(message.find(c.expected), std::string::npos) << message;
  }
}

TEST(Safetensors, EveryTruncationOfAValidFileIsRefusedCleanly) {
  TempDir dir;
  Generator gen(1);
  const std::string bytes = io::safetensors_bytes(
      {{"w", Tensor::randn({3, 5}, gen)}, {"b", Tensor::randn({5}, gen, kFloat64)}}, {{"k", "v"}});
  const std::string path = dir.file("cut.safetensors");
  for (size_t size = 0; size < bytes.size(); ++size) {
    write_all(path, bytes.substr(0, size));
    const std::string message = error_message([&] { io::load_safetensors(path); });
    EXPECT_NE(message.find(path + ": byte "), std::string::npos) << size << ": " << message;
  }
}

TEST(Safetensors, MissingFileAndBadNamesAreErrors) {
  TempDir dir;
  EXPECT_NE(error_message([&] {
              io::load_safetensors(dir.file("nope.safetensors"));
            }).find("cannot open"),
            std::string::npos);
  const std::string path = dir.file("x.safetensors");
  Tensor t = Tensor::zeros({1});
  EXPECT_NE(error_message([&] {
              io::save_safetensors(path, {{"a", t}, {"a", t}});
            }).find("twice"),
            std::string::npos);
  EXPECT_NE(error_message([&] {
              io::save_safetensors(path, {{"__metadata__", t}});
            }).find("invalid tensor name"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path)) << "a refused save must not create the file";
}

}  // namespace
}  // namespace nabla

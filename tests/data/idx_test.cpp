// IDX reading: round trips through plain and gzip files the test writes, and every malformed
// header or size a file can have, each of which must be a nabla::Error naming path and offset.
#include "nabla/data/idx.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "data/temp_dir.h"
#include "nabla/error.h"
#include "test_util.h"

namespace nabla::data {
namespace {

using nabla::testing::error_message;

using nabla::testing::idx_bytes;
using nabla::testing::TempDir;
using nabla::testing::write_bytes;
using nabla::testing::write_gzip;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::vector<uint8_t> pattern(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>((i * 37 + 11) % 256);
  return v;
}

TEST(Idx, RoundTripPlain) {
  TempDir dir;
  std::vector<uint8_t> data = pattern(3 * 2 * 5);
  write_bytes(dir.file("a.idx"), idx_bytes({3, 2, 5}, data));
  IdxArray a = read_idx(dir.file("a.idx"));
  EXPECT_EQ(a.dims, (std::vector<int64_t>{3, 2, 5}));
  EXPECT_EQ(a.data, data);
}

TEST(Idx, RoundTripGzip) {
  TempDir dir;
  std::vector<uint8_t> data = pattern(4 * 7);
  write_gzip(dir.file("a.idx.gz"), idx_bytes({4, 7}, data));
  IdxArray a = read_idx(dir.file("a.idx.gz"));
  EXPECT_EQ(a.dims, (std::vector<int64_t>{4, 7}));
  EXPECT_EQ(a.data, data);
}

TEST(Idx, CompressionIsDetectedFromContentNotName) {
  TempDir dir;
  std::vector<uint8_t> data = pattern(9);
  write_gzip(dir.file("looks-plain"), idx_bytes({9}, data));
  write_bytes(dir.file("looks-compressed.gz"), idx_bytes({9}, data));
  EXPECT_EQ(read_idx(dir.file("looks-plain")).data, data);
  EXPECT_EQ(read_idx(dir.file("looks-compressed.gz")).data, data);
}

TEST(Idx, TruncatedDataNamesPathAndOffset) {
  TempDir dir;
  std::string path = dir.file("short.idx");
  write_bytes(path, idx_bytes({3, 2, 5}, pattern(20)));  // 30 claimed, 20 present
  std::string msg = error_message([&] { read_idx(path, "reinstall the files"); });
  EXPECT_THAT(msg, AllOf(HasSubstr(path), HasSubstr("byte 16"), HasSubstr("[3, 2, 5]"),
                         HasSubstr("30 bytes"), HasSubstr("20 bytes"), HasSubstr("truncated"),
                         HasSubstr("HINT: reinstall the files")));
}

TEST(Idx, TruncatedGzipNamesDecompressedOffset) {
  TempDir dir;
  std::string path = dir.file("short.idx.gz");
  write_gzip(path, idx_bytes({3, 2, 5}, pattern(20)));
  std::string msg = error_message([&] { read_idx(path); });
  EXPECT_THAT(msg, AllOf(HasSubstr(path), HasSubstr("byte 16 of the decompressed data"),
                         HasSubstr("30 bytes"), HasSubstr("20 bytes")));
}

TEST(Idx, TruncatedGzipStreamIsAnError) {
  // Cut the compressed file itself in half: zlib sees the stream end early.
  TempDir dir;
  std::string full = dir.file("full.gz"), cut = dir.file("cut.gz");
  write_gzip(full, idx_bytes({64, 64}, pattern(64 * 64)));
  std::vector<uint8_t> bytes(std::filesystem::file_size(full));
  std::ifstream(full, std::ios::binary).read(reinterpret_cast<char*>(bytes.data()), bytes.size());
  bytes.resize(bytes.size() / 2);
  write_bytes(cut, bytes);
  std::string msg = error_message([&] { read_idx(cut); });
  EXPECT_THAT(msg, HasSubstr(cut));
}

TEST(Idx, TruncatedHeader) {
  TempDir dir;
  std::string path = dir.file("header.idx");
  write_bytes(path, {0, 0, 8, 2, 0, 0, 0, 5, 0, 0});  // second extent cut after 2 bytes
  std::string msg = error_message([&] { read_idx(path); });
  EXPECT_THAT(msg, AllOf(HasSubstr(path), HasSubstr("byte 8"), HasSubstr("expected 4 bytes"),
                         HasSubstr("after 2")));
}

TEST(Idx, WrongMagic) {
  TempDir dir;
  std::string path = dir.file("zip.idx");
  write_bytes(path, {'P', 'K', 3, 4, 0, 0, 0, 1, 7});
  std::string msg = error_message([&] { read_idx(path); });
  EXPECT_THAT(msg, AllOf(HasSubstr(path), HasSubstr("byte 0"), HasSubstr("0x50 0x4B"),
                         HasSubstr("not an IDX file")));
}

TEST(Idx, OtherElementTypesAreRejectedByName) {
  TempDir dir;
  std::string path = dir.file("float.idx");
  write_bytes(path, idx_bytes({2}, pattern(8), 0x0D));
  EXPECT_THAT(error_message([&] { read_idx(path); }),
              AllOf(HasSubstr("byte 2"), HasSubstr("0x0D"), HasSubstr("float32"),
                    HasSubstr("not supported")));
  write_bytes(path, idx_bytes({2}, pattern(2), 0x42));
  EXPECT_THAT(error_message([&] { read_idx(path); }), HasSubstr("unknown IDX element type 0x42"));
}

TEST(Idx, ZeroDimensionsAndZeroExtentsAreRejected) {
  TempDir dir;
  std::string path = dir.file("odd.idx");
  write_bytes(path, {0, 0, 8, 0});
  EXPECT_THAT(error_message([&] { read_idx(path); }), HasSubstr("at least 1 dimension"));
  write_bytes(path, idx_bytes({4, 0}, {}));
  EXPECT_THAT(error_message([&] { read_idx(path); }), HasSubstr("extent of dimension 1 is 0"));
}

TEST(Idx, TrailingDataIsAnError) {
  TempDir dir;
  write_bytes(dir.file("long.idx"), idx_bytes({4}, pattern(5)));
  write_gzip(dir.file("long.idx.gz"), idx_bytes({4}, pattern(5)));
  EXPECT_THAT(error_message([&] { read_idx(dir.file("long.idx")); }), HasSubstr("5 bytes follow"));
  EXPECT_THAT(error_message([&] { read_idx(dir.file("long.idx.gz")); }), HasSubstr("more than 4"));
}

// A 100-byte file whose header claims 10^12 elements: were the claim allocated before it is
// checked, this would be std::bad_alloc (1 TB), not a nabla::Error about the size.
TEST(Idx, OversizedClaimIsAnErrorNotAnAllocation) {
  TempDir dir;
  std::vector<uint8_t> bytes = idx_bytes({1000000, 1000, 1000}, {});
  bytes.resize(100, 0);
  ASSERT_EQ(bytes.size(), 100u);
  write_bytes(dir.file("huge.idx"), bytes);
  write_gzip(dir.file("huge.idx.gz"), bytes);
  for (const char* name : {"huge.idx", "huge.idx.gz"}) {
    std::string msg = error_message([&] { read_idx(dir.file(name)); });
    EXPECT_THAT(msg,
                AllOf(HasSubstr(name), HasSubstr("1000000000000 bytes"), HasSubstr("84 bytes")))
        << name;
  }
}

TEST(Idx, ClaimBeyondInt64DoesNotOverflow) {
  TempDir dir;
  std::string path = dir.file("overflow.idx");
  write_bytes(path, idx_bytes({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, pattern(10)));
  EXPECT_THAT(error_message([&] { read_idx(path); }), HasSubstr("more than 2^63"));
}

TEST(Idx, MissingFileNamesPathAndHint) {
  TempDir dir;
  std::string path = dir.file("absent.idx");
  EXPECT_THAT(
      error_message([&] { read_idx(path, "pass --data-dir"); }),
      AllOf(HasSubstr(path), HasSubstr("no such file"), HasSubstr("HINT: pass --data-dir")));
}

TEST(Idx, CorruptGzipStream) {
  TempDir dir;
  std::string path = dir.file("corrupt.gz");
  // A valid gzip header (deflate, no flags), then bytes that are not a deflate stream.
  write_bytes(path, {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  EXPECT_THAT(error_message([&] { read_idx(path); }), AllOf(HasSubstr(path), HasSubstr("zlib")));
}

}  // namespace
}  // namespace nabla::data

// ByteReader: whole-file reads of plain or gzip data through zlib (see byte_reader.h).
#include "data/byte_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>

#include "nabla/error.h"

namespace nabla::data::detail {

namespace {
std::string hint_suffix(const std::string& hint) {
  return hint.empty() ? std::string() : "\n---> HINT: " + hint;
}
}  // namespace

ByteReader::ByteReader(std::string path, std::string hint)
    : path_(std::move(path)), hint_(std::move(hint)) {
  std::error_code ec;
  auto status = std::filesystem::status(path_, ec);
  NABLA_CHECK(!ec && std::filesystem::exists(status), path_, ": no such file", hint_suffix(hint_));
  NABLA_CHECK(std::filesystem::is_regular_file(status), path_, ": not a regular file",
              hint_suffix(hint_));
  file_size_ = std::filesystem::file_size(path_, ec);
  NABLA_CHECK(!ec, path_, ": cannot read its size: ", ec.message());
  errno = 0;
  file_ = gzopen(path_.c_str(), "rb");
  NABLA_CHECK(file_ != nullptr, path_,
              ": cannot open: ", errno ? std::strerror(errno) : "out of memory",
              hint_suffix(hint_));
  gzbuffer(file_, 1 << 16);
  // gzdirect reads ahead to the magic bytes: 0x1f 0x8b means gzip, anything else is passed through.
  compressed_ = gzdirect(file_) == 0;
}

ByteReader::~ByteReader() {
  if (file_) gzclose(file_);
}

std::string ByteReader::where(uint64_t offset) const {
  return "byte " + std::to_string(offset) + (compressed_ ? " of the decompressed data" : "");
}

size_t ByteReader::read_some(void* dst, size_t n) {
  size_t total = 0;
  auto* out = static_cast<char*>(dst);
  while (total < n) {
    // gzread takes an unsigned int count.
    auto chunk = static_cast<unsigned>(std::min<size_t>(n - total, 1u << 30));
    int got = gzread(file_, out + total, chunk);
    if (got < 0) {
      int code = 0;
      const char* msg = gzerror(file_, &code);
      nabla::detail::throw_error(path_, ": ", where(offset_ + total),
                                 ": the gzip stream is corrupt (zlib: ", msg, ")");
    }
    if (got == 0) {
      // A truncated .gz ends with Z_BUF_ERROR ("unexpected end of file") rather than a clean EOF.
      int code = 0;
      const char* msg = gzerror(file_, &code);
      NABLA_CHECK(code == Z_OK || code == Z_BUF_ERROR, path_, ": ", where(offset_ + total),
                  ": read failed (zlib: ", msg, ")");
      break;
    }
    total += static_cast<size_t>(got);
  }
  offset_ += total;
  return total;
}

void ByteReader::read_exact(void* dst, size_t n, const char* what) {
  uint64_t start = offset_;
  size_t got = read_some(dst, n);
  NABLA_CHECK(got == n, path_, ": ", where(start), ": expected ", n, " bytes of ", what,
              ", but the ", compressed_ ? "decompressed data ends" : "file ends", " after ", got,
              " (file truncated?)", hint_suffix(hint_));
}

std::vector<uint8_t> ByteReader::read_rest(uint64_t limit, const char* what) {
  std::vector<uint8_t> out;
  if (!compressed_) {
    // A plain file's size is known, so the check comes before any allocation.
    uint64_t left = file_size_ - std::min(file_size_, offset_);
    NABLA_CHECK(left <= limit, path_, ": ", where(offset_), ": ", left, " bytes of ", what,
                " follow, at most ", limit, " expected");
    out.resize(left);
    read_exact(out.data(), left, what);
    return out;
  }
  // Grow with the data that actually arrives; one byte past the limit is enough to reject.
  // Deflate expands at most about 1032:1, so the compressed size bounds what can arrive; reserving
  // up to that bound (and the limit) up front keeps the vector from doubling, which for
  // Fashion-MNIST's 47 MB of pixels would briefly hold 32 + 64 MB and then copy to 47 MB,
  // the peak of a whole training run (docs/performance.md, "Training loop").
  // The 1 GiB cap: `limit` comes from the file's own header, and a corrupt one on a 30 MB file
  // would otherwise ask for 30 GB up front, which fails as std::bad_alloc before any check.
  constexpr uint64_t kMaxDeflateRatio = 1032;
  constexpr uint64_t kMaxReserve = uint64_t{1} << 30;
  // The + 1 is the byte past the limit that the loop below reads to detect an oversized stream:
  // without it the last resize would double the capacity (47 -> 94 MB for Fashion-MNIST).
  out.reserve(static_cast<size_t>(
      std::min<uint64_t>(
          {limit, std::max<uint64_t>(file_size_, 1) * kMaxDeflateRatio, kMaxReserve}) +
      1));
  constexpr size_t kChunk = 1 << 20;
  uint64_t start = offset_;
  for (;;) {
    size_t old = out.size();
    uint64_t room = limit - std::min<uint64_t>(limit, old);
    size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, room + 1));
    out.resize(old + want);
    size_t got = read_some(out.data() + old, want);
    out.resize(old + got);
    NABLA_CHECK(out.size() <= limit, path_, ": ", where(start), ": more than ", limit, " bytes of ",
                what, " follow, at most ", limit, " expected");
    if (got < want) break;
  }
  // Shrinking copies (both buffers live at once), so it is worth it only when much is unused; the
  // usual case, a header that told the truth, leaves one spare byte.
  if (out.capacity() - out.size() > out.size() / 8) out.shrink_to_fit();
  return out;
}

}  // namespace nabla::data::detail

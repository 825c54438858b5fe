// Reading a data file whole, plain or gzip-compressed, without trusting what the file claims.
//
// zlib's gzopen reads both: it looks at the first two bytes (0x1f 0x8b) and passes any other file
// through unchanged, so compression is detected by content, never by the file name. Not a general
// stream: nabla's data files are read front to back once, into memory, at load time.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nabla::data::detail {

class ByteReader {
 public:
  // Throws nabla::Error naming `path` (and `hint`, if any) when the file cannot be opened.
  ByteReader(std::string path, std::string hint = "");
  ~ByteReader();
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  const std::string& path() const { return path_; }
  // Whether the file is gzip-compressed (known once open: gzopen has read the magic bytes).
  bool compressed() const { return compressed_; }
  // Bytes consumed so far (of the decompressed data, for a .gz file).
  uint64_t offset() const { return offset_; }
  // Size on disk; for a plain file this is the size of the data.
  uint64_t file_size() const { return file_size_; }
  // "byte 16" or, for a .gz file, "byte 16 of the decompressed data": error messages use it.
  std::string where(uint64_t offset) const;

  // Reads up to n bytes into dst; returns how many were read (fewer only at the end of the data).
  // Throws on a corrupt gzip stream.
  size_t read_some(void* dst, size_t n);
  // Reads exactly n bytes or throws, saying what was being read (`what`) and where the data ended.
  void read_exact(void* dst, size_t n, const char* what);
  // Reads everything that is left, but throws instead of holding more than `limit` bytes: memory
  // grows only with data actually present, so a header that lies cannot make us allocate.
  std::vector<uint8_t> read_rest(uint64_t limit, const char* what);

 private:
  std::string path_;
  std::string hint_;
  gzFile file_ = nullptr;
  bool compressed_ = false;
  uint64_t offset_ = 0;
  uint64_t file_size_ = 0;
};

}  // namespace nabla::data::detail

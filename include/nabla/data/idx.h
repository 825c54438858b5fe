// IDX files: the format of MNIST and Fashion-MNIST (yann.lecun.com/exdb/mnist).
//
//   bytes 0-1  0x00 0x00
//   byte 2     element type: 0x08 uint8 (the only one nabla reads), 0x09 int8, 0x0B int16,
//              0x0C int32, 0x0D float32, 0x0E float64
//   byte 3     number of dimensions, ndim >= 1
//   then       ndim big-endian uint32 extents, then the elements in row-major order
//
// Files may be gzip-compressed (as distributed, and as Debian installs them); compression is
// detected from the content, not the name. Everything the header claims is checked against the
// data actually there before memory is allocated for it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nabla::data {

struct IdxArray {
  std::vector<int64_t> dims;  // extents, outermost first: (N, 28, 28) for MNIST images
  std::vector<uint8_t> data;  // row-major, product(dims) bytes
};

// Reads a uint8 IDX file, plain or .gz. Throws nabla::Error naming the path, the byte offset and
// what was expected there, for: a missing file, a wrong magic, another element type, extents whose
// product does not match the data that follows (too little or too much), a corrupt gzip stream.
// `hint`, if given, is appended to messages about a missing or truncated file.
IdxArray read_idx(const std::string& path, const std::string& hint = "");

}  // namespace nabla::data

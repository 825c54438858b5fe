// IDX reader (format in include/nabla/data/idx.h). The header is read and checked first; the
// element data is allocated only once its size is known to match what the file holds.
#include "nabla/data/idx.h"

#include <cstdio>
#include <limits>

#include "data/byte_reader.h"
#include "nabla/error.h"

namespace nabla::data {

namespace {

const char* idx_type_name(uint8_t type) {
  switch (type) {
    case 0x08:
      return "uint8";
    case 0x09:
      return "int8";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
    default:
      return nullptr;
  }
}

std::string hex(uint8_t b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", b);
  return buf;
}

}  // namespace

IdxArray read_idx(const std::string& path, const std::string& hint) {
  detail::ByteReader in(path, hint);
  uint8_t magic[4];
  size_t got = in.read_some(magic, 4);
  NABLA_CHECK(got == 4, path, ": ", in.where(0),
              ": expected the 4-byte IDX magic (0x00 0x00 type ndim), but the data holds only ",
              got, " bytes");
  NABLA_CHECK(magic[0] == 0 && magic[1] == 0, path, ": ", in.where(0),
              ": expected the IDX magic 0x00 0x00, found ", hex(magic[0]), " ", hex(magic[1]),
              " (not an IDX file)");
  const char* type = idx_type_name(magic[2]);
  NABLA_CHECK(type != nullptr, path, ": ", in.where(2), ": unknown IDX element type ",
              hex(magic[2]), " (expected 0x08 uint8)");
  NABLA_CHECK(magic[2] == 0x08, path, ": ", in.where(2), ": IDX element type ", hex(magic[2]), " (",
              type, ") is not supported; nabla reads uint8 IDX files (type 0x08)");
  int ndim = magic[3];
  NABLA_CHECK(ndim >= 1, path, ": ", in.where(3),
              ": an IDX file needs at least 1 dimension, found 0");

  IdxArray out;
  out.dims.resize(ndim);
  // Bytes of element data the header claims; saturates instead of overflowing.
  constexpr uint64_t kMax = std::numeric_limits<int64_t>::max();
  uint64_t claimed = 1;
  for (int d = 0; d < ndim; ++d) {
    uint8_t be[4];
    uint64_t at = in.offset();
    in.read_exact(be, 4, "IDX header (dimension extent)");
    uint64_t extent = (uint64_t{be[0]} << 24) | (uint64_t{be[1]} << 16) | (uint64_t{be[2]} << 8) |
                      uint64_t{be[3]};
    NABLA_CHECK(extent > 0, path, ": ", in.where(at), ": extent of dimension ", d,
                " is 0; empty IDX arrays are not accepted");
    out.dims[d] = static_cast<int64_t>(extent);
    claimed = claimed > kMax / extent ? kMax : claimed * extent;
  }
  auto describe_dims = [&] {
    std::string s = "[";
    for (int d = 0; d < ndim; ++d) s += (d ? ", " : "") + std::to_string(out.dims[d]);
    return s + "]";
  };

  uint64_t header = in.offset();
  if (!in.compressed()) {
    uint64_t left = in.file_size() - header;
    NABLA_CHECK(left == claimed, path, ": ", in.where(header), ": the header claims extents ",
                describe_dims(), ", i.e. ",
                claimed == kMax ? "more than 2^63" : std::to_string(claimed),
                " bytes of uint8 data, but ", left, " bytes follow the header",
                left < claimed ? " (file truncated, or a corrupt header?)" : "",
                left < claimed && !hint.empty() ? "\n---> HINT: " + hint : "");
  }
  // For a .gz file the decompressed size is unknown until read: read_rest grows only with real
  // data and stops one byte past the claim, so a lying header costs no allocation.
  out.data = in.read_rest(claimed, "IDX element data");
  NABLA_CHECK(out.data.size() == claimed, path, ": ", in.where(header),
              ": the header claims extents ", describe_dims(), ", i.e. ", claimed,
              " bytes of uint8 data, but the decompressed data has ", out.data.size(),
              " bytes after the header (file truncated?)",
              hint.empty() ? "" : "\n---> HINT: " + hint);
  return out;
}

}  // namespace nabla::data

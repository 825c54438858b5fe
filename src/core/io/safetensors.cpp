// safetensors reading and writing (see include/nabla/io/safetensors.h for the layout).
//
// The reader validates in the order a hostile file would be dangerous: the header length against
// the file size, then the JSON, then each entry (dtype, shape, offsets against the data size),
// then the entries together (sorted by offset they must tile the data exactly), and only then
// allocates tensors, whose total size is therefore at most the file's.
#include "nabla/io/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "io/json_depth.h"
#include "nabla/io/atomic_file.h"

namespace nabla::io {

using Json = nlohmann::ordered_json;

namespace {

// The reference implementation's limit; a header this size already means ~1M tensors.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr uint64_t kHeaderLengthBytes = 8;

// IEEE binary16 to binary32, exactly: the exponent is rebiased (15 to 127), the mantissa
// shifted; subnormal halves (exponent 0) are mantissa * 2^-24, normal floats.
float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
  if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) {
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

// Converts n little-endian elements of `Bytes` bytes each (the file's order, whatever the host's)
// into `To` with `convert(bits)`.
template <size_t Bytes, class To, class Convert>
void widen(const unsigned char* src, int64_t n, void* dst, Convert convert) {
  To* out = static_cast<To*>(dst);
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits = 0;
    for (size_t b = 0; b < Bytes; ++b) bits |= static_cast<uint32_t>(src[i * Bytes + b]) << (8 * b);
    out[i] = convert(bits);
  }
}

using Widen = void (*)(const unsigned char* src, int64_t n, void* dst);

// A dtype as the file stores it and the tensor dtype it is read into. Integers widen to int64 and
// F16/BF16 to float32: both conversions are exact (every I32, I8, U8 is an int64, and every
// half and bfloat16 value, subnormals, infinities and NaN payloads included, is a float).
struct FileDType {
  const char* name;
  size_t bytes;  // per element in the file
  DType into;
  Widen widen;  // null when the file's bytes are the tensor's (little-endian)
};

const FileDType kReadable[] = {
    {"F32", 4, kFloat32, nullptr},
    {"F64", 8, kFloat64, nullptr},
    {"I64", 8, kInt64, nullptr},
    {"I32", 4, kInt64,
     [](const unsigned char* s, int64_t n, void* d) {
       widen<4, int64_t>(s, n, d, [](uint32_t b) { return static_cast<int32_t>(b); });
     }},
    {"I8", 1, kInt64,
     [](const unsigned char* s, int64_t n, void* d) {
       widen<1, int64_t>(s, n, d, [](uint32_t b) { return static_cast<int8_t>(b); });
     }},
    {"U8", 1, kInt64,
     [](const unsigned char* s, int64_t n, void* d) {
       widen<1, int64_t>(s, n, d, [](uint32_t b) { return b; });
     }},
    {"F16", 2, kFloat32,
     [](const unsigned char* s, int64_t n, void* d) {
       widen<2, float>(s, n, d, [](uint32_t b) { return half_to_float(static_cast<uint16_t>(b)); });
     }},
    // bfloat16 is the top half of a float32.
    {"BF16", 2, kFloat32,
     [](const unsigned char* s, int64_t n, void* d) {
       widen<2, float>(s, n, d, [](uint32_t b) { return std::bit_cast<float>(b << 16); });
     }},
};

const FileDType* readable_dtype(const std::string& name) {
  for (const FileDType& d : kReadable)
    if (name == d.name) return &d;
  return nullptr;
}

// Spec dtypes nabla does not read, to tell "unsupported" from "not a dtype at all".
const std::set<std::string>& other_spec_dtypes() {
  static const std::set<std::string> names = {"BOOL", "I16",     "U16",     "U32",
                                              "U64",  "F8_E5M2", "F8_E4M3", "F8_E8M0",
                                              "F4",   "F6_E2M3", "F6_E3M2", "C64"};
  return names;
}

const char* spec_dtype(DType t) {
  return t == kFloat64 ? "F64" : t == kInt64 ? "I64" : "F32";
}

// Copies n elements of `size` bytes each, swapping byte order on a big-endian host (the format
// is little-endian).
[[maybe_unused]] void copy_little_endian(char* dst, const char* src, int64_t n, size_t size) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(dst, src, static_cast<size_t>(n) * size);
  } else {
    for (int64_t i = 0; i < n; ++i)
      for (size_t b = 0; b < size; ++b) dst[i * size + b] = src[i * size + size - 1 - b];
  }
}

// ---------------------------------------------------------------- writing

std::string header_json(const NamedTensors& tensors, const Metadata& metadata) {
  Json header = Json::object();
  if (!metadata.empty()) {
    Json meta = Json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
    header["__metadata__"] = std::move(meta);
  }
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    NABLA_CHECK(!name.empty() && name != "__metadata__", "save_safetensors: invalid tensor name '",
                name, "'");
    NABLA_CHECK(seen.insert(name).second, "save_safetensors: tensor name '", name,
                "' appears twice");
    NABLA_CHECK(tensor.defined(), "save_safetensors: tensor '", name, "' is undefined");
    const uint64_t bytes = static_cast<uint64_t>(tensor.numel()) * dtype_size(tensor.dtype());
    header[name] = Json{{"dtype", spec_dtype(tensor.dtype())},
                        {"shape", tensor.shape().vec()},
                        {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  // Pad so the data, and so every F64 tensor, starts 8-byte aligned in the file.
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

// Streams the file to `sink(const void*, size_t)`.
template <class Sink>
void write_safetensors(const NamedTensors& tensors, const Metadata& metadata, Sink&& sink) {
  const std::string header = header_json(tensors, metadata);
  char length[kHeaderLengthBytes];
  const uint64_t n = header.size();
  for (size_t b = 0; b < kHeaderLengthBytes; ++b) length[b] = static_cast<char>(n >> (8 * b));
  sink(length, sizeof length);
  sink(header.data(), header.size());
  std::vector<char> swapped;
  for (const auto& entry : tensors) {
    const Tensor t = entry.second.contiguous();
    const size_t size = dtype_size(t.dtype());
    const size_t bytes = static_cast<size_t>(t.numel()) * size;
    if (bytes == 0) continue;
    const char* data = dispatch_all(
        t.dtype(), [&]<class T>() { return reinterpret_cast<const char*>(t.data<T>()); });
    if constexpr (std::endian::native == std::endian::little) {
      sink(data, bytes);
    } else {
      swapped.resize(bytes);
      copy_little_endian(swapped.data(), data, t.numel(), size);
      sink(swapped.data(), bytes);
    }
  }
}

// ---------------------------------------------------------------- reading

class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    NABLA_CHECK(fd_ >= 0, "load_safetensors: cannot open ", path_, ": ", std::strerror(errno));
    struct stat st;
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd_);
      NABLA_CHECK(false, "load_safetensors: ", path_, " is not a regular file");
    }
    size_ = static_cast<uint64_t>(st.st_size);
  }
  ~Reader() { ::close(fd_); }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  uint64_t size() const { return size_; }

  template <class... Parts>
  [[noreturn]] void fail(uint64_t offset, const Parts&... parts) const {
    detail::throw_error("load_safetensors: ", path_, ": byte ", offset, ": ", parts...);
  }

  // Reads exactly n bytes at `offset`; the file may have shrunk since fstat, so check again.
  void read(void* dst, uint64_t n, uint64_t offset, const std::string& what) const {
    char* p = static_cast<char*>(dst);
    while (n > 0) {
      ssize_t got = ::pread(fd_, p, n, static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) fail(offset, "reading ", what, " failed: ", std::strerror(errno));
      if (got == 0) fail(offset, "the file ends while reading ", what, " (", n, " bytes missing)");
      p += got;
      n -= static_cast<uint64_t>(got);
      offset += static_cast<uint64_t>(got);
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

struct Entry {
  std::string name;
  const FileDType* stored;
  DType dtype;
  Shape shape;
  uint64_t begin, end;  // relative to the data section
};

// File offset of `"key":` in the header text, for error messages (the header start if the key is
// spelled with escapes that dump() does not reproduce).
uint64_t key_offset(const std::string& header, const std::string& key) {
  const std::string quoted = Json(key).dump();
  for (size_t at = header.find(quoted); at != std::string::npos; at = header.find(quoted, at + 1)) {
    size_t after = header.find_first_not_of(" \t\r\n", at + quoted.size());
    if (after != std::string::npos && header[after] == ':') return kHeaderLengthBytes + at;
  }
  return kHeaderLengthBytes;
}

std::string json_type(const Json& j) {
  return j.type_name();
}

// `header` is searched for the entry's key only to report an error: searching for every entry
// would take time quadratic in the header's size.
Entry parse_entry(const Reader& file, const std::string& name, const Json& info,
                  const std::string& header, uint64_t data_size, uint64_t data_start) {
  Entry e{name, nullptr, kFloat32, {}, 0, 0};
  auto fail = [&](const auto&... parts) {
    file.fail(key_offset(header, name), "tensor '", name, "': ", parts...);
  };
  if (!info.is_object())
    fail("expected an object {dtype, shape, data_offsets}, got ", json_type(info));
  for (const char* field : {"dtype", "shape", "data_offsets"})
    if (!info.contains(field)) fail("missing \"", field, "\"");

  const Json& dtype = info["dtype"];
  if (!dtype.is_string()) fail("\"dtype\" must be a string, got ", json_type(dtype));
  const std::string d = dtype.get<std::string>();
  e.stored = readable_dtype(d);
  if (e.stored) {
    e.dtype = e.stored->into;
  } else if (other_spec_dtypes().count(d)) {
    fail("dtype ", d,
         " is not supported: nabla reads F32, F64, I64, I32, I8, U8, F16 and BF16 --- convert the "
         "tensor to one of them before saving");
  } else {
    fail("unknown dtype \"", d, "\"");
  }

  const Json& shape = info["shape"];
  if (!shape.is_array()) fail("\"shape\" must be an array, got ", json_type(shape));
  if (shape.size() > static_cast<size_t>(Shape::kMaxDims))
    fail("shape has ", shape.size(), " dimensions; nabla supports at most ", Shape::kMaxDims);
  uint64_t bytes = e.stored->bytes;
  bool overflow = false, empty = false;
  for (const Json& extent : shape) {
    if (!extent.is_number_unsigned())
      fail("shape ", shape.dump(), " must hold non-negative integers");
    const uint64_t x = extent.get<uint64_t>();
    if (x > static_cast<uint64_t>(INT64_MAX)) fail("shape ", shape.dump(), " is too large");
    e.shape.push_back(static_cast<int64_t>(x));
    empty = empty || x == 0;
    overflow = overflow || __builtin_mul_overflow(bytes, x, &bytes);
  }
  if (empty) {
    bytes = 0;
    overflow = false;
  }

  const Json& offsets = info["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned())
    fail("\"data_offsets\" must be [begin, end] with non-negative integers, got ", offsets.dump());
  e.begin = offsets[0].get<uint64_t>();
  e.end = offsets[1].get<uint64_t>();
  if (e.begin > e.end) fail("data_offsets [", e.begin, ", ", e.end, "] end before they begin");
  if (e.end > data_size)
    fail("data_offsets [", e.begin, ", ", e.end, "] end at byte ", data_start, " + ", e.end,
         " of the file, past its end (", data_start + data_size,
         " bytes) --- the file is truncated or its header is corrupt");
  if (overflow || e.end - e.begin != bytes)
    fail("dtype ", d, " and shape ", e.shape, " need ",
         overflow ? std::string("more than 2^64 bytes") : std::to_string(bytes) + " bytes",
         ", but data_offsets [", e.begin, ", ", e.end, "] span ", e.end - e.begin, " bytes");
  return e;
}

}  // namespace

// ---------------------------------------------------------------- API

const Tensor& SafetensorsFile::at(const std::string& name) const {
  for (const auto& entry : tensors)
    if (entry.first == name) return entry.second;
  NABLA_CHECK(false, "safetensors: ", path, " has no tensor named '", name, "'");
}

bool SafetensorsFile::contains(const std::string& name) const {
  for (const auto& entry : tensors)
    if (entry.first == name) return true;
  return false;
}

std::string safetensors_bytes(const NamedTensors& tensors, const Metadata& metadata) {
  std::string out;
  write_safetensors(tensors, metadata, [&](const void* data, size_t n) {
    out.append(static_cast<const char*>(data), n);
  });
  return out;
}

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const Metadata& metadata) {
  // Validate (names, definedness) before creating any file.
  header_json(tensors, metadata);
  AtomicFile out(path);
  write_safetensors(tensors, metadata, [&](const void* data, size_t n) { out.write(data, n); });
  out.commit();
}

SafetensorsFile load_safetensors(const std::string& path) {
  Reader file(path);
  const uint64_t file_size = file.size();
  if (file_size < kHeaderLengthBytes)
    file.fail(0, "the file has ", file_size,
              " bytes, fewer than the 8-byte header length --- the file is truncated or not a "
              "safetensors file");
  unsigned char length[kHeaderLengthBytes];
  file.read(length, kHeaderLengthBytes, 0, "the header length");
  uint64_t n = 0;
  for (size_t b = 0; b < kHeaderLengthBytes; ++b) n |= static_cast<uint64_t>(length[b]) << (8 * b);
  if (n > file_size - kHeaderLengthBytes)
    file.fail(0, "header length ", n, " runs past the end of the file (", file_size,
              " bytes) --- the file is truncated or not a safetensors file");
  if (n > kMaxHeaderBytes)
    file.fail(0, "header length ", n, " exceeds the format's limit of ", kMaxHeaderBytes, " bytes");
  if (n < 2) file.fail(0, "header length ", n, " is too short for a JSON object");

  std::string header(n, '\0');
  file.read(header.data(), n, kHeaderLengthBytes, "the header");
  if (header[0] != '{')
    file.fail(kHeaderLengthBytes, "the header must be a JSON object starting with '{'");
  if (const size_t at = io_detail::json_too_deep(header); at != std::string::npos)
    file.fail(kHeaderLengthBytes + at, "the header nests deeper than ", io_detail::kMaxJsonDepth,
              " levels; a safetensors header needs 3");

  // The format forbids duplicate names; nlohmann keeps the last silently, so watch the keys.
  std::set<std::string> keys;
  std::string duplicate;
  Json root;
  try {
    root = Json::parse(header, [&](int depth, Json::parse_event_t event, Json& parsed) {
      if (depth == 1 && event == Json::parse_event_t::key && duplicate.empty() &&
          !keys.insert(parsed.get<std::string>()).second)
        duplicate = parsed.get<std::string>();
      return true;
    });
  } catch (const Json::parse_error& e) {
    // e.byte counts from 1 within the header.
    const uint64_t at = kHeaderLengthBytes + (e.byte > 0 ? e.byte - 1 : 0);
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ..."
    size_t colon = what.find(": ");
    file.fail(at, "the header is not valid JSON: ",
              io_detail::printable(colon == std::string::npos ? what : what.substr(colon + 2)));
  } catch (const Json::exception& e) {
    file.fail(kHeaderLengthBytes,
              "the header is not valid JSON: ", io_detail::json_error_text(e.what()));
  }
  if (!duplicate.empty())
    file.fail(key_offset(header, duplicate), "the header names '", duplicate,
              "' twice; the format forbids duplicate names");
  if (!root.is_object())
    file.fail(kHeaderLengthBytes, "the header must be a JSON object, got ", json_type(root));

  const uint64_t data_start = kHeaderLengthBytes + n;
  const uint64_t data_size = file_size - data_start;
  SafetensorsFile result;
  result.path = path;
  std::vector<Entry> entries;
  for (const auto& [name, value] : root.items()) {
    if (name == "__metadata__") {
      if (!value.is_object())
        file.fail(key_offset(header, name), "\"__metadata__\" must be an object of strings, got ",
                  json_type(value));
      for (const auto& [key, text] : value.items()) {
        if (!text.is_string())
          file.fail(key_offset(header, key), "\"__metadata__\" value of '", key,
                    "' must be a string, got ", json_type(text));
        result.metadata[key] = text.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(file, name, value, header, data_size, data_start));
  }

  // Sorted by offset, the tensors must tile [0, data_size): no overlap, no hole, no tail.
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t covered = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < covered)
      file.fail(data_start + e.begin, "tensor '", e.name, "' data_offsets [", e.begin, ", ", e.end,
                "] overlap tensor '", previous->name, "' [", previous->begin, ", ", previous->end,
                "]");
    if (e.begin > covered)
      file.fail(data_start + covered, "bytes ", data_start + covered, "..", data_start + e.begin,
                " belong to no tensor (the next, '", e.name,
                "', begins later); the format allows no holes");
    covered = e.end;
    previous = &e;
  }
  if (covered != data_size)
    file.fail(data_start + covered, "the last ", data_size - covered,
              " bytes of the file belong to no tensor; the format allows no trailing data");

  result.tensors.reserve(entries.size());
  std::vector<char> raw;
  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    const uint64_t bytes = e.end - e.begin;
    if (bytes > 0) {
      char* dst =
          dispatch_all(e.dtype, [&]<class T>() { return reinterpret_cast<char*>(t.data<T>()); });
      const std::string what = "tensor '" + e.name + "'";
      if (e.stored->widen) {
        raw.resize(bytes);
        file.read(raw.data(), bytes, data_start + e.begin, what);
        e.stored->widen(reinterpret_cast<const unsigned char*>(raw.data()), t.numel(), dst);
      } else if constexpr (std::endian::native == std::endian::little) {
        file.read(dst, bytes, data_start + e.begin, what);
      } else {
        raw.resize(bytes);
        file.read(raw.data(), bytes, data_start + e.begin, what);
        copy_little_endian(dst, raw.data(), t.numel(), dtype_size(e.dtype));
      }
    }
    result.tensors.emplace_back(e.name, std::move(t));
  }
  return result;
}

}  // namespace nabla::io

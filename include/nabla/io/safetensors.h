// Reading and writing the safetensors format (https://github.com/huggingface/safetensors), the
// file PyTorch's ecosystem uses for weights:
//
//   bytes 0..8       N, the header's length: unsigned 64-bit little-endian
//   bytes 8..8+N     a JSON object, UTF-8, padded with spaces:
//                      {"__metadata__": {"key": "string", ...},               (optional)
//                       "0.weight": {"dtype": "F32", "shape": [8, 2], "data_offsets": [0, 64]},
//                       ...}
//   bytes 8+N..end   the tensors' raw little-endian row-major data; data_offsets are relative to
//                    byte 8+N, [begin, end), and together cover it exactly (no holes, no overlap)
//
// nabla reads and writes F32, F64 and I64 tensors (its three dtypes); a file with any other dtype
// is refused with a message naming it. The reader trusts nothing in the file: the header length,
// every shape and every offset are checked against the file's size before anything is allocated,
// so a corrupt or hostile file costs at most its own size in memory. Every error is a nabla::Error
// naming the file, the byte offset and what was wrong:
//
//   load_safetensors: model.safetensors: byte 0: header length 1000000 runs past the end of the
//   file (132 bytes) --- the file is truncated or not a safetensors file
//
// Not here: memory mapping, lazy loading, dtypes nabla has no tensors for (F16, BF16, I32, ...).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "nabla/tensor.h"

namespace nabla::io {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
// The header's "__metadata__": free-form string keys and string values.
using Metadata = std::map<std::string, std::string>;

struct SafetensorsFile {
  std::string path;
  NamedTensors tensors;  // in the order of their data in the file
  Metadata metadata;

  // The tensor named `name`; throws naming the file when there is none.
  const Tensor& at(const std::string& name) const;
  bool contains(const std::string& name) const;
};

// Writes `tensors` (in the given order; any layout, any of nabla's dtypes) and `metadata` to
// `path`, atomically (see atomic_file.h).
// requires: names are unique, non-empty and not "__metadata__"; every tensor is defined.
// ensures: the header is padded with spaces so the data starts on an 8-byte boundary.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const Metadata& metadata = {});

// The whole file as bytes (what save_safetensors writes).
std::string safetensors_bytes(const NamedTensors& tensors, const Metadata& metadata = {});

// Reads and validates a whole file. Returned tensors are contiguous, own their data and do not
// require grad.
SafetensorsFile load_safetensors(const std::string& path);

}  // namespace nabla::io

// read_idx on arbitrary bytes: plain IDX files, and (through the corpus's .gz seeds) gzip
// streams, corrupt ones included, since compression is detected from the content.
#include "fuzz_util.h"
#include "nabla/data/idx.h"
#include "nabla/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = nabla::fuzz::write_input("input.idx", data, size);
  try {
    nabla::data::IdxArray a = nabla::data::read_idx(path);
    // What the reader returns must be what it promises: product(dims) bytes.
    int64_t n = 1;
    for (int64_t d : a.dims) n *= d;
    if (a.dims.empty() || static_cast<size_t>(n) != a.data.size()) std::abort();
  } catch (const nabla::Error&) {
  }
  return 0;
}

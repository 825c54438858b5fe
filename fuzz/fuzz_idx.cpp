// read_idx on arbitrary bytes: plain IDX files, and (through the corpus's .gz seeds) gzip
// streams, corrupt ones included, since compression is detected from the content.
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nabla::fuzz::read_idx_and_check(nabla::fuzz::write_input("input.idx", data, size));
  return 0;
}

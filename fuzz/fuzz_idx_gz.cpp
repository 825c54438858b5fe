// read_idx on gzip-compressed IDX files: each input is compressed before it is written, so the
// fuzzer mutates the IDX header and data rather than deflate's bits, and the reader's gzip path
// (sizes unknown until the stream is read) sees every header the plain target sees.
#include <zlib.h>

#include <vector>

#include "fuzz_util.h"

namespace {

std::vector<uint8_t> gzip(const uint8_t* data, size_t size) {
  z_stream z{};
  // 15 window bits + 16: a gzip wrapper, as gzopen writes and reads.
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    std::abort();
  std::vector<uint8_t> out(deflateBound(&z, size) + 32);
  z.next_in = const_cast<uint8_t*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> gz = gzip(data, size);
  nabla::fuzz::read_idx_and_check(nabla::fuzz::write_input("input.idx.gz", gz.data(), gz.size()));
  return 0;
}

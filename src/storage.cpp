// Storage allocation with a per-thread cache of freed buffers.
//
// A training step allocates and frees the same tensor sizes every iteration. glibc serves large
// blocks with mmap and returns them to the kernel on free, so each step would page-fault its
// activations in again. Freed buffers are kept in power-of-two buckets (up to a byte cap) and
// handed out again; memory stays flat across steps because the same sizes come back.
#include <array>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "nabla/tensor.h"

namespace nabla {
namespace {

constexpr size_t kAlign = 64;
constexpr size_t kMinBucketBytes = 64;
constexpr size_t kCacheCapBytes = size_t{256} << 20;
constexpr int kBuckets = 48;

// Set once this thread's cache is destroyed (thread or program exit); later frees bypass it.
thread_local bool cache_gone = false;

struct BufferCache {
  std::array<std::vector<void*>, kBuckets> free;
  size_t cached_bytes = 0;
  ~BufferCache() {
    cache_gone = true;
    for (auto& bucket : free)
      for (void* p : bucket) std::free(p);
  }
};

BufferCache& cache() {
  thread_local BufferCache c;
  return c;
}

int bucket_of(size_t bytes) {
  return std::bit_width(std::max(bytes, kMinBucketBytes) - 1);
}

}  // namespace

Storage::Storage(size_t bytes) {
  int b = bucket_of(bytes);
  NABLA_CHECK(b < kBuckets, "tensor of ", bytes, " bytes is too large to allocate");
  bytes_ = size_t{1} << b;
  if (!cache_gone) {
    BufferCache& c = cache();
    if (!c.free[b].empty()) {
      data_ = c.free[b].back();
      c.free[b].pop_back();
      c.cached_bytes -= bytes_;
      return;
    }
  }
  data_ = std::aligned_alloc(kAlign, bytes_);
  if (data_ == nullptr) {
    NABLA_CHECK(false, "out of memory allocating a tensor of ", bytes, " bytes");
  }
}

Storage::~Storage() {
  if (cache_gone) {
    std::free(data_);
    return;
  }
  BufferCache& c = cache();
  int b = bucket_of(bytes_);
  if (c.cached_bytes + bytes_ <= kCacheCapBytes) {
    c.free[b].push_back(data_);
    c.cached_bytes += bytes_;
  } else {
    std::free(data_);
  }
}

}  // namespace nabla

// Storage allocation with a per-thread cache of freed buffers.
//
// A training step allocates and frees the same tensor sizes every iteration. glibc serves large
// blocks with mmap and returns them to the kernel on free, so each step would page-fault its
// activations in again. Freed buffers are kept in power-of-two buckets (up to a byte cap) and
// handed out again; memory stays flat across steps because the same sizes come back.
// Every live buffer's size is counted against the memory limit (memory.h, src/memory.cpp).
#include <array>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "nabla/memory.h"
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

Storage::Storage(size_t bytes, const Shape& shape, DType dtype) : counted_(bytes) {
  int b = bucket_of(bytes);
  NABLA_CHECK(b < kBuckets, "cannot allocate ", dtype_name(dtype), " ", shape, ": ", bytes,
              " bytes is too large");
  // Counted (or refused by the memory limit) before anything is allocated; released below if
  // the allocation itself fails.
  detail::memory_acquire(bytes, shape, dtype);
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
    detail::memory_release(bytes);
    detail::throw_error("out of memory allocating ", dtype_name(dtype), " ", shape, " (",
                        format_bytes(bytes), ", ", format_bytes(memory_in_use()),
                        " of tensors in use)");
  }
}

Storage::~Storage() {
  detail::memory_release(counted_);
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

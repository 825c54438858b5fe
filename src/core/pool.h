// A per-thread free-list allocator for the small objects every op makes: tensor headers
// (TensorImpl), Storage handles and graph Nodes, each inside its shared_ptr control block.
//
// A tiny network (the XOR benchmark) spends most of its time creating and destroying these:
// glibc's per-thread cache holds only 7 blocks per size, so a backward pass that frees dozens
// at once falls through to the slow path. Here freed blocks go on an unbounded list per size
// class and come back on the next allocation. Use with std::allocate_shared:
//   auto impl = std::allocate_shared<TensorImpl>(PoolAllocator<TensorImpl>());
#pragma once

#include <cstddef>
#include <new>

namespace nabla::detail {

void* pool_allocate(size_t bytes);
void pool_free(void* p, size_t bytes) noexcept;

template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(pool_allocate(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { pool_free(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const PoolAllocator<U>&) const {
    return true;
  }
};

}  // namespace nabla::detail

#include "pool.h"

#include <array>
#include <cstdlib>

namespace nabla::detail {
namespace {

constexpr size_t kGranule = 16;
constexpr size_t kMaxPooled = 512;  // larger blocks go straight to malloc
constexpr size_t kClasses = kMaxPooled / kGranule;

struct FreeBlock {
  FreeBlock* next;
};

// Set once this thread's lists are destroyed; later frees go straight to free().
thread_local bool lists_gone = false;

struct FreeLists {
  std::array<FreeBlock*, kClasses> head{};
  ~FreeLists() {
    lists_gone = true;
    for (FreeBlock* b : head)
      while (b) {
        FreeBlock* next = b->next;
        std::free(b);
        b = next;
      }
  }
};

FreeLists& lists() {
  thread_local FreeLists l;
  return l;
}

size_t class_of(size_t bytes) {
  return (bytes + kGranule - 1) / kGranule - 1;
}

}  // namespace

void* pool_allocate(size_t bytes) {
  if (bytes <= kMaxPooled && !lists_gone) {
    FreeBlock*& head = lists().head[class_of(bytes)];
    if (head) {
      FreeBlock* b = head;
      head = b->next;
      return b;
    }
    bytes = (class_of(bytes) + 1) * kGranule;  // whole class, so any block of it can be reused
  }
  void* p = std::malloc(bytes);
  if (!p) throw std::bad_alloc();
  return p;
}

void pool_free(void* p, size_t bytes) noexcept {
  if (bytes <= kMaxPooled && !lists_gone) {
    FreeBlock*& head = lists().head[class_of(bytes)];
    auto* b = static_cast<FreeBlock*>(p);
    b->next = head;
    head = b;
    return;
  }
  std::free(p);
}

}  // namespace nabla::detail

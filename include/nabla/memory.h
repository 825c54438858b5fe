// Tensor memory: how many bytes live tensors hold, and a limit on it.
//
// Every tensor buffer is counted while it lives (Storage, src/storage.cpp). With a limit set, an
// allocation that would take the count past it throws a nabla::Error before allocating, naming
// the tensor (dtype and shape), what was allocating it (the innermost MemoryContexts: the layer
// being built or run, the op whose backward runs) and the sizes:
//
//   nabla::set_memory_limit(nabla::parse_memory_size("512M"));   // or NABLA_MEMORY_LIMIT=512M,
//                                                                // or nabla --memory-limit 512M
//   {
//     nabla::MemoryContext context("my preprocessing");          // named in a limit error
//     Tensor big = Tensor::zeros({1 << 20, 1024});               // 4 GiB: throws
//   }
//   size_t now = nabla::memory_in_use(), most = nabla::memory_peak();
//
// The count is the tensors' own sizes (numel × dtype size). The allocator rounds each buffer up to
// a power of two and keeps freed buffers for reuse (up to 256 MiB per thread), so the process's
// resident memory can be larger than the count; the limit is on tensors, not the whole process.
#pragma once

#include <cstddef>
#include <string>

#include "nabla/dtype.h"
#include "nabla/shape.h"

namespace nabla {

// The limit in bytes; 0 removes it. Replaces a limit read from NABLA_MEMORY_LIMIT. `source` is
// what a limit error says set it (the CLI passes its flag's name); a string literal.
void set_memory_limit(size_t bytes, const char* source = "set_memory_limit");
// The limit in bytes, 0 when there is none.
size_t memory_limit();
// Bytes held by live tensor buffers now (all threads), and the most since the last reset.
size_t memory_in_use();
size_t memory_peak();
void reset_memory_peak();  // the peak becomes memory_in_use()

// "1048576", "512K", "512M", "2G", "1.5G", "1T" (binary units: K = 1024; a trailing "B" or "iB"
// is allowed, case does not matter; "0" or "none" means no limit, 0). Throws, naming the text.
size_t parse_memory_size(const std::string& text);
// "512 MiB", "1.50 GiB", "300 bytes": for messages.
std::string format_bytes(size_t bytes);

// Names what the current thread is allocating, for a limit error, while it lives. Contexts nest;
// the error names them outermost first ("layer '3' (Linear), backward of matmul"). Nothing is
// copied or allocated: the text (or the object) must outlive the context, and a describe
// function runs only when an error needs the text.
class MemoryContext {
 public:
  explicit MemoryContext(const char* what) noexcept;
  explicit MemoryContext(const std::string& what) noexcept;
  explicit MemoryContext(std::string&& what) = delete;  // a temporary would not outlive it
  MemoryContext(const void* object, std::string (*describe)(const void*)) noexcept;
  ~MemoryContext();
  MemoryContext(const MemoryContext&) = delete;
  MemoryContext& operator=(const MemoryContext&) = delete;

  // The current thread's contexts, outermost first, joined by ", "; "" when there are none.
  static std::string current();

 private:
  std::string text() const;
  const char* chars_ = nullptr;
  const std::string* string_ = nullptr;
  const void* object_ = nullptr;
  std::string (*describe_)(const void*) = nullptr;
  MemoryContext* outer_;
};

namespace detail {
// Counts `bytes` for a new buffer of a tensor of `shape` and `dtype`, or throws the limit error
// without counting them. For Storage only.
void memory_acquire(size_t bytes, const Shape& shape, DType dtype);
void memory_release(size_t bytes) noexcept;
}  // namespace detail

}  // namespace nabla

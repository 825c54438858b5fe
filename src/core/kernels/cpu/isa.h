// Which vector instruction set the hand-written kernels (GEMM) run with, chosen at run time so
// that one binary runs everywhere: the widest the CPU and OS support, unless overridden by the
// environment (NABLA_ISA=generic|avx2|avx512) or, in tests, by a ScopedIsa. Asking for a set the
// CPU lacks is an error, never a crash on an illegal instruction.
#pragma once

#include <string_view>

namespace nabla::cpu {

// Ordered: each includes what the one before it needs. avx2 means AVX2 + FMA; avx512 AVX-512F.
enum class Isa { generic, avx2, avx512 };

const char* isa_name(Isa isa);
// The width of the widest vector registers a set's kernels use: 128 (SSE2), 256, 512 bits.
int isa_vector_bits(Isa isa);
// Parses "generic", "avx2", "avx512"; throws nabla::Error naming the choices otherwise.
Isa parse_isa(std::string_view name);

// The widest set this CPU and its OS (saved vector state) support.
Isa detected_isa();
bool isa_supported(Isa isa);

// What kernels use now: a ScopedIsa's choice, else NABLA_ISA's, else detected_isa().
Isa active_isa();

// Makes kernels use `isa` until destroyed (then the previous choice returns). Throws if the CPU
// lacks it. Process-wide, not per thread: for tests and benchmarks, not for concurrent use.
class ScopedIsa {
 public:
  explicit ScopedIsa(Isa isa);
  ~ScopedIsa();
  ScopedIsa(const ScopedIsa&) = delete;
  ScopedIsa& operator=(const ScopedIsa&) = delete;

 private:
  int previous_;
};

}  // namespace nabla::cpu

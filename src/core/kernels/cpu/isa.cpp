#include "kernels/cpu/isa.h"

#include <atomic>
#include <cstdlib>
#include <string>

#include "nabla/error.h"

namespace nabla::cpu {
namespace {

constexpr int kNoOverride = -1;
std::atomic<int> g_override{kNoOverride};

Isa probe() {
#if defined(__x86_64__) || defined(__i386__)
  // libgcc's probe also checks XCR0, so a set the OS does not save is reported as absent.
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return Isa::avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::avx2;
#endif
  return Isa::generic;
}

void check_supported(Isa isa, const char* who) {
  NABLA_CHECK(isa_supported(isa), who, ": this CPU does not support ", isa_name(isa),
              " (it supports up to ", isa_name(detected_isa()), ")");
}

Isa from_environment() {
  const char* env = std::getenv("NABLA_ISA");
  if (!env || !*env) return detected_isa();
  const Isa isa = parse_isa(env);
  check_supported(isa, "NABLA_ISA");
  return isa;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::generic:
      return "generic";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512:
      return "avx512";
  }
  return "?";
}

int isa_vector_bits(Isa isa) {
  switch (isa) {
    case Isa::generic:
      return 128;
    case Isa::avx2:
      return 256;
    case Isa::avx512:
      return 512;
  }
  return 128;
}

Isa parse_isa(std::string_view name) {
  for (Isa isa : {Isa::generic, Isa::avx2, Isa::avx512})
    if (name == isa_name(isa)) return isa;
  detail::throw_error("NABLA_ISA: unknown instruction set '", std::string(name),
                      "' (choose generic, avx2 or avx512)");
}

Isa detected_isa() {
  static const Isa isa = probe();
  return isa;
}

bool isa_supported(Isa isa) {
  return static_cast<int>(isa) <= static_cast<int>(detected_isa());
}

Isa active_isa() {
  if (int o = g_override.load(std::memory_order_relaxed); o != kNoOverride) return Isa(o);
  static const Isa from_env = from_environment();
  return from_env;
}

ScopedIsa::ScopedIsa(Isa isa) : previous_(g_override.load()) {
  check_supported(isa, "ScopedIsa");
  g_override.store(static_cast<int>(isa));
}

ScopedIsa::~ScopedIsa() {
  g_override.store(previous_);
}

}  // namespace nabla::cpu

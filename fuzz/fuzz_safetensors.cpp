// load_safetensors on arbitrary bytes; every tensor it accepts is read back in full.
#include "fuzz_util.h"
#include "nabla/error.h"
#include "nabla/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = nabla::fuzz::write_input("input.safetensors", data, size);
  try {
    nabla::io::SafetensorsFile file = nabla::io::load_safetensors(path);
    uint64_t bytes = 0;
    for (const auto& [name, t] : file.tensors) {
      if (name.empty() || !t.defined() || !t.is_contiguous()) std::abort();
      bytes += static_cast<uint64_t>(t.numel()) * nabla::dtype_size(t.dtype());
      // Touch every element: ASan flags a tensor smaller than its shape says.
      volatile double sum = 0;
      for (double v : t.to_vector()) sum = sum + v;
    }
    // The data section holds every tensor once, so they cannot add up to more than the file.
    if (bytes > size) std::abort();
  } catch (const nabla::Error&) {
  }
  return 0;
}

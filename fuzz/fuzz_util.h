// Shared by the fuzz targets: a scratch directory per process for readers that take a path, and
// the rule every target enforces. A reader may reject any input, but only with nabla::Error;
// any other exception escapes LLVMFuzzerTestOneInput, std::terminate aborts, and libFuzzer
// reports the input as a crash (as it does for sanitizer reports, leaks and timeouts).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "nabla/data/idx.h"
#include "nabla/error.h"

namespace nabla::fuzz {

// A directory under $TMPDIR (or /tmp) that lives as long as the process; removed at exit.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path p =
        std::filesystem::temp_directory_path() / ("nabla-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(p);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return p;
  }();
  return dir;
}

// Writes `size` bytes to `name` in the scratch directory and returns its path.
inline std::string write_input(const std::string& name, const void* data, size_t size) {
  std::string path = (scratch_dir() / name).string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) std::abort();  // the harness, not the reader, failed: stop rather than mislead
  return path;
}

// read_idx on the file at `path` (plain or gzip): it may reject the input with nabla::Error, and
// what it returns must be what it promises, product(dims) bytes.
inline void read_idx_and_check(const std::string& path) {
  try {
    nabla::data::IdxArray a = nabla::data::read_idx(path);
    int64_t n = 1;
    for (int64_t d : a.dims) n *= d;
    if (a.dims.empty() || static_cast<size_t>(n) != a.data.size()) std::abort();
  } catch (const nabla::Error&) {
  }
}

}  // namespace nabla::fuzz

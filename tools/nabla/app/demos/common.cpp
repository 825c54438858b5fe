// Helpers shared by the demos.
#include "app/demos/common.h"

#include <filesystem>

#include "app/demos.h"

namespace nabla::demos {

std::string output_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return "";
  return (std::filesystem::path(dir) / name).string();
}

std::string pad(const std::string& s, size_t width) {
  size_t columns = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++columns;  // count lead bytes only
  return columns >= width ? s : s + std::string(width - columns, ' ');
}

const std::vector<std::string>& demo_names() {
  static const std::vector<std::string> names = {"scalar", "matrix", "xor"};
  return names;
}

}  // namespace nabla::demos

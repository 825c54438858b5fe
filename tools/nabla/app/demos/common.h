// Helpers shared by the demos (not public API).
#pragma once

#include <string>

namespace nabla::demos {

// `dir`/`name`, or "" when no directory was given (the demo then writes nothing).
std::string output_path(const std::string& dir, const std::string& name);

// `s` padded with spaces to `width` columns; counts UTF-8 characters, not bytes, so that names
// such as "a·x" line up.
std::string pad(const std::string& s, size_t width);

}  // namespace nabla::demos

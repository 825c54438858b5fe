// nabla's one error type and the checks that throw it.
//
// NABLA_CHECK(cond, parts...) is for what a user can get wrong (shapes, dtypes, files): the parts
// are streamed into the message, which should name the op, the argument and both shapes.
// NABLA_ASSERT(cond) is for nabla's own invariants and reports file, line and expression.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace nabla {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
template <class... Parts>
[[noreturn]] void throw_error(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  throw Error(out.str());
}
[[noreturn]] void assert_fail(const char* expr, const char* file, int line);
}  // namespace detail

}  // namespace nabla

#define NABLA_CHECK(cond, ...)                   \
  do {                                           \
    if (!(cond)) [[unlikely]]                    \
      ::nabla::detail::throw_error(__VA_ARGS__); \
  } while (0)

#define NABLA_ASSERT(cond)                                     \
  do {                                                         \
    if (!(cond)) [[unlikely]]                                  \
      ::nabla::detail::assert_fail(#cond, __FILE__, __LINE__); \
  } while (0)

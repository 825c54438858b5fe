// Shape helpers: printing, strides, broadcasting rules.
#include "nabla/shape.h"

#include <ostream>
#include <sstream>

namespace nabla {

namespace detail {
void assert_fail(const char* expr, const char* file, int line) {
  throw_error("internal error: assertion `", expr, "` failed at ", file, ":", line,
              " (please report this as a nabla bug)");
}
}  // namespace detail

void Shape::insert(int pos, int64_t v) {
  NABLA_ASSERT(pos >= 0 && pos <= n_);
  push_back(0);
  for (int i = n_ - 1; i > pos; --i) d_[i] = d_[i - 1];
  d_[pos] = v;
}

void Shape::erase(int pos) {
  NABLA_ASSERT(pos >= 0 && pos < n_);
  for (int i = pos; i + 1 < n_; ++i) d_[i] = d_[i + 1];
  --n_;
}

std::string Shape::str() const {
  std::ostringstream os;
  os << *this;
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Shape& s) {
  os << '[';
  for (int i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  return os << ']';
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  if (a == b) return a;
  int n = std::max(a.size(), b.size());
  Shape out = Shape::filled(n, 1);
  for (int i = 0; i < n; ++i) {
    int ia = a.size() - n + i, ib = b.size() - n + i;
    int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    NABLA_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", a, " and ", b,
                " cannot be broadcast (dim ", i - n, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Shape broadcast_strides(const Shape& shape, const Shape& strides, const Shape& target) {
  Shape out = Shape::filled(target.size(), 0);
  int lead = target.size() - shape.size();
  NABLA_ASSERT(lead >= 0);
  for (int i = 0; i < shape.size(); ++i) {
    NABLA_ASSERT(shape[i] == target[lead + i] || shape[i] == 1);
    out[lead + i] = shape[i] == 1 ? 0 : strides[i];
  }
  return out;
}

int normalize_dim(int64_t dim, int ndim, const char* op) {
  int64_t lo = -std::max(ndim, 1), hi = std::max(ndim, 1) - 1;
  NABLA_CHECK(dim >= lo && dim <= hi, op, ": dim ", dim, " is out of range for a ", ndim,
              "-d tensor (expected ", lo, " to ", hi, ")");
  return static_cast<int>(dim < 0 ? dim + std::max(ndim, 1) : dim);
}

}  // namespace nabla

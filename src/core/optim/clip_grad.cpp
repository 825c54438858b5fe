// Gradient clipping by norm (see include/nabla/optim/clip_grad.h).
#include "nabla/optim/clip_grad.h"

#include <cmath>

#include "nabla/dtype.h"
#include "nabla/error.h"

namespace nabla::optim {

namespace {

void check_norm_type(double norm_type, const char* where) {
  NABLA_CHECK(norm_type == 2.0 || norm_type == INFINITY, where,
              ": norm_type must be 2 or inf, got ", norm_type);
}

}  // namespace

double grad_norm(const std::vector<Tensor>& params, double norm_type) {
  check_norm_type(norm_type, "grad_norm");
  const bool max_norm = norm_type == INFINITY;
  double total = 0;  // sum of squares, or the largest |g|
  for (const Tensor& p : params) {
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    const Tensor c = g.is_contiguous() ? g : g.contiguous();
    const int64_t n = c.numel();
    dispatch(c.dtype(), [&]<class T>() {
      const T* v = c.data<T>();
      for (int64_t i = 0; i < n; ++i) {
        const double x = static_cast<double>(v[i]);
        if (max_norm) {
          // NaN wins, as in torch's max: a NaN gradient makes the norm NaN.
          const double a = std::abs(x);
          if (std::isnan(a) || a > total) total = std::isnan(total) ? total : a;
        } else {
          total += x * x;
        }
      }
    });
  }
  return max_norm ? total : std::sqrt(total);
}

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type) {
  NABLA_CHECK(max_norm > 0 && !std::isnan(max_norm), "clip_grad_norm: max_norm must be > 0, got ",
              max_norm);
  check_norm_type(norm_type, "clip_grad_norm");
  const double total = grad_norm(params, norm_type);
  if (!std::isfinite(total)) return total;
  const double coef = max_norm / (total + 1e-6);
  if (coef >= 1) return total;
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    NABLA_CHECK(g.is_contiguous(), "clip_grad_norm: the gradient of a parameter of shape ",
                p.shape(), " is not contiguous and cannot be scaled in place");
    const int64_t n = g.numel();
    dispatch(g.dtype(), [&]<class T>() {
      T* v = g.data<T>();
      const auto scale = static_cast<T>(coef);
      for (int64_t i = 0; i < n; ++i) v[i] *= scale;
    });
  }
  return total;
}

}  // namespace nabla::optim

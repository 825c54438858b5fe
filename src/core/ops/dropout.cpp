// dropout: inverted dropout (Srivastava et al. 2014, as CS231n teaches it), forward and backward.
// x: any shape, y: same shape. Not a kernel file of its own: it is one multiply by a mask.
#include "nabla/ops.h"
#include "ops/common.h"

namespace nabla {

// dropout: y = x · mask, mask = 0 with probability p, else 1 / (1 - p), drawn in row-major order
// from `gen`. Saves the mask: dx = dy · mask.
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  check_floating("dropout", x.dtype());
  NABLA_CHECK(p >= 0 && p <= 1, "dropout: probability p = ", p, " must lie in [0, 1]");
  if (!training || p == 0) return x;
  Tensor mask = Tensor::empty(x.shape(), x.dtype());
  // p = 1 drops everything; the scale is never used then, and 1 / 0 must not be formed.
  const double keep_scale = p < 1 ? 1 / (1 - p) : 0;
  dispatch(x.dtype(), [&]<class T>() {
    T* m = mask.data<T>();
    for (int64_t i = 0, n = mask.numel(); i < n; ++i)
      m[i] = gen.uniform() < p ? T(0) : static_cast<T>(keep_scale);
  });
  Tensor y = binary_map(x, mask, [](auto a, auto b) { return a * b; });
  return autograd::record(Op::dropout, y, {x}, [mask](const Tensor& dy) {
    return Grads{binary_map(contiguous_data(dy), mask, [](auto a, auto b) { return a * b; })};
  });
}

}  // namespace nabla

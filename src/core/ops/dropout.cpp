// dropout: inverted dropout (Srivastava et al. 2014, as CS231n teaches it), forward and backward.
// x: any shape, y: same shape. The mask and the product run in vec::dropout, compiled for each
// instruction set.
#include <algorithm>
#include <cmath>

#include "kernels/cpu/vecmath.h"
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
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  const Tensor xc = contiguous_data(x);
  // p = 1 drops everything; the scale is never used then, and 1 / 0 must not be formed.
  const double keep_scale = p < 1 ? 1 / (1 - p) : 0;
  // gen.uniform() < p without forming the double: uniform() is k · 2^-53 for the draw's top 53
  // bits k, and k · 2^-53 < p exactly when k < ceil(p · 2^53) (p · 2^53 is exact), so the masks
  // are bit for bit those of comparing uniform() with p.
  const auto threshold = static_cast<uint64_t>(std::ceil(std::ldexp(p, 53)));
  dispatch(x.dtype(), [&]<class T>() {
    T* m = mask.data<T>();
    T* out = y.data<T>();
    const T* in = xc.data<T>();
    const T scale = static_cast<T>(keep_scale);
    // The draws come a block at a time (Generator::fill_u64): the numbers one by one would give.
    constexpr int64_t kBlock = 256;
    uint64_t draws[kBlock];
    for (int64_t i0 = 0, n = mask.numel(); i0 < n; i0 += kBlock) {
      const int64_t k = std::min(kBlock, n - i0);
      gen.fill_u64(draws, k);
      cpu::vec::dropout(m + i0, out + i0, in + i0, draws, k, threshold, scale);
    }
  });
  return autograd::record(Op::dropout, y, {x}, [mask](const Tensor& dy) {
    return Grads{binary_map(contiguous_data(dy), mask, [](auto a, auto b) { return a * b; })};
  });
}

}  // namespace nabla

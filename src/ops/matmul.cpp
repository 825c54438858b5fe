// matmul: a (..., M, K) · b (..., K, N) -> out (..., M, N); batch dims broadcast.
// Backward: da = dout · bᵀ, db = aᵀ · dout (each summed over the batch dims it was broadcast on).
// Transposed operands are passed to GEMM as transpose flags, never copied.
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/strided.h"
#include "nabla/ops.h"
#include "ops/common.h"

namespace nabla {

namespace {

// A matrix operand whose last two dims GEMM can read directly: row-major (trans = false,
// leading dim = stride of dim -2) or column-major (trans = true, leading dim = stride of dim -1).
struct GemmOperand {
  Tensor t;
  bool trans;
  int64_t ld;
};

GemmOperand as_gemm_operand(const Tensor& x) {
  const int d = x.dim();
  const int64_t rows = x.shape()[d - 2], cols = x.shape()[d - 1];
  const int64_t s_row = x.strides()[d - 2], s_col = x.strides()[d - 1];
  if ((s_col == 1 || cols == 1) && s_row >= std::max<int64_t>(cols, 1)) return {x, false, s_row};
  if ((s_row == 1 || rows == 1) && s_col >= std::max<int64_t>(rows, 1)) return {x, true, s_col};
  Tensor c = x.detach().contiguous();
  return {c, false, std::max<int64_t>(cols, 1)};
}

Shape batch_of(const Shape& s) {
  Shape b = s;
  b.pop_back();
  b.pop_back();
  return b;
}

Tensor matmul_forward(const Tensor& a, const Tensor& b) {
  const int da = a.dim(), db = b.dim();
  const int64_t M = a.shape()[da - 2], K = a.shape()[da - 1], N = b.shape()[db - 1];
  NABLA_CHECK(b.shape()[db - 2] == K, "matmul: shapes ", a.shape(), " and ", b.shape(),
              " do not align (", K, " columns vs ", b.shape()[db - 2], " rows)");
  Shape batch = broadcast_shapes(batch_of(a.shape()), batch_of(b.shape()), "matmul (batch dims)");
  Shape out_shape = batch;
  out_shape.push_back(M);
  out_shape.push_back(N);
  Tensor out = Tensor::empty(out_shape, a.dtype());
  GemmOperand ga = as_gemm_operand(a), gb = as_gemm_operand(b);
  dispatch(a.dtype(), [&]<class T>() {
    Shape a_str = broadcast_strides(batch_of(ga.t.shape()), batch_of(ga.t.strides()), batch);
    Shape b_str = broadcast_strides(batch_of(gb.t.shape()), batch_of(gb.t.strides()), batch);
    Shape o_str = contiguous_strides(batch);
    for (int64_t& s : o_str) s *= M * N;
    cpu::for_each_row<T, 3>(
        batch, {out.data<T>(), ga.t.data<T>(), gb.t.data<T>()}, {o_str, a_str, b_str},
        [&](std::array<T*, 3> p, std::array<int64_t, 3> s, int64_t n) {
          for (int64_t i = 0; i < n; ++i)
            cpu::gemm<T>(ga.trans, gb.trans, M, N, K, T(1), p[1] + i * s[1], ga.ld,
                         p[2] + i * s[2], gb.ld, T(0), p[0] + i * s[0], N);
        });
  });
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_same_dtype("matmul", a, b);
  NABLA_CHECK(a.dim() >= 1 && b.dim() >= 1, "matmul: operands must have at least 1 dim, got ",
              a.shape(), " and ", b.shape());
  // 1-d operands: a row vector on the left, a column vector on the right, removed afterwards.
  // With b also 1-d, the inner call has already dropped N, so the row dim is last.
  if (a.dim() == 1) return matmul(a.unsqueeze(0), b).squeeze(b.dim() == 1 ? -1 : -2);
  if (b.dim() == 1) return matmul(a, b.unsqueeze(1)).squeeze(-1);
  return autograd::record(
      Op::matmul, matmul_forward(a, b), {a, b},
      [a = a.detach(), b = b.detach(), ra = a.requires_grad(), rb = b.requires_grad()](const Tensor& dy) {
        Tensor da = ra ? sum_to(matmul_forward(dy, b.transpose(-1, -2)), a.shape()) : Tensor();
        Tensor db = rb ? sum_to(matmul_forward(a.transpose(-1, -2), dy), b.shape()) : Tensor();
        return std::vector<Tensor>{da, db};
      });
}

Tensor Tensor::matmul(const Tensor& other) const { return nabla::matmul(*this, other); }

}  // namespace nabla

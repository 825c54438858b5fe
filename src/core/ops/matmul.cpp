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
            cpu::gemm<T>(ga.trans, gb.trans, M, N, K, T(1), p[1] + i * s[1], ga.ld, p[2] + i * s[2],
                         gb.ld, T(0), p[0] + i * s[0], N);
        });
  });
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_floating("matmul", a.dtype());
  check_same_dtype("matmul", a, b);
  NABLA_CHECK(a.dim() >= 1 && b.dim() >= 1, "matmul: operands must have at least 1 dim, got ",
              a.shape(), " and ", b.shape());
  // 1-d operands: a row vector on the left, a column vector on the right, removed afterwards.
  // With b also 1-d, the inner call has already dropped N, so the row dim is last.
  if (a.dim() == 1) return matmul(a.unsqueeze(0), b).squeeze(b.dim() == 1 ? -1 : -2);
  if (b.dim() == 1) return matmul(a, b.unsqueeze(1)).squeeze(-1);
  return autograd::record(
      Op::matmul, matmul_forward(a, b), {a, b},
      [a = a.detach(), b = b.detach(), ra = a.requires_grad(),
       rb = b.requires_grad()](const Tensor& dy) {
        Tensor da = ra ? sum_to(matmul_forward(dy, b.transpose(-1, -2)), a.shape()) : Tensor();
        Tensor db = rb ? sum_to(matmul_forward(a.transpose(-1, -2), dy), b.shape()) : Tensor();
        return Grads{da, db};
      });
}

// linear: rows X (R, in) = x flattened over its leading dims; Y (R, out) = X·Wᵀ + b.
// Backward: dX = dY·W, dW = dYᵀ·X, db = Σ_rows dY. Saves x and weight.
// With `relu` (detail::linear_relu) Y = max(X·Wᵀ + b, 0) from the GEMM's epilogue, and the output
// is saved too: backward first zeroes dY where Y is 0, as conv2d_relu's does.
namespace {

Tensor linear_maybe_relu(const Tensor& x, const Tensor& weight, const Tensor& bias, bool relu) {
  const char* op = relu ? "linear_relu" : "linear";
  check_floating(op, x.dtype());
  check_same_dtype(op, x, weight);
  NABLA_CHECK(weight.dim() == 2, op, ": weight must be 2-d (out, in), got ", weight.shape());
  const int64_t out_f = weight.shape()[0], in_f = weight.shape()[1];
  NABLA_CHECK(x.dim() >= 1 && x.shape().back() == in_f, op, ": input ", x.shape(), " has ",
              x.dim() >= 1 ? x.shape().back() : 0, " features but weight ", weight.shape(),
              " expects ", in_f);
  if (bias.defined()) {
    check_same_dtype(op, x, bias);
    NABLA_CHECK(bias.dim() == 1 && bias.shape()[0] == out_f, op, ": bias ", bias.shape(),
                " does not match weight ", weight.shape(), " (expected [", out_f, "])");
  }
  const int64_t rows = x.numel() / std::max<int64_t>(in_f, 1);
  Shape out_shape = x.shape();
  out_shape[out_shape.size() - 1] = out_f;
  Tensor xc = contiguous_data(x), wc = contiguous_data(weight);
  Tensor bc = bias.defined() ? contiguous_data(bias) : Tensor();
  Tensor y = Tensor::empty(out_shape, x.dtype());
  dispatch(x.dtype(), [&]<class T>() {
    cpu::gemm_bias_relu<T>(false, true, rows, out_f, in_f, xc.data<T>(), in_f, wc.data<T>(), in_f,
                           bc.defined() ? bc.data<T>() : nullptr, relu, y.data<T>(), out_f);
  });
  Tensor saved_y = relu ? y.detach() : Tensor();  // never `y` itself: a reference cycle
  return autograd::record(
      relu ? Op::linear_relu : Op::linear, y, {x, weight, bias},
      // x and the weight are inputs, so saving them as they are makes no cycle (an input cannot
      // own its consumer's node), and spares two tensor headers per call.
      [x = xc, w = wc, y = saved_y, has_bias = bias.defined(), rx = x.requires_grad(),
       rw = weight.requires_grad(), rb = bias.defined() && bias.requires_grad()](const Tensor& dy) {
        const int64_t n_out = w.shape()[0], n_in = w.shape()[1];
        const int64_t n_rows = x.numel() / std::max<int64_t>(n_in, 1);
        Tensor g = contiguous_data(dy);
        if (y.defined()) g = through_relu(g, y);
        Tensor dx, dw, db;
        dispatch(g.dtype(), [&]<class T>() {
          if (rx) {
            dx = Tensor::empty(x.shape(), x.dtype());
            cpu::gemm<T>(false, false, n_rows, n_in, n_out, T(1), g.data<T>(), n_out, w.data<T>(),
                         n_in, T(0), dx.data<T>(), n_in);
          }
          if (rw) {
            dw = Tensor::empty(w.shape(), w.dtype());
            cpu::gemm<T>(true, false, n_out, n_in, n_rows, T(1), g.data<T>(), n_out, x.data<T>(),
                         n_in, T(0), dw.data<T>(), n_in);
          }
          if (rb) {
            db = Tensor::zeros({n_out}, g.dtype());
            T* d = db.data<T>();
            const T* gp = g.data<T>();
            for (int64_t r = 0; r < n_rows; ++r)
              for (int64_t j = 0; j < n_out; ++j) d[j] += gp[r * n_out + j];
          }
        });
        return Grads{dx, dw, has_bias ? db : Tensor()};
      });
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  return linear_maybe_relu(x, weight, bias, false);
}

namespace detail {
Tensor linear_relu(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  return linear_maybe_relu(x, weight, bias, true);
}
}  // namespace detail

Tensor Tensor::matmul(const Tensor& other) const {
  return nabla::matmul(*this, other);
}

}  // namespace nabla

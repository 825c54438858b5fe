// Reductions over any set of dims: sum, mean, max (values), argmax; and sum_to for backward.
// Shapes: x (any) -> out with the reduced dims removed (or kept as 1 with keepdim).
#include <algorithm>
#include <array>
#include <limits>

#include "kernels/cpu/strided.h"
#include "nabla/ops.h"
#include "ops/common.h"

namespace nabla {

namespace {

struct ReducePlan {
  // Per input dim (in place: a std::vector<bool> was an allocation per reduction).
  std::array<bool, Shape::kMaxDims> reduced{};
  Shape keep_shape;   // reduced dims as 1
  Shape out_shape;    // reduced dims removed unless keepdim
  int64_t count = 1;  // elements folded into each output
};

ReducePlan plan_reduce(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim,
                       const char* op) {
  ReducePlan p;
  std::fill_n(p.reduced.begin(), x.dim(), dims.empty());
  for (int64_t d : dims) {
    const int64_t nd = std::max(x.dim(), 1);
    NABLA_CHECK(d >= -nd && d < nd, op, ": dim ", d, " is out of range for shape ", x.shape());
    int n = normalize_dim(d, x.dim(), op);
    if (x.dim() == 0) continue;
    NABLA_CHECK(!p.reduced[n], op, ": dim ", d, " is listed twice for shape ", x.shape());
    p.reduced[n] = true;
  }
  for (int i = 0; i < x.dim(); ++i) {
    p.keep_shape.push_back(p.reduced[i] ? 1 : x.shape()[i]);
    if (p.reduced[i]) p.count *= x.shape()[i];
    if (!p.reduced[i] || keepdim) p.out_shape.push_back(p.keep_shape[i]);
  }
  return p;
}

// Sums x into a tensor of plan.keep_shape (no autograd).
Tensor sum_kernel(const Tensor& x, const ReducePlan& plan) {
  Tensor out = Tensor::zeros(plan.keep_shape, x.dtype());
  dispatch(x.dtype(), [&]<class T>() {
    Shape out_str = broadcast_strides(plan.keep_shape, out.strides(), x.shape());
    T* in = const_cast<T*>(x.data<T>());  // only read: for_each_row moves one pointer type
    cpu::for_each_row<T, 2>(x.shape(), {out.data<T>(), in}, {out_str, x.strides()},
                            [](std::array<T*, 2> p, std::array<int64_t, 2> s, int64_t n) {
                              if (s[0] == 0) {  // the row folds into one output
                                T acc = 0;
                                if (s[1] == 1)
                                  for (int64_t i = 0; i < n; ++i) acc += p[1][i];
                                else
                                  for (int64_t i = 0; i < n; ++i) acc += p[1][i * s[1]];
                                *p[0] += acc;
                              } else {
                                for (int64_t i = 0; i < n; ++i) p[0][i * s[0]] += p[1][i * s[1]];
                              }
                            });
  });
  return out;
}

// Broadcasts an output gradient (out_shape) back over the input's shape, as a new tensor.
Tensor expand_grad(const Tensor& dy, const Shape& keep_shape, const Shape& in_shape) {
  Tensor dx = Tensor::empty(in_shape, dy.dtype());
  dx.copy_(dy.reshape(keep_shape));
  return dx;
}

// x with the reduced dims moved last, as contiguous rows: (outer, inner).
struct Rows {
  Tensor data;                // contiguous, permuted
  std::vector<int64_t> perm;  // permutation applied to x
  int64_t outer = 1, inner = 1;
};

Rows reduced_dims_last(const Tensor& x, const ReducePlan& plan) {
  Rows r;
  for (int i = 0; i < x.dim(); ++i)
    if (!plan.reduced[i]) r.perm.push_back(i), r.outer *= x.shape()[i];
  for (int i = 0; i < x.dim(); ++i)
    if (plan.reduced[i]) r.perm.push_back(i), r.inner *= x.shape()[i];
  r.data = x.detach().permute(r.perm).contiguous();
  return r;
}

// Index of the first largest of row[0, n); a NaN counts as largest (it propagates, as in
// PyTorch).
template <class T>
int64_t first_max_index(const T* row, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (row[i] > row[best] || (row[i] != row[i] && row[best] == row[best])) best = i;
  return best;
}

}  // namespace

// sum: out = Σ x over dims; dx = dout broadcast back over the reduced dims.
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  check_floating("sum", x.dtype());
  ReducePlan plan = plan_reduce(x, dims, keepdim, "sum");
  Tensor out = sum_kernel(x, plan).view(plan.out_shape);
  return autograd::record(Op::sum, out, {x},
                          [keep = plan.keep_shape, in = x.shape()](const Tensor& dy) {
                            return Grads{expand_grad(dy, keep, in)};
                          });
}

// mean: out = Σ x / count; dx = dout / count broadcast back.
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  check_floating("mean", x.dtype());
  ReducePlan plan = plan_reduce(x, dims, keepdim, "mean");
  NABLA_CHECK(plan.count > 0, "mean: reducing an empty tensor of shape ", x.shape());
  Tensor out = sum_kernel(x, plan);
  const double scale = 1.0 / static_cast<double>(plan.count);
  dispatch(x.dtype(), [&]<class T>() {
    T* p = out.data<T>();
    for (int64_t i = 0, n = out.numel(); i < n; ++i) p[i] *= static_cast<T>(scale);
  });
  return autograd::record(Op::mean, out.view(plan.out_shape), {x},
                          [keep = plan.keep_shape, in = x.shape(), scale](const Tensor& dy) {
                            return Grads{expand_grad(dy * scale, keep, in)};
                          });
}

// max: out = largest x over dims; dx = dout at the first maximal element of each group, 0
// elsewhere.
Tensor max(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  check_floating("max", x.dtype());
  ReducePlan plan = plan_reduce(x, dims, keepdim, "max");
  NABLA_CHECK(plan.count > 0, "max: reducing an empty tensor of shape ", x.shape());
  Rows rows = reduced_dims_last(x, plan);
  Tensor out = Tensor::empty(plan.keep_shape, x.dtype());
  std::vector<int64_t> where(rows.outer);  // flat index of each maximum in rows.data
  dispatch(x.dtype(), [&]<class T>() {
    const T* in = rows.data.data<T>();
    T* o = out.data<T>();
    for (int64_t r = 0; r < rows.outer; ++r) {
      const T* row = in + r * rows.inner;
      const int64_t best = first_max_index(row, rows.inner);
      o[r] = row[best];
      where[r] = r * rows.inner + best;
    }
  });
  return autograd::record(Op::max, out.view(plan.out_shape), {x},
                          [where = std::move(where), perm = rows.perm, permuted = rows.data.shape(),
                           in = x.shape()](const Tensor& dy) {
                            Tensor dperm = Tensor::zeros(permuted, dy.dtype());
                            Tensor g = contiguous_data(dy);
                            dispatch(dy.dtype(), [&]<class T>() {
                              T* d = dperm.data<T>();
                              const T* gp = g.data<T>();
                              for (size_t r = 0; r < where.size(); ++r) d[where[r]] += gp[r];
                            });
                            std::vector<int64_t> inverse(perm.size());
                            for (size_t i = 0; i < perm.size(); ++i)
                              inverse[perm[i]] = static_cast<int64_t>(i);
                            return Grads{dperm.permute(inverse).contiguous()};
                          });
}

// argmax: index of the first largest value along dim, as an int64 tensor (any input dtype).
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  ReducePlan plan = plan_reduce(x, {dim}, keepdim, "argmax");
  NABLA_CHECK(plan.count > 0, "argmax: reducing an empty tensor of shape ", x.shape());
  Rows rows = reduced_dims_last(x, plan);
  Tensor out = Tensor::empty(plan.out_shape, kInt64);
  int64_t* o = out.data<int64_t>();
  dispatch_all(x.dtype(), [&]<class T>() {
    const T* in = rows.data.data<T>();
    for (int64_t r = 0; r < rows.outer; ++r)
      o[r] = first_max_index(in + r * rows.inner, rows.inner);
  });
  return out;
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  // Leading dims that broadcasting added, then dims where shape has 1 but g does not.
  const int lead = g.dim() - shape.size();
  NABLA_ASSERT(lead >= 0);
  std::vector<int64_t> dims;
  for (int i = 0; i < g.dim(); ++i)
    if (i < lead || (shape[i - lead] == 1 && g.shape()[i] != 1)) dims.push_back(i);
  ReducePlan plan = plan_reduce(g, dims, true, "sum_to");
  return sum_kernel(g, plan).view(shape);
}

Tensor Tensor::sum() const {
  return nabla::sum(*this);
}
Tensor Tensor::sum(const std::vector<int64_t>& dims, bool keepdim) const {
  return nabla::sum(*this, dims, keepdim);
}
Tensor Tensor::mean() const {
  return nabla::mean(*this);
}
Tensor Tensor::mean(const std::vector<int64_t>& dims, bool keepdim) const {
  return nabla::mean(*this, dims, keepdim);
}

}  // namespace nabla

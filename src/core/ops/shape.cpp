// Shape ops: the views, which are members of Tensor (view, reshape, flatten, transpose, t,
// permute, slice, select, unsqueeze, squeeze, expand), the copies (contiguous, clone, to), and
// the ops that make new tensors: concat (join along a dim) and index_select (gather).
// A view shares its input's storage (make_view); its backward maps dout back to the input's
// layout.
#include <algorithm>
#include <utility>

#include "kernels/cpu/strided.h"
#include "nabla/ops.h"
#include "ops/common.h"

namespace nabla {

namespace {
// Resolves one -1 extent and checks the element count.
Shape infer_shape(const Shape& from, const Shape& to, const char* op) {
  Shape out = to;
  int infer = -1;
  int64_t known = 1;
  for (int i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      NABLA_CHECK(infer < 0, op, ": only one dim can be -1, got ", to);
      infer = i;
    } else {
      NABLA_CHECK(out[i] >= 0, op, ": invalid extent ", out[i], " in ", to);
      known *= out[i];
    }
  }
  if (infer >= 0) {
    NABLA_CHECK(known != 0 && from.numel() % known == 0, op, ": cannot view shape ", from, " (",
                from.numel(), " elements) as ", to);
    out[infer] = from.numel() / known;
  }
  NABLA_CHECK(out.numel() == from.numel(), op, ": cannot view shape ", from, " (", from.numel(),
              " elements) as ", to, " (", out.numel(), " elements)");
  return out;
}

// Records a metadata-only op whose gradient is the upstream gradient reshaped back.
Tensor record_reshape(const Tensor& x, Tensor y) {
  return autograd::record(Op::reshape, std::move(y), {x}, [in_shape = x.shape()](const Tensor& dy) {
    return Grads{dy.reshape(in_shape)};
  });
}
}  // namespace

Tensor Tensor::view(const Shape& new_shape) const {
  Shape s = infer_shape(shape(), new_shape, "view");
  NABLA_CHECK(is_contiguous(), "view: tensor of shape ", shape(), " with strides ", strides(),
              " is not contiguous; use reshape() or contiguous()");
  return record_reshape(*this, make_view(*this, s, contiguous_strides(s), offset()));
}

Tensor Tensor::reshape(const Shape& new_shape) const {
  Shape s = infer_shape(shape(), new_shape, "reshape");
  if (s == shape()) return *this;
  if (is_contiguous()) return view(s);
  return contiguous().view(s);
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  int a = normalize_dim(start_dim, dim(), "flatten"), b = normalize_dim(end_dim, dim(), "flatten");
  NABLA_CHECK(a <= b, "flatten: start_dim ", start_dim, " is after end_dim ", end_dim);
  Shape s;
  for (int i = 0; i < a; ++i) s.push_back(shape()[i]);
  int64_t m = 1;
  for (int i = a; i <= b; ++i) m *= shape()[i];
  s.push_back(m);
  for (int i = b + 1; i < dim(); ++i) s.push_back(shape()[i]);
  return reshape(s);
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  int a = normalize_dim(dim0, dim(), "transpose"), b = normalize_dim(dim1, dim(), "transpose");
  if (dim() == 0) return *this;
  Shape s = shape(), st = strides();
  std::swap(s[a], s[b]);
  std::swap(st[a], st[b]);
  return autograd::record(Op::transpose, make_view(*this, s, st, offset()), {*this},
                          [a, b](const Tensor& dy) { return Grads{dy.transpose(a, b)}; });
}

Tensor Tensor::t() const {
  NABLA_CHECK(dim() == 2, "t: expects a 2-d tensor, got shape ", shape());
  return transpose(0, 1);
}

Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  NABLA_CHECK(static_cast<int>(dims.size()) == dim(), "permute: ", dims.size(),
              " dims given for a tensor of shape ", shape());
  Shape s, st;
  std::vector<int64_t> inverse(dims.size(), -1);
  for (size_t i = 0; i < dims.size(); ++i) {
    int d = normalize_dim(dims[i], dim(), "permute");
    NABLA_CHECK(inverse[d] < 0, "permute: dim ", d, " appears twice");
    inverse[d] = static_cast<int64_t>(i);
    s.push_back(shape()[d]);
    st.push_back(strides()[d]);
  }
  return autograd::record(Op::permute, make_view(*this, s, st, offset()), {*this},
                          [inverse](const Tensor& dy) { return Grads{dy.permute(inverse)}; });
}

Tensor Tensor::slice(int64_t dim_, int64_t start, int64_t end, int64_t step) const {
  int d = normalize_dim(dim_, dim(), "slice");
  NABLA_CHECK(dim() > 0, "slice: cannot slice a 0-d tensor");
  NABLA_CHECK(step > 0, "slice: step must be positive, got ", step);
  const int64_t n = shape()[d];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape s = shape(), st = strides();
  s[d] = (end - start + step - 1) / step;
  st[d] *= step;
  Tensor y = make_view(*this, s, st, offset() + start * strides()[d]);
  return autograd::record(
      Op::slice, y, {*this},
      [in_shape = shape(), dtype = dtype(), d, start, end, step](const Tensor& dy) {
        Tensor dx = Tensor::zeros(in_shape, dtype);
        dx.slice(d, start, end, step).copy_(dy);
        return Grads{dx};
      });
}

Tensor Tensor::select(int64_t dim_, int64_t index) const {
  int d = normalize_dim(dim_, dim(), "select");
  NABLA_CHECK(index >= -shape()[d] && index < shape()[d], "select: index ", index,
              " is out of range for dim ", d, " of shape ", shape());
  if (index < 0) index += shape()[d];
  Tensor y = slice(d, index, index + 1).squeeze(d);
  return y;
}

Tensor Tensor::unsqueeze(int64_t dim_) const {
  int d = normalize_dim(dim_, dim() + 1, "unsqueeze");
  Shape s = shape(), st = strides();
  s.insert(d, 1);
  st.insert(d, d < dim() ? strides()[d] * shape()[d] : 1);
  return record_reshape(*this, make_view(*this, s, st, offset()));
}

Tensor Tensor::squeeze() const {
  Shape s, st;
  for (int i = 0; i < dim(); ++i)
    if (shape()[i] != 1) {
      s.push_back(shape()[i]);
      st.push_back(strides()[i]);
    }
  return record_reshape(*this, make_view(*this, s, st, offset()));
}

Tensor Tensor::squeeze(int64_t dim_) const {
  int d = normalize_dim(dim_, dim(), "squeeze");
  if (dim() == 0 || shape()[d] != 1) return *this;
  Shape s = shape(), st = strides();
  s.erase(d);
  st.erase(d);
  return record_reshape(*this, make_view(*this, s, st, offset()));
}

Tensor Tensor::expand(const Shape& target) const {
  Shape full = broadcast_shapes(shape(), target, "expand");
  NABLA_CHECK(full == target, "expand: shape ", shape(), " cannot be expanded to ", target);
  Tensor y = make_view(*this, target, broadcast_strides(shape(), strides(), target), offset());
  return autograd::record(Op::expand, y, {*this}, [in_shape = shape()](const Tensor& dy) {
    return Grads{sum_to(dy, in_shape)};
  });
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor y = empty(shape(), dtype());
  y.copy_(*this);
  return autograd::record(Op::contiguous, y, {*this}, [](const Tensor& dy) { return Grads{dy}; });
}

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return *this;
  Tensor y = empty(shape(), target);
  const Tensor& x = *this;
  dispatch_all(target, [&]<class TO>() {
    dispatch_all(x.dtype(), [&]<class FROM>() {
      TO* o = y.data<TO>();
      cpu::for_each_row<const FROM, 1>(
          x.shape(), {x.data<FROM>()}, {x.strides()},
          [&](std::array<const FROM*, 1> p, std::array<int64_t, 1> s, int64_t n) {
            for (int64_t i = 0; i < n; ++i) *o++ = static_cast<TO>(p[0][i * s[0]]);
          });
    });
  });
  return autograd::record(Op::to_dtype, y, {*this},
                          [from = dtype()](const Tensor& dy) { return Grads{dy.to(from)}; });
}

// concat: tensors with equal shapes except along dim -> out with the extents of dim added up.
// Backward: each input gets its slice of dout.
Tensor concat(const std::vector<Tensor>& tensors, int64_t dim) {
  NABLA_CHECK(!tensors.empty(), "concat: needs at least one tensor");
  const Tensor& first = tensors[0];
  NABLA_CHECK(first.dim() > 0, "concat: cannot concatenate 0-d tensors");
  const int d = normalize_dim(dim, first.dim(), "concat");
  Shape out_shape = first.shape();
  out_shape[d] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    check_same_dtype("concat", first, t);
    bool ok = t.dim() == first.dim();
    for (int k = 0; ok && k < t.dim(); ++k) ok = k == d || t.shape()[k] == first.shape()[k];
    NABLA_CHECK(ok, "concat: tensor ", i, " has shape ", t.shape(), " but tensor 0 has shape ",
                first.shape(), " (all dims but ", d, " must match)");
    out_shape[d] += t.shape()[d];
  }
  Tensor out = Tensor::empty(out_shape, first.dtype());
  std::vector<int64_t> starts, sizes;  // where each input sits along d
  int64_t at = 0;
  for (const Tensor& t : tensors) {
    starts.push_back(at);
    sizes.push_back(t.shape()[d]);
    out.slice(d, at, at + t.shape()[d]).copy_(t);
    at += t.shape()[d];
  }
  return autograd::record(Op::concat, out, tensors, [d, starts, sizes](const Tensor& dy) {
    std::vector<Tensor> grads;
    for (size_t i = 0; i < starts.size(); ++i)
      grads.push_back(dy.slice(d, starts[i], starts[i] + sizes[i]));
    return grads;
  });
}

// index_select: out[..., j, ...] = x[..., indices[j], ...] along dim. Backward: dout rows are
// added back into the rows they came from (an index can repeat).
Tensor index_select(const Tensor& x, int64_t dim, const std::vector<int64_t>& indices) {
  NABLA_CHECK(x.dim() > 0, "index_select: cannot index a 0-d tensor");
  const int d = normalize_dim(dim, x.dim(), "index_select");
  const int64_t n = x.shape()[d];
  for (size_t j = 0; j < indices.size(); ++j)
    NABLA_CHECK(indices[j] >= 0 && indices[j] < n, "index_select: index ", indices[j],
                " (position ", j, ") is out of range for dim ", d, " of shape ", x.shape());
  Shape out_shape = x.shape();
  out_shape[d] = static_cast<int64_t>(indices.size());
  Tensor out = Tensor::empty(out_shape, x.dtype());
  Tensor xd = x.detach();
  for (size_t j = 0; j < indices.size(); ++j)
    out.select(d, static_cast<int64_t>(j)).copy_(xd.select(d, indices[j]));
  return autograd::record(Op::index_select, out, {x},
                          [d, indices, in = x.shape()](const Tensor& dy) {
                            Tensor dx = Tensor::zeros(in, dy.dtype());
                            for (size_t j = 0; j < indices.size(); ++j) {
                              Tensor row = dx.select(d, indices[j]);
                              row.copy_(add(row, dy.select(d, static_cast<int64_t>(j))));
                            }
                            return Grads{dx};
                          });
}

}  // namespace nabla

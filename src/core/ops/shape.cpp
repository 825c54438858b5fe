// Shape ops that make new tensors: concat (join along a dim) and index_select (gather).
// The view ops (reshape, transpose, permute, slice, select, squeeze, expand) live in tensor.cpp.
#include "nabla/ops.h"
#include "ops/common.h"

namespace nabla {

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
                            return std::vector<Tensor>{dx};
                          });
}

}  // namespace nabla

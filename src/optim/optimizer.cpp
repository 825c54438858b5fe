// Optimizer base: the parameter list, its checks, and helpers for state buffers.
#include "nabla/optim/optimizer.h"

namespace nabla::optim {

Optimizer::Optimizer(std::vector<Tensor> params, const char* name) : params_(std::move(params)) {
  NABLA_CHECK(!params_.empty(), name, ": got an empty parameter list");
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    NABLA_CHECK(p.defined(), name, ": parameter ", i, " is undefined");
    NABLA_CHECK(p.is_leaf(), name, ": parameter ", i, " ", p.shape(), " was made by '",
                p.grad_fn_name(), "'; only leaf tensors can be optimized");
    // step() writes through raw pointers in row-major order.
    NABLA_CHECK(p.is_contiguous(), name, ": parameter ", i, " ", p.shape(),
                " is not contiguous; pass p.contiguous() as a new leaf");
  }
}

void Optimizer::zero_grad() {
  for (Tensor& p : params_) p.zero_grad();
}

Tensor Optimizer::grad_of(size_t i) const {
  Tensor g = params_[i].grad();
  if (!g.defined()) return g;
  NABLA_CHECK(g.shape() == params_[i].shape() && g.dtype() == params_[i].dtype(),
              "optimizer: gradient ", g.shape(), " ", dtype_name(g.dtype()), " of parameter ", i,
              " does not match the parameter ", params_[i].shape(), " ",
              dtype_name(params_[i].dtype()));
  return g.is_contiguous() ? g : g.contiguous();
}

Tensor Optimizer::state_like(size_t i, double value) const {
  return Tensor::full(params_[i].shape(), value, params_[i].dtype());
}

}  // namespace nabla::optim

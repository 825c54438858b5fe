// Optimizer base: the parameter list, its checks, helpers for state buffers, and the state's
// export and import for checkpoints.
#include "nabla/optim/optimizer.h"

#include <cmath>
#include <set>

namespace nabla::optim {

Optimizer::Optimizer(std::vector<Tensor> params, const char* name)
    : params_(std::move(params)), name_(name), lr_multipliers_(params_.size(), 1.0) {
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

void Optimizer::set_lr_multipliers(std::vector<double> multipliers) {
  NABLA_CHECK(multipliers.size() == params_.size(), name_, ": ", multipliers.size(),
              " learning-rate multipliers for ", params_.size(), " parameters");
  for (size_t i = 0; i < multipliers.size(); ++i)
    NABLA_CHECK(std::isfinite(multipliers[i]) && multipliers[i] >= 0, name_,
                ": learning-rate multiplier of parameter ", i, " must be finite and >= 0, got ",
                multipliers[i]);
  lr_multipliers_ = std::move(multipliers);
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

// ---------------------------------------------------------------- state for checkpoints

std::vector<std::pair<std::string, Tensor>> Optimizer::state() const {
  // state_refs() hands out mutable pointers for load_state's sake; here they are only read.
  StateRefs refs = const_cast<Optimizer*>(this)->state_refs();
  std::vector<std::pair<std::string, Tensor>> out;
  for (size_t i = 0; i < params_.size(); ++i) {
    bool has_state = refs.steps && (*refs.steps)[i] > 0;
    for (const StateBuffer& b : refs.buffers) has_state = has_state || (*b.tensors)[i].defined();
    if (!has_state) continue;
    const std::string prefix = "state." + std::to_string(i) + ".";
    if (refs.steps)
      out.emplace_back(prefix + "step",
                       Tensor::scalar(static_cast<double>((*refs.steps)[i]), kFloat64));
    for (const StateBuffer& b : refs.buffers)
      if ((*b.tensors)[i].defined()) out.emplace_back(prefix + b.name, (*b.tensors)[i]);
  }
  return out;
}

void Optimizer::load_state(const std::vector<std::pair<std::string, Tensor>>& state) {
  StateRefs refs = state_refs();
  const size_t n = params_.size();
  auto known = [&] {
    std::string names = refs.steps ? "step" : "";
    for (const StateBuffer& b : refs.buffers)
      names += (names.empty() ? "" : ", ") + std::string(b.name);
    return names.empty() ? std::string("nothing") : names;
  };
  // Build the new state aside and swap it in at the end, so a bad entry changes nothing.
  std::vector<std::vector<Tensor>> buffers(refs.buffers.size(), std::vector<Tensor>(n));
  std::vector<int64_t> steps(n, 0);
  std::set<std::string> seen;
  for (const auto& [key, tensor] : state) {
    NABLA_CHECK(seen.insert(key).second, name_, ": state entry '", key, "' appears twice");
    // key = "state.<i>.<buffer>"
    const size_t dot = key.find('.', 6);
    const std::string index = dot == std::string::npos ? "" : key.substr(6, dot - 6);
    NABLA_CHECK(key.rfind("state.", 0) == 0 && !index.empty() && index.size() < 10 &&
                    index.find_first_not_of("0123456789") == std::string::npos,
                name_, ": state entry '", key, "' is not named state.<index>.<buffer>");
    const size_t i = std::stoul(index);
    const std::string buffer = key.substr(dot + 1);
    NABLA_CHECK(i < n, name_, ": state entry '", key, "' is for parameter ", i,
                " but this optimizer has ", n, " parameters");
    NABLA_CHECK(tensor.defined(), name_, ": state entry '", key, "' is undefined");
    if (buffer == "step" && refs.steps) {
      const double t = tensor.numel() == 1 ? tensor.item() : -1;
      NABLA_CHECK(tensor.numel() == 1 && t >= 0 && t == std::floor(t) && t < 0x1p53, name_,
                  ": state entry '", key, "' must hold one non-negative integer, got shape ",
                  tensor.shape(), tensor.numel() == 1 ? " value " + std::to_string(t) : "");
      steps[i] = static_cast<int64_t>(t);
      continue;
    }
    size_t b = 0;
    while (b < refs.buffers.size() && buffer != refs.buffers[b].name) ++b;
    NABLA_CHECK(b < refs.buffers.size(), name_, ": unknown state entry '", key, "'; ", name_,
                " keeps ", known());
    const Tensor& p = params_[i];
    NABLA_CHECK(tensor.shape() == p.shape(), name_, ": state entry '", key, "' has shape ",
                tensor.shape(), " but parameter ", i, " has shape ", p.shape());
    buffers[b][i] = Tensor::empty(p.shape(), p.dtype());
    buffers[b][i].copy_(tensor);
  }
  for (size_t b = 0; b < refs.buffers.size(); ++b) {
    if (!refs.buffers[b].always) continue;
    for (size_t i = 0; i < n; ++i)
      NABLA_CHECK(buffers[b][i].defined(), name_, ": state has no entry 'state.", i, ".",
                  refs.buffers[b].name, "', which ", name_, " keeps for every parameter");
  }
  for (size_t b = 0; b < refs.buffers.size(); ++b) *refs.buffers[b].tensors = std::move(buffers[b]);
  if (refs.steps) *refs.steps = std::move(steps);
}

std::vector<std::pair<std::string, double>> Optimizer::hyperparameters() const {
  return {{"lr", lr()}};
}

void Optimizer::set_hyperparameters(const std::vector<std::pair<std::string, double>>& values) {
  for (const auto& [key, value] : values)
    NABLA_CHECK(key == "lr", name_, ": unknown hyperparameter '", key, "'");
  for (const auto& [key, value] : values) set_lr(value);
}

}  // namespace nabla::optim

// Module: registration, traversal, modes and printing. Pure bookkeeping: no math here.
#include "nabla/nn/module.h"

#include <cxxabi.h>

#include <cstdlib>
#include <ostream>
#include <sstream>

#include "nabla/autograd.h"

namespace nabla::nn {

Tensor Module::forward(const Tensor&) {
  NABLA_CHECK(false, name(), ": forward(Tensor) is not implemented by this module");
}

std::string Module::name() const {
  std::string type = typeid(*this).name();
  int status = 0;
  if (char* demangled = abi::__cxa_demangle(type.c_str(), nullptr, nullptr, &status)) {
    type = demangled;
    std::free(demangled);
  }
  size_t colon = type.rfind("::");
  return colon == std::string::npos ? type : type.substr(colon + 2);
}

void Module::check_new_name(const std::string& name, const char* what) const {
  NABLA_CHECK(!name.empty() && name.find('.') == std::string::npos, this->name(), ": ", what,
              " name '", name, "' must be non-empty and contain no '.'");
  auto taken = [&](const auto& list) {
    for (const auto& entry : list)
      if (entry.first == name) return true;
    return false;
  };
  NABLA_CHECK(!taken(parameters_) && !taken(buffers_) && !taken(children_), this->name(), ": ",
              what, " name '", name, "' is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor tensor, bool requires_grad) {
  check_new_name(name, "parameter");
  NABLA_CHECK(tensor.defined(), this->name(), ": parameter '", name, "' is undefined");
  NABLA_CHECK(tensor.is_leaf(), this->name(), ": parameter '", name, "' was made by '",
              tensor.grad_fn_name(), "'; register a leaf (use detach())");
  tensor.requires_grad_(requires_grad);
  parameters_.emplace_back(name, tensor);
  return tensor;
}

Tensor Module::register_buffer(const std::string& name, Tensor tensor) {
  check_new_name(name, "buffer");
  NABLA_CHECK(tensor.defined(), this->name(), ": buffer '", name, "' is undefined");
  buffers_.emplace_back(name, tensor);
  return tensor;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name(name, "submodule");
  NABLA_CHECK(module != nullptr, this->name(), ": submodule '", name, "' is null");
  NABLA_CHECK(module.get() != this, this->name(), ": a module cannot be its own child");
  children_.emplace_back(name, std::move(module));
}

namespace {

// Appends (prefix + name, tensor) for `module` and, when recursing, its descendants.
template <class Get>
void collect(const Module& module, const std::string& prefix, bool recurse, Get own,
             std::vector<std::pair<std::string, Tensor>>& out) {
  for (const auto& [name, tensor] : own(module)) out.emplace_back(prefix + name, tensor);
  if (!recurse) return;
  for (const auto& [name, child] : module.named_children())
    collect(*child, prefix + name + ".", recurse, own, out);
}

std::vector<Tensor> values(const std::vector<std::pair<std::string, Tensor>>& named) {
  std::vector<Tensor> out;
  out.reserve(named.size());
  for (const auto& entry : named) out.push_back(entry.second);
  return out;
}

}  // namespace

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect(
      *this, "", recurse, [](const Module& m) -> const auto& { return m.parameters_; }, out);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  return values(named_parameters(recurse));
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect(
      *this, "", recurse, [](const Module& m) -> const auto& { return m.buffers_; }, out);
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  return values(named_buffers(recurse));
}

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& entry : children_) out.push_back(entry.second);
  return out;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& entry : children_) entry.second->train(on);
}

void Module::zero_grad() {
  for (Tensor& p : parameters()) p.zero_grad();
}

void Module::to(DType dtype) {
  NoGradGuard no_grad;
  auto convert = [dtype](Tensor& t) {
    // As PyTorch's, integer buffers (batch norm's counter) keep their dtype.
    if (t.dtype() == dtype || !is_floating(t.dtype())) return;
    Tensor converted = t.detach().to(dtype).contiguous();
    // Rewrite the shared TensorImpl, not the handle, so every alias sees the new data.
    TensorImpl& impl = t.impl();
    impl.storage = converted.impl().storage;
    impl.strides = converted.strides();
    impl.offset = converted.offset();
    impl.dtype = dtype;
    impl.grad.reset();
  };
  for (Tensor& p : parameters()) convert(p);
  for (Tensor& b : buffers()) convert(b);
}

namespace {

void print(std::ostream& os, const Module& module, const std::string& indent) {
  std::string extra = module.extra_repr();
  const auto& children = module.named_children();
  os << module.name() << "(";
  if (children.empty()) {
    os << extra << ")";
    return;
  }
  std::string inner = indent + "  ";
  if (!extra.empty()) os << "\n" << inner << extra;
  for (const auto& [name, child] : children) {
    os << "\n" << inner << "(" << name << "): ";
    print(os, *child, inner);
  }
  os << "\n" << indent << ")";
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Module& module) {
  print(os, module, "");
  return os;
}

std::string to_string(const Module& module) {
  std::ostringstream out;
  out << module;
  return out.str();
}

}  // namespace nabla::nn

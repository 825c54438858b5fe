// Sequential: ordered children, applied one after another.
#include "nabla/nn/sequential.h"

namespace nabla::nn {

void Sequential::push_back(std::shared_ptr<Module> module) {
  NABLA_CHECK(module != nullptr, "Sequential::push_back: module is null");
  register_module(std::to_string(size()), std::move(module));
}

std::shared_ptr<Module> Sequential::operator[](size_t i) const {
  NABLA_CHECK(i < size(), "Sequential: index ", i, " is out of range for ", size(), " modules");
  return named_children()[i].second;
}

Tensor Sequential::forward(const Tensor& input) {
  Tensor x = input;
  for (const auto& entry : named_children()) x = entry.second->forward(x);
  return x;
}

}  // namespace nabla::nn

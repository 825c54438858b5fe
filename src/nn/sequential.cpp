// Sequential: ordered children, applied one after another.
#include "nabla/nn/sequential.h"

#include "nabla/nn/activation.h"
#include "nabla/nn/conv.h"

namespace nabla::nn {

void Sequential::push_back(std::shared_ptr<Module> module) {
  NABLA_CHECK(module != nullptr, "Sequential::push_back: module is null");
  register_module(std::to_string(size()), std::move(module));
}

std::shared_ptr<Module> Sequential::operator[](size_t i) const {
  NABLA_CHECK(i < size(), "Sequential: index ", i, " is out of range for ", size(), " modules");
  return named_children()[i].second;
}

// A Conv2d directly followed by a ReLU runs as one fused op (conv2d_relu): the same values and
// gradients, one pass over the activation instead of three (docs/performance.md).
Tensor Sequential::forward(const Tensor& input) {
  Tensor x = input;
  const auto& children = named_children();
  for (size_t i = 0; i < children.size(); ++i) {
    Module* child = children[i].second.get();
    auto* conv = dynamic_cast<Conv2d*>(child);
    if (conv && i + 1 < children.size() &&
        dynamic_cast<ReLU*>(children[i + 1].second.get()) != nullptr) {
      x = conv->forward_relu(x);
      ++i;
    } else {
      x = child->forward(x);
    }
  }
  return x;
}

}  // namespace nabla::nn

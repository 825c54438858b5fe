// Sequential: ordered children, applied one after another.
#include "nabla/nn/sequential.h"

#include "nabla/memory.h"
#include "nabla/nn/activation.h"

namespace nabla::nn {

using NamedChild = std::pair<std::string, std::shared_ptr<Module>>;

void Sequential::push_back(std::shared_ptr<Module> module) {
  NABLA_CHECK(module != nullptr, "Sequential::push_back: module is null");
  register_module(std::to_string(size()), std::move(module));
}

std::shared_ptr<Module> Sequential::operator[](size_t i) const {
  NABLA_CHECK(i < size(), "Sequential: index ", i, " is out of range for ", size(), " modules");
  return named_children()[i].second;
}

int Sequential::add_forward_hook(ForwardHook hook) {
  NABLA_CHECK(hook != nullptr, "Sequential::add_forward_hook: the hook is empty");
  forward_hooks_.emplace_back(next_hook_id_, std::move(hook));
  return next_hook_id_++;
}

void Sequential::remove_forward_hook(int id) {
  for (auto it = forward_hooks_.begin(); it != forward_hooks_.end(); ++it)
    if (it->first == id) {
      forward_hooks_.erase(it);
      return;
    }
  detail::throw_error("Sequential::remove_forward_hook: no hook with id ", id, " (",
                      forward_hooks_.size(), " installed)");
}

// A ReLU and its neighbour run as one op where the neighbour has a fused form: a layer then a
// ReLU (Conv2d: conv2d_relu; BatchNorm in inference: one pass), or a ReLU then a layer (MaxPool2d:
// max_pool2d_relu). The same values and gradients, without the full-size ReLU output and its
// backward pass (docs/performance.md, Fusions). The pair's forward hooks then run once, with the
// fused output under the second layer's name (the ReLU's, or the MaxPool2d's).
Tensor Sequential::forward(const Tensor& input) {
  Tensor x = input;
  const auto& children = named_children();
  const LayerType* relu = &ReLU::description();
  for (size_t i = 0; i < children.size(); ++i) {
    Module* child = children[i].second.get();
    // Names the layer in a memory-limit error (memory.h); allocates nothing unless one happens.
    MemoryContext context(&children[i], [](const void* c) {
      const auto& [name, module] = *static_cast<const NamedChild*>(c);
      return "layer '" + name + "' (" + module->name() + ")";
    });
    Module* next = i + 1 < children.size() ? children[i + 1].second.get() : nullptr;
    Tensor fused;
    if (next && next->layer_type() == relu)
      fused = child->forward_relu(x);
    else if (next && child->layer_type() == relu)
      fused = next->forward_after_relu(x);
    if (fused.defined()) {
      x = std::move(fused);
      ++i;
    } else {
      x = child->forward(x);
    }
    if (!forward_hooks_.empty()) [[unlikely]]
      for (const auto& hook : forward_hooks_)
        hook.second(children[i].first, *children[i].second, x);
  }
  return x;
}

}  // namespace nabla::nn

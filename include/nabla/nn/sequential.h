// Sequential: children applied in order, each one's output the next one's input.
//
//   nn::Sequential model(nn::Linear(2, 8), nn::Tanh(), nn::Linear(8, 1), nn::Sigmoid());
//   model.push_back(std::make_shared<nn::Linear>(1, 1));  // shared_ptr: shared with the caller
//   Tensor y = model.forward(x);
//   auto& first = model.at<nn::Linear>(0);
//
// Children are named "0", "1", ..., so parameters read "0.weight", "0.bias", "2.weight", ...
//
// Forward hooks see each child's output as it is made (train/diagnostics.h reads activations
// this way):
//   int id = model.add_forward_hook([](const std::string& name, const nn::Module& child,
//                                      const Tensor& output) { ... });
//   model.remove_forward_hook(id);
// A fused pair reports once, the fused output under its second layer's name: a Conv2d then a
// ReLU (the pre-activation is never materialised) and, in inference, a BatchNorm then a ReLU, as
// the ReLU; a ReLU then a MaxPool2d as the MaxPool2d. Without hooks, forward pays one empty()
// test per child.
#pragma once

#include <concepts>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "nabla/nn/module.h"

namespace nabla::nn {

class Sequential : public Module {
 public:
  Sequential() = default;
  // Takes modules as rvalues (moved in) or as shared_ptr (shared with the caller).
  template <class... Ms>
  requires(sizeof...(Ms) > 0 &&
           !(sizeof...(Ms) == 1 && (std::is_same_v<std::remove_cvref_t<Ms>, Sequential> &&
                                    ...))) explicit Sequential(Ms&&... modules) {
    (push_back(std::forward<Ms>(modules)), ...);
  }

  void push_back(std::shared_ptr<Module> module);
  template <class M>
  requires std::derived_from<std::remove_cvref_t<M>, Module>
  void push_back(M&& module) {
    push_back(
        std::shared_ptr<Module>(std::make_shared<std::remove_cvref_t<M>>(std::forward<M>(module))));
  }

  size_t size() const { return named_children().size(); }
  bool empty() const { return size() == 0; }
  // The i-th child; throws when i >= size().
  std::shared_ptr<Module> operator[](size_t i) const;
  // The i-th child as an M; throws when it is another type.
  template <class M>
  M& at(size_t i) const {
    M* typed = dynamic_cast<M*>((*this)[i].get());
    NABLA_CHECK(typed != nullptr, "Sequential::at: child ", i, " is a ", (*this)[i]->name(),
                ", not the requested type");
    return *typed;
  }

  // Applies every child in order; an empty Sequential returns its input.
  Tensor forward(const Tensor& input) override;
  std::string name() const override { return "Sequential"; }

  // Called after each child's forward, in the order added, with the child's name ("0", "1",
  // ...), the child and its output; in training and evaluation alike. A hook that throws ends
  // forward with its exception.
  using ForwardHook =
      std::function<void(const std::string& name, const Module& child, const Tensor& output)>;
  // Returns an id for remove_forward_hook.
  int add_forward_hook(ForwardHook hook);
  // Removes the hook `id` returned; an unknown id is an error.
  void remove_forward_hook(int id);
  size_t num_forward_hooks() const { return forward_hooks_.size(); }

 private:
  std::vector<std::pair<int, ForwardHook>> forward_hooks_;
  int next_hook_id_ = 0;
};

}  // namespace nabla::nn

// Module: the base of every layer and model, as torch::nn::Module.
//
// A module owns named parameters (tensors an optimizer updates), named buffers (state such as
// running means that is saved but not trained) and named child modules. Children are held by
// std::shared_ptr, so a layer can sit in a Sequential and in a user's own member at once.
// Modules themselves are plain classes, not LibTorch's XImpl + TORCH_MODULE handle pair:
//
//   nn::Sequential model(nn::Linear(2, 8), nn::Tanh(), nn::Linear(8, 1));
//   auto fc = std::make_shared<nn::Linear>(8, 1);   // shared with a container: model.push_back(fc)
//
// Modules move but do not copy: a copy would silently share parameter tensors (they are handles)
// yet not the training flag, which is neither a deep copy nor an alias.
//
// Each layer describes itself (nabla/nn/layer.h): its registered type and fields, and what it
// makes of an input shape. Other parts ask a module through the virtual hooks below (random
// state, synchronised statistics, filters to draw, a fused ReLU) instead of testing its class.
//
// Not here: forward hooks (see Sequential), parameter groups, serialization (see io/).
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nabla/nn/layer.h"
#include "nabla/ops/conv.h"
#include "nabla/random.h"
#include "nabla/tensor.h"

namespace nabla::nn {

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  Module(Module&&) = default;
  Module& operator=(Module&&) = default;

  // The module's computation. The base version throws: modules that only hold others (or take
  // other arguments) need not define it.
  virtual Tensor forward(const Tensor& input);
  Tensor operator()(const Tensor& input) { return forward(input); }

  // Type name for printing ("Linear"); defaults to the C++ class name without namespaces.
  virtual std::string name() const;
  // What goes between the parentheses when printed: "in_features=2, out_features=8, bias=true".
  virtual std::string extra_repr() const { return ""; }

  // ---- its description (nabla/nn/layer.h) ----
  // The registered type a model description names it by; null for a module none can hold.
  virtual const LayerType* layer_type() const { return nullptr; }
  // Its fields as layer_type() reads them, inferred ones included (Keras's get_config).
  virtual LayerConfig config() const { return {}; }
  // What it makes of `input` (batch dim first): output shape, parameters, multiply-adds per
  // sample. Requires a layer_type().
  LayerShape describe(const std::vector<int64_t>& input) const;

  // ---- hooks: what other parts ask of a layer ----
  // The generator of its random state (dropout masks), which a checkpoint saves; null if none.
  virtual Generator* random_generator() { return nullptr; }
  // Layers with batch statistics take `sum` to add theirs up over the ranks of a data-parallel
  // job (an empty function: this process only) and return true; the others return false.
  virtual bool sync_statistics(const SumAcrossRanks& /*sum*/) { return false; }
  // Whether it normalises by batch statistics (so a batch of one row breaks it in training).
  virtual bool has_batch_statistics() const { return false; }
  // Whether its training forward runs right on slices of a batch that run together
  // (autograd::BatchSlices): batch norm (statistics of the whole batch) and dropout (the whole
  // batch's masks) do. A layer with buffers or a random generator that does not makes
  // nn::slicing run a model in training whole.
  virtual bool slices_together() const { return false; }
  // The weight a run draws as image filters (a first convolution's); undefined if none.
  virtual Tensor filters() const { return Tensor(); }
  // relu(forward(input)) as one fused op, or an undefined Tensor when the layer has no fused
  // form (or none now: batch norm fuses only in inference); Sequential asks it of a layer a ReLU
  // follows.
  virtual Tensor forward_relu(const Tensor& /*input*/) { return Tensor(); }
  // forward(relu(input)) as one fused op, or an undefined Tensor when the layer has no such form;
  // Sequential asks it of a layer that follows a ReLU (MaxPool2d: max_pool2d_relu).
  virtual Tensor forward_after_relu(const Tensor& /*input*/) { return Tensor(); }

  // ---- registration: names are unique within a module and contain no '.' ----
  // Stores `tensor` under `name` (marking it requires_grad) and returns it, to keep as a member.
  Tensor register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
  Tensor register_buffer(const std::string& name, Tensor tensor);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

  // ---- traversal, depth first in registration order; names are dotted paths ("0.weight") ----
  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
  std::vector<std::shared_ptr<Module>> children() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
    return children_;
  }

  // ---- modes and gradients ----
  // Sets training mode on this module and every descendant (dropout, batch norm read it).
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Drops the .grad of every parameter (PyTorch's set_to_none behaviour).
  void zero_grad();
  // Converts every parameter and buffer to `dtype` in place: the tensors keep their identity, so
  // members, containers and optimizers made afterwards all see the converted data.
  void to(DType dtype);

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  void check_new_name(const std::string& name, const char* what) const;

  bool training_ = true;
  std::vector<std::pair<std::string, Tensor>> parameters_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

// PyTorch's layout: a leaf prints as "Linear(in_features=2, out_features=8, bias=true)", a
// module with children as its name, one indented "(name): child" line each, and ")".
std::ostream& operator<<(std::ostream& os, const Module& module);
std::string to_string(const Module& module);

}  // namespace nabla::nn

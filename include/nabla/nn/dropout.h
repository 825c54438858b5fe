// Dropout: inverted dropout over the dropout op (nabla/ops/conv.h). In training each element is
// zeroed with probability p and the survivors scaled by 1/(1 - p); in evaluation it is the
// identity. Any input shape.
//
// The masks come from a Generator the module owns, so runs are reproducible: seeded from
// options.seed() when given, otherwise from one draw of default_generator() at construction
// (two Dropout layers built in a row get different streams). reseed() restarts the stream;
// generator() exposes it so a checkpoint can save and restore its state().
//
//   nn::Dropout drop(nn::DropoutOptions(0.25).seed(7));
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "nabla/nn/module.h"
#include "nabla/nn/options.h"
#include "nabla/random.h"

namespace nabla::nn {

struct DropoutOptions {
  DropoutOptions(double p = 0.5) : p_(p) {}                 // NOLINT: implicit on purpose
  NABLA_ARG(double, p);                                     // probability of zeroing, in [0, 1]
  NABLA_ARG(std::optional<uint64_t>, seed) = std::nullopt;  // of the mask generator
};

class Dropout : public Module {
 public:
  explicit Dropout(const DropoutOptions& options = {});
  Dropout(double p) : Dropout(DropoutOptions(p)) {}
  Tensor forward(const Tensor& input) override;
  std::string name() const override { return "Dropout"; }
  static const LayerType& description();
  const LayerType* layer_type() const override { return &description(); }
  LayerConfig config() const override;
  std::string extra_repr() const override;  // "p=0.5"

  void reseed(uint64_t seed) { generator_.seed(seed); }
  Generator& generator() { return generator_; }
  Generator* random_generator() override { return &generator_; }
  // In batch slices that run together each slice draws its rows of the whole batch's mask.
  bool slices_together() const override { return true; }
  const Generator& generator() const { return generator_; }

  DropoutOptions options;

 private:
  Generator generator_;
};

}  // namespace nabla::nn

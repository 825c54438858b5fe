// Dropout layer: owns the mask generator; the masking is the dropout op (src/ops/dropout.cpp).
#include "nabla/nn/dropout.h"

#include <sstream>

#include "nabla/autograd_slices.h"
#include "nabla/nn/init.h"
#include "nabla/ops.h"
#include "nn/layer_checks.h"

namespace nabla::nn {

Dropout::Dropout(const DropoutOptions& options)
    : options(options),
      generator_(options.seed() ? *options.seed() : default_generator().next_u64()) {
  NABLA_CHECK(options.p() >= 0 && options.p() <= 1, "Dropout: probability p = ", options.p(),
              " must lie in [0, 1]");
}

Tensor Dropout::forward(const Tensor& input) {
  const autograd::Slice* slice = autograd::current_slice();
  if (!slice || !is_training() || options.p() == 0)
    return dropout(input, options.p(), is_training(), generator_);
  // One slice of a batch whose slices run together: its rows of the mask the whole batch would
  // get. The mask takes one draw per element in row-major order, so this slice's part starts
  // begin · (values per row) draws into the stream. Every slice copies the stream before the
  // last one, whose part ends where the whole mask does, moves it on.
  NABLA_CHECK(input.dim() >= 1 && input.size(0) == slice->end - slice->begin, "Dropout: input ",
              input.shape(), " in batch slice ", slice->index, " does not have the slice's ",
              slice->end - slice->begin, " rows first");
  Generator stream = generator_;
  autograd::meet(*slice);
  stream.discard(static_cast<uint64_t>(slice->begin * (input.numel() / input.size(0))));
  Tensor y = dropout(input, options.p(), true, stream);
  if (slice->end == slice->rows) generator_ = stream;
  return y;
}

std::string Dropout::extra_repr() const {
  std::ostringstream out;
  out << "p=" << options.p();
  std::string s = out.str();
  if (s.find_first_of(".e") == std::string::npos) s += ".0";  // "p=1.0", as PyTorch prints
  return s;
}

// ---- the description: {"type": "dropout", "p": 0.5} ----

namespace {

// Each layer's mask stream is seeded from the model's generator: one seed, one run.
std::shared_ptr<Module> make_dropout(const LayerConfig& c, Generator& gen) {
  return std::make_shared<Dropout>(DropoutOptions(c.number("p")).seed(gen.next_u64()));
}

}  // namespace

const LayerType& Dropout::description() {
  static const LayerType type{"dropout",
                              {FieldSpec::number("p", 0.5, 0, 1).written_always()},
                              layer_checks::same_shape,
                              make_dropout};
  return type;
}

LayerConfig Dropout::config() const {
  return LayerConfig().set("p", options.p());
}

}  // namespace nabla::nn

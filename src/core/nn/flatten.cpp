// Flatten layer: a reshape (Tensor::flatten), which records its own backward.
#include "nabla/nn/flatten.h"

namespace nabla::nn {

Tensor Flatten::forward(const Tensor& input) {
  const int64_t rank = input.dim();
  auto valid = [rank](int64_t d) { return d >= -rank && d < rank; };
  NABLA_CHECK(valid(options.start_dim()) && valid(options.end_dim()),
              "Flatten(start_dim=", options.start_dim(), ", end_dim=", options.end_dim(),
              "): input ", input.shape(), " has only ", rank, " dims");
  return input.flatten(options.start_dim(), options.end_dim());
}

std::string Flatten::extra_repr() const {
  return "start_dim=" + std::to_string(options.start_dim()) +
         ", end_dim=" + std::to_string(options.end_dim());
}

}  // namespace nabla::nn

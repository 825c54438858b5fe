// The seed's XOR training, shared by bench/xor_bench.cpp (Google Benchmark) and
// bench/compare_nabla.cpp (bench/compare): 2-8-1 network (tanh hidden, sigmoid output), binary
// cross-entropy, Xavier/Glorot-uniform init, Adam lr 0.01, `steps` full-batch steps on the four
// points. bench/xor_torch.py is the same training in PyTorch.
#pragma once

#include <cstdint>
#include <vector>

#include "nabla/nabla.h"

namespace nabla_bench {

// Returns the final loss.
inline double train_xor(int64_t steps, uint64_t seed) {
  using namespace nabla;
  Tensor x = Tensor::from_vector(std::vector<float>{0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  Tensor y = Tensor::from_vector(std::vector<float>{0, 1, 1, 0}, {4, 1});
  Generator gen(seed);
  nn::Sequential model(nn::Linear(2, 8), nn::Tanh(), nn::Linear(8, 1), nn::Sigmoid());
  for (auto& [name, p] : model.named_parameters()) {
    if (name.ends_with("weight"))
      nn::init::xavier_uniform_(p, gen);
    else
      nn::init::zeros_(p);
  }
  optim::Adam adam(model.parameters(), optim::AdamOptions(0.01));
  Tensor loss;
  for (int64_t i = 0; i < steps; ++i) {
    adam.zero_grad();
    loss = binary_cross_entropy(model(x), y);
    loss.backward();
    adam.step();
  }
  return loss.item();
}

}  // namespace nabla_bench

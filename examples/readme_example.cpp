// The example in README.md, kept here so that every build compiles it: a two-layer network
// learns XOR with Adam. Keep the two in step.
#include <iostream>

#include "nabla/nabla.h"
#include "nabla/nn/activation.h"
#include "nabla/nn/linear.h"
#include "nabla/nn/sequential.h"
#include "nabla/optim/adam.h"

int main() {
  using namespace nabla;
  Tensor x = Tensor::from_vector({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2}, kFloat32);
  Tensor y = Tensor::from_vector({0, 1, 1, 0}, {4, 1}, kFloat32);
  nn::Sequential model(nn::Linear(2, 8), nn::Tanh(), nn::Linear(8, 1));
  optim::Adam opt(model.parameters(), optim::AdamOptions(0.05));
  for (int step = 0; step < 500; ++step) {
    opt.zero_grad();
    Tensor loss = binary_cross_entropy_with_logits(model(x), y);
    loss.backward();
    opt.step();
    if (step % 100 == 0) std::cout << "step " << step << "  loss " << loss.item() << "\n";
  }
  std::cout << sigmoid(model(x)) << "\n";  // close to 0, 1, 1, 0
}

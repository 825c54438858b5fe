// XOR with a two-layer network: the smallest problem no linear classifier solves.
// Copy this to start your own: it needs only nabla (find_package(nabla), link nabla::nabla).
#include <iostream>
#include <vector>

#include "nabla/nabla.h"
#include "nabla/nn/activation.h"
#include "nabla/nn/init.h"
#include "nabla/nn/linear.h"
#include "nabla/nn/sequential.h"
#include "nabla/optim/adam.h"

int main() {
  using namespace nabla;
  Tensor x = Tensor::from_vector(std::vector<float>{0, 0, 0, 1, 1, 0, 1, 1}, {4, 2});
  Tensor y = Tensor::from_vector(std::vector<float>{0, 1, 1, 0}, {4, 1});

  Generator gen(42);
  nn::Sequential model(nn::Linear(2, 8), nn::Tanh(), nn::Linear(8, 1), nn::Sigmoid());
  for (size_t i : {0, 2}) {  // Glorot/Xavier-uniform weights, zero biases
    auto& layer = model.at<nn::Linear>(i);
    nn::init::xavier_uniform_(layer.weight, gen);
    nn::init::zeros_(layer.bias);
  }
  optim::Adam optimizer(model.parameters(), optim::AdamOptions(0.01));

  for (int step = 0; step < 5000; ++step) {
    Tensor loss = binary_cross_entropy(model(x), y);
    if (step % 1000 == 0) std::cout << "step " << step << "  loss " << loss.item() << "\n";
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
  }

  NoGradGuard no_grad;  // inference: no graph
  std::cout << model << "\nP(class 1) for (0,0) (0,1) (1,0) (1,1):\n" << model(x) << "\n";
}

// Dropout layer: inverted scaling in training, identity in evaluation, a generator owned by the
// module (seeded, reseedable, state saved and restored), printing and errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nabla/nabla.h"
#include "test_util.h"

using namespace nabla;

TEST(DropoutLayer, TrainingZeroesAboutPAndScalesTheRest) {
  nn::Dropout drop(nn::DropoutOptions(0.25).seed(1));
  Tensor x = Tensor::full({100, 100}, 3.0).requires_grad_();
  Tensor y = drop.forward(x);
  std::vector<double> v = y.to_vector();
  int64_t zeros = 0;
  for (double e : v) {
    if (e == 0) {
      ++zeros;
    } else {
      EXPECT_NEAR(e, 3.0 / 0.75, 1e-5);
    }
  }
  EXPECT_NEAR(static_cast<double>(zeros) / 10000, 0.25, 0.02);
  // The gradient is the mask: zero where dropped, 1/(1-p) elsewhere.
  y.sum().backward();
  std::vector<double> g = x.grad().to_vector();
  for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(g[i], v[i] / 3.0, 1e-6);
}

TEST(DropoutLayer, EvalIsTheIdentity) {
  nn::Dropout drop(0.5);
  drop.eval();
  Tensor x = Tensor::ones({4, 4});
  EXPECT_EQ(drop.forward(x).to_vector(), x.to_vector());
  drop.train();
  EXPECT_NE(drop.forward(x).to_vector(), x.to_vector());
}

TEST(DropoutLayer, OwnGeneratorIsSeededReseedableAndCheckpointable) {
  Tensor x = Tensor::ones({64});
  nn::Dropout a(nn::DropoutOptions(0.5).seed(42)), b(nn::DropoutOptions(0.5).seed(42));
  std::vector<double> first = a.forward(x).to_vector();
  EXPECT_EQ(first, b.forward(x).to_vector());
  EXPECT_NE(first, a.forward(x).to_vector());  // the stream moves on
  a.reseed(42);
  EXPECT_EQ(a.forward(x).to_vector(), first);

  // A checkpoint saves the state; restoring it replays the next mask exactly.
  std::string state = a.generator().state();
  std::vector<double> next = a.forward(x).to_vector();
  nn::Dropout restored(nn::DropoutOptions(0.5).seed(7));
  restored.generator().set_state(state);
  EXPECT_EQ(restored.forward(x).to_vector(), next);

  // Unseeded layers draw their seeds from default_generator(): two in a row differ.
  nn::Dropout c(0.5), d(0.5);
  EXPECT_NE(c.forward(x).to_vector(), d.forward(x).to_vector());
}

TEST(DropoutLayer, PrintsAndChecksP) {
  EXPECT_EQ(nn::to_string(nn::Dropout(0.25)), "Dropout(p=0.25)");
  EXPECT_EQ(nn::to_string(nn::Dropout(1)), "Dropout(p=1.0)");
  EXPECT_EQ(nn::to_string(nn::Dropout()), "Dropout(p=0.5)");
  EXPECT_EQ(nabla::testing::error_message([] { nn::Dropout(1.5); }),
            "Dropout: probability p = 1.5 must lie in [0, 1]");
}

// The misclassified test images of a run (app/misclassified.h, issue 16 item 10): which samples
// are picked, with what confidence, and the grid that shows them.
#include "app/misclassified.h"

#include <gtest/gtest.h>

#include <cmath>

#include "data/temp_dir.h"
#include "nabla/autograd.h"
#include "nabla/io/image.h"
#include "nabla/nn/flatten.h"
#include "nabla/nn/linear.h"
#include "nabla/nn/sequential.h"

namespace nabla::app {
namespace {

// Six 1 × 2 × 2 images of three classes and a model that says class 0 whatever the image, with
// probability e² / (e² + 2).
struct Fixture {
  data::Dataset test =
      data::Dataset::from_uint8("tiny", Shape{1, 2, 2}, std::vector<uint8_t>(6 * 4, 200),
                                {0, 1, 0, 2, 2, 0}, {"zero", "one", "two"});
  nn::Sequential model{nn::Flatten(), nn::Linear(nn::LinearOptions(4, 3))};
  Fixture() {
    NoGradGuard no_grad;
    auto& linear = model.at<nn::Linear>(1);
    linear.weight.fill_(0);
    linear.bias.copy_(Tensor::from_vector(std::vector<float>{2, 0, 0}, {3}));
  }
};

TEST(Misclassified, TheFirstWrongSamplesInOrderWithTheirConfidence) {
  Fixture f;
  const data::DataLoader loader(f.test, data::DataLoaderOptions(4));  // two batches
  const std::vector<Misclassified> wrong = find_misclassified(f.model, loader);
  ASSERT_EQ(wrong.size(), 3u);
  const double p0 = std::exp(2.0) / (std::exp(2.0) + 2);
  const int64_t indices[] = {1, 3, 4}, truths[] = {1, 2, 2};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(wrong[i].index, indices[i]);
    EXPECT_EQ(wrong[i].truth, truths[i]);
    EXPECT_EQ(wrong[i].predicted, 0);
    EXPECT_NEAR(wrong[i].confidence, p0, 1e-6);
  }
  EXPECT_TRUE(f.model.is_training()) << "the model's mode is restored";
  EXPECT_EQ(find_misclassified(f.model, loader, 2).size(), 2u) << "at most `max`";
}

TEST(Misclassified, TheGridIsWrittenForImagesOnly) {
  Fixture f;
  nabla::testing::TempDir dir;
  const std::vector<Misclassified> wrong = {{1, 1, 0, 0.75}, {3, 2, 0, 0.5}};
  ASSERT_TRUE(write_misclassified_png(dir.file("m.png"), f.test, wrong));
  const io::Image image = io::read_png(dir.file("m.png"));
  EXPECT_GE(image.width, 2 * 84);
  EXPECT_GE(image.height, 84 + 32);
  EXPECT_FALSE(write_misclassified_png(dir.file("none.png"), f.test, {}));
  EXPECT_FALSE(std::filesystem::exists(dir.file("none.png")));
  const data::Dataset tabular =
      data::Dataset::from_float("t", Shape{4}, std::vector<float>(8, 0.5f), {0, 1}, {"a", "b"});
  EXPECT_FALSE(write_misclassified_png(dir.file("tab.png"), tabular, {{1, 1, 0, 0.9}}));
}

}  // namespace
}  // namespace nabla::app

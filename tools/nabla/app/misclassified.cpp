// Misclassified test images (app/misclassified.h).
#include "app/misclassified.h"

#include <algorithm>
#include <cstdio>

#include "nabla/autograd.h"
#include "nabla/io/image.h"
#include "nabla/nn/inference.h"
#include "nabla/ops.h"

namespace nabla::app {

std::vector<Misclassified> find_misclassified(nn::Module& model, const data::DataLoader& loader,
                                              size_t max) {
  std::vector<Misclassified> wrong;
  const bool was_training = model.is_training();
  NoGradGuard no_grad;
  model.eval();
  const data::DataLoader::Epoch epoch = loader.epoch(0);
  int64_t first = 0;  // the data set index of the batch's first sample (no shuffling)
  for (int64_t b = 0; b < epoch.size() && wrong.size() < max; ++b) {
    const data::Batch batch = epoch.batch(b);
    // nn::infer, as train::evaluate: the same numbers as its confusion matrix.
    const Tensor probabilities = softmax(nn::infer(model, batch.images), -1);
    const int64_t rows = probabilities.size(0), classes = probabilities.size(1);
    const std::vector<double> p = probabilities.to_vector();
    for (int64_t r = 0; r < rows && wrong.size() < max; ++r) {
      const double* row = p.data() + r * classes;
      const auto predicted = static_cast<int64_t>(std::max_element(row, row + classes) - row);
      const int64_t truth = batch.labels[static_cast<size_t>(r)];
      if (predicted != truth) wrong.push_back({first + r, truth, predicted, row[predicted]});
    }
    first += rows;
  }
  model.train(was_training);
  return wrong;
}

bool write_misclassified_png(const std::string& path, const data::Dataset& test,
                             const std::vector<Misclassified>& wrong) {
  const Shape& shape = test.sample_shape();
  if (wrong.empty() || !test.is_uint8() || shape.size() != 3 || (shape[0] != 1 && shape[0] != 3))
    return false;
  const int64_t C = shape[0], H = shape[1], W = shape[2];
  const std::vector<std::string>& names = test.class_names();
  std::vector<io::LabeledImage> tiles;
  for (const Misclassified& m : wrong) {
    io::Image image = io::make_image(H, W, C);
    const uint8_t* planar = test.uint8_sample(m.index);  // (C, H, W)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < H * W; ++i)
        image.pixels[static_cast<size_t>(i * C + c)] = planar[c * H * W + i];
    char confidence[16];
    std::snprintf(confidence, sizeof confidence, " %.0f%%", 100 * m.confidence);
    tiles.push_back({std::move(image),
                     {"true " + names[static_cast<size_t>(m.truth)],
                      names[static_cast<size_t>(m.predicted)] + confidence}});
  }
  io::write_labeled_image_grid_png(
      path, tiles,
      {.title = "Misclassified test images (first " + std::to_string(wrong.size()) +
                "): true class, prediction and confidence",
       .columns = 8,
       .tile = 84});
  return true;
}

}  // namespace nabla::app

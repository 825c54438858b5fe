// The images behind the numbers: a run's misclassified test images, each with its true class, the
// predicted class and the model's confidence in it, as a grid (OUT/misclassified.png, in the
// report beside the confusion matrix).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nabla/data/dataloader.h"
#include "nabla/data/dataset.h"
#include "nabla/nn/module.h"

namespace nabla::app {

struct Misclassified {
  int64_t index = 0;  // in the test set
  int64_t truth = 0, predicted = 0;
  double confidence = 0;  // the softmax probability of `predicted`
};

// The first `max` test samples (in data set order) that `model`, in eval mode, gets wrong.
// `loader` runs over the test set in order, normalised as in training.
std::vector<Misclassified> find_misclassified(nn::Module& model, const data::DataLoader& loader,
                                              size_t max = 32);

// Writes `path`: each sample's raw pixels, captioned "true CLASS" and "PRED 87%". Returns false
// and writes nothing when `wrong` is empty or the samples are not images (tabular data, or
// channels other than 1 and 3).
bool write_misclassified_png(const std::string& path, const data::Dataset& test,
                             const std::vector<Misclassified>& wrong);

}  // namespace nabla::app

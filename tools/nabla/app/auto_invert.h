// `nabla predict`'s automatic inversion (docs/cli.md, "nabla predict"): a drawing of dark ink on
// white paper fed to a model trained on light-on-dark images (Fashion-MNIST, MNIST) is confidently
// misread, so predict compares the image's border with the training images' borders and inverts
// the image when it is the opposite of what training saw.
//
// The rule. Each image's border brightness is the mean of its outermost ring of pixels over all
// channels, in [0, 1]. Training records the mean and standard deviation of that value over the
// training set (trainer_state.json's "border"). An image is inverted when
//   - the training borders agree (std <= kMaxTrainingBorderStd: a plain background), and
//   - its border is more than kBorderDifference from the training mean, and
//   - inverted, it would be closer to the training mean.
// Natural images (CIFAR-10) have borders of every brightness, so they are never inverted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/run.h"
#include "nabla/data/dataset.h"

namespace nabla::app {

inline constexpr double kMaxTrainingBorderStd = 0.15;
inline constexpr double kBorderDifference = 0.4;

struct BorderStats {
  double mean = 0, std = 0;  // of the per-image border brightness, in [0, 1]
};

// The border brightness of one image of shape (C, H, W), planar 8-bit pixels.
double border_brightness(const uint8_t* planar, int64_t C, int64_t H, int64_t W);
// Over a data set of 8-bit images; nullopt for tabular or float data, or an empty set.
std::optional<BorderStats> border_stats(const data::Dataset& images);

// Decides for one image (pixels as the model takes them, (C, H, W) planar): inverts them in place
// and returns the notice to print, or returns "" and leaves them.
class AutoInvert {
 public:
  // `enabled` false (--no-auto-invert, or --invert given): never inverts. The training borders
  // come from the checkpoint's "border"; a checkpoint from before it records none, and then
  // nothing is inverted.
  AutoInvert(const TrainedModel& trained, bool enabled);
  AutoInvert(std::optional<BorderStats> training, std::vector<int64_t> sample_shape);

  std::string apply(std::vector<uint8_t>& pixels) const;

 private:
  std::optional<BorderStats> training_;
  std::vector<int64_t> shape_;
};

// Writes the pixels the model is given, (C, H, W) planar, as a PNG (--show-input).
void write_model_input_png(const std::string& path, const std::vector<uint8_t>& pixels,
                           const std::vector<int64_t>& sample_shape);

}  // namespace nabla::app

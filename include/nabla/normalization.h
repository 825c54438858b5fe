// The input normalisation a model was trained with, in one place: the data loader feeds batches
// through it and nabla::load_model (nabla/load_model.h) feeds raw images through it, so a model
// sees at inference exactly the numbers it saw in training.
//
//   y = (x · base - mean[c]) / std[c],  base = 1/255 for 8-bit pixels, 1 for float samples
//
// folded into one multiply-add per value, y = x · scale[c] + shift[c]. Mean and std are on the
// [0, 1] scale for 8-bit data, as torchvision's ToTensor + Normalize use them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nabla {

// Per-channel statistics for (x - mean) / std. Empty vectors: no normalisation (8-bit pixels are
// still scaled to [0, 1]).
struct Normalization {
  std::vector<float> mean;
  std::vector<float> std;
  bool empty() const { return mean.empty(); }
};

// `norm` for `channels` channels: one mean and std stand for every channel; others are as given.
Normalization for_channels(const Normalization& norm, int64_t channels);

// y = x · scale[c] + shift[c] for channel c.
struct ChannelAffine {
  std::vector<float> scale;
  std::vector<float> shift;
};

// The affine map of `norm` for samples of `channels` channels stored as 8-bit pixels (`uint8`)
// or floats. Throws, prefixed by `where`, unless norm is empty or has one finite mean and one
// positive finite std per channel.
ChannelAffine channel_affine(const Normalization& norm, int64_t channels, bool uint8,
                             const std::string& where);

// out (C, plane) = in (C, plane) · scale[c] + shift[c].
void normalize_planes(float* out, const uint8_t* in, int64_t plane, const ChannelAffine& affine);
void normalize_planes(float* out, const float* in, int64_t plane, const ChannelAffine& affine);

}  // namespace nabla

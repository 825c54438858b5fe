// The input normalisation (include/nabla/normalization.h): the one formula the data loader and
// load_model share.
#include "nabla/normalization.h"

#include <cmath>

#include "nabla/error.h"

namespace nabla {

namespace {

template <class T>
void affine_planes(float* out, const T* in, int64_t plane, const ChannelAffine& affine) {
  const auto C = static_cast<int64_t>(affine.scale.size());
  for (int64_t c = 0; c < C; ++c) {
    const float a = affine.scale[static_cast<size_t>(c)], b = affine.shift[static_cast<size_t>(c)];
    const T* src = in + c * plane;
    float* dst = out + c * plane;
    for (int64_t k = 0; k < plane; ++k) dst[k] = static_cast<float>(src[k]) * a + b;
  }
}

}  // namespace

Normalization for_channels(const Normalization& norm, int64_t channels) {
  if (norm.mean.size() != 1 || norm.std.size() != 1 || channels <= 1) return norm;
  const auto C = static_cast<size_t>(channels);
  return Normalization{std::vector<float>(C, norm.mean[0]), std::vector<float>(C, norm.std[0])};
}

ChannelAffine channel_affine(const Normalization& norm, int64_t channels, bool uint8,
                             const std::string& where) {
  NABLA_CHECK(norm.mean.size() == norm.std.size(), where, ": normalisation has ", norm.mean.size(),
              " means and ", norm.std.size(), " stds");
  NABLA_CHECK(norm.empty() || static_cast<int64_t>(norm.mean.size()) == channels, where,
              ": normalisation has ", norm.mean.size(), " means and stds for ", channels,
              " channels");
  // 8-bit pixels are scaled to [0, 1] first; normalisation folds into the same multiply-add.
  const float base = uint8 ? 1.0f / 255.0f : 1.0f;
  ChannelAffine out{std::vector<float>(static_cast<size_t>(channels), base),
                    std::vector<float>(static_cast<size_t>(channels), 0.0f)};
  for (size_t c = 0; c < norm.mean.size(); ++c) {
    NABLA_CHECK(norm.std[c] > 0 && std::isfinite(norm.std[c]) && std::isfinite(norm.mean[c]), where,
                ": channel ", c, " has std ", norm.std[c], " and mean ", norm.mean[c],
                "; std must be positive and both finite");
    out.scale[c] = base / norm.std[c];
    out.shift[c] = -norm.mean[c] / norm.std[c];
  }
  return out;
}

void normalize_planes(float* out, const uint8_t* in, int64_t plane, const ChannelAffine& affine) {
  affine_planes(out, in, plane, affine);
}

void normalize_planes(float* out, const float* in, int64_t plane, const ChannelAffine& affine) {
  affine_planes(out, in, plane, affine);
}

}  // namespace nabla

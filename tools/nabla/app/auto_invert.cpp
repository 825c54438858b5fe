// Automatic inversion of predict's images (app/auto_invert.h).
#include "app/auto_invert.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "nabla/error.h"
#include "nabla/io/checkpoint.h"
#include "nabla/io/image.h"

namespace nabla::app {

double border_brightness(const uint8_t* planar, int64_t C, int64_t H, int64_t W) {
  double sum = 0;
  int64_t count = 0;
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x)
        if (y == 0 || y == H - 1 || x == 0 || x == W - 1) {
          sum += planar[(c * H + y) * W + x];
          ++count;
        }
  return count > 0 ? sum / (255.0 * static_cast<double>(count)) : 0;
}

std::optional<BorderStats> border_stats(const data::Dataset& images) {
  const Shape& shape = images.sample_shape();
  if (images.empty() || !images.is_uint8() || shape.size() != 3) return std::nullopt;
  double sum = 0, sum_sq = 0;
  for (int64_t i = 0; i < images.size(); ++i) {
    const double b = border_brightness(images.uint8_sample(i), shape[0], shape[1], shape[2]);
    sum += b;
    sum_sq += b * b;
  }
  const auto n = static_cast<double>(images.size());
  const double mean = sum / n;
  return BorderStats{mean, std::sqrt(std::max(0.0, sum_sq / n - mean * mean))};
}

namespace {

std::optional<BorderStats> saved_border(const TrainedModel& trained) {
  if (trained.config.empty()) return std::nullopt;  // not known: never invert
  const nlohmann::json config = nlohmann::json::parse(trained.config);
  const auto it = config.find("border");
  if (it == config.end() || !it->is_object()) return std::nullopt;
  return BorderStats{it->at("mean").get<double>(), it->at("std").get<double>()};
}

}  // namespace

AutoInvert::AutoInvert(const TrainedModel& trained, bool enabled)
    : AutoInvert(enabled ? saved_border(trained) : std::nullopt, trained.sample_shape) {}

AutoInvert::AutoInvert(std::optional<BorderStats> training, std::vector<int64_t> sample_shape)
    : training_(training), shape_(std::move(sample_shape)) {}

std::string AutoInvert::apply(std::vector<uint8_t>& pixels) const {
  if (!training_ || shape_.size() != 3 || training_->std > kMaxTrainingBorderStd) return "";
  NABLA_CHECK(static_cast<int64_t>(pixels.size()) == shape_[0] * shape_[1] * shape_[2],
              "auto-invert: ", pixels.size(), " pixels for an input of ", Shape(shape_));
  const double border = border_brightness(pixels.data(), shape_[0], shape_[1], shape_[2]);
  const double off = std::abs(border - training_->mean);
  if (off <= kBorderDifference || std::abs(1 - border - training_->mean) >= off) return "";
  for (uint8_t& p : pixels) p = static_cast<uint8_t>(255 - p);
  char notice[256];
  std::snprintf(notice, sizeof notice,
                "inverted the image: its border is %s (%.2f) but the training images' borders are "
                "%s (%.2f +- %.2f); --no-auto-invert keeps it as it is",
                border > training_->mean ? "light" : "dark", border,
                border > training_->mean ? "dark" : "light", training_->mean, training_->std);
  return notice;
}

void write_model_input_png(const std::string& path, const std::vector<uint8_t>& pixels,
                           const std::vector<int64_t>& shape) {
  NABLA_CHECK(shape.size() == 3 && (shape[0] == 1 || shape[0] == 3) &&
                  static_cast<int64_t>(pixels.size()) == shape[0] * shape[1] * shape[2],
              "--show-input: the model's input ", Shape(shape), " is not a gray or RGB image");
  io::Image image = io::make_image(shape[1], shape[2], shape[0]);
  const int64_t plane = shape[1] * shape[2];
  for (int64_t c = 0; c < shape[0]; ++c)
    for (int64_t i = 0; i < plane; ++i)
      image.pixels[static_cast<size_t>(i * shape[0] + c)] =
          pixels[static_cast<size_t>(c * plane + i)];
  io::write_png(path, image);
}

}  // namespace nabla::app

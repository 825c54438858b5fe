// Inference from a trained run: load the model that `nabla train --out RUN` saved and classify
// one image. It links nabla::core (model, checkpoint) and nabla::plot (reading PNG and PGM), and
// reads the run's config with nlohmann/json, which nabla writes it with.
//
//   example_inference RUN_DIR IMAGE
//
// RUN_DIR is a run directory (its best/, final/ or last/ checkpoint is used, in that order) or a
// checkpoint directory. The checkpoint's trainer_state.json holds the model description, the
// sample shape, the class names and the normalisation the run trained with.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nabla/autograd.h"
#include "nabla/io/checkpoint.h"
#include "nabla/io/image.h"
#include "nabla/models.h"
#include "nabla/ops.h"

using namespace nabla;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s RUN_DIR IMAGE\n", argv[0]);
    return 2;
  }
  std::string checkpoint = argv[1];
  for (const char* sub : {"best", "final", "last"})
    if (fs::is_directory(fs::path(argv[1]) / sub)) {
      checkpoint = (fs::path(argv[1]) / sub).string();
      break;
    }

  try {
    // The model: rebuilt from its description, then its trained weights loaded (strictly).
    const io::TrainingState state = io::read_training_state(checkpoint);
    const nlohmann::json config = nlohmann::json::parse(state.config);
    auto model = model_from_json(config.at("model").dump(), 0, checkpoint);
    io::load_checkpoint(checkpoint, *model, nullptr);
    model->eval();
    const auto shape = config.at("sample_shape").get<std::vector<int64_t>>();  // (C, H, W)
    const auto classes = config.at("class_names").get<std::vector<std::string>>();
    const auto mean = config.at("normalization").at("mean").get<std::vector<float>>();
    const auto std_dev = config.at("normalization").at("std").get<std::vector<float>>();

    // The image as the model's input: its channels and size, values (pixel / 255 - mean) / std
    // per channel, as the DataLoader fed them in training.
    io::Image image = io::convert_channels(io::read_image(argv[2]), shape.at(0));
    if (image.height != shape.at(1) || image.width != shape.at(2))
      image = io::resize(image, shape.at(1), shape.at(2));
    Tensor x = image.to_tensor();  // (C, H, W) in [0, 1]
    if (!mean.empty()) {
      float* v = x.data<float>();
      const int64_t plane = shape[1] * shape[2];
      for (int64_t i = 0; i < x.numel(); ++i)
        v[i] =
            (v[i] - mean[static_cast<size_t>(i / plane)]) / std_dev[static_cast<size_t>(i / plane)];
    }

    NoGradGuard no_grad;
    const Tensor logits = model->forward(x.reshape({1, shape[0], shape[1], shape[2]}));
    const std::vector<double> p = softmax(logits, -1).to_vector();
    const auto best = static_cast<size_t>(std::max_element(p.begin(), p.end()) - p.begin());
    std::printf("%s: %s (%.2f%%)\n", argv[2], classes.at(best).c_str(), 100 * p[best]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}

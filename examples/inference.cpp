// Inference from a trained model: nabla::load_model reads a model file (or a run directory) and
// classifies one image. It links nabla::core (the model) and nabla::plot (reading PNG and PGM);
// the file itself says the architecture, the class names and the input normalisation.
//
//   example_inference MODEL IMAGE
//
// MODEL is a model file (a run's model.safetensors, or a copy of it anywhere), a checkpoint
// directory or a run directory (its best/, final/ or last/ checkpoint, in that order).
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "nabla/io/image.h"
#include "nabla/load_model.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s MODEL IMAGE\n", argv[0]);
    return 2;
  }
  try {
    const nabla::LoadedModel model = nabla::load_model(argv[1]);
    const std::vector<int64_t>& shape = model.input_shape();  // (C, H, W)

    // The image with the model's channels and size; load_model normalises its pixels as the
    // data loader did in training.
    nabla::io::Image image =
        nabla::io::convert_channels(nabla::io::read_image(argv[2]), shape.at(0));
    if (image.height != shape.at(1) || image.width != shape.at(2))
      image = nabla::io::resize(image, shape.at(1), shape.at(2));
    const std::vector<double> p = model.predict(image.to_planar(), shape);

    const auto best = static_cast<size_t>(std::max_element(p.begin(), p.end()) - p.begin());
    std::printf("%s: %s (%.2f%%)\n", argv[2], model.class_names().at(best).c_str(), 100 * p[best]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}

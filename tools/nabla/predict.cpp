// `nabla predict`: class probabilities of one image (PNG or PGM) or one sample of a data set.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <numeric>
#include <string>

#include "app/run.h"
#include "commands.h"
#include "nabla/io/image.h"

namespace nabla::cli {

namespace {

struct PredictArgs {
  std::string checkpoint;
  std::string image;
  int64_t index = -1;
  std::string dataset;  // "": the run's
  std::string data_dir;
  std::string split = "test";
  bool invert = false;
  int64_t top = 0;  // 0: every class
};

// The image as a one-sample data set shaped as the model's input: channels converted, resized
// when the size differs (said on stdout), optionally inverted (dark ink on white paper -> the
// datasets' light-on-dark).
data::Dataset image_dataset(const train::TrainedModel& trained, const PredictArgs& args) {
  const std::vector<int64_t>& shape = trained.sample_shape;
  NABLA_CHECK(shape.size() == 3, "predict: the model in ", trained.checkpoint,
              " takes feature vectors, not images; use --index with its data set");
  io::Image image = io::read_image(args.image);
  std::printf("image %s: %lld x %lld %s\n", args.image.c_str(), static_cast<long long>(image.width),
              static_cast<long long>(image.height), image.channels == 1 ? "gray" : "RGB");
  image = io::convert_channels(image, shape[0]);
  if (image.height != shape[1] || image.width != shape[2]) {
    image = io::resize(image, shape[1], shape[2]);
    std::printf("resized to %lld x %lld, the model's input\n", static_cast<long long>(shape[2]),
                static_cast<long long>(shape[1]));
  }
  if (args.invert)
    for (uint8_t& p : image.pixels) p = static_cast<uint8_t>(255 - p);
  return data::Dataset::from_uint8(args.image, Shape(shape), image.to_planar(), {0},
                                   trained.class_names);
}

void run_predict(const PredictArgs& args) {
  if (args.image.empty() == (args.index < 0))
    throw UsageError("predict: give either an IMAGE file or --index N (a sample of the data set)");
  const train::TrainedModel trained = train::load_trained_model(args.checkpoint);
  data::Dataset samples;
  int64_t index = 0;
  if (!args.image.empty()) {
    samples = image_dataset(trained, args);
  } else {
    train::RunOptions data_options = trained.options;
    if (!args.dataset.empty()) data_options.dataset = args.dataset;
    data_options.train_subset = data_options.test_subset = 0;
    samples = train::load_run_dataset(
        data_options, args.split == "train" ? data::Split::Train : data::Split::Test,
        args.data_dir);
    index = args.index;
    NABLA_CHECK(index < samples.size(), "predict: --index ", index, " is past the end of the ",
                data_options.dataset, " ", args.split, " set (", samples.size(), " images)");
    std::printf("%s %s image %lld: true class %s\n", data_options.dataset.c_str(),
                args.split.c_str(), static_cast<long long>(index),
                samples.class_names()[static_cast<size_t>(samples.label(index))].c_str());
  }
  const std::vector<double> p = train::predict_probabilities(trained, samples, index);
  std::vector<size_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
  std::printf("predicted: %s (%.2f%%)\n", trained.class_names[order[0]].c_str(), 100 * p[order[0]]);
  size_t width = 0;
  for (const std::string& n : trained.class_names) width = std::max(width, n.size());
  const size_t shown =
      args.top > 0 ? std::min(order.size(), static_cast<size_t>(args.top)) : order.size();
  for (size_t i = 0; i < shown; ++i) {
    const size_t c = order[i];
    std::printf("  %-*s  %6.2f%%  %s\n", static_cast<int>(width), trained.class_names[c].c_str(),
                100 * p[c], std::string(static_cast<size_t>(p[c] * 40 + 0.5), '#').c_str());
  }
}

}  // namespace

void add_predict_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<PredictArgs>();
  CLI::App* cmd = app.add_subcommand(
      "predict", "Class probabilities of a PNG or PGM image, or of --index N of a data set");
  cmd->add_option("checkpoint", args->checkpoint,
                  "A run directory (nabla train --out; uses best/) or a checkpoint directory")
      ->required();
  cmd->add_option("image", args->image, "A PNG or PGM file (resized to the model's input)");
  cmd->add_option("--index", args->index, "Classify this sample of the data set instead")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--dataset", args->dataset, "With --index: the data set (default: the run's)");
  cmd->add_option("--data-dir", args->data_dir, "Directory of its files (default: the run's)");
  cmd->add_option("--split", args->split, "With --index: test or train")
      ->capture_default_str()
      ->check(CLI::IsMember({"test", "train"}));
  cmd->add_flag("--invert", args->invert,
                "Invert the image's values (for dark drawings on a light background)");
  cmd->add_option("--top", args->top, "Show only the K most likely classes")->check(kPositive);
  cmd->callback([args, &exit_code] {
    run_predict(*args);
    exit_code = 0;
  });
}

}  // namespace nabla::cli

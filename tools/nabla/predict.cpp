// `nabla predict`: class probabilities of images (PNG, JPEG or PGM files, or folders of them) or
// of one sample of a data set.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <numeric>
#include <string>

#include "app/auto_invert.h"
#include "app/run.h"
#include "commands.h"
#include "nabla/data/image_folder.h"
#include "nabla/io/image.h"

namespace nabla::cli {

namespace {

namespace fs = std::filesystem;

struct PredictArgs {
  std::string checkpoint;
  std::vector<std::string> images;  // files, or folders searched for images
  int64_t index = -1;
  std::string dataset;  // "": the run's
  std::string data_dir;
  std::string split = "test";
  bool invert = false;
  bool no_auto_invert = false;
  std::string show_input;  // "": none
  bool csv = false;
  bool skip_bad_images = false;
  int64_t top = 0;             // 0: every class
  app::ModelFileOptions file;  // --model, --normalize
};

bool is_image_file(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".pgm";
}

// The files named, with each folder replaced by the images in it and its sub-folders, sorted.
std::vector<std::string> image_paths(const std::vector<std::string>& args) {
  std::vector<std::string> paths;
  for (const std::string& arg : args) {
    if (!fs::is_directory(arg)) {
      paths.push_back(arg);
      continue;
    }
    std::vector<std::string> found;
    for (const fs::directory_entry& e : fs::recursive_directory_iterator(arg))
      if (e.is_regular_file() && is_image_file(e.path())) found.push_back(e.path().string());
    NABLA_CHECK(!found.empty(), "predict: no .png, .jpg, .jpeg or .pgm files in ", arg);
    std::sort(found.begin(), found.end());
    paths.insert(paths.end(), found.begin(), found.end());
  }
  return paths;
}

// PNG and JPEG through nabla::data, as image folders are read for training; PGM through io.
data::PlanarImage read_any_image(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  char magic = 0;
  file.get(magic);
  if (magic != 'P') return data::read_image_file(path);
  const io::Image pgm = io::read_image(path);  // gray: interleaved is planar
  return data::PlanarImage{pgm.channels, pgm.height, pgm.width, pgm.to_planar()};
}

// The image fitted to the model's input (data::fit_image, the rule image folders are read
// with) and optionally inverted (dark ink on white paper -> the datasets' light-on-dark).
// `verbose`: say the size read and any resizing on stdout.
std::vector<uint8_t> model_input(const app::TrainedModel& trained, const std::string& path,
                                 bool invert, bool verbose, const app::AutoInvert& auto_invert) {
  const std::vector<int64_t>& shape = trained.sample_shape;
  NABLA_CHECK(shape.size() == 3, "predict: the model in ", trained.checkpoint,
              " takes feature vectors, not images; use --index with its data set");
  const data::PlanarImage image = read_any_image(path);
  if (verbose)
    std::printf("image %s: %lld x %lld %s\n", path.c_str(), static_cast<long long>(image.width),
                static_cast<long long>(image.height), image.channels == 1 ? "gray" : "RGB");
  if (verbose && (image.height != shape[1] || image.width != shape[2]))
    std::printf("resized to %lld x %lld, the model's input\n", static_cast<long long>(shape[2]),
                static_cast<long long>(shape[1]));
  std::vector<uint8_t> pixels = data::fit_image(image, Shape(shape)).pixels;
  if (invert)
    for (uint8_t& p : pixels) p = static_cast<uint8_t>(255 - p);
  if (const std::string notice = auto_invert.apply(pixels); !notice.empty())
    std::fprintf(verbose ? stdout : stderr, "%s: %s\n", path.c_str(), notice.c_str());
  return pixels;
}

// The classes from the most likely down.
std::vector<size_t> ranked(const std::vector<double>& p) {
  std::vector<size_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
  return order;
}

void print_table(const app::TrainedModel& trained, const std::vector<double>& p, int64_t top) {
  const std::vector<size_t> order = ranked(p);
  std::printf("predicted: %s (%.2f%%)\n", trained.class_names[order[0]].c_str(), 100 * p[order[0]]);
  size_t width = 0;
  for (const std::string& n : trained.class_names) width = std::max(width, n.size());
  const size_t shown = top > 0 ? std::min(order.size(), static_cast<size_t>(top)) : order.size();
  for (size_t i = 0; i < shown; ++i) {
    const size_t c = order[i];
    std::printf("  %-*s  %6.2f%%  %s\n", static_cast<int>(width), trained.class_names[c].c_str(),
                100 * p[c], std::string(static_cast<size_t>(p[c] * 40 + 0.5), '#').c_str());
  }
}

// A CSV cell: quoted when it holds a comma, a quote or a line break.
std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// Several images (or --csv): one line each, "PATH  CLASS  PERCENT" or a CSV row with every
// class's probability.
void predict_images(const app::TrainedModel& trained, const PredictArgs& args,
                    const std::vector<std::string>& paths, const app::AutoInvert& auto_invert) {
  if (args.csv) {
    std::printf("path,predicted,probability");
    for (const std::string& name : trained.class_names) std::printf(",%s", csv_cell(name).c_str());
    std::printf("\n");
  }
  for (const std::string& path : paths) {
    std::vector<uint8_t> pixels;
    try {
      pixels = model_input(trained, path, args.invert, /*verbose=*/false, auto_invert);
    } catch (const Error& e) {
      if (!args.skip_bad_images) throw;
      std::fprintf(stderr, "skipped %s\n", e.what());
      continue;
    }
    const data::Dataset one = data::Dataset::from_uint8(
        path, Shape(trained.sample_shape), std::move(pixels), {0}, trained.class_names);
    const std::vector<double> p = app::predict_probabilities(trained, one, 0);
    const size_t best = ranked(p)[0];
    if (args.csv) {
      std::printf("%s,%s,%.6f", csv_cell(path).c_str(), csv_cell(trained.class_names[best]).c_str(),
                  p[best]);
      for (double v : p) std::printf(",%.6f", v);
      std::printf("\n");
    } else {
      std::printf("%s  %s  %.2f%%\n", path.c_str(), trained.class_names[best].c_str(),
                  100 * p[best]);
    }
  }
}

void run_predict(PredictArgs args) {
  // --model FILE.onnx is the whole model (export.cpp), so the first positional is then an
  // image; any other --model is the architecture of the weights the first positional holds.
  const bool onnx = is_onnx_file(args.file.model);
  if (onnx) {
    if (!args.checkpoint.empty()) args.images.insert(args.images.begin(), args.checkpoint);
    if (!args.file.normalize.empty())
      throw UsageError(
          "predict: --normalize does not apply to an ONNX model, whose first nodes "
          "normalise its input (docs/onnx.md)");
  } else if (args.file.model.ends_with(".safetensors")) {
    throw UsageError(
        "predict: --model takes an ONNX file (.onnx), a preset or a JSON "
        "description; a model file (.safetensors) is the first positional: nabla "
        "predict MODEL IMAGE");
  } else if (args.checkpoint.empty()) {
    throw UsageError(
        "predict: checkpoint is required (a model file or a run directory), or --model "
        "FILE.onnx");
  }
  if (args.images.empty() == (args.index < 0))
    throw UsageError(
        "predict: give either IMAGE files or folders, or --index N (a sample of the "
        "data set)");
  const app::TrainedModel trained =
      onnx ? load_onnx_model(args.file.model) : app::load_trained_model(args.checkpoint, args.file);
  if (!args.images.empty()) {
    const std::vector<std::string> paths = image_paths(args.images);
    const bool one_file = paths.size() == 1 && !fs::is_directory(args.images[0]);
    const app::AutoInvert auto_invert(trained, !args.invert && !args.no_auto_invert);
    if (!args.show_input.empty() && !one_file)
      throw UsageError("--show-input writes the input of one image; " +
                       std::to_string(paths.size()) + " were given");
    if (args.csv || !one_file) return predict_images(trained, args, paths, auto_invert);
    std::vector<uint8_t> pixels =
        model_input(trained, paths[0], args.invert, /*verbose=*/true, auto_invert);
    if (!args.show_input.empty())
      app::write_model_input_png(args.show_input, pixels, trained.sample_shape);
    const data::Dataset one = data::Dataset::from_uint8(
        paths[0], Shape(trained.sample_shape), std::move(pixels), {0}, trained.class_names);
    return print_table(trained, app::predict_probabilities(trained, one, 0), args.top);
  }
  app::RunOptions data_options = trained.options;
  if (!args.dataset.empty()) data_options.dataset = args.dataset;
  NABLA_CHECK(!data_options.dataset.empty(), "predict: ", trained.checkpoint,
              " does not say which data set it was trained on; pass --dataset with --index");
  data_options.train_subset = data_options.test_subset = 0;
  const data::Dataset samples = app::load_run_dataset(
      data_options, args.split == "train" ? data::Split::Train : data::Split::Test, args.data_dir);
  const int64_t index = args.index;
  NABLA_CHECK(index < samples.size(), "predict: --index ", index, " is past the end of the ",
              data_options.dataset, " ", args.split, " set (", samples.size(), " images)");
  std::printf("%s %s image %lld: true class %s\n", data_options.dataset.c_str(), args.split.c_str(),
              static_cast<long long>(index),
              samples.class_names()[static_cast<size_t>(samples.label(index))].c_str());
  print_table(trained, app::predict_probabilities(trained, samples, index), args.top);
}

}  // namespace

void add_predict_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<PredictArgs>();
  CLI::App* cmd = app.add_subcommand(
      "predict",
      "Class probabilities of PNG, JPEG or PGM images (files or folders), or of --index N of a "
      "data set");
  cmd->add_option("checkpoint", args->checkpoint,
                  "A model file (.safetensors), a run directory (nabla train --out; uses best/) "
                  "or a checkpoint directory (not with --model FILE.onnx)");
  cmd->add_option("--model", args->file.model,
                  "An ONNX model (.onnx, docs/onnx.md), then the positionals are images; or the "
                  "architecture of weights without a description (a PyTorch state dict): a "
                  "preset or a JSON description's path");
  cmd->add_option("--normalize", args->file.normalize,
                  "MEAN,STD the inputs of such weights were normalised with (pixels in [0, 1])");
  cmd->add_option("images", args->images,
                  "PNG, JPEG or PGM files, or folders of them (fitted to the model's input); "
                  "several give one line per image");
  cmd->add_option("--index", args->index, "Classify this sample of the data set instead")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--dataset", args->dataset, "With --index: the data set (default: the run's)");
  cmd->add_option("--data-dir", args->data_dir, "Directory of its files (default: the run's)");
  cmd->add_option("--split", args->split, "With --index: test or train")
      ->capture_default_str()
      ->check(CLI::IsMember({"test", "train"}));
  cmd->add_flag("--invert", args->invert,
                "Invert the image's values (for dark drawings on a light background)");
  cmd->add_flag("--no-auto-invert", args->no_auto_invert,
                "Keep an image whose background is the opposite of the training images' as it "
                "is (by default it is inverted, with a notice)");
  cmd->add_option("--show-input", args->show_input,
                  "Write the image as the model sees it (resized, inverted) to this PNG");
  cmd->add_flag("--csv", args->csv,
                "One CSV row per image: path, predicted class, its probability, every class's");
  cmd->add_flag("--skip-bad-images", args->skip_bad_images,
                "Name images that cannot be read on stderr and go on");
  cmd->add_option("--top", args->top, "Show only the K most likely classes")->check(kPositive);
  cmd->callback([args, &exit_code] {
    run_predict(*args);
    exit_code = 0;
  });
}

}  // namespace nabla::cli

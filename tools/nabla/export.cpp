// `nabla export RUN_DIR --onnx model.onnx`: a trained model out as an ONNX file (docs/onnx.md),
// and load_onnx_model, the hook through which `nabla predict` reads one back.
#include <cstdio>
#include <memory>
#include <string>

#include "app/transfer.h"
#include "commands.h"
#ifdef NABLA_HAVE_ONNX
#include "nabla/onnx.h"
#endif

namespace nabla::cli {

namespace {

struct ExportArgs {
  std::string checkpoint;
  std::string onnx;
  bool logits = false;
};

void run_export(const ExportArgs& args) {
#ifdef NABLA_HAVE_ONNX
  const app::TrainedModel trained = app::load_trained_model(args.checkpoint);
  onnx::ExportOptions options{.sample_shape = trained.sample_shape,
                              .mean = trained.normalization.mean,
                              .std = trained.normalization.std,
                              .input_scale = app::onnx_input_scale(trained.sample_shape),
                              .probabilities = !args.logits,
                              .class_names = trained.class_names};
  onnx::export_model(*trained.model, args.onnx, options);
  std::string shape = "N";
  for (int64_t d : trained.sample_shape) shape += ", " + std::to_string(d);
  std::printf("wrote %s (ONNX opset %lld) from %s\n", args.onnx.c_str(),
              static_cast<long long>(onnx::kExportOpset), trained.checkpoint.c_str());
  std::printf("input  'input' float32 [%s]%s\n", shape.c_str(),
              options.input_scale == 255.0f ? ": raw pixel values 0..255, normalised inside"
                                            : ": the raw features, normalised inside");
  std::printf("output '%s' float32 [N, %zu]: %s\n", args.logits ? "logits" : "probabilities",
              trained.class_names.size(),
              args.logits ? "the last layer's values" : "class probabilities (softmax)");
#else
  (void)args;
  detail::throw_error(
      "export: this nabla was built without ONNX support; install libprotobuf-dev, "
      "protobuf-compiler and libonnx-dev and configure again (NABLA_ONNX)");
#endif
}

}  // namespace

bool is_onnx_file(const std::string& path) {
  return path.size() > 5 && path.compare(path.size() - 5, 5, ".onnx") == 0;
}

app::TrainedModel load_onnx_model(const std::string& path) {
#ifdef NABLA_HAVE_ONNX
  onnx::ImportedModel imported = onnx::import_model(path);
  app::TrainedModel t;
  t.checkpoint = path;
  t.sample_shape = imported.sample_shape;
  // predict_probabilities applies the softmax itself: a final Softmax layer is left out.
  t.model = imported.model;
  if (imported.ends_in_softmax) {
    t.model = std::make_shared<nn::Sequential>();
    for (size_t i = 0; i + 1 < imported.model->size(); ++i)
      t.model->push_back((*imported.model)[i]);
  }
  t.model->eval();
  const std::vector<int64_t> out = model_output_shape(imported.description, path);
  NABLA_CHECK(out.size() == 1, path, ": the output per sample is ", Shape(out),
              "; a classifier's is (classes)");
  t.class_names = imported.class_names;  // what `nabla export` wrote, else "0", "1", ...
  if (static_cast<int64_t>(t.class_names.size()) != out[0]) {
    t.class_names.clear();
    for (int64_t c = 0; c < out[0]; ++c) t.class_names.push_back(std::to_string(c));
  }
  t.normalization = app::onnx_normalization(imported);
  return t;
#else
  detail::throw_error(path, ": this nabla was built without ONNX support (NABLA_ONNX)");
#endif
}

void add_export_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "export", "Write a trained model as an ONNX file (opset 13, normalisation included)");
  cmd->add_option("checkpoint", args->checkpoint,
                  "A run directory (nabla train --out; uses best/) or a checkpoint directory")
      ->required();
  cmd->add_option("--onnx", args->onnx, "The ONNX file to write")->required();
  cmd->add_flag("--logits", args->logits,
                "Output the last layer's values ('logits') instead of softmax probabilities");
  cmd->callback([args, &exit_code] {
    run_export(*args);
    exit_code = 0;
  });
}

}  // namespace nabla::cli

// The nabla side of bench/compare: each workload the driver times, with the same names, sizes
// and output as bench/compare_torch.py, so the driver can alternate the two programs.
//
//   compare_nabla GROUP... [--threads N] [--min-time S] [--limit IMAGES] [--steps N]
//                          [--sizes 256,512] [--data DIR] [--convnet-limit IMAGES]
//                          [--slice-rows N]
//
// Groups: peak (fp32 FMA peak of this CPU), cores (the one-way latency between two threads:
// core_latency.h), sgemm, conv, layers (max-pool, batch norm, softmax
// cross-entropy), infer (LeNet-5 and convnet inference: throughput at batch 256, latency at
// batch 1), lenet, mlp (one training epoch each), convnet (one epoch on the first
// --convnet-limit images, default 6,400), xor (the seed's XOR training), ort (the infer group's
// batch-256 LeNet-5 and convnet forward, also written as ONNX files for bench/compare to time in
// ONNX Runtime; docs/onnx.md). Each result is one line
//   @ ITEM key=value ...
// with s= the seconds of one call (the median of the timed calls), and flop= or img= the work
// done in them, from which the driver computes GFLOP/s and images/s. Anything else printed is
// commentary the driver ignores.
//
// Kernel items: one untimed call, then calls until --min-time seconds have passed and at least
// three (sgemm: kSgemmMinCalls) were made; the median is reported (compare_torch.py follows the
// same rule). Training items: one epoch, timed by train::Trainer (data loading from the IDX files
// is outside the timed region, as in compare_torch.py). --slice-rows sets
// TrainerOptions::slice_rows and the inference groups' nn::infer slices (0: no batch slices), for
// A/B runs of the sliced step; by default the Trainer's own and nn::kInferSliceRows.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "core_latency.h"
#include "fma_peak.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/isa.h"
#include "nabla/data/dataloader.h"
#include "nabla/data/datasets.h"
#include "nabla/nabla.h"
#ifdef NABLA_HAVE_ONNX
#include <unistd.h>

#include <filesystem>

#include "nabla/onnx.h"
#endif
#include "nabla/train/trainer.h"
#include "xor_train.h"

namespace {

using namespace nabla;

struct Args {
  std::vector<std::string> groups;
  int threads = 0;
  double min_time = 0.2;
  int64_t limit = 0;  // training images per epoch; 0: the whole training set
  int64_t steps = 5000;
  std::vector<int64_t> sizes{256, 512, 1024, 2048};
  std::string data = data::kFashionMnistDir;
  int64_t convnet_limit = 6400;  // the convnet epoch's images (it is ~20x LeNet's work per image)
  int64_t slice_rows = -1;       // -1: the Trainer's default
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "compare_nabla: " << why
            << "\nusage: compare_nabla GROUP... [--threads N] [--min-time S] [--limit IMAGES]"
               " [--steps N] [--sizes 256,512] [--data DIR] [--convnet-limit IMAGES]"
               " [--slice-rows N]\n"
               "groups: peak cores sgemm conv layers infer lenet mlp convnet xor ort\n";
  std::exit(2);
}

std::vector<int64_t> parse_sizes(const std::string& text) {
  std::vector<int64_t> sizes;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) sizes.push_back(std::stoll(item));
  return sizes;
}

Args parse(int argc, char** argv) {
  Args a;
  const std::vector<std::string> known{"peak",  "cores", "sgemm",   "conv", "layers", "infer",
                                       "lenet", "mlp",   "convnet", "xor",  "ort"};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--threads")
      a.threads = std::stoi(value());
    else if (arg == "--min-time")
      a.min_time = std::stod(value());
    else if (arg == "--limit")
      a.limit = std::stoll(value());
    else if (arg == "--steps")
      a.steps = std::stoll(value());
    else if (arg == "--sizes")
      a.sizes = parse_sizes(value());
    else if (arg == "--data")
      a.data = value();
    else if (arg == "--convnet-limit")
      a.convnet_limit = std::stoll(value());
    else if (arg == "--slice-rows")
      a.slice_rows = std::stoll(value());
    else if (std::find(known.begin(), known.end(), arg) != known.end())
      a.groups.push_back(arg);
    else
      usage("unknown argument '" + arg + "'");
  }
  if (a.groups.empty()) usage("no group given");
  return a;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// How long one call takes: the median of the timed calls, and the fastest window: the least
// time per call over runs of consecutive calls of at least kPeakRoundSeconds each (a single call
// where one takes longer), so that it is a best of samples as long as the peak probe's rounds.
struct CallTimes {
  double median, fastest;
};

// The sgemm group's least calls per setting: n = 2048 takes 40-80 ms a call, so min_time alone
// gave it 3 single-call windows against the probe's 50 rounds, and on this shared host a best of 3
// long samples fell up to 8 points of peak under a best of more (compare_torch.py's
// SGEMM_MIN_CALLS: the same).
constexpr size_t kSgemmMinCalls = 12;

// One untimed call, then calls until min_time has passed and at least min_calls were made.
CallTimes time_calls(const std::function<void()>& fn, double min_time, size_t min_calls = 3) {
  fn();
  std::vector<double> times;
  const double start = now_s();
  while (times.size() < min_calls || now_s() - start < min_time) {
    const double t0 = now_s();
    fn();
    times.push_back(now_s() - t0);
    if (times.size() >= 1000) break;
  }
  double fastest = 0, window = 0;
  int calls = 0;
  for (double t : times) {
    window += t, ++calls;
    if (window < kPeakRoundSeconds) continue;
    if (fastest == 0 || window / calls < fastest) fastest = window / calls;
    window = 0, calls = 0;
  }
  // Calls too short to fill one window: their mean.
  if (fastest == 0) fastest = window / calls;
  std::sort(times.begin(), times.end());
  const size_t n = times.size();
  return {n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2, fastest};
}

double time_median(const std::function<void()>& fn, double min_time) {
  return time_calls(fn, min_time).median;
}

void result(const std::string& item, double seconds, const std::string& extra) {
  std::printf("@ %s s=%.9g %s\n", item.c_str(), seconds, extra.c_str());
  std::fflush(stdout);
}

std::string kv(const char* key, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s=%.9g", key, value);
  return buf;
}

// At the width the kernels run with: AVX2's peak under NABLA_ISA=avx2 on an AVX-512 CPU. The
// best of 50 rounds of about 4 ms: the sgemm group's GEMMs take their fastest 4 ms window of at
// least 0.2 s and kSgemmMinCalls calls, so the probe that they are measured against gets as long.
void run_peak(int threads) {
  const double gflops =
      fma_peak_gflops(threads, nabla::cpu::isa_vector_bits(nabla::cpu::active_isa()), 50);
  std::printf("@ peak gflops=%.6g\n", gflops);
  std::fflush(stdout);
}

// The one-way latency between threads pinned to the first two CPUs (those a 2-thread pool runs
// on here): whether the 2-thread runs that follow share an L3 (bench/compare prints it beside
// them).
void run_cores() {
  std::printf("@ cores ns=%.4g\n", core_to_core_ns());
  std::fflush(stdout);
}

void run_sgemm(const Args& a) {
  for (int64_t n : a.sizes) {
    Generator gen(1);
    Tensor A = Tensor::randn({n, n}, gen), B = Tensor::randn({n, n}, gen);
    Tensor C = Tensor::zeros({n, n});
    const float* pa = A.data<float>();
    const float* pb = B.data<float>();
    float* pc = C.data<float>();
    const CallTimes t = time_calls(
        [&] { cpu::gemm<float>(false, false, n, n, n, 1.0f, pa, n, pb, n, 0.0f, pc, n); },
        a.min_time, kSgemmMinCalls);
    result("sgemm/" + std::to_string(n), t.median,
           kv("flop", 2.0 * double(n) * double(n) * double(n)) + " " + kv("fastest", t.fastest));
  }
}

// N, C, H (= W), OC, kernel, padding, stride: the five configurations.
struct ConvConfig {
  const char* name;
  int64_t N, C, H, OC, K, pad, stride;
};
constexpr ConvConfig kConvConfigs[] = {
    {"conv/N64_C1_28_K6_k5_p2", 64, 1, 28, 6, 5, 2, 1},
    {"conv/N64_C6_14_K16_k5", 64, 6, 14, 16, 5, 0, 1},
    {"conv/N32_C64_32_K64_k3_p1", 32, 64, 32, 64, 3, 1, 1},
    {"conv/N32_C128_16_K128_k3_p1", 32, 128, 16, 128, 3, 1, 1},
    {"conv/N32_C64_32_K128_k3_p1_s2", 32, 64, 32, 128, 3, 1, 2},
};

// Forward and backward (input, weight and bias gradients) of one convolution with bias.
void run_conv(const Args& a) {
  for (const ConvConfig& c : kConvConfigs) {
    Generator gen(1);
    Tensor x = Tensor::randn({c.N, c.C, c.H, c.H}, gen).requires_grad_();
    Tensor w = Tensor::normal({c.OC, c.C, c.K, c.K}, 0, 0.1, gen).requires_grad_();
    Tensor b = Tensor::zeros({c.OC}).requires_grad_();
    const F::Conv2dFuncOptions options =
        F::Conv2dFuncOptions().bias(b).stride(c.stride).padding(c.pad);
    Tensor dy = Tensor::randn(
        F::conv2d(x.detach(), w.detach(), F::Conv2dFuncOptions(options).bias(b.detach())).shape(),
        gen);
    const double s = time_median(
        [&] {
          x.zero_grad(), w.zero_grad(), b.zero_grad();
          F::conv2d(x, w, options).backward(dy);
        },
        a.min_time);
    const int64_t OH = (c.H + 2 * c.pad - c.K) / c.stride + 1;
    // Forward, input gradient and weight gradient: three products of the same size.
    const double flop = 3.0 * 2.0 * double(c.N * c.OC * OH * OH) * double(c.C * c.K * c.K);
    result(c.name, s, kv("flop", flop));
  }
}

// Max-pool, batch norm and softmax cross-entropy, forward and backward: shapes from LeNet-5
// (batch 64) and from the VGG-style layers of the conv configurations (batch 32).
void run_layers(const Args& a) {
  for (const auto& [name, shape] : std::vector<std::pair<std::string, Shape>>{
           {"maxpool/N64_C6_28", {64, 6, 28, 28}}, {"maxpool/N32_C64_32", {32, 64, 32, 32}}}) {
    Generator gen(1);
    Tensor x = Tensor::randn(shape, gen).requires_grad_();
    Tensor dy = Tensor::randn({shape[0], shape[1], shape[2] / 2, shape[3] / 2}, gen);
    result(name,
           time_median(
               [&] {
                 x.zero_grad();
                 F::max_pool2d(x, F::MaxPool2dFuncOptions(2)).backward(dy);
               },
               a.min_time),
           "");
  }
  for (const auto& [name, shape] : std::vector<std::pair<std::string, Shape>>{
           {"batchnorm/N64_C6_28", {64, 6, 28, 28}}, {"batchnorm/N32_C64_32", {32, 64, 32, 32}}}) {
    Generator gen(1);
    const int64_t C = shape[1];
    Tensor x = Tensor::randn(shape, gen).requires_grad_();
    Tensor weight = Tensor::ones({C}).requires_grad_(), bias = Tensor::zeros({C}).requires_grad_();
    Tensor mean = Tensor::zeros({C}), var = Tensor::ones({C});
    Tensor dy = Tensor::randn(shape, gen);
    result(name,
           time_median(
               [&] {
                 x.zero_grad(), weight.zero_grad(), bias.zero_grad();
                 batch_norm(x, mean, var, weight, bias, true).backward(dy);
               },
               a.min_time),
           "");
  }
  for (const auto& [name, N, K] : std::vector<std::tuple<std::string, int64_t, int64_t>>{
           {"cross_entropy/N64_K10", 64, 10}, {"cross_entropy/N256_K1000", 256, 1000}}) {
    Generator gen(1);
    Tensor logits = Tensor::randn({N, K}, gen).requires_grad_();
    std::vector<int64_t> labels(static_cast<size_t>(N));
    for (auto& l : labels) l = static_cast<int64_t>(gen.below(static_cast<uint64_t>(K)));
    result(name,
           time_median(
               [&] {
                 logits.zero_grad();
                 cross_entropy(logits, labels).backward();
               },
               a.min_time),
           "");
  }
}

// One epoch of the preset on the Fashion-MNIST training set (or its first --limit images):
// batch 64, shuffled, normalised, SGD momentum 0.9 lr 0.01, through train::Trainer, the loop
// `nabla train` runs. Loading the files is not timed.
void run_training(const std::string& preset, const std::string& item, const Args& a,
                  int64_t limit) {
  data::Dataset train = data::load_fashion_mnist(a.data, data::Split::Train);
  if (limit > 0) train = train.first(limit);
  const data::Normalization norm = data::compute_normalization(train);
  data::DataLoader loader(train, data::DataLoaderOptions(64).shuffle(true).seed(1).normalize(norm));
  ModelConfig config;
  config.seed = 1;
  auto model = make_model(preset, config);
  optim::SGD sgd(model->parameters(), optim::SGDOptions(0.01).momentum(0.9));
  train::TrainerOptions options = train::TrainerOptions().epochs(1);
  if (a.slice_rows >= 0) options.slice_rows(a.slice_rows);
  train::Trainer trainer(*model, sgd, loader, options);
  const train::EpochMetrics m = trainer.run_epoch(0);
  // Where the epoch went (train::EpochTimes), for bench/compare's breakdown of the thread ratio.
  const train::EpochTimes& t = trainer.epoch_times();
  result(item, m.seconds,
         kv("img", double(train.size())) + " " + kv("loss", m.train_loss) + " " +
             kv("acc", m.train_acc) + " " + kv("data", t.data) + " " +
             kv("fb", t.forward_backward) + " " + kv("slices", t.slices) + " " +
             kv("work", t.slice_work) + " " + kv("gsum", t.gradient_sum) + " " +
             kv("opt", t.optimizer) + " " + kv("other", t.other));
}

// The presets the inference groups time (preset, item name), each built with seed 1 in eval mode.
const std::vector<std::pair<std::string, std::string>> kInferenceModels = {{"lenet5", "lenet"},
                                                                           {"convnet", "convnet"}};
std::shared_ptr<nn::Sequential> inference_model(const std::string& preset) {
  ModelConfig config;
  config.seed = 1;
  auto model = make_model(preset, config);
  model->eval();
  return model;
}

// model's logits for x as the inference groups time them: nn::infer with --slice-rows (-1, the
// default: nn::kInferSliceRows), or one whole forward without a graph for --slice-rows 0.
Tensor infer(const Args& a, nn::Module& model, const Tensor& x) {
  if (a.slice_rows == 0) {
    NoGradGuard no_grad;
    return model.forward(x);
  }
  return nn::infer(model, x, a.slice_rows > 0 ? a.slice_rows : nn::kInferSliceRows);
}

// Inference in evaluation mode without a graph (dropout off, batch norm on its running
// statistics), on normal random 28×28 images: a batch of 256 (throughput) and a single image
// (latency), for LeNet-5 and the convnet preset, through nn::infer (the batch in slices of
// nn::kInferSliceRows rows, one thread each, where the model allows; --slice-rows 0: whole).
void run_inference(const Args& a) {
  for (const auto& [preset, item] : kInferenceModels) {
    auto model = inference_model(preset);
    for (int64_t batch : {256, 1}) {
      Generator gen(2);
      Tensor x = Tensor::randn({batch, 1, 28, 28}, gen);
      result("infer/" + item + "_b" + std::to_string(batch),
             time_median([&] { infer(a, *model, x); }, a.min_time), kv("img", double(batch)));
    }
  }
}

// nabla's side of the ONNX Runtime comparison: the infer group's batch-256 forward of LeNet-5
// and the convnet (seed 1, eval mode, logits), timed here as "ort/ITEM_nabla", and the same
// model and input written for bench/compare, which times ONNX Runtime on them (run_ort.js): a
// line "# onnx ITEM MODEL.onnx INPUT.f32" each.
void run_ort(const Args& a) {
#ifdef NABLA_HAVE_ONNX
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("nabla_compare_ort_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  for (const auto& [preset, item] : kInferenceModels) {
    auto model = inference_model(preset);
    NoGradGuard no_grad;
    Generator gen(2);
    const Tensor x = Tensor::randn({256, 1, 28, 28}, gen);
    const std::string onnx_path = (dir / (item + ".onnx")).string();
    const std::string input_path = (dir / (item + ".input.f32")).string();
    onnx::export_model(*model, onnx_path, {.sample_shape = {1, 28, 28}, .probabilities = false});
    const std::vector<double> values = x.to_vector();
    const std::vector<float> input(values.begin(), values.end());
    FILE* f = std::fopen(input_path.c_str(), "wb");
    if (f == nullptr || std::fwrite(input.data(), sizeof(float), input.size(), f) != input.size())
      throw std::runtime_error("cannot write " + input_path);
    std::fclose(f);
    std::printf("# onnx %s %s %s\n", item.c_str(), onnx_path.c_str(), input_path.c_str());
    result("ort/" + item + "_nabla", time_median([&] { infer(a, *model, x); }, a.min_time),
           kv("img", 256.0));
  }
#else
  (void)a;
  std::printf("# ort: compare_nabla was built without nabla::onnx (NABLA_ONNX)\n");
#endif
}

void run_xor(const Args& a) {
  const double start = now_s();
  const double loss = nabla_bench::train_xor(a.steps, 1);
  result("xor", now_s() - start, kv("steps", double(a.steps)) + " " + kv("loss", loss));
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  try {
    if (a.threads > 0) set_num_threads(a.threads);
    std::printf("# nabla threads=%d\n", num_threads());
    for (const std::string& g : a.groups) {
      if (g == "peak") run_peak(num_threads());
      if (g == "cores") run_cores();
      if (g == "sgemm") run_sgemm(a);
      if (g == "conv") run_conv(a);
      if (g == "layers") run_layers(a);
      if (g == "infer") run_inference(a);
      if (g == "lenet") run_training("lenet5", "lenet", a, a.limit);
      if (g == "mlp") run_training("mlp", "mlp", a, a.limit);
      if (g == "convnet") run_training("convnet", "convnet", a, a.convnet_limit);
      if (g == "xor") run_xor(a);
      if (g == "ort") run_ort(a);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "compare_nabla: %s\n", e.what());
    return 1;
  }
  return 0;
}

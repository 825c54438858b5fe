// The memory limit (include/nabla/memory.h): sizes parse, live tensor bytes are counted and come
// back, an allocation past the limit throws before allocating and names the tensor, the layer or
// op, and the sizes; a LeNet-5 training loop holds the same tensor bytes after every step and its
// peak resident memory stops growing.
#include "nabla/memory.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "nabla/autograd.h"
#include "nabla/models.h"
#include "nabla/ops.h"
#include "nabla/optim/sgd.h"
#include "nabla/train/trainer.h"
#include "sanitizers.h"
#include "test_util.h"
#include "train/train_test_util.h"

namespace nabla {
namespace {

using testing::error_message;

// Sets a limit for a scope (relative to what is in use now) and removes it afterwards.
class LimitAbove {
 public:
  explicit LimitAbove(size_t headroom) { set_memory_limit(memory_in_use() + headroom); }
  ~LimitAbove() { set_memory_limit(0); }
  LimitAbove(const LimitAbove&) = delete;
  LimitAbove& operator=(const LimitAbove&) = delete;
};

TEST(MemorySize, Parses) {
  EXPECT_EQ(parse_memory_size("1048576"), 1048576u);
  EXPECT_EQ(parse_memory_size("512M"), size_t{512} << 20);
  EXPECT_EQ(parse_memory_size("2G"), size_t{2} << 30);
  EXPECT_EQ(parse_memory_size("2g"), size_t{2} << 30);
  EXPECT_EQ(parse_memory_size("1.5G"), size_t{3} << 29);
  EXPECT_EQ(parse_memory_size("64KiB"), size_t{64} << 10);
  EXPECT_EQ(parse_memory_size("3 GB"), size_t{3} << 30);
  EXPECT_EQ(parse_memory_size("1T"), size_t{1} << 40);
  EXPECT_EQ(parse_memory_size("100B"), 100u);
  EXPECT_EQ(parse_memory_size("0"), 0u);
  EXPECT_EQ(parse_memory_size("none"), 0u);
}

TEST(MemorySize, RefusesWhatIsNotASize) {
  for (const char* bad : {"", "lots", "-1G", "12 parsecs", "1e30G", "nan"}) {
    const std::string m = error_message([&] { parse_memory_size(bad); });
    EXPECT_NE(m.find(std::string("'") + bad + "'"), std::string::npos) << m;
    EXPECT_NE(m.find("512M"), std::string::npos) << m;
  }
}

TEST(MemorySize, Formats) {
  EXPECT_EQ(format_bytes(300), "300 bytes");
  EXPECT_EQ(format_bytes(size_t{512} << 20), "512 MiB");
  EXPECT_EQ(format_bytes(size_t{3} << 29), "1.50 GiB");
  EXPECT_EQ(format_bytes(size_t{40} << 10), "40.0 KiB");
}

TEST(MemoryAccounting, CountsLiveTensorsAndGivesThemBack) {
  const size_t start = memory_in_use();
  {
    Tensor a = Tensor::zeros({1000});              // 4000 bytes
    Tensor b = Tensor::zeros({10, 10}, kFloat64);  // 800 bytes
    EXPECT_EQ(memory_in_use(), start + 4800);
    Tensor view = a.slice(0, 0, 10);  // a view holds no new buffer
    EXPECT_EQ(memory_in_use(), start + 4800);
    EXPECT_GE(memory_peak(), start + 4800);
  }
  EXPECT_EQ(memory_in_use(), start);
}

// Each thread counts into a counter of its own (memory.cpp): tensors made and freed on several
// threads, some freed on another thread than the one that made them, some by a thread that has
// ended, still add up exactly once the threads are done.
TEST(MemoryAccounting, CountsExactlyAcrossThreadsThatMakeAndFreeTensors) {
  const size_t start = memory_in_use();
  std::vector<Tensor> handed(4);
  {
    std::vector<std::thread> threads;
    for (size_t t = 0; t < handed.size(); ++t)
      threads.emplace_back([&handed, t] {
        for (int i = 0; i < 200; ++i) Tensor::zeros({1 << 16});  // 256 KiB each, past the flush
        handed[t] = Tensor::zeros({1000 + static_cast<int64_t>(t)});  // outlives its thread
        Tensor kept = Tensor::zeros({1 << 18});                       // 1 MiB, freed at the end
      });
    for (std::thread& t : threads) t.join();
  }
  EXPECT_EQ(memory_in_use(), start + 4000 + 4004 + 4008 + 4012);  // the handed tensors
  std::thread freeing([&handed] { handed.clear(); });             // freed on another thread
  freeing.join();
  EXPECT_EQ(memory_in_use(), start);
  EXPECT_GE(memory_peak(), start + (size_t{1} << 18));
}

TEST(MemoryLimit, RefusesBeforeAllocatingAndNamesTheTensor) {
  const size_t start = memory_in_use();
  LimitAbove limit(1 << 20);
  Tensor fits = Tensor::zeros({1 << 17});  // 512 KiB
  const std::string m = error_message([] {
    MemoryContext outer("preprocessing");
    const std::string step = "step 3";
    MemoryContext inner(step);
    Tensor::zeros({1024, 1024});  // 4 MiB
  });
  EXPECT_NE(m.find("memory limit"), std::string::npos) << m;
  EXPECT_NE(m.find("float32 [1024, 1024] (4.00 MiB)"), std::string::npos) << m;
  EXPECT_NE(m.find("in preprocessing, step 3"), std::string::npos) << m;
  EXPECT_NE(m.find("in use"), std::string::npos) << m;
  EXPECT_NE(m.find("set_memory_limit"), std::string::npos) << m;
  // Nothing of the refused tensor stays counted; the one that fit still is.
  EXPECT_EQ(memory_in_use(), start + (size_t{1} << 19));
  EXPECT_EQ(MemoryContext::current(), "");
}

TEST(MemoryLimit, NoContextNoLimitNoError) {
  set_memory_limit(0);
  EXPECT_EQ(memory_limit(), 0u);
  EXPECT_NO_THROW(Tensor::zeros({1024, 1024}));
}

TEST(MemoryLimit, ABackwardPassNamesItsOp) {
  Tensor x = Tensor::ones({512, 512});
  x.requires_grad_();
  Tensor loss = sum(exp(x));
  LimitAbove limit(64 << 10);  // the forward pass fits; any gradient of x (1 MiB) does not
  const std::string m = error_message([&] { loss.backward(); });
  EXPECT_NE(m.find("float32 [512, 512]"), std::string::npos) << m;
  EXPECT_NE(m.find("backward of "), std::string::npos) << m;
}

TEST(MemoryLimit, AModelTooBigFailsAtConstructionNamingTheLayer) {
  LimitAbove limit(8 << 20);
  const std::string m = error_message([] {
    model_from_json(R"({"input": [1, 28, 28], "layers": [{"type": "flatten"},
      {"type": "linear", "out_features": 512}, {"type": "relu"},
      {"type": "linear", "out_features": 8192}]})");
  });
  EXPECT_NE(m.find("float32 [8192, 512] (16.0 MiB)"), std::string::npos) << m;
  EXPECT_NE(m.find("model.json: layers[3] (linear)"), std::string::npos) << m;
}

// ---------------------------------------------------------------- a training loop stays flat

// Peak resident set size (VmHWM) in bytes.
int64_t peak_resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  return -1;
}

// Resets VmHWM to the current RSS (Linux 4.0+); false where the kernel does not allow it.
bool reset_peak_resident() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.close();
  return clear.good();
}

// LeNet-5, batch 32, SGD with momentum, 160 steps: tensor bytes after every step are those after
// the first (parameters, gradients, momentum, the reused batch), the peak of tensor bytes over
// steps 11..160 is that of steps 11..20, and peak RSS measured from step 20 on grows by less than
// 2 MiB.
TEST(TrainingMemory, LeNetLoopHoldsTheSameTensorBytesEveryStepAndItsPeakRssStopsGrowing) {
  const data::Dataset images = testing::random_images(32 * 40, 5);
  const data::DataLoader loader = testing::shuffled_loader(images, 32);
  auto model = testing::preset("lenet5", 1);
  optim::SGD opt(model->parameters(), optim::SGDOptions(0.01).momentum(0.9));
  train::Trainer trainer(*model, opt, loader, train::TrainerOptions().epochs(4));  // 160 steps
  const size_t before = memory_in_use();
  size_t after_first = 0, peak_at_20 = 0;
  int64_t steps = 0, rss_at_20 = -1, rss_peak_end = -1;
  bool peak_reset = false;
  trainer.on_batch_end = [&](const train::ProgressState&) {
    ++steps;
    if (steps == 2) after_first = memory_in_use();
    if (steps > 2) {
      ASSERT_EQ(memory_in_use(), after_first) << "step " << steps;
    }
    if (steps == 10) reset_memory_peak();
    if (steps == 20) {
      peak_at_20 = memory_peak();
      peak_reset = reset_peak_resident();
      rss_at_20 = peak_resident_bytes();
    }
  };
  trainer.fit();
  rss_peak_end = peak_resident_bytes();
  EXPECT_EQ(steps, 160);
  RecordProperty("tensor_bytes_after_each_step", std::to_string(after_first));
  RecordProperty("tensor_peak_steps_11_20", std::to_string(peak_at_20));
  RecordProperty("tensor_peak_steps_11_160", std::to_string(memory_peak()));
  RecordProperty("vmhwm_step_20", std::to_string(rss_at_20));
  RecordProperty("vmhwm_step_160", std::to_string(rss_peak_end));
  EXPECT_GT(after_first, before);  // gradients and momentum buffers appeared
  // The peak of tensor bytes over steps 11..160 is that of steps 11..20: one step's worth.
  EXPECT_GT(peak_at_20, after_first);  // a step's activations were counted
  EXPECT_LE(memory_peak(), peak_at_20 + (size_t{1} << 20));
  model.reset();
#if NABLA_UNDER_ASAN
  GTEST_SKIP() << "ASan's quarantine keeps freed memory resident; RSS says nothing here";
#endif
  if (!peak_reset) GTEST_SKIP() << "/proc/self/clear_refs cannot reset VmHWM here";
  EXPECT_LT(rss_peak_end - rss_at_20, int64_t{2} << 20)
      << "peak RSS grew from " << rss_at_20 << " to " << rss_peak_end << " bytes";
}

}  // namespace
}  // namespace nabla

// Slices that run together (autograd_slices.h, slice_runner.h): batch norm's statistics and
// dropout's masks are the whole batch's, so a sliced step of the convnet preset is the unsliced
// one up to float rounding, gives the same bits on 1, 2 and 3 threads, and its batch norm
// gradient matches central differences even with uneven slices; slices that fail or stop
// meeting end with an error, never a hang.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "nabla/autograd_slices.h"
#include "nabla/nn/activation.h"
#include "nabla/nn/linear.h"
#include "nabla/nn/normalization.h"
#include "nabla/ops.h"
#include "nabla/optim/sgd.h"
#include "nabla/threads.h"
#include "nabla/train/trainer.h"
#include "threads_guard.h"
#include "train/train_test_util.h"

namespace nabla::train {
namespace {

using testing::ThreadsGuard;

// Every parameter's and buffer's values, as bits.
std::vector<std::vector<uint64_t>> state_bits(const nn::Module& model) {
  std::vector<std::vector<uint64_t>> out;
  std::vector<Tensor> all = model.parameters();
  for (const Tensor& b : model.buffers()) all.push_back(b);
  for (const Tensor& t : all) {
    std::vector<uint64_t> bits;
    const Tensor c = t.contiguous();
    dispatch_all(c.dtype(), [&]<class T>() {
      for (int64_t i = 0; i < c.numel(); ++i) {
        uint64_t b = 0;
        std::memcpy(&b, c.data<T>() + i, sizeof(T));
        bits.push_back(b);
      }
    });
    out.push_back(std::move(bits));
  }
  return out;
}

// The convnet preset (batch norm and dropout) after 2 steps of batch 64, slices of `slice_rows`.
std::vector<std::vector<uint64_t>> convnet_after_2_steps(int threads, int64_t slice_rows) {
  return state_bits(*testing::trained_preset("convnet", 5, 2, 3, threads, slice_rows));
}

// 4 slices of 16 on 1, 2 and 3 threads: the same weights and running statistics, bit for bit.
TEST(SlicesTogether, ConvnetSameBitsOnOneTwoAndThreeThreads) {
  ThreadsGuard restore;
  const auto one = convnet_after_2_steps(1, 16);
  EXPECT_EQ(convnet_after_2_steps(2, 16), one);
  EXPECT_EQ(convnet_after_2_steps(3, 16), one);
  EXPECT_NE(convnet_after_2_steps(2, 0), one);  // and the slices did run (rounding differs)
}

struct FirstStep {
  std::vector<std::vector<float>> grads;
  std::vector<std::vector<float>> buffers;  // float ones: running means and variances
  std::vector<int64_t> batches_tracked;
};

// The convnet's first step, through the after_backward hook, and its buffers after it.
FirstStep convnet_first_step(int64_t slice_rows) {
  const data::Dataset images = testing::random_images(64, 6);
  const data::DataLoader loader = testing::shuffled_loader(images, 64);
  auto model = testing::preset("convnet", 7);
  optim::SGD opt(model->parameters(), optim::SGDOptions(0.05));
  Trainer trainer(*model, opt, loader, TrainerOptions().epochs(1).slice_rows(slice_rows));
  FirstStep step;
  trainer.after_backward.push_back([&](const StepInfo&) {
    for (const Tensor& p : model->parameters()) {
      const Tensor g = p.grad().contiguous();
      step.grads.emplace_back(g.data<float>(), g.data<float>() + g.numel());
    }
  });
  trainer.fit();
  for (const Tensor& b : model->buffers()) {
    if (b.dtype() == kInt64) {
      step.batches_tracked.push_back(*b.data<int64_t>());
    } else {
      step.buffers.emplace_back(b.data<float>(), b.data<float>() + b.numel());
    }
  }
  return step;
}

void expect_near_rounding(const std::vector<std::vector<float>>& a,
                          const std::vector<std::vector<float>>& b, const char* what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < b.size(); ++i) {
    ASSERT_EQ(a[i].size(), b[i].size()) << what;
    float largest = 0;
    for (float v : b[i]) largest = std::max(largest, std::fabs(v));
    for (size_t k = 0; k < b[i].size(); ++k)
      ASSERT_NEAR(a[i][k], b[i][k], 1e-4f * largest + 1e-7f) << what << " " << i << ", value " << k;
  }
}

// Batch norm over the whole batch and the whole batch's dropout masks: the sliced step's
// gradients and running statistics are the unsliced step's up to float rounding (other
// statistics or masks would be far off), and each batch norm counted one batch, not four.
// Tolerance: 1e-4 of each tensor's largest value (batch norm divides by a standard deviation
// summed in another order).
TEST(SlicesTogether, ConvnetStepMatchesTheUnslicedStepToRounding) {
  const FirstStep sliced = convnet_first_step(16), whole = convnet_first_step(0);
  expect_near_rounding(sliced.grads, whole.grads, "gradient");
  expect_near_rounding(sliced.buffers, whole.buffers, "running statistic");
  ASSERT_EQ(sliced.batches_tracked.size(), 5u);  // the convnet's five batch norms
  for (int64_t n : sliced.batches_tracked) EXPECT_EQ(n, 1);
  EXPECT_EQ(sliced.batches_tracked, whole.batches_tracked);
}

// Gradcheck-style, in float64, with uneven slices (3, 3 and 4 of 10 rows) run together on 1 and
// 2 threads: the sliced gradient of Linear -> BatchNorm1d -> Tanh -> Linear matches central
// differences of the whole batch's mean loss (batch statistics of all 10 rows).
TEST(SlicesTogether, SlicedBatchNormGradientMatchesCentralDifferences) {
  ThreadsGuard restore;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    nn::Sequential model(nn::Linear(nn::LinearOptions(4, 5).dtype(kFloat64)),
                         nn::BatchNorm1d(nn::BatchNormOptions(5).dtype(kFloat64)), nn::Tanh(),
                         nn::Linear(nn::LinearOptions(5, 3).dtype(kFloat64)));
    testing::expect_sliced_gradient_matches_central_differences(
        model, 11, /*together=*/true, std::to_string(threads) + " thread(s)");
  }
}

// The meetings themselves, on 1 and 2 threads: sums come back whole to every slice; a slice that
// throws, or ends without a meeting the others wait at, ends the run with an error (the failing
// slice's own), not a hang, and leaves .grad as it was; meeting outside slices that run
// together is an error.
TEST(SlicesTogether, MeetingsSumAndFailuresEndTheRun) {
  ThreadsGuard restore;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Tensor w = Tensor::from_vector({1.0, 2.0}).requires_grad_();
    const Tensor x = Tensor::from_vector({1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, {3, 2});
    autograd::BatchSlices slices;
    std::vector<double> seen(3);
    slices.run(
        3, 3,
        [&](int64_t s, int64_t begin, int64_t end) {
          const autograd::Slice* slice = autograd::current_slice();
          EXPECT_TRUE(slice && slice->index == s && slice->begin == begin && slice->end == end);
          std::vector<double> v = {static_cast<double>(s + 1)};
          autograd::sum_over_slices(*slice, v);
          seen[static_cast<size_t>(s)] = v[0];
          return mul(x.slice(0, begin, end), w).sum();
        },
        true);
    EXPECT_EQ(seen, (std::vector<double>{6.0, 6.0, 6.0})) << threads;  // 1 + 2 + 3
    EXPECT_EQ(w.grad().to_vector(), (std::vector<double>{3.0, 4.0})) << threads;

    auto meeting_then = [&](bool throw_in_1, bool skip_in_1) {
      return [&, throw_in_1, skip_in_1](int64_t s, int64_t begin, int64_t end) -> Tensor {
        if (s == 1 && throw_in_1) detail::throw_error("slice 1 fails on its own");
        if (!(s == 1 && skip_in_1)) autograd::meet(*autograd::current_slice());
        return mul(x.slice(0, begin, end), w).sum();
      };
    };
    try {
      slices.run(3, 3, meeting_then(true, false), true);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("slice 1 fails on its own"), std::string::npos)
          << e.what();
    }
    try {
      slices.run(3, 3, meeting_then(false, true), true);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("without taking part"), std::string::npos) << e.what();
    }
    EXPECT_EQ(w.grad().to_vector(), (std::vector<double>{3.0, 4.0})) << threads;
    // Apart, a slice has nobody to meet.
    EXPECT_THROW(slices.run(3, 3, meeting_then(false, false)), Error);
    // And a good run afterwards still works.
    slices.run(3, 3, meeting_then(false, false), true);
    EXPECT_EQ(w.grad().to_vector(), (std::vector<double>{6.0, 8.0})) << threads;
  }
}

}  // namespace
}  // namespace nabla::train

// Learning-rate schedules against torch.optim.lr_scheduler (torch 1.13). The expected sequences
// were printed by this script (PyTorch steps recursively, nabla uses the closed forms, so the two
// agree to rounding, not bit for bit):
//   p = [torch.nn.Parameter(torch.zeros(1))]; opt = torch.optim.SGD(p, lr=0.1); s = make(opt)
//   for e in range(8): print(opt.param_groups[0]['lr']); opt.step(); s.step()
#include "nabla/optim/lr_scheduler.h"

#include <gtest/gtest.h>

#include <vector>

#include "nabla/optim/sgd.h"

namespace nabla::optim {
namespace {

class SchedulerTest : public ::testing::Test {
 protected:
  Tensor param = Tensor::zeros({1}).requires_grad_();
  SGD opt{{param}, SGDOptions(0.1)};

  // The lr the optimizer holds during each of the first `n` epochs.
  std::vector<double> trajectory(LRScheduler& sched, int n = 8) {
    std::vector<double> lrs;
    for (int e = 0; e < n; ++e) {
      lrs.push_back(opt.lr());
      EXPECT_DOUBLE_EQ(sched.lr(), opt.lr());
      sched.step();
    }
    return lrs;
  }
};

void expect_close(const std::vector<double>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i)
    EXPECT_NEAR(actual[i], expected[i], 1e-13) << "epoch " << i;
}

TEST_F(SchedulerTest, StepLRMatchesPyTorch) {
  StepLR sched(opt, StepLROptions(3).gamma(0.5));
  expect_close(trajectory(sched), {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025});
}

TEST_F(SchedulerTest, ExponentialLRMatchesPyTorch) {
  ExponentialLR sched(opt, ExponentialLROptions(0.9));
  expect_close(trajectory(sched),
               {0.1, 0.09, 0.081, 0.0729, 0.06561, 0.059049, 0.0531441, 0.04782969});
}

TEST_F(SchedulerTest, CosineAnnealingMatchesPyTorchIncludingPastTMax) {
  CosineAnnealingLR sched(opt, CosineAnnealingLROptions(6).eta_min(0.001));
  expect_close(trajectory(sched),
               {0.1, 0.09336825748732973, 0.07525000000000001, 0.0505, 0.025750000000000012,
                0.007631742512670284, 0.001, 0.007631742512670284});
}

// SequentialLR([LinearLR(start_factor=0.25, total_iters=2), CosineAnnealingLR(T_max=5)], [2]).
TEST_F(SchedulerTest, LinearWarmupThenCosineMatchesSequentialLR) {
  CosineAnnealingLR sched(opt, CosineAnnealingLROptions(5).warmup({2, 0.25}));
  expect_close(trajectory(sched), {0.025, 0.0625, 0.1, 0.09045084971874738, 0.06545084971874737,
                                   0.03454915028125263, 0.009549150281252633, 0.0});
}

TEST_F(SchedulerTest, LoadedStateContinuesWithTheSameBits) {
  StepLR first(opt, StepLROptions(2).gamma(0.3).warmup({1, 0.5}));
  for (int e = 0; e < 3; ++e) first.step();
  const auto saved = first.state();
  std::vector<double> uninterrupted;
  for (int e = 0; e < 4; ++e) {
    first.step();
    uninterrupted.push_back(opt.lr());
  }

  // A new optimizer whose lr is the command line's, as after a restart.
  Tensor p2 = Tensor::zeros({1}).requires_grad_();
  SGD opt2({p2}, SGDOptions(0.1));
  StepLR resumed(opt2, StepLROptions(2).gamma(0.3).warmup({1, 0.5}));
  resumed.load_state(saved);
  EXPECT_EQ(resumed.epoch(), 3);
  for (int e = 0; e < 4; ++e) {
    resumed.step();
    EXPECT_EQ(opt2.lr(), uninterrupted[static_cast<size_t>(e)]) << "epoch " << e;
  }
}

TEST_F(SchedulerTest, BadOptionsAndStatesThrow) {
  EXPECT_THROW(StepLR(opt, StepLROptions(0)), Error);
  EXPECT_THROW(ExponentialLR(opt, ExponentialLROptions(0)), Error);
  EXPECT_THROW(CosineAnnealingLR(opt, CosineAnnealingLROptions(0)), Error);
  EXPECT_THROW(CosineAnnealingLR(opt, CosineAnnealingLROptions(3).warmup({1, 0})), Error);
  StepLR sched(opt, StepLROptions(2));
  EXPECT_THROW(sched.load_state({{"epoch", 1.5}, {"base_lr", 0.1}}), Error);
  EXPECT_THROW(sched.load_state({{"epoch", 1}}), Error);
  EXPECT_THROW(sched.load_state({{"epoch", 1}, {"base_lr", 0.1}, {"gamma", 2}}), Error);
  EXPECT_EQ(sched.epoch(), 0) << "a failed load changes nothing";
}

}  // namespace
}  // namespace nabla::optim

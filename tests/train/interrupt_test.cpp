// Interrupted training (issue 6, part 4): a run stopped after any step (by a hook, a predicate,
// SIGINT or SIGTERM) or killed with SIGKILL at any moment goes on with --resume to bitwise the
// weights and the metrics of a run that was never interrupted.
//
//   Trainer          request_stop() from a hook, then fit_from(progress()), against fit()
//   run_training     stop_when mid-epoch, and a crash after a --checkpoint-every checkpoint
//   nabla train      SIGINT and SIGTERM to the real binary: message, exit status, resume
//   KillLoop         20 kill -9 of one `nabla train --checkpoint-every 3`, each where it stopped
//                    itself at a point drawn at random (NABLA_TEST_STOP_AT)
#include "nabla/train/interrupt.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "app/run.h"
#include "nabla/io/checkpoint.h"
#include "nabla/io/safetensors.h"
#include "nabla/optim/adam.h"
#include "nabla/train/trainer.h"
#include "test_util.h"
#include "train/fake_run_fixture.h"
#include "train/train_test_util.h"

extern char** environ;

namespace nabla::app {
namespace {

using nabla::testing::read_file;
using nabla::testing::tensors_of;

namespace fs = std::filesystem;

std::vector<std::vector<double>> weights_of(const nn::Module& model) {
  std::vector<std::vector<double>> out;
  for (const Tensor& p : model.parameters()) out.push_back(p.detach().to_vector());
  return out;
}

// The rows of two runs agree in everything but the timing columns (seconds, images_per_s).
void expect_same_rows(const std::vector<train::EpochMetrics>& got,
                      const std::vector<train::EpochMetrics>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t e = 0; e < want.size(); ++e) {
    EXPECT_EQ(got[e].epoch, want[e].epoch);
    EXPECT_EQ(got[e].lr, want[e].lr) << "epoch " << e + 1;
    EXPECT_EQ(got[e].train_loss, want[e].train_loss) << "epoch " << e + 1;
    EXPECT_EQ(got[e].train_acc, want[e].train_acc) << "epoch " << e + 1;
    EXPECT_EQ(got[e].val_loss, want[e].val_loss) << "epoch " << e + 1;
    EXPECT_EQ(got[e].val_acc, want[e].val_acc) << "epoch " << e + 1;
  }
}

// ---- the Trainer ----

struct TrainerSetup {
  data::Dataset train = testing::random_images(96, 5);  // 6 batches of 16
  data::Dataset val = testing::random_images(32, 6);
  data::DataLoader loader = testing::shuffled_loader(train, 16);
  data::DataLoader val_loader = data::DataLoader(val, data::DataLoaderOptions(16));
};

TEST(InterruptTrainer, StoppedFromAHookThenFitFromItsProgressEqualsAnUninterruptedFit) {
  TrainerSetup s;
  auto straight = testing::preset("mlp", 2);
  optim::Adam opt_straight(straight->parameters(), optim::AdamOptions(1e-3));
  train::Trainer t_straight(*straight, opt_straight, s.loader, train::TrainerOptions().epochs(3));
  t_straight.validation(&s.val_loader);
  const std::vector<train::EpochMetrics> want = t_straight.fit();
  EXPECT_FALSE(t_straight.stopped());

  auto model = testing::preset("mlp", 2);
  optim::Adam opt(model->parameters(), optim::AdamOptions(1e-3));
  train::Trainer first(*model, opt, s.loader, train::TrainerOptions().epochs(3));
  first.validation(&s.val_loader);
  std::vector<int64_t> steps;
  first.after_step.push_back([&](const train::StepInfo& info) {
    steps.push_back(info.step);
    EXPECT_EQ(first.progress().batch, info.batch + 1) << "after_step sees its step counted";
    if (info.step == 8) first.request_stop();  // epoch 2, batch 3 of 6
  });
  int epochs_ended = 0;
  first.on_epoch_end = [&](const train::EpochMetrics&) { ++epochs_ended; };
  const std::vector<train::EpochMetrics> before = first.fit();
  ASSERT_TRUE(first.stopped());
  EXPECT_EQ(steps.back(), 8) << "the step that asked is finished, no further one started";
  EXPECT_EQ(before.size(), 1u);
  EXPECT_EQ(epochs_ended, 1);
  const train::EpochProgress at = first.progress();
  EXPECT_EQ(at.epoch, 1);
  EXPECT_EQ(at.batch, 3);
  EXPECT_EQ(at.images, 48);
  EXPECT_NE(weights_of(*model), weights_of(*straight));

  // A new trainer over the same model and optimizer, as after restoring a checkpoint.
  train::Trainer second(*model, opt, s.loader, train::TrainerOptions().epochs(3));
  second.validation(&s.val_loader);
  std::vector<train::EpochMetrics> rows = second.fit_from(at);
  EXPECT_FALSE(second.stopped());
  rows.insert(rows.begin(), before.begin(), before.end());
  expect_same_rows(rows, want);
  EXPECT_EQ(weights_of(*model), weights_of(*straight));
}

TEST(InterruptTrainer, AStopAfterAnEpochsLastBatchFinishesThatEpochFirst) {
  TrainerSetup s;
  auto model = testing::preset("mlp", 2);
  optim::Adam opt(model->parameters(), optim::AdamOptions(1e-3));
  train::Trainer trainer(*model, opt, s.loader, train::TrainerOptions().epochs(3));
  int asked = 0;
  trainer.stop_when = [&] { return ++asked == 6; };  // after the 6th and last batch of epoch 1
  const auto rows = trainer.fit();
  ASSERT_TRUE(trainer.stopped());
  EXPECT_EQ(rows.size(), 1u) << "epoch 1 ends (validation, scheduler) before the stop";
  EXPECT_EQ(trainer.progress().epoch, 1);
  EXPECT_EQ(trainer.progress().batch, 0);
  EXPECT_EQ(asked, 6) << "a latched request is not asked again";

  train::EpochProgress bad;
  bad.batch = 7;
  EXPECT_EQ(testing::error_message([&] { trainer.fit_from(bad); }),
            "Trainer: cannot go on from batch 7 of epoch 1: an epoch has 6 batches");
}

// ---- the signal handlers ----

int g_test_handler_calls = 0;
void test_handler(int) {
  ++g_test_handler_calls;
}

TEST(InterruptGuard, TurnsSigintAndSigtermIntoStopRequestsAndRestoresTheHandlers) {
  struct sigaction mine {
  }, original{}, now{};
  mine.sa_handler = test_handler;
  sigemptyset(&mine.sa_mask);
  ASSERT_EQ(::sigaction(SIGINT, &mine, &original), 0);
  {
    train::InterruptGuard guard;
    EXPECT_FALSE(train::stop_requested());
    ASSERT_EQ(::raise(SIGINT), 0);
    EXPECT_TRUE(train::stop_requested());
    EXPECT_EQ(train::stop_signal(), SIGINT);
    EXPECT_EQ(g_test_handler_calls, 0) << "the guard's handler replaced the previous one";
    // SA_RESETHAND: a second Ctrl-C would get the default action, ending the process.
    ASSERT_EQ(::sigaction(SIGINT, nullptr, &now), 0);
    EXPECT_EQ(now.sa_handler, SIG_DFL);

    ASSERT_EQ(::raise(SIGTERM), 0);
    EXPECT_EQ(train::stop_signal(), SIGTERM);
  }
  EXPECT_TRUE(train::stop_requested()) << "the request outlives the guard, for the exit status";
  ASSERT_EQ(::sigaction(SIGINT, nullptr, &now), 0);
  EXPECT_EQ(now.sa_handler, &test_handler) << "the handler from before the guard is back";
  ASSERT_EQ(::raise(SIGINT), 0);
  EXPECT_EQ(g_test_handler_calls, 1);

  // A signal ignored before (a background job) stays ignored.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ASSERT_EQ(::sigaction(SIGINT, &ignore, nullptr), 0);
  {
    train::InterruptGuard guard;
    EXPECT_FALSE(train::stop_requested()) << "a new guard starts without a request";
    ASSERT_EQ(::raise(SIGINT), 0);
    EXPECT_FALSE(train::stop_requested());
  }
  ASSERT_EQ(::sigaction(SIGINT, &original, nullptr), 0);
  train::request_stop(SIGTERM);
  EXPECT_EQ(train::stop_signal(), SIGTERM);
  train::clear_stop_request();
  EXPECT_FALSE(train::stop_requested());
  EXPECT_EQ(train::stop_signal(), 0);
}

// ---- whole runs through the library ----

class InterruptRunTest : public testing::FakeFashionMnistTest {
 protected:
  InterruptRunTest() : FakeFashionMnistTest(400, 100) {}

  // 300 images, 240 for training: 8 batches of 32 per epoch. Dropout and augmentation, so
  // their generators and per-batch draws must carry over; cosine schedule with warmup.
  RunOptions small_run(const std::string& out) const {
    RunOptions o = run_options(out, 3);
    o.model = "mlp";
    o.batch_size = 32;
    o.lr = 2e-3;
    o.lr_schedule = "cosine";
    o.warmup_epochs = 1;
    o.dropout = 0.25;
    o.augment = true;
    o.seed = 3;
    o.train_subset = 300;
    o.test_subset = 100;
    return o;
  }
};

TEST_F(InterruptRunTest, StoppedMidEpochThenResumedEqualsTheUninterruptedRunBitwise) {
  const RunResult straight = run_training(small_run("straight"), log);
  ASSERT_FALSE(straight.interrupted);

  RunOptions o = small_run("stopped");
  int asked = 0;  // once per step, once between epochs: the 11th is epoch 2's second step
  o.stop_when = [&asked] { return ++asked == 11; };
  const RunResult stopped = run_training(o, log);
  ASSERT_TRUE(stopped.interrupted);
  EXPECT_EQ(stopped.interrupted->epoch, 2);
  EXPECT_EQ(stopped.interrupted->batch, 2);
  EXPECT_EQ(stopped.interrupted->batches, 8);
  EXPECT_EQ(stopped.interrupted->signal, 0);
  EXPECT_EQ(stopped.interrupted->checkpoint, dir.file("stopped/last"));
  EXPECT_EQ(stopped.history.size(), 1u);
  EXPECT_FALSE(fs::exists(dir.file("stopped/final"))) << "an interrupted run is not final";

  const io::TrainingState state = io::read_training_state(dir.file("stopped/last"));
  EXPECT_EQ(state.epoch, 1);
  EXPECT_EQ(state.step, 10);
  const nlohmann::json progress = nlohmann::json::parse(state.config).at("epoch_progress");
  EXPECT_EQ(progress.at("batch"), 2);
  EXPECT_EQ(progress.at("images"), 64);
  EXPECT_EQ(load_trained_model(dir.file("stopped/last")).epoch, 1);

  const RunResult resumed = resume_training(dir.file("stopped"), ResumeOptions{}, log);
  EXPECT_NE(log.str().find("resuming epoch 2 of 3 after batch 2/8"), std::string::npos)
      << log.str();
  ASSERT_FALSE(resumed.interrupted);
  EXPECT_EQ(tensors_of(dir.file("stopped/final/model.safetensors")),
            tensors_of(dir.file("straight/final/model.safetensors")));
  EXPECT_EQ(tensors_of(dir.file("stopped/last/optimizer.safetensors")),
            tensors_of(dir.file("straight/last/optimizer.safetensors")));
  expect_same_rows(resumed.history, straight.history);
  expect_same_rows(train::read_metrics_csv(dir.file("stopped/metrics.csv")),
                   train::read_metrics_csv(dir.file("straight/metrics.csv")));
  EXPECT_EQ(resumed.test.accuracy, straight.test.accuracy);
}

TEST_F(InterruptRunTest, ACrashResumesFromTheLastCheckpointEveryNStepsBitwise) {
  const RunResult straight = run_training(small_run("straight"), log);

  // A crash in step 12 (epoch 2, batch 4), right after its --checkpoint-every 3 checkpoint: as
  // kill -9, nothing is saved on the way out.
  RunOptions o = small_run("crashed");
  o.checkpoint_every = 3;
  int asked = 0;
  o.stop_when = [&asked]() -> bool {
    if (++asked == 13) throw std::runtime_error("simulated crash");
    return false;
  };
  EXPECT_THROW(run_training(o, log), std::runtime_error);
  const io::TrainingState state = io::read_training_state(dir.file("crashed/last"));
  EXPECT_EQ(state.step, 12);
  EXPECT_EQ(nlohmann::json::parse(state.config).at("epoch_progress").at("batch"), 4);
  EXPECT_EQ(nlohmann::json::parse(state.config).at("options").at("checkpoint_every"), 3);

  const RunResult resumed = resume_training(dir.file("crashed"), ResumeOptions{}, log);
  EXPECT_EQ(tensors_of(dir.file("crashed/final/model.safetensors")),
            tensors_of(dir.file("straight/final/model.safetensors")));
  expect_same_rows(resumed.history, straight.history);
  EXPECT_EQ(io::read_training_state(dir.file("crashed/last")).step, 24);

  // An unfinished epoch cannot be cut off by a smaller --epochs: stopped after step 10, in
  // epoch 2, the run cannot end after epoch 1.
  RunOptions again = small_run("again");
  asked = 0;
  again.stop_when = [&asked] { return ++asked == 11; };
  ASSERT_TRUE(run_training(again, log).interrupted);
  EXPECT_EQ(io::read_training_state(dir.file("again/last")).step, 10);
  ResumeOptions fewer;
  fewer.epochs = 1;
  EXPECT_EQ(testing::error_message([&] { resume_training(dir.file("again"), fewer, log); }),
            "--resume: " + dir.file("again") +
                "/last stopped in epoch 2; --epochs 1 would leave it unfinished");
}

// ---- the nabla binary ----

// `nabla <args>` started in the background, stdout and stderr to files; environment inherited,
// plus `extra_env` ("NAME=value" entries).
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::string& out, const std::string& err,
        std::vector<std::string> extra_env = {}) {
    std::vector<std::string> all{NABLA_CLI};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    // Default SIGINT and SIGTERM actions in the child even when this process ignores them (a
    // background job of a script), as a user's shell would give `nabla train`.
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> env;
    for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
    for (std::string& e : extra_env) env.push_back(e.data());
    env.push_back(nullptr);
    const int rc = posix_spawn(&pid_, argv[0], &actions, &attributes, argv.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    EXPECT_EQ(rc, 0) << "cannot start " << NABLA_CLI;
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0 && !waited_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  void signal(int sig) const { ::kill(pid_, sig); }
  // The raw waitpid status.
  int wait() {
    if (waited_) return status_;
    while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    waited_ = true;
    return status_;
  }
  // Blocks until it stops (SIGSTOP) or ends; returns the waitpid status (WIFSTOPPED when it
  // stopped, and it is still there to be killed).
  int wait_until_stopped() {
    if (waited_) return status_;
    int status = 0;
    while (::waitpid(pid_, &status, WUNTRACED) < 0 && errno == EINTR) {
    }
    if (!WIFSTOPPED(status)) {
      waited_ = true;
      status_ = status;
    }
    return status;
  }
  // Whether it has ended (then status() holds the waitpid status); never blocks.
  bool exited() {
    if (waited_) return true;
    if (::waitpid(pid_, &status_, WNOHANG) != pid_) return false;
    waited_ = true;
    return true;
  }
  int status() const { return status_; }

 private:
  pid_t pid_ = -1;
  bool waited_ = false;
  int status_ = 0;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

class InterruptCliTest : public testing::FakeFashionMnistTest {
 protected:
  InterruptCliTest() : FakeFashionMnistTest(320, 64) {}

  // 256 images, 192 for training: 12 steps of 16 per epoch. No schedule, so the first E epochs
  // of a longer run are those of an E-epoch run.
  std::vector<std::string> train_args(const std::string& out, int64_t epochs) const {
    return {"train",
            "--model",
            "mlp",
            "--data-dir",
            dir.file("data"),
            "--epochs",
            std::to_string(epochs),
            "--batch-size",
            "16",
            "--train-subset",
            "256",
            "--test-subset",
            "64",
            "--val-fraction",
            "0.25",
            "--optimizer",
            "adam",
            "--dropout",
            "0.2",
            "--augment",
            "--seed",
            "7",
            "--threads",
            "1",
            "--out",
            dir.file(out)};
  }

  // Runs nabla to the end; returns its exit status (-1 if it did not exit normally).
  int run(const std::vector<std::string>& args) {
    Child child(args, dir.file("out.txt"), dir.file("err.txt"));
    const int status = child.wait();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
};

class InterruptSignalTest : public InterruptCliTest, public ::testing::WithParamInterface<int> {};

TEST_P(InterruptSignalTest, SavesOutLastSaysHowToResumeAndResumeEqualsAnUninterruptedRun) {
  const int sig = GetParam();
  const std::string out = dir.file("run");
  {
    // Far more epochs than it gets to: the signal comes once the first checkpoint exists.
    Child child(train_args("run", 1000), dir.file("run.out"), dir.file("run.err"));
    const auto start = std::chrono::steady_clock::now();
    while (!fs::exists(out + "/last") && !child.exited() && seconds_since(start) < 120)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ASSERT_TRUE(fs::exists(out + "/last")) << read_file(dir.file("run.err"));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    child.signal(sig);
    const auto sent = std::chrono::steady_clock::now();
    while (!child.exited() && seconds_since(sent) < 60)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ASSERT_TRUE(child.exited()) << "still running 60 s after the signal";
    const int status = child.status();
    ASSERT_TRUE(WIFEXITED(status)) << "the signal must be handled, not end the process";
    EXPECT_EQ(WEXITSTATUS(status), 128 + sig);
  }
  const std::string err = read_file(dir.file("run.err"));
  const io::TrainingState state = io::read_training_state(out + "/last");
  const nlohmann::json config = nlohmann::json::parse(state.config);
  std::string where = "after epoch " + std::to_string(state.epoch);
  if (config.contains("epoch_progress"))
    where = "at epoch " + std::to_string(state.epoch + 1) + ", batch " +
            config["epoch_progress"]["batch"].dump() + "/12";
  EXPECT_EQ(err, "nabla: interrupted " + where + "; checkpoint saved to " + out +
                     "/last; resume with: nabla train --resume " + out + "\n");
  const TrainedModel saved = load_trained_model(out + "/last");
  EXPECT_EQ(saved.epoch, state.epoch);

  // Finish the epoch it was in, and compare with a run of that many epochs.
  const int64_t epochs = state.epoch + 1;
  ASSERT_EQ(run({"train", "--resume", out, "--epochs", std::to_string(epochs), "--threads", "1"}),
            0)
      << read_file(dir.file("err.txt"));
  ASSERT_EQ(run(train_args("straight", epochs)), 0) << read_file(dir.file("err.txt"));
  EXPECT_EQ(tensors_of(out + "/final/model.safetensors"),
            tensors_of(dir.file("straight/final/model.safetensors")));
  expect_same_rows(train::read_metrics_csv(out + "/metrics.csv"),
                   train::read_metrics_csv(dir.file("straight/metrics.csv")));
}

INSTANTIATE_TEST_SUITE_P(SigintAndSigterm, InterruptSignalTest, ::testing::Values(SIGINT, SIGTERM),
                         [](const auto& test) {
                           return std::string(test.param == SIGINT ? "Sigint" : "Sigterm");
                         });

// The test hook refuses what it cannot read, naming the variable and the value, before training.
TEST_F(InterruptCliTest, ABadTestStopPointIsNamed) {
  for (const std::string bad : {"0", "write:", "check:x", "-3", "step:4"}) {
    Child child(train_args("bad", 1), dir.file("out.txt"), dir.file("err.txt"),
                {"NABLA_TEST_STOP_AT=" + bad});
    const int status = child.wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << bad;
    EXPECT_NE(read_file(dir.file("err.txt"))
                  .find("NABLA_TEST_STOP_AT must be N, write:N or check:N with N a positive "
                        "integer, got '" +
                        bad + "'"),
              std::string::npos)
        << read_file(dir.file("err.txt"));
  }
}

// The kill-loop test of issue 6: `nabla train --checkpoint-every 3` killed with SIGKILL at 20
// points drawn at random, each time restarted with --resume (or from scratch while there is no
// checkpoint yet). After every kill, what is on disk must load; in the end the weights and the
// metrics must be those of a run that was never killed.
//
// No timers: each start gets NABLA_TEST_STOP_AT (app/test_stop.h) and stops itself right after
// the point drawn for it, where the SIGKILL lands: half the kills after a step of an atomic write
// (in the middle of saving a checkpoint, its steps.csv or the final files), half after a stop
// check (between training steps). Each draw reaches at most two epochs ahead: N stop checks, or
// N write steps at half the uninterrupted run's write steps per training step. A start has a stop
// check per step still to go and, saving every 3 steps and at the end, more write steps than
// that bound, so the point always exists: no start can end before its kill, however fast it runs.
TEST_F(InterruptCliTest, KillLoopTwentySigkillsThenResumeEqualsAnUninterruptedRun) {
  constexpr int64_t kEpochs = 8;
  constexpr int64_t kSteps = kEpochs * 12;
  std::vector<std::string> args = train_args("straight", kEpochs);
  args.insert(args.end(), {"--checkpoint-every", "3"});
  int64_t writes = 0, checks = 0;  // the uninterrupted run's stop points
  {
    Child straight(args, dir.file("out.txt"), dir.file("err.txt"),
                   {"NABLA_TEST_STOP_AT=check:1000000000"});
    const int status = straight.wait();
    const std::string err = read_file(dir.file("err.txt"));
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << err;
    const std::string said = "not reached; the run passed ";
    const size_t at = err.find(said);
    ASSERT_NE(at, std::string::npos) << err;
    std::istringstream counts(err.substr(at + said.size()));
    std::string words;
    counts >> writes >> words >> words >> words >> checks;
    ASSERT_GE(checks, kSteps) << err;
    ASSERT_GE(writes, 2 * kSteps) << err;
  }
  const int64_t writes_per_step = writes / kSteps / 2;

  const std::string out = dir.file("killed");
  args = train_args("killed", kEpochs);
  args.insert(args.end(), {"--checkpoint-every", "3"});
  const std::vector<std::string> resume_args{"train", "--resume", out, "--threads", "1"};
  // The draws come from --gtest_random_seed, 0 unless given, so that every run kills at the same
  // points and a failing seed reproduces. (UnitTest::random_seed() is not that: for a flag of 0,
  // gtest draws a seed from the clock.)
  const int seed = GTEST_FLAG_GET(random_seed);
  std::mt19937_64 rng(static_cast<uint64_t>(seed));
  int64_t step_on_disk = -1, checkpoints_seen = 0;
  std::map<std::string, int> kills_after;  // what the kills came right after, by kind
  for (int kill = 0; kill < 20; ++kill) {
    const std::string where = "kill " + std::to_string(kill + 1);
    const bool has_checkpoint = fs::is_directory(io::resolve_atomic_directory(out + "/last"));
    const int64_t steps_to_go = kSteps - std::max<int64_t>(step_on_disk, 0);
    const int64_t window = std::clamp<int64_t>(steps_to_go, 1, 2 * 12);
    const bool at_a_write = steps_to_go == 0 || std::bernoulli_distribution(0.5)(rng);
    const int64_t n = std::uniform_int_distribution<int64_t>(
        1, at_a_write ? window * writes_per_step : window)(rng);
    const std::string point = (at_a_write ? "write:" : "check:") + std::to_string(n);
    {
      Child child(has_checkpoint ? resume_args : args, dir.file("out.txt"), dir.file("err.txt"),
                  {"NABLA_TEST_STOP_AT=" + point});
      const int status = child.wait_until_stopped();
      ASSERT_TRUE(WIFSTOPPED(status))
          << where << ": the run ended before its stop point " << point << " (status " << status
          << "); " << read_file(dir.file("err.txt"));
      child.signal(SIGKILL);
      const int ended = child.wait();
      ASSERT_TRUE(WIFSIGNALED(ended) && WTERMSIG(ended) == SIGKILL) << where;
    }
    const std::string err = read_file(dir.file("err.txt"));
    const std::string said = "nabla: NABLA_TEST_STOP_AT: stopped after ";
    const size_t at = err.rfind(said);
    ASSERT_NE(at, std::string::npos) << where << ": " << err;
    const size_t from = at + said.size();
    const std::string step = err.substr(from, err.find_first_of("/(\n", from) - from - 1);
    ++kills_after[step];

    if (!fs::is_directory(io::resolve_atomic_directory(out + "/last"))) {
      EXPECT_EQ(step_on_disk, -1) << where << ": a checkpoint disappeared";
      continue;
    }
    // What is on disk loads: the training state, the model, and the optimizer's state.
    const io::TrainingState state = io::read_training_state(out + "/last");
    const TrainedModel trained = load_trained_model(out + "/last");
    EXPECT_EQ(trained.epoch, state.epoch);
    auto optimizer = std::make_unique<optim::Adam>(trained.model->parameters());
    io::load_checkpoint(out + "/last", *trained.model, optimizer.get());
    EXPECT_GE(state.step, step_on_disk) << where << ": the checkpoint went back";
    if (state.step > step_on_disk) ++checkpoints_seen;
    step_on_disk = state.step;
  }
  EXPECT_GT(checkpoints_seen, 0) << "no kill came after a checkpoint";
  const int between_steps = kills_after["stop check"];
  EXPECT_GT(between_steps, 0) << "no kill came between steps";
  EXPECT_LT(between_steps, 20) << "no kill came in the middle of a write";

  ASSERT_EQ(run(fs::exists(out + "/last") ? resume_args : args), 0)
      << read_file(dir.file("err.txt"));
  EXPECT_EQ(tensors_of(out + "/final/model.safetensors"),
            tensors_of(dir.file("straight/final/model.safetensors")));
  expect_same_rows(train::read_metrics_csv(out + "/metrics.csv"),
                   train::read_metrics_csv(dir.file("straight/metrics.csv")));
  RecordProperty("checkpoints_seen", static_cast<int>(checkpoints_seen));
  std::cout << "kill loop (seed " << seed << "): " << checkpoints_seen
            << " new checkpoints seen, last at step " << step_on_disk << " of " << kSteps
            << "; the kills came right after:";
  for (const auto& [kind, count] : kills_after) std::cout << " " << kind << "x" << count;
  std::cout << "\n";
}

}  // namespace
}  // namespace nabla::app

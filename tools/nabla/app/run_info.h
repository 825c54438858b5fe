// What a run records about when and where it ran (trainer_state.json's "run", the report,
// `nabla compare`): the date, the duration, nabla's version, the CPU and the thread count, and
// where the last finished epoch's steps spent their time.
//
//   app::version_text();  // "0.1.0 (git 2186aa2f3c)", or "0.1.0" outside a git checkout
#pragma once

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>

#include "nabla/train/trainer.h"

namespace nabla::app {

// CMake's project(VERSION), with the git commit built from when there is one ("-dirty" when the
// tree had uncommitted changes); cmake/nabla_version.cmake generates it at every build.
std::string version_text();
// The CPU's model name from /proc/cpuinfo ("AMD EPYC 9B45"); "unknown" where there is none.
std::string cpu_model();
// `t` as "2026-12-05 10:06:23 UTC".
std::string utc_text(std::time_t t);
// Seconds as the console says them: "41.3 s", "12 min 5 s", "2 h 3 min".
std::string duration_text(double seconds);

// train::EpochTimes as the record keeps them ("steps", "data", "forward_backward", "slices",
// "slice_work", "gradient_sum", "optimizer", "other": seconds), and as the report says them:
// "12.4 ms a step: batches 2.9%, forward and backward 94.1%, optimizer 2.7%, the rest 0.3%",
// with "; its slices kept 1.9 threads busy" where the steps ran sliced. "unknown" for a record
// without steps.
nlohmann::json epoch_times_json(const train::EpochTimes& t);
std::string epoch_times_text(const nlohmann::json& times);

// A run's "run" record. Made when training starts, from the checkpoint's record when it resumes,
// so that the date stays the first start's and the duration adds up every session's wall time.
class RunRecord {
 public:
  // `saved`: trainer_state.json's "run" (null for a fresh run or a checkpoint from before it).
  explicit RunRecord(const nlohmann::json& saved = nullptr);
  // {"started": unix time, "date": utc_text, "seconds": wall time so far, "version", "cpu",
  //  "threads"}, and "epoch_times" (epoch_times_json) once an epoch has ended.
  nlohmann::json to_json() const;
  // Keeps where the epoch that just ended spent its time (Trainer::epoch_times()).
  void set_epoch_times(const train::EpochTimes& times) { epoch_times_ = epoch_times_json(times); }

 private:
  nlohmann::json epoch_times_;  // null until an epoch ends (or from the checkpoint's record)
  std::time_t started_;
  double seconds_before_ = 0;
  std::chrono::steady_clock::time_point session_start_ = std::chrono::steady_clock::now();
};

}  // namespace nabla::app

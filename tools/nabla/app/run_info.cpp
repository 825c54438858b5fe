// Version, CPU and date texts (app/run_info.h).
#include "app/run_info.h"

#include <cmath>
#include <cstdio>
#include <fstream>

#include "nabla/threads.h"
#include "nabla_version.h"  // generated: NABLA_VERSION_STRING, NABLA_GIT_COMMIT

namespace nabla::app {

std::string version_text() {
  const std::string commit = NABLA_GIT_COMMIT;
  return std::string(NABLA_VERSION_STRING) + (commit.empty() ? "" : " (git " + commit + ")");
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) break;
    const size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "unknown" : line.substr(start);
  }
  return "unknown";
}

std::string utc_text(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return text;
}

std::string duration_text(double seconds) {
  char text[48];
  if (!(seconds >= 0)) return "unknown";
  if (seconds < 60) {
    std::snprintf(text, sizeof text, "%.1f s", seconds);
  } else if (seconds < 3600) {
    const auto s = static_cast<long>(std::lround(seconds));
    std::snprintf(text, sizeof text, "%ld min %ld s", s / 60, s % 60);
  } else {
    const auto m = static_cast<long>(std::lround(seconds / 60));
    std::snprintf(text, sizeof text, "%ld h %ld min", m / 60, m % 60);
  }
  return text;
}

nlohmann::json epoch_times_json(const train::EpochTimes& t) {
  return {{"steps", t.steps},
          {"data", t.data},
          {"forward_backward", t.forward_backward},
          {"slices", t.slices},
          {"slice_work", t.slice_work},
          {"gradient_sum", t.gradient_sum},
          {"optimizer", t.optimizer},
          {"other", t.other}};
}

std::string epoch_times_text(const nlohmann::json& times) {
  if (!times.is_object()) return "unknown";
  const auto steps = times.value("steps", int64_t{0});
  const double data = times.value("data", 0.0), fb = times.value("forward_backward", 0.0);
  const double optimizer = times.value("optimizer", 0.0), other = times.value("other", 0.0);
  const double total = data + fb + optimizer + other;
  if (steps <= 0 || !(total > 0)) return "unknown";
  auto share = [&](double part) { return 100 * part / total; };
  char text[200];
  std::snprintf(text, sizeof text,
                "%.1f ms a step: batches %.1f%%, forward and backward %.1f%%, optimizer %.1f%%, "
                "the rest %.1f%%",
                1e3 * total / static_cast<double>(steps), share(data), share(fb), share(optimizer),
                share(other));
  std::string out = text;
  const double slices = times.value("slices", 0.0), work = times.value("slice_work", 0.0);
  if (slices > 0 && work > 0) {
    std::snprintf(text, sizeof text, "; its slices kept %.1f threads busy", work / slices);
    out += text;
  }
  return out;
}

RunRecord::RunRecord(const nlohmann::json& saved) : started_(std::time(nullptr)) {
  if (!saved.is_object()) return;
  started_ = saved.value("started", static_cast<int64_t>(started_));
  seconds_before_ = saved.value("seconds", 0.0);
  if (saved.contains("epoch_times")) epoch_times_ = saved.at("epoch_times");
}

nlohmann::json RunRecord::to_json() const {
  const double session =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - session_start_).count();
  nlohmann::json j = {{"started", static_cast<int64_t>(started_)},
                      {"date", utc_text(started_)},
                      {"seconds", seconds_before_ + session},
                      {"version", version_text()},
                      {"cpu", cpu_model()},
                      {"threads", num_threads()}};
  if (!epoch_times_.is_null()) j["epoch_times"] = epoch_times_;
  return j;
}

}  // namespace nabla::app

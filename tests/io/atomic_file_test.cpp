// Atomic writes: a committed file replaces the old one, an uncommitted one leaves no trace, and a
// writer killed with SIGKILL at random moments never leaves a half-written file behind.
#include "nabla/io/atomic_file.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "data/temp_dir.h"
#include "test_util.h"

namespace nabla {
namespace {

using nabla::testing::read_file;

namespace fs = std::filesystem;
using testing::error_message;
using testing::TempDir;

// Names in `dir` that contain ".tmp.": what an interrupted writer leaves.
std::vector<std::string> temporaries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.find(".tmp.") != std::string::npos) out.push_back(name);
  }
  return out;
}

TEST(AtomicFile, CommitReplacesAndAbandonLeavesTheOldFile) {
  TempDir dir;
  const std::string path = dir.file("out.txt");
  io::write_file_atomic(path, "first");
  EXPECT_EQ(read_file(path), "first");
  io::write_file_atomic(path, "second, longer");
  EXPECT_EQ(read_file(path), "second, longer");
  {
    io::AtomicFile out(path);
    out.write("third", 5);
    EXPECT_TRUE(fs::exists(out.temp_path()));
    // No commit: as if an exception unwound past the writer.
  }
  EXPECT_EQ(read_file(path), "second, longer");
  EXPECT_TRUE(temporaries(dir.str()).empty());
}

TEST(AtomicFile, ErrorsNameThePath) {
  TempDir dir;
  const std::string path = dir.file("no/such/dir/out.txt");
  const std::string message = error_message([&] { io::write_file_atomic(path, "x"); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
}

TEST(AtomicDirectory, CommitSwapsWholeDirectoriesAndCleansUp) {
  TempDir dir;
  const std::string target = dir.file("ckpt");
  for (const char* version : {"one", "two"}) {
    io::AtomicDirectory out(target + "/");  // a trailing slash must not stage inside the target
    io::write_file_atomic(out.file("a.txt"), version);
    io::write_file_atomic(out.file("b.txt"), version);
    out.commit();
    EXPECT_EQ(read_file(target + "/a.txt"), version);
    EXPECT_EQ(read_file(target + "/b.txt"), version);
  }
  {
    io::AtomicDirectory out(target);
    io::write_file_atomic(out.file("a.txt"), "abandoned");
  }
  EXPECT_EQ(read_file(target + "/a.txt"), "two");
  EXPECT_TRUE(temporaries(dir.str()).empty());
  // A regular file in the way is refused rather than replaced.
  io::write_file_atomic(dir.file("plain"), "x");
  io::AtomicDirectory out(dir.file("plain"));
  EXPECT_NE(error_message([&] { out.commit(); }).find("is not a directory"), std::string::npos);
}

TEST(AtomicDirectory, RecoversFromTheFallbacksHalfDoneCommit) {
  TempDir dir;
  const std::string target = dir.file("ckpt");
  // What two-rename commit leaves when killed between its renames: only `<target>.previous`.
  fs::create_directories(target + ".previous");
  io::write_file_atomic(target + ".previous/a.txt", "old");
  EXPECT_EQ(io::resolve_atomic_directory(target), target + ".previous");
  io::AtomicDirectory out(target);  // puts the previous one back before staging
  EXPECT_EQ(read_file(target + "/a.txt"), "old");
  EXPECT_FALSE(fs::exists(target + ".previous"));
  EXPECT_EQ(io::resolve_atomic_directory(target), target);
}

// The child rewrites one 8 MiB file forever, each version filled with one byte value; the parent
// kills it at random moments. Whatever the moment, the file on disk is one whole version.
TEST(AtomicFile, SurvivesSigkillAtRandomMoments) {
  TempDir dir;
  const std::string path = dir.file("big.bin");
  constexpr size_t kSize = 8 << 20;
  io::write_file_atomic(path, std::string(kSize, 'a'));
  std::mt19937 rng(12345);
  int interrupted = 0;
  for (int round = 0; round < 6; ++round) {
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      try {
        std::string contents(kSize, 'a');
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        for (int k = 0; std::chrono::steady_clock::now() < deadline; ++k) {
          std::fill(contents.begin(), contents.end(), static_cast<char>('a' + k % 26));
          io::write_file_atomic(path, contents);
        }
      } catch (...) {
        ::_exit(1);
      }
      ::_exit(0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 200));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself: status " << status;
    if (fs::exists(path + ".tmp." + std::to_string(child))) ++interrupted;

    const std::string contents = read_file(path);
    ASSERT_EQ(contents.size(), kSize) << "round " << round;
    EXPECT_EQ(contents.find_first_not_of(contents[0]), std::string::npos)
        << "round " << round << ": the file mixes two versions";
  }
  EXPECT_GT(interrupted, 0) << "no kill landed mid-write; the test proved nothing";
  // The next writer removes what the killed ones left.
  io::write_file_atomic(path, "done");
  EXPECT_TRUE(temporaries(dir.str()).empty());
}

}  // namespace
}  // namespace nabla

// Atomic writes: a committed file replaces the old one, an uncommitted one leaves no trace, and a
// writer killed with SIGKILL at any step of a write never leaves a half-written file behind.
#include "nabla/io/atomic_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/temp_dir.h"
#include "io/kill_at_step.h"
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
// A writer SIGKILLed after each step of an atomic write in turn (temporary file created, written,
// synced, renamed over the old one, directory synced) leaves the old file whole until the rename
// and the new one from then on, never a mix; the next writer removes the temporaries it left.
TEST(AtomicFile, SurvivesSigkillAfterEveryStepOfAWrite) {
  TempDir dir;
  const std::string path = dir.file("big.bin");
  constexpr size_t kSize = 1 << 20;
  io::write_file_atomic(path, std::string(kSize, 'a'));
  const std::vector<std::string> steps =
      testing::atomic_write_steps([&] { io::write_file_atomic(path, std::string(kSize, 'a')); });
  const auto renamed = std::find(steps.begin(), steps.end(), "file renamed");
  ASSERT_NE(renamed, steps.end()) << "an atomic write that never renames its temporary";
  const int rename_step = static_cast<int>(renamed - steps.begin()) + 1;
  ASSERT_GE(rename_step, 2) << "no step before the rename to interrupt";

  char version = 'a';
  int left_temporaries = 0;
  for (int stop = 1; stop <= static_cast<int>(steps.size()); ++stop) {
    const std::string where = "killed after step " + std::to_string(stop) + " (" +
                              steps[static_cast<size_t>(stop - 1)] + ")";
    const char next = static_cast<char>('b' + stop);
    const pid_t child = testing::kill_writer_after_step(
        stop, [&] { io::write_file_atomic(path, std::string(kSize, next)); }, where);
    ASSERT_GT(child, 0);
    if (fs::exists(path + ".tmp." + std::to_string(child))) ++left_temporaries;
    if (stop >= rename_step) version = next;

    const std::string contents = read_file(path);
    ASSERT_EQ(contents.size(), kSize) << where;
    EXPECT_EQ(contents[0], version) << where;
    EXPECT_EQ(contents.find_first_not_of(contents[0]), std::string::npos)
        << where << ": the file mixes two versions";
  }
  EXPECT_EQ(left_temporaries, rename_step - 1) << "kills before the rename leave the temporary";
  // The next writer removes what the killed ones left.
  io::write_file_atomic(path, "done");
  EXPECT_TRUE(temporaries(dir.str()).empty());
}

}  // namespace
}  // namespace nabla

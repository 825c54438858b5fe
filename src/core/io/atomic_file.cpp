// Atomic file and directory replacement (see include/nabla/io/atomic_file.h). POSIX plus Linux's
// renameat2; every step that can fail throws nabla::Error naming the path and the system's reason.
#include "nabla/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "io/atomic_file_hook.h"
#include "nabla/error.h"

namespace nabla::io {

namespace fs = std::filesystem;

namespace {

std::atomic<detail::AtomicWriteHook> g_hook{nullptr};

// Tells the test hook, when one is installed, that `step` has just been done to `path`.
void reached(const char* step, const std::string& path) {
  if (detail::AtomicWriteHook hook = g_hook.load(std::memory_order_acquire))
    hook(step, path.c_str());
}

std::string reason() {
  return std::strerror(errno);
}

std::string parent_of(const std::string& path) {
  fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

// fsync on a directory makes the entries created, renamed or removed in it durable.
void fsync_directory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  NABLA_CHECK(fd >= 0, "atomic write: cannot open directory ", dir, " to sync it: ", reason());
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  errno = saved;
  NABLA_CHECK(rc == 0, "atomic write: fsync of directory ", dir, " failed: ", reason());
}

std::string temp_name(const std::string& path) {
  return path + ".tmp." + std::to_string(::getpid());
}

// Removes `<path>.tmp.<pid>` entries whose process no longer exists: what a killed writer left.
// A live pid (even another user's, EPERM) is left alone, since it may be writing right now.
void remove_stale_temporaries(const std::string& path) {
  const std::string prefix = fs::path(path).filename().string() + ".tmp.";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(parent_of(path), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.empty() || digits.size() > 9 ||
        digits.find_first_not_of("0123456789") != std::string::npos)
      continue;
    const pid_t pid = static_cast<pid_t>(std::stol(digits));
    if (pid == ::getpid()) continue;
    if (::kill(pid, 0) == -1 && errno == ESRCH) fs::remove_all(entry.path(), ec);
  }
}

}  // namespace

detail::AtomicWriteHook detail::set_atomic_write_hook(AtomicWriteHook hook) {
  return g_hook.exchange(hook, std::memory_order_acq_rel);
}

// ---------------------------------------------------------------- AtomicFile

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), temp_path_(temp_name(path_)) {
  remove_stale_temporaries(path_);
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  NABLA_CHECK(fd_ >= 0, "atomic write: cannot create ", temp_path_, " (to replace ", path_,
              "): ", reason());
  reached("file created", temp_path_);
}

AtomicFile::~AtomicFile() {
  if (fd_ < 0) return;
  ::close(fd_);
  ::unlink(temp_path_.c_str());
}

void AtomicFile::write(const void* data, size_t n) {
  NABLA_CHECK(fd_ >= 0, "atomic write: ", path_, " was already committed");
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t wrote = ::write(fd_, p, n);
    if (wrote < 0 && errno == EINTR) continue;
    NABLA_CHECK(wrote > 0, "atomic write: writing ", temp_path_, " failed: ", reason());
    p += wrote;
    n -= static_cast<size_t>(wrote);
  }
  reached("file written", temp_path_);
}

void AtomicFile::commit() {
  NABLA_CHECK(fd_ >= 0, "atomic write: ", path_, " was already committed");
  // The data must be on disk before the rename makes it visible under the real name; otherwise a
  // crash could leave the new name pointing at a file whose blocks were never written.
  NABLA_CHECK(::fsync(fd_) == 0, "atomic write: fsync of ", temp_path_, " failed: ", reason());
  reached("file synced", temp_path_);
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) {
    ::unlink(temp_path_.c_str());
    NABLA_CHECK(false, "atomic write: closing ", temp_path_, " failed: ", reason());
  }
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    std::string why = reason();
    ::unlink(temp_path_.c_str());
    NABLA_CHECK(false, "atomic write: cannot rename ", temp_path_, " to ", path_, ": ", why);
  }
  reached("file renamed", path_);
  fsync_directory(parent_of(path_));
  reached("parent directory synced", path_);
}

void write_file_atomic(const std::string& path, std::string_view contents) {
  AtomicFile out(path);
  out.write(contents.data(), contents.size());
  out.commit();
}

// ---------------------------------------------------------------- AtomicDirectory

namespace {
std::string previous_name(const std::string& path) {
  return path + ".previous";
}
}  // namespace

AtomicDirectory::AtomicDirectory(std::string path)
    : path_(fs::path(std::move(path)).lexically_normal().string()) {
  // "runs/mnist/" would otherwise give the staging directory "runs/mnist/.tmp.<pid>", inside it.
  while (path_.size() > 1 && path_.back() == '/') path_.pop_back();
  staging_path_ = temp_name(path_);
  remove_stale_temporaries(path_);
  std::error_code ec;
  // Finish what a fallback commit (two renames) left half done when its process died.
  const std::string previous = previous_name(path_);
  if (fs::exists(previous, ec)) {
    if (!fs::exists(path_, ec)) {
      NABLA_CHECK(::rename(previous.c_str(), path_.c_str()) == 0, "atomic write: cannot restore ",
                  previous, " to ", path_, ": ", reason());
    } else {
      fs::remove_all(previous, ec);
    }
  }
  fs::remove_all(staging_path_, ec);
  NABLA_CHECK(::mkdir(staging_path_.c_str(), 0755) == 0, "atomic write: cannot create directory ",
              staging_path_, " (to replace ", path_, "): ", reason());
  reached("directory created", staging_path_);
}

AtomicDirectory::~AtomicDirectory() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(staging_path_, ec);
}

std::string AtomicDirectory::file(const std::string& name) const {
  return (fs::path(staging_path_) / name).string();
}

void AtomicDirectory::commit() {
  NABLA_CHECK(!committed_, "atomic write: ", path_, " was already committed");
  fsync_directory(staging_path_);
  reached("directory synced", staging_path_);
  const std::string parent = parent_of(path_);
  std::error_code ec;
  struct stat target;
  if (::lstat(path_.c_str(), &target) != 0) {
    NABLA_CHECK(errno == ENOENT, "atomic write: cannot inspect ", path_, ": ", reason());
    NABLA_CHECK(::rename(staging_path_.c_str(), path_.c_str()) == 0, "atomic write: cannot rename ",
                staging_path_, " to ", path_, ": ", reason());
    reached("directory renamed", path_);
  } else {
    NABLA_CHECK(S_ISDIR(target.st_mode), "atomic write: ", path_,
                " exists and is not a directory; refusing to replace it");
    if (::renameat2(AT_FDCWD, staging_path_.c_str(), AT_FDCWD, path_.c_str(), RENAME_EXCHANGE) ==
        0) {
      // The staging name now holds the old contents.
      reached("directory exchanged", path_);
      fs::remove_all(staging_path_, ec);
      reached("old directory removed", staging_path_);
    } else {
      NABLA_CHECK(errno == EINVAL || errno == ENOSYS || errno == ENOTSUP,
                  "atomic write: cannot exchange ", staging_path_, " with ", path_, ": ", reason());
      const std::string previous = previous_name(path_);
      fs::remove_all(previous, ec);
      NABLA_CHECK(::rename(path_.c_str(), previous.c_str()) == 0, "atomic write: cannot rename ",
                  path_, " to ", previous, ": ", reason());
      reached("directory moved aside", previous);
      NABLA_CHECK(::rename(staging_path_.c_str(), path_.c_str()) == 0,
                  "atomic write: cannot rename ", staging_path_, " to ", path_, ": ", reason());
      reached("directory renamed", path_);
      fs::remove_all(previous, ec);
      reached("old directory removed", previous);
    }
  }
  committed_ = true;
  fsync_directory(parent);
  reached("parent directory synced", path_);
}

std::string resolve_atomic_directory(const std::string& path) {
  std::error_code ec;
  if (fs::exists(path, ec)) return path;
  std::string trimmed = fs::path(path).lexically_normal().string();
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  const std::string previous = previous_name(trimmed);
  return fs::is_directory(previous, ec) ? previous : path;
}

}  // namespace nabla::io

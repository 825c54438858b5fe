// Atomic replacement of a file or a directory: after a crash (power loss, kill -9) at any moment,
// the target holds either its old contents or the new ones, never a mix or a half-written file.
//
// How: everything is written under a temporary name beside the target (`<path>.tmp.<pid>`),
// flushed to disk with fsync, then renamed over the target, and the parent directory is fsynced
// so the rename itself is durable. rename(2) is atomic within a filesystem; a directory is swapped
// with Linux's renameat2(RENAME_EXCHANGE) (see AtomicDirectory). Temporaries left by a process
// that died are removed by the next write to the same target.
//
// Not here: locking. Two processes writing the same target at once each produce a whole version,
// and the last rename wins.
#pragma once

#include <string>
#include <string_view>

namespace nabla::io {

// A file being written under a temporary name; commit() puts it in place.
//
//   AtomicFile out("model.safetensors");
//   out.write(header.data(), header.size());
//   out.commit();                       // without commit(), the destructor discards the temporary
class AtomicFile {
 public:
  // Creates `<path>.tmp.<pid>` (truncating any leftover of this process). Throws nabla::Error
  // naming the path when it cannot be created.
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Appends n bytes; throws naming the temporary file (disk full, I/O error).
  void write(const void* data, size_t n);
  // fsync the file, rename it over the target, fsync the directory. Call at most once.
  void commit();

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  std::string path_, temp_path_;
  int fd_ = -1;
};

// Writes `contents` to `path` atomically (an AtomicFile written once and committed).
void write_file_atomic(const std::string& path, std::string_view contents);

// A directory being filled under a temporary name; commit() swaps it in for the target.
//
//   AtomicDirectory dir("runs/mnist");
//   write_file_atomic(dir.file("model.safetensors"), ...);
//   dir.commit();
//
// commit() exchanges the staging directory with the target in one renameat2(RENAME_EXCHANGE)
// and then deletes the old contents, so the target path always names a complete directory. On a
// filesystem without RENAME_EXCHANGE it falls back to two renames (target -> `<path>.previous`,
// staging -> target); a crash between them leaves only `<path>.previous`, which
// resolve_atomic_directory() finds and the next AtomicDirectory puts back.
class AtomicDirectory {
 public:
  // Creates an empty `<path>.tmp.<pid>/`. The parent of `path` must exist.
  explicit AtomicDirectory(std::string path);
  ~AtomicDirectory();
  AtomicDirectory(const AtomicDirectory&) = delete;
  AtomicDirectory& operator=(const AtomicDirectory&) = delete;

  // Path of `name` inside the staging directory.
  std::string file(const std::string& name) const;
  // Makes the staged contents the target. Call at most once.
  void commit();

  const std::string& path() const { return path_; }
  const std::string& staging_path() const { return staging_path_; }

 private:
  std::string path_, staging_path_;
  bool committed_ = false;
};

// The directory a reader should open for `path`: `path` itself or, when only the fallback's
// `<path>.previous` exists (a crash mid-commit on a filesystem without RENAME_EXCHANGE), that.
std::string resolve_atomic_directory(const std::string& path);

}  // namespace nabla::io

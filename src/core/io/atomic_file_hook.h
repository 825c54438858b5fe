// A test hook into atomic writes (io/atomic_file.h): a function called after each step that
// changes the disk, so a crash test can stop the writer at exactly that step and SIGKILL it,
// instead of guessing with timers when a kill will land mid-write. Internal: no public header.
#pragma once

namespace nabla::io::detail {

// `step` names what has just happened ("file created", "file written", "file synced",
// "file renamed", "directory created", "directory synced", "directory exchanged", ...); `path`
// is the file or directory it happened to. Called from the writing thread.
using AtomicWriteHook = void (*)(const char* step, const char* path);

// Installs `hook` (nullptr removes it) and returns the previous one. Not for production code.
AtomicWriteHook set_atomic_write_hook(AtomicWriteHook hook);

}  // namespace nabla::io::detail

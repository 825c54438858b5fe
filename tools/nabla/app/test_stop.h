// NABLA_TEST_STOP_AT=N: a crash test's hook into `nabla train`, in the manner of Git's GIT_TEST_*
// variables. The process stops itself (SIGSTOP) right after the N-th of its stop points: every
// step of an atomic write that changes the disk (io/atomic_file_hook.h), and every moment the run
// asks whether to stop (after each training step and between epochs: RunOptions::stop_when).
// `write:N` counts only the former, `check:N` only the latter. The test, waiting with
// waitpid(WUNTRACED), then SIGKILLs it exactly there, so a kill lands where the test drew it
// instead of wherever a timer happened to fire: the kill loop of tests/train/interrupt_test.cpp
// can neither miss a run that ended early nor depend on the machine's load.
//
// From the disk's side a SIGKILL at any moment equals one right after the last step that changed
// the disk, so the write points reach every state a real kill -9 can leave behind.
#pragma once

#include <functional>

namespace nabla::app {

// With NABLA_TEST_STOP_AT unset or empty: nullptr, and nothing installed. Otherwise installs the
// atomic-write hook and returns the predicate for RunOptions::stop_when (it never asks to stop, it
// only counts). Before stopping, one line on stderr names the point:
// "nabla: NABLA_TEST_STOP_AT: stopped after <step> <path>"; a run that ends without reaching it
// says at exit how many points of each kind it passed ("... not reached; the run passed W write
// steps and C stop checks"). Throws nabla::Error naming the value
// when it is not of those forms.
std::function<bool()> test_stop_point_from_env();

}  // namespace nabla::app

// Stopping training cleanly on Ctrl-C (SIGINT) or SIGTERM. The handlers only record the signal
// (an atomic store, async-signal-safe); the training loop asks after each step and stops there,
// so what is saved afterwards is a whole step, never half of one.
//
//   train::Trainer trainer(model, opt, loader, train::TrainerOptions().epochs(10));
//   trainer.stop_when = train::stop_requested;
//   {
//     train::InterruptGuard guard;        // from here SIGINT and SIGTERM request a stop
//     trainer.fit();
//   }                                     // the previous handlers are back
//   if (trainer.stopped()) {              // save a checkpoint of trainer.progress(), then
//     save(...);                          // exit(128 + train::stop_signal()) as shells expect
//   }
//
// A second signal of the same kind (a second Ctrl-C) is not caught: the handlers are installed
// with SA_RESETHAND, so it has the signal's default action and ends the process at once. That is
// the way out of a step that takes too long, or of a save that hangs on a slow disk; since
// checkpoints are replaced atomically (io/atomic_file.h) it loses the work since the previous
// checkpoint and corrupts nothing, exactly like kill -9.
//
// A signal the process was started ignoring (SIG_IGN: a background job of a non-interactive
// shell, nohup) stays ignored. One flag per process, because signals are delivered per process.
// Not here: SIGHUP and SIGQUIT (their default actions stay), anything on Windows.
#pragma once

#include <csignal>

namespace nabla::train {

// True once SIGINT or SIGTERM arrived under an InterruptGuard, or request_stop() was called.
bool stop_requested();
// The signal that requested the stop (SIGINT, SIGTERM), 0 if none did (or request_stop(0)).
int stop_signal();
// Records a stop request as a signal would (for tests, or a stop button in a GUI).
void request_stop(int signal = 0);
// Forgets a recorded request.
void clear_stop_request();

// Installs the SIGINT and SIGTERM handlers for its lifetime and clears any earlier request;
// the destructor restores the handlers that were there before (it keeps the request, so the
// caller can still ask stop_signal()). Guards may nest; each restores what it found.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct sigaction previous_interrupt_ = {};
  struct sigaction previous_terminate_ = {};
};

}  // namespace nabla::train

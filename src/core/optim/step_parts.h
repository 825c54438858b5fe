// One optimizer step over all the parameters as one job of the pool: their values cut into at
// most num_threads() ranges (parallel::Arrays), so a model of 61,706 values updates on two
// threads at once while a small one stays on the calling thread. The rules are element-wise, so
// any cut gives the same bits. For the optimizers' .cpp files (SGD, Adam, RMSprop, Adagrad).
#pragma once

#include <cstdint>
#include <vector>

#include "nabla/tensor.h"
#include "parallel.h"

namespace nabla::optim::detail {

// The fewest values worth a thread: waking the pool for fewer costs more than the loop.
constexpr int64_t kStepGrain = 1 << 14;

// For each parameter i < count whose gradient grad_of(i) is defined, in order on the calling
// thread: prepare(i) (state and per-parameter constants; it runs before any update), then
// update(i, grad, begin, end) for its values [begin, end) in each range, on whichever thread
// takes the range. The gradients (contiguous, as Optimizer::grad_of gives them) and the list
// are kept per thread, so a step allocates nothing, and the gradients' references are dropped
// however the step ends.
template <class GradOf, class Prepare, class Update>
void for_each_part(size_t count, const GradOf& grad_of, const Prepare& prepare,
                   const Update& update) {
  struct Scratch {
    std::vector<Tensor> grads;  // undefined: the parameter has no gradient and is skipped
    parallel::Arrays arrays;
  };
  thread_local Scratch this_threads;
  // A reference, captured by the arrays' lambda: a thread_local named inside it would be the
  // pool worker's own.
  Scratch& scratch = this_threads;
  struct Clear {
    Scratch& s;
    ~Clear() {
      for (Tensor& g : s.grads) g = Tensor();
      s.arrays.clear();
    }
  } clear{scratch};
  scratch.grads.resize(count);
  for (size_t i = 0; i < count; ++i) {
    scratch.grads[i] = grad_of(i);
    if (!scratch.grads[i].defined()) continue;
    prepare(i);
    scratch.arrays.add(static_cast<int64_t>(i), scratch.grads[i].numel());
  }
  scratch.arrays.run(kStepGrain, [&](int64_t item, int64_t begin, int64_t end) {
    const auto i = static_cast<size_t>(item);
    update(i, scratch.grads[i], begin, end);
  });
}

}  // namespace nabla::optim::detail

// One optimizer step over all the parameters as one job of the pool: their values cut into at
// most num_threads() ranges (parallel::Arrays), so a model of 61,706 values updates on two
// threads at once while a small one stays on the calling thread. The rules are element-wise, so
// any cut gives the same bits. For the optimizers' .cpp files (SGD, Adam, RMSprop, Adagrad).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "nabla/tensor.h"
#include "parallel.h"

namespace nabla::optim::detail {

// The fewest values worth a thread: waking the pool for fewer costs more than the loop.
constexpr int64_t kStepGrain = 1 << 14;

// One parameter's arrays as plain pointers, gathered on the calling thread before the job. The
// threads that update it read these few lines instead of reaching each buffer through its
// tensor and storage: the caller has just written the parameter's tensor (its .grad) and made
// the gradient's, so on another core each step of that chase is a miss of its own, one after
// the other. The gradient sum, which does the same (autograd.cpp, BatchSlices::GradientSums),
// went from 0.025 to 0.020 s a LeNet-5 epoch on 2 threads; this step gained less (0.021 against
// 0.022 s, within the noise), its time being the stores to lines the other core has read.
struct Part {
  DType dtype = kFloat32;
  void* param = nullptr;
  const void* grad = nullptr;
  std::array<void*, 3> state{};  // the optimizer's buffers for it, in its order; null: none

  template <class T>
  T* values(int64_t begin) const {
    return static_cast<T*>(param) + begin;
  }
  template <class T>
  const T* gradient(int64_t begin) const {
    return static_cast<const T*>(grad) + begin;
  }
  template <class T>
  T* buffer(size_t k, int64_t begin) const {
    return state[k] ? static_cast<T*>(state[k]) + begin : nullptr;
  }
};

// For each parameter i whose gradient grad_of(i) is defined, in order on the calling thread:
// prepare(i) (state and per-parameter constants; it runs before any update), which returns the
// parameter's state buffers (up to 3, null for none), then update(i, part, begin, end) for its
// values [begin, end) in each range, on whichever thread takes the range. The gradients
// (contiguous, as Optimizer::grad_of gives them) and the lists are kept per thread, so a step
// allocates nothing, and the gradients' references are dropped however the step ends.
template <class GradOf, class Prepare, class Update>
void for_each_part(std::vector<Tensor>& params, const GradOf& grad_of, const Prepare& prepare,
                   const Update& update) {
  struct Scratch {
    std::vector<Tensor> grads;  // undefined: the parameter has no gradient and is skipped
    std::vector<Part> parts;
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
  const size_t count = params.size();
  scratch.grads.resize(count);
  scratch.parts.resize(count);
  for (size_t i = 0; i < count; ++i) {
    scratch.grads[i] = grad_of(i);
    if (!scratch.grads[i].defined()) continue;
    const std::array<Tensor*, 3> buffers = prepare(i);
    Part& part = scratch.parts[i];
    part.dtype = params[i].dtype();
    dispatch(part.dtype, [&]<class T>() {
      part.param = params[i].data<T>();
      part.grad = scratch.grads[i].template data<T>();
      for (size_t k = 0; k < buffers.size(); ++k)
        part.state[k] = buffers[k] ? buffers[k]->data<T>() : nullptr;
    });
    scratch.arrays.add(static_cast<int64_t>(i), scratch.grads[i].numel());
  }
  scratch.arrays.run(kStepGrain, [&](int64_t item, int64_t begin, int64_t end) {
    const auto i = static_cast<size_t>(item);
    update(i, scratch.parts[i], begin, end);
  });
}

}  // namespace nabla::optim::detail

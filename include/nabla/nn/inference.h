// Inference on a batch cut into row slices that run at the same time, one thread-pool task each,
// and the rules for when a model may run sliced (shared with train::Trainer's sliced step).
//
// Why: a small network's ops are too small to split each over the threads. LeNet-5 at batch 256
// ran 1.3-1.5x faster on 2 threads than on 1 with every op split, while two slices of the batch,
// one per thread, each running every op serially, come close to 2x (docs/performance.md). This
// is what autograd::BatchSlices does for a training step, without the gradients.
//
//   model.eval();
//   Tensor logits = nn::infer(model, images);  // model.forward(images), no graph, in slices
//
// Results do not depend on the thread count: the slices are fixed by the batch size and
// slice_rows alone, each is computed serially by whichever thread takes it, and every output row
// comes from its own slice. They equal one whole forward up to float rounding.
#pragma once

#include <cstdint>

#include "nabla/tensor.h"

namespace nabla::nn {

class Module;

// Rows per inference slice: 32 keeps a slice's activations in the core's L2 for LeNet-5 and
// gives 8 slices at batch 256, enough for the pool to balance 2 or 3 threads.
inline constexpr int64_t kInferSliceRows = 32;

// model.forward(input) without autograd (under NoGradGuard), with the batch (dim 0) cut into
// ceil(rows / slice_rows) slices run in parallel (apart) unless slicing(model) is whole or a
// slice is not worth a thread (slice_is_worth_a_thread); whole then, and whenever
// rows <= slice_rows. The model must be in evaluation mode (training mode is the Trainer's,
// whose sliced step records the graph and lets batch norm's and dropout's slices meet). Every slice
// must give an output of the same shape past dim 0 (rows first).
Tensor infer(Module& model, const Tensor& input, int64_t slice_rows = kInferSliceRows);

// How many slices infer(model, input, slice_rows) cuts `input` into: 1 when it runs whole.
int64_t inference_slices(Module& model, const Tensor& input, int64_t slice_rows = kInferSliceRows);

// How slices of a batch may run through `model` in its present mode:
//   whole:    not sliced: a module has a forward hook (it would see slices, concurrently), or in
//             training has buffers or a random generator and no Module::slices_together();
//   together: in training, with such modules, all of which have slices_together() (batch norm,
//             dropout): the slices run together and meet (autograd::BatchSlices);
//   apart:    otherwise, and in evaluation (where no layer changes state).
enum class Slicing { whole, apart, together };
Slicing slicing(Module& model);

// Whether a slice of `rows` samples of shape `sample` is worth a thread of its own: at least 64
// multiply-adds per trainable parameter (nn::summary), since a slice reads all the weights (and
// in training writes a gradient for each). A model the summary cannot describe runs whole.
bool slice_is_worth_a_thread(const Module& model, const Shape& sample, int64_t rows);

}  // namespace nabla::nn

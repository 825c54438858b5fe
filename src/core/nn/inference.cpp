// nn::infer and the slicing rules (nabla/nn/inference.h).
#include "nabla/nn/inference.h"

#include <algorithm>
#include <vector>

#include "nabla/autograd.h"
#include "nabla/error.h"
#include "nabla/nn/module.h"
#include "nabla/nn/sequential.h"
#include "nabla/nn/summary.h"
#include "parallel.h"

namespace nabla::nn {

Slicing slicing(Module& model) {
  if (const auto* seq = dynamic_cast<const Sequential*>(&model); seq && seq->num_forward_hooks())
    return Slicing::whole;
  Slicing result = Slicing::apart;
  if (model.is_training() && (!model.buffers(false).empty() || model.random_generator())) {
    if (!model.slices_together()) return Slicing::whole;
    result = Slicing::together;
  }
  for (const auto& child : model.named_children()) {
    const Slicing s = slicing(*child.second);
    if (s == Slicing::whole) return Slicing::whole;
    if (s == Slicing::together) result = Slicing::together;
  }
  return result;
}

bool slice_is_worth_a_thread(const Module& model, const Shape& sample, int64_t rows) {
  try {
    const ModelSummary s = summary(model, std::vector<int64_t>(sample.begin(), sample.end()));
    return s.multiply_adds * rows >= 64 * s.trainable_parameters;
  } catch (const Error&) {
    return false;
  }
}

int64_t inference_slices(Module& model, const Tensor& input, int64_t slice_rows) {
  NABLA_CHECK(slice_rows >= 1, "infer: slice_rows must be >= 1, got ", slice_rows);
  NABLA_CHECK(input.dim() >= 1, "infer: the input ", input.shape(),
              " needs a batch dimension first");
  const int64_t rows = input.size(0);
  if (rows <= slice_rows || slicing(model) == Slicing::whole) return 1;
  Shape sample;
  for (int d = 1; d < input.dim(); ++d) sample.push_back(input.size(d));
  if (!slice_is_worth_a_thread(model, sample, slice_rows)) return 1;
  return (rows + slice_rows - 1) / slice_rows;
}

Tensor infer(Module& model, const Tensor& input, int64_t slice_rows) {
  NABLA_CHECK(!model.is_training(), "infer: ", model.name(),
              " is in training mode; call eval() first (batch norm and dropout act differently)");
  NoGradGuard no_grad;
  const int64_t slices = inference_slices(model, input, slice_rows);
  if (slices == 1) return model.forward(input);

  const int64_t rows = input.size(0);
  std::vector<Tensor> outputs(static_cast<size_t>(slices));
  parallel::parallel_tasks(slices, [&](int64_t s) {
    const int64_t begin = rows * s / slices, end = rows * (s + 1) / slices;
    // NoGradGuard is per thread: a pool worker needs its own.
    NoGradGuard worker_no_grad;
    outputs[static_cast<size_t>(s)] = model.forward(input.slice(0, begin, end)).contiguous();
  });

  // The slices' rows, in order, into one tensor.
  const Tensor& first = outputs[0];
  NABLA_CHECK(first.dim() >= 1, "infer: ", model.name(), " returned the 0-d ", first.shape(),
              " for a slice; expected the rows first");
  Shape shape = first.shape();
  shape[0] = rows;
  Tensor out = Tensor::empty(shape, first.dtype());
  int64_t row = 0;
  for (int64_t s = 0; s < slices; ++s) {
    const Tensor& o = outputs[static_cast<size_t>(s)];
    const int64_t slice_rows_here = rows * (s + 1) / slices - rows * s / slices;
    NABLA_CHECK(o.size(0) == slice_rows_here, "infer: ", model.name(), " returned ", o.shape(),
                " for a slice of ", slice_rows_here, " rows; expected the rows first");
    NABLA_CHECK(o.dtype() == first.dtype() && o.dim() == first.dim() &&
                    std::equal(o.shape().begin() + 1, o.shape().end(), first.shape().begin() + 1),
                "infer: ", model.name(), " returned ", o.shape(), " for one slice but ",
                first.shape(), " for the first");
    dispatch_all(o.dtype(), [&]<class T>() {
      std::copy_n(o.data<T>(), o.numel(), out.data<T>() + row * (first.numel() / first.size(0)));
    });
    row += o.size(0);
  }
  return out;
}

}  // namespace nabla::nn

// Gradient checking: analytic gradients (backward) against central differences in float64.
//
// For a function f of some input tensors, gradcheck() projects the output on a fixed random
// tensor R (L = Σ f(x)·R, so non-scalar outputs are covered; entries of magnitude 0.5 to 1.5
// with random signs), runs backward(R) for the analytic gradient dL/dx, and perturbs each
// checked element by ±eps for the numeric one:
//   numeric = (L(x + eps) - L(x - eps)) / (2·eps)
//   relative error = |analytic - numeric| / max(|analytic|, |numeric|, tiny)
// and reports the worst element. This is CS231n's gradient check and PyTorch's gradcheck.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nabla/autograd.h"
#include "nabla/tensor.h"

namespace nabla {

struct GradcheckOptions {
  double eps = 1e-6;         // central-difference step
  double tolerance = 1e-6;   // pass when the max relative error is below this
  double tiny = 1e-3;        // floor of the denominator, so gradients near 0 compare absolutely
  int64_t max_elements = 0;  // check at most this many random elements per input (0 = all)
  uint64_t seed = 0;         // for the projection R and the element sample
};

struct GradcheckResult {
  bool passed = true;
  double max_rel_error = 0;
  // The worst element: which input, its flat index and multi-index, and both gradients.
  int input = -1;
  int64_t flat_index = -1;
  std::vector<int64_t> index;
  double analytic = 0, numeric = 0;
  int64_t checked = 0;  // elements compared
  std::string str() const;
};

using TensorFn = std::function<Tensor(const std::vector<Tensor>&)>;

// Checks f at `inputs`. Each input is copied to a contiguous float64 tensor marked
// requires_grad, so the originals are never touched; f receives the copies. Every input is
// checked: a tensor f needs but that has no gradient (labels, a mask) is captured by f instead
// of passed here. f must be deterministic; it may return any shape and dtype.
//   ensures: checked = the number of compared elements; when checked > 0, input, flat_index,
//            index, analytic and numeric describe the element with the largest relative error;
//            passed == (max_rel_error < options.tolerance); a NaN error counts as infinite.
GradcheckResult gradcheck(const TensorFn& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options = {});

// The numeric gradient alone, CS231n's eval_numerical_gradient: for each input, the central
// difference of Σ f(x) with respect to each element (float64 copies of the inputs are
// perturbed; the caller's tensors are untouched). One float64 tensor per input.
std::vector<Tensor> numeric_gradient(const TensorFn& f, const std::vector<Tensor>& inputs,
                                     double eps = 1e-6);

// |a − n| / max(|a|, |n|, tiny): the per-element error gradcheck reports.
double relative_error(double analytic, double numeric, double tiny);
// The largest relative_error over the elements of two tensors of the same shape.
double max_relative_error(const Tensor& analytic, const Tensor& numeric, double tiny = 1e-12);

// One registered check of one op: builds float64 inputs of awkward shapes (batch 1 and 3,
// non-square, away from kinks such as relu at 0 and max ties) and applies the op.
struct GradcheckCase {
  Op op;
  std::string shapes;  // e.g. "[3, 5] · [5, 2]", printed in the table
  std::function<std::vector<Tensor>(Generator&)> make_inputs;
  TensorFn fn;
  GradcheckOptions options = {};
  std::string family =
      {};  // the op family whose file registered it ("activation"); set by the registry
};

// Every registered case, built once (tests/ops/<family>_gradcheck.cpp, one file per op family);
// `nabla gradcheck` runs them all, and tests/gradcheck_test.cpp checks that each Op in
// NABLA_OP_LIST has at least one and that each case's graph really contains its op.
const std::vector<GradcheckCase>& gradcheck_cases();

}  // namespace nabla

// gradcheck(): analytic gradients from backward() against central differences in float64.
// The registry of per-op cases: src/core/gradcheck/registry.cpp calls each op family's cases,
// which sit beside its tests in tests/ops/<family>_gradcheck.cpp.
#include "nabla/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <numeric>
#include <sstream>

namespace nabla {

namespace {

// A float64, contiguous, requires-grad copy of x: perturbing it cannot touch the caller's data,
// and a flat index is an offset into its buffer.
Tensor float64_leaf(const Tensor& x) {
  Tensor c = Tensor::empty(x.shape(), kFloat64);
  c.copy_(x.detach());
  c.requires_grad_(true);
  return c;
}

std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> index(shape.size());
  for (int d = shape.size() - 1; d >= 0; --d) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return index;
}

// The flat indices to check in an input of n elements: all of them, or `limit` distinct ones
// drawn without replacement (partial Fisher-Yates), in increasing order.
std::vector<int64_t> elements_to_check(int64_t n, int64_t limit, Generator& gen) {
  std::vector<int64_t> all(n);
  std::iota(all.begin(), all.end(), int64_t{0});
  if (limit <= 0 || limit >= n) return all;
  for (int64_t i = 0; i < limit; ++i)
    std::swap(all[i], all[i + static_cast<int64_t>(gen.below(n - i))]);
  all.resize(limit);
  std::sort(all.begin(), all.end());
  return all;
}

// f(inputs) as float64 values, without recording a graph.
std::vector<double> evaluate(const TensorFn& f, const std::vector<Tensor>& inputs) {
  NoGradGuard no_grad;
  return f(inputs).to_vector();
}

// d(Σ_k f(x)_k · weights_k) / d x[input][flat] by central differences; empty weights mean all 1.
// Perturbs the float64 buffer in place and restores it.
double central_difference(const TensorFn& f, std::vector<Tensor>& x, size_t input, int64_t flat,
                          double eps, const std::vector<double>& weights) {
  double* data = x[input].data<double>();
  const double saved = data[flat];
  data[flat] = saved + eps;
  const std::vector<double> plus = evaluate(f, x);
  data[flat] = saved - eps;
  const std::vector<double> minus = evaluate(f, x);
  data[flat] = saved;
  // Differences per output element before weighting: L(x+eps) - L(x-eps) as one subtraction
  // of two large sums would lose the digits that matter.
  double dl = 0;
  for (size_t k = 0; k < plus.size(); ++k)
    dl += (plus[k] - minus[k]) * (weights.empty() ? 1.0 : weights[k]);
  return dl / (2 * eps);
}

}  // namespace

GradcheckResult gradcheck(const TensorFn& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& options) {
  NABLA_CHECK(options.eps > 0, "gradcheck: eps must be positive, got ", options.eps);
  Generator gen(options.seed);
  std::vector<Tensor> x;
  for (const Tensor& in : inputs) x.push_back(float64_leaf(in));

  // Analytic: backward of L = Σ f(x)·R is backward(R). R's entries have magnitude in [0.5, 1.5]
  // and a random sign, so no output element is weighted (nearly) away.
  Tensor out = f(x);
  Tensor r = Tensor::empty(out.shape(), kFloat64);
  {
    double* p = r.data<double>();
    for (int64_t i = 0; i < r.numel(); ++i)
      p[i] = gen.uniform(0.5, 1.5) * (gen.next_u64() & 1 ? 1.0 : -1.0);
  }
  const std::vector<double> weights = r.to_vector();
  // A function that ignores its inputs has no graph: every analytic gradient is then 0.
  if (out.requires_grad()) out.backward(r);

  GradcheckResult result;
  for (size_t i = 0; i < x.size(); ++i) {
    Tensor grad = x[i].grad();
    const std::vector<double> analytic =
        grad.defined() ? grad.to_vector() : std::vector<double>(x[i].numel(), 0.0);
    for (int64_t flat : elements_to_check(x[i].numel(), options.max_elements, gen)) {
      const double numeric = central_difference(f, x, i, flat, options.eps, weights);
      const double a = analytic[flat];
      const double error = relative_error(a, numeric, options.tiny);
      ++result.checked;
      if (result.input < 0 || error > result.max_rel_error) {
        result.max_rel_error = error;
        result.input = static_cast<int>(i);
        result.flat_index = flat;
        result.index = unravel(flat, x[i].shape());
        result.analytic = a;
        result.numeric = numeric;
      }
    }
  }
  result.passed = result.max_rel_error < options.tolerance;
  return result;
}

std::vector<Tensor> numeric_gradient(const TensorFn& f, const std::vector<Tensor>& inputs,
                                     double eps) {
  NABLA_CHECK(eps > 0, "numeric_gradient: eps must be positive, got ", eps);
  std::vector<Tensor> x;
  for (const Tensor& in : inputs) x.push_back(float64_leaf(in).detach());
  std::vector<Tensor> grads;
  for (size_t i = 0; i < x.size(); ++i) {
    Tensor g = Tensor::empty(x[i].shape(), kFloat64);
    double* gp = g.data<double>();
    for (int64_t flat = 0; flat < x[i].numel(); ++flat)
      gp[flat] = central_difference(f, x, i, flat, eps, {});
    grads.push_back(g);
  }
  return grads;
}

double relative_error(double analytic, double numeric, double tiny) {
  const double error =
      std::abs(analytic - numeric) / std::max({std::abs(analytic), std::abs(numeric), tiny});
  return std::isnan(error) ? std::numeric_limits<double>::infinity() : error;
}

double max_relative_error(const Tensor& analytic, const Tensor& numeric, double tiny) {
  NABLA_CHECK(analytic.shape() == numeric.shape(), "max_relative_error: shapes ", analytic.shape(),
              " and ", numeric.shape(), " differ");
  const std::vector<double> a = analytic.to_vector(), n = numeric.to_vector();
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, relative_error(a[i], n[i], tiny));
  return worst;
}

std::string GradcheckResult::str() const {
  std::ostringstream os;
  os << (passed ? "passed" : "FAILED") << ": max relative error " << std::scientific
     << std::setprecision(2) << max_rel_error << " over " << checked << " elements";
  if (input >= 0) {
    os << "; worst: input " << input << " index [";
    for (size_t d = 0; d < index.size(); ++d) os << (d ? ", " : "") << index[d];
    os << "] (flat " << flat_index << "), analytic " << std::setprecision(6) << analytic
       << ", numeric " << numeric;
  }
  return os.str();
}

}  // namespace nabla

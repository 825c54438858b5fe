// The matrix demo: one gradient three ways. For f(W, x) = ‖W·x‖² the chain rule gives
// dW = 2(Wx)xᵀ and dx = 2Wᵀ(Wx) (CS231n lecture 4, "vectorized" backprop); autograd should
// agree with the formulas, and both with central differences.
#include <algorithm>
#include <cmath>
#include <functional>
#include <iomanip>
#include <ostream>

#include "app/demos.h"
#include "nabla/ops.h"

namespace nabla::demos {

namespace {

Tensor f(const Tensor& w, const Tensor& x) {
  return sum(pow(matmul(w, x), 2));
}

}  // namespace

MatrixDemoResult matrix_demo(const DemoOptions& options, std::ostream& out) {
  Generator gen(options.seed);
  MatrixDemoResult r;
  r.w = Tensor::randn({3, 4}, gen, kFloat64);
  r.x = Tensor::randn({4, 1}, gen, kFloat64);

  out << "f(W, x) = ‖W·x‖² with W (3, 4) and x (4, 1) drawn from N(0, 1), seed " << options.seed
      << "\n\nW = " << r.w << "\nx = " << r.x << "\n";
  {
    NoGradGuard no_grad;
    Tensor wx = matmul(r.w, r.x);
    r.formula_dw = matmul(wx, r.x.t()) * 2.0;
    r.formula_dx = matmul(r.w.t(), wx) * 2.0;
  }

  Tensor w = r.w.clone().requires_grad_(), x = r.x.clone().requires_grad_();
  Tensor value = f(w, x);
  value.backward();
  r.autograd_dw = w.grad();
  r.autograd_dx = x.grad();

  // CS231n's eval_numerical_gradient: central differences, one element at a time.
  std::vector<Tensor> numeric =
      numeric_gradient([](const std::vector<Tensor>& v) { return f(v[0], v[1]); }, {r.w, r.x});
  r.numeric_dw = numeric[0];
  r.numeric_dx = numeric[1];

  r.max_rel_error_formula_vs_autograd = std::max(max_relative_error(r.formula_dw, r.autograd_dw),
                                                 max_relative_error(r.formula_dx, r.autograd_dx));
  r.max_rel_error_formula_vs_numeric = std::max(max_relative_error(r.formula_dw, r.numeric_dw),
                                                max_relative_error(r.formula_dx, r.numeric_dx));
  r.gradcheck = gradcheck([](const std::vector<Tensor>& in) { return f(in[0], in[1]); }, {r.w, r.x},
                          GradcheckOptions{.seed = options.seed});

  out << "f = " << value.item() << "\n\n"
      << "dW by the formula 2(Wx)xᵀ:\n"
      << r.formula_dw << "\n"
      << "dW by autograd:\n"
      << r.autograd_dw << "\n"
      << "dW by central differences:\n"
      << r.numeric_dw << "\n\n"
      << "dx by the formula 2Wᵀ(Wx):\n"
      << r.formula_dx << "\n"
      << "dx by autograd:\n"
      << r.autograd_dx << "\n"
      << "dx by central differences:\n"
      << r.numeric_dx << "\n\n"
      << std::scientific << std::setprecision(2)
      << "max relative error, formula vs autograd:           "
      << r.max_rel_error_formula_vs_autograd << "\n"
      << "max relative error, formula vs central differences: "
      << r.max_rel_error_formula_vs_numeric << "\n"
      << std::defaultfloat << "nabla::gradcheck: " << r.gradcheck.str() << "\n"
      << "(gradcheck differentiates a random weighting r*f of the output, r drawn from --seed, "
         "as torch.autograd.gradcheck does, so its analytic and numeric values are r times an "
         "entry above; what counts is that the two agree)\n";
  return r;
}

}  // namespace nabla::demos

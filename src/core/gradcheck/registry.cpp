// gradcheck_cases(): every family's cases, in NABLA_OP_LIST's family order, built once.
#include "gradcheck/cases.h"

namespace nabla {

const std::vector<GradcheckCase>& gradcheck_cases() {
  static const std::vector<GradcheckCase> cases = [] {
    std::vector<GradcheckCase> all;
    add_arithmetic_cases(all);
    add_matmul_cases(all);
    add_reduce_cases(all);
    add_shape_cases(all);
    add_activation_cases(all);
    add_loss_cases(all);
    add_conv_cases(all);
    return all;
  }();
  return cases;
}

}  // namespace nabla

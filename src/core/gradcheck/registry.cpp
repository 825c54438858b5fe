// gradcheck_cases(): every family's cases, in NABLA_OP_LIST's family order, built once. The
// families' functions are defined beside their ops' tests (tests/ops/<family>_gradcheck.cpp) and
// called here by name: explicit registration, which a static library cannot drop as it drops
// objects that only hold static initialisers.
#include "gradcheck/cases.h"

namespace nabla {

namespace {
struct CaseFamily {
  const char* name;
  void (*add)(std::vector<GradcheckCase>& cases);
};
constexpr CaseFamily kFamilies[] = {
    {"arithmetic", add_arithmetic_cases},
    {"matmul", add_matmul_cases},
    {"reduce", add_reduce_cases},
    {"shape", add_shape_cases},
    {"activation", add_activation_cases},
    {"loss", add_loss_cases},
    {"conv", add_conv_cases},
};
}  // namespace

const std::vector<GradcheckCase>& gradcheck_cases() {
  static const std::vector<GradcheckCase> cases = [] {
    std::vector<GradcheckCase> all;
    for (const CaseFamily& family : kFamilies) {
      const size_t first = all.size();
      family.add(all);
      for (size_t i = first; i < all.size(); ++i) all[i].family = family.name;
    }
    return all;
  }();
  return cases;
}

}  // namespace nabla

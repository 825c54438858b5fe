// The op tests' gradient check: every case an op family registers
// (tests/ops/<family>_gradcheck.cpp, what `nabla gradcheck` runs), beside the family's forward
// tests.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "nabla/gradcheck.h"

namespace nabla::testing {

// Each case registered by `family` passes and checks at least one entry; a family with no case
// fails. (Gradcheck.EveryOpHasACase holds every op to a case, so no test lists a family's ops.)
inline void expect_family_gradchecks_pass(const std::string& family) {
  int count = 0;
  for (const GradcheckCase& c : gradcheck_cases()) {
    if (c.family != family) continue;
    ++count;
    Generator gen(c.options.seed + 1);
    GradcheckResult r = gradcheck(c.fn, c.make_inputs(gen), c.options);
    EXPECT_TRUE(r.passed) << op_name(c.op) << " " << c.shapes << ": " << r.str();
    EXPECT_GT(r.checked, 0) << op_name(c.op) << " " << c.shapes;
  }
  EXPECT_GE(count, 1) << "no gradcheck case registered by family " << family;
}

}  // namespace nabla::testing

// The op tests' gradient check: every case registered for an op in src/gradcheck/ (what
// `nabla gradcheck` runs), beside the op's forward tests.
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include "nabla/gradcheck.h"

namespace nabla::testing {

// Each registered case of each op in `ops` passes and checks at least one entry; an op with no
// case fails.
inline void expect_registered_gradchecks_pass(const std::vector<Op>& ops) {
  for (Op op : ops) {
    int count = 0;
    for (const GradcheckCase& c : gradcheck_cases()) {
      if (c.op != op) continue;
      ++count;
      Generator gen(c.options.seed + 1);
      GradcheckResult r = gradcheck(c.fn, c.make_inputs(gen), c.options);
      EXPECT_TRUE(r.passed) << op_name(op) << " " << c.shapes << ": " << r.str();
      EXPECT_GT(r.checked, 0) << op_name(op) << " " << c.shapes;
    }
    EXPECT_GE(count, 1) << "no gradcheck case for " << op_name(op);
  }
}

}  // namespace nabla::testing

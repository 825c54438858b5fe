// Not API: what the backward engine (src/core/autograd.cpp) keeps in each tensor during a pass.
// It lives in TensorImpl so that a pass needs no hash maps from tensors to their state; users
// never read or write it.
#pragma once

#include <cstdint>
#include <memory>

namespace nabla {
struct TensorImpl;
}

namespace nabla::detail {

struct BackwardScratch {
  uint64_t visit_mark = 0;                   // the pass that last visited this tensor
  std::shared_ptr<TensorImpl> pending_grad;  // the gradient summed for it so far in that pass
};

}  // namespace nabla::detail

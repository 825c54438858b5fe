// Gradcheck cases for the CNN ops: conv2d conv2d_relu max_pool2d max_pool2d_relu avg_pool2d
// batch_norm batch_norm_relu dropout.
//
// conv2d runs awkward configurations on both kernels (im2col + GEMM and naive): batch 1 and 3,
// non-square images, unequal stride and padding per dim, dilation 2, C_in != C_out, groups 2,
// bias on and off, and a floor_mode case whose last row and column are dropped. Convolution is
// linear in each input, so it has no kinks. max_pool2d avoids ties by construction: all values are
// distinct and 0.1 apart, so no ±eps perturbation changes which element of a window wins.
// max_pool2d_relu uses them too, an even count of them: none is 0 (the nearest are ±0.05), so no
// window's maximum lies within a step of ReLU's kink.
// batch_norm runs in training (batch statistics, the fused backward) and evaluation (running
// statistics), for (N, C) and (N, C, H, W), with and without the affine transform. Running
// statistics are buffers, not inputs: each call of fn builds its own, so fn stays deterministic.
// Synchronised batch norm is checked against a simulated second rank: the reduction adds a fixed
// batch's statistics, so fn is this rank's output as a function of its own inputs (the other
// rank's loss is not part of it, so its gradient sums are 0).
// dropout seeds a fresh Generator inside fn, so every call draws the same mask.
#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "gradcheck/cases.h"
#include "gradcheck/simulated_rank.h"
#include "nabla/detail/conv_params.h"
#include "nabla/ops.h"

namespace nabla {

namespace {

using Inputs = std::vector<Tensor>;
// The ops in the per-dimension form their kernels read (not API).
using detail::avg_pool2d;
using detail::conv2d;
using detail::conv2d_relu;
using detail::Conv2dParams;
using detail::max_pool2d;
using detail::max_pool2d_relu;
using detail::Pool2dParams;

struct ConvCase {
  const char* shapes;
  Shape input, weight;
  bool bias;
  Conv2dParams params;
};

}  // namespace

void add_conv_cases(std::vector<GradcheckCase>& cases) {
  using namespace case_inputs;

  const ConvCase conv_cases[] = {
      {"[1, 1, 5, 5] ⋆ [2, 1, 3, 3] + bias", {1, 1, 5, 5}, {2, 1, 3, 3}, true, {}},
      {"[3, 2, 5, 7] ⋆ [4, 2, 3, 2], stride 2×1, pad 1×0, no bias",
       {3, 2, 5, 7},
       {4, 2, 3, 2},
       false,
       {.stride_h = 2, .stride_w = 1, .pad_h = 1, .pad_w = 0}},
      {"[2, 3, 7, 6] ⋆ [2, 3, 3, 3], dilation 2, pad 2×1",
       {2, 3, 7, 6},
       {2, 3, 3, 3},
       true,
       {.pad_h = 2, .pad_w = 1, .dilation_h = 2, .dilation_w = 2}},
      {"[3, 4, 5, 4] ⋆ [6, 2, 2, 3], groups 2, stride 1×1, pad 0×1",
       {3, 4, 5, 4},
       {6, 2, 2, 3},
       true,
       {.pad_w = 1, .groups = 2}},
      {"[1, 3, 6, 6] ⋆ [2, 3, 3, 2], stride 3×2, pad 0×1",
       {1, 3, 6, 6},
       {2, 3, 3, 2},
       true,
       {.stride_h = 3, .stride_w = 2, .pad_w = 1}},
      {"[2, 2, 6, 6] ⋆ [3, 2, 3, 3], stride 2, floor_mode (last row and column dropped)",
       {2, 2, 6, 6},
       {3, 2, 3, 3},
       true,
       Conv2dParams().stride(2).floor()},
  };
  for (const ConvCase& c : conv_cases)
    for (bool naive : {false, true}) {
      Conv2dParams p = c.params;
      p.naive(naive);
      const Shape in = c.input, w = c.weight;
      const int64_t oc = c.weight[0];
      const bool bias = c.bias;
      cases.push_back(
          {Op::conv2d, std::string(c.shapes) + (naive ? ", naive" : ", im2col"),
           [in, w, oc, bias](Generator& g) {
             Inputs x{normal(in, g), normal(w, g)};
             if (bias) x.push_back(normal({oc}, g));
             return x;
           },
           [p](const Inputs& x) { return conv2d(x[0], x[1], x.size() > 2 ? x[2] : Tensor(), p); }});
    }

  // conv2d_relu: the ReLU's kink at 0 is not hit, because no output of these normal draws lies
  // within the finite-difference step of 0 (the check would fail loudly if one did).
  for (bool naive : {false, true})
    cases.push_back(
        {Op::conv2d_relu,
         std::string("[2, 3, 6, 5] ⋆ [4, 3, 3, 3] + bias, stride 1×2, pad 1, ReLU") +
             (naive ? ", naive" : ", im2col"),
         [](Generator& g) {
           return Inputs{normal({2, 3, 6, 5}, g), normal({4, 3, 3, 3}, g), normal({4}, g)};
         },
         [naive](const Inputs& x) {
           Conv2dParams p{.stride_h = 1, .stride_w = 2, .pad_h = 1, .pad_w = 1};
           return conv2d_relu(x[0], x[1], x[2], p.naive(naive));
         }});

  cases.push_back({Op::max_pool2d, "[3, 2, 4, 6], kernel 2, distinct values",
                   [](Generator& g) {
                     return Inputs{distinct({3, 2, 4, 6}, 0.1, g)};
                   },
                   [](const Inputs& x) { return max_pool2d(x[0], Pool2dParams().kernel(2)); }});
  cases.push_back(
      {Op::max_pool2d, "[1, 2, 5, 7], kernel 3×2, stride 2×1, pad 1×1",
       [](Generator& g) {
         return Inputs{distinct({1, 2, 5, 7}, 0.1, g)};
       },
       [](const Inputs& x) {
         return max_pool2d(
             x[0],
             {.kernel_h = 3, .kernel_w = 2, .stride_h = 2, .stride_w = 1, .pad_h = 1, .pad_w = 1});
       }});
  cases.push_back(
      {Op::max_pool2d, "[2, 1, 5, 5], kernel 3, stride 1 (overlapping windows)",
       [](Generator& g) {
         return Inputs{distinct({2, 1, 5, 5}, 0.1, g)};
       },
       [](const Inputs& x) { return max_pool2d(x[0], Pool2dParams().kernel(3).stride(1)); }});
  cases.push_back(
      {Op::max_pool2d_relu, "[3, 2, 4, 6], kernel 2, distinct values around 0",
       [](Generator& g) {
         return Inputs{distinct({3, 2, 4, 6}, 0.1, g)};
       },
       [](const Inputs& x) { return max_pool2d_relu(x[0], Pool2dParams().kernel(2)); }});
  cases.push_back(
      {Op::max_pool2d_relu, "[1, 2, 5, 6], kernel 3×2, stride 2×1, pad 1×1",
       [](Generator& g) {
         return Inputs{distinct({1, 2, 5, 6}, 0.1, g)};
       },
       [](const Inputs& x) {
         return max_pool2d_relu(
             x[0],
             {.kernel_h = 3, .kernel_w = 2, .stride_h = 2, .stride_w = 1, .pad_h = 1, .pad_w = 1});
       }});
  cases.push_back({Op::avg_pool2d, "[3, 2, 4, 6], kernel 2",
                   [](Generator& g) {
                     return Inputs{normal({3, 2, 4, 6}, g)};
                   },
                   [](const Inputs& x) { return avg_pool2d(x[0], Pool2dParams().kernel(2)); }});
  cases.push_back(
      {Op::avg_pool2d, "[1, 3, 5, 6], kernel 3×2, stride 2×2, pad 1×1",
       [](Generator& g) {
         return Inputs{normal({1, 3, 5, 6}, g)};
       },
       [](const Inputs& x) {
         return avg_pool2d(
             x[0],
             {.kernel_h = 3, .kernel_w = 2, .stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1});
       }});

  // Running statistics: fresh buffers per call, with values far from the batch's own, so that
  // evaluation mode really normalises by something else.
  auto running = [](int64_t C) {
    Inputs r{Tensor::empty({C}, kFloat64), Tensor::empty({C}, kFloat64)};
    for (int64_t c = 0; c < C; ++c) {
      r[0].data<double>()[c] = 0.3 * static_cast<double>(c) - 0.2;
      r[1].data<double>()[c] = 0.5 + 0.25 * static_cast<double>(c);
    }
    return r;
  };
  for (bool training : {true, false}) {
    const char* mode = training ? "training" : "eval";
    cases.push_back({Op::batch_norm, std::string("[4, 3] affine, ") + mode,
                     [](Generator& g) {
                       return Inputs{normal({4, 3}, g), uniform({3}, 0.5, 1.5, g), normal({3}, g)};
                     },
                     [training, running](const Inputs& x) {
                       Inputs r = running(3);
                       return batch_norm(x[0], r[0], r[1], x[1], x[2], training);
                     }});
    cases.push_back(
        {Op::batch_norm, std::string("[3, 2, 3, 4] affine, ") + mode,
         [](Generator& g) {
           return Inputs{normal({3, 2, 3, 4}, g), uniform({2}, 0.5, 1.5, g), normal({2}, g)};
         },
         [training, running](const Inputs& x) {
           Inputs r = running(2);
           return batch_norm(x[0], r[0], r[1], x[1], x[2], training, 0.1, 1e-3);
         }});
    cases.push_back({Op::batch_norm, std::string("[2, 3, 2, 1] no affine, ") + mode,
                     [](Generator& g) {
                       return Inputs{normal({2, 3, 2, 1}, g)};
                     },
                     [training, running](const Inputs& x) {
                       Inputs r = running(3);
                       return batch_norm(x[0], r[0], r[1], {}, {}, training);
                     }});
  }
  cases.push_back({Op::batch_norm, "[4, 3] affine, synchronised with a simulated second rank",
                   [](Generator& g) {
                     return Inputs{normal({4, 3}, g), uniform({3}, 0.5, 1.5, g), normal({3}, g)};
                   },
                   [running](const Inputs& x) {
                     Inputs r = running(3);
                     return batch_norm(x[0], r[0], r[1], x[1], x[2], /*training=*/true, 0.1, 1e-5,
                                       simulated_second_rank(Tensor::from_vector(
                                           {0.5, -1.0, 2.0, 1.5, 0.25, -0.75, -0.5, 1.0, 0.0},
                                           {3, 3}, kFloat64)));
                   }});
  cases.push_back(
      {Op::batch_norm, "[1, 2, 2, 3] no running statistics (batch statistics)",
       [](Generator& g) {
         return Inputs{normal({1, 2, 2, 3}, g), uniform({2}, 0.5, 1.5, g), normal({2}, g)};
       },
       [](const Inputs& x) { return batch_norm(x[0], {}, {}, x[1], x[2], /*training=*/false); }});

  // batch_norm_relu: relu(batch_norm(...)) in one op, in training and evaluation. Inputs are
  // drawn until no output before the ReLU lies within 0.05 of its kink at 0.
  for (bool training : {true, false}) {
    auto pre = [training, running](const Inputs& x) {
      Inputs r = running(x[0].size(1));
      return batch_norm(x[0], r[0], r[1], x[1], x[2], training);
    };
    // Rows of 16 (the last shape) take the backward that recomputes the mask from x.
    for (const Shape& shape : {Shape{5, 3}, Shape{2, 2, 3, 2}, Shape{2, 2, 4, 4}}) {
      std::ostringstream name;  // the shape as Shape prints it, e.g. [2, 2, 4, 4]
      name << shape << " affine, |pre-activation| >= 0.05, " << (training ? "training" : "eval");
      cases.push_back(
          {Op::batch_norm_relu, name.str(),
           [shape, pre](Generator& g) {
             for (;;) {
               Inputs in{normal(shape, g), uniform({shape[1]}, 0.5, 1.5, g), normal({shape[1]}, g)};
               const std::vector<double> y = pre(in).to_vector();
               if (std::none_of(y.begin(), y.end(), [](double v) { return std::abs(v) < 0.05; }))
                 return in;
             }
           },
           [training, running](const Inputs& x) {
             Inputs r = running(x[0].size(1));
             return detail::batch_norm_relu(x[0], r[0], r[1], x[1], x[2], training);
           }});
    }
  }

  cases.push_back({Op::dropout, "[3, 5], p 0.4, fixed seed",
                   [](Generator& g) {
                     return Inputs{normal({3, 5}, g)};
                   },
                   [](const Inputs& x) {
                     Generator mask_gen(42);
                     return dropout(x[0], 0.4, /*training=*/true, mask_gen);
                   }});
  cases.push_back({Op::dropout, "[2, 3, 2, 2], p 0.5, fixed seed",
                   [](Generator& g) {
                     return Inputs{normal({2, 3, 2, 2}, g)};
                   },
                   [](const Inputs& x) {
                     Generator mask_gen(7);
                     return dropout(x[0], 0.5, /*training=*/true, mask_gen);
                   }});
}

}  // namespace nabla

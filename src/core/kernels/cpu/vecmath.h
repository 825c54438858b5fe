// Vectorised exp, expm1, log, log1p, tanh and sigmoid over arrays, for float and double, within
// 2 ulp of the C library's functions over their whole domain (tests/kernels/vecmath_test.cpp
// sweeps every float exponent); the same special values (NaN, ±inf, ±0, denormals). Written once
// over the vector width (vecmath_kernel.h) and compiled for the baseline, AVX2 + FMA and
// AVX-512; each call runs the copy for active_isa() (isa.h). Results depend on the instruction
// set (FMA or not) but never on how an array is split: element i's value depends on x[i] alone.
// Beside them, the other loops that gain from the same per-width copies: softmax's row
// reductions, batch norm's sums and row maps, the 2×2 max pool and the SGD and Adam updates.
#pragma once

#include <cstdint>
#include <vector>

namespace nabla::cpu::vec {

// y[i] = f(x[i]) for i < n; y may equal x.
template <class T>
void exp(T* y, const T* x, int64_t n);
template <class T>
void expm1(T* y, const T* x, int64_t n);  // e^x - 1, exact near 0
template <class T>
void log(T* y, const T* x, int64_t n);
template <class T>
void log1p(T* y, const T* x, int64_t n);  // log(1 + x), exact near 0
template <class T>
void tanh(T* y, const T* x, int64_t n);
template <class T>
void sigmoid(T* y, const T* x, int64_t n);  // 1 / (1 + e^-x), no overflow for any x

// y[i] = e^(x[i] - shift) (y may be null: only the sum), returning Σ y[i], summed in an order
// fixed by n and the instruction set. softmax's inner loop.
template <class T>
T exp_sum(T* y, const T* x, T shift, int64_t n);
// The largest of x[0..n), n >= 1 (if x holds a NaN, the result may or may not be NaN).
template <class T>
T max(const T* x, int64_t n);
// Batch norm's sums over `rows` rows of n values (row r of x at x + r·stride, of dy likewise),
// in double: out[0] = Σ u and out[1] = Σ u·(x − m), where u = dy, or u = x − m if dy is null
// (the moments about m). Summed in an order fixed by the shape and the instruction set.
template <class T>
void centered_sums(double* out, const T* dy, const T* x, double m, int64_t rows, int64_t n,
                   int64_t stride);
// Batch norm's row maps: y = x·a + b (with relu, max(0, that) as relu computes it), and
// y = a·dy + b·(x − m) + d. y may equal x.
template <class T>
void scale_shift(T* y, const T* x, int64_t n, T a, T b, bool relu);
template <class T>
void centered_combination(T* y, const T* dy, const T* x, int64_t n, T a, T b, T m, T d);
// centered_sums (with dy) and centered_combination with dy through the ReLU of the forward's
// scale_shift(x, ga, gb, relu): u = dy where x·ga + gb > 0, computed as scale_shift computes it,
// else 0. The same bits as relu_mask(dy, that forward's output) into the plain ones: batch
// norm + ReLU's backward, which recomputes the mask from x instead of saving the output.
template <class T>
void centered_sums_relu(double* out, const T* dy, const T* x, double m, int64_t rows, int64_t n,
                        int64_t stride, T ga, T gb);
template <class T>
void centered_combination_relu(T* y, const T* dy, const T* x, int64_t n, T a, T b, T m, T d, T ga,
                               T gb);
// One Adam or AdamW step over n values, torch.optim.Adam's rule without amsgrad (optim/adam.cpp):
// p ← p·shrink (decoupled only), u = g + l2·p, m ← β1·m + (1 − β1)·u, v ← β2·v + (1 − β2)·u²,
// p ← p − step_size·m / (√v / bias_correction2_sqrt + eps). An element's result depends on its
// own values alone, wherever it sits in the array (so any split over threads gives the same bits).
template <class T>
struct AdamStep {
  T beta1, one_minus_beta1, beta2, one_minus_beta2, step_size, bias_correction2_sqrt, eps, l2,
      shrink;
  bool decoupled;
};
template <class T>
void adam(T* p, const T* g, T* m, T* v, int64_t n, const AdamStep<T>& s);
// Inverted dropout from n of the generator's 64-bit draws: mask[i] = 0 where the draw's top 53
// bits are below `threshold` (uniform() < p), else `scale`, and out[i] = in[i]·mask[i]. The
// arrays must not overlap. The same bits in every copy (a compare, a select and a product).
template <class T>
void dropout(T* mask, T* out, const T* in, const uint64_t* draws, int64_t n, uint64_t threshold,
             T scale);
// One SGD step over n values, torch.optim.SGD's rule (optim/sgd.cpp): d = g + weight_decay·p
// (decay only); with momentum, b = d on the buffer's first step, else momentum·b + damp·d, stored
// in buf, and d = d + momentum·b (nesterov) or b; then p ← p − lr·d. buf is only read and
// written with momentum. As for Adam, an element's result depends on its own values alone.
template <class T>
struct SgdStep {
  T lr, momentum, damp, weight_decay;
  bool with_momentum, first, nesterov, decay;
};
template <class T>
void sgd(T* p, const T* g, T* buf, int64_t n, const SgdStep<T>& s);
// Max pooling's 2×2 stride-2 windows without padding over `planes` planes of H×W (out and argmax:
// OH×OW each, OH = H / 2 and OW = W / 2 rounded down): the same results as the general kernel,
// cpu::max_pool2d_forward in pool.h (the first maximum in row-major order, a NaN wins; with
// relu, the maximum clamped at 0 and index -1 where it is 0).
template <class T>
void max_pool_2x2(T* out, int32_t* argmax, const T* inp, int64_t planes, int64_t H, int64_t W,
                  int64_t OH, int64_t OW, bool relu);
// Its backward: writes all of dinp, dout (as 0 + dout) at each window's argmax and 0 elsewhere.
template <class T>
void max_pool_2x2_backward(T* dinp, const T* dout, const int32_t* argmax, int64_t planes, int64_t H,
                           int64_t W, int64_t OH, int64_t OW);

// One compiled copy by name, for tests and benchmarks (the functions above pick by
// active_isa()). avx512_logic_on_avx2 is the AVX-512 vector width compiled for AVX2, so that a
// machine without AVX-512 tests the 16-lane code.
enum class Variant { generic, avx2, avx512, avx512_logic_on_avx2 };
const char* variant_name(Variant v);
bool variant_supported(Variant v);
// Every variant this CPU can run, in declaration order.
std::vector<Variant> supported_variants();
// Makes the functions above use `v` until destroyed (throws if the CPU lacks it). Process-wide,
// like ScopedIsa: for tests and benchmarks.
class ScopedVariant {
 public:
  explicit ScopedVariant(Variant v);
  ~ScopedVariant();
  ScopedVariant(const ScopedVariant&) = delete;
  ScopedVariant& operator=(const ScopedVariant&) = delete;

 private:
  int previous_;
};

}  // namespace nabla::cpu::vec

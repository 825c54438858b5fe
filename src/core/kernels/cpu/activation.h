// Activation kernels: element-wise nonlinearities, softmax/log-softmax along one axis, maxout.
// Raw pointers to contiguous arrays, output first, no allocation, no graph. Forward kernels
// overwrite their output; backward kernels add into dx (the caller zeroes it), so a tensor used
// twice can collect both contributions.
//
// Axis kernels see x as a contiguous (outer, n, inner) block: the reduced axis has n elements at
// stride `inner`, so softmax over any dim of a row-major tensor needs no transpose.
#pragma once

#include <cstdint>

namespace nabla::cpu {

// y = 1 / (1 + e^-x), evaluated so that neither branch overflows for large |x|.
template <class T>
void sigmoid_forward(T* y, const T* x, int64_t n);
// dx += dy · y · (1 - y)
template <class T>
void sigmoid_backward(T* dx, const T* dy, const T* y, int64_t n);

template <class T>
void tanh_forward(T* y, const T* x, int64_t n);
// dx += dy · (1 - y²)
template <class T>
void tanh_backward(T* dx, const T* dy, const T* y, int64_t n);

template <class T>
void relu_forward(T* y, const T* x, int64_t n);
// dx += dy where y > 0 (the subgradient at 0 is 0, as in PyTorch)
template <class T>
void relu_backward(T* dx, const T* dy, const T* y, int64_t n);
// out = dy where y > 0, else 0 (written, not added: the gradient through a fused ReLU)
template <class T>
void relu_mask(T* out, const T* dy, const T* y, int64_t n);

// y = x for x > 0, slope · x otherwise
template <class T>
void leaky_relu_forward(T* y, const T* x, int64_t n, T slope);
template <class T>
void leaky_relu_backward(T* dx, const T* dy, const T* x, int64_t n, T slope);

// y = x for x > 0, alpha · (e^x - 1) otherwise
template <class T>
void elu_forward(T* y, const T* x, int64_t n, T alpha);
// dx += dy for x > 0, dy · (y + alpha) otherwise (y + alpha = alpha · e^x)
template <class T>
void elu_backward(T* dx, const T* dy, const T* x, const T* y, int64_t n, T alpha);

// y = e^(x - max) / Σ e^(x - max) along the middle axis of (outer, n, inner).
template <class T>
void softmax_forward(T* y, const T* x, int64_t outer, int64_t n, int64_t inner);
// dx += y · (dy - Σ dy·y)
template <class T>
void softmax_backward(T* dx, const T* dy, const T* y, int64_t outer, int64_t n, int64_t inner);

// y = x - max - log Σ e^(x - max): finite for any finite x.
template <class T>
void log_softmax_forward(T* y, const T* x, int64_t outer, int64_t n, int64_t inner);
// dx += dy - e^y · Σ dy
template <class T>
void log_softmax_backward(T* dx, const T* dy, const T* y, int64_t outer, int64_t n, int64_t inner);

// x (outer, features·pieces, inner) -> y (outer, features, inner): y[o, f, i] is the max of
// x[o, f·pieces + p, i] over p.
template <class T>
void maxout_forward(T* y, const T* x, int64_t outer, int64_t features, int64_t pieces,
                    int64_t inner);
// dx += dy at the first maximal piece of each group (the argmax is recomputed from x).
template <class T>
void maxout_backward(T* dx, const T* dy, const T* x, int64_t outer, int64_t features,
                     int64_t pieces, int64_t inner);

// The plain loops over the C library's exp, expm1, log and tanh that the kernels above replaced
// with vectorised ones (vecmath.h): the reference the tests compare them with.
namespace reference {
template <class T>
void sigmoid_forward(T* y, const T* x, int64_t n);
template <class T>
void tanh_forward(T* y, const T* x, int64_t n);
template <class T>
void elu_forward(T* y, const T* x, int64_t n, T alpha);
template <class T>
void softmax_forward(T* y, const T* x, int64_t outer, int64_t n, int64_t inner);
template <class T>
void log_softmax_forward(T* y, const T* x, int64_t outer, int64_t n, int64_t inner);
template <class T>
void log_softmax_backward(T* dx, const T* dy, const T* y, int64_t outer, int64_t n, int64_t inner);
}  // namespace reference

}  // namespace nabla::cpu

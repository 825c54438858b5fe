// batch_norm: per-channel normalisation with batch statistics (training) or running statistics
// (evaluation), an optional affine transform, and the fused backward, side by side.
// x (N, C) or (N, C, H, W), seen by the kernels as (N, C, S) with S = H·W (1 for 2-d x);
// M = N·S values per channel. Loops in kernels/cpu/norm.cpp.
#include "kernels/cpu/norm.h"

#include <cmath>
#include <vector>

#include "nabla/detail/conv_params.h"
#include "nabla/ops.h"
#include "ops/common.h"

namespace nabla {

namespace {

void check_channel_vector(const Tensor& t, const char* name, const Tensor& x) {
  if (!t.defined()) return;
  check_same_dtype("batch_norm", x, t);
  NABLA_CHECK(t.dim() == 1 && t.size(0) == x.size(1), "batch_norm: ", name, " ", t.shape(),
              " must hold one value per channel of input ", x.shape(), ", i.e. shape [", x.size(1),
              "]");
}

// The checks shared by batch_norm and its inference fusion with relu.
void check_batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                      const Tensor& weight, const Tensor& bias, double eps) {
  check_floating("batch_norm", x.dtype());
  NABLA_CHECK(x.dim() == 2 || x.dim() == 4, "batch_norm: input ", x.shape(),
              " must be (N, C) or (N, C, H, W)");
  NABLA_CHECK(running_mean.defined() == running_var.defined(),
              "batch_norm: running_mean and running_var must both be given or both be undefined");
  check_channel_vector(running_mean, "running_mean", x);
  check_channel_vector(running_var, "running_var", x);
  check_channel_vector(weight, "weight", x);
  check_channel_vector(bias, "bias", x);
  NABLA_CHECK(eps >= 0, "batch_norm: eps ", eps, " must not be negative");
}

// Evaluation mode's per-channel constants: mean = running_mean, rstd = 1 / sqrt(running_var + eps).
template <class T>
void running_statistics(T* mean, T* rstd, const Tensor& running_mean, const Tensor& running_var,
                        double eps) {
  Tensor rm = contiguous_data(running_mean), rv = contiguous_data(running_var);
  const T* rvp = rv.data<T>();
  for (int64_t c = 0, C = rm.numel(); c < C; ++c) {
    mean[c] = rm.data<T>()[c];
    rstd[c] = static_cast<T>(1 / std::sqrt(rvp[c] + eps));
  }
}

// batch_norm: y = (x - mean) · rstd · weight + bias, rstd = 1 / sqrt(var + eps).
// Saves x, mean and rstd (C values each) and weight. With batch statistics, mean and rstd depend
// on x, which gives the fused formula (kernels/cpu/norm.h)
//   dx = weight · rstd · (dy - mean(dy) - xhat · mean(dy · xhat));
// with running statistics they are constants: dx = weight · rstd · dy.
// dweight = Σ dy · xhat, dbias = Σ dy in both modes.
// With `relu` (detail::batch_norm_relu) y = max(0, that) from the same pass, and backward takes dy
// through the ReLU first: the kernels recompute its mask from x (saving bias as well), or, for
// rows too short for that ((N, C) features), y is saved and masks dy, as in conv2d_relu.
// Serves batch_norm, detail::batch_norm_relu and detail::batch_norm_slice. weight_by_rows:
// backward's sums are each rank's dy (that of its own mean loss) weighted by its rows, as
// SumAcrossRanks documents; slices of one batch already have the whole batch's dy, so theirs are
// added as they are.
Tensor batch_norm_impl(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                       const Tensor& weight, const Tensor& bias, bool training, double momentum,
                       double eps, const SumAcrossRanks& sum_across_ranks, bool weight_by_rows,
                       bool relu) {
  check_batch_norm(x, running_mean, running_var, weight, bias, eps);
  const int64_t N = x.size(0), C = x.size(1), S = x.numel() / std::max<int64_t>(N * C, 1);
  const bool batch_stats = training || !running_mean.defined();
  const bool sync = batch_stats && static_cast<bool>(sum_across_ranks);
  // Synchronised, one value on this rank is enough when the ranks hold more together; that is
  // checked once the count is summed (every rank sees the same sum, so all throw or none does).
  NABLA_CHECK(!batch_stats || sync || N * S > 1, "batch_norm: input ", x.shape(), " has ", N * S,
              " value per channel; batch statistics need more than 1 (use a larger batch, or "
              "evaluation mode with running statistics)");

  Tensor xc = contiguous_data(x).detach();
  Tensor mean = Tensor::empty({C}, x.dtype()), rstd = Tensor::empty({C}, x.dtype());
  Tensor gamma = weight.defined() ? contiguous_data(weight).detach() : Tensor();
  Tensor beta = bias.defined() ? contiguous_data(bias).detach() : Tensor();
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  double global_count = static_cast<double>(N * S);
  dispatch(x.dtype(), [&]<class T>() {
    T* mp = mean.data<T>();
    T* rp = rstd.data<T>();
    if (batch_stats) {
      Tensor var = Tensor::empty({C}, x.dtype());
      if (sync) {
        // One pass over x gives this rank's Σx and Σ(x - its own mean)²; the second sum the
        // ranks exchange, Σ(x - global mean)², follows from those without reading x again.
        std::vector<double> sums(C + 1), sq(C), m2(C);
        cpu::batch_norm_moments(sums.data(), m2.data(), xc.data<T>(), N, C, S);
        const std::vector<double> local_sums(sums.begin(), sums.begin() + C);
        const double local_count = static_cast<double>(N * S);
        sums[C] = global_count;
        sum_across_ranks(sums);
        global_count = sums[C];
        NABLA_CHECK(global_count > 1, "batch_norm: input ", x.shape(), " has ", N * S,
                    " value per channel on this rank and ", global_count,
                    " on all ranks together; batch statistics need more than 1 (use a larger "
                    "batch)");
        for (int64_t c = 0; c < C; ++c) {
          sums[c] /= global_count;
          // Alone, the local mean is the global one bit for bit and the correction is exactly 0,
          // so one rank gives plain batch norm's statistics.
          const double shift = local_sums[c] / local_count - sums[c];
          sq[c] = m2[c] + local_count * shift * shift;
        }
        sum_across_ranks(sq);
        for (int64_t c = 0; c < C; ++c) {
          mp[c] = static_cast<T>(sums[c]);
          var.data<T>()[c] = static_cast<T>(sq[c] / global_count);
        }
      } else {
        cpu::batch_norm_stats(mp, var.data<T>(), xc.data<T>(), N, C, S);
      }
      const T* vp = var.data<T>();
      for (int64_t c = 0; c < C; ++c) rp[c] = static_cast<T>(1 / std::sqrt(vp[c] + eps));
      if (running_mean.defined()) {
        // The running variance is the unbiased estimate, as in PyTorch.
        const double m = momentum, unbias = global_count / (global_count - 1);
        Tensor rm = running_mean, rv = running_var;
        NoGradGuard no_grad;
        rm.copy_(running_mean * (1 - m) + mean * m);
        rv.copy_(running_var * (1 - m) + var * (m * unbias));
      }
    } else {
      running_statistics(mp, rp, running_mean, running_var, eps);
    }
    cpu::batch_norm_forward(y.data<T>(), xc.data<T>(), mp, rp,
                            gamma.defined() ? gamma.data<T>() : nullptr,
                            beta.defined() ? beta.data<T>() : nullptr, N, C, S, relu);
  });
  const bool need_dx = x.requires_grad();
  const bool need_dw = weight.defined() && weight.requires_grad();
  const bool need_db = bias.defined() && bias.requires_grad();
  const bool gate = relu && cpu::batch_norm_relu_recomputes_mask(S);
  Tensor saved_y = relu && !gate ? y.detach() : Tensor();  // never `y` itself: a reference cycle
  Tensor saved_beta = gate ? beta : Tensor();
  return autograd::record(
      relu ? Op::batch_norm_relu : Op::batch_norm, y, {x, weight, bias},
      [xc, mean, rstd, gamma, beta = saved_beta, gate, y = saved_y, batch_stats, need_dx, need_dw,
       need_db, N, C, S, sync, global_count, sum_across_ranks, weight_by_rows](const Tensor& dy) {
        Tensor g = contiguous_data(dy);
        if (y.defined()) g = through_relu(g, y);
        Tensor dx = need_dx ? Tensor::empty(xc.shape(), xc.dtype()) : Tensor();  // written whole
        Tensor dw = need_dw ? Tensor::zeros({C}, xc.dtype()) : Tensor();
        Tensor db = need_db ? Tensor::zeros({C}, xc.dtype()) : Tensor();
        dispatch(xc.dtype(), [&]<class T>() {
          const T* gp = gamma.defined() ? gamma.data<T>() : nullptr;
          const T* bp = beta.defined() ? beta.data<T>() : nullptr;
          if (!sync) {
            cpu::batch_norm_backward(
                need_dx ? dx.data<T>() : nullptr, need_dw ? dw.data<T>() : nullptr,
                need_db ? db.data<T>() : nullptr, g.data<T>(), xc.data<T>(), mean.data<T>(),
                rstd.data<T>(), gp, N, C, S, batch_stats, bp, gate);
            return;
          }
          std::vector<double> sums(2 * C);
          cpu::batch_norm_grad_sums(sums.data(), g.data<T>(), xc.data<T>(), mean.data<T>(),
                                    rstd.data<T>(), N, C, S, gp, bp, gate);
          for (int64_t c = 0; c < C; ++c) {
            if (need_db) db.data<T>()[c] += static_cast<T>(sums[c]);
            if (need_dw) dw.data<T>()[c] += static_cast<T>(sums[C + c]);
          }
          // Forward's sums already told whether other ranks took part; every rank agrees, so
          // either all call the collective or none does.
          if (global_count != static_cast<double>(N * S)) {
            if (weight_by_rows)
              for (double& v : sums) v *= static_cast<double>(N);
            sum_across_ranks(sums);
            if (weight_by_rows)
              for (double& v : sums) v /= static_cast<double>(N);
          }
          if (need_dx)
            cpu::batch_norm_grad_input(dx.data<T>(), sums.data(), global_count, g.data<T>(),
                                       xc.data<T>(), mean.data<T>(), rstd.data<T>(), gp, N, C, S,
                                       bp, gate);
        });
        return Grads{dx, dw, db};
      });
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum,
                  double eps, const SumAcrossRanks& sum_across_ranks) {
  return batch_norm_impl(x, running_mean, running_var, weight, bias, training, momentum, eps,
                         sum_across_ranks, /*weight_by_rows=*/true, /*relu=*/false);
}

Tensor detail::batch_norm_relu(const Tensor& x, const Tensor& running_mean,
                               const Tensor& running_var, const Tensor& weight, const Tensor& bias,
                               bool training, double momentum, double eps,
                               const SumAcrossRanks& sum_across_ranks) {
  return batch_norm_impl(x, running_mean, running_var, weight, bias, training, momentum, eps,
                         sum_across_ranks, /*weight_by_rows=*/true, /*relu=*/true);
}

Tensor detail::batch_norm_slice(const Tensor& x, const Tensor& running_mean,
                                const Tensor& running_var, const Tensor& weight, const Tensor& bias,
                                double momentum, double eps, const SumAcrossRanks& sum_over_slices,
                                bool relu) {
  NABLA_CHECK(static_cast<bool>(sum_over_slices),
              "batch_norm_slice: needs the function that sums over the slices");
  return batch_norm_impl(x, running_mean, running_var, weight, bias, /*training=*/true, momentum,
                         eps, sum_over_slices, /*weight_by_rows=*/false, relu);
}

// relu(batch_norm(x) in evaluation mode) in one pass over x: y = max(0, x · scale + shift), with
// batch_norm's per-channel scale and shift from the running statistics, so the bits are those of
// the two ops. A forward-only fast path, not an Op: it is taken only where autograd would record
// nothing (grad mode off, or none of x, weight, bias requires grad), so there is no node and no
// backward to write. Elsewhere, and without running statistics (batch statistics in evaluation),
// it returns an undefined Tensor and the caller runs batch_norm then relu.
Tensor detail::batch_norm_relu_inference(const Tensor& x, const Tensor& running_mean,
                                         const Tensor& running_var, const Tensor& weight,
                                         const Tensor& bias, double eps) {
  check_batch_norm(x, running_mean, running_var, weight, bias, eps);
  if (!running_mean.defined() || autograd::needs_grad({x, weight, bias})) return Tensor();
  const int64_t N = x.size(0), C = x.size(1), S = x.numel() / std::max<int64_t>(N * C, 1);
  Tensor xc = contiguous_data(x);
  Tensor mean = Tensor::empty({C}, x.dtype()), rstd = Tensor::empty({C}, x.dtype());
  Tensor gamma = weight.defined() ? contiguous_data(weight) : Tensor();
  Tensor beta = bias.defined() ? contiguous_data(bias) : Tensor();
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&]<class T>() {
    running_statistics(mean.data<T>(), rstd.data<T>(), running_mean, running_var, eps);
    cpu::batch_norm_forward(y.data<T>(), xc.data<T>(), mean.data<T>(), rstd.data<T>(),
                            gamma.defined() ? gamma.data<T>() : nullptr,
                            beta.defined() ? beta.data<T>() : nullptr, N, C, S, true);
  });
  return y;
}

}  // namespace nabla

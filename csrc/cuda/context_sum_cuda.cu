// CUDA kernels of context_sum. One warp per bag for the forward (and the atomic backward); the
// deterministic backward sorts the entries by row, as PyTorch's EmbeddingBag does, and gives one
// warp to each run of equal rows, so every row is written once, in a fixed order. Bags come
// padded or by offsets, with or without per-sample weights (batch.h).
#include <ATen/ATen.h>
#include <ATen/OpMathType.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <cstdint>
#include <optional>
#include <type_traits>

#include "batch.h"
#include "checks.h"
#include "cuda/warp.cuh"

namespace wordembed {
namespace {

// VEC consecutive elements moved by one load or store (16 bytes when rows are aligned for it).
template <typename T, int VEC>
struct alignas(sizeof(T) * VEC) Pack {
  T v[VEC];
};

bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

// Calls f with std::integral_constant<int, VEC>: 16-byte packs when every row start is aligned.
template <typename scalar_t, typename F>
void with_pack_width(bool rows_aligned, F&& f) {
  constexpr int kVec = 16 / sizeof(scalar_t);
  if (rows_aligned) {
    f(std::integral_constant<int, kVec>{});
  } else {
    f(std::integral_constant<int, 1>{});
  }
}

template <typename scalar_t>
bool rows_aligned(int64_t D, std::initializer_list<const void*> ptrs) {
  if (D % (16 / sizeof(scalar_t)) != 0) return false;
  for (const void* p : ptrs)
    if (!aligned16(p)) return false;
  return true;
}

template <typename scalar_t, typename index_t, int VEC>
__global__ void forward_kernel(const scalar_t* __restrict__ weight, BagView<index_t> bags,
                               const scalar_t* __restrict__ psw, scalar_t* __restrict__ out, int64_t B,
                               int64_t D, bool mean) {
  using acc_t = at::opmath_type<scalar_t>;
  using pack_t = Pack<scalar_t, VEC>;
  const int lane = threadIdx.x;
  const int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y;
  if (b >= B) return;  // uniform across the warp
  const int64_t first = bags.begin(b), C = bags.end(b) - first;
  const index_t* bag = bags.ids + first;
  const scalar_t* weights = psw ? psw + first : nullptr;
  int n = 0;
  for (int64_t j0 = 0; j0 < C; j0 += kWarp)
    n += __popc(__ballot_sync(kFullMask, j0 + lane < C && bag[j0 + lane] >= 0));
  const acc_t s = (mean && n) ? acc_t(1) / acc_t(n) : acc_t(1);
  for (int64_t d0 = 0; d0 < D; d0 += kWarp * VEC) {
    const int64_t d = d0 + lane * VEC;
    const bool active = d < D;
    acc_t acc[VEC];
#pragma unroll
    for (int k = 0; k < VEC; ++k) acc[k] = acc_t(0);
    for (int64_t j0 = 0; j0 < C; j0 += kWarp) {
      const int64_t mine = j0 + lane < C ? static_cast<int64_t>(bag[j0 + lane]) : -1;
      const acc_t mine_w = (weights && j0 + lane < C) ? static_cast<acc_t>(weights[j0 + lane]) : acc_t(1);
      const int width = static_cast<int>(C - j0 < kWarp ? C - j0 : kWarp);
      for (int jj = 0; jj < width; ++jj) {
        const int64_t idx = __shfl_sync(kFullMask, mine, jj);
        const acc_t w = __shfl_sync(kFullMask, mine_w, jj);
        if (idx < 0 || !active) continue;
        const pack_t p = *reinterpret_cast<const pack_t*>(weight + idx * D + d);
#pragma unroll
        for (int k = 0; k < VEC; ++k) acc[k] += w * static_cast<acc_t>(p.v[k]);
      }
    }
    if (active) {
      pack_t o;
#pragma unroll
      for (int k = 0; k < VEC; ++k) o.v[k] = static_cast<scalar_t>(acc[k] * s);
      *reinterpret_cast<pack_t*>(out + b * D + d) = o;
    }
  }
}

// What a backward does with a row's summed gradient g.
enum class Apply { kStore, kSubtractScaled };

// One warp per run of equal keys in the sorted entries: sums the run's gradients g in a fixed
// order, then target[slot] = g (kStore) or target[slot] -= lr * g (kSubtractScaled).
// slot is the row itself, or slots[i] (the run's number) for the sparse gradient.
// bag_of: each entry's bag (an offsets batch), or nullptr (entry / C, a padded batch); psw: each
// entry's weight, or nullptr.
template <typename scalar_t, typename key_t, int VEC, Apply APPLY>
__global__ void segment_kernel(const key_t* __restrict__ keys, const int64_t* __restrict__ perm,
                               const int64_t* __restrict__ slots, const scalar_t* __restrict__ grad,
                               const float* __restrict__ scale32, const double* __restrict__ scale64,
                               const int64_t* __restrict__ bag_of, const scalar_t* __restrict__ psw,
                               scalar_t* __restrict__ target, int64_t target_stride, int64_t N,
                               int64_t C, int64_t D, double lr) {
  using acc_t = at::opmath_type<scalar_t>;
  const int lane = threadIdx.x;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y;
  if (i >= N) return;
  const int64_t row = keys[i];
  if (row < 0 || (i > 0 && keys[i - 1] == row)) return;  // padding, or not the start of a run
  const int64_t slot = slots ? slots[i] : row;
  int64_t end = i + 1;
  while (end < N && keys[end] == row) ++end;
  for (int64_t d0 = 0; d0 < D; d0 += kWarp * VEC) {
    const int64_t d = d0 + lane * VEC;
    if (d >= D) break;  // no warp-wide operations below
    acc_t acc[VEC];
#pragma unroll
    for (int k = 0; k < VEC; ++k) acc[k] = acc_t(0);
    for (int64_t e = i; e < end; ++e) {
      const int64_t b = bag_of ? bag_of[perm[e]] : perm[e] / C;
      acc_t s = scale64 ? static_cast<acc_t>(scale64[b]) : static_cast<acc_t>(scale32[b]);
      if (psw) s *= static_cast<acc_t>(psw[perm[e]]);
      const Pack<scalar_t, VEC> g = *reinterpret_cast<const Pack<scalar_t, VEC>*>(grad + b * D + d);
#pragma unroll
      for (int k = 0; k < VEC; ++k) acc[k] += s * static_cast<acc_t>(g.v[k]);
    }
    scalar_t* t = target + slot * target_stride + d;
#pragma unroll
    for (int k = 0; k < VEC; ++k) {
      if constexpr (APPLY == Apply::kStore) {
        t[k] = static_cast<scalar_t>(acc[k]);
      } else {
        t[k] = static_cast<scalar_t>(static_cast<acc_t>(t[k]) - static_cast<acc_t>(lr) * acc[k]);
      }
    }
  }
}

// Non-deterministic backward: one warp per bag, target[idx] += coef * scale[b] * grad[b] with
// atomics. float and double only; used only on request (see use_atomics).
template <typename scalar_t, typename index_t>
__global__ void atomic_scatter_kernel(const scalar_t* __restrict__ grad, BagView<index_t> bags,
                                      const scalar_t* __restrict__ psw, const scalar_t* __restrict__ scale,
                                      scalar_t* __restrict__ target, int64_t target_stride, int64_t B,
                                      int64_t D, scalar_t coef) {
  const int lane = threadIdx.x;
  const int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y;
  if (b >= B) return;
  const scalar_t s = coef * scale[b];
  if (s == scalar_t(0)) return;
  for (int64_t i = bags.begin(b), end = bags.end(b); i < end; ++i) {
    const int64_t idx = bags.ids[i];
    if (idx < 0) continue;
    const scalar_t si = psw ? s * psw[i] : s;
    for (int64_t d = lane; d < D; d += kWarp)
      atomicAdd(target + idx * target_stride + d, si * grad[b * D + d]);
  }
}

// 1/n per bag for a mean over its n non-padding entries (0 for none), 1 per bag for a sum.
at::Tensor bag_scales(const Batch& batch, bool mean, at::ScalarType acc_type) {
  const auto opts = batch.ids.options().dtype(acc_type);
  if (!mean) return at::ones({batch.B}, opts);
  at::Tensor n;
  if (batch.padded()) {
    n = (batch.ids >= 0).sum(1).to(acc_type);
  } else {  // entries kept before each offset, by a running count
    const auto kept = at::cat({at::zeros({1}, batch.offsets.options()), (batch.ids >= 0).to(at::kLong).cumsum(0)});
    n = (kept.index_select(0, batch.offsets.slice(0, 1)) - kept.index_select(0, batch.offsets.slice(0, 0, -1)))
            .to(acc_type);
  }
  return at::where(n > 0, n.reciprocal(), at::zeros({}, opts));
}

// Each entry's bag, for an offsets batch (undefined for a padded one: entry / C).
at::Tensor entry_bags(const Batch& batch) {
  if (batch.padded()) return at::Tensor();
  const auto positions = at::arange(batch.ids.numel(), batch.offsets.options());
  return at::searchsorted(batch.offsets.slice(0, 1), positions, /*out_int32=*/false, /*right=*/true);
}

at::Tensor context_sum_cuda(const at::Tensor& weight, const at::Tensor& context, bool mean,
                            bool /*sparse_grad*/, bool /*deterministic*/, const std::optional<at::Tensor>& offsets,
                            const std::optional<at::Tensor>& per_sample_weights, int64_t padding_idx) {
  check_weight(weight);
  const c10::cuda::CUDAGuard guard(weight.device());
  const Batch batch = make_batch(context, offsets, per_sample_weights, padding_idx, weight.size(0), mean,
                                 weight.scalar_type());
  check_same_device(weight, "weight", context, "context");
  check_indices(batch.ids, weight.size(0));
  const auto w = weight.contiguous();
  const int64_t B = batch.B, D = w.size(1);
  auto out = at::empty({B, D}, w.options());
  if (B == 0 || D == 0) return out;
  const auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, w.scalar_type(), "context_sum_cuda", [&] {
    AT_DISPATCH_INDEX_TYPES(batch.ids.scalar_type(), "context_sum_cuda", [&] {
      const bool ok = rows_aligned<scalar_t>(D, {w.const_data_ptr(), out.const_data_ptr()});
      with_pack_width<scalar_t>(ok, [&](auto vec) {
        forward_kernel<scalar_t, index_t, decltype(vec)::value>
            <<<warp_blocks(B), dim3(kWarp, kWarpsPerBlock), 0, stream>>>(
                w.const_data_ptr<scalar_t>(), bag_view<index_t>(batch), batch.weights_ptr<scalar_t>(),
                out.mutable_data_ptr<scalar_t>(), B, D, mean);
        C10_CUDA_KERNEL_LAUNCH_CHECK();
      });
    });
  });
  return out;
}

// The entries sorted by row (padding first), stably, with their positions in the flat context.
std::tuple<at::Tensor, at::Tensor> sorted_entries(const at::Tensor& ids) {
  auto [keys, perm] = ids.reshape({-1}).sort(/*stable=*/true, /*dim=*/0, /*descending=*/false);
  return {keys, perm};
}

// Runs segment_kernel over the sorted entries for grad (B, D) and the chosen target.
template <Apply APPLY>
void launch_segments(const at::Tensor& keys, const at::Tensor& perm, const at::Tensor& slots,
                     const at::Tensor& grad, const at::Tensor& scale, const Batch& batch, at::Tensor& target,
                     double lr) {
  const int64_t N = keys.numel(), D = grad.size(1);
  if (N == 0 || D == 0) return;
  const auto stream = c10::cuda::getCurrentCUDAStream();
  const int64_t* slot_ptr = slots.defined() ? slots.const_data_ptr<int64_t>() : nullptr;
  const float* s32 = scale.scalar_type() == at::kFloat ? scale.const_data_ptr<float>() : nullptr;
  const double* s64 = scale.scalar_type() == at::kDouble ? scale.const_data_ptr<double>() : nullptr;
  const auto bag_of = entry_bags(batch);
  const int64_t* bag_ptr = bag_of.defined() ? bag_of.const_data_ptr<int64_t>() : nullptr;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad.scalar_type(), "context_sum_segments", [&] {
    AT_DISPATCH_INDEX_TYPES(keys.scalar_type(), "context_sum_segments", [&] {
      const bool ok = rows_aligned<scalar_t>(D, {grad.const_data_ptr(), target.const_data_ptr()}) &&
                      target.stride(0) % (16 / sizeof(scalar_t)) == 0;
      const auto weights = batch.weights.defined() ? batch.weights.to(grad.scalar_type()) : at::Tensor();
      const scalar_t* psw = weights.defined() ? weights.const_data_ptr<scalar_t>() : nullptr;
      with_pack_width<scalar_t>(ok, [&](auto vec) {
        // Each target row is written once, from a sum kept in float32 for reduced precision.
        segment_kernel<scalar_t, index_t, decltype(vec)::value, APPLY>
            <<<warp_blocks(N), dim3(kWarp, kWarpsPerBlock), 0, stream>>>(
                keys.const_data_ptr<index_t>(), perm.const_data_ptr<int64_t>(), slot_ptr,
                grad.const_data_ptr<scalar_t>(), s32, s64, bag_ptr, psw, target.mutable_data_ptr<scalar_t>(),
                target.stride(0), N, batch.C, D, lr);
        C10_CUDA_KERNEL_LAUNCH_CHECK();
      });
    });
  });
}

// Adds coef * scale[b] * w_i * grad[b] into target rows with atomics; float and double only.
void launch_atomic(const at::Tensor& grad, const Batch& batch, const at::Tensor& scale, at::Tensor& target,
                   double coef) {
  const int64_t B = batch.B, D = grad.size(1);
  if (B == 0 || batch.ids.numel() == 0 || D == 0) return;
  const auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "context_sum_atomic", [&] {
    AT_DISPATCH_INDEX_TYPES(batch.ids.scalar_type(), "context_sum_atomic", [&] {
      const auto weights = batch.weights.defined() ? batch.weights.to(grad.scalar_type()) : at::Tensor();
      atomic_scatter_kernel<scalar_t, index_t>
          <<<warp_blocks(B), dim3(kWarp, kWarpsPerBlock), 0, stream>>>(
              grad.const_data_ptr<scalar_t>(), bag_view<index_t>(batch),
              weights.defined() ? weights.const_data_ptr<scalar_t>() : nullptr, scale.const_data_ptr<scalar_t>(),
              target.mutable_data_ptr<scalar_t>(), target.stride(0), B, D, static_cast<scalar_t>(coef));
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
  });
}

// Atomics only when the caller opted out of determinism and torch does not demand it.
bool use_atomics(const at::Tensor& grad, bool deterministic) {
  return !deterministic && !at::globalContext().deterministicAlgorithms() &&
         (grad.scalar_type() == at::kFloat || grad.scalar_type() == at::kDouble);
}

at::Tensor context_sum_backward_cuda(const at::Tensor& grad_out, const at::Tensor& context, int64_t num_weights,
                                    bool mean, bool deterministic, const std::optional<at::Tensor>& offsets,
                                    const std::optional<at::Tensor>& per_sample_weights, int64_t padding_idx) {
  const c10::cuda::CUDAGuard guard(grad_out.device());
  const Batch batch = make_batch(context, offsets, per_sample_weights, padding_idx, num_weights, mean,
                                 grad_out.scalar_type());
  check_backward_args(grad_out, batch, num_weights);
  check_indices(batch.ids, num_weights);
  const auto g = grad_out.contiguous();
  auto grad_weight = at::zeros({num_weights, g.size(1)}, g.options());
  const auto acc_type = at::toOpMathType(g.scalar_type());
  if (use_atomics(g, deterministic)) {
    launch_atomic(g, batch, bag_scales(batch, mean, g.scalar_type()), grad_weight, 1.0);
  } else {
    auto [keys, perm] = sorted_entries(batch.ids);
    launch_segments<Apply::kStore>(keys, perm, at::Tensor(), g, bag_scales(batch, mean, acc_type), batch,
                                   grad_weight, 0.0);
  }
  return grad_weight;
}

std::tuple<at::Tensor, at::Tensor> context_sum_backward_sparse_cuda(
    const at::Tensor& grad_out, const at::Tensor& context, int64_t num_weights, bool mean,
    const std::optional<at::Tensor>& offsets, const std::optional<at::Tensor>& per_sample_weights,
    int64_t padding_idx) {
  const c10::cuda::CUDAGuard guard(grad_out.device());
  const Batch batch = make_batch(context, offsets, per_sample_weights, padding_idx, num_weights, mean,
                                 grad_out.scalar_type());
  check_backward_args(grad_out, batch, num_weights);
  check_indices(batch.ids, num_weights);
  const auto g = grad_out.contiguous();
  auto [keys, perm] = sorted_entries(batch.ids);
  // Run number of each sorted entry; padding runs get no slot of their own.
  const auto valid = keys >= 0;
  auto starts = valid.clone();
  if (keys.numel() > 1) {
    starts.narrow(0, 1, keys.numel() - 1)
        .logical_and_(keys.narrow(0, 1, keys.numel() - 1) != keys.narrow(0, 0, keys.numel() - 1));
  }
  const auto slots = starts.to(at::kLong).cumsum(0) - 1;
  const auto rows = keys.masked_select(starts).to(at::kLong);
  auto values = at::empty({rows.numel(), g.size(1)}, g.options());
  launch_segments<Apply::kStore>(keys, perm, slots, g, bag_scales(batch, mean, at::toOpMathType(g.scalar_type())),
                                 batch, values, 0.0);
  return {rows, values};
}

void context_sum_sgd_cuda(at::Tensor& weight, const at::Tensor& grad_out, const at::Tensor& context, bool mean,
                          double lr, bool deterministic, const std::optional<at::Tensor>& offsets,
                          const std::optional<at::Tensor>& per_sample_weights, int64_t padding_idx) {
  check_weight(weight);
  const c10::cuda::CUDAGuard guard(weight.device());
  const Batch batch = make_batch(context, offsets, per_sample_weights, padding_idx, weight.size(0), mean,
                                 weight.scalar_type());
  check_sgd_args(weight, grad_out, batch, lr);
  check_indices(batch.ids, weight.size(0));
  const auto g = grad_out.contiguous().to(weight.scalar_type());
  if (use_atomics(g, deterministic)) {
    launch_atomic(g, batch, bag_scales(batch, mean, g.scalar_type()), weight, -lr);
  } else {
    auto [keys, perm] = sorted_entries(batch.ids);
    launch_segments<Apply::kSubtractScaled>(keys, perm, at::Tensor(), g,
                                            bag_scales(batch, mean, at::toOpMathType(g.scalar_type())), batch,
                                            weight, lr);
  }
}

}  // namespace

TORCH_LIBRARY_IMPL(wordembed, CUDA, m) {
  m.impl("context_sum", &context_sum_cuda);
  m.impl("context_sum_backward", &context_sum_backward_cuda);
  m.impl("context_sum_backward_sparse", &context_sum_backward_sparse_cuda);
  m.impl("context_sum_sgd_", &context_sum_sgd_cuda);
}

}  // namespace wordembed

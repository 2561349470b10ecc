// CUDA kernels of context_sum. One warp per bag for the forward (and the atomic backward); the
// deterministic backward sorts the entries by row, as PyTorch's EmbeddingBag does, and gives one
// warp to each run of equal rows, so every row is written once, in a fixed order.
#include <ATen/ATen.h>
#include <ATen/OpMathType.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <cstdint>
#include <type_traits>

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
__global__ void forward_kernel(const scalar_t* __restrict__ weight, const index_t* __restrict__ ctx,
                               scalar_t* __restrict__ out, int64_t B, int64_t C, int64_t D, bool mean) {
  using acc_t = at::opmath_type<scalar_t>;
  using pack_t = Pack<scalar_t, VEC>;
  const int lane = threadIdx.x;
  const int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y;
  if (b >= B) return;  // uniform across the warp
  const index_t* bag = ctx + b * C;
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
      const int width = static_cast<int>(C - j0 < kWarp ? C - j0 : kWarp);
      for (int jj = 0; jj < width; ++jj) {
        const int64_t idx = __shfl_sync(kFullMask, mine, jj);
        if (idx < 0 || !active) continue;
        const pack_t p = *reinterpret_cast<const pack_t*>(weight + idx * D + d);
#pragma unroll
        for (int k = 0; k < VEC; ++k) acc[k] += static_cast<acc_t>(p.v[k]);
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
template <typename scalar_t, typename key_t, int VEC, Apply APPLY>
__global__ void segment_kernel(const key_t* __restrict__ keys, const int64_t* __restrict__ perm,
                               const int64_t* __restrict__ slots, const scalar_t* __restrict__ grad,
                               const float* __restrict__ scale32, const double* __restrict__ scale64,
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
      const int64_t b = perm[e] / C;
      const acc_t s = scale64 ? static_cast<acc_t>(scale64[b]) : static_cast<acc_t>(scale32[b]);
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
__global__ void atomic_scatter_kernel(const scalar_t* __restrict__ grad, const index_t* __restrict__ ctx,
                                      const scalar_t* __restrict__ scale, scalar_t* __restrict__ target,
                                      int64_t target_stride, int64_t B, int64_t C, int64_t D,
                                      scalar_t coef) {
  const int lane = threadIdx.x;
  const int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y;
  if (b >= B) return;
  const scalar_t s = coef * scale[b];
  if (s == scalar_t(0)) return;
  for (int64_t j = 0; j < C; ++j) {
    const int64_t idx = ctx[b * C + j];
    if (idx < 0) continue;
    for (int64_t d = lane; d < D; d += kWarp)
      atomicAdd(target + idx * target_stride + d, s * grad[b * D + d]);
  }
}

// 1/n per bag for a mean over its n non-padding entries (0 for none), 1 per bag for a sum.
at::Tensor bag_scales(const at::Tensor& ctx, bool mean, at::ScalarType acc_type) {
  const auto opts = ctx.options().dtype(acc_type);
  if (!mean) return at::ones({ctx.size(0)}, opts);
  const auto n = (ctx >= 0).sum(1).to(acc_type);
  return at::where(n > 0, n.reciprocal(), at::zeros({}, opts));
}

at::Tensor context_sum_cuda(const at::Tensor& weight, const at::Tensor& context, bool mean,
                            bool /*sparse_grad*/, bool /*deterministic*/) {
  check_weight(weight);
  check_context(context);
  check_same_device(weight, "weight", context, "context");
  const c10::cuda::CUDAGuard guard(weight.device());
  check_indices(context, weight.size(0));
  const auto w = weight.contiguous();
  const auto ctx = context.contiguous();
  const int64_t B = ctx.size(0), C = ctx.size(1), D = w.size(1);
  auto out = at::empty({B, D}, w.options());
  if (B == 0 || D == 0) return out;
  const auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, w.scalar_type(), "context_sum_cuda", [&] {
    AT_DISPATCH_INDEX_TYPES(ctx.scalar_type(), "context_sum_cuda", [&] {
      const bool ok = rows_aligned<scalar_t>(D, {w.const_data_ptr(), out.const_data_ptr()});
      with_pack_width<scalar_t>(ok, [&](auto vec) {
        forward_kernel<scalar_t, index_t, decltype(vec)::value>
            <<<warp_blocks(B), dim3(kWarp, kWarpsPerBlock), 0, stream>>>(
                w.const_data_ptr<scalar_t>(), ctx.const_data_ptr<index_t>(),
                out.mutable_data_ptr<scalar_t>(), B, C, D, mean);
        C10_CUDA_KERNEL_LAUNCH_CHECK();
      });
    });
  });
  return out;
}

// The entries sorted by row (padding first), stably, with their positions in the flat context.
std::tuple<at::Tensor, at::Tensor> sorted_entries(const at::Tensor& ctx) {
  auto [keys, perm] = ctx.reshape({-1}).sort(/*stable=*/true, /*dim=*/0, /*descending=*/false);
  return {keys, perm};
}

// Runs segment_kernel over the sorted entries for grad (B, D) and the chosen target.
template <Apply APPLY>
void launch_segments(const at::Tensor& keys, const at::Tensor& perm, const at::Tensor& slots,
                     const at::Tensor& grad, const at::Tensor& scale, at::Tensor& target, int64_t C,
                     double lr) {
  const int64_t N = keys.numel(), D = grad.size(1);
  if (N == 0 || D == 0) return;
  const auto stream = c10::cuda::getCurrentCUDAStream();
  const int64_t* slot_ptr = slots.defined() ? slots.const_data_ptr<int64_t>() : nullptr;
  const float* s32 = scale.scalar_type() == at::kFloat ? scale.const_data_ptr<float>() : nullptr;
  const double* s64 = scale.scalar_type() == at::kDouble ? scale.const_data_ptr<double>() : nullptr;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad.scalar_type(), "context_sum_segments", [&] {
    AT_DISPATCH_INDEX_TYPES(keys.scalar_type(), "context_sum_segments", [&] {
      const bool ok = rows_aligned<scalar_t>(D, {grad.const_data_ptr(), target.const_data_ptr()}) &&
                      target.stride(0) % (16 / sizeof(scalar_t)) == 0;
      with_pack_width<scalar_t>(ok, [&](auto vec) {
        // Each target row is written once, from a sum kept in float32 for reduced precision.
        segment_kernel<scalar_t, index_t, decltype(vec)::value, APPLY>
            <<<warp_blocks(N), dim3(kWarp, kWarpsPerBlock), 0, stream>>>(
                keys.const_data_ptr<index_t>(), perm.const_data_ptr<int64_t>(), slot_ptr,
                grad.const_data_ptr<scalar_t>(), s32, s64, target.mutable_data_ptr<scalar_t>(),
                target.stride(0), N, C, D, lr);
        C10_CUDA_KERNEL_LAUNCH_CHECK();
      });
    });
  });
}

// Adds coef * scale[b] * grad[b] into target rows with atomics; float and double only.
void launch_atomic(const at::Tensor& grad, const at::Tensor& ctx, const at::Tensor& scale,
                   at::Tensor& target, double coef) {
  const int64_t B = ctx.size(0), C = ctx.size(1), D = grad.size(1);
  if (B == 0 || C == 0 || D == 0) return;
  const auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "context_sum_atomic", [&] {
    AT_DISPATCH_INDEX_TYPES(ctx.scalar_type(), "context_sum_atomic", [&] {
      atomic_scatter_kernel<scalar_t, index_t>
          <<<warp_blocks(B), dim3(kWarp, kWarpsPerBlock), 0, stream>>>(
              grad.const_data_ptr<scalar_t>(), ctx.const_data_ptr<index_t>(),
              scale.const_data_ptr<scalar_t>(), target.mutable_data_ptr<scalar_t>(), target.stride(0),
              B, C, D, static_cast<scalar_t>(coef));
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
  });
}

// Atomics only when the caller opted out of determinism and torch does not demand it.
bool use_atomics(const at::Tensor& grad, bool deterministic) {
  return !deterministic && !at::globalContext().deterministicAlgorithms() &&
         (grad.scalar_type() == at::kFloat || grad.scalar_type() == at::kDouble);
}

at::Tensor context_sum_backward_cuda(const at::Tensor& grad_out, const at::Tensor& context,
                                    int64_t num_weights, bool mean, bool deterministic) {
  check_backward_args(grad_out, context, num_weights);
  check_indices(context, num_weights);
  const c10::cuda::CUDAGuard guard(grad_out.device());
  const auto g = grad_out.contiguous();
  const auto ctx = context.contiguous();
  auto grad_weight = at::zeros({num_weights, g.size(1)}, g.options());
  const auto acc_type = at::toOpMathType(g.scalar_type());
  if (use_atomics(g, deterministic)) {
    launch_atomic(g, ctx, bag_scales(ctx, mean, g.scalar_type()), grad_weight, 1.0);
  } else {
    auto [keys, perm] = sorted_entries(ctx);
    launch_segments<Apply::kStore>(keys, perm, at::Tensor(), g, bag_scales(ctx, mean, acc_type),
                                   grad_weight, ctx.size(1), 0.0);
  }
  return grad_weight;
}

std::tuple<at::Tensor, at::Tensor> context_sum_backward_sparse_cuda(const at::Tensor& grad_out,
                                                                    const at::Tensor& context,
                                                                    int64_t num_weights, bool mean) {
  check_backward_args(grad_out, context, num_weights);
  check_indices(context, num_weights);
  const c10::cuda::CUDAGuard guard(grad_out.device());
  const auto g = grad_out.contiguous();
  const auto ctx = context.contiguous();
  auto [keys, perm] = sorted_entries(ctx);
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
  launch_segments<Apply::kStore>(keys, perm, slots, g, bag_scales(ctx, mean, at::toOpMathType(g.scalar_type())),
                                 values, ctx.size(1), 0.0);
  return {rows, values};
}

void context_sum_sgd_cuda(at::Tensor& weight, const at::Tensor& grad_out, const at::Tensor& context,
                          bool mean, double lr, bool deterministic) {
  check_sgd_args(weight, grad_out, context, lr);
  const c10::cuda::CUDAGuard guard(weight.device());
  check_indices(context, weight.size(0));
  const auto g = grad_out.contiguous().to(weight.scalar_type());
  const auto ctx = context.contiguous();
  if (use_atomics(g, deterministic)) {
    launch_atomic(g, ctx, bag_scales(ctx, mean, g.scalar_type()), weight, -lr);
  } else {
    auto [keys, perm] = sorted_entries(ctx);
    launch_segments<Apply::kSubtractScaled>(keys, perm, at::Tensor(), g,
                                            bag_scales(ctx, mean, at::toOpMathType(g.scalar_type())),
                                            weight, ctx.size(1), lr);
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

// Word2vec CBOW with negative sampling on CUDA: the chunk trainer of cpu/cbow_ns_cpu.cpp, with
// the same arguments and the same per-example step. One warp trains one position of the
// subsampled chunk; warps update both tables without locks (Hogwild), or, in deterministic
// mode, a single warp walks the positions in order. Random numbers are a counter-based hash of
// (seed, position, draw), so a chunk's samples depend only on its seed.
#include <ATen/ATen.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include <cstdint>

#include "checks.h"

namespace wordembed {
namespace {

constexpr int kWarp = 32;
constexpr int kWarpsPerBlock = 8;
constexpr int kMaxPerLane = 16;      // D <= 512
constexpr int kMaxOutputs = 65;      // 1 target + up to 64 negatives
constexpr unsigned kFullMask = 0xffffffffu;

__device__ __forceinline__ uint64_t mix(uint64_t z) {  // splitmix64's finaliser
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

__device__ __forceinline__ uint64_t draw(uint64_t seed, uint64_t position, uint64_t k) {
  return mix(mix(seed + 0x9E3779B97F4A7C15ull * (position + 1)) + k);
}

__device__ __forceinline__ double uniform(uint64_t bits) { return (bits >> 11) * 0x1.0p-53; }

__device__ __forceinline__ float warp_sum(float x) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) x += __shfl_xor_sync(kFullMask, x, offset);
  return x;
}

__global__ void keep_kernel(const int32_t* __restrict__ ids, const double* __restrict__ keep_prob,
                            bool* __restrict__ keep, int64_t N, uint64_t seed) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < N) {
    const double p = keep_prob[ids[i]];
    keep[i] = p >= 1.0 || uniform(draw(seed, i, 0)) < p;
  }
}

struct ChunkArgs {
  float* in;
  float* out;
  const int32_t* words;      // kept words of the chunk, in order (M)
  const int64_t* sentence;   // their sentence numbers (M)
  const int64_t* position;   // their positions in the chunk before subsampling (M)
  const double* noise_prob;
  const int64_t* noise_alias;
  double* loss;              // per kept position (M)
  float* trained;            // 1 where an example was trained (M)
  int64_t M, N, V, D, window, negative;
  double lr_start, lr_end;
  uint64_t seed;
  bool full_context_update;
};

__global__ void cbow_ns_chunk_kernel(ChunkArgs a) {
  const int lane = threadIdx.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.y;
  float hidden[kMaxPerLane], grad[kMaxPerLane], step[kMaxOutputs];
  int64_t outputs[kMaxOutputs];
  for (int64_t p = first; p < a.M; p += stride) {
    const int64_t reach = a.window - static_cast<int64_t>(draw(a.seed, p, 1) % a.window);
    const int64_t lo = p - reach < 0 ? 0 : p - reach;
    const int64_t hi = p + reach + 1 > a.M ? a.M : p + reach + 1;
    const int64_t sent = a.sentence[p];
    int n = 0;
    for (int k = 0; k < kMaxPerLane; ++k) hidden[k] = 0.f;
    for (int64_t q = lo; q < hi; ++q) {
      if (q == p || a.sentence[q] != sent) continue;
      const float* row = a.in + static_cast<int64_t>(a.words[q]) * a.D;
#pragma unroll
      for (int k = 0; k < kMaxPerLane; ++k) {
        const int64_t d = lane + k * kWarp;
        if (d < a.D) hidden[k] += row[d];
      }
      ++n;
    }
    if (lane == 0) {
      a.loss[p] = 0.0;
      a.trained[p] = n > 0 ? 1.f : 0.f;
    }
    if (n == 0) continue;  // uniform across the warp
    const float inv_n = 1.f / n;
#pragma unroll
    for (int k = 0; k < kMaxPerLane; ++k) hidden[k] *= inv_n;
    const float lr = static_cast<float>(a.lr_start + (a.lr_end - a.lr_start) * double(a.position[p]) / double(a.N));
    const int64_t target = a.words[p];
    int m = 0;
    outputs[m++] = target;
    for (int64_t j = 0; j < a.negative; ++j) {
      int64_t w = static_cast<int64_t>(draw(a.seed, p, 2 + 2 * j) % a.V);
      if (uniform(draw(a.seed, p, 3 + 2 * j)) >= a.noise_prob[w]) w = a.noise_alias[w];
      if (w != target) outputs[m++] = w;
    }
    double loss = 0.0;
    for (int j = 0; j < m; ++j) {  // score every output before anything moves
      const float* row = a.out + outputs[j] * a.D;
      float partial = 0.f;
#pragma unroll
      for (int k = 0; k < kMaxPerLane; ++k) {
        const int64_t d = lane + k * kWarp;
        if (d < a.D) partial += hidden[k] * row[d];
      }
      const float score = warp_sum(partial);
      // As on the CPU (cpu/cbow_ns_cpu.cpp, logistic): for y = +-score, the loss term
      // -log(sigmoid(y)) and sigmoid(-y) from one expf and one log1pf.
      const float y = j == 0 ? score : -score;
      const float e = expf(-fabsf(y));
      loss += log1pf(e) + fmaxf(-y, 0.f);
      const float toward_label = y >= 0 ? e / (1.f + e) : 1.f / (1.f + e);
      step[j] = j == 0 ? lr * toward_label : -lr * toward_label;
    }
    for (int k = 0; k < kMaxPerLane; ++k) grad[k] = 0.f;
    for (int j = 0; j < m; ++j) {
      const float* row = a.out + outputs[j] * a.D;
#pragma unroll
      for (int k = 0; k < kMaxPerLane; ++k) {
        const int64_t d = lane + k * kWarp;
        if (d < a.D) grad[k] += step[j] * row[d];
      }
    }
    __syncwarp();
    for (int j = 0; j < m; ++j) {
      float* row = a.out + outputs[j] * a.D;
#pragma unroll
      for (int k = 0; k < kMaxPerLane; ++k) {
        const int64_t d = lane + k * kWarp;
        if (d < a.D) row[d] += step[j] * hidden[k];
      }
    }
    const float scale = a.full_context_update ? 1.f : inv_n;
    for (int64_t q = lo; q < hi; ++q) {
      if (q == p || a.sentence[q] != sent) continue;
      float* row = a.in + static_cast<int64_t>(a.words[q]) * a.D;
#pragma unroll
      for (int k = 0; k < kMaxPerLane; ++k) {
        const int64_t d = lane + k * kWarp;
        if (d < a.D) row[d] += scale * grad[k];
      }
    }
    if (lane == 0) a.loss[p] = loss;
    __syncwarp();
  }
}

at::Tensor cbow_ns_train_chunk_cuda(at::Tensor& in, at::Tensor& out, const at::Tensor& ids_in,
                                    const at::Tensor& starts_in, const at::Tensor& keep_in,
                                    const at::Tensor& noise_prob_in, const at::Tensor& noise_alias_in,
                                    int64_t window, int64_t negative, double lr_start, double lr_end,
                                    int64_t seed, bool deterministic, bool full_context_update) {
  check_tables(in, out);
  TORCH_CHECK_TYPE(in.scalar_type() == at::kFloat, "CUDA training needs float32 tables, got ", in.scalar_type());
  const int64_t V = in.size(0), D = in.size(1);
  TORCH_CHECK_VALUE(D <= kWarp * kMaxPerLane, "CUDA training supports dim up to ", kWarp * kMaxPerLane,
                    ", got ", D);
  TORCH_CHECK_VALUE(window >= 1, "window must be at least 1, got ", window);
  TORCH_CHECK_VALUE(negative >= 0 && negative < kMaxOutputs, "negative must be in 0..", kMaxOutputs - 1,
                    ", got ", negative);
  for (const auto* t : {&ids_in, &starts_in, &keep_in, &noise_prob_in, &noise_alias_in})
    check_same_device(*t, "every argument", in, "input_vectors");
  for (const auto* t : {&keep_in, &noise_prob_in, &noise_alias_in})
    TORCH_CHECK_VALUE(t->dim() == 1 && t->size(0) == V, "keep_prob, noise_prob and noise_alias need one "
                      "entry per word (", V, "), got ", t->sizes());
  const c10::cuda::CUDAGuard guard(in.device());
  TORCH_CHECK_VALUE(ids_in.dim() == 1, "ids must be 1-D");
  check_word_ids(ids_in, "ids", V, false);
  check_word_ids(noise_alias_in, "noise_alias", V, false);
  const auto ids = ids_in.to(at::kInt).contiguous();
  const auto starts = starts_in.to(at::kLong).contiguous();
  const int64_t N = ids.numel();
  check_sentence_starts(starts.cpu(), N);
  auto result = at::zeros({3}, at::kDouble);
  result[2] = static_cast<double>(N);
  if (N == 0) return result;
  const auto keep_prob = keep_in.to(at::kDouble).contiguous();
  const auto noise_prob = noise_prob_in.to(at::kDouble).contiguous();
  const auto noise_alias = noise_alias_in.to(at::kLong).contiguous();
  const auto stream = c10::cuda::getCurrentCUDAStream();

  auto keep = at::empty({N}, ids.options().dtype(at::kBool));
  keep_kernel<<<static_cast<unsigned>((N + 255) / 256), 256, 0, stream>>>(
      ids.const_data_ptr<int32_t>(), keep_prob.const_data_ptr<double>(), keep.mutable_data_ptr<bool>(), N,
      static_cast<uint64_t>(seed));
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  const auto position = at::nonzero(keep).reshape({-1}).contiguous();  // reads the count back
  const int64_t M = position.numel();
  if (M == 0) return result;
  const auto words = ids.index_select(0, position).contiguous();
  const auto sentence =
      (at::searchsorted(starts, position, /*out_int32=*/false, /*right=*/true) - 1).contiguous();
  auto loss = at::empty({M}, in.options().dtype(at::kDouble));
  auto trained = at::empty({M}, in.options());

  ChunkArgs a{in.mutable_data_ptr<float>(), out.mutable_data_ptr<float>(), words.const_data_ptr<int32_t>(),
              sentence.const_data_ptr<int64_t>(), position.const_data_ptr<int64_t>(),
              noise_prob.const_data_ptr<double>(), noise_alias.const_data_ptr<int64_t>(),
              loss.mutable_data_ptr<double>(), trained.mutable_data_ptr<float>(), M, N, V, D, window, negative,
              lr_start, lr_end, static_cast<uint64_t>(seed), full_context_update};
  // Deterministic: one warp walks every position in order. Otherwise a warp per position.
  const dim3 block = deterministic ? dim3(kWarp, 1) : dim3(kWarp, kWarpsPerBlock);
  const dim3 grid = deterministic ? dim3(1) : dim3(static_cast<unsigned>((M + kWarpsPerBlock - 1) / kWarpsPerBlock));
  cbow_ns_chunk_kernel<<<grid, block, 0, stream>>>(a);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  result[0] = loss.sum().item<double>();
  result[1] = trained.to(at::kDouble).sum().item<double>();
  return result;
}

}  // namespace

TORCH_LIBRARY_IMPL(wordembed, CUDA, m) {
  m.impl("cbow_ns_train_chunk_", &cbow_ns_train_chunk_cuda);
}

}  // namespace wordembed

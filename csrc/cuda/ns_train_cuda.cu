// Word2vec CBOW and skip-gram with negative sampling, with or without subword bags, on CUDA: the
// twin of cpu/ns_train_cpu.cpp, with the same arguments, the same checks (checks.h) and the same
// per-example math (ns_math.h). A warp trains one example at a time, its lanes sharing the D
// numbers of each row.
//
// The chunk trainer gives each warp whole sentences and walks their positions in order, as a CPU
// thread does, so that the warps' lock-free (Hogwild) updates collide only where the CPU threads'
// would; in deterministic mode a single warp walks every sentence in order. Random numbers are a
// counter-based hash of (seed, position, draw), so a chunk's samples depend only on its seed.
#include <ATen/ATen.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include <algorithm>
#include <cstdint>
#include <optional>

#include "ns_math.h"
#include "checks.h"
#include "cuda/warp.cuh"

namespace wordembed {
namespace {

constexpr int kMaxPerLane = 16;                   // numbers of a row per lane: D <= 512
constexpr int kMaxOutputs = 65;                   // 1 target + up to 64 negatives
constexpr int kStepSlots = (kMaxOutputs + kWarp - 1) / kWarp;  // output steps held per lane
// At most this many sentences are trained at once (a warp each, every warp walking sentences in a
// grid-stride loop). Hogwild's lost and stale updates grow with the number of writers: on an H100
// with GCIDE, every resident warp (about 8,400) gave 51 M words/s but 12.4% analogy
// accuracy against the CPU's 19.8%; 2,048 warps 13.6%; 512 warps 30 M words/s and 19.2%; 128
// warps 11 M words/s and 19.3%. A bound on writers, not on SMs: the quality depends on how many
// updates race, whatever the card.
constexpr int64_t kMaxTrainingWarps = 512;

// A lane's share of a row of D numbers is d = lane + 32 k, k < kMaxPerLane: kept in registers.
// row[d] += a * x[k] over the lane's share.
template <typename T>
__device__ __forceinline__ void lane_axpy(T* row, const T (&x)[kMaxPerLane], T a, int64_t D) {
#pragma unroll
  for (int k = 0; k < kMaxPerLane; ++k) {
    const int64_t d = threadIdx.x + k * kWarp;
    if (d < D) row[d] += a * x[k];
  }
}

// acc[k] += a * row[d] over the lane's share.
template <typename T>
__device__ __forceinline__ void lane_accumulate(T (&acc)[kMaxPerLane], const T* row, T a, int64_t D) {
#pragma unroll
  for (int k = 0; k < kMaxPerLane; ++k) {
    const int64_t d = threadIdx.x + k * kWarp;
    if (d < D) acc[k] += a * row[d];
  }
}

// One SGD step on one example, by one warp, as cpu/ns_train_cpu.cpp's train_example: the context
// rows given by for_each_context(f) (f called with each row of the input table), the outputs by
// output_row(j) for j < m (row 0 the target, then the negatives; -1 for an output left out).
// Every output is scored before anything moves. Returns the example's loss (in every lane).
template <typename T, typename ForEachContext, typename OutputRow>
__device__ double train_example_warp(T* in, T* out, int64_t D, int64_t n, ForEachContext&& for_each_context,
                                     int m, OutputRow&& output_row, T lr, bool full_context_update) {
  const int lane = threadIdx.x;
  T hidden[kMaxPerLane], grad[kMaxPerLane], step_slot[kStepSlots];
#pragma unroll
  for (int k = 0; k < kMaxPerLane; ++k) hidden[k] = grad[k] = T(0);
#pragma unroll
  for (int s = 0; s < kStepSlots; ++s) step_slot[s] = T(0);
  for_each_context([&](int64_t row) { lane_accumulate(hidden, in + row * D, T(1), D); });
  const T inv_n = n ? T(1) / T(n) : T(0);
#pragma unroll
  for (int k = 0; k < kMaxPerLane; ++k) hidden[k] *= inv_n;
  double loss = 0.0;
  for (int j = 0; j < m; ++j) {  // score every output; the gradient for h from the rows as they are
    const int64_t row = output_row(j);
    if (row < 0) continue;  // uniform across the warp
    const T* r = out + row * D;
    T partial = T(0);
#pragma unroll
    for (int k = 0; k < kMaxPerLane; ++k) {
      const int64_t d = lane + k * kWarp;
      if (d < D) partial += hidden[k] * r[d];
    }
    const T score = warp_sum(partial);
    const Logistic<T> term = logistic(j == 0 ? score : -score);
    loss += static_cast<double>(term.loss);
    const T step = j == 0 ? lr * term.step : -lr * term.step;  // minus the gradient, times lr
    lane_accumulate(grad, r, step, D);
    // Lane j % 32 keeps output j's step (registers, not a per-thread array in local memory).
#pragma unroll
    for (int s = 0; s < kStepSlots; ++s)
      if (j / kWarp == s && lane == j % kWarp) step_slot[s] = step;
  }
  __syncwarp();
  for (int j = 0; j < m; ++j) {
    const int64_t row = output_row(j);
    if (row < 0) continue;
    T mine = step_slot[0];
#pragma unroll
    for (int s = 1; s < kStepSlots; ++s)
      if (j / kWarp == s) mine = step_slot[s];
    lane_axpy(out + row * D, hidden, __shfl_sync(kFullMask, mine, j % kWarp), D);
  }
  __syncwarp();
  const T context_scale = full_context_update ? T(1) : inv_n;
  for_each_context([&](int64_t row) { lane_axpy(in + row * D, grad, context_scale, D); });
  __syncwarp();
  return loss;
}

// ns_step_: one warp trains the examples in order, as the CPU does.
template <typename T>
__global__ void ns_step_kernel(T* in, T* out, int64_t D, const int64_t* __restrict__ ctx, int64_t B,
                                    int64_t C, const int64_t* __restrict__ targets,
                                    const int64_t* __restrict__ negatives, int64_t K, T lr,
                                    bool full_context_update, double* __restrict__ losses) {
  for (int64_t b = 0; b < B; ++b) {
    const int64_t* bag = ctx + b * C;
    int64_t n = 0;
    for (int64_t j = 0; j < C; ++j) n += bag[j] >= 0;
    const double loss = train_example_warp<T>(
        in, out, D, n,
        [&](auto&& f) {
          for (int64_t j = 0; j < C; ++j)
            if (bag[j] >= 0) f(bag[j]);
        },
        static_cast<int>(K + 1), [&](int j) { return j == 0 ? targets[b] : negatives[b * K + j - 1]; },
        lr, full_context_update);
    if (threadIdx.x == 0) losses[b] = loss;
  }
}

// The keep draw of every position of the chunk (draw 0 of the position).
__global__ void keep_kernel(const int32_t* __restrict__ ids, const double* __restrict__ keep_prob,
                            bool* __restrict__ keep, int64_t N, uint64_t seed) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < N) {
    CounterRandom random(seed, static_cast<uint64_t>(i), 0);
    keep[i] = keep_word(keep_prob[ids[i]], [&] { return random.uniform(); });
  }
}

struct ChunkArgs {
  float* in;
  float* out;
  const int32_t* words;        // kept words of the chunk, in order (M)
  const int64_t* kept_starts;  // where each sentence's kept words begin, and M at the end (S + 1)
  const int64_t* starts;       // where each sentence begins in the chunk before subsampling (S + 1)
  const double* noise_prob;
  const int64_t* noise_alias;
  double* loss;                // per kept position (M)
  float* trained;              // examples trained at each kept position (M)
  const int64_t* bag_offsets;  // V + 1, or null: word w is input row w
  const int64_t* bag_rows;
  int64_t S, N, V, D, window, negative;
  double lr_start, lr_end;
  uint64_t seed;
  bool full_context_update, skipgram;
};

// The input rows of word w, f(row) for each: its subword bag, else row w.
template <typename F>
__device__ __forceinline__ void for_each_bag_row(const ChunkArgs& a, int64_t w, F&& f) {
  if (!a.bag_offsets) return f(w);
  for (int64_t r = a.bag_offsets[w]; r < a.bag_offsets[w + 1]; ++r) f(a.bag_rows[r]);
}

__device__ __forceinline__ int64_t bag_size(const ChunkArgs& a, int64_t w) {
  return a.bag_offsets ? a.bag_offsets[w + 1] - a.bag_offsets[w] : 1;
}

// A warp per sentence, its positions in order (draws 1.. of a kept position: the window, then two
// per negative).
__global__ void ns_chunk_kernel(ChunkArgs a) {
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.y;
  for (int64_t s = first; s < a.S; s += stride) {
    const int64_t s0 = a.kept_starts[s], s1 = a.kept_starts[s + 1];
    const float lr = static_cast<float>(learning_rate(a.lr_start, a.lr_end, a.starts[s], a.N));
    for (int64_t p = s0; p < s1; ++p) {
      CounterRandom random(a.seed, static_cast<uint64_t>(p), 1);
      const int64_t reach = window_reach(a.window, [&] { return random.uniform(); });
      const int64_t lo = p - reach < s0 ? s0 : p - reach;
      const int64_t hi = p + reach + 1 > s1 ? s1 : p + reach + 1;
      // The outputs of the position's examples: its word, then the negatives (draws 2, 3, ...).
      const int64_t target = a.words[p];
      const auto outputs = [&a, p, target](int j) -> int64_t {  // drawn again on each call: no array
        if (j == 0) return target;
        CounterRandom draws(a.seed, static_cast<uint64_t>(p), 2 + 2 * static_cast<uint64_t>(j - 1));
        const int64_t w = draw_negative(a.V, a.noise_prob, a.noise_alias, [&] { return draws.uniform(); });
        return w == target ? -1 : w;  // a negative equal to the target is left out, as on the CPU
      };
      double loss = 0.0;
      float trained = 0.f;
      if (a.skipgram) {  // word2vec's: each word around the centre (its bag) predicts it, against
                         // the centre's negatives, drawn once for all of them (as on the CPU)
        for (int64_t q = lo; q < hi; ++q) {
          if (q == p) continue;
          const int64_t word = a.words[q];
          loss += train_example_warp<float>(
              a.in, a.out, a.D, bag_size(a, word), [&](auto&& f) { for_each_bag_row(a, word, f); },
              static_cast<int>(a.negative + 1), outputs, lr, a.full_context_update);
          trained += 1.f;
        }
      } else if (hi - lo > 1) {  // the bags of the words around predict the centre
        int64_t n = 0;
        for (int64_t q = lo; q < hi; ++q)
          if (q != p) n += bag_size(a, a.words[q]);
        loss = train_example_warp<float>(
            a.in, a.out, a.D, n,
            [&](auto&& f) {
              for (int64_t q = lo; q < hi; ++q)
                if (q != p) for_each_bag_row(a, a.words[q], f);
            },
            static_cast<int>(a.negative + 1), outputs, lr, a.full_context_update);
        trained = 1.f;
      }
      if (threadIdx.x == 0) {
        a.loss[p] = loss;
        a.trained[p] = trained;
      }
    }
  }
}

// What the CUDA trainer supports beyond the common checks: float32 tables of dim <= 512 and at
// most 64 negatives (a lane keeps its share of a row, and the outputs' steps, in registers).
void check_cuda_limits(const at::Tensor& in, int64_t D, int64_t negative) {
  TORCH_CHECK_TYPE(in.scalar_type() == at::kFloat, "CUDA training needs float32 tables, got ",
                   dtype_name(in.scalar_type()));
  TORCH_CHECK_VALUE(D <= kWarp * kMaxPerLane, "CUDA training supports dim up to ", kWarp * kMaxPerLane,
                    ", got ", D);
  TORCH_CHECK_VALUE(negative < kMaxOutputs, "CUDA training supports up to ", kMaxOutputs - 1,
                    " negatives, got ", negative);
}

at::Tensor ns_step_cuda(at::Tensor& in, at::Tensor& out, const at::Tensor& context,
                             const at::Tensor& targets, const at::Tensor& negatives, double lr,
                             bool full_context_update) {
  const c10::cuda::CUDAGuard guard(in.device());
  check_step_args(in, out, context, targets, negatives);
  const int64_t D = in.size(1), B = context.size(0), C = context.size(1), K = negatives.size(1);
  TORCH_CHECK_TYPE(in.scalar_type() == at::kFloat || in.scalar_type() == at::kDouble,
                   "the tables must be float32 or float64, got ", dtype_name(in.scalar_type()));
  TORCH_CHECK_VALUE(D <= kWarp * kMaxPerLane, "CUDA training supports dim up to ", kWarp * kMaxPerLane,
                    ", got ", D);
  TORCH_CHECK_VALUE(K + 1 <= kMaxOutputs, "CUDA training supports up to ", kMaxOutputs - 1,
                    " negatives, got ", K);
  const auto ctx = context.to(at::kLong).contiguous();
  const auto tgt = targets.to(at::kLong).contiguous();
  const auto neg = negatives.to(at::kLong).contiguous();
  auto losses = at::empty({B}, in.options().dtype(at::kDouble));
  if (B == 0) return losses;
  const auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(in.scalar_type(), "ns_step_cuda", [&] {
    ns_step_kernel<scalar_t><<<1, kWarp, 0, stream>>>(
        in.mutable_data_ptr<scalar_t>(), out.mutable_data_ptr<scalar_t>(), D, ctx.const_data_ptr<int64_t>(), B, C,
        tgt.const_data_ptr<int64_t>(), neg.const_data_ptr<int64_t>(), K, static_cast<scalar_t>(lr),
        full_context_update, losses.mutable_data_ptr<double>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return losses;
}

at::Tensor ns_train_chunk_cuda(at::Tensor& in, at::Tensor& out, const at::Tensor& ids_in,
                               const at::Tensor& starts_in, const at::Tensor& keep_in,
                               const at::Tensor& noise_prob_in, const at::Tensor& noise_alias_in, int64_t window,
                               int64_t negative, double lr_start, double lr_end, int64_t seed, bool deterministic,
                               bool full_context_update, bool skipgram, const std::optional<at::Tensor>& bag_offsets,
                               const std::optional<at::Tensor>& bag_rows, int64_t shared_negatives) {
  const c10::cuda::CUDAGuard guard(in.device());
  check_chunk_args(in, out, ids_in, starts_in, keep_in, noise_prob_in, noise_alias_in, window, negative,
                   bag_offsets, bag_rows, shared_negatives);
  // The CUDA trainer's warps already share each output row's loads across a position's examples;
  // blocks of positions have not been measured on a GPU yet.
  TORCH_CHECK_VALUE(shared_negatives == 0, "shared_negatives (blocks of positions sharing negatives) is for the "
                    "CPU trainer; on CUDA pass 0, got ", shared_negatives);
  const int64_t V = out.size(0), D = in.size(1);
  check_cuda_limits(in, D, negative);
  at::Tensor offsets, rows;
  if (bag_offsets) {
    offsets = bag_offsets->to(at::kLong).contiguous();
    rows = bag_rows->to(at::kLong).contiguous();
    check_bags(offsets.cpu(), rows, V, in.size(0));  // reads the offsets back to the host
  }
  const auto ids = ids_in.to(at::kInt).contiguous();
  const auto starts = starts_in.to(at::kLong).contiguous();
  const int64_t N = ids.numel(), S = starts.numel() - 1;
  check_sentence_starts(starts.cpu(), N);  // reads the offsets back to the host
  // The statistics are read by the host anyway: like the CPU kernel's, the result is a CPU tensor.
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
  // The sentence of each kept word, then where each sentence's kept words begin.
  const auto sentence = at::searchsorted(starts, position, /*out_int32=*/false, /*right=*/true) - 1;
  const auto kept_starts =
      at::searchsorted(sentence, at::arange(S + 1, sentence.options()), /*out_int32=*/false, /*right=*/false)
          .contiguous();
  auto loss = at::empty({M}, in.options().dtype(at::kDouble));
  auto trained = at::empty({M}, in.options());

  ChunkArgs a{in.mutable_data_ptr<float>(), out.mutable_data_ptr<float>(), words.const_data_ptr<int32_t>(),
              kept_starts.const_data_ptr<int64_t>(), starts.const_data_ptr<int64_t>(),
              noise_prob.const_data_ptr<double>(), noise_alias.const_data_ptr<int64_t>(),
              loss.mutable_data_ptr<double>(), trained.mutable_data_ptr<float>(),
              bag_offsets ? offsets.const_data_ptr<int64_t>() : nullptr,
              bag_offsets ? rows.const_data_ptr<int64_t>() : nullptr, S, N, V, D, window, negative,
              lr_start, lr_end, static_cast<uint64_t>(seed), full_context_update, skipgram};
  // Deterministic: one warp walks every sentence in order. Otherwise a warp per sentence, at most
  // kMaxTrainingWarps at a time.
  const dim3 block = deterministic ? dim3(kWarp, 1) : dim3(kWarp, kWarpsPerBlock);
  const dim3 grid = deterministic ? dim3(1) : warp_blocks(std::min(S, kMaxTrainingWarps));
  ns_chunk_kernel<<<grid, block, 0, stream>>>(a);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  result[0] = loss.sum().item<double>();
  result[1] = trained.to(at::kDouble).sum().item<double>();
  return result;
}

}  // namespace

TORCH_LIBRARY_IMPL(wordembed, CUDA, m) {
  m.impl("ns_step_", &ns_step_cuda);
  m.impl("ns_train_chunk_", &ns_train_chunk_cuda);
}

}  // namespace wordembed

// The per-example math of word2vec with negative sampling (CBOW and skip-gram), written once for the CPU trainer
// (cpu/ns_train_cpu.cpp) and the CUDA trainer (cuda/ns_train_cuda.cu): random numbers, the
// subsampling, window and negative draws, the learning rate, and the logistic loss and step.
// Compiled by the host compiler and by nvcc (for host and device).
#pragma once
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define WORDEMBED_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define WORDEMBED_HOST_DEVICE inline
#endif

namespace wordembed {

constexpr uint64_t kGoldenGamma = 0x9E3779B97F4A7C15ull;

// splitmix64's finaliser: a 64-bit mix good enough for sampling.
WORDEMBED_HOST_DEVICE uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A uniform double in [0, 1) from the top 53 bits.
WORDEMBED_HOST_DEVICE double uniform01(uint64_t bits) { return (bits >> 11) * 0x1.0p-53; }

// A sequential splitmix64 stream: the CPU trainer gives each thread one.
struct Random {
  uint64_t state;
  WORDEMBED_HOST_DEVICE explicit Random(uint64_t seed) : state(seed) {}
  WORDEMBED_HOST_DEVICE uint64_t next() { return mix64(state += kGoldenGamma); }
  WORDEMBED_HOST_DEVICE double uniform() { return uniform01(next()); }
};

// A counter-based stream: draw k of a position, the same whatever thread asks and in what order
// (the CUDA trainer's, where positions are trained by many warps at once).
struct CounterRandom {
  uint64_t seed, position, k;
  WORDEMBED_HOST_DEVICE CounterRandom(uint64_t seed, uint64_t position, uint64_t first)
      : seed(seed), position(position), k(first) {}
  WORDEMBED_HOST_DEVICE double uniform() {
    return uniform01(mix64(mix64(seed + kGoldenGamma * (position + 1)) + k++));
  }
};

// A whole number in [0, n) from a uniform draw.
WORDEMBED_HOST_DEVICE int64_t below(double u, int64_t n) { return static_cast<int64_t>(u * n); }

// word2vec's subsampling: a word is kept with probability keep_prob (always when it is >= 1,
// without a draw, so that frequent-enough words cost no random number).
template <typename Uniform>
WORDEMBED_HOST_DEVICE bool keep_word(double keep_prob, Uniform&& uniform) {
  return keep_prob >= 1.0 || uniform() < keep_prob;
}

// word2vec's shrinking window: the context reaches 1..window words to each side.
template <typename Uniform>
WORDEMBED_HOST_DEVICE int64_t window_reach(int64_t window, Uniform&& uniform) {
  return window - below(uniform(), window);
}

// A negative from the unigram^0.75 distribution by the alias method: a word k uniformly, kept
// with probability noise_prob[k], else noise_alias[k].
template <typename Uniform>
WORDEMBED_HOST_DEVICE int64_t draw_negative(int64_t num_words, const double* noise_prob,
                                            const int64_t* noise_alias, Uniform&& uniform) {
  const int64_t k = below(uniform(), num_words);
  return uniform() >= noise_prob[k] ? noise_alias[k] : k;
}

// The learning rate of a sentence that starts at `position` of a chunk of `words` words: linear
// from lr_start at the chunk's start to lr_end at its end.
WORDEMBED_HOST_DEVICE double learning_rate(double lr_start, double lr_end, int64_t position, int64_t words) {
  return lr_start + (lr_end - lr_start) * double(position) / double(words > 1 ? words : 1);
}

WORDEMBED_HOST_DEVICE float exp_of(float x) { return expf(x); }
WORDEMBED_HOST_DEVICE double exp_of(double x) { return exp(x); }
WORDEMBED_HOST_DEVICE float log1p_of(float x) { return log1pf(x); }
WORDEMBED_HOST_DEVICE double log1p_of(double x) { return log1p(x); }

// For an output scored y = +score (the target) or -score (a negative): the example's loss term
// -log(sigmoid(y)) and sigmoid(-y), the size of the step towards the output's label. Both from
// one exp and one log1p in T, without overflow: with e = exp(-|y|), sigmoid(-y) is e / (1 + e)
// for y >= 0 and 1 / (1 + e) below, and -log(sigmoid(y)) = log1p(e) + max(-y, 0). (Computing
// the loss in double, apart from the sigmoid, took a sixth of the CPU training time.)
template <typename T>
struct Logistic {
  T loss, step;
};

// The same without the logarithm: e = exp(-|y|), the step, and max(-y, 0), so that the loss is
// log1p(e) + hinge. The CPU trainer sums an example's losses as one log of a product of (1 + e):
// log1pf took a tenth of its time, once per output.
template <typename T>
struct LogisticParts {
  T e, step, hinge;
};

template <typename T>
WORDEMBED_HOST_DEVICE LogisticParts<T> logistic_parts(T y) {
  const T e = exp_of(y < T(0) ? y : -y);
  return y >= T(0) ? LogisticParts<T>{e, e / (T(1) + e), T(0)} : LogisticParts<T>{e, T(1) / (T(1) + e), -y};
}

template <typename T>
WORDEMBED_HOST_DEVICE Logistic<T> logistic(T y) {
  const LogisticParts<T> parts = logistic_parts(y);
  return Logistic<T>{log1p_of(parts.e) + parts.hinge, parts.step};
}

}  // namespace wordembed

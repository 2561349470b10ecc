// train_block (ns_block.h), cloned per instruction set with every row loop inlined: one call per
// block rather than one per row.
#include "cpu/ns_block.h"

#include <algorithm>
#include <cmath>

#include "cpu/row_loops.h"
#include "ns_math.h"

namespace wordembed {
namespace {

using namespace row_loops;

// exp(x) for x <= 0 in float without a call: x = k ln2 + r with |r| <= ln2 / 2, e^r by Cephes'
// degree-7 polynomial (about 1 ulp), 2^k written into the exponent. Below -87 it returns e^-87
// (about 1.6e-38), which no step or loss can tell from 0. std::exp's call, once per score, took a
// fifth of the trainer's time.
WORDEMBED_INLINE float exp_nonpositive(float x) {
  x = x < -87.0f ? -87.0f : x;
  const float k = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round to nearest
  const float r = (x - k * 0.693359375f) - k * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
  float scale;
  __builtin_memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}
WORDEMBED_INLINE double exp_nonpositive(double x) { return std::exp(x); }

// logistic_parts (ns_math.h) with the exp above.
template <typename T>
WORDEMBED_INLINE LogisticParts<T> fast_logistic_parts(T y) {
  const T e = exp_nonpositive(y < T(0) ? y : -y);
  return y >= T(0) ? LogisticParts<T>{e, e / (T(1) + e), T(0)} : LogisticParts<T>{e, T(1) / (T(1) + e), -y};
}

// hidden[i]: the mean of input i's bag.
template <typename T>
WORDEMBED_INLINE void bag_means(const T* in, int64_t D, NsBlock<T>& b) {
  const int64_t n = b.inputs();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t r0 = b.row_start[i], count = b.row_start[i + 1] - r0;
    b.pointers.resize(count);
    for (int64_t k = 0; k < count; ++k) b.pointers[k] = in + b.rows[r0 + k] * D;
    sum_rows_impl(b.hidden.data() + i * D, b.pointers.data(), count, D, count ? T(1) / T(count) : T(0));
  }
}

// step[i][o]: lr times minus the gradient of input i's loss by its score with output o (0: its
// target, 1 + k: negative k; 0 where the negative is its target and is left out). First every
// signed score y (the target's +score, a negative's -score), then their logistic parts in one
// loop without calls, which the compiler vectorises. Returns the block's loss.
template <typename T>
WORDEMBED_INLINE double output_steps(const T* out, int64_t D, NsBlock<T>& b, T lr) {
  const int64_t n = b.inputs(), K = static_cast<int64_t>(b.negatives.size()), m = 1 + K;
  T* y = b.step.data();
  b.sign.resize(n * m);
  b.pointers.resize(m);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t target = b.targets[b.owner[i]];
    b.pointers[0] = out + target * D;
    for (int64_t k = 0; k < K; ++k) b.pointers[1 + k] = out + b.negatives[k] * D;
    dots_impl(b.hidden.data() + i * D, b.pointers.data(), m, D, y + i * m);
    for (int64_t o = 0; o < m; ++o) {
      const bool left_out = o > 0 && b.negatives[o - 1] == target && b.leave_out_target;
      const T sign = o == 0 ? T(1) : left_out ? T(0) : T(-1);
      b.sign[i * m + o] = sign;
      y[i * m + o] *= sign;
    }
  }
  b.e.resize(n * m);
  T* e = b.e.data();
  const T* sign = b.sign.data();
  T hinge = 0;
  for (int64_t j = 0; j < n * m; ++j) {
    const LogisticParts<T> term = fast_logistic_parts(y[j]);
    e[j] = term.e * sign[j] * sign[j];
    hinge += term.hinge;
    y[j] = lr * sign[j] * term.step;
  }
  // The loss is sum log1p(e) + hinge = log(prod (1 + e)) + sum hinge, with four running
  // products (each factor is in (1, 2]) folded into the sum every 4 x 256 factors: one log per
  // 256 scores rather than one log1p each.
  double loss = static_cast<double>(hinge), product[4] = {1, 1, 1, 1};
  for (int64_t j = 0; j < n * m; ++j) {
    product[j & 3] *= 1.0 + static_cast<double>(e[j]);
    if ((j & 1023) == 1023) {
      loss += std::log((product[0] * product[1]) * (product[2] * product[3]));
      product[0] = product[1] = product[2] = product[3] = 1;
    }
  }
  return loss + std::log((product[0] * product[1]) * (product[2] * product[3]));
}

// Each output row gets sum_i step[i][o] * hidden[i] in one pass: the targets position by
// position (inputs are grouped by position), then each negative over every input.
template <typename T>
WORDEMBED_INLINE void update_outputs(T* out, int64_t D, NsBlock<T>& b) {
  const int64_t n = b.inputs(), K = static_cast<int64_t>(b.negatives.size()), m = 1 + K;
  std::vector<T>& coef = b.coef;
  b.pointers.resize(n);
  for (int64_t i0 = 0; i0 < n;) {
    int64_t i1 = i0;
    while (i1 < n && b.owner[i1] == b.owner[i0]) ++i1;
    coef.resize(i1 - i0);
    for (int64_t i = i0; i < i1; ++i) {
      b.pointers[i - i0] = b.hidden.data() + i * D;
      coef[i - i0] = b.step[i * m];
    }
    combine_rows_impl(out + b.targets[b.owner[i0]] * D, b.pointers.data(), coef.data(), i1 - i0, D, true);
    i0 = i1;
  }
  coef.resize(n);
  for (int64_t i = 0; i < n; ++i) b.pointers[i] = b.hidden.data() + i * D;
  for (int64_t k = 0; k < K; ++k) {
    for (int64_t i = 0; i < n; ++i) coef[i] = b.step[i * m + 1 + k];
    combine_rows_impl(out + b.negatives[k] * D, b.pointers.data(), coef.data(), n, D, true);
  }
}

template <typename T>
WORDEMBED_INLINE double train_block_impl(T* in, T* out, int64_t D, NsBlock<T>& b, T lr, bool full_context_update) {
  const int64_t n = b.inputs(), K = static_cast<int64_t>(b.negatives.size()), m = 1 + K;
  // The output rows are scattered over their table: ask for them now, so that their loads
  // overlap with the bags' sums below.
  for (const int64_t t : b.targets) prefetch_row(out + t * D, D * sizeof(T));
  for (const int64_t w : b.negatives) prefetch_row(out + w * D, D * sizeof(T));
  b.hidden.resize(n * D);
  b.hidden_grad.resize(n * D);
  b.step.resize(n * m);
  bag_means(in, D, b);
  const double loss = output_steps(out, D, b, lr);
  // hidden_grad[i] = sum_o step[i][o] * output row o, from the rows as they were.
  b.pointers.resize(m);
  for (int64_t i = 0; i < n; ++i) {
    b.pointers[0] = out + b.targets[b.owner[i]] * D;
    for (int64_t k = 0; k < K; ++k) b.pointers[1 + k] = out + b.negatives[k] * D;
    combine_rows_impl(b.hidden_grad.data() + i * D, b.pointers.data(), b.step.data() + i * m, m, D, false);
  }
  update_outputs(out, D, b);
  // Each row of input i's bag gets its hidden_grad (1/count of it without full_context_update).
  for (int64_t i = 0; i < n; ++i) {
    const int64_t r0 = b.row_start[i], count = b.row_start[i + 1] - r0;
    const T scale = full_context_update ? T(1) : T(1) / T(count);
    const T* g = b.hidden_grad.data() + i * D;
    for (int64_t k = 0; k < count; ++k) axpy_impl(in + b.rows[r0 + k] * D, g, scale, D);
  }
  return loss;
}

}  // namespace

WORDEMBED_CLONES double train_block(float* in, float* out, int64_t D, NsBlock<float>& block, float lr,
                                    bool full_context_update) {
  return train_block_impl(in, out, D, block, lr, full_context_update);
}
WORDEMBED_CLONES double train_block(double* in, double* out, int64_t D, NsBlock<double>& block, double lr,
                                    bool full_context_update) {
  return train_block_impl(in, out, D, block, lr, full_context_update);
}

}  // namespace wordembed

// The inner loops of every CPU kernel, on rows of D numbers:
//   sum_rows: out = scale * (rows[0] + ... + rows[n-1])
//   axpy:     y += a * x
//   dot:      sum of x * y
//   scatter_axpy: the loop of a scatter, target[row] += coef * scale[bag] * grad[bag] for a list
//                 of (bag, row) entries (times the entry's own weight, for weighted entries),
//                 with the rows prefetched a few entries ahead
// float and double versions are compiled for AVX-512, AVX2 and baseline x86-64 and picked at load
// time (row_kernels.cpp); other types (half, bfloat16) use the portable templates below, summing
// in float.
#pragma once
#include <cstdint>
#include <vector>

namespace wordembed {

void sum_rows(float* out, const float* const* rows, int64_t n, int64_t D, float scale);
void sum_rows(double* out, const double* const* rows, int64_t n, int64_t D, double scale);
void axpy(float* y, const float* x, float a, int64_t D);
void axpy(double* y, const double* x, double a, int64_t D);
float dot(const float* x, const float* y, int64_t D);
double dot(const double* x, const double* y, int64_t D);

struct ScatterEntry {
  int64_t bag, row;
};
// An entry that also carries its own weight (nn.EmbeddingBag's per_sample_weights).
template <typename Acc>
struct WeightedScatterEntry {
  int64_t bag, row;
  Acc weight;
};
template <typename Acc>
inline Acc entry_weight(const ScatterEntry&) { return Acc(1); }
template <typename Acc>
inline Acc entry_weight(const WeightedScatterEntry<Acc>& e) { return e.weight; }
// The distance at which scatter_axpy prefetches rows, in entries.
constexpr int64_t kScatterAhead = 8;

// A read prefetch of the rows about to be written, as inline assembly on x86-64: GCC removed a
// loop of __builtin_prefetch (it has no effect the program can see) from the functions cloned for
// x86-64-v3 and v4, and emits nothing for a write prefetch there (no PREFETCHW).
inline void prefetch_row(const void* row, int64_t bytes) {
  for (int64_t byte = 0; byte < bytes; byte += 64) {
#if defined(__x86_64__) && defined(__GNUC__)
    asm volatile("prefetcht0 %0" : : "m"(*(static_cast<const char*>(row) + byte)));
#else
    __builtin_prefetch(static_cast<const char*>(row) + byte);
#endif
  }
}

void scatter_axpy(float* target, int64_t stride, const float* grad, int64_t D,
                  const ScatterEntry* entries, int64_t n, const float* scale, float coef);
void scatter_axpy(double* target, int64_t stride, const double* grad, int64_t D,
                  const ScatterEntry* entries, int64_t n, const double* scale, double coef);
void scatter_axpy(float* target, int64_t stride, const float* grad, int64_t D,
                  const WeightedScatterEntry<float>* entries, int64_t n, const float* scale, float coef);
void scatter_axpy(double* target, int64_t stride, const double* grad, int64_t D,
                  const WeightedScatterEntry<double>* entries, int64_t n, const double* scale, double coef);

template <typename T, typename Acc>
void sum_rows(T* out, const T* const* rows, int64_t n, int64_t D, Acc scale) {
  std::vector<Acc> acc(D, Acc(0));
  for (int64_t k = 0; k < n; ++k)
    for (int64_t d = 0; d < D; ++d) acc[d] += static_cast<Acc>(rows[k][d]);
  for (int64_t d = 0; d < D; ++d) out[d] = static_cast<T>(acc[d] * scale);
}

template <typename Y, typename X, typename Acc>
void axpy(Y* y, const X* x, Acc a, int64_t D) {
  for (int64_t d = 0; d < D; ++d)
    y[d] = static_cast<Y>(static_cast<Acc>(y[d]) + a * static_cast<Acc>(x[d]));
}

// The loop of scatter_axpy, with row_axpy(y, x, a) doing y += a * x on one row: the float and
// double versions (row_kernels.cpp) pass their inlined loop, other types the template above.
// Always inlined, so that the float and double clones compile it for their instruction set.
template <typename T, typename G, typename Acc, typename Entry, typename RowAxpy>
inline __attribute__((always_inline)) void scatter_axpy_loop(T* target, int64_t stride, const G* grad, int64_t D,
                              const Entry* entries, int64_t n, const Acc* scale, Acc coef,
                              RowAxpy row_axpy) {
  for (int64_t i = 0; i < n; ++i) {
    if (i + kScatterAhead < n)
      prefetch_row(target + entries[i + kScatterAhead].row * stride, D * sizeof(T));
    const Entry e = entries[i];
    row_axpy(target + e.row * stride, grad + e.bag * D, coef * scale[e.bag] * entry_weight<Acc>(e));
  }
}

template <typename T, typename G, typename Acc, typename Entry>
void scatter_axpy(T* target, int64_t stride, const G* grad, int64_t D, const Entry* entries,
                  int64_t n, const Acc* scale, Acc coef) {
  scatter_axpy_loop(target, stride, grad, D, entries, n, scale, coef,
                    [D](T* y, const G* x, Acc a) { axpy(y, x, a, D); });
}

}  // namespace wordembed

// float and double inner loops, cloned per instruction set: wheels and source builds use the
// widest vectors the running CPU has, without -march=native.
#include "cpu/row_kernels.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define WORDEMBED_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define WORDEMBED_CLONES
#endif
#define WORDEMBED_INLINE inline __attribute__((always_inline))

namespace wordembed {
namespace {

constexpr int64_t kRowsAhead = 8;  // rows between the one summed and the one prefetched

// Rows are added four at a time, so that four rows' cache lines are loaded at once.
template <typename T>
WORDEMBED_INLINE void sum_rows_impl(T* __restrict out, const T* const* rows, int64_t n, int64_t D,
                                    T scale) {
  int64_t k = 0;
  if (n % 4 == 0) {
    for (int64_t d = 0; d < D; ++d) out[d] = T(0);
  } else {  // the first n % 4 rows set out
    const T* __restrict r0 = rows[0];
    const T* __restrict r1 = n % 4 > 1 ? rows[1] : nullptr;
    const T* __restrict r2 = n % 4 > 2 ? rows[2] : nullptr;
    if (n % 4 == 1) for (int64_t d = 0; d < D; ++d) out[d] = r0[d];
    if (n % 4 == 2) for (int64_t d = 0; d < D; ++d) out[d] = r0[d] + r1[d];
    if (n % 4 == 3) for (int64_t d = 0; d < D; ++d) out[d] = (r0[d] + r1[d]) + r2[d];
    k = n % 4;
  }
  for (; k < n; k += 4) {
    // Rows lie anywhere in the table: their loads are what a long bag waits on, so the rows
    // kRowsAhead further on are asked for while these four are summed.
    for (int64_t a = k + kRowsAhead; a < k + kRowsAhead + 4 && a < n; ++a)
      for (int64_t byte = 0; byte < D * static_cast<int64_t>(sizeof(T)); byte += 64)
        __builtin_prefetch(reinterpret_cast<const char*>(rows[a]) + byte);
    const T* __restrict r0 = rows[k];
    const T* __restrict r1 = rows[k + 1];
    const T* __restrict r2 = rows[k + 2];
    const T* __restrict r3 = rows[k + 3];
    for (int64_t d = 0; d < D; ++d) out[d] += (r0[d] + r1[d]) + (r2[d] + r3[d]);
  }
  if (scale != T(1))
    for (int64_t d = 0; d < D; ++d) out[d] *= scale;
}

template <typename T>
WORDEMBED_INLINE void axpy_impl(T* __restrict y, const T* __restrict x, T a, int64_t D) {
  for (int64_t d = 0; d < D; ++d) y[d] += a * x[d];
}

template <typename T>
WORDEMBED_INLINE T dot_impl(const T* __restrict x, const T* __restrict y, int64_t D) {
  // Eight partial sums, so that the compiler may vectorise without reordering a single sum.
  T part[8] = {};
  int64_t d = 0;
  for (; d + 8 <= D; d += 8)
    for (int i = 0; i < 8; ++i) part[i] += x[d + i] * y[d + i];
  T total = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
  for (; d < D; ++d) total += x[d] * y[d];
  return total;
}

// One function for the whole loop, so that axpy is inlined rather than called per entry through
// the clones' dispatch.
template <typename T, typename Entry>
WORDEMBED_INLINE void scatter_axpy_impl(T* target, int64_t stride, const T* grad, int64_t D,
                                        const Entry* entries, int64_t n, const T* scale, T coef) {
  scatter_axpy_loop(target, stride, grad, D, entries, n, scale, coef,
                    [D](T* y, const T* x, T a) __attribute__((always_inline)) { axpy_impl(y, x, a, D); });
}

}  // namespace

WORDEMBED_CLONES void scatter_axpy(float* target, int64_t stride, const float* grad, int64_t D,
                                   const ScatterEntry* entries, int64_t n, const float* scale, float coef) {
  scatter_axpy_impl(target, stride, grad, D, entries, n, scale, coef);
}
WORDEMBED_CLONES void scatter_axpy(double* target, int64_t stride, const double* grad, int64_t D,
                                   const ScatterEntry* entries, int64_t n, const double* scale, double coef) {
  scatter_axpy_impl(target, stride, grad, D, entries, n, scale, coef);
}

WORDEMBED_CLONES void scatter_axpy(float* target, int64_t stride, const float* grad, int64_t D,
                                   const WeightedScatterEntry<float>* entries, int64_t n, const float* scale,
                                   float coef) {
  scatter_axpy_impl(target, stride, grad, D, entries, n, scale, coef);
}
WORDEMBED_CLONES void scatter_axpy(double* target, int64_t stride, const double* grad, int64_t D,
                                   const WeightedScatterEntry<double>* entries, int64_t n, const double* scale,
                                   double coef) {
  scatter_axpy_impl(target, stride, grad, D, entries, n, scale, coef);
}

WORDEMBED_CLONES float dot(const float* x, const float* y, int64_t D) { return dot_impl(x, y, D); }
WORDEMBED_CLONES double dot(const double* x, const double* y, int64_t D) { return dot_impl(x, y, D); }

WORDEMBED_CLONES void sum_rows(float* out, const float* const* rows, int64_t n, int64_t D, float scale) {
  sum_rows_impl(out, rows, n, D, scale);
}
WORDEMBED_CLONES void sum_rows(double* out, const double* const* rows, int64_t n, int64_t D, double scale) {
  sum_rows_impl(out, rows, n, D, scale);
}
WORDEMBED_CLONES void axpy(float* y, const float* x, float a, int64_t D) { axpy_impl(y, x, a, D); }
WORDEMBED_CLONES void axpy(double* y, const double* x, double a, int64_t D) { axpy_impl(y, x, a, D); }

}  // namespace wordembed

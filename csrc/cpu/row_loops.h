// The row loops of the CPU kernels, as always-inlined templates: row_kernels.cpp and ns_block.cpp
// include them into functions cloned per instruction set, so that each clone compiles them for
// its own vectors.
#pragma once
#include <cstdint>

#include "cpu/row_kernels.h"

#define WORDEMBED_INLINE inline __attribute__((always_inline))
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define WORDEMBED_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define WORDEMBED_CLONES
#endif

namespace wordembed {
namespace row_loops {

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

// combine_rows_impl on the W numbers of y from d0, held in registers while every x row passes.
template <int W, typename T>
WORDEMBED_INLINE void combine_span(T* __restrict y, const T* const* x, const T* a, int64_t n, int64_t d0, bool add) {
  T acc[W];
  for (int j = 0; j < W; ++j) acc[j] = add ? y[d0 + j] : T(0);
  for (int64_t i = 0; i < n; ++i) {
    const T* __restrict xi = x[i] + d0;
    const T ai = a[i];
    for (int j = 0; j < W; ++j) acc[j] += ai * xi[j];
  }
  for (int j = 0; j < W; ++j) y[d0 + j] = acc[j];
}

// y = sum_i a[i] * x[i] (plus y's own values when add is true), sixteen numbers of y at a time
// (then eight, four, one for the rest: D = 100 ends in a span of four, not four scalar loops):
// y is loaded and stored once, not once per row. The terms are added in the order of i, as a
// loop of axpy would add them.
template <typename T>
WORDEMBED_INLINE void combine_rows_impl(T* __restrict y, const T* const* x, const T* a, int64_t n, int64_t D,
                                        bool add) {
  int64_t d0 = 0;
  for (; d0 + 16 <= D; d0 += 16) combine_span<16>(y, x, a, n, d0, add);
  if (d0 + 8 <= D) combine_span<8>(y, x, a, n, d0, add), d0 += 8;
  if (d0 + 4 <= D) combine_span<4>(y, x, a, n, d0, add), d0 += 4;
  for (; d0 < D; ++d0) combine_span<1>(y, x, a, n, d0, add);
}

// Eight numbers as one value of GCC's vector extension: a register (AVX2, float), two (double),
// or what the clone's instruction set has; lane i always holds the same partial sum.
template <typename T>
struct Lanes8 {
  typedef T type __attribute__((vector_size(8 * sizeof(T))));
};
template <typename T>
WORDEMBED_INLINE typename Lanes8<T>::type load8(const T* p) {
  typename Lanes8<T>::type v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

// out[g] = dot(x, ys[g]) for G rows at once: the G sums are independent chains, so that their
// fused multiply-adds overlap instead of each waiting on the one before (a dot alone is a chain
// of D / 8 of them). Lane i sums the products of d = i mod 8, as dot_impl's; the last D mod 8
// products (D >= 8) come from one load of the last eight numbers, the lanes already counted
// multiplied by 0, rather than from a scalar loop after the lanes are added up.
template <int G, typename T>
WORDEMBED_INLINE void dots_group_impl(const T* __restrict x, const T* const* ys, int64_t D, T* out) {
  typedef typename Lanes8<T>::type V;
  V part[G];
  for (int g = 0; g < G; ++g) part[g] = V{};
  int64_t d = 0;
  for (; d + 8 <= D; d += 8) {
    const V xv = load8(x + d);
    for (int g = 0; g < G; ++g) part[g] += xv * load8(ys[g] + d);
  }
  if (d < D && D >= 8) {
    V keep;  // lane j holds number D - 8 + j: 1 for those not counted yet
    for (int j = 0; j < 8; ++j) keep[j] = D - 8 + j >= d ? T(1) : T(0);
    const V xv = load8(x + D - 8) * keep;
    for (int g = 0; g < G; ++g) part[g] += xv * load8(ys[g] + D - 8);
    d = D;
  }
  for (int g = 0; g < G; ++g) {
    const typename Lanes8<T>::type p = part[g];
    T total = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
    for (int64_t e = d; e < D; ++e) total += x[e] * ys[g][e];
    out[g] = total;
  }
}

// out[o] = dot(x, ys[o]) for o < m, four rows at a time.
template <typename T>
WORDEMBED_INLINE void dots_impl(const T* x, const T* const* ys, int64_t m, int64_t D, T* out) {
  int64_t o = 0;
  for (; o + 4 <= m; o += 4) dots_group_impl<4>(x, ys + o, D, out + o);
  switch (m - o) {
    case 3: dots_group_impl<3>(x, ys + o, D, out + o); break;
    case 2: dots_group_impl<2>(x, ys + o, D, out + o); break;
    case 1: dots_group_impl<1>(x, ys + o, D, out + o); break;
    default: break;
  }
}

}  // namespace row_loops
}  // namespace wordembed

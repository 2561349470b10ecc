// float and double inner loops, cloned per instruction set: wheels and source builds use the
// widest vectors the running CPU has, without -march=native.
#include "cpu/row_loops.h"

namespace wordembed {
using namespace row_loops;

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

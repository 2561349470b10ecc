// Product quantization's assignment step (wordembed/vectors/quantized.py): for each slice of
// columns, each point's nearest of its slice's centroids by squared distance. Points are split
// across threads, and compared kLanes at a time (nearest_lanes).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "cpu/row_loops.h"

namespace wordembed::cpu {
namespace {

constexpr int64_t kPointsPerTask = 1024;
constexpr int64_t kLanes = 16;  // points compared with one centroid at once: one per vector lane

// The nearest of k centroids (k x width) for `count` <= kLanes points (count x width): the
// points sit across the lanes, so each step over a centroid is a few vector operations and the
// best so far is kept by selects, without a branch or a reduction. kWidth: the width known when
// compiling (0: read at run time); the index is kept as a float, exact below 2^24, so that the
// selects stay one width.
template <int64_t kWidth>
WORDEMBED_INLINE void nearest_lanes(const float* points, int64_t count, const float* centroids, int64_t run_width,
                                    int64_t k, float* columns, int64_t* out) {
  const int64_t width = kWidth ? kWidth : run_width;
  for (int64_t j = 0; j < width; ++j) {
    for (int64_t p = 0; p < kLanes; ++p) columns[j * kLanes + p] = p < count ? points[p * width + j] : 0.0f;
  }
  float best[kLanes], distance[kLanes], chosen[kLanes];
  for (int64_t p = 0; p < kLanes; ++p) best[p] = std::numeric_limits<float>::infinity(), chosen[p] = 0;
  for (int64_t c = 0; c < k; ++c) {
    const float* centroid = centroids + c * width;
    for (int64_t p = 0; p < kLanes; ++p) distance[p] = 0.0f;
    for (int64_t j = 0; j < width; ++j) {
      const float value = centroid[j];
      const float* column = columns + j * kLanes;
      for (int64_t p = 0; p < kLanes; ++p) {
        const float difference = column[p] - value;
        distance[p] += difference * difference;
      }
    }
    const float index = static_cast<float>(c);
    for (int64_t p = 0; p < kLanes; ++p) {
      const bool closer = distance[p] < best[p];  // strictly: the first of equal centroids stays
      best[p] = closer ? distance[p] : best[p];
      chosen[p] = closer ? index : chosen[p];
    }
  }
  for (int64_t p = 0; p < count; ++p) out[p] = static_cast<int64_t>(chosen[p]);
}

// Cloned per instruction set (row_loops.h): AVX2's eight lanes, and the small widths (dsub 1 to 4)
// compiled as constants, made it 2.5 times faster than the baseline's four lanes here.
WORDEMBED_CLONES void nearest_block(const float* points, int64_t count, const float* centroids, int64_t width,
                                    int64_t k, float* columns, int64_t* out) {
  switch (width) {
    case 1: return nearest_lanes<1>(points, count, centroids, width, k, columns, out);
    case 2: return nearest_lanes<2>(points, count, centroids, width, k, columns, out);
    case 3: return nearest_lanes<3>(points, count, centroids, width, k, columns, out);
    case 4: return nearest_lanes<4>(points, count, centroids, width, k, columns, out);
    default: return nearest_lanes<0>(points, count, centroids, width, k, columns, out);
  }
}

// points: (slices, rows, width) float32; centroids: (slices, K, width) float32 -> (slices, rows) int64.
at::Tensor nearest_centroids(const at::Tensor& points, const at::Tensor& centroids) {
  TORCH_CHECK(points.dtype() == at::kFloat && points.dim() == 3, "points must be a 3-D float32 tensor");
  TORCH_CHECK(centroids.dtype() == at::kFloat && centroids.dim() == 3, "centroids must be a 3-D float32 tensor");
  TORCH_CHECK(points.size(0) == centroids.size(0) && points.size(2) == centroids.size(2),
              "points ", points.sizes(), " and centroids ", centroids.sizes(), " differ in slices or width");
  TORCH_CHECK(centroids.size(1) > 0 && centroids.size(1) <= (1 << 24), "there must be 1 to 2^24 centroids");
  const auto x = points.contiguous();
  const auto table = centroids.contiguous();
  const int64_t slices = x.size(0), rows = x.size(1), width = x.size(2), k = centroids.size(1);
  auto out = at::empty({slices, rows}, points.options().dtype(at::kLong));
  const float* xs = x.const_data_ptr<float>();
  const float* cs = table.const_data_ptr<float>();
  int64_t* codes = out.data_ptr<int64_t>();
  const int64_t tasks_per_slice = (rows + kPointsPerTask - 1) / kPointsPerTask;
  at::parallel_for(0, slices * tasks_per_slice, 1, [&](int64_t first, int64_t last) {
    std::vector<float> columns(static_cast<size_t>(width * kLanes));
    for (int64_t task = first; task < last; ++task) {
      const int64_t s = task / tasks_per_slice, lo = (task % tasks_per_slice) * kPointsPerTask;
      const int64_t hi = std::min(rows, lo + kPointsPerTask);
      for (int64_t r = lo; r < hi; r += kLanes) {
        nearest_block(xs + (s * rows + r) * width, std::min(kLanes, hi - r), cs + s * k * width, width, k,
                      columns.data(), codes + s * rows + r);
      }
    }
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(wordembed, CPU, m) { m.impl("nearest_centroids", &nearest_centroids); }

}  // namespace wordembed::cpu

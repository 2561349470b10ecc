// A table filled with uniform numbers in [-bound, bound) from a seed, on every CPU thread: entry
// (row, column) is draw `column` of the counter-based stream of `row` (ns_math.h), so the
// numbers depend on the seed alone, never on the thread count. torch.rand fills on one thread:
// the classifier's 2,000,000 x 100 n-gram rows took it most of a second.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include "ns_math.h"

namespace wordembed {
namespace {

void fill_uniform_cpu(at::Tensor& table, int64_t seed, double bound) {
  TORCH_CHECK_VALUE(table.dim() == 2 && table.is_contiguous() && table.is_cpu(),
                    "table must be a contiguous 2-D CPU tensor");
  TORCH_CHECK_VALUE(bound >= 0, "bound must be >= 0, got ", bound);
  const int64_t rows = table.size(0), D = table.size(1);
  AT_DISPATCH_FLOATING_TYPES(table.scalar_type(), "fill_uniform_cpu", [&] {
    scalar_t* data = table.mutable_data_ptr<scalar_t>();
    at::parallel_for(0, rows, 1024, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        // CounterRandom(seed, r, 0)'s draws, with the row's mix taken once
        const uint64_t base = mix64(static_cast<uint64_t>(seed) + kGoldenGamma * static_cast<uint64_t>(r + 1));
        for (int64_t d = 0; d < D; ++d)
          data[r * D + d] = static_cast<scalar_t>((2.0 * uniform01(mix64(base + static_cast<uint64_t>(d))) - 1.0) * bound);
      }
    });
  });
}

}  // namespace

TORCH_LIBRARY_IMPL(wordembed, CPU, m) { m.impl("fill_uniform_", &fill_uniform_cpu); }

}  // namespace wordembed

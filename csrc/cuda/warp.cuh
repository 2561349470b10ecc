// Warp-level constants and helpers shared by the CUDA kernels: a warp of 32 lanes is the unit of
// work (a bag, a run of equal rows, an example), blocks hold kWarpsPerBlock of them.
#pragma once
#include <cstdint>

namespace wordembed {

constexpr int kWarp = 32;
constexpr int kWarpsPerBlock = 8;
constexpr unsigned kFullMask = 0xffffffffu;

// The sum of x over the warp's lanes, in every lane.
template <typename T>
__device__ __forceinline__ T warp_sum(T x) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) x += __shfl_xor_sync(kFullMask, x, offset);
  return x;
}

// Blocks of (kWarp, kWarpsPerBlock) threads for n_warps warps.
inline dim3 warp_blocks(int64_t n_warps) {
  return dim3(static_cast<unsigned>((n_warps + kWarpsPerBlock - 1) / kWarpsPerBlock));
}

}  // namespace wordembed

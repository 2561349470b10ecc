// A batch of bags as every context_sum kernel reads it, made once by make_batch from the op's
// arguments, after checking them the same way on every device. Two forms, as nn.EmbeddingBag
// takes them: a padded (B, C) context, bag b being row b; or a 1-D input with B + 1 offsets, bag b
// being input[offsets[b] : offsets[b + 1]]. Optional per_sample_weights (shaped like the
// context; mode "sum" only) weigh each entry. Entries equal to -1, or to padding_idx, are
// padding: they add nothing, count for no mean and get no gradient. padding_idx entries are
// turned into -1 here, so that the kernels know one padding value.
#pragma once
#include <ATen/ATen.h>

#include <cmath>
#include <optional>

#include "checks.h"

namespace wordembed {

struct Batch {
  at::Tensor ids;      // contiguous, padding as -1; (B, C), or (N) with offsets
  at::Tensor offsets;  // int64 (B + 1), contiguous, on the ids' device; undefined for a padded batch
  at::Tensor weights;  // per_sample_weights, contiguous, shaped like ids; undefined if none
  int64_t B = 0, C = 0;  // bags; C: the padded width (0 with offsets)

  bool padded() const { return !offsets.defined(); }
  const int64_t* offsets_ptr() const { return offsets.defined() ? offsets.const_data_ptr<int64_t>() : nullptr; }
  template <typename T>
  const T* weights_ptr() const { return weights.defined() ? weights.const_data_ptr<T>() : nullptr; }
};

// Offsets of a 1-D input of N entries: int64 or int32, B + 1 of them, from 0 to N, never
// decreasing. Reads their values (on a GPU, a few numbers come back to the host): a bad offset
// must be a Python exception, not a read out of bounds.
inline at::Tensor checked_offsets(const at::Tensor& offsets, const at::Tensor& input) {
  TORCH_CHECK_TYPE(offsets.scalar_type() == at::kLong || offsets.scalar_type() == at::kInt,
                   "offsets must be int64 or int32, got ", dtype_name(offsets.scalar_type()));
  TORCH_CHECK_VALUE(offsets.dim() == 1 && offsets.numel() >= 1,
                    "offsets must be 1-D with one entry per bag and one more, got shape ", offsets.sizes());
  check_same_device(offsets, "offsets", input, "input");
  const auto o = offsets.to(at::kLong).contiguous();
  const int64_t N = input.numel(), first = o[0].item<int64_t>(), last = o[-1].item<int64_t>();
  TORCH_CHECK_VALUE(first == 0, "offsets must start at 0, got ", first);
  const int64_t highest = o.max().item<int64_t>();
  TORCH_CHECK_INDEX(highest <= N, "offsets reach ", highest, ", past the end of the input's ", N, " entries");
  if (o.numel() > 1) {
    const auto drops = (o.slice(0, 1) < o.slice(0, 0, -1)).nonzero();
    if (drops.numel() > 0) {
      const int64_t k = drops[0][0].item<int64_t>();
      TORCH_CHECK_VALUE(false, "offsets must not decrease: offsets[", k + 1, "] = ", o[k + 1].item<int64_t>(),
                        " comes after offsets[", k, "] = ", o[k].item<int64_t>());
    }
  }
  TORCH_CHECK_VALUE(last == N, "the last offset must be len(input) = ", N, " (the end of the last bag), got ", last);
  return o;
}

// value_type: the dtype of the rows that per_sample_weights weigh (the weight's, or grad_out's).
inline Batch make_batch(const at::Tensor& context, const std::optional<at::Tensor>& offsets,
                        const std::optional<at::Tensor>& per_sample_weights, int64_t padding_idx,
                        int64_t num_words, bool mean, at::ScalarType value_type) {
  TORCH_CHECK_TYPE(context.scalar_type() == at::kLong || context.scalar_type() == at::kInt,
                   "context must be int64 or int32, got ", dtype_name(context.scalar_type()));
  Batch batch;
  if (offsets.has_value()) {
    TORCH_CHECK_VALUE(context.dim() == 1, "with offsets, the input must be 1-D (the bags one after another), "
                      "got ", context.dim(), "-D");
    batch.offsets = checked_offsets(*offsets, context);
    batch.B = batch.offsets.numel() - 1;
  } else {
    check_context(context);
    batch.B = context.size(0);
    batch.C = context.size(1);
  }
  TORCH_CHECK_VALUE(padding_idx >= -1 && padding_idx < std::max<int64_t>(num_words, 0),
                    "padding_idx must be -1 (none) or a row of the table (0 to ", num_words - 1, "), got ",
                    padding_idx);
  // Contiguous in either case: at::where keeps a transposed or sliced input's strides, and the
  // kernels read the ids as one flat array.
  batch.ids = (padding_idx >= 0 ? at::where(context == padding_idx, at::scalar_tensor(-1, context.options()), context)
                                : context)
                  .contiguous();
  if (per_sample_weights.has_value()) {
    const auto& w = *per_sample_weights;
    TORCH_CHECK_VALUE(!mean, "per_sample_weights are only supported with mode 'sum' (as in nn.EmbeddingBag)");
    TORCH_CHECK_TYPE(w.scalar_type() == value_type, "per_sample_weights must have the weight's dtype ",
                     dtype_name(value_type), ", got ", dtype_name(w.scalar_type()));
    TORCH_CHECK_VALUE(w.sizes() == context.sizes(), "per_sample_weights must have the input's shape ",
                      context.sizes(), ", got ", w.sizes());
    check_same_device(w, "per_sample_weights", context, "input");
    batch.weights = w.contiguous();
  }
  return batch;
}

// The arguments every context_sum backward takes besides its batch: one gradient row per bag.
inline void check_backward_args(const at::Tensor& grad_out, const Batch& batch, int64_t num_words) {
  TORCH_CHECK_VALUE(grad_out.dim() == 2 && grad_out.size(0) == batch.B,
                    "grad_out must be (batch, dim) with batch ", batch.B, ", got ", grad_out.sizes());
  check_same_device(grad_out, "grad_out", batch.ids, "context");
  TORCH_CHECK_VALUE(num_words >= 0, "num_weights must be >= 0, got ", num_words);
}

// The arguments of context_sum_sgd_ (every device): weight[rows] -= lr * gradient.
inline void check_sgd_args(const at::Tensor& weight, const at::Tensor& grad_out, const Batch& batch, double lr) {
  check_backward_args(grad_out, batch, weight.size(0));
  check_same_device(weight, "weight", batch.ids, "context");
  check_writable_table(weight, "weight");
  TORCH_CHECK_VALUE(grad_out.size(1) == weight.size(1), "grad_out has dim ", grad_out.size(1),
                    " but weight has dim ", weight.size(1));
  TORCH_CHECK_VALUE(std::isfinite(lr), "lr must be a finite number, got ", lr);
}

}  // namespace wordembed

#ifdef __CUDACC__
#define WORDEMBED_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define WORDEMBED_HOST_DEVICE inline
#endif

namespace wordembed {

// Where each bag's entries lie in the flat ids: a padded batch's bag b at [b * C, (b + 1) * C),
// an offsets batch's at [offsets[b], offsets[b + 1]). For host and device code alike.
template <typename index_t>
struct BagView {
  const index_t* ids;
  const int64_t* offsets;  // nullptr: padded
  int64_t C;

  WORDEMBED_HOST_DEVICE int64_t begin(int64_t b) const { return offsets ? offsets[b] : b * C; }
  WORDEMBED_HOST_DEVICE int64_t end(int64_t b) const { return offsets ? offsets[b + 1] : (b + 1) * C; }
};

template <typename index_t>
BagView<index_t> bag_view(const Batch& batch) {
  return {batch.ids.const_data_ptr<index_t>(), batch.offsets_ptr(), batch.C};
}

}  // namespace wordembed

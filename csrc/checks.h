// Input checks shared by the CPU and CUDA kernels, so every device reports bad input the same way.
#pragma once
#include <ATen/ATen.h>

namespace wordembed {

inline void check_context(const at::Tensor& context) {
  TORCH_CHECK_TYPE(context.scalar_type() == at::kLong || context.scalar_type() == at::kInt,
                   "context must be int64 or int32, got ", context.scalar_type());
  TORCH_CHECK_VALUE(context.dim() == 2, "context must be 2-D (batch, context width), got ",
                    context.dim(), "-D");
}

inline void check_weight(const at::Tensor& weight) {
  TORCH_CHECK_TYPE(at::isFloatingType(weight.scalar_type()),
                   "weight must be a floating tensor, got ", weight.scalar_type());
  TORCH_CHECK_VALUE(weight.dim() == 2, "weight must be 2-D (words, dim), got ", weight.dim(), "-D");
}

inline void check_same_device(const at::Tensor& a, const char* a_name, const at::Tensor& b,
                              const char* b_name) {
  TORCH_CHECK(a.device() == b.device(), a_name, " is on ", a.device(), " but ", b_name, " is on ",
              b.device(), "; move them to the same device");
}

// Every entry must be a row of the table or -1 (padding). On CUDA this reads two numbers back to
// the host: an out-of-range index must be a Python exception, not a device-side assert.
inline void check_indices(const at::Tensor& context, int64_t num_words) {
  if (context.numel() == 0) return;
  auto [lo, hi] = at::aminmax(context);
  const int64_t min_index = lo.item<int64_t>();
  const int64_t max_index = hi.item<int64_t>();
  TORCH_CHECK_INDEX(max_index < num_words, "context index ", max_index,
                    " out of range for vocabulary of ", num_words, " words");
  TORCH_CHECK_INDEX(min_index >= -1, "context index ", min_index,
                    " is negative; only -1 (padding) is allowed");
}

// Word ids of the training ops: each a row of the table (or -1 where padding is allowed).
inline void check_word_ids(const at::Tensor& ids, const char* name, int64_t num_words, bool padding) {
  TORCH_CHECK_TYPE(ids.scalar_type() == at::kLong || ids.scalar_type() == at::kInt, name,
                   " must be int64 or int32, got ", ids.scalar_type());
  if (ids.numel() == 0) return;
  auto [lo, hi] = at::aminmax(ids);
  const int64_t min_id = lo.item<int64_t>(), max_id = hi.item<int64_t>();
  TORCH_CHECK_INDEX(max_id < num_words, name, " index ", max_id, " out of range for vocabulary of ",
                    num_words, " words");
  TORCH_CHECK_INDEX(min_id >= (padding ? -1 : 0), name, " index ", min_id, " is negative",
                    padding ? "; only -1 (padding) is allowed" : "");
}

inline void check_grad_out(const at::Tensor& grad_out, const at::Tensor& context) {
  TORCH_CHECK_VALUE(grad_out.dim() == 2 && grad_out.size(0) == context.size(0),
                    "grad_out must be (batch, dim) with batch ", context.size(0), ", got ",
                    grad_out.sizes());
  check_same_device(grad_out, "grad_out", context, "context");
}

// The arguments every context_sum backward takes: gradient rows of the batch, a context of
// word indices. (The CPU kernels check index ranges in their own pass over the context.)
inline void check_backward_args(const at::Tensor& grad_out, const at::Tensor& context, int64_t num_words) {
  check_context(context);
  check_grad_out(grad_out, context);
  TORCH_CHECK_VALUE(num_words >= 0, "num_weights must be >= 0, got ", num_words);
}

// The CPU kernels find bad indices while they read the context, without a separate pass; on
// finding one they have changed nothing the caller can see, and this raises the exact message.
inline void raise_bad_index(const at::Tensor& context, int64_t num_words) {
  check_indices(context, num_words);
  TORCH_CHECK_INDEX(false, "context has an index out of range for vocabulary of ", num_words, " words");
}

}  // namespace wordembed

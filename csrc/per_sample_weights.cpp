// The gradient of context_sum with respect to its per_sample_weights: entry i of bag b weighs row
// weight[context[i]] into out[b], so its gradient is grad_out[b] . weight[context[i]] (0 for
// padding). Written with ATen ops, once for every device, and registered as
// CompositeImplicitAutograd: autograd and torch.compile see through it, and both the Python
// autograd formula and the fused-SGD node (fused_sgd_autograd.cpp) call it.
#include <ATen/ATen.h>
#include <torch/library.h>

#include <optional>

namespace wordembed {
namespace {

at::Tensor context_sum_per_sample_weights_backward(const at::Tensor& grad_out, const at::Tensor& weight,
                                                   const at::Tensor& context,
                                                   const std::optional<at::Tensor>& offsets,
                                                   int64_t padding_idx) {
  // Shaped like context throughout, with no sizes read: autograd and torch.compile may trace this
  // with symbolic shapes.
  const auto ids = context.to(at::kLong);
  const auto counted = at::ones_like(ids).cumsum(0) - 1;  // padded: each entry's row; 1-D: its position
  // The bag of every entry: by its offsets, or its row of the padded batch.
  const auto bag_of = offsets.has_value()
                          ? at::searchsorted(offsets->to(at::kLong).slice(0, 1).contiguous(), counted, /*out_int32=*/false,
                                             /*right=*/true)
                          : counted;
  // A table of no rows has nothing to read: every entry is padding, and every gradient 0.
  if (weight.sym_size(0) == 0) return at::zeros_like(ids, grad_out.options());
  auto keep = ids >= 0;
  if (padding_idx >= 0) keep = keep.logical_and(ids != padding_idx);
  const auto dots = (at::embedding(grad_out, bag_of) * at::embedding(weight, ids.clamp_min(0))).sum(-1);
  return at::where(keep, dots, at::zeros({}, dots.options()));
}

}  // namespace

TORCH_LIBRARY_IMPL(wordembed, CompositeImplicitAutograd, m) {
  m.impl("context_sum_per_sample_weights_backward", &context_sum_per_sample_weights_backward);
}

}  // namespace wordembed

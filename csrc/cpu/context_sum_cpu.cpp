// CPU kernels of context_sum: a forward parallel over bags, and one scatter routine behind the
// dense, sparse and fused-SGD backwards. The scatter gives each thread its own blocks of rows,
// so it needs no atomics and adds each row's contributions in the same order whatever the number
// of threads: results are bit-identical from run to run. Index ranges are checked inside these
// passes over the bags rather than in a pass of their own. Bags come padded or by offsets, with
// or without per-sample weights (batch.h).
#include <ATen/ATen.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <vector>

#include "batch.h"
#include "checks.h"
#include "cpu/row_kernels.h"

namespace wordembed {
namespace {

// Asks for the rows of a bag (entries i0..i1) while the one before is summed: rows are scattered
// over the table, and their loads are what the forward waits on.
template <typename scalar_t, typename index_t>
inline void prefetch_rows(const scalar_t* weight, int64_t weight_stride, const index_t* ids, int64_t i0,
                          int64_t i1, int64_t D) {
  for (int64_t i = i0; i < i1; ++i) {
    if (ids[i] < 0) continue;
    const char* row = reinterpret_cast<const char*>(weight + ids[i] * weight_stride);
    for (int64_t byte = 0; byte < D * static_cast<int64_t>(sizeof(scalar_t)); byte += 64)
      __builtin_prefetch(row + byte);
  }
}

// Rows of the next bag asked for while one is summed: a padded batch's whole bag (C is small), a
// long bag's first rows only (more would push this bag's rows out of the cache).
constexpr int64_t kNextBagRows = 16;

// idx is a row of a table of V rows, or -1 (padding).
inline bool index_ok(int64_t idx, int64_t V) {
  return static_cast<uint64_t>(idx + 1) <= static_cast<uint64_t>(V);
}

// out = sum of coefs[k] * rows[k], summed in acc_t (per_sample_weights).
template <typename scalar_t, typename acc_t>
void weighted_sum(scalar_t* out, const scalar_t* const* rows, const acc_t* coefs, int64_t n, int64_t D,
                  std::vector<acc_t>& acc) {
  acc.assign(D, acc_t(0));
  for (int64_t k = 0; k < n; ++k) axpy(acc.data(), rows[k], coefs[k], D);
  for (int64_t d = 0; d < D; ++d) out[d] = static_cast<scalar_t>(acc[d]);
}

// Returns false, leaving out unspecified, if some index is out of range.
template <typename scalar_t, typename index_t>
bool forward_kernel(const scalar_t* weight, int64_t V, int64_t weight_stride, BagView<index_t> bags,
                    const scalar_t* psw, scalar_t* out, int64_t B, int64_t D, bool mean) {
  using acc_t = at::opmath_type<scalar_t>;
  const int64_t per_bag = std::max<int64_t>(1, bags.end(B - 1) / B);  // entries of an average bag
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, per_bag * D));
  const index_t* ids = bags.ids;
  std::atomic<bool> all_ok{true};
  at::parallel_for(0, B, grain, [&](int64_t b0, int64_t b1) {
    std::vector<const scalar_t*> rows;
    std::vector<acc_t> coefs, acc;
    bool ok = true;
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t i0 = bags.begin(b), i1 = bags.end(b);
      if (static_cast<int64_t>(rows.size()) < i1 - i0) {
        rows.resize(i1 - i0);
        coefs.resize(i1 - i0);
      }
      int64_t n = 0;
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t idx = ids[i];
        if (!index_ok(idx, V)) {
          ok = false;
          continue;
        }
        if (idx < 0) continue;
        if (psw) coefs[n] = static_cast<acc_t>(psw[i]);
        rows[n++] = weight + idx * weight_stride;
      }
      // the next bag's first rows (sum_rows asks for the rows further on as it goes)
      if (b + 1 < b1)
        prefetch_rows(weight, weight_stride, ids, bags.begin(b + 1),
                      std::min(bags.end(b + 1), bags.begin(b + 1) + kNextBagRows), D);
      if (psw) {
        weighted_sum(out + b * D, rows.data(), coefs.data(), n, D, acc);
      } else {
        const acc_t s = (mean && n) ? acc_t(1) / acc_t(n) : acc_t(1);
        sum_rows(out + b * D, rows.data(), n, D, s);
      }
    }
    if (!ok) all_ok = false;
  });
  return all_ok;
}

// target[row_of(idx)] += coef * scale[b] * w_i * grad[b] for every non-padding entry i of every bag
// b (idx = ids[i]; w_i the entry's per-sample weight, or 1), scale[b] being 1/n for a mean over the
// n non-padding entries of bag b, or 1 for a sum; or, if some idx is not a row of a table of V
// rows, nothing at all, and returns false.
// Partition p owns the blocks of rows r with (r / rows_per_block) % P == p and visits its entries
// in bag order, prefetching rows a few entries ahead. Blocks span at least 4 KiB, so that two
// threads seldom write to the same cache line (rows rarely end on a line boundary).
template <typename Entry, typename target_t, typename grad_t, typename acc_t, typename index_t, typename RowOf>
bool scatter_entries(const grad_t* grad, BagView<index_t> bags, const grad_t* psw, int64_t B, int64_t D,
                     int64_t V, bool mean, acc_t coef, target_t* target, int64_t target_stride, RowOf row_of) {
  int64_t parts = 1;
  while (parts < at::get_num_threads() && parts < 64) parts *= 2;
  const int64_t mask = parts - 1;
  // (A row of 0 bytes, D = 0, counts as 1 so that the search ends.)
  const int64_t row_bytes = std::max<int64_t>(1, target_stride * static_cast<int64_t>(sizeof(target_t)));
  int shift = 0;
  while ((int64_t(1) << shift) * row_bytes < 4096) ++shift;
  const int64_t N = B ? bags.end(B - 1) : 0;
  const index_t* ids = bags.ids;
  std::atomic<bool> all_ok{true};
  at::parallel_for(0, parts, 1, [&](int64_t p0, int64_t p1) {
    // (bag, target row) of this partition's entries. Kept per thread across calls: a fresh
    // buffer of this size would come from mmap and page-fault on every call.
    thread_local std::vector<Entry> buffer;
    thread_local std::vector<acc_t> scale_buffer;
    auto& mine = buffer;
    auto& scale = scale_buffer;
    if (static_cast<int64_t>(mine.size()) < N) mine.resize(N);
    if (static_cast<int64_t>(scale.size()) < B) scale.resize(B);
    for (int64_t p = p0; p < p1; ++p) {
      // Branch-free: every entry is written, and kept only if it is this partition's. Which
      // partition an entry falls in is random, so a branch here would mispredict half the time.
      // Every partition reads every index, so all of them see a bad one before any update.
      int64_t n = 0;
      bool ok = true;
      // The bags' scales come from the same pass (every partition needs all of them).
      for (int64_t b = 0; b < B; ++b) {
        int64_t words = 0;
        for (int64_t i = bags.begin(b), i1 = bags.end(b); i < i1; ++i) {
          const int64_t idx = ids[i];
          const bool valid = index_ok(idx, V);
          ok &= valid;
          const int64_t r = (valid && idx >= 0) ? row_of(idx) : 0;
          if constexpr (std::is_same_v<Entry, ScatterEntry>) {
            mine[n] = {b, r};
          } else {
            mine[n] = {b, r, static_cast<acc_t>(psw[i])};
          }
          n += valid & (idx >= 0) & (((r >> shift) & mask) == p);
          words += idx >= 0;
        }
        scale[b] = !mean ? acc_t(1) : words ? acc_t(1) / acc_t(words) : acc_t(0);
      }
      if (!ok) {
        all_ok = false;
        return;
      }
      scatter_axpy(target, target_stride, grad, D, mine.data(), n, scale.data(), coef);
    }
  });
  return all_ok;
}

template <typename target_t, typename grad_t, typename acc_t, typename index_t, typename RowOf>
bool scatter_rows(const grad_t* grad, BagView<index_t> bags, const grad_t* psw, int64_t B, int64_t D,
                  int64_t V, bool mean, acc_t coef, target_t* target, int64_t target_stride, RowOf row_of) {
  if (psw)
    return scatter_entries<WeightedScatterEntry<acc_t>>(grad, bags, psw, B, D, V, mean, coef, target,
                                                        target_stride, row_of);
  return scatter_entries<ScatterEntry>(grad, bags, psw, B, D, V, mean, coef, target, target_stride, row_of);
}

at::Tensor context_sum_cpu(const at::Tensor& weight, const at::Tensor& context, bool mean,
                           bool /*sparse_grad*/, bool /*deterministic*/, const std::optional<at::Tensor>& offsets,
                           const std::optional<at::Tensor>& per_sample_weights, int64_t padding_idx) {
  check_weight(weight);
  const Batch batch = make_batch(context, offsets, per_sample_weights, padding_idx, weight.size(0), mean,
                                 weight.scalar_type());
  check_same_device(weight, "weight", context, "context");
  const auto w = weight.stride(1) == 1 ? weight : weight.contiguous();
  const int64_t B = batch.B, D = w.size(1);
  auto out = at::empty({B, D}, w.options());
  if (B == 0) return out;
  if (D == 0) {  // nothing to sum, but indices must still be rows of the table
    check_indices(batch.ids, w.size(0));
    return out;
  }
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, w.scalar_type(), "context_sum_cpu", [&] {
    AT_DISPATCH_INDEX_TYPES(batch.ids.scalar_type(), "context_sum_cpu", [&] {
      if (!forward_kernel<scalar_t, index_t>(w.const_data_ptr<scalar_t>(), w.size(0), w.stride(0),
                                             bag_view<index_t>(batch), batch.weights_ptr<scalar_t>(),
                                             out.mutable_data_ptr<scalar_t>(), B, D, mean))
        raise_bad_index(batch.ids, w.size(0));
    });
  });
  return out;
}

// The CPU backwards are always deterministic (and need no atomics to be fast): `deterministic`
// is accepted for the schema's sake and means nothing here.
at::Tensor context_sum_backward_cpu(const at::Tensor& grad_out, const at::Tensor& context,
                                   int64_t num_weights, bool mean, bool /*deterministic*/,
                                   const std::optional<at::Tensor>& offsets,
                                   const std::optional<at::Tensor>& per_sample_weights, int64_t padding_idx) {
  const Batch batch = make_batch(context, offsets, per_sample_weights, padding_idx, num_weights, mean,
                                 grad_out.scalar_type());
  check_backward_args(grad_out, batch, num_weights);
  const auto g = grad_out.contiguous();
  const int64_t D = g.size(1);
  // Reduced-precision gradients are summed in float32 and rounded once at the end.
  const auto acc_type = at::toOpMathType(g.scalar_type());
  auto grad_weight = at::zeros({num_weights, D}, g.options().dtype(acc_type));
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, g.scalar_type(), "context_sum_backward_cpu", [&] {
    AT_DISPATCH_INDEX_TYPES(batch.ids.scalar_type(), "context_sum_backward_cpu", [&] {
      using acc_t = at::opmath_type<scalar_t>;
      if (!scatter_rows(g.const_data_ptr<scalar_t>(), bag_view<index_t>(batch), batch.weights_ptr<scalar_t>(),
                        batch.B, D, num_weights, mean, acc_t(1), grad_weight.mutable_data_ptr<acc_t>(), D,
                        [](int64_t i) { return i; }))
        raise_bad_index(batch.ids, num_weights);
    });
  });
  return grad_weight.to(g.scalar_type());
}

std::tuple<at::Tensor, at::Tensor> context_sum_backward_sparse_cpu(
    const at::Tensor& grad_out, const at::Tensor& context, int64_t num_weights, bool mean,
    const std::optional<at::Tensor>& offsets, const std::optional<at::Tensor>& per_sample_weights,
    int64_t padding_idx) {
  const Batch batch = make_batch(context, offsets, per_sample_weights, padding_idx, num_weights, mean,
                                 grad_out.scalar_type());
  check_backward_args(grad_out, batch, num_weights);
  check_indices(batch.ids, num_weights);  // before the slot table below is indexed
  const auto g = grad_out.contiguous();
  const int64_t D = g.size(1), N = batch.ids.numel();
  const auto acc_type = at::toOpMathType(g.scalar_type());
  at::Tensor rows, values;
  AT_DISPATCH_INDEX_TYPES(batch.ids.scalar_type(), "context_sum_backward_sparse_cpu", [&] {
    const index_t* c = batch.ids.const_data_ptr<index_t>();
    // Slot of each touched row, in increasing row order: O(V) integer work, no O(V*D).
    std::vector<int32_t> slot(num_weights, -1);
    for (int64_t i = 0; i < N; ++i)
      if (c[i] >= 0) slot[c[i]] = 0;
    int64_t n_rows = 0;
    for (int64_t r = 0; r < num_weights; ++r)
      if (slot[r] == 0) slot[r] = static_cast<int32_t>(n_rows++) + 1;  // 1-based while assigning
    rows = at::empty({n_rows}, batch.ids.options().dtype(at::kLong));
    int64_t* rows_ptr = rows.mutable_data_ptr<int64_t>();
    for (int64_t r = 0; r < num_weights; ++r)
      if (slot[r] > 0) rows_ptr[--slot[r]] = r;  // back to 0-based
    values = at::zeros({n_rows, D}, g.options().dtype(acc_type));
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, g.scalar_type(), "context_sum_backward_sparse_cpu", [&] {
      using acc_t = at::opmath_type<scalar_t>;
      scatter_rows(g.const_data_ptr<scalar_t>(), bag_view<index_t>(batch), batch.weights_ptr<scalar_t>(), batch.B,
                   D, num_weights, mean, acc_t(1), values.mutable_data_ptr<acc_t>(), D,
                   [&slot](int64_t i) { return static_cast<int64_t>(slot[i]); });
    });
  });
  return {rows, values.to(g.scalar_type())};
}

void context_sum_sgd_cpu(at::Tensor& weight, const at::Tensor& grad_out, const at::Tensor& context,
                         bool mean, double lr, bool /*deterministic*/, const std::optional<at::Tensor>& offsets,
                         const std::optional<at::Tensor>& per_sample_weights, int64_t padding_idx) {
  check_weight(weight);
  const Batch batch = make_batch(context, offsets, per_sample_weights, padding_idx, weight.size(0), mean,
                                 weight.scalar_type());
  check_sgd_args(weight, grad_out, batch, lr);
  const auto g = grad_out.contiguous().to(weight.scalar_type());
  const int64_t D = g.size(1);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, weight.scalar_type(), "context_sum_sgd_cpu", [&] {
    AT_DISPATCH_INDEX_TYPES(batch.ids.scalar_type(), "context_sum_sgd_cpu", [&] {
      using acc_t = at::opmath_type<scalar_t>;
      if (!scatter_rows(g.const_data_ptr<scalar_t>(), bag_view<index_t>(batch), batch.weights_ptr<scalar_t>(),
                        batch.B, D, weight.size(0), mean, static_cast<acc_t>(-lr),
                        weight.mutable_data_ptr<scalar_t>(), weight.stride(0), [](int64_t i) { return i; }))
        raise_bad_index(batch.ids, weight.size(0));
    });
  });
}

}  // namespace

TORCH_LIBRARY_IMPL(wordembed, CPU, m) {
  m.impl("context_sum", &context_sum_cpu);
  m.impl("context_sum_backward", &context_sum_backward_cpu);
  m.impl("context_sum_backward_sparse", &context_sum_backward_sparse_cpu);
  m.impl("context_sum_sgd_", &context_sum_sgd_cpu);
}

}  // namespace wordembed

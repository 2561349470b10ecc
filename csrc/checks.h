// Input checks shared by the CPU and CUDA kernels, so every device reports bad input the same way.
#pragma once
#include <ATen/ATen.h>
#include <ATen/MemoryOverlap.h>

#include <cmath>
#include <optional>
#include <string>

namespace wordembed {

// A dtype as Python prints it (torch.float32), so that messages read the same from every layer.
inline std::string dtype_name(at::ScalarType type) {
  return "torch." + std::string(c10::getDtypeNames(type).first);
}

inline void check_context(const at::Tensor& context) {
  TORCH_CHECK_TYPE(context.scalar_type() == at::kLong || context.scalar_type() == at::kInt,
                   "context must be int64 or int32, got ", dtype_name(context.scalar_type()));
  TORCH_CHECK_VALUE(context.dim() == 2, "context must be 2-D (batch, context width), got ",
                    context.dim(), "-D");
}

inline void check_weight(const at::Tensor& weight) {
  TORCH_CHECK_TYPE(at::isFloatingType(weight.scalar_type()),
                   "weight must be a floating tensor, got ", dtype_name(weight.scalar_type()));
  TORCH_CHECK_VALUE(weight.dim() == 2, "weight must be 2-D (words, dim), got ", weight.dim(), "-D");
}

inline void check_same_device(const at::Tensor& a, const char* a_name, const at::Tensor& b,
                              const char* b_name) {
  TORCH_CHECK_VALUE(a.device() == b.device(), a_name, " is on ", a.device(), " but ", b_name, " is on ",
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
                   " must be int64 or int32, got ", dtype_name(ids.scalar_type()));
  if (ids.numel() == 0) return;
  auto [lo, hi] = at::aminmax(ids);
  const int64_t min_id = lo.item<int64_t>(), max_id = hi.item<int64_t>();
  TORCH_CHECK_INDEX(max_id < num_words, name, " index ", max_id, " out of range for vocabulary of ",
                    num_words, " words");
  TORCH_CHECK_INDEX(min_id >= (padding ? -1 : 0), name, " index ", min_id, " is negative",
                    padding ? "; only -1 (padding) is allowed" : "");
}

// A table updated in place: each element must be its own memory. An expanded or otherwise
// overlapping view (row stride 0, or rows closer than their width) would be written several times
// per entry, and some loops are sized by the row stride.
inline void check_writable_table(const at::Tensor& table, const char* name) {
  if (table.numel() == 0) return;  // nothing to write (and an empty tensor's strides mean nothing)
  TORCH_CHECK_VALUE(table.size(1) <= 1 || table.stride(1) == 1, "the in-place update needs ", name,
                    " rows stored contiguously (", name, ".stride(1) == 1), got strides ", table.strides());
  TORCH_CHECK_VALUE(table.size(0) <= 1 || table.stride(0) >= table.size(1), name, " has rows that share memory "
                    "(strides ", table.strides(), ", e.g. an expanded view): an in-place update would "
                    "write each element several times; pass a tensor of its own (.contiguous() or .clone())");
}

// The two tables of the training ops: float32 or float64, contiguous, of one width, on one device,
// and not the same memory (each is updated in place as if the other stood still). The input table
// may hold more rows than the output table: a subword model's input rows are its words, then its
// n-gram buckets.
inline void check_tables(const at::Tensor& in, const at::Tensor& out) {
  TORCH_CHECK_TYPE(in.scalar_type() == out.scalar_type() &&
                       (in.scalar_type() == at::kFloat || in.scalar_type() == at::kDouble),
                   "input_vectors and output_vectors must both be float32 or both float64, got ",
                   dtype_name(in.scalar_type()), " and ", dtype_name(out.scalar_type()));
  TORCH_CHECK_VALUE(in.dim() == 2 && out.dim() == 2 && in.size(1) == out.size(1),
                    "input_vectors and output_vectors must be 2-D of the same width, got ", in.sizes(),
                    " and ", out.sizes());
  TORCH_CHECK_VALUE(in.is_contiguous() && out.is_contiguous(), "the tables must be contiguous");
  check_same_device(in, "input_vectors", out, "output_vectors");
  TORCH_CHECK_VALUE(in.numel() == 0 || out.numel() == 0 ||
                        at::get_overlap_status(in, out) == at::MemOverlapStatus::No,
                    "input_vectors and output_vectors share memory: pass two separate tables");
}

// The samples of ns_step_: context (B, C) with -1 padding, rows of the input table; targets (B)
// and negatives (B, K), rows of the output table (on any device: the index check reads two
// numbers back from a GPU).
inline void check_step_args(const at::Tensor& in, const at::Tensor& out, const at::Tensor& context,
                            const at::Tensor& targets, const at::Tensor& negatives) {
  check_tables(in, out);
  check_context(context);
  const int64_t B = context.size(0), V = out.size(0);
  TORCH_CHECK_VALUE(targets.dim() == 1 && targets.size(0) == B, "targets must be (", B, "), got ",
                    targets.sizes());
  TORCH_CHECK_VALUE(negatives.dim() == 2 && negatives.size(0) == B, "negatives must be (", B,
                    ", K), got ", negatives.sizes());
  for (const auto* t : {&context, &targets, &negatives})
    check_same_device(*t, "context, targets and negatives", in, "the tables");
  check_word_ids(context, "context", in.size(0), true);
  check_word_ids(targets, "targets", V, false);
  check_word_ids(negatives, "negatives", V, false);
}

// The arguments of ns_train_chunk_ that every device checks alike (the offsets are checked on the
// host by check_sentence_starts, the bags by check_bags). Words are the output table's rows.
inline void check_chunk_args(const at::Tensor& in, const at::Tensor& out, const at::Tensor& ids,
                             const at::Tensor& starts, const at::Tensor& keep_prob, const at::Tensor& noise_prob,
                             const at::Tensor& noise_alias, int64_t window, int64_t negative,
                             const std::optional<at::Tensor>& bag_offsets, const std::optional<at::Tensor>& bag_rows,
                             int64_t shared_negatives) {
  check_tables(in, out);
  TORCH_CHECK_VALUE(shared_negatives >= 0, "shared_negatives must be >= 0 (0: every example alone), got ",
                    shared_negatives);
  TORCH_CHECK_VALUE(bag_offsets.has_value() == bag_rows.has_value(),
                    "bag_offsets and bag_rows go together: pass both or neither");
  const bool bags = bag_offsets.has_value();
  if (bags) {
    check_same_device(*bag_offsets, "bag_offsets", in, "input_vectors");
    check_same_device(*bag_rows, "bag_rows", in, "input_vectors");
  }
  const int64_t V = out.size(0);
  TORCH_CHECK_VALUE(bags || in.size(0) == V, "without subword bags the tables must have the same shape, got ",
                    in.sizes(), " and ", out.sizes());
  TORCH_CHECK_VALUE(window >= 1, "window must be at least 1, got ", window);
  TORCH_CHECK_VALUE(negative >= 0, "negative must be >= 0, got ", negative);
  for (const auto* t : {&ids, &starts, &keep_prob, &noise_prob, &noise_alias})
    check_same_device(*t, "every argument", in, "input_vectors");
  for (const auto* t : {&keep_prob, &noise_prob, &noise_alias})
    TORCH_CHECK_VALUE(t->dim() == 1 && t->size(0) == V, "keep_prob, noise_prob and noise_alias need one "
                      "entry per word (", V, "), got ", t->sizes());
  TORCH_CHECK_VALUE(ids.dim() == 1, "ids must be 1-D");
  check_word_ids(ids, "ids", V, false);
  check_word_ids(noise_alias, "noise_alias", V, false);
}

// A subword model's bags (read on the host): word w trains the input rows
// bag_rows[bag_offsets[w] : bag_offsets[w + 1]], at least one each, all rows of the input table.
inline void check_bags(const at::Tensor& offsets, const at::Tensor& rows, int64_t num_words, int64_t num_rows) {
  TORCH_CHECK_VALUE(offsets.dim() == 1 && offsets.numel() == num_words + 1 && offsets.scalar_type() == at::kLong &&
                        offsets.is_contiguous() && offsets.is_cpu(),
                    "bag_offsets must be a contiguous int64 CPU tensor of one entry per word plus one (",
                    num_words + 1, ")");
  TORCH_CHECK_VALUE(rows.dim() == 1, "bag_rows must be 1-D");
  const int64_t* o = offsets.const_data_ptr<int64_t>();
  TORCH_CHECK_VALUE(o[0] == 0 && o[num_words] == rows.numel(), "bag_offsets must begin at 0 and end at len(bag_rows) = ",
                    rows.numel());
  for (int64_t w = 0; w < num_words; ++w)
    TORCH_CHECK_VALUE(o[w] < o[w + 1], "every word needs a bag of at least one row (word ", w, " has none)");
  check_word_ids(rows, "bag_rows", num_rows, false);
}

// Sentence offsets of a chunk of N words (read on the host): from 0 to N, never decreasing.
inline void check_sentence_starts(const at::Tensor& starts, int64_t N) {
  TORCH_CHECK_VALUE(starts.dim() == 1 && starts.numel() >= 1 && starts.scalar_type() == at::kLong &&
                        starts.is_contiguous() && starts.is_cpu(),
                    "sentence_starts must be a 1-D, non-empty tensor of offsets");
  const int64_t* st = starts.const_data_ptr<int64_t>();
  const int64_t S = starts.numel() - 1;
  TORCH_CHECK_VALUE(st[0] == 0 && st[S] == N, "sentence_starts must begin at 0 and end at len(ids) = ", N);
  for (int64_t s = 0; s < S; ++s)
    TORCH_CHECK_VALUE(st[s] <= st[s + 1], "sentence_starts must not decrease (at ", s, ")");
}

// The arguments of supervised_train_chunk_ read before the chunk: the tables (on the CPU, the
// only device it has a kernel for), the loss's number (0 softmax, 1 ns, 2 hs, 3 ova), and the
// bags, given together or not at all.
inline void check_supervised_args(const at::Tensor& in, const at::Tensor& out, int64_t loss, int64_t negative,
                                  const std::optional<at::Tensor>& bag_offsets,
                                  const std::optional<at::Tensor>& bag_rows) {
  check_tables(in, out);
  TORCH_CHECK_VALUE(in.is_cpu(), "the CPU kernel got tables on ", in.device());
  TORCH_CHECK_VALUE(loss >= 0 && loss <= 3, "loss must be 0 (softmax), 1 (ns), 2 (hs) or 3 (ova)");
  TORCH_CHECK_VALUE(negative >= 0, "negative must be >= 0, got ", negative);
  TORCH_CHECK_VALUE(bag_offsets.has_value() == bag_rows.has_value(),
                    "bag_offsets and bag_rows go together: pass both or neither");
}

// The ids of a chunk: input rows (or, below the bags' count, words) and labels -1 - label.
inline void check_line_ids(const at::Tensor& ids, int64_t rows, int64_t L) {
  if (ids.numel() == 0) return;
  auto [lo, hi] = at::aminmax(ids);
  TORCH_CHECK_INDEX(hi.item<int64_t>() < rows, "row ", hi.item<int64_t>(), " out of range for ", rows, " input rows");
  TORCH_CHECK_INDEX(lo.item<int64_t>() >= -L, "label ", -1 - lo.item<int64_t>(), " out of range for ", L, " labels");
}

// The CPU kernels find bad indices while they read the context, without a separate pass; on
// finding one they have changed nothing the caller can see, and this raises the exact message.
inline void raise_bad_index(const at::Tensor& context, int64_t num_words) {
  check_indices(context, num_words);
  TORCH_CHECK_INDEX(false, "context has an index out of range for vocabulary of ", num_words, " words");
}

}  // namespace wordembed

// fastText's supervised classifier trained on a chunk of labelled lines, on the CPU: each line
// (its labels as -1 - label, then its input rows; csrc/corpus/labelled_lines.cpp) is one bag of
// input rows whose mean h is scored against the label table by one of fastText's losses:
//   softmax: over all labels, for one label of the line drawn uniformly;
//   ns:      that label against `negative` others drawn from counts^0.5 (never the label itself);
//   hs:      the binary decisions on the label's path in the Huffman tree of the labels;
//   ova:     every label, each a binary decision (is it one of the line's labels?).
// Every output is scored before anything moves (plain SGD on the line's loss); the bag's rows
// then each take 1/n of the gradient of h, as fastText's supervised model does. Threads share the
// tables without locks (Hogwild, as fastText); deterministic: one thread, lines in order. Random
// draws are counter-based (line, draw), so the reference twin (reference.py) can make them too.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <vector>

#include "checks.h"
#include "cpu/row_kernels.h"
#include "ns_math.h"

namespace wordembed {
namespace {

enum Loss : int64_t { kSoftmax = 0, kNegative = 1, kHierarchical = 2, kOneVsAll = 3 };
constexpr int kMaxRedraws = 64;  // a negative equal to the label is drawn again, this many times at most
constexpr int64_t kPrivateOutputMax = 1 << 18;  // label tables up to this many numbers get a copy per thread
constexpr int64_t kHotRows = 64;                // the most frequent words' rows get a copy per thread
constexpr int64_t kMergeEvery = 32;             // lines between a thread's merges of its copies

struct Labels {
  int64_t count;
  const double* cdf;              // ns: cumulative counts^0.5, normalised
  const int64_t* tree_offsets;    // hs: label l's path is tree_nodes[tree_offsets[l]:tree_offsets[l + 1]]
  const int64_t* tree_nodes;      // output rows of the path's inner nodes
  const uint8_t* tree_codes;      // the decision at each (1: right)
};

// The input table as a thread sees it: rows below `hot` (the most frequent words: the
// dictionary is sorted by count) in the thread's own copy, the others shared.
template <typename T>
struct InputRows {
  T* shared;
  T* hot_rows;
  int64_t hot, D;
  T* row(int32_t id) const { return (id < hot ? hot_rows : shared) + static_cast<int64_t>(id) * D; }
};

template <typename T>
struct Scratch {
  std::vector<T> hidden, grad, scores, steps;
  std::vector<const T*> rows;
  std::vector<int64_t> outputs;
  std::vector<uint8_t> positive;
  Scratch(int64_t D, int64_t L) : hidden(D), grad(D), scores(L) {}
};

template <typename T>
double softmax_step(T* out, int64_t D, int64_t L, int64_t target, T lr, Scratch<T>& s) {
  T top = -INFINITY;
  for (int64_t i = 0; i < L; ++i) top = std::max(top, s.scores[i] = dot(s.hidden.data(), out + i * D, D));
  const T target_score = s.scores[target];
  double z = 0;
  for (int64_t i = 0; i < L; ++i) z += static_cast<double>(s.scores[i] = exp_of(s.scores[i] - top));  // one exp a label
  const double loss = std::log(z) + static_cast<double>(top - target_score);
  const T inv_z = static_cast<T>(1.0 / z);
  for (int64_t i = 0; i < L; ++i) {
    const T alpha = lr * ((i == target ? T(1) : T(0)) - s.scores[i] * inv_z);
    axpy(s.grad.data(), out + i * D, alpha, D);
    axpy(out + i * D, s.hidden.data(), alpha, D);
  }
  return loss;
}

// Binary logistic decisions on the output rows s.outputs (positive or not). The loss is summed as
// log(prod_j (1 + e_j)) + sum_j hinge_j, one log per line (each factor is in (1, 2]: a product of
// up to 1000 of them fits a double), as the word2vec trainer does.
template <typename T>
double binary_steps(T* out, int64_t D, T lr, Scratch<T>& s) {
  const size_t m = s.outputs.size();
  s.steps.resize(m);
  double product = 1, hinge = 0, loss = 0;
  for (size_t j = 0; j < m; ++j) {
    const T score = dot(s.hidden.data(), out + s.outputs[j] * D, D);
    const LogisticParts<T> term = logistic_parts(s.positive[j] ? score : -score);
    product *= 1.0 + static_cast<double>(term.e);
    hinge += static_cast<double>(term.hinge);
    if (product > 1e300) loss += std::log(product), product = 1;  // more outputs than a double's range holds
    s.steps[j] = s.positive[j] ? lr * term.step : -lr * term.step;
  }
  for (size_t j = 0; j < m; ++j) axpy(s.grad.data(), out + s.outputs[j] * D, s.steps[j], D);
  for (size_t j = 0; j < m; ++j) axpy(out + s.outputs[j] * D, s.hidden.data(), s.steps[j], D);
  return loss + std::log(product) + hinge;
}

// The outputs of one line: which rows its binary decisions score, and their answers.
void binary_outputs(int64_t loss, const Labels& labels, const int32_t* line_labels, int64_t nl, int64_t target,
                    int64_t negative, CounterRandom& random, std::vector<int64_t>& outputs,
                    std::vector<uint8_t>& positive) {
  outputs.clear(), positive.clear();
  if (loss == kOneVsAll) {
    for (int64_t l = 0; l < labels.count; ++l) {
      outputs.push_back(l);
      positive.push_back(std::any_of(line_labels, line_labels + nl, [&](int32_t x) { return -1 - x == l; }));
    }
  } else if (loss == kHierarchical) {
    for (int64_t k = labels.tree_offsets[target]; k < labels.tree_offsets[target + 1]; ++k) {
      outputs.push_back(labels.tree_nodes[k]);
      positive.push_back(labels.tree_codes[k]);
    }
  } else {
    outputs.push_back(target), positive.push_back(1);
    for (int64_t k = 0; k < negative; ++k) {
      for (int attempt = 0; attempt < kMaxRedraws; ++attempt) {
        const double u = random.uniform();
        const int64_t l = std::min<int64_t>(std::upper_bound(labels.cdf, labels.cdf + labels.count, u) - labels.cdf,
                                            labels.count - 1);
        if (l != target) {
          outputs.push_back(l), positive.push_back(0);
          break;
        }
      }
    }
  }
}

// The next line's first rows are asked for while this one trains: its bag's loads then overlap
// this line's output work instead of stalling the next sum (sum_rows prefetches only within a bag).
constexpr int64_t kPrefetchRows = 8;

template <typename T>
void prefetch_line(const T* in, int64_t D, const int32_t* line, int64_t length) {
  int64_t k = 0;
  while (k < length && line[k] < 0) ++k;
  for (const int64_t end = std::min(length, k + kPrefetchRows); k < end; ++k)
    prefetch_for_write(in + static_cast<int64_t>(line[k]) * D, D * static_cast<int64_t>(sizeof(T)));
}

// One line: labels first (negative), then its rows. Returns its loss, or -1 if it has no label
// or no row (fastText skips such a line).
template <typename T>
double train_line(const InputRows<T>& in, T* out, int64_t D, const int32_t* line, int64_t length, int64_t loss, int64_t negative,
                  const Labels& labels, T lr, CounterRandom random, Scratch<T>& s) {
  int64_t nl = 0;
  while (nl < length && line[nl] < 0) ++nl;
  const int64_t n = length - nl;
  if (nl == 0 || n == 0) return -1;
  s.rows.resize(n);
  for (int64_t k = 0; k < n; ++k) s.rows[k] = in.row(line[nl + k]);
  sum_rows(s.hidden.data(), s.rows.data(), n, D, T(1) / T(n));
  std::fill(s.grad.begin(), s.grad.end(), T(0));
  const int64_t target = loss == kOneVsAll ? -1 : -1 - line[below(random.uniform(), nl)];
  double value;
  if (loss == kSoftmax) {
    value = softmax_step(out, D, labels.count, target, lr, s);
  } else {
    binary_outputs(loss, labels, line, nl, target, negative, random, s.outputs, s.positive);
    value = binary_steps(out, D, lr, s);
  }
  const T share = T(1) / T(n);
  for (int64_t k = 0; k < n; ++k) axpy(in.row(line[nl + k]), s.grad.data(), share, D);
  return value;
}

at::Tensor supervised_train_chunk_cpu(at::Tensor& in, at::Tensor& out, const at::Tensor& ids_in,
                                      const at::Tensor& starts_in, int64_t loss, int64_t negative,
                                      const at::Tensor& label_cdf_in, const at::Tensor& tree_offsets_in,
                                      const at::Tensor& tree_nodes_in, const at::Tensor& tree_codes_in,
                                      double lr_start, double lr_end, int64_t seed, bool deterministic) {
  check_tables(in, out);
  TORCH_CHECK_VALUE(in.is_cpu(), "the CPU kernel got tables on ", in.device());
  TORCH_CHECK_VALUE(loss >= kSoftmax && loss <= kOneVsAll, "loss must be 0 (softmax), 1 (ns), 2 (hs) or 3 (ova)");
  TORCH_CHECK_VALUE(negative >= 0, "negative must be >= 0, got ", negative);
  const int64_t L = out.size(0), R = in.size(0), D = in.size(1);
  const auto ids = ids_in.to(at::kInt).contiguous();
  const auto starts = starts_in.to(at::kLong).contiguous();
  const int64_t N = ids.numel();
  check_sentence_starts(starts, N);
  if (N > 0) {
    auto [lo, hi] = at::aminmax(ids);
    TORCH_CHECK_INDEX(hi.item<int64_t>() < R, "row ", hi.item<int64_t>(), " out of range for ", R, " input rows");
    TORCH_CHECK_INDEX(lo.item<int64_t>() >= -L, "label ", -1 - lo.item<int64_t>(), " out of range for ", L, " labels");
  }
  const auto cdf = label_cdf_in.to(at::kDouble).contiguous();
  const auto tree_offsets = tree_offsets_in.to(at::kLong).contiguous();
  const auto tree_nodes = tree_nodes_in.to(at::kLong).contiguous();
  const auto tree_codes = tree_codes_in.to(at::kByte).contiguous();
  if (loss == kNegative) TORCH_CHECK_VALUE(cdf.numel() == L, "label_cdf must have one entry per label");
  if (loss == kHierarchical) {
    TORCH_CHECK_VALUE(tree_offsets.numel() == L + 1 && tree_nodes.numel() == tree_codes.numel() &&
                          tree_offsets[0].item<int64_t>() == 0 && tree_offsets[L].item<int64_t>() == tree_nodes.numel(),
                      "tree_offsets, tree_nodes and tree_codes do not describe one path per label");
    if (tree_nodes.numel()) {
      auto [lo, hi] = at::aminmax(tree_nodes);
      TORCH_CHECK_INDEX(lo.item<int64_t>() >= 0 && hi.item<int64_t>() < L, "a tree node is not an output row");
    }
  }
  const Labels labels{L, cdf.const_data_ptr<double>(), tree_offsets.const_data_ptr<int64_t>(),
                      tree_nodes.const_data_ptr<int64_t>(), tree_codes.const_data_ptr<uint8_t>()};
  const int64_t S = starts.numel() - 1;
  const int64_t* st = starts.const_data_ptr<int64_t>();
  const int32_t* line = ids.const_data_ptr<int32_t>();
  const int64_t parts = deterministic ? 1 : std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), S));
  std::vector<double> losses(parts, 0.0), examples(parts, 0.0);
  AT_DISPATCH_FLOATING_TYPES(in.scalar_type(), "supervised_train_chunk_cpu", [&] {
    scalar_t* in_ptr = in.mutable_data_ptr<scalar_t>();
    scalar_t* out_ptr = out.mutable_data_ptr<scalar_t>();
    // With several threads, each trains its own copy of a small label table, and of the rows of
    // the most frequent words, and adds what it changed to the shared tables every kMergeEvery
    // lines: every line writes every label row (softmax, ova) and the rows of its common words,
    // and two cores writing the same rows line after line took twice as long as one core alone.
    // The other input rows stay shared (Hogwild): a line touches few of them.
    const bool private_outputs = parts > 1 && L * D <= kPrivateOutputMax;
    const int64_t hot = parts > 1 ? std::min<int64_t>(kHotRows, R) : 0;
    std::mutex merging;
    auto part = [&](int64_t p) {
      Scratch<scalar_t> scratch(D, L);
      std::vector<scalar_t> local, start, hot_local(in_ptr, in_ptr + hot * D), hot_start(hot_local);
      if (private_outputs) local.assign(out_ptr, out_ptr + L * D), start = local;
      scalar_t* outputs = private_outputs ? local.data() : out_ptr;
      const InputRows<scalar_t> inputs{in_ptr, hot_local.data(), hot, D};
      auto add_back = [](scalar_t* shared, std::vector<scalar_t>& mine, std::vector<scalar_t>& began) {
        for (size_t i = 0; i < mine.size(); ++i) {
          shared[i] += mine[i] - began[i];
          mine[i] = began[i] = shared[i];
        }
      };
      auto merge = [&] {
        std::lock_guard<std::mutex> guard(merging);
        if (private_outputs) add_back(out_ptr, local, start);
        add_back(in_ptr, hot_local, hot_start);
      };
      const int64_t last = S * (p + 1) / parts;
      int64_t since_merge = 0;
      for (int64_t s = S * p / parts; s < last; ++s) {
        if (s + 1 < last) prefetch_line(in_ptr, D, line + st[s + 1], st[s + 2] - st[s + 1]);
        const auto lr = static_cast<scalar_t>(learning_rate(lr_start, lr_end, st[s], N));
        const double value = train_line(inputs, outputs, D, line + st[s], st[s + 1] - st[s], loss, negative, labels,
                                        lr, CounterRandom(static_cast<uint64_t>(seed), static_cast<uint64_t>(s), 0),
                                        scratch);
        if (value >= 0) losses[p] += value, examples[p] += 1;
        if (parts > 1 && ++since_merge == kMergeEvery) merge(), since_merge = 0;
      }
      if (parts > 1) merge();
    };
    if (parts == 1) {
      part(0);
    } else {
      at::parallel_for(0, parts, 1, [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; ++p) part(p);
      });
    }
  });
  double total = 0, count = 0;
  for (int64_t p = 0; p < parts; ++p) total += losses[p], count += examples[p];
  return at::tensor({total, count, static_cast<double>(N)}, at::kDouble);
}

}  // namespace

TORCH_LIBRARY_IMPL(wordembed, CPU, m) { m.impl("supervised_train_chunk_", &supervised_train_chunk_cpu); }

}  // namespace wordembed

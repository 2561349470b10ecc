// fastText's supervised classifier trained on a chunk of labelled lines, on the CPU: each line
// (its labels as -1 - label, then its input rows; csrc/corpus/labelled_lines.cpp) is one bag of
// input rows whose mean h is scored against the label table by one of fastText's losses:
//   softmax: over all labels, for one label of the line drawn uniformly;
//   ns:      that label against `negative` others drawn from counts^0.5 (never the label itself);
//   hs:      the binary decisions on the label's path in the Huffman tree of the labels;
//   ova:     every label, each a binary decision (is it one of the line's labels?).
// Every output is scored before anything moves (plain SGD on the line's loss); the bag's rows
// then each take 1/n of the gradient of h, as fastText's supervised model does. Threads share the
// tables without locks (Hogwild, as fastText), each on every parts-th line; deterministic: one
// thread, lines in order. Random draws are counter-based (line, draw), so the reference twin
// (reference.py) can make them too.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <optional>
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

// Words given as bags (char n-grams): an id below `count` stands for the input rows
// rows[offsets[id]:offsets[id + 1]] (the word's own row and its n-gram rows); any other id, and
// every id without bags, for its own row.
struct WordBags {
  const int64_t* offsets = nullptr;
  const int64_t* rows = nullptr;
  int64_t count = 0;
};

// The input table as a thread sees it: rows below `hot` (the most frequent words: the
// dictionary is sorted by count) in the thread's own copy, the others shared.
template <typename T>
struct InputRows {
  T* shared;
  T* hot_rows;
  int64_t hot, D;
  WordBags bags;
  T* row(int64_t r) const { return (r < hot ? hot_rows : shared) + r * D; }
  // Appends the rows id stands for.
  void add_rows(int32_t id, std::vector<T*>& out) const {
    if (id >= bags.count) return out.push_back(row(id));
    for (int64_t k = bags.offsets[id]; k < bags.offsets[id + 1]; ++k) out.push_back(row(bags.rows[k]));
  }
};

template <typename T>
struct Scratch {
  std::vector<T> hidden, grad, scores, steps;
  std::vector<T*> rows;
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

// A thread works one line ahead: while line s trains, the rows of its next line are listed and
// the first kPrefetchRows of them asked for, so that their loads overlap this line's output work
// instead of stalling the next sum (sum_rows prefetches only within a line). With bags, a
// word's rows are found through two more loads, its bag's offset and then its row ids, each a
// likely cache miss for a rare word: the offsets are asked for three lines ahead and the row ids
// two lines ahead, so that the listing one line ahead does not wait for them.
constexpr int64_t kPrefetchRows = 8;

template <typename T>
void list_rows(const InputRows<T>& in, const int32_t* line, int64_t length, std::vector<T*>& rows) {
  rows.clear();
  for (int64_t k = 0; k < length; ++k)
    if (line[k] >= 0) in.add_rows(line[k], rows);
  const size_t ahead = std::min<size_t>(rows.size(), kPrefetchRows);
  for (size_t k = 0; k < ahead; ++k) prefetch_row(rows[k], in.D * static_cast<int64_t>(sizeof(T)));
}

void prefetch_bag_offsets(const WordBags& bags, const int32_t* line, int64_t length) {
  for (int64_t k = 0; k < length; ++k)
    if (line[k] >= 0 && line[k] < bags.count) prefetch_row(bags.offsets + line[k], 2 * sizeof(int64_t));
}

void prefetch_bag_rows(const WordBags& bags, const int32_t* line, int64_t length) {
  for (int64_t k = 0; k < length; ++k)
    if (line[k] >= 0 && line[k] < bags.count) {
      const int64_t* rows = bags.rows + bags.offsets[line[k]];
      prefetch_row(rows, (bags.rows + bags.offsets[line[k] + 1] - rows) * static_cast<int64_t>(sizeof(int64_t)));
    }
}

// What train_line returns for a line without a label or without a row: fastText skips it.
constexpr double kSkippedLine = -1;

// One line: labels first (negative), then its rows, listed in s.rows (list_rows). Returns its
// loss, or kSkippedLine.

template <typename T>
double train_line(const InputRows<T>& in, T* out, int64_t D, const int32_t* line, int64_t length, int64_t loss, int64_t negative,
                  const Labels& labels, T lr, CounterRandom random, Scratch<T>& s) {
  int64_t nl = 0;
  while (nl < length && line[nl] < 0) ++nl;
  if (nl == 0 || nl == length) return kSkippedLine;
  const int64_t n = static_cast<int64_t>(s.rows.size());
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
  for (T* row : s.rows) axpy(row, s.grad.data(), share, D);
  return value;
}

// The loss's label tables, checked against the L labels, and a view of them (which borrows them).
struct LabelTables {
  at::Tensor cdf, tree_offsets, tree_nodes, tree_codes;
  Labels view(int64_t L) const {
    return Labels{L, cdf.const_data_ptr<double>(), tree_offsets.const_data_ptr<int64_t>(),
                  tree_nodes.const_data_ptr<int64_t>(), tree_codes.const_data_ptr<uint8_t>()};
  }
};

LabelTables label_tables(int64_t loss, int64_t L, const at::Tensor& cdf_in, const at::Tensor& tree_offsets_in,
                         const at::Tensor& tree_nodes_in, const at::Tensor& tree_codes_in) {
  LabelTables t{cdf_in.to(at::kDouble).contiguous(), tree_offsets_in.to(at::kLong).contiguous(),
                tree_nodes_in.to(at::kLong).contiguous(), tree_codes_in.to(at::kByte).contiguous()};
  if (loss == kNegative) TORCH_CHECK_VALUE(t.cdf.numel() == L, "label_cdf must have one entry per label");
  if (loss == kHierarchical) {
    TORCH_CHECK_VALUE(t.tree_offsets.numel() == L + 1 && t.tree_nodes.numel() == t.tree_codes.numel() &&
                          t.tree_offsets[0].item<int64_t>() == 0 &&
                          t.tree_offsets[L].item<int64_t>() == t.tree_nodes.numel(),
                      "tree_offsets, tree_nodes and tree_codes do not describe one path per label");
    if (t.tree_nodes.numel()) {
      auto [lo, hi] = at::aminmax(t.tree_nodes);
      TORCH_CHECK_INDEX(lo.item<int64_t>() >= 0 && hi.item<int64_t>() < L, "a tree node is not an output row");
    }
  }
  return t;
}

// With several threads, each trains its own copy of a small label table, and of the rows of the
// most frequent words, and adds what it changed to the shared tables every kMergeEvery lines:
// every line writes every label row (softmax, ova) and the rows of its common words, and two
// cores writing the same rows line after line took twice as long as one core alone. The other
// input rows stay shared (Hogwild): a line touches few of them.
template <typename T>
struct ThreadCopies {
  T *in, *out;
  std::vector<T> outputs, outputs_start, hot, hot_start;
  ThreadCopies(T* in, T* out, int64_t output_numbers, int64_t hot_numbers)
      : in(in), out(out), outputs(out, out + output_numbers), outputs_start(outputs), hot(in, in + hot_numbers),
        hot_start(hot) {}
  T* output_table() { return outputs.empty() ? out : outputs.data(); }
  void merge(std::mutex& merging) {
    std::lock_guard<std::mutex> guard(merging);
    add_back(out, outputs, outputs_start);
    add_back(in, hot, hot_start);
  }
  static void add_back(T* shared, std::vector<T>& mine, std::vector<T>& began) {
    for (size_t i = 0; i < mine.size(); ++i) {
      shared[i] += mine[i] - began[i];
      mine[i] = began[i] = shared[i];
    }
  }
};

struct Chunk {
  const int32_t* ids;
  const int64_t* starts;
  int64_t lines, N;
};

struct Settings {
  int64_t loss, negative, parts, seed;
  double lr_start, lr_end;
  Labels labels;
  WordBags bags;
};

// Thread p's lines: p, p + parts, ... (every thread walks the whole chunk, so that no thread's
// lines come from one end of it). Adds their loss and count to loss[p] and examples[p].
template <typename T>
void train_part(int64_t p, T* in, T* out, int64_t D, const Chunk& c, const Settings& s, bool private_outputs,
                int64_t hot, std::mutex& merging, double& loss, double& examples) {
  const int64_t L = s.labels.count;
  ThreadCopies<T> copies(in, out, private_outputs ? L * D : 0, hot * D);
  Scratch<T> scratch(D, L);
  const InputRows<T> inputs{in, copies.hot.data(), hot, D, s.bags};
  auto ids_of = [&](int64_t line) { return c.ids + c.starts[line]; };
  auto length_of = [&](int64_t line) { return c.starts[line + 1] - c.starts[line]; };
  std::vector<T*> upcoming;
  if (p < c.lines) list_rows(inputs, ids_of(p), length_of(p), upcoming);
  int64_t since_merge = 0;
  for (int64_t line = p; line < c.lines; line += s.parts) {
    const int64_t begin = c.starts[line];
    std::swap(scratch.rows, upcoming);
    if (s.bags.count) {
      if (line + 3 * s.parts < c.lines) prefetch_bag_offsets(s.bags, ids_of(line + 3 * s.parts), length_of(line + 3 * s.parts));
      if (line + 2 * s.parts < c.lines) prefetch_bag_rows(s.bags, ids_of(line + 2 * s.parts), length_of(line + 2 * s.parts));
    }
    if (line + s.parts < c.lines) list_rows(inputs, ids_of(line + s.parts), length_of(line + s.parts), upcoming);
    const auto lr = static_cast<T>(learning_rate(s.lr_start, s.lr_end, begin, c.N));
    const double value = train_line(inputs, copies.output_table(), D, c.ids + begin, c.starts[line + 1] - begin,
                                    s.loss, s.negative, s.labels, lr,
                                    CounterRandom(static_cast<uint64_t>(s.seed), static_cast<uint64_t>(line), 0),
                                    scratch);
    if (value != kSkippedLine) loss += value, examples += 1;  // a NaN loss too: the caller stops on it
    if (s.parts > 1 && ++since_merge == kMergeEvery) copies.merge(merging), since_merge = 0;
  }
  if (s.parts > 1) copies.merge(merging);
}

at::Tensor supervised_train_chunk_cpu(at::Tensor& in, at::Tensor& out, const at::Tensor& ids_in,
                                      const at::Tensor& starts_in, int64_t loss, int64_t negative,
                                      const at::Tensor& label_cdf, const at::Tensor& tree_offsets,
                                      const at::Tensor& tree_nodes, const at::Tensor& tree_codes, double lr_start,
                                      double lr_end, int64_t seed, bool deterministic,
                                      const std::optional<at::Tensor>& bag_offsets_in,
                                      const std::optional<at::Tensor>& bag_rows_in) {
  check_supervised_args(in, out, loss, negative, bag_offsets_in, bag_rows_in);
  const int64_t L = out.size(0), R = in.size(0), D = in.size(1);
  const auto ids = ids_in.to(at::kInt).contiguous();
  const auto starts = starts_in.to(at::kLong).contiguous();
  check_sentence_starts(starts, ids.numel());
  check_line_ids(ids, R, L);
  const LabelTables tables = label_tables(loss, L, label_cdf, tree_offsets, tree_nodes, tree_codes);
  at::Tensor bag_offsets, bag_rows;
  WordBags bags;
  if (bag_offsets_in) {
    bag_offsets = bag_offsets_in->to(at::kLong).contiguous();
    bag_rows = bag_rows_in->to(at::kLong).contiguous();
    const int64_t words = bag_offsets.numel() - 1;
    TORCH_CHECK_VALUE(words >= 0 && words <= R, "bag_offsets must have one entry per word plus one, at most ", R + 1);
    check_bags(bag_offsets, bag_rows, words, R);
    bags = WordBags{bag_offsets.const_data_ptr<int64_t>(), bag_rows.const_data_ptr<int64_t>(), words};
  }
  const Chunk chunk{ids.const_data_ptr<int32_t>(), starts.const_data_ptr<int64_t>(), starts.numel() - 1, ids.numel()};
  const int64_t parts =
      deterministic ? 1 : std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), chunk.lines));
  const Settings settings{loss, negative, parts, seed, lr_start, lr_end, tables.view(L), bags};
  std::vector<double> losses(parts, 0.0), examples(parts, 0.0);
  std::mutex merging;
  AT_DISPATCH_FLOATING_TYPES(in.scalar_type(), "supervised_train_chunk_cpu", [&] {
    scalar_t* in_ptr = in.mutable_data_ptr<scalar_t>();
    scalar_t* out_ptr = out.mutable_data_ptr<scalar_t>();
    const bool private_outputs = parts > 1 && L * D <= kPrivateOutputMax;
    const int64_t hot = parts > 1 ? std::min<int64_t>(kHotRows, R) : 0;
    at::parallel_for(0, parts, 1, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p)
        train_part(p, in_ptr, out_ptr, D, chunk, settings, private_outputs, hot, merging, losses[p], examples[p]);
    });
  });
  double total = 0, count = 0;
  for (int64_t p = 0; p < parts; ++p) total += losses[p], count += examples[p];
  return at::tensor({total, count, static_cast<double>(chunk.N)}, at::kDouble);
}

}  // namespace

TORCH_LIBRARY_IMPL(wordembed, CPU, m) { m.impl("supervised_train_chunk_", &supervised_train_chunk_cpu); }

}  // namespace wordembed

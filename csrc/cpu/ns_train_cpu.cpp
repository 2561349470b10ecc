// Word2vec CBOW and skip-gram with negative sampling, with or without fastText's subword bags, on
// the CPU: level 2 of the operator, the trainer's fast path. It walks the chunk's sentences
// (subsampling, word2vec's shrinking window, negatives from the alias table) and hands the
// examples to train_block (ns_block.h) in blocks: one example at a time, or with shared_negatives
// P consecutive positions that share one draw of negatives and train as one minibatch. An example
// is one bag of input rows (CBOW: the words around a position; skip-gram: one word around it;
// with subwords each word stands for its own row and its n-gram rows) predicting the position's
// word. Threads share both tables without locks (Hogwild, as word2vec and gensim do); each keeps
// its own block scratch and random stream, as fastText's Model::State does.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "ns_math.h"
#include "checks.h"
#include "cpu/ns_block.h"
#include "cpu/row_kernels.h"

namespace wordembed {
namespace {

at::Tensor ns_step_cpu(at::Tensor& in, at::Tensor& out, const at::Tensor& context,
                            const at::Tensor& targets, const at::Tensor& negatives, double lr,
                            bool full_context_update) {
  check_step_args(in, out, context, targets, negatives);
  const int64_t D = in.size(1), B = context.size(0), C = context.size(1);
  const auto ctx = context.to(at::kLong).contiguous();
  const auto tgt = targets.to(at::kLong).contiguous();
  const auto neg = negatives.to(at::kLong).contiguous();
  const int64_t K = neg.size(1);
  auto losses = at::empty({B}, in.options().dtype(at::kDouble));
  AT_DISPATCH_FLOATING_TYPES(in.scalar_type(), "ns_step_cpu", [&] {
    NsBlock<scalar_t> block;  // one example at a time, with the negatives it was given
    block.leave_out_target = false;
    const int64_t* c = ctx.const_data_ptr<int64_t>();
    const int64_t* negs = neg.const_data_ptr<int64_t>();
    double* loss = losses.mutable_data_ptr<double>();
    for (int64_t b = 0; b < B; ++b) {
      block.clear();
      block.add_position(tgt.const_data_ptr<int64_t>()[b]);
      for (int64_t j = 0; j < C; ++j)
        if (c[b * C + j] >= 0) block.rows.push_back(c[b * C + j]);
      block.owner.push_back(0);  // an example with an empty context still scores its outputs
      block.row_start.push_back(static_cast<int64_t>(block.rows.size()));
      block.negatives.assign(negs + b * K, negs + (b + 1) * K);
      loss[b] = train_block(in.mutable_data_ptr<scalar_t>(), out.mutable_data_ptr<scalar_t>(), D, block,
                            static_cast<scalar_t>(lr), full_context_update);
    }
  });
  return losses;
}

// The input rows a word trains: its bag (subword models), else its own row.
struct Bags {
  const int64_t* offsets = nullptr;  // V + 1, or null: word w is row w
  const int64_t* rows = nullptr;
  template <typename F>
  void for_each(int64_t w, F&& f) const {
    if (!offsets) return f(w);
    for (int64_t r = offsets[w]; r < offsets[w + 1]; ++r) f(rows[r]);
  }
};

// The alias table of the negatives, packed for the CPU: one 8-byte entry per word, so that a draw
// reads one cache line, and one 64-bit random number per draw (its high half picks the word, its
// low half the coin).
class NoiseTable {
 public:
  NoiseTable(const double* prob, const int64_t* alias, int64_t V) : entries_(V), V_(static_cast<uint64_t>(V)) {
    for (int64_t k = 0; k < V; ++k) {
      const bool always = prob[k] >= 1.0;
      entries_[k] = {always ? 0xFFFFFFFFu : static_cast<uint32_t>(std::max(prob[k], 0.0) * 4294967296.0),
                     static_cast<int32_t>(always ? k : alias[k])};
    }
  }
  int64_t draw(uint64_t bits) const {
    const uint64_t k = ((bits >> 32) * V_) >> 32;
    const Entry& e = entries_[k];
    return static_cast<uint32_t>(bits) < e.keep_below ? static_cast<int64_t>(k) : e.alias;
  }

 private:
  struct Entry {
    uint32_t keep_below;  // the word is kept when the low half is below this, else alias
    int32_t alias;
  };
  std::vector<Entry> entries_;
  uint64_t V_;
};

// What every part of a chunk reads: the chunk, its sampling tables and the settings.
struct Chunk {
  const int32_t* word;
  const int64_t* starts;  // sentence s is word[starts[s]:starts[s + 1]]
  const double* keep;     // keep_prob per word
  int64_t S, N, D, window, negative;
  // Words from this row on are always kept (keep_prob >= 1, no draw). The vocabulary is sorted
  // by count, so these are all but the most frequent few hundred: their probabilities, scattered
  // over a table of V numbers, are then never read.
  int64_t subsampled_below;
  // Positions per draw of negatives; 0 trains every example alone (CBOW: with its own negatives;
  // skip-gram: the pairs of a centre one after the other, with the centre's negatives).
  int64_t shared_negatives;
  bool skipgram, full_context_update;
  double lr_start, lr_end;
  uint64_t seed;
  const NoiseTable* noise;
  Bags bags;
};

// One thread's part of a chunk: the sentences starting in its share of the words, with its own
// random stream and block scratch.
template <typename T>
class PartTrainer {
 public:
  PartTrainer(const Chunk& c, T* in, T* out, int64_t part)
      : c_(c), in_(in), out_(out),
        random_(c.seed * 0x2545F4914F6CDD1Dull + static_cast<uint64_t>(part) + 1), next_negatives_(c.negative) {
    draw_next_negatives();
  }

  void run(int64_t s0, int64_t s1) {
    for (int64_t s = std::min(s0, c_.S); s < s1; ++s) train_sentence(s);
  }

  double loss = 0, examples = 0;

 private:
  // Negatives are drawn one block ahead, so that their rows are on their way to the cache while
  // the block before them trains.
  void draw_next_negatives() {
    for (int64_t k = 0; k < c_.negative; ++k) {
      next_negatives_[k] = c_.noise->draw(random_.next());
      prefetch_row(out_ + next_negatives_[k] * c_.D, c_.D * sizeof(T));
    }
  }

  // Trains the block's inputs; with fresh_negatives, against a new draw of negatives.
  void train(bool fresh_negatives) {
    if (block_.inputs() == 0) return;
    if (fresh_negatives) {
      block_.negatives.swap(next_negatives_);
      next_negatives_.resize(c_.negative);
      draw_next_negatives();
    }
    loss += train_block(in_, out_, c_.D, block_, lr_, c_.full_context_update);
    examples += static_cast<double>(block_.inputs());
  }

  void train_sentence(int64_t s) {
    const auto uniform = [this] { return random_.uniform(); };
    lr_ = static_cast<T>(learning_rate(c_.lr_start, c_.lr_end, c_.starts[s], c_.N));
    kept_.clear();
    for (int64_t i = c_.starts[s]; i < c_.starts[s + 1]; ++i)
      if (c_.word[i] >= c_.subsampled_below || keep_word(c_.keep[c_.word[i]], uniform)) kept_.push_back(c_.word[i]);
    const int64_t L = static_cast<int64_t>(kept_.size());
    const bool per_example = c_.shared_negatives == 0;
    block_.clear();
    for (int64_t i = 0; i < L; ++i) {
      const int64_t reach = window_reach(c_.window, uniform);
      const int64_t lo = std::max<int64_t>(0, i - reach), hi = std::min(L, i + reach + 1);
      if (hi - lo < 2) continue;  // a word alone in its sentence trains nothing
      block_.add_position(kept_[i]);
      add_inputs(i, lo, hi, per_example);
      if (block_.positions() == (per_example ? 1 : c_.shared_negatives)) {
        if (!per_example || !c_.skipgram) train(true);
        block_.clear();
      }
    }
    if (!per_example) train(true);
  }

  // The inputs of the position i whose window is kept_[lo:hi].
  void add_inputs(int64_t i, int64_t lo, int64_t hi, bool per_example) {
    const auto push_row = [this](int64_t r) { block_.rows.push_back(r); };
    if (!c_.skipgram) {  // the bags of the words around predict the centre
      for (int64_t j = lo; j < hi; ++j)
        if (j != i) c_.bags.for_each(kept_[j], push_row);
      block_.close_input();
      return;
    }
    bool first_pair = true;  // word2vec's skip-gram: each word around the centre (its bag) predicts it
    for (int64_t j = lo; j < hi; ++j) {
      if (j == i) continue;
      c_.bags.for_each(kept_[j], push_row);
      block_.close_input();
      if (per_example) {  // the centre's negatives, drawn at its first pair
        train(first_pair);
        block_.clear_inputs();
        first_pair = false;
      }
    }
  }

  const Chunk& c_;
  T *in_, *out_;
  Random random_;
  NsBlock<T> block_;
  std::vector<int64_t> kept_, next_negatives_;
  T lr_ = 0;
};

at::Tensor ns_train_chunk_cpu(at::Tensor& in, at::Tensor& out, const at::Tensor& ids_in,
                              const at::Tensor& starts_in, const at::Tensor& keep_in,
                              const at::Tensor& noise_prob_in, const at::Tensor& noise_alias_in, int64_t window,
                              int64_t negative, double lr_start, double lr_end, int64_t seed, bool deterministic,
                              bool full_context_update, bool skipgram, const std::optional<at::Tensor>& bag_offsets,
                              const std::optional<at::Tensor>& bag_rows, int64_t shared_negatives) {
  check_chunk_args(in, out, ids_in, starts_in, keep_in, noise_prob_in, noise_alias_in, window, negative,
                   bag_offsets, bag_rows, shared_negatives);
  const int64_t V = out.size(0);
  TORCH_CHECK_VALUE(V <= INT32_MAX, "the CPU trainer takes at most 2^31 - 1 words, got ", V);
  at::Tensor offsets, rows;
  Bags bags;
  if (bag_offsets) {
    offsets = bag_offsets->to(at::kLong).contiguous();
    rows = bag_rows->to(at::kLong).contiguous();
    check_bags(offsets, rows, V, in.size(0));
    bags = Bags{offsets.const_data_ptr<int64_t>(), rows.const_data_ptr<int64_t>()};
  }
  const auto ids = ids_in.to(at::kInt).contiguous();
  const auto starts = starts_in.to(at::kLong).contiguous();
  const auto keep = keep_in.to(at::kDouble).contiguous();
  const auto noise_prob = noise_prob_in.to(at::kDouble).contiguous();
  const auto noise_alias = noise_alias_in.to(at::kLong).contiguous();
  check_sentence_starts(starts, ids.numel());
  int64_t subsampled_below = V;
  while (subsampled_below > 0 && keep.const_data_ptr<double>()[subsampled_below - 1] >= 1.0) --subsampled_below;
  const NoiseTable noise(noise_prob.const_data_ptr<double>(), noise_alias.const_data_ptr<int64_t>(), V);
  const Chunk chunk{ids.const_data_ptr<int32_t>(), starts.const_data_ptr<int64_t>(), keep.const_data_ptr<double>(),
                    starts.numel() - 1, ids.numel(), in.size(1), window, negative, subsampled_below,
                    shared_negatives, skipgram, full_context_update, lr_start, lr_end, static_cast<uint64_t>(seed),
                    &noise, bags};
  const int64_t S = chunk.S, N = chunk.N;
  const int64_t parts = deterministic ? 1 : std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), S));
  std::vector<double> loss(parts, 0.0), examples(parts, 0.0);
  AT_DISPATCH_FLOATING_TYPES(in.scalar_type(), "ns_train_chunk_cpu", [&] {
    at::parallel_for(0, parts, 1, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t* st = chunk.starts;
        const int64_t s0 = std::upper_bound(st, st + S, N * p / parts - 1) - st;
        const int64_t s1 = p + 1 == parts ? S : std::upper_bound(st, st + S, N * (p + 1) / parts - 1) - st;
        PartTrainer<scalar_t> part(chunk, in.mutable_data_ptr<scalar_t>(), out.mutable_data_ptr<scalar_t>(), p);
        part.run(s0, s1);
        loss[p] = part.loss, examples[p] = part.examples;
      }
    });
  });
  double total_loss = 0, total_examples = 0;
  for (int64_t p = 0; p < parts; ++p) total_loss += loss[p], total_examples += examples[p];
  return at::tensor({total_loss, total_examples, static_cast<double>(N)}, at::kDouble);
}

}  // namespace

TORCH_LIBRARY_IMPL(wordembed, CPU, m) {
  m.impl("ns_step_", &ns_step_cpu);
  m.impl("ns_train_chunk_", &ns_train_chunk_cpu);
}

}  // namespace wordembed

// Word2vec CBOW and skip-gram with negative sampling, with or without fastText's subword bags, on
// the CPU: level 2 of the operator, the trainer's fast path. Every example is one bag of input
// rows (CBOW: the words around a position; skip-gram: the centre word; with subwords each word
// stands for its own row and its n-gram rows) predicting one word against negatives; the bag's
// mean goes through the same row loops as context_sum (row_kernels.h). Threads
// share both tables without locks (Hogwild, as word2vec and gensim do); each keeps its own
// scratch rows and random stream, as fastText's Model::State does.
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
#include "cpu/row_kernels.h"

namespace wordembed {
namespace {

template <typename T>
struct Scratch {
  std::vector<T> hidden, hidden_grad, step;
  std::vector<const T*> rows;
  explicit Scratch(int64_t D) : hidden(D), hidden_grad(D) {}
};

// One SGD step on one example: context rows ctx[0..n) of the input table, outputs[0] the target
// and outputs[1..m) the negatives in the output table. Every output is scored before anything
// moves, so this is plain SGD on the example's loss (which it returns), except that with
// full_context_update each context row gets the whole gradient of the mean h rather than 1/n of
// it: word2vec's and gensim's rule, which learns markedly better vectors.
template <typename T>
double train_example(T* in, T* out, int64_t D, const int64_t* ctx, int64_t n, const int64_t* outputs,
                     int64_t m, T lr, bool full_context_update, Scratch<T>& s) {
  // The output rows are scattered over their table: ask for them now, so that their loads
  // overlap with the context sum below.
  for (int64_t j = 0; j < m; ++j) prefetch_for_write(out + outputs[j] * D, D * sizeof(T));
  s.rows.resize(n);
  for (int64_t k = 0; k < n; ++k) s.rows[k] = in + ctx[k] * D;
  const T inv_n = n ? T(1) / T(n) : T(0);
  sum_rows(s.hidden.data(), s.rows.data(), n, D, inv_n);
  std::fill(s.hidden_grad.begin(), s.hidden_grad.end(), T(0));
  s.step.resize(m);
  // The loss is sum_j log1p(e_j) + hinge_j = log(prod_j (1 + e_j)) + sum_j hinge_j: one log per
  // example. Each factor is in (1, 2], so the product of at most 1 + 1000 of them fits a double.
  double product = 1, hinge = 0;
  for (int64_t j = 0; j < m; ++j) {
    const T score = dot(s.hidden.data(), out + outputs[j] * D, D);
    const LogisticParts<T> term = logistic_parts(j == 0 ? score : -score);
    product *= 1.0 + static_cast<double>(term.e);
    hinge += static_cast<double>(term.hinge);
    s.step[j] = j == 0 ? lr * term.step : -lr * term.step;  // minus the gradient, times lr
  }
  const double loss = std::log(product) + hinge;
  for (int64_t j = 0; j < m; ++j) axpy(s.hidden_grad.data(), out + outputs[j] * D, s.step[j], D);
  for (int64_t j = 0; j < m; ++j) axpy(out + outputs[j] * D, s.hidden.data(), s.step[j], D);
  const T context_scale = full_context_update ? T(1) : inv_n;
  for (int64_t k = 0; k < n; ++k) axpy(in + ctx[k] * D, s.hidden_grad.data(), context_scale, D);
  return loss;
}

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
    Scratch<scalar_t> scratch(D);
    std::vector<int64_t> rows(C), outputs(K + 1);
    const int64_t* c = ctx.const_data_ptr<int64_t>();
    const int64_t* t = tgt.const_data_ptr<int64_t>();
    const int64_t* negs = neg.const_data_ptr<int64_t>();
    double* loss = losses.mutable_data_ptr<double>();
    for (int64_t b = 0; b < B; ++b) {
      int64_t n = 0;
      for (int64_t j = 0; j < C; ++j)
        if (c[b * C + j] >= 0) rows[n++] = c[b * C + j];
      outputs[0] = t[b];
      std::copy(negs + b * K, negs + (b + 1) * K, outputs.begin() + 1);
      loss[b] = train_example(in.mutable_data_ptr<scalar_t>(), out.mutable_data_ptr<scalar_t>(), D, rows.data(), n,
                              outputs.data(), K + 1, static_cast<scalar_t>(lr), full_context_update, scratch);
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

at::Tensor ns_train_chunk_cpu(at::Tensor& in, at::Tensor& out, const at::Tensor& ids_in,
                              const at::Tensor& starts_in, const at::Tensor& keep_in,
                              const at::Tensor& noise_prob_in, const at::Tensor& noise_alias_in, int64_t window,
                              int64_t negative, double lr_start, double lr_end, int64_t seed, bool deterministic,
                              bool full_context_update, bool skipgram, const std::optional<at::Tensor>& bag_offsets,
                              const std::optional<at::Tensor>& bag_rows) {
  check_chunk_args(in, out, ids_in, starts_in, keep_in, noise_prob_in, noise_alias_in, window, negative,
                   bag_offsets, bag_rows);
  const int64_t V = out.size(0), D = in.size(1);
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
  const int64_t N = ids.numel();
  check_sentence_starts(starts, N);
  const int64_t S = starts.numel() - 1;
  const int64_t* st = starts.const_data_ptr<int64_t>();

  const int64_t parts = deterministic ? 1 : std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), S));
  std::vector<double> loss(parts, 0.0), examples(parts, 0.0);
  AT_DISPATCH_FLOATING_TYPES(in.scalar_type(), "ns_train_chunk_cpu", [&] {
    scalar_t* in_ptr = in.mutable_data_ptr<scalar_t>();
    scalar_t* out_ptr = out.mutable_data_ptr<scalar_t>();
    const int32_t* word = ids.const_data_ptr<int32_t>();
    const double* keep_ptr = keep.const_data_ptr<double>();
    const double* prob = noise_prob.const_data_ptr<double>();
    const int64_t* alias = noise_alias.const_data_ptr<int64_t>();
    at::parallel_for(0, parts, 1, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p) {
        // Part p: the sentences starting in its share of the words.
        const int64_t s0 = std::upper_bound(st, st + S, N * p / parts - 1) - st;
        const int64_t s1 = p + 1 == parts ? S : std::upper_bound(st, st + S, N * (p + 1) / parts - 1) - st;
        Random random(static_cast<uint64_t>(seed) * 0x2545F4914F6CDD1Dull + static_cast<uint64_t>(p) + 1);
        Scratch<scalar_t> scratch(D);
        std::vector<int64_t> kept, input, outputs(negative + 1);
        const auto uniform = [&random] { return random.uniform(); };
        const auto push_row = [&input](int64_t r) { input.push_back(r); };
        // outputs[0, m): `target`, then fresh negatives (one equal to the target is left out).
        int64_t m = 0;
        const auto draw_outputs = [&](int64_t target) {
          m = 0;
          outputs[m++] = target;
          for (int64_t k = 0; k < negative; ++k) {
            const int64_t w = draw_negative(V, prob, alias, uniform);
            if (w != target) outputs[m++] = w;
          }
        };
        // Trains input (rows of the input table) to predict the outputs.
        const auto train = [&](scalar_t lr) {
          loss[p] += train_example(in_ptr, out_ptr, D, input.data(), static_cast<int64_t>(input.size()),
                                   outputs.data(), m, lr, full_context_update, scratch);
          examples[p] += 1;
        };
        for (int64_t s = std::min(s0, S); s < s1; ++s) {
          const scalar_t lr = static_cast<scalar_t>(learning_rate(lr_start, lr_end, st[s], N));
          kept.clear();
          for (int64_t i = st[s]; i < st[s + 1]; ++i)
            if (keep_word(keep_ptr[word[i]], uniform)) kept.push_back(word[i]);
          const int64_t L = static_cast<int64_t>(kept.size());
          for (int64_t i = 0; i < L; ++i) {
            const int64_t reach = window_reach(window, uniform);
            const int64_t lo = std::max<int64_t>(0, i - reach), hi = std::min(L, i + reach + 1);
            if (skipgram) {  // word2vec's: each word around the centre (its bag) predicts it
              // The centre's negatives are drawn once and shared by the words around it (as in
              // Ji et al.'s pWord2Vec): the examples still train one after the other, but their
              // output rows stay in cache from one to the next.
              if (hi - lo > 1) draw_outputs(kept[i]);
              for (int64_t j = lo; j < hi; ++j) {
                if (j == i) continue;
                input.clear();
                bags.for_each(kept[j], push_row);
                train(lr);
              }
            } else {  // the bags of the words around predict the centre
              input.clear();
              for (int64_t j = lo; j < hi; ++j)
                if (j != i) bags.for_each(kept[j], push_row);
              if (input.empty()) continue;
              draw_outputs(kept[i]);
              train(lr);
            }
          }
        }
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

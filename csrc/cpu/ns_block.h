// One step of word2vec's negative sampling on a block of examples that share their negatives: the
// unit of work of the CPU trainer (cpu/ns_train_cpu.cpp).
//
// A block holds P positions (each with its target word) and n inputs; input i is the mean of a
// bag of input-table rows and belongs to one position, whose target it predicts against the
// block's K negatives (a negative equal to that target is left out). CBOW: one input per
// position, the words around it. Skip-gram: one input per word around the position. Every score
// of the block is computed from the rows as they were before the block (a minibatch, as Ji et al.'s
// HogBatch does), so the work is three small dense products, inputs x outputs^T, steps x outputs
// and steps^T x inputs, each output row written back once. One input with its own negatives is
// plain per-example SGD.
//
// The float and double versions are compiled for AVX-512, AVX2 and baseline x86-64 and picked at
// load time (ns_block.cpp), with every row loop inlined into them. Their sums run in the same
// order on each, and both AVX-512 and AVX2 fuse multiply-adds, so the two should give the same
// numbers (not checked: the project's CPU machine has AVX2 alone).
#pragma once
#include <cstdint>
#include <vector>

namespace wordembed {

template <typename T>
struct NsBlock {
  std::vector<int64_t> targets;           // P: each position's target word (an output row)
  std::vector<int64_t> negatives;         // K, shared by the block's inputs
  std::vector<int64_t> owner;             // n: the position of each input
  std::vector<int64_t> row_start{0};      // n + 1: input i is rows[row_start[i] : row_start[i + 1]]
  std::vector<int64_t> rows;              // input-table rows
  // A negative equal to an input's target is left out of its loss (the trainer's rule); false
  // keeps it (ns_step_, whose caller chose the negatives).
  bool leave_out_target = true;
  std::vector<T> hidden, hidden_grad, step, sign, e, coef;  // scratch: n x D, n x D, 3 of n x (1 + K), n
  std::vector<const T*> pointers;

  int64_t inputs() const { return static_cast<int64_t>(owner.size()); }
  int64_t positions() const { return static_cast<int64_t>(targets.size()); }
  void add_position(int64_t target) { targets.push_back(target); }
  // The rows pushed since the last call become one input, of the last position.
  bool close_input() {
    if (static_cast<int64_t>(rows.size()) == row_start.back()) return false;
    owner.push_back(positions() - 1);
    row_start.push_back(static_cast<int64_t>(rows.size()));
    return true;
  }
  void clear_inputs() {
    owner.clear();
    rows.clear();
    row_start.resize(1);
  }
  void clear() {
    clear_inputs();
    targets.clear();
  }
};

// Trains the block once, in place, at learning rate lr; returns the sum of its losses. With
// full_context_update each row of an input's bag gets the whole gradient of the mean (word2vec's,
// gensim's and fastText's rule), else 1/n of it.
double train_block(float* in, float* out, int64_t D, NsBlock<float>& block, float lr, bool full_context_update);
double train_block(double* in, double* out, int64_t D, NsBlock<double>& block, double lr, bool full_context_update);

}  // namespace wordembed

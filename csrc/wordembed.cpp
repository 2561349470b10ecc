// Every wordembed operator schema, in one place. Kernels live in cpu/ and cuda/, the fused-SGD
// op's autograd in fused_sgd_autograd.cpp.
#include <Python.h>
#include <torch/library.h>

// Importing wordembed._C from Python runs the registrations below; the module itself is empty.
extern "C" PyObject* PyInit__C(void) {
  static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_C", nullptr, -1, nullptr};
  return PyModule_Create(&module_def);
}

TORCH_LIBRARY(wordembed, m) {
  // out[b] = sum (or mean) of weight[i] over the entries i of bag b that are not padding. Bags come
  // as nn.EmbeddingBag takes them (batch.h): a padded (B, C) context, bag b being row b; or, with
  // offsets (B + 1 of them, from 0 to len(context)), a 1-D context whose bag b is
  // context[offsets[b] : offsets[b + 1]]. Padding: -1, and padding_idx when it is a row (>= 0).
  // per_sample_weights (shaped like context, mean=False only) weigh each entry. sparse_grad and
  // deterministic only change the backward (sparse_grad as in aten::gather).
  m.def("context_sum(Tensor weight, Tensor context, bool mean, bool sparse_grad=False, "
        "bool deterministic=True, Tensor? offsets=None, Tensor? per_sample_weights=None, "
        "int padding_idx=-1) -> Tensor");
  // Dense gradient of context_sum with respect to weight: (num_weights, D). deterministic=False
  // lets CUDA add with atomics, unless torch.use_deterministic_algorithms(True) is in force.
  m.def("context_sum_backward(Tensor grad_out, Tensor context, SymInt num_weights, bool mean, "
        "bool deterministic=True, Tensor? offsets=None, Tensor? per_sample_weights=None, "
        "int padding_idx=-1) -> Tensor");
  // The same gradient as (rows, values): the sorted distinct rows touched and their gradients.
  m.def("context_sum_backward_sparse(Tensor grad_out, Tensor context, SymInt num_weights, bool mean, "
        "Tensor? offsets=None, Tensor? per_sample_weights=None, int padding_idx=-1) -> (Tensor, Tensor)");
  // weight[rows] -= lr * gradient, for exactly the rows touched; no gradient tensor is made.
  m.def("context_sum_sgd_(Tensor(a!) weight, Tensor grad_out, Tensor context, bool mean, float lr, "
        "bool deterministic=True, Tensor? offsets=None, Tensor? per_sample_weights=None, "
        "int padding_idx=-1) -> ()");
  // The gradient of context_sum with respect to per_sample_weights, shaped like context:
  // grad_out[b] . weight[context[i]] for entry i of bag b, 0 for padding (per_sample_weights.cpp).
  m.def("context_sum_per_sample_weights_backward(Tensor grad_out, Tensor weight, Tensor context, "
        "Tensor? offsets=None, int padding_idx=-1) -> Tensor");
  // context_sum whose backward is context_sum_sgd_ with this lr (fused_sgd_autograd.cpp): weight
  // gets no gradient, its rows are updated in place instead (per_sample_weights still get theirs).
  m.def("context_sum_fused_sgd(Tensor weight, Tensor context, bool mean, float lr, "
        "bool deterministic=True, Tensor? offsets=None, Tensor? per_sample_weights=None, "
        "int padding_idx=-1) -> Tensor");

  // Word2vec with negative sampling, level 2 of the operator (see cpu/ns_train_cpu.cpp). One SGD
  // step per example on given samples: h = mean of input_vectors[context[b]] (-1 is padding; a
  // skip-gram example is a bag of one word, a subword example the word's row and its n-gram rows),
  // loss = -log sigmoid(h . out[target]) - sum_k log sigmoid(-h . out[negative_k]); examples in
  // order. Returns each example's loss (float64). full_context_update gives every row of the bag
  // the whole gradient of h, as word2vec, gensim and fastText do (False: the exact 1/n share).
  m.def("ns_step_(Tensor(a!) input_vectors, Tensor(b!) output_vectors, Tensor context, "
        "Tensor targets, Tensor negatives, float lr, bool full_context_update=True) -> Tensor");
  // Trains on a chunk of the id stream: subsampling (keep_prob), word2vec's shrinking window,
  // negatives drawn from the alias table (noise_prob, noise_alias), learning rate falling
  // linearly from lr_start to lr_end across the chunk. CBOW (the words around a position predict
  // it together) or skipgram (each word around it predicts it alone: word2vec's skip-gram). With
  // bag_offsets and bag_rows, word w stands for the input rows bag_rows[bag_offsets[w] :
  // bag_offsets[w+1]] (fastText's subwords); without, for row w. Threads share the tables
  // lock-free (Hogwild) unless deterministic (one CPU thread, or one CUDA warp, walks the chunk in
  // order). shared_negatives P >= 1 (CPU): P consecutive positions of a sentence share one draw
  // of negatives and train as one minibatch (cpu/ns_block.h); 0: every example trains alone.
  // Returns [loss sum, examples, words] (float64) on the CPU, whatever the tables' device.
  m.def("ns_train_chunk_(Tensor(a!) input_vectors, Tensor(b!) output_vectors, Tensor ids, "
        "Tensor sentence_starts, Tensor keep_prob, Tensor noise_prob, Tensor noise_alias, int window, "
        "int negative, float lr_start, float lr_end, int seed, bool deterministic, "
        "bool full_context_update=True, bool skipgram=False, Tensor? bag_offsets=None, "
        "Tensor? bag_rows=None, int shared_negatives=0) -> Tensor");

  // The corpus pipeline (corpus/corpus_ops.cpp), over a UTF-8 text file read in blocks by
  // `threads` threads; the results do not depend on `threads`. cancel: a uint8 flag, polled
  // between blocks (Ctrl-C). count_words -> (words as UTF-8 joined by '\n', in order of first
  // appearance or, by_count, most frequent first; counts; tokens; the highest count that pruning
  // dropped).
  m.def("count_words(str path, int min_count, int max_vocab_size, bool by_count, int block_bytes, int threads, "
        "Tensor cancel) -> (Tensor, Tensor, int, int)");
  // Writes the int32 id stream to ids_fd and the int64 sentence offsets to starts_fd; token
  // words[k] becomes ids[offsets[k]:offsets[k+1]]. Returns the number of ids written.
  m.def("encode_words(str path, Tensor words, Tensor offsets, Tensor ids, int ids_fd, int starts_fd, "
        "int max_sentence_words, int block_bytes, int threads, Tensor cancel) -> int");

  // A chunk of an encoded corpus (corpus/gather_sentences.cpp): the sentence ranges (first,
  // last) of ranges (K x 2), read from the open .ids and .starts files, and put in order (a
  // permutation of the chunk's sentences; empty: as read) -> (ids, sentence_starts).
  m.def("gather_sentences(int ids_fd, int starts_fd, Tensor ranges, Tensor order) -> (Tensor, Tensor)");
  // Word vectors as text lines (corpus/text_rows.cpp): words (UTF-8, each ended by '\n') and their
  // float32 rows -> "word v1 ... vD\n" per row, each value the shortest text that reads back as it.
  m.def("format_text_rows(Tensor words, Tensor rows) -> Tensor");
  // Product quantization (cpu/nearest_centroids.cpp): points (slices, rows, width) and centroids
  // (slices, K, width), float32 -> (slices, rows) int64, each point's nearest centroid of its slice.
  m.def("nearest_centroids(Tensor points, Tensor centroids) -> Tensor");

  // fastText's supervised classifier (cpu/classify_train_cpu.cpp): trains on a chunk of labelled
  // lines, each a sentence of its labels (as -1 - label) then its input rows; loss 0 softmax,
  // 1 ns (label_cdf: the labels' cumulative counts^0.5), 2 hs (each label's path of output rows
  // tree_nodes[tree_offsets[l]:tree_offsets[l+1]] and decisions tree_codes), 3 ova. Returns
  // [loss sum, lines trained, ids] (float64). With bag_offsets and bag_rows (char n-grams), an id w
  // below len(bag_offsets) - 1 stands for the rows bag_rows[bag_offsets[w]:bag_offsets[w + 1]].
  m.def("supervised_train_chunk_(Tensor(a!) input_vectors, Tensor(b!) output_vectors, Tensor ids, "
        "Tensor sentence_starts, int loss, int negative, Tensor label_cdf, Tensor tree_offsets, "
        "Tensor tree_nodes, Tensor tree_codes, float lr_start, float lr_end, int seed, bool deterministic, "
        "Tensor? bag_offsets=None, Tensor? bag_rows=None) -> Tensor");
  // Fills a CPU table with uniform numbers in [-bound, bound) that depend on the seed alone
  // (cpu/fill_uniform_cpu.cpp), on every thread.
  m.def("fill_uniform_(Tensor(a!) table, int seed, float bound) -> ()");
  // Labelled lines as fastText reads them (corpus/labelled_lines.cpp), from a uint8 tensor of the
  // text: every token and its count (joined by '\n'), and the lines ended; and each line encoded.
  m.def("count_labelled_tokens(Tensor text) -> (Tensor, Tensor, int)");
  // word_bags: a known word is written as its own id alone, its char n-gram rows left to the bags
  // that labelled_word_bags makes (the trainer's form; the stream is then several times shorter).
  m.def("encode_labelled_lines(Tensor text, Tensor vocabulary, int nwords, str label_prefix, int word_ngrams, "
        "int bucket, int minn, int maxn, bool keep_unlabelled, bool word_bags=False) -> (Tensor, Tensor)");
  // Each of the vocabulary's first nwords words as the bag of its row and its char n-gram rows
  // (fastText's subwords; "</s>" has none): (bag_offsets, bag_rows) for supervised_train_chunk_.
  m.def("labelled_word_bags(Tensor vocabulary, int nwords, int bucket, int minn, int maxn) -> (Tensor, Tensor)");
}

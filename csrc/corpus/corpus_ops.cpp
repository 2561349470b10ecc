// The corpus pipeline's two passes over a UTF-8 text file, multi-threaded over blocks
// (text_blocks.h): count_words builds the vocabulary's counts, encode_words writes the int32 id
// stream and its sentence offsets. Both give exactly what wordembed/text/corpus.py and vocab.py, their
// Python twins, give (tests/text/test_corpus_pipeline.py compares them byte for byte).
#include <ATen/ATen.h>
#include <torch/library.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "corpus/free_memory.h"
#include "corpus/text_blocks.h"
#include "corpus/utf8_tokens.h"
#include "corpus/word_table.h"

namespace wordembed::corpus {
namespace {

const volatile uint8_t* cancel_flag(const at::Tensor& cancel) {
  TORCH_CHECK_VALUE(cancel.scalar_type() == at::kByte && cancel.numel() == 1 && cancel.is_contiguous(),
                    "cancel must be a uint8 tensor of one element");
  return cancel.data_ptr<uint8_t>();
}

void check_blocks(int64_t block_bytes, int64_t threads) {
  TORCH_CHECK_VALUE(block_bytes >= 1, "block_bytes must be positive, got ", block_bytes);
  TORCH_CHECK_VALUE(threads >= 1, "threads must be positive, got ", threads);
}

// Counts every token; when more than max_vocab_size distinct words are held after a block
// (0: no bound), drops those seen at most min_reduce times, min_reduce = 1, 2, ... until they
// fit (word2vec's ReduceVocab, checked per block instead of per word, so that the result does
// not depend on the thread count). Returns the words counted at least min_count times, in order
// of first appearance (by_count: most frequent first, ties in that order), as UTF-8 joined by
// '\n' (no token holds a '\n'), their counts, the number of tokens, and the highest min_reduce
// used (0: nothing was dropped).
std::tuple<at::Tensor, at::Tensor, int64_t, int64_t> count_words(
    const std::string& path, int64_t min_count, int64_t max_vocab_size, bool by_count, int64_t block_bytes,
    int64_t threads, const at::Tensor& cancel) {
  check_blocks(block_bytes, threads);
  TORCH_CHECK_VALUE(min_count >= 1, "min_count must be at least 1, got ", min_count);
  TORCH_CHECK_VALUE(max_vocab_size >= 0, "max_vocab_size must be >= 0 (0: no bound), got ", max_vocab_size);
  const auto* stop = cancel_flag(cancel);
  TextFile file(path);
  const auto bounds = file.block_bounds(block_bytes);
  struct Local {
    WordTable counts;
    int64_t tokens = 0;
    std::string scratch;
  };
  std::vector<Local> locals(threads);
  WordTable total;
  int64_t tokens = 0, min_reduce = 0;
  for_blocks_in_order(
      file, bounds, static_cast<int>(threads), stop,
      [&](int w, const char* text, size_t length) {
        Local& local = locals[w];
        local.counts.clear();
        local.tokens = 0;
        scan_tokens(
            text, text + length, local.scratch,
            [&](const char* s, size_t n) {
              ++local.counts(s, n, hash_word(s, n));
              ++local.tokens;
            },
            [] {});
      },
      [&](int w) {
        Local& local = locals[w];
        for (const auto& e : local.counts.entries()) {
          const auto word = local.counts.word(e);
          total(word.data(), word.size(), e.hash) += e.value;
        }
        tokens += local.tokens;
        while (max_vocab_size > 0 && static_cast<int64_t>(total.size()) > max_vocab_size) {
          ++min_reduce;
          total.remove_if([&](const WordTable::Entry& e) { return e.value <= min_reduce; });
        }
      });
  locals.clear();
  std::vector<size_t> kept;  // entries counted min_count times, in order of first appearance
  int64_t bytes = 0;
  const auto& entries = total.entries();
  for (size_t k = 0; k < entries.size(); ++k)
    if (entries[k].value >= min_count) kept.push_back(k), bytes += static_cast<int64_t>(entries[k].length) + 1;
  if (by_count)  // most frequent first; stable, so ties stay in order of first appearance
    std::stable_sort(kept.begin(), kept.end(), [&](size_t a, size_t b) { return entries[a].value > entries[b].value; });
  at::Tensor words = at::empty({std::max<int64_t>(bytes - 1, 0)}, at::kByte);
  at::Tensor counts = at::empty({static_cast<int64_t>(kept.size())}, at::kLong);
  auto* out = reinterpret_cast<char*>(words.data_ptr<uint8_t>());
  auto* count = counts.data_ptr<int64_t>();
  for (size_t i = 0; i < kept.size(); ++i) {
    const auto& e = entries[kept[i]];
    if (i > 0) *out++ = '\n';
    std::memcpy(out, total.word(e).data(), e.length);
    out += e.length;
    count[i] = e.value;
  }
  release_free_memory();
  return {words, counts, tokens, min_reduce};
}

void write_all(int fd, const void* data, size_t bytes) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::write(fd, p, bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      throw std::runtime_error("wordembed: writing the encoded corpus failed: errno " + std::to_string(error) +
                               " (" + std::strerror(error) + ")");
    }
    p += n, bytes -= static_cast<size_t>(n);
  }
}

// The vocabulary's words (UTF-8 joined by '\n') -> 1 + their row of offsets; checks that the
// offsets run from 0 to len(ids) without decreasing, one entry per word and one more.
WordTable vocabulary_table(const at::Tensor& words, const at::Tensor& offsets, const at::Tensor& ids) {
  TORCH_CHECK_TYPE(words.scalar_type() == at::kByte && words.dim() == 1 && words.is_contiguous(),
                   "words must be a 1-D uint8 tensor");
  TORCH_CHECK_TYPE(offsets.scalar_type() == at::kLong && offsets.dim() == 1 && offsets.is_contiguous(),
                   "offsets must be a 1-D int64 tensor");
  TORCH_CHECK_TYPE(ids.scalar_type() == at::kInt && ids.dim() == 1 && ids.is_contiguous(),
                   "ids must be a 1-D int32 tensor");
  WordTable lookup;
  int64_t rows = 0;
  if (words.numel() > 0) {
    const char* p = reinterpret_cast<const char*>(words.data_ptr<uint8_t>());
    const char* end = p + words.numel();
    for (;;) {
      const char* newline = static_cast<const char*>(std::memchr(p, '\n', end - p));
      const char* word_end = newline ? newline : end;
      int64_t& row = lookup(p, word_end - p, hash_word(p, word_end - p));
      TORCH_CHECK_VALUE(row == 0, "words holds '", std::string(p, word_end), "' twice");
      row = ++rows;
      if (!newline) break;
      p = newline + 1;
    }
  }
  const auto* offset = offsets.data_ptr<int64_t>();
  TORCH_CHECK_VALUE(offsets.numel() == rows + 1, "offsets must have one entry per word and one more");
  for (int64_t k = 0; k < rows; ++k) TORCH_CHECK_VALUE(offset[k] <= offset[k + 1], "offsets must not decrease");
  TORCH_CHECK_VALUE(offset[0] == 0 && offset[rows] == ids.numel(), "offsets must run from 0 to len(ids)");
  return lookup;
}

// One thread's block: its tokens are looked up in a table of their own first (small enough to
// stay in the thread's cache), then each distinct token once in the vocabulary's table, which for
// a large vocabulary is far bigger than a core's cache.
struct EncodedBlock {
  WordTable distinct;                    // the block's distinct tokens -> 1 + their number
  std::vector<int32_t> tokens;           // the block's tokens, as numbers in `distinct`
  std::vector<int64_t> rows;             // distinct token -> its row of offsets, or -1
  std::vector<int32_t> ids;
  std::vector<int64_t> line_ends;        // positions in ids where a line ended
  std::vector<int64_t> token_line_ends;  // the same in tokens
  std::string scratch;

  void encode(const char* text, size_t length, const WordTable& lookup, const int64_t* offset, const int32_t* id) {
    distinct.clear();
    tokens.clear();
    token_line_ends.clear();
    scan_tokens(
        text, text + length, scratch,
        [&](const char* s, size_t n) {
          int64_t& number = distinct(s, n, hash_word(s, n));
          if (number == 0) number = static_cast<int64_t>(distinct.size());
          tokens.push_back(static_cast<int32_t>(number - 1));
        },
        [&] { token_line_ends.push_back(static_cast<int64_t>(tokens.size())); });
    rows.clear();
    for (const auto& e : distinct.entries()) {
      const auto word = distinct.word(e);
      const auto* found = lookup.find(word.data(), word.size(), e.hash);
      rows.push_back(found ? found->value - 1 : -1);
    }
    ids.clear();
    line_ends.clear();
    const int64_t n_tokens = static_cast<int64_t>(tokens.size());
    size_t line = 0;  // the next line end, in token_line_ends
    for (int64_t t = 0; t <= n_tokens; ++t) {
      for (; line < token_line_ends.size() && token_line_ends[line] == t; ++line)
        line_ends.push_back(static_cast<int64_t>(ids.size()));
      if (t == n_tokens) break;
      const int64_t row = rows[tokens[t]];
      if (row < 0) continue;
      if (offset[row + 1] - offset[row] == 1) ids.push_back(id[offset[row]]);  // the usual case
      else ids.insert(ids.end(), id + offset[row], id + offset[row + 1]);
    }
  }
};

// Writes the blocks' ids in order, and the sentence offsets (int64: 0, the end of each sentence):
// a line ends a sentence, and so does every max_sentence_words-th id of a line.
class SentenceWriter {
 public:
  SentenceWriter(int ids_fd, int starts_fd, int64_t max_sentence_words)
      : ids_fd_(ids_fd), starts_fd_(starts_fd), max_words_(max_sentence_words) {
    write_all(starts_fd_, &written_, sizeof(int64_t));  // the offsets begin with 0
  }

  void write(const EncodedBlock& block) {
    starts_.clear();
    at_ = 0;
    for (const int64_t line_end : block.line_ends) {
      place(line_end);
      if (sentence_ > 0) starts_.push_back(written_ + at_), sentence_ = 0;
    }
    place(static_cast<int64_t>(block.ids.size()));
    write_all(ids_fd_, block.ids.data(), block.ids.size() * sizeof(int32_t));
    written_ += static_cast<int64_t>(block.ids.size());
    write_all(starts_fd_, starts_.data(), starts_.size() * sizeof(int64_t));
  }

  // The ids written; a last sentence without a final '\n' is ended here.
  int64_t finish() {
    if (sentence_ > 0) write_all(starts_fd_, &written_, sizeof(int64_t));
    return written_;
  }

 private:
  // The block's ids up to `upto` join the sentence, which fills and breaks.
  void place(int64_t upto) {
    while (upto - at_ >= max_words_ - sentence_) {
      at_ += max_words_ - sentence_;
      starts_.push_back(written_ + at_);
      sentence_ = 0;
    }
    sentence_ += upto - at_;
    at_ = upto;
  }

  int ids_fd_, starts_fd_;
  int64_t max_words_;
  std::vector<int64_t> starts_;  // the sentence ends found in one block
  int64_t written_ = 0, sentence_ = 0, at_ = 0;  // ids written; of the current sentence; of this block placed
};

// Writes the id stream of the file to ids_fd (int32) and the sentence offsets to starts_fd;
// returns the number of ids. Token words[k] (words: UTF-8 joined by '\n') becomes
// ids[offsets[k]:offsets[k+1]]: one id for a vocabulary word, or the ids of the words a tokenizer
// makes of it; other tokens are dropped.
int64_t encode_words(const std::string& path, const at::Tensor& words, const at::Tensor& offsets,
                     const at::Tensor& ids, int64_t ids_fd, int64_t starts_fd, int64_t max_sentence_words,
                     int64_t block_bytes, int64_t threads, const at::Tensor& cancel) {
  check_blocks(block_bytes, threads);
  TORCH_CHECK_VALUE(max_sentence_words >= 1, "max_sentence_words must be positive, got ", max_sentence_words);
  const WordTable lookup = vocabulary_table(words, offsets, ids);
  const auto* stop = cancel_flag(cancel);
  const auto* offset = offsets.data_ptr<int64_t>();
  const auto* id = ids.data_ptr<int32_t>();
  TextFile file(path);
  const auto bounds = file.block_bounds(block_bytes);
  std::vector<EncodedBlock> blocks(threads);
  SentenceWriter writer(static_cast<int>(ids_fd), static_cast<int>(starts_fd), max_sentence_words);
  for_blocks_in_order(
      file, bounds, static_cast<int>(threads), stop,
      [&](int w, const char* text, size_t length) { blocks[w].encode(text, length, lookup, offset, id); },
      [&](int w) { writer.write(blocks[w]); });
  const int64_t written = writer.finish();
  blocks.clear();
  release_free_memory();
  return written;
}

}  // namespace

TORCH_LIBRARY_IMPL(wordembed, CPU, m) {
  m.impl("count_words", &count_words);
  m.impl("encode_words", &encode_words);
}

}  // namespace wordembed::corpus

// fastText's supervised input, read exactly as fastText reads it (dictionary.cc): a token is a
// run of bytes between the separators ' ', '\t', '\v', '\f', '\r', '\0' and '\n'; every '\n'
// ends a line and is itself the token "</s>" (EOS), a word like any other. A token that starts
// with the label prefix is a label. wordembed/text/labelled.py is the Python twin of both ops
// (tests/test_classifier_text.py compares them).
//
// count_labelled_tokens: every token and its count, in order of first appearance.
// encode_labelled_lines: each line as one "sentence" of the int32 stream the training stages
// read: its labels first, as -1 - label, then its input rows, in fastText's order: per word its
// row (or, with char n-grams, its row and its n-gram rows; an unknown word its n-gram rows
// alone), then the hashed word n-grams of 2..word_ngrams words, unknown words included.
#include <ATen/ATen.h>
#include <torch/library.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "corpus/free_memory.h"
#include "corpus/word_table.h"

namespace wordembed::corpus {
namespace {

constexpr std::string_view kEos = "</s>";

inline bool is_separator(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f' || c == '\0';
}

// Calls token(begin, length) for every token of text[0, n) and line_end() at every '\n' (after
// the EOS token).
template <typename Token, typename LineEnd>
void scan_labelled(const char* text, int64_t n, Token&& token, LineEnd&& line_end) {
  int64_t i = 0;
  while (i < n) {
    const char c = text[i];
    if (c == '\n') {
      token(kEos.data(), kEos.size());
      line_end();
      ++i;
    } else if (is_separator(c)) {
      ++i;
    } else {
      const int64_t start = i;
      while (i < n && !is_separator(text[i])) ++i;
      token(text + start, static_cast<size_t>(i - start));
    }
  }
}

const char* text_of(const at::Tensor& text) {
  TORCH_CHECK_TYPE(text.scalar_type() == at::kByte && text.dim() == 1 && text.is_contiguous() && text.is_cpu(),
                   "text must be a contiguous 1-D uint8 CPU tensor");
  return reinterpret_cast<const char*>(text.data_ptr<uint8_t>());
}

// fastText's hash: 32-bit FNV-1a over the bytes taken as signed chars.
inline uint32_t fasttext_hash(const char* s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<uint32_t>(static_cast<int8_t>(s[i]));
    h *= 16777619u;
  }
  return h;
}

// The tokens joined by '\n' (no token holds one), their counts, and the number of lines ended.
std::tuple<at::Tensor, at::Tensor, int64_t> count_labelled_tokens(const at::Tensor& text) {
  const char* data = text_of(text);
  WordTable table;
  int64_t lines = 0;
  scan_labelled(
      data, text.numel(), [&](const char* s, size_t n) { ++table(s, n, hash_word(s, n)); }, [&] { ++lines; });
  int64_t bytes = 0;
  for (const auto& e : table.entries()) bytes += static_cast<int64_t>(e.length) + 1;
  auto joined = at::empty({bytes}, at::kByte);
  auto counts = at::empty({static_cast<int64_t>(table.size())}, at::kLong);
  auto* out = reinterpret_cast<char*>(joined.data_ptr<uint8_t>());
  auto* count = counts.data_ptr<int64_t>();
  for (const auto& e : table.entries()) {
    const std::string_view w = table.word(e);
    std::copy(w.begin(), w.end(), out);
    out += w.size();
    *out++ = '\n';
    *count++ = e.value;
  }
  table = WordTable();
  release_free_memory();
  return {joined, counts, lines};
}

struct Settings {
  int64_t nwords, word_ngrams, bucket, minn, maxn;
};

// fastText's computeSubwords over "<token>": n-grams of minn..maxn UTF-8 characters, the lone
// "<" and ">" left out, each hashed into nwords + hash % bucket.
void push_char_ngrams(std::string_view token, const Settings& s, std::string& word, std::vector<int32_t>& rows) {
  word.assign("<");
  word.append(token);
  word.push_back('>');
  const size_t size = word.size();
  for (size_t i = 0; i < size; ++i) {
    if ((word[i] & 0xC0) == 0x80) continue;
    size_t j = i;
    for (int64_t n = 1; j < size && n <= s.maxn; ++n) {
      ++j;
      while (j < size && (word[j] & 0xC0) == 0x80) ++j;
      if (n >= s.minn && !(n == 1 && (i == 0 || j == size))) {
        const uint32_t h = fasttext_hash(word.data() + i, j - i) % static_cast<uint32_t>(s.bucket);
        rows.push_back(static_cast<int32_t>(s.nwords + h));
      }
    }
  }
}

// fastText's addWordNgrams: each run of 2..word_ngrams words hashed from the words' hashes (taken
// as int32 and widened with their sign, as fastText's vector<int32_t> widens them).
void push_word_ngrams(const std::vector<int32_t>& hashes, const Settings& s, std::vector<int32_t>& rows) {
  const int64_t count = static_cast<int64_t>(hashes.size());
  for (int64_t i = 0; i < count; ++i) {
    uint64_t h = static_cast<uint64_t>(static_cast<int64_t>(hashes[i]));
    for (int64_t j = i + 1; j < count && j < i + s.word_ngrams; ++j) {
      h = h * 116049371ull + static_cast<uint64_t>(static_cast<int64_t>(hashes[j]));
      rows.push_back(static_cast<int32_t>(s.nwords + static_cast<int64_t>(h % static_cast<uint64_t>(s.bucket))));
    }
  }
}

// vocabulary: the words then the labels, joined by '\n'; entry k is row k (a word) or label
// k - nwords. keep_unlabelled: every line gives a sentence (predicting); otherwise lines without
// a known label, or without an input row, are left out (training).
std::tuple<at::Tensor, at::Tensor> encode_labelled_lines(const at::Tensor& text, const at::Tensor& vocabulary,
                                                         int64_t nwords, const std::string& label_prefix,
                                                         int64_t word_ngrams, int64_t bucket, int64_t minn,
                                                         int64_t maxn, bool keep_unlabelled) {
  const char* data = text_of(text);
  const char* vocab = text_of(vocabulary);
  TORCH_CHECK_VALUE(nwords >= 0 && word_ngrams >= 1 && bucket >= 0 && minn >= 0 && maxn >= 0,
                    "nwords, bucket, minn and maxn must be >= 0 and word_ngrams >= 1");
  TORCH_CHECK_VALUE(bucket > 0 || (word_ngrams <= 1 && maxn == 0),
                    "word n-grams and char n-grams need bucket > 0");
  TORCH_CHECK_VALUE(nwords + bucket < (int64_t(1) << 31), "nwords + bucket must be below 2^31");
  const Settings s{nwords, word_ngrams, bucket, minn, maxn};
  WordTable table;
  int64_t entry = 0;
  for (int64_t i = 0, start = 0; i < vocabulary.numel(); ++i) {
    if (vocab[i] != '\n') continue;
    table(vocab + start, i - start, hash_word(vocab + start, i - start)) = entry++;
    start = i + 1;
  }
  const std::string_view prefix(label_prefix);
  std::vector<int32_t> ids, labels, rows, hashes;
  std::vector<int64_t> starts{0};
  std::string scratch;
  auto end_line = [&] {
    if (keep_unlabelled || (!labels.empty() && !rows.empty())) {
      if (word_ngrams > 1) push_word_ngrams(hashes, s, rows);
      for (int32_t label : labels) ids.push_back(-1 - label);
      ids.insert(ids.end(), rows.begin(), rows.end());
      starts.push_back(static_cast<int64_t>(ids.size()));
    }
    labels.clear(), rows.clear(), hashes.clear();
  };
  auto token = [&](const char* t, size_t n) {
    const std::string_view word(t, n);
    const auto* known = table.find(t, n, hash_word(t, n));
    const int64_t id = known ? known->value : -1;
    const bool is_label = known ? id >= nwords : word.substr(0, prefix.size()) == prefix;
    if (is_label) {
      if (known) labels.push_back(static_cast<int32_t>(id - nwords));
      return;
    }
    if (id >= 0) rows.push_back(static_cast<int32_t>(id));
    if (maxn > 0 && word != kEos) push_char_ngrams(word, s, scratch, rows);
    hashes.push_back(static_cast<int32_t>(fasttext_hash(t, n)));
  };
  bool open = false;  // a line has tokens since its start
  scan_labelled(data, text.numel(), [&](const char* t, size_t n) { token(t, n), open = true; },
                [&] { end_line(), open = false; });
  if (open) end_line();  // the last line, without a '\n'
  auto ids_out = at::empty({static_cast<int64_t>(ids.size())}, at::kInt);
  auto starts_out = at::empty({static_cast<int64_t>(starts.size())}, at::kLong);
  std::copy(ids.begin(), ids.end(), ids_out.data_ptr<int32_t>());
  std::copy(starts.begin(), starts.end(), starts_out.data_ptr<int64_t>());
  std::vector<int32_t>().swap(ids);
  std::vector<int64_t>().swap(starts);
  table = WordTable();
  release_free_memory();
  return {ids_out, starts_out};
}

}  // namespace

TORCH_LIBRARY_IMPL(wordembed, CPU, m) {
  m.impl("count_labelled_tokens", &count_labelled_tokens);
  m.impl("encode_labelled_lines", &encode_labelled_lines);
}

}  // namespace wordembed::corpus

// fastText's supervised input, read exactly as fastText reads it (dictionary.cc): a token is a
// run of bytes between the separators ' ', '\t', '\v', '\f', '\r', '\0' and '\n'; every '\n'
// ends a line and is itself the token "</s>" (EOS), a word like any other. A token that starts
// with the label prefix is a label. wordembed/text/labelled.py is the Python twin of both ops
// (tests/text/test_labelled_text.py compares them).
//
// count_labelled_tokens: every token and its count, in order of first appearance.
// encode_labelled_lines: each line as one "sentence" of the int32 stream the training stages
// read: its labels first, as -1 - label, then its input rows, in fastText's order: per word its
// row (or, with char n-grams, its row and its n-gram rows; an unknown word its n-gram rows
// alone), then the hashed word n-grams of 2..word_ngrams words, unknown words included.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cstring>

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

// Cuts text[0, n) into runs of whole lines (each ends just after a '\n', the last at n), one per
// thread for a text of several MiB: the ops count and encode the runs on separate threads and
// join the results in the text's order, so that they do not depend on the thread count.
constexpr int64_t kBytesPerPart = 1 << 20;

std::vector<int64_t> line_cuts(const char* text, int64_t n) {
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), n / kBytesPerPart));
  std::vector<int64_t> cuts{0};
  for (int64_t p = 1; p < parts; ++p) {
    const int64_t from = std::max(cuts.back(), n * p / parts);
    const void* newline = from < n ? std::memchr(text + from, '\n', static_cast<size_t>(n - from)) : nullptr;
    cuts.push_back(newline ? static_cast<const char*>(newline) - text + 1 : n);
  }
  cuts.push_back(n);
  return cuts;
}

template <typename Part>
void for_each_part(const std::vector<int64_t>& cuts, Part&& part) {
  at::parallel_for(0, static_cast<int64_t>(cuts.size()) - 1, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) part(p, cuts[p], cuts[p + 1]);
  });
}

struct Counted {
  WordTable table;
  int64_t lines = 0;
};

// The tokens joined by '\n' (no token holds one), their counts, and the number of lines ended.
std::tuple<at::Tensor, at::Tensor, int64_t> count_labelled_tokens(const at::Tensor& text) {
  const char* data = text_of(text);
  const auto cuts = line_cuts(data, text.numel());
  std::vector<Counted> parts(cuts.size() - 1);
  for_each_part(cuts, [&](int64_t p, int64_t begin, int64_t end) {
    Counted& c = parts[p];
    scan_labelled(
        data + begin, end - begin, [&](const char* s, size_t n) { ++c.table(s, n, hash_word(s, n)); },
        [&] { ++c.lines; });
  });
  WordTable& table = parts[0].table;  // then the others' words, in order: first appearances stay first
  int64_t lines = parts[0].lines;
  for (size_t p = 1; p < parts.size(); ++p) {
    for (const auto& e : parts[p].table.entries()) {
      const std::string_view w = parts[p].table.word(e);
      table(w.data(), w.size(), e.hash) += e.value;
    }
    lines += parts[p].lines;
    parts[p].table = WordTable();
  }
  int64_t bytes = 0;
  for (const auto& e : table.entries()) bytes += static_cast<int64_t>(e.length) + 1;
  auto joined = at::empty({bytes}, at::kByte);
  auto counts = at::empty({static_cast<int64_t>(table.size())}, at::kLong);
  auto* out = reinterpret_cast<char*>(joined.data_ptr<uint8_t>());
  auto* count = counts.data_ptr<int64_t>();
  for (const auto& e : table.entries()) {
    const std::string_view w = table.word(e);
    out = std::copy(w.begin(), w.end(), out);
    *out++ = '\n';
    *count++ = e.value;
  }
  parts.clear();
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

Settings checked_settings(int64_t nwords, int64_t word_ngrams, int64_t bucket, int64_t minn, int64_t maxn) {
  TORCH_CHECK_VALUE(nwords >= 0 && word_ngrams >= 1 && bucket >= 0 && minn >= 0 && maxn >= 0,
                    "nwords, bucket, minn and maxn must be >= 0 and word_ngrams >= 1");
  TORCH_CHECK_VALUE(bucket > 0 || (word_ngrams <= 1 && maxn == 0),
                    "word n-grams and char n-grams need bucket > 0");
  TORCH_CHECK_VALUE(nwords + bucket < (int64_t(1) << 31), "nwords + bucket must be below 2^31");
  return Settings{nwords, word_ngrams, bucket, minn, maxn};
}

// Every dictionary word's char n-gram rows, computed once (a word recurs many times in a text):
// word k's are rows[offsets[k]:offsets[k + 1]].
struct WordNgrams {
  std::vector<int64_t> offsets{0};
  std::vector<int32_t> rows;
};

// The first s.nwords words of vocab (joined by '\n'), their n-gram rows counted from row_base (the
// dictionary's word count; by default s.nwords, the words being all of them).
WordNgrams dictionary_ngrams(const char* vocab, int64_t vocab_bytes, const Settings& s, int64_t row_base = -1) {
  const Settings rows{row_base < 0 ? s.nwords : row_base, s.word_ngrams, s.bucket, s.minn, s.maxn};
  WordNgrams out;
  std::string scratch;
  for (int64_t i = 0, start = 0; i < vocab_bytes && static_cast<int64_t>(out.offsets.size()) <= s.nwords; ++i) {
    if (vocab[i] != '\n') continue;
    const std::string_view word(vocab + start, static_cast<size_t>(i - start));
    if (word != kEos) push_char_ngrams(word, rows, scratch, out.rows);
    out.offsets.push_back(static_cast<int64_t>(out.rows.size()));
    start = i + 1;
  }
  return out;
}

// Encodes runs of whole lines against the dictionary (read only, so shared by the threads).
struct LineEncoder {
  const WordTable& table;
  const Settings& s;
  std::string_view prefix;
  bool keep_unlabelled, word_bags;
  const WordNgrams& known_ngrams;

  // Appends text[0, n)'s lines to ids, and the end of each line's sentence to ends.
  void encode(const char* text, int64_t n, std::vector<int32_t>& ids, std::vector<int64_t>& ends) const {
    std::vector<int32_t> labels, rows, hashes;
    std::string scratch;
    auto end_line = [&] {
      if (keep_unlabelled || (!labels.empty() && !rows.empty())) {
        if (s.word_ngrams > 1) push_word_ngrams(hashes, s, rows);
        for (int32_t label : labels) ids.push_back(-1 - label);
        ids.insert(ids.end(), rows.begin(), rows.end());
        ends.push_back(static_cast<int64_t>(ids.size()));
      }
      labels.clear(), rows.clear(), hashes.clear();
    };
    bool open = false;  // a line has tokens since its start
    scan_labelled(
        text, n, [&](const char* t, size_t length) { token(t, length, labels, rows, hashes, scratch), open = true; },
        [&] { end_line(), open = false; });
    if (open) end_line();  // the text's last line, without a '\n'
  }

  void token(const char* t, size_t n, std::vector<int32_t>& labels, std::vector<int32_t>& rows,
             std::vector<int32_t>& hashes, std::string& scratch) const {
    const std::string_view word(t, n);
    const auto* known = table.find(t, n, hash_word(t, n));
    const int64_t id = known ? known->value : -1;
    const bool is_label = known ? id >= s.nwords : word.substr(0, prefix.size()) == prefix;
    if (is_label) {
      if (known) labels.push_back(static_cast<int32_t>(id - s.nwords));
      return;
    }
    if (id >= 0) {
      rows.push_back(static_cast<int32_t>(id));
      if (s.maxn > 0 && !word_bags)
        rows.insert(rows.end(), known_ngrams.rows.begin() + known_ngrams.offsets[id],
                    known_ngrams.rows.begin() + known_ngrams.offsets[id + 1]);
    } else if (s.maxn > 0 && word != kEos) {
      push_char_ngrams(word, s, scratch, rows);
    }
    hashes.push_back(static_cast<int32_t>(fasttext_hash(t, n)));
  }
};

// vocabulary: the words then the labels, joined by '\n'; entry k is row k (a word) or label
// k - nwords. keep_unlabelled: every line gives a sentence (predicting); otherwise lines without
// a known label, or without an input row, are left out (training).
std::tuple<at::Tensor, at::Tensor> encode_labelled_lines(const at::Tensor& text, const at::Tensor& vocabulary,
                                                         int64_t nwords, const std::string& label_prefix,
                                                         int64_t word_ngrams, int64_t bucket, int64_t minn,
                                                         int64_t maxn, bool keep_unlabelled, bool word_bags) {
  const char* data = text_of(text);
  const char* vocab = text_of(vocabulary);
  const Settings s = checked_settings(nwords, word_ngrams, bucket, minn, maxn);
  WordTable table;
  int64_t entry = 0;
  for (int64_t i = 0, start = 0; i < vocabulary.numel(); ++i) {
    if (vocab[i] != '\n') continue;
    table(vocab + start, i - start, hash_word(vocab + start, i - start)) = entry++;
    start = i + 1;
  }
  const WordNgrams known_ngrams =
      maxn > 0 && !word_bags ? dictionary_ngrams(vocab, vocabulary.numel(), s) : WordNgrams{};
  const LineEncoder encoder{table, s, label_prefix, keep_unlabelled, word_bags, known_ngrams};
  const auto cuts = line_cuts(data, text.numel());
  std::vector<std::vector<int32_t>> ids(cuts.size() - 1);
  std::vector<std::vector<int64_t>> ends(cuts.size() - 1);
  for_each_part(cuts, [&](int64_t p, int64_t begin, int64_t end) { encoder.encode(data + begin, end - begin, ids[p], ends[p]); });
  int64_t total_ids = 0, sentences = 0;
  for (size_t p = 0; p < ids.size(); ++p) total_ids += static_cast<int64_t>(ids[p].size()), sentences += static_cast<int64_t>(ends[p].size());
  auto ids_out = at::empty({total_ids}, at::kInt);
  auto starts_out = at::empty({sentences + 1}, at::kLong);
  int32_t* id_at = ids_out.data_ptr<int32_t>();
  int64_t* start_at = starts_out.data_ptr<int64_t>();
  *start_at++ = 0;
  int64_t offset = 0;
  for (size_t p = 0; p < ids.size(); ++p) {
    id_at = std::copy(ids[p].begin(), ids[p].end(), id_at);
    for (int64_t e : ends[p]) *start_at++ = offset + e;
    offset += static_cast<int64_t>(ids[p].size());
    std::vector<int32_t>().swap(ids[p]);
  }
  table = WordTable();
  release_free_memory();
  return {ids_out, starts_out};
}

// Word w as the bag of its row w and its char n-gram rows: (offsets, rows) of nwords bags. The
// words are cut into one run per thread, each run's bags made apart and then joined in order.
std::tuple<at::Tensor, at::Tensor> labelled_word_bags(const at::Tensor& vocabulary, int64_t nwords, int64_t bucket,
                                                      int64_t minn, int64_t maxn) {
  const char* vocab = text_of(vocabulary);
  const Settings s = checked_settings(nwords, 1, bucket, minn, maxn);
  std::vector<int64_t> word_starts{0};  // of the first nwords words, and one past the last
  for (int64_t i = 0; i < vocabulary.numel() && static_cast<int64_t>(word_starts.size()) <= nwords; ++i)
    if (vocab[i] == '\n') word_starts.push_back(i + 1);
  TORCH_CHECK_VALUE(static_cast<int64_t>(word_starts.size()) == nwords + 1, "the vocabulary has fewer than ", nwords,
                    " words");
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), nwords / 4096));
  std::vector<WordNgrams> ngrams(parts);
  at::parallel_for(0, parts, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t first = nwords * p / parts, last = nwords * (p + 1) / parts;
      ngrams[p] = dictionary_ngrams(vocab + word_starts[first], word_starts[last] - word_starts[first],
                                    Settings{last - first, 1, bucket, minn, maxn}, s.nwords);
    }
  });
  int64_t total = nwords;
  for (const auto& part : ngrams) total += static_cast<int64_t>(part.rows.size());
  auto offsets = at::empty({nwords + 1}, at::kLong);
  auto rows = at::empty({total}, at::kLong);
  int64_t* o = offsets.mutable_data_ptr<int64_t>();
  int64_t* r = rows.mutable_data_ptr<int64_t>();
  *o = 0;
  int64_t w = 0;
  for (const auto& part : ngrams) {
    for (size_t k = 0; k + 1 < part.offsets.size(); ++k, ++w) {
      *r++ = w;
      r = std::copy(part.rows.begin() + part.offsets[k], part.rows.begin() + part.offsets[k + 1], r);
      o[w + 1] = o[w] + 1 + (part.offsets[k + 1] - part.offsets[k]);
    }
  }
  return {offsets, rows};
}

}  // namespace

TORCH_LIBRARY_IMPL(wordembed, CPU, m) {
  m.impl("count_labelled_tokens", &count_labelled_tokens);
  m.impl("encode_labelled_lines", &encode_labelled_lines);
  m.impl("labelled_word_bags", &labelled_word_bags);
}

}  // namespace wordembed::corpus

// gather_sentences: one chunk of an encoded corpus (wordembed/text/corpus.py's .ids and .starts
// files) made of several ranges of sentences, each read from where it lies with positioned
// reads, and its sentences then put in a given order. This is how an epoch visits a corpus in a
// shuffled order holding no more than a chunk (wordembed/training/chunks.py). Its Python twin is
// EncodedCorpus.gather_python (tests/training/test_epoch_order.py compares them).
#include <ATen/ATen.h>
#include <torch/library.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <vector>

namespace wordembed::corpus {
namespace {

void read_exactly(int64_t fd, void* out, int64_t bytes, int64_t offset, const char* file) {
  char* into = static_cast<char*>(out);
  while (bytes > 0) {
    const ssize_t got = ::pread(static_cast<int>(fd), into, static_cast<size_t>(bytes), offset);
    if (got < 0 && errno == EINTR) continue;
    TORCH_CHECK(got >= 0, "reading the encoded corpus's ", file, " file failed: ", std::strerror(errno));
    TORCH_CHECK_VALUE(got > 0, "the encoded corpus's ", file, " file is shorter than its .starts say");
    into += got, bytes -= got, offset += got;
  }
}

// The ranges as (first, last) pairs, checked.
std::vector<std::pair<int64_t, int64_t>> ranges_of(const at::Tensor& ranges) {
  TORCH_CHECK_VALUE(ranges.dim() == 2 && ranges.size(1) == 2 && ranges.scalar_type() == at::kLong,
                    "ranges must be an int64 tensor of (first, last) sentence pairs");
  const auto r = ranges.contiguous();
  const int64_t* p = r.const_data_ptr<int64_t>();
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int64_t k = 0; k < r.size(0); ++k) {
    TORCH_CHECK_VALUE(0 <= p[2 * k] && p[2 * k] <= p[2 * k + 1], "range ", k, " is not 0 <= first <= last");
    out.emplace_back(p[2 * k], p[2 * k + 1]);
  }
  return out;
}

// order, checked to be a permutation of 0..sentences-1 (empty: the ranges' own order).
const int64_t* order_of(const at::Tensor& order, int64_t sentences) {
  if (order.numel() == 0) return nullptr;
  TORCH_CHECK_VALUE(order.dim() == 1 && order.scalar_type() == at::kLong && order.is_contiguous() &&
                        order.numel() == sentences,
                    "order must be a contiguous int64 permutation of the ", sentences, " sentences, or empty");
  const int64_t* p = order.const_data_ptr<int64_t>();
  std::vector<bool> seen(sentences, false);
  for (int64_t i = 0; i < sentences; ++i) {
    TORCH_CHECK_VALUE(p[i] >= 0 && p[i] < sentences && !seen[p[i]], "order is not a permutation of the sentences");
    seen[p[i]] = true;
  }
  return p;
}

// Returns (ids, sentence_starts) as EncodedCorpus.chunk gives them: sentence_starts relative to
// the chunk, from 0 to len(ids).
std::tuple<at::Tensor, at::Tensor> gather_sentences(int64_t ids_fd, int64_t starts_fd, const at::Tensor& ranges,
                                                    const at::Tensor& order) {
  const auto pairs = ranges_of(ranges);
  // Every range's sentence offsets, one after another; source[s]: sentence s's first id there.
  std::vector<int64_t> offsets, source, length;
  int64_t words = 0;
  for (const auto& [first, last] : pairs) {
    const size_t base = offsets.size();
    offsets.resize(base + static_cast<size_t>(last - first + 1));
    read_exactly(starts_fd, offsets.data() + base, (last - first + 1) * 8, first * 8, ".starts");
    for (int64_t s = 0; s < last - first; ++s) {
      const int64_t n = offsets[base + s + 1] - offsets[base + s];
      TORCH_CHECK_VALUE(n >= 0, "the encoded corpus's .starts file is not in order");
      source.push_back(words + offsets[base + s] - offsets[base]);
      length.push_back(n);
    }
    words += offsets.back() - offsets[base];
  }
  const int64_t sentences = static_cast<int64_t>(source.size());
  const int64_t* permutation = order_of(order, sentences);
  auto staged = at::empty({words}, at::kInt);
  int32_t* staging = staged.mutable_data_ptr<int32_t>();
  size_t base = 0;
  int64_t written = 0;
  for (const auto& [first, last] : pairs) {
    const int64_t begin = offsets[base], end = offsets[base + static_cast<size_t>(last - first)];
    read_exactly(ids_fd, staging + written, (end - begin) * 4, begin * 4, ".ids");
    written += end - begin;
    base += static_cast<size_t>(last - first + 1);
  }
  auto starts = at::empty({sentences + 1}, at::kLong);
  int64_t* out_starts = starts.mutable_data_ptr<int64_t>();
  out_starts[0] = 0;
  if (permutation == nullptr) {
    for (int64_t s = 0; s < sentences; ++s) out_starts[s + 1] = out_starts[s] + length[s];
    return {staged, starts};
  }
  auto ids = at::empty({words}, at::kInt);
  int32_t* out = ids.mutable_data_ptr<int32_t>();
  for (int64_t s = 0; s < sentences; ++s) {
    const int64_t from = permutation[s];
    std::memcpy(out + out_starts[s], staging + source[from], static_cast<size_t>(length[from]) * sizeof(int32_t));
    out_starts[s + 1] = out_starts[s] + length[from];
  }
  return {ids, starts};
}

}  // namespace

TORCH_LIBRARY_IMPL(wordembed, CPU, m) { m.impl("gather_sentences", &gather_sentences); }

}  // namespace wordembed::corpus

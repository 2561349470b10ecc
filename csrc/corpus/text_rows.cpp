// Word vectors as text (wordembed/vectors/formats.py): each word, then its float32 values in the
// shortest form that reads back as the same float (std::to_chars), separated by spaces. Rows are
// formatted on every thread, each into its own buffer, then joined in order.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>
#include <vector>

namespace wordembed::corpus {
namespace {

constexpr int64_t kRowsPerTask = 256;
constexpr size_t kMostCharsPerValue = 16;  // "-1.2345678e-38" and a space

void append_row(std::string& out, const char* word, size_t word_size, const float* values, int64_t dim) {
  out.append(word, word_size);
  char buffer[kMostCharsPerValue * 2];
  for (int64_t j = 0; j < dim; ++j) {
    buffer[0] = ' ';
    const auto result = std::to_chars(buffer + 1, buffer + sizeof(buffer), values[j]);
    out.append(buffer, static_cast<size_t>(result.ptr - buffer));
  }
  out.push_back('\n');
}

// words: the words' UTF-8 bytes, each followed by '\n'; rows: (words, dim) float32.
at::Tensor format_text_rows(const at::Tensor& words, const at::Tensor& rows) {
  TORCH_CHECK(words.dtype() == at::kByte && words.dim() == 1, "words must be a 1-D uint8 tensor");
  TORCH_CHECK(rows.dtype() == at::kFloat && rows.dim() == 2, "rows must be a 2-D float32 tensor");
  const auto text = words.contiguous();
  const auto table = rows.contiguous();
  const int64_t n = table.size(0), dim = table.size(1);
  const char* bytes = reinterpret_cast<const char*>(text.const_data_ptr<uint8_t>());
  std::vector<int64_t> starts{0};
  for (int64_t i = 0; i < text.numel(); ++i) {
    if (bytes[i] == '\n') starts.push_back(i + 1);
  }
  TORCH_CHECK(static_cast<int64_t>(starts.size()) - 1 == n, "words and rows differ in number: ",
              starts.size() - 1, " words, ", n, " rows");
  const float* values = table.const_data_ptr<float>();
  const int64_t tasks = (n + kRowsPerTask - 1) / kRowsPerTask;
  std::vector<std::string> parts(static_cast<size_t>(tasks));
  at::parallel_for(0, tasks, 1, [&](int64_t first, int64_t last) {
    for (int64_t t = first; t < last; ++t) {
      std::string& out = parts[static_cast<size_t>(t)];
      const int64_t end = std::min(n, (t + 1) * kRowsPerTask);
      out.reserve(static_cast<size_t>((end - t * kRowsPerTask) * (dim * 11 + 16)));
      for (int64_t r = t * kRowsPerTask; r < end; ++r) {
        append_row(out, bytes + starts[r], static_cast<size_t>(starts[r + 1] - starts[r] - 1), values + r * dim,
                   dim);
      }
    }
  });
  size_t total = 0;
  for (const auto& part : parts) total += part.size();
  auto result = at::empty({static_cast<int64_t>(total)}, at::kByte);
  char* out = reinterpret_cast<char*>(result.mutable_data_ptr<uint8_t>());
  for (const auto& part : parts) {
    std::memcpy(out, part.data(), part.size());
    out += part.size();
  }
  return result;
}

}  // namespace

TORCH_LIBRARY_IMPL(wordembed, CPU, m) { m.impl("format_text_rows", &format_text_rows); }

}  // namespace wordembed::corpus

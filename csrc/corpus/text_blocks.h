// A text file cut into blocks that threads can tokenise on their own, and the loop that does it:
// each block is read and scanned by whichever thread is free, then handed over ("merged") in
// file order, one block at a time, so that the result is the same for any number of threads.
//
// Block k is [b(k), b(k+1)): b(0) = 0 and b(k) is the first position p >= k * block_bytes where
// the byte before p is ASCII whitespace (or p is the file's end). Such a byte is never inside a
// UTF-8 character or a token, so no block cuts either; a block may be empty (a token longer than
// a block) or longer than block_bytes (it ends after that token).
#pragma once
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "corpus/utf8_tokens.h"

namespace wordembed::corpus {

class TextFile {
 public:
  explicit TextFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail("cannot open");
    const off_t end = ::lseek(fd_, 0, SEEK_END);
    if (end < 0) fail("cannot find the size of");
    size_ = end;
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  ~TextFile() { ::close(fd_); }
  TextFile(const TextFile&) = delete;
  TextFile& operator=(const TextFile&) = delete;

  int64_t size() const { return size_; }

  // Bytes [offset, offset + length) into out (resized to what was read: the file may shrink).
  void read(int64_t offset, int64_t length, std::vector<char>& out) const {
    out.resize(length);
    int64_t done = 0;
    while (done < length) {
      const ssize_t n = ::pread(fd_, out.data() + done, length - done, offset + done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("cannot read");
      if (n == 0) break;
      done += n;
    }
    out.resize(done);
  }

  // The block bounds b(0..K), b(K) = size(), as the header says.
  std::vector<int64_t> block_bounds(int64_t block_bytes) const {
    std::vector<int64_t> bounds{0};
    std::vector<char> buffer;
    for (int64_t start = block_bytes; start < size_; start += block_bytes) {
      if (bounds.back() >= start) {  // the previous bound lies past this block's start
        bounds.push_back(bounds.back());
        continue;
      }
      int64_t p = start, bound = size_;
      while (p < size_ && bound == size_) {  // look for an ASCII space at p - 1 or later
        read(p - 1, std::min<int64_t>(1 << 16, size_ - p + 1), buffer);
        if (buffer.empty()) break;
        for (size_t i = 0; i < buffer.size(); ++i)
          if (is_ascii_space(static_cast<unsigned char>(buffer[i]))) {
            bound = p + static_cast<int64_t>(i);
            break;
          }
        p += static_cast<int64_t>(buffer.size());
      }
      bounds.push_back(bound);
    }
    bounds.push_back(size_);
    return bounds;
  }

 private:
  [[noreturn]] void fail(const char* what) const {
    const int error = errno;
    throw std::runtime_error(std::string(what) + " " + path_ + ": errno " + std::to_string(error) + " (" +
                             std::strerror(error) + ")");
  }

  std::string path_;
  int fd_ = -1;
  int64_t size_ = 0;
};

// Thrown when the caller asked to stop (Ctrl-C in Python sets the flag).
struct Cancelled : std::runtime_error {
  Cancelled() : std::runtime_error("wordembed: the corpus pass was interrupted") {}
};

// For each block k in order of k: scan(worker, text, length) on any worker thread, then
// merge(worker) under a lock, in block order. `cancel` is polled between blocks. The first
// exception of any thread stops them all and is rethrown here.
template <class Scan, class Merge>
void for_blocks_in_order(const TextFile& file, const std::vector<int64_t>& bounds, int threads,
                         const volatile uint8_t* cancel, Scan&& scan, Merge&& merge) {
  const size_t blocks = bounds.size() - 1;
  std::atomic<size_t> next{0};
  std::mutex mutex;
  std::condition_variable turn_changed;
  size_t turn = 0;
  bool stop = false;
  std::exception_ptr error;
  auto work = [&](int worker) {
    std::vector<char> text;
    try {
      for (size_t k = next++; k < blocks; k = next++) {
        if (*cancel) throw Cancelled();
        file.read(bounds[k], bounds[k + 1] - bounds[k], text);
        scan(worker, text.data(), text.size());
        std::unique_lock<std::mutex> lock(mutex);
        turn_changed.wait(lock, [&] { return turn == k || stop; });
        if (stop) return;
        merge(worker);
        ++turn;
        turn_changed.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!error) error = std::current_exception();
      stop = true;
      turn_changed.notify_all();
    }
  };
  const int n = static_cast<int>(std::max<size_t>(1, std::min<size_t>(threads, blocks)));
  std::vector<std::thread> pool;
  for (int w = 1; w < n; ++w) pool.emplace_back(work, w);
  work(0);
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace wordembed::corpus

// A hash table from words (byte strings) to a 64-bit value, that keeps its words in the order
// they were first added: the vocabulary's ties are broken by first appearance, as gensim's are.
// Open addressing with linear probing; each slot holds 32 bits of the hash beside the entry's
// number, so that a probe rarely has to touch the entry itself.
#pragma once
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace wordembed::corpus {

inline uint64_t hash_word(const char* s, size_t n) {
  // Eight bytes at a time, each step a multiply and a shift (the mixers of splitmix64).
  uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull);
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, s, 8);
    h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
    s += 8, n -= 8;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, s, n);
    h = (h ^ w) * 0x94d049bb133111ebull;
    h ^= h >> 29;
  }
  h *= 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 32);
}

class WordTable {
 public:
  struct Entry {
    uint64_t hash;
    uint64_t offset;  // of the word's bytes in the arena
    uint64_t length;
    int64_t value;
  };

  WordTable() { rehash(1024); }

  size_t size() const { return entries_.size(); }
  const std::vector<Entry>& entries() const { return entries_; }
  std::string_view word(const Entry& e) const { return {arena_.data() + e.offset, e.length}; }

  // The entry of the word, or null.
  const Entry* find(const char* s, size_t n, uint64_t h) const {
    const uint64_t tag = h >> 32;
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const uint64_t slot = slots_[i];
      if (slot == kEmpty) return nullptr;
      if ((slot >> 32) == tag) {
        const Entry& e = entries_[slot & 0xffffffffu];
        if (e.hash == h && e.length == n && std::memcmp(arena_.data() + e.offset, s, n) == 0) return &e;
      }
    }
  }

  // The value of the word, added with value 0 if it is new.
  int64_t& operator()(const char* s, size_t n, uint64_t h) {
    const uint64_t tag = h >> 32;
    size_t i = h & mask_;
    for (;; i = (i + 1) & mask_) {
      const uint64_t slot = slots_[i];
      if (slot == kEmpty) break;
      if ((slot >> 32) == tag) {
        Entry& e = entries_[slot & 0xffffffffu];
        if (e.hash == h && e.length == n && std::memcmp(arena_.data() + e.offset, s, n) == 0) return e.value;
      }
    }
    if (2 * (entries_.size() + 1) > slots_.size()) {  // keep the load at most 1/2
      rehash(2 * slots_.size());
      return (*this)(s, n, h);
    }
    if (entries_.size() >= kEmpty32) throw std::length_error("more than 2^32 - 1 distinct words");
    slots_[i] = (tag << 32) | entries_.size();
    entries_.push_back({h, arena_.size(), n, 0});
    arena_.insert(arena_.end(), s, s + n);
    return entries_.back().value;
  }

  // Drops every entry for which drop(entry) holds; the others keep their order.
  template <class Drop>
  void remove_if(Drop&& drop) {
    std::vector<Entry> kept;
    std::vector<char> arena;
    for (const Entry& e : entries_) {
      if (drop(e)) continue;
      kept.push_back({e.hash, arena.size(), e.length, e.value});
      arena.insert(arena.end(), arena_.data() + e.offset, arena_.data() + e.offset + e.length);
    }
    entries_.swap(kept);
    arena_.swap(arena);
    entries_.shrink_to_fit();
    arena_.shrink_to_fit();
    size_t slots = 1024;
    while (slots < 2 * entries_.size()) slots *= 2;
    rehash(slots);
  }

  void clear() {
    entries_.clear();
    arena_.clear();
    std::fill(slots_.begin(), slots_.end(), kEmpty);
  }

 private:
  static constexpr uint64_t kEmpty = ~0ull;  // no entry number reaches 2^32 - 1
  static constexpr size_t kEmpty32 = 0xffffffffu;

  void rehash(size_t slots) {
    slots_.assign(slots, kEmpty);
    mask_ = slots - 1;
    for (size_t k = 0; k < entries_.size(); ++k) {
      size_t i = entries_[k].hash & mask_;
      while (slots_[i] != kEmpty) i = (i + 1) & mask_;
      slots_[i] = ((entries_[k].hash >> 32) << 32) | k;
    }
  }

  std::vector<Entry> entries_;
  std::vector<char> arena_;
  std::vector<uint64_t> slots_;
  size_t mask_ = 0;
};

}  // namespace wordembed::corpus

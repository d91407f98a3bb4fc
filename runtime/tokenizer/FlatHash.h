// FlatHash.h - open-addressing hash tables for the vocabulary and the merge ranks (owner:
// tokenizer).
//
// std::unordered_map allocates a node per entry; with 128K-150K vocabulary entries and up to 280K
// merges, building and probing those nodes dominated tokenizer loading (cache misses). These two
// tables keep everything in flat arrays: linear probing, power-of-two capacity, load <= 0.5.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

namespace llmc::tok {

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

inline uint64_t hashBytes(std::string_view s) {
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = mix64(h ^ w) + i;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, s.data() + i, s.size() - i);
  return mix64(h ^ tail);
}

inline size_t tableCapacity(size_t n) {
  size_t cap = 16;
  while (cap < 2 * n) cap <<= 1;
  return cap;
}

// String -> int32. The table stores views; the caller keeps the characters alive.
class StringIdMap {
 public:
  void reserve(size_t n) {
    slots_.assign(tableCapacity(n), Slot{0, -1, 0});
    mask_ = slots_.size() - 1;
  }
  // Inserts or overwrites. reserve() must have made room for every key.
  void insert(std::string_view key, int32_t value) {
    uint64_t h = hashBytes(key);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.entry < 0) {
        s.hash32 = static_cast<uint32_t>(h >> 32);
        s.entry = static_cast<int32_t>(keys_.size());
        s.value = value;
        keys_.push_back(key);
        return;
      }
      if (s.hash32 == static_cast<uint32_t>(h >> 32) && keys_[s.entry] == key) {
        s.value = value;
        return;
      }
    }
  }
  std::optional<int32_t> find(std::string_view key) const {
    if (slots_.empty()) return std::nullopt;
    uint64_t h = hashBytes(key);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.entry < 0) return std::nullopt;
      if (s.hash32 == static_cast<uint32_t>(h >> 32) && keys_[s.entry] == key) return s.value;
    }
  }

 private:
  struct Slot {
    uint32_t hash32;  // high half of the hash: most mismatches fail without touching the key
    int32_t entry;    // index into keys_, -1 when empty
    int32_t value;
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  std::vector<std::string_view> keys_;
};

// uint64 -> V, for keys that are never ~0 (pairs of non-negative int32 ids).
template <typename V>
class PairMap {
 public:
  void reserve(size_t n) {
    keys_.assign(tableCapacity(n), kEmpty);
    values_.assign(keys_.size(), V{});
    mask_ = keys_.size() - 1;
  }
  void insertOrAssign(uint64_t key, const V& v) {
    for (size_t i = mix64(key) & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == kEmpty || keys_[i] == key) {
        keys_[i] = key;
        values_[i] = v;
        return;
      }
    }
  }
  const V* find(uint64_t key) const {
    if (keys_.empty()) return nullptr;
    for (size_t i = mix64(key) & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == key) return &values_[i];
      if (keys_[i] == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~0ULL;
  std::vector<uint64_t> keys_;
  std::vector<V> values_;
  size_t mask_ = 0;
};

}  // namespace llmc::tok

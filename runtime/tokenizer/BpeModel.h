// BpeModel.h - the tokenizer.json "model" of type BPE (owner: tokenizer).
//
// Holds the vocabulary and the merge ranks and splits one pre-token into ids the way HF's
// BPE::merge_word does: one symbol per character (byte-fallback <0xXX> tokens or the unk token for
// characters outside the vocabulary), then repeatedly the lowest-rank adjacent pair is merged,
// leftmost first. Results are cached per pre-token (thread-safe).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "Components.h"
#include "FlatHash.h"
#include "TokenizerJsonReader.h"

namespace llmc::tok {

class BpeModel {
 public:
  // `model` is the JSON model object without its vocab and merges, which come (already decoded)
  // in `data` and are moved out of it. `where` names the component ("tokenizer.json: model").
  static StatusOr<std::unique_ptr<BpeModel>> fromJson(const json& model, TokenizerJsonData& data,
                                                      const std::string& where);

  // Appends the ids of one pre-token (non-empty, valid UTF-8).
  void tokenize(std::string_view piece, std::vector<int32_t>& out) const;

  std::optional<int32_t> tokenToId(std::string_view token) const;
  // nullptr when the vocabulary has no token with this id.
  const std::string* idToToken(int32_t id) const;
  // Number of vocabulary entries (HF's get_vocab_size for the model).
  int64_t entryCount() const { return static_cast<int64_t>(strings_.size()); }
  // One past the largest id of the vocabulary.
  int32_t idBound() const { return static_cast<int32_t>(idToIndex_.size()); }

 private:
  BpeModel() = default;
  void mergeWord(std::string_view piece, std::vector<int32_t>& out) const;

  struct MergeValue {
    int32_t rank;
    int32_t newId;
  };
  static uint64_t pairKey(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }

  std::vector<std::string> strings_;   // token strings, one per vocabulary entry
  std::vector<int32_t> idToIndex_;     // id -> index into strings_, -1 for a hole
  StringIdMap vocab_;                  // keys view into strings_
  PairMap<MergeValue> merges_;
  std::array<int32_t, 256> byteIds_{};  // <0xXX> token ids for byte fallback, -1 if absent
  std::optional<int32_t> unkId_;
  bool fuseUnk_ = false;
  bool byteFallback_ = false;
  bool ignoreMerges_ = false;
  std::string continuingPrefix_;
  std::string endSuffix_;

  static constexpr size_t kCacheCapacity = 20000;
  static constexpr size_t kMaxCachedPieceBytes = 256;
  mutable std::mutex cacheMutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace llmc::tok

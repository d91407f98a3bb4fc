// KVCacheManager.h - bookkeeping of the paged KV cache: which blocks each sequence holds.
//
// The backend owns the block pool's memory; this class only hands out block ids. Blocks are
// reference-counted so a forked sequence shares its parent's prefix blocks; before a sequence writes
// into a shared, partially filled last block, reserve() gives it a private copy (copy-on-write,
// through the backend's copyBlock). Blocks before a sequence's length are never written again.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "llmc/runtime/Status.h"

namespace llmc {

class KVCacheManager {
 public:
  using SeqId = int64_t;
  using CopyBlockFn = std::function<Status(int32_t src, int32_t dst)>;

  KVCacheManager(int64_t numBlocks, int blockSize);

  int blockSize() const { return blockSize_; }
  int64_t numBlocks() const { return static_cast<int64_t>(refs_.size()); }
  int64_t freeBlocks() const { return static_cast<int64_t>(free_.size()); }

  // A new, empty sequence.
  SeqId create();
  // A new sequence sharing all of `parent`'s blocks and length (prefix sharing).
  StatusOr<SeqId> fork(SeqId parent);
  // Frees the sequence's references; blocks whose count drops to zero return to the free list.
  Status release(SeqId seq);

  // Blocks reserve(seq, tokens) would take from the free list (including a copy-on-write copy).
  StatusOr<int64_t> blocksNeeded(SeqId seq, int tokens) const;
  // Makes the block table cover length + tokens positions and the block about to be written private.
  // On failure (pool exhausted: kUnavailable) nothing changes.
  Status reserve(SeqId seq, int tokens, const CopyBlockFn& copyBlock);
  // Records that `tokens` more positions hold data (after a successful forward).
  Status commit(SeqId seq, int tokens);

  bool contains(SeqId seq) const { return seqs_.count(seq) != 0; }
  int length(SeqId seq) const;                           // 0 for unknown ids
  const std::vector<int32_t>& blockTable(SeqId seq) const;  // empty for unknown ids
  int refCount(int32_t block) const { return refs_.at(static_cast<size_t>(block)); }

 private:
  struct Seq {
    int length = 0;
    std::vector<int32_t> blocks;
  };
  int32_t allocate();
  void unref(int32_t block);
  Status unknown(SeqId seq) const;

  int blockSize_;
  std::vector<int> refs_;        // per block
  std::vector<int32_t> free_;    // stack; lowest ids handed out first
  std::unordered_map<SeqId, Seq> seqs_;
  SeqId nextId_ = 1;
};

}  // namespace llmc

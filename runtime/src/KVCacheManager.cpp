// KVCacheManager.cpp - free list, reference counts, copy-on-write of a shared last block.
#include "llmc/runtime/KVCacheManager.h"

#include <algorithm>

namespace llmc {

KVCacheManager::KVCacheManager(int64_t numBlocks, int blockSize)
    : blockSize_(std::max(blockSize, 1)), refs_(static_cast<size_t>(std::max<int64_t>(numBlocks, 0)), 0) {
  free_.reserve(refs_.size());
  for (int64_t b = static_cast<int64_t>(refs_.size()) - 1; b >= 0; --b) free_.push_back(static_cast<int32_t>(b));
}

Status KVCacheManager::unknown(SeqId seq) const {
  return InvalidArgument("kv cache: unknown sequence " + std::to_string(seq));
}

KVCacheManager::SeqId KVCacheManager::create() {
  SeqId id = nextId_++;
  seqs_[id] = Seq{};
  return id;
}

StatusOr<KVCacheManager::SeqId> KVCacheManager::fork(SeqId parent) {
  auto it = seqs_.find(parent);
  if (it == seqs_.end()) return unknown(parent);
  Seq copy = it->second;
  for (int32_t b : copy.blocks) ++refs_[b];
  SeqId id = nextId_++;
  seqs_[id] = std::move(copy);
  return id;
}

Status KVCacheManager::release(SeqId seq) {
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) return unknown(seq);
  for (int32_t b : it->second.blocks) unref(b);
  seqs_.erase(it);
  return Status::Ok();
}

int32_t KVCacheManager::allocate() {
  int32_t b = free_.back();
  free_.pop_back();
  refs_[b] = 1;
  return b;
}

void KVCacheManager::unref(int32_t block) {
  if (--refs_[block] == 0) free_.push_back(block);
}

StatusOr<int64_t> KVCacheManager::blocksNeeded(SeqId seq, int tokens) const {
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) return unknown(seq);
  if (tokens < 0) return InvalidArgument("kv cache: negative token count");
  const Seq& s = it->second;
  const int64_t have = static_cast<int64_t>(s.blocks.size());
  const int64_t want = (static_cast<int64_t>(s.length) + tokens + blockSize_ - 1) / blockSize_;
  int64_t need = std::max<int64_t>(0, want - have);
  // The block holding position `length` is written; if it exists and is shared it must be copied.
  const int64_t writeBlock = s.length / blockSize_;
  if (tokens > 0 && writeBlock < have && refs_[s.blocks[writeBlock]] > 1) ++need;
  return need;
}

Status KVCacheManager::reserve(SeqId seq, int tokens, const CopyBlockFn& copyBlock) {
  LLMC_ASSIGN_OR_RETURN(int64_t need, blocksNeeded(seq, tokens));
  if (need > freeBlocks()) {
    return Unavailable("kv cache: out of blocks: need " + std::to_string(need) + ", " +
                       std::to_string(freeBlocks()) + " free of " + std::to_string(numBlocks()));
  }
  Seq& s = seqs_[seq];
  const int64_t writeBlock = s.length / blockSize_;
  if (tokens > 0 && writeBlock < static_cast<int64_t>(s.blocks.size()) && refs_[s.blocks[writeBlock]] > 1) {
    const int32_t shared = s.blocks[writeBlock];
    const int32_t mine = allocate();
    Status st = copyBlock ? copyBlock(shared, mine) : Internal("kv cache: no copyBlock for a shared block");
    if (!st.ok()) {
      unref(mine);
      return st;
    }
    unref(shared);
    s.blocks[writeBlock] = mine;
  }
  const int64_t want = (static_cast<int64_t>(s.length) + tokens + blockSize_ - 1) / blockSize_;
  while (static_cast<int64_t>(s.blocks.size()) < want) s.blocks.push_back(allocate());
  return Status::Ok();
}

Status KVCacheManager::commit(SeqId seq, int tokens) {
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) return unknown(seq);
  Seq& s = it->second;
  if (tokens < 0 || static_cast<int64_t>(s.length) + tokens > static_cast<int64_t>(s.blocks.size()) * blockSize_) {
    return Internal("kv cache: commit of " + std::to_string(tokens) + " tokens past the reserved blocks");
  }
  s.length += tokens;
  return Status::Ok();
}

int KVCacheManager::length(SeqId seq) const {
  auto it = seqs_.find(seq);
  return it == seqs_.end() ? 0 : it->second.length;
}

const std::vector<int32_t>& KVCacheManager::blockTable(SeqId seq) const {
  static const std::vector<int32_t> kEmpty;
  auto it = seqs_.find(seq);
  return it == seqs_.end() ? kEmpty : it->second.blocks;
}

}  // namespace llmc

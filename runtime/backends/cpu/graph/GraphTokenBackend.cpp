// GraphTokenBackend.cpp - token cache + whole-sequence recompute of a token-LM graph program.
#include "GraphTokenBackend.h"

#include <algorithm>

namespace llmc::cpu::graph {

Status GraphTokenBackend::prepare(const Engine& engine, const BackendOptions& options) {
  const std::string who = name() + " backend";
  if (engine_) return Internal(who + ": prepare called twice");
  if (!engine.graph()) return Internal(who + ": the engine has no graph program");
  if (engine.graph()->kind != GraphKind::kTokenLM)
    return InvalidArgument(engine.path() + ": the engine computes named tensors, not tokens (use `llmc eval`)");
  if (options.maxBatchTokens <= 0 || options.maxSequences <= 0 || options.kvBlockSize <= 0 || options.kvBlocks < 0)
    return InvalidArgument(who + ": maxBatchTokens, maxSequences and kvBlockSize must be positive");
  LLMC_RETURN_IF_ERROR(prepareRunner(engine, options));
  engine_ = &engine;
  options_ = options;
  const int64_t bs = options.kvBlockSize;
  const int64_t perSeq = (engine.config().maxPosition + bs - 1) / bs;
  // Ids are 4 bytes a token: room for every sequence at max_position, capped at 2^26 tokens.
  blocks_ = options.kvBlocks > 0 ? options.kvBlocks
                                 : std::max<int64_t>(1, std::min<int64_t>(perSeq * options.maxSequences, (1 << 26) / bs));
  ids_.assign(static_cast<size_t>(blocks_ * bs), 0);
  return Status::Ok();
}

Status GraphTokenBackend::copyBlock(int32_t src, int32_t dst) {
  const std::string who = name() + " backend";
  if (!engine_) return Internal(who + ": copyBlock before prepare");
  if (src < 0 || src >= blocks_ || dst < 0 || dst >= blocks_)
    return InvalidArgument(who + ": copyBlock(" + std::to_string(src) + ", " + std::to_string(dst) +
                           ") outside the pool of " + std::to_string(blocks_) + " blocks");
  const int64_t bs = options_.kvBlockSize;
  std::copy(ids_.begin() + src * bs, ids_.begin() + (src + 1) * bs, ids_.begin() + dst * bs);
  return Status::Ok();
}

Status GraphTokenBackend::forward(const StepBatch& batch, std::vector<float>* logits) {
  const std::string who = name() + " backend";
  if (!engine_) return Internal(who + ": forward before prepare");
  const ModelConfig& cfg = engine_->config();
  const int64_t bs = options_.kvBlockSize, vocab = cfg.vocabSize;
  if (batch.sequences.empty() || static_cast<int>(batch.sequences.size()) > options_.maxSequences)
    return InvalidArgument(who + ": step has " + std::to_string(batch.sequences.size()) + " sequences");
  logits->assign(batch.sequences.size() * vocab, 0.0f);
  int64_t next = 0;
  for (size_t s = 0; s < batch.sequences.size(); ++s) {
    const SequenceSlice& sl = batch.sequences[s];
    const int64_t end = static_cast<int64_t>(sl.startPos) + sl.tokenCount;
    if (sl.tokenBegin != next || sl.tokenCount <= 0 || sl.startPos < 0 ||
        sl.tokenBegin + sl.tokenCount > static_cast<int64_t>(batch.tokens.size()))
      return InvalidArgument(who + ": sequence slices must cover the tokens in order, each non-empty");
    next += sl.tokenCount;
    if (end > cfg.maxPosition)
      return InvalidArgument(who + ": sequence reaches position " + std::to_string(end) +
                             ", the model's max_position is " + std::to_string(cfg.maxPosition));
    if (end > static_cast<int64_t>(sl.blockTable.size()) * bs)
      return InvalidArgument(who + ": block table does not cover position " + std::to_string(end - 1));
    // Store the new ids in the sequence's blocks, then read back the whole sequence.
    GTensor ids = GTensor::make(GType::kI32, {end});
    for (int64_t p = 0; p < end; ++p) {
      const int32_t block = sl.blockTable[p / bs];
      if (block < 0 || block >= blocks_) return InvalidArgument(who + ": block id out of range");
      int32_t& slot = ids_[block * bs + p % bs];
      if (p >= sl.startPos) {
        const int32_t tok = batch.tokens[sl.tokenBegin + (p - sl.startPos)];
        if (tok < 0 || tok >= vocab)
          return InvalidArgument(who + ": token id " + std::to_string(tok) + " outside the vocabulary");
        slot = tok;
      }
      ids.i[p] = slot;
    }
    LLMC_RETURN_IF_ERROR(lastLogits(std::move(ids), end, vocab, logits->data() + s * vocab));
  }
  if (next != static_cast<int64_t>(batch.tokens.size()))
    return InvalidArgument(who + ": sequence slices do not cover the step's tokens");
  return Status::Ok();
}

}  // namespace llmc::cpu::graph

// Executor.cpp - builds StepBatches from sequences, reserves KV blocks, commits lengths.
#include "llmc/runtime/Executor.h"

#include <algorithm>

namespace llmc {

Executor::Executor(const Engine& engine, std::unique_ptr<Backend> backend, const BackendOptions& options)
    : engine_(engine),
      backend_(std::move(backend)),
      options_(options),
      kv_(backend_->kvBlockCount(), options.kvBlockSize) {}

StatusOr<std::unique_ptr<Executor>> Executor::create(const Engine& engine, std::unique_ptr<Backend> backend,
                                                     const BackendOptions& options) {
  if (!backend) return Internal("executor: no backend");
  if (engine.graph() && !backend->runsGraphPrograms()) {
    return Unsupported(engine.path() + ": the engine holds a graph program (generic ops, not raised to the per-token "
                       "form); the " + backend->name() + " backend cannot run it yet: use --device cpu");
  }
  LLMC_RETURN_IF_ERROR(backend->prepare(engine, options));
  return std::unique_ptr<Executor>(new Executor(engine, std::move(backend), options));
}

Status Executor::step(const std::vector<Feed>& feeds, std::vector<float>* logits) {
  return runStep(feeds, [&](const StepBatch& b) { return backend_->forward(b, logits); });
}

Status Executor::stepArgmax(const std::vector<Feed>& feeds, std::vector<int32_t>* tokens) {
  return runStep(feeds, [&](const StepBatch& b) { return backend_->forwardArgmax(b, tokens); });
}

Status Executor::stepSample(const std::vector<Feed>& feeds, const SamplingParams& params,
                            const std::vector<SampleRow>& rows, std::vector<int32_t>* tokens) {
  if (rows.size() != feeds.size()) return InvalidArgument("executor: one SampleRow per feed");
  return runStep(feeds, [&](const StepBatch& b) { return backend_->forwardSample(b, params, rows, tokens); });
}

Status Executor::runStep(const std::vector<Feed>& feeds, const std::function<Status(const StepBatch&)>& run) {
  if (feeds.empty()) return InvalidArgument("executor: empty step");
  if (static_cast<int>(feeds.size()) > options_.maxSequences) {
    return InvalidArgument("executor: " + std::to_string(feeds.size()) + " sequences in one step, at most " +
                           std::to_string(options_.maxSequences));
  }
  size_t total = 0;
  for (size_t i = 0; i < feeds.size(); ++i) {
    if (!kv_.contains(feeds[i].seq)) return InvalidArgument("executor: unknown sequence " + std::to_string(feeds[i].seq));
    if (feeds[i].tokens.empty()) return InvalidArgument("executor: a feed has no tokens");
    for (size_t j = 0; j < i; ++j) {
      if (feeds[j].seq == feeds[i].seq) return InvalidArgument("executor: a sequence appears twice in one step");
    }
    total += feeds[i].tokens.size();
  }
  if (total > static_cast<size_t>(options_.maxBatchTokens)) {
    return InvalidArgument("executor: " + std::to_string(total) + " tokens in one step, at most " +
                           std::to_string(options_.maxBatchTokens));
  }
  const int64_t maxPos = engine_.config().maxPosition;
  for (const Feed& f : feeds) {
    if (kv_.length(f.seq) + static_cast<int64_t>(f.tokens.size()) > maxPos) {
      return InvalidArgument("executor: sequence would reach " +
                             std::to_string(kv_.length(f.seq) + f.tokens.size()) + " tokens, max_position is " +
                             std::to_string(maxPos));
    }
  }
  // Reserve all first (all-or-nothing from the pool's point of view is not needed: reserved blocks
  // stay with their sequence and are used by the next attempt).
  int64_t need = 0;
  for (const Feed& f : feeds) {
    LLMC_ASSIGN_OR_RETURN(int64_t n, kv_.blocksNeeded(f.seq, static_cast<int>(f.tokens.size())));
    need += n;
  }
  if (need > kv_.freeBlocks()) {
    return Unavailable("kv cache: out of blocks: the step needs " + std::to_string(need) + ", " +
                       std::to_string(kv_.freeBlocks()) + " free of " + std::to_string(kv_.numBlocks()));
  }
  auto copy = [this](int32_t src, int32_t dst) { return backend_->copyBlock(src, dst); };
  batch_.tokens.clear();
  batch_.sequences.clear();
  for (const Feed& f : feeds) {
    LLMC_RETURN_IF_ERROR(kv_.reserve(f.seq, static_cast<int>(f.tokens.size()), copy));
    SequenceSlice s;
    s.tokenBegin = static_cast<int>(batch_.tokens.size());
    s.tokenCount = static_cast<int>(f.tokens.size());
    s.startPos = kv_.length(f.seq);
    s.blockTable = kv_.blockTable(f.seq);
    batch_.tokens.insert(batch_.tokens.end(), f.tokens.begin(), f.tokens.end());
    batch_.sequences.push_back(std::move(s));
  }
  LLMC_RETURN_IF_ERROR(run(batch_));
  for (const Feed& f : feeds) LLMC_RETURN_IF_ERROR(kv_.commit(f.seq, static_cast<int>(f.tokens.size())));
  return Status::Ok();
}

Status Executor::prefill(SeqId seq, const std::vector<int32_t>& tokens, std::vector<float>* logits) {
  if (tokens.empty()) return InvalidArgument("executor: empty prompt");
  const size_t chunk = static_cast<size_t>(options_.maxBatchTokens);
  std::vector<Feed> feeds(1);
  feeds[0].seq = seq;
  for (size_t at = 0; at < tokens.size(); at += chunk) {
    const size_t end = std::min(tokens.size(), at + chunk);
    feeds[0].tokens.assign(tokens.begin() + static_cast<std::ptrdiff_t>(at), tokens.begin() + static_cast<std::ptrdiff_t>(end));
    LLMC_RETURN_IF_ERROR(step(feeds, logits));
  }
  return Status::Ok();
}

}  // namespace llmc

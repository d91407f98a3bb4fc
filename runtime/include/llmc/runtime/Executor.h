// Executor.h - runs an engine's program on a backend for a set of sequences with paged KV caches.
//
// Owns the backend (prepared here with the given options) and the KVCacheManager sized from the
// backend's pool. step() feeds several sequences at once (one StepBatch); prefill() feeds one long
// prompt in chunks of maxBatchTokens. The Engine must outlive the Executor.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "llmc/runtime/Backend.h"
#include "llmc/runtime/Engine.h"
#include "llmc/runtime/KVCacheManager.h"
#include "llmc/runtime/Status.h"

namespace llmc {

class Executor {
 public:
  using SeqId = KVCacheManager::SeqId;

  // Calls backend->prepare(engine, options).
  static StatusOr<std::unique_ptr<Executor>> create(const Engine& engine, std::unique_ptr<Backend> backend,
                                                    const BackendOptions& options);

  const Engine& engine() const { return engine_; }
  Backend& backend() { return *backend_; }
  const BackendOptions& options() const { return options_; }
  KVCacheManager& kvCache() { return kv_; }
  int64_t vocabSize() const { return engine_.config().vocabSize; }

  SeqId addSequence() { return kv_.create(); }
  StatusOr<SeqId> forkSequence(SeqId parent) { return kv_.fork(parent); }
  Status removeSequence(SeqId seq) { return kv_.release(seq); }
  int sequenceLength(SeqId seq) const { return kv_.length(seq); }

  struct Feed {
    SeqId seq = 0;
    std::vector<int32_t> tokens;  // appended to the sequence at its current length
  };
  // One backend step for all feeds (<= maxSequences feeds, <= maxBatchTokens tokens in total, each
  // sequence at most once). logits: [feeds.size(), vocab], the logits after each feed's last token.
  Status step(const std::vector<Feed>& feeds, std::vector<float>* logits);
  // The same step, returning only each feed's greedy token (Backend::forwardArgmax): no logits.
  Status stepArgmax(const std::vector<Feed>& feeds, std::vector<int32_t>* tokens);
  // The same step, returning only each feed's sampled token (Backend::forwardSample): no logits.
  Status stepSample(const std::vector<Feed>& feeds, const SamplingParams& params, const std::vector<SampleRow>& rows,
                    std::vector<int32_t>* tokens);
  // Feeds `tokens` to one sequence in chunks of maxBatchTokens; logits after the last token.
  Status prefill(SeqId seq, const std::vector<int32_t>& tokens, std::vector<float>* logits);

 private:
  Executor(const Engine& engine, std::unique_ptr<Backend> backend, const BackendOptions& options);
  // Checks the feeds, reserves their KV blocks and builds batch_; run(batch_) calls the backend;
  // then the sequences' new lengths are committed.
  Status runStep(const std::vector<Feed>& feeds, const std::function<Status(const StepBatch&)>& run);

  const Engine& engine_;
  std::unique_ptr<Backend> backend_;
  BackendOptions options_;
  KVCacheManager kv_;
  StepBatch batch_;  // reused between steps
};

}  // namespace llmc

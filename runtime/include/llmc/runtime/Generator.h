// Generator.h - text generation over an Executor: prefill, then decode token by token.
//
// generate() runs one prompt; generateBatch() runs several together (prompts are prefilled in
// packed, chunked steps of at most maxBatchTokens tokens; every decode step is one StepBatch with a
// token per live sequence) and gives each sequence the same result as generate() alone. Generation
// of a sequence stops at the first of: an EOS id (the engine's eos_token_ids, unless ignoreEos; the
// EOS id is kept in `tokens`, not in `text`), a stop string (the text is cut where it begins; the
// tokens that formed it are kept, as in vLLM), maxNewTokens, the model's max_position, or the
// callback returning false. Text needs a Tokenizer; without one, stop strings are rejected and
// `text` stays empty.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "llmc/runtime/Executor.h"
#include "llmc/runtime/Sampler.h"
#include "llmc/runtime/Status.h"

namespace llmc {

class Tokenizer;

// One generated token. `text` is the text this token made final (complete UTF-8, stop-string
// prefixes held back; may be empty). After a sequence ends, an event with token == -1 carries the
// text still held back, if any.
struct TokenEvent {
  size_t sequence = 0;  // index into generateBatch's prompts (0 for generate)
  int32_t token = -1;
  std::string_view text;
};

struct GenerationOptions {
  int maxNewTokens = 256;
  SamplingParams sampling;       // generateBatch: sequence i samples with seed + i
  bool ignoreEos = false;
  std::vector<std::string> stopStrings;
  bool recordLogits = false;     // keep the logits of every decode step (tests, debugging)
  // Greedy decode steps (temperature 0, no repetition penalty, no recordLogits) ask the backend for
  // each sequence's argmax only (Backend::forwardArgmax: on the GPU, one id per sequence comes back
  // instead of a vocab-wide row). The tokens are the same either way; false always takes logits.
  bool backendArgmax = true;
  // Sampled decode steps (temperature > 0 or a repetition penalty, no recordLogits) let the backend
  // pick the tokens (Backend::forwardSample: the CUDA backend samples on the device, with the
  // uniforms drawn here from each sequence's Sampler, so a seed gives the same tokens; docs/cuda.md
  // "Sampling" says where float summation order may differ). false samples on the host from logits.
  bool backendSample = true;
  // Streaming: called for every event; returning false ends that sequence (StopReason::kCallback).
  std::function<bool(const TokenEvent&)> onToken;
};

enum class StopReason { kLength, kEos, kStopString, kCallback, kMaxPosition };
const char* stopReasonName(StopReason reason);

struct GenerationStats {
  int promptTokens = 0;          // all sequences
  int generatedTokens = 0;       // all sequences
  double prefillMs = 0;          // wall time until every prompt's logits were ready (time to first token)
  double decodeMs = 0;           // wall time of the decode steps
  double prefillTokensPerSec() const { return prefillMs > 0 ? promptTokens * 1000.0 / prefillMs : 0; }
  // Tokens produced by decode steps per second (the first token comes from prefill).
  int decodeSteps = 0;
  int decodeTokens = 0;
  double decodeTokensPerSec() const { return decodeMs > 0 ? decodeTokens * 1000.0 / decodeMs : 0; }
};

struct GenerationResult {
  std::vector<int32_t> tokens;                 // generated ids
  std::string text;                            // decoded generated text (stop string cut off)
  StopReason stopReason = StopReason::kLength;
  std::vector<float> promptLogits;             // [vocab]: the logits after the last prompt token
  std::vector<std::vector<float>> stepLogits;  // recordLogits: [i] = logits after feeding tokens[i]
  GenerationStats stats;                       // generateBatch: the batch's totals, in every result
};

class Generator {
 public:
  // Borrows both; the tokenizer may be null (ids only).
  explicit Generator(Executor& executor, const Tokenizer* tokenizer = nullptr);

  StatusOr<GenerationResult> generate(const std::vector<int32_t>& prompt, const GenerationOptions& options);
  // Encodes `prompt` with the tokenizer (adding its special tokens, e.g. BOS) and generates.
  StatusOr<GenerationResult> generateText(std::string_view prompt, const GenerationOptions& options);
  StatusOr<std::vector<GenerationResult>> generateBatch(const std::vector<std::vector<int32_t>>& prompts,
                                                        const GenerationOptions& options);

 private:
  Executor& executor_;
  const Tokenizer* tokenizer_;
};

}  // namespace llmc

// Generator.cpp - packed chunked prefill, batched decode, sampling and stop conditions.
#include "llmc/runtime/Generator.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>

#include "llmc/runtime/StopMatcher.h"
#include "llmc/runtime/Tokenizer.h"

namespace llmc {

const char* stopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kLength: return "length";
    case StopReason::kEos: return "eos";
    case StopReason::kStopString: return "stop_string";
    case StopReason::kCallback: return "callback";
    case StopReason::kMaxPosition: return "max_position";
  }
  return "?";
}

namespace {

using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// Everything one sequence carries through generation.
struct SeqState {
  size_t index = 0;
  Executor::SeqId seq = 0;
  std::vector<int32_t> history;  // prompt + generated (repetition penalty)
  size_t prefilled = 0;          // prompt tokens fed so far
  size_t promptLen = 0;
  std::unique_ptr<Sampler> sampler;
  std::unique_ptr<StopMatcher> stops;
  std::unique_ptr<StreamDecoder> decoder;
  GenerationResult result;
  bool done = false;
};

// Releases the sequences' KV blocks however generation ends.
struct SeqGuard {
  Executor& exec;
  std::vector<SeqState>& states;
  ~SeqGuard() {
    for (SeqState& s : states) {
      if (s.seq != 0) (void)exec.removeSequence(s.seq);
    }
  }
};

}  // namespace

Generator::Generator(Executor& executor, const Tokenizer* tokenizer) : executor_(executor), tokenizer_(tokenizer) {}

StatusOr<GenerationResult> Generator::generate(const std::vector<int32_t>& prompt, const GenerationOptions& options) {
  LLMC_ASSIGN_OR_RETURN(std::vector<GenerationResult> r, generateBatch({prompt}, options));
  return std::move(r[0]);
}

StatusOr<GenerationResult> Generator::generateText(std::string_view prompt, const GenerationOptions& options) {
  if (!tokenizer_) return InvalidArgument("generate: a text prompt needs a tokenizer (the engine has none)");
  return generate(tokenizer_->encode(prompt, /*addSpecialTokens=*/true), options);
}

StatusOr<std::vector<GenerationResult>> Generator::generateBatch(const std::vector<std::vector<int32_t>>& prompts,
                                                                 const GenerationOptions& options) {
  const Engine& engine = executor_.engine();
  const ModelConfig& cfg = engine.config();
  const BackendOptions& bo = executor_.options();
  const int64_t vocab = cfg.vocabSize;
  LLMC_RETURN_IF_ERROR(Sampler::validate(options.sampling));
  if (prompts.empty()) return InvalidArgument("generate: no prompts");
  if (options.maxNewTokens < 0) return InvalidArgument("generate: maxNewTokens must be >= 0");
  if (!options.stopStrings.empty() && !tokenizer_) {
    return InvalidArgument("generate: stop strings need a tokenizer (the engine has none)");
  }
  if (static_cast<int>(prompts.size()) > bo.maxSequences) {
    return InvalidArgument("generate: " + std::to_string(prompts.size()) + " prompts, the backend takes at most " +
                           std::to_string(bo.maxSequences) + " sequences");
  }
  std::vector<int32_t> eos = cfg.eosTokenIds;
  if (eos.empty() && tokenizer_) eos = tokenizer_->eosIds();

  std::vector<SeqState> states(prompts.size());
  SeqGuard guard{executor_, states};
  int promptTotal = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto& p = prompts[i];
    if (p.empty()) return InvalidArgument("generate: prompt " + std::to_string(i) + " is empty");
    if (static_cast<int64_t>(p.size()) > cfg.maxPosition) {
      return InvalidArgument("generate: prompt of " + std::to_string(p.size()) + " tokens is longer than max_position " +
                             std::to_string(cfg.maxPosition));
    }
    for (int32_t id : p) {
      if (id < 0 || id >= vocab) {
        return InvalidArgument("generate: prompt token " + std::to_string(id) + " outside the vocabulary [0, " +
                               std::to_string(vocab) + ")");
      }
    }
    SeqState& s = states[i];
    s.index = i;
    s.seq = executor_.addSequence();
    s.history = p;
    s.promptLen = p.size();
    SamplingParams sp = options.sampling;
    sp.seed += i;
    s.sampler = std::make_unique<Sampler>(sp);
    if (tokenizer_) {
      s.stops = std::make_unique<StopMatcher>(options.stopStrings);
      s.decoder = std::make_unique<StreamDecoder>(*tokenizer_, /*skipSpecialTokens=*/true);
    }
    promptTotal += static_cast<int>(p.size());
  }

  GenerationStats stats;
  stats.promptTokens = promptTotal;
  std::vector<float> logits;

  // Emits an event; a false return from the callback ends the sequence.
  auto emit = [&](SeqState& s, int32_t token, const std::string& text) {
    if (!options.onToken || (token < 0 && text.empty())) return true;
    return options.onToken(TokenEvent{s.index, token, text});
  };
  auto finish = [&](SeqState& s, StopReason why) {
    s.done = true;
    s.result.stopReason = why;
    if (s.stops) {
      if (why != StopReason::kStopString) {
        s.stops->push(s.decoder->finish());
        s.stops->finish();
      }
      std::string rest = s.stops->takeReady();
      emit(s, -1, rest);
      s.result.text = s.stops->text();
    }
  };
  // Takes a new token for a sequence; decides whether it goes on.
  auto acceptToken = [&](SeqState& s, int32_t tok) {
    s.result.tokens.push_back(tok);
    s.history.push_back(tok);
    ++stats.generatedTokens;
    const bool isEos = !options.ignoreEos && std::find(eos.begin(), eos.end(), tok) != eos.end();
    std::string ready;
    bool stopped = false;
    if (s.stops && !isEos) {
      stopped = s.stops->push(s.decoder->push(tok));
      ready = s.stops->takeReady();
    }
    const bool keepGoing = emit(s, tok, ready);
    if (isEos) return finish(s, StopReason::kEos);
    if (stopped) return finish(s, StopReason::kStopString);
    if (!keepGoing) return finish(s, StopReason::kCallback);
    if (static_cast<int>(s.result.tokens.size()) >= options.maxNewTokens) return finish(s, StopReason::kLength);
    // The next step feeds this token at position history.size() - 1.
    if (static_cast<int64_t>(s.history.size()) > cfg.maxPosition) return finish(s, StopReason::kMaxPosition);
  };
  // The same from the sequence's logits row, through its sampler.
  auto accept = [&](SeqState& s, const float* row) { acceptToken(s, s.sampler->sample(row, vocab, s.history)); };
  // Greedy without a repetition penalty is the argmax of the raw row (Sampler: ties to the lowest
  // id), which the backend can take where the logits are; the sampler's state is not used by it.
  const bool argmaxOnly = options.backendArgmax && options.sampling.temperature == 0.0f &&
                          options.sampling.repetitionPenalty == 1.0f && !options.recordLogits;
  std::vector<int32_t> argmaxTokens;
  // Any other decode step without recordLogits: the backend samples each row with the uniform its
  // sequence's Sampler draws now (the draw sample() would make), so the generator's state advances
  // exactly as on the host path.
  const bool backendSample = options.backendSample && !argmaxOnly && !options.recordLogits;
  std::vector<SampleRow> sampleRows;

  // Prefill: pack prompt chunks of several sequences into steps of at most maxBatchTokens tokens.
  const auto t0 = Clock::now();
  for (;;) {
    std::vector<Executor::Feed> feeds;
    std::vector<SeqState*> owners;
    int budget = bo.maxBatchTokens;
    for (SeqState& s : states) {
      if (s.prefilled == s.promptLen || budget == 0) continue;
      const size_t take = std::min<size_t>(s.promptLen - s.prefilled, static_cast<size_t>(budget));
      Executor::Feed f;
      f.seq = s.seq;
      f.tokens.assign(s.history.begin() + static_cast<std::ptrdiff_t>(s.prefilled),
                      s.history.begin() + static_cast<std::ptrdiff_t>(s.prefilled + take));
      feeds.push_back(std::move(f));
      owners.push_back(&s);
      budget -= static_cast<int>(take);
    }
    if (feeds.empty()) break;
    LLMC_RETURN_IF_ERROR(executor_.step(feeds, &logits));
    for (size_t k = 0; k < owners.size(); ++k) {
      SeqState& s = *owners[k];
      s.prefilled += feeds[k].tokens.size();
      if (s.prefilled == s.promptLen) {
        const float* row = logits.data() + k * vocab;
        s.result.promptLogits.assign(row, row + vocab);
        if (options.maxNewTokens == 0) {
          finish(s, StopReason::kLength);
        } else {
          accept(s, row);
        }
      }
    }
  }
  stats.prefillMs = msSince(t0);

  // Decode: one token per live sequence per step.
  const auto t1 = Clock::now();
  for (;;) {
    std::vector<Executor::Feed> feeds;
    std::vector<SeqState*> owners;
    for (SeqState& s : states) {
      if (s.done) continue;
      feeds.push_back(Executor::Feed{s.seq, {s.history.back()}});
      owners.push_back(&s);
    }
    if (feeds.empty()) break;
    if (argmaxOnly) {
      LLMC_RETURN_IF_ERROR(executor_.stepArgmax(feeds, &argmaxTokens));
      ++stats.decodeSteps;
      if (argmaxTokens.size() != owners.size()) return Internal("generate: the backend returned no token per sequence");
      for (size_t k = 0; k < owners.size(); ++k) {
        acceptToken(*owners[k], argmaxTokens[k]);
        ++stats.decodeTokens;
      }
      continue;
    }
    if (backendSample) {
      sampleRows.assign(owners.size(), SampleRow{});
      for (size_t k = 0; k < owners.size(); ++k) {
        sampleRows[k].history = &owners[k]->history;
        sampleRows[k].uniform = options.sampling.temperature == 0.0f ? 0.0 : owners[k]->sampler->nextUniform();
      }
      LLMC_RETURN_IF_ERROR(executor_.stepSample(feeds, options.sampling, sampleRows, &argmaxTokens));
      ++stats.decodeSteps;
      if (argmaxTokens.size() != owners.size()) return Internal("generate: the backend returned no token per sequence");
      for (size_t k = 0; k < owners.size(); ++k) {
        acceptToken(*owners[k], argmaxTokens[k]);
        ++stats.decodeTokens;
      }
      continue;
    }
    LLMC_RETURN_IF_ERROR(executor_.step(feeds, &logits));
    ++stats.decodeSteps;
    for (size_t k = 0; k < owners.size(); ++k) {
      SeqState& s = *owners[k];
      const float* row = logits.data() + k * vocab;
      if (options.recordLogits) s.result.stepLogits.emplace_back(row, row + vocab);
      accept(s, row);
      ++stats.decodeTokens;
    }
  }
  stats.decodeMs = msSince(t1);

  std::vector<GenerationResult> out;
  for (SeqState& s : states) {
    s.result.stats = stats;
    out.push_back(std::move(s.result));
  }
  return out;
}

}  // namespace llmc

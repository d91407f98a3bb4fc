// RunCommand.cpp - `llmc run ENGINE`: generate from a prompt, a list of ids, or prompts on stdin.
//
// Plain output streams text as it is generated (the prompt first, as llama.cpp does); --json prints
// one object at the end: {"prompt_ids", "ids", "text", "finish_reason", ["prompt_logits"], "stats"}.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "Commands.h"
#include "Flags.h"
#include "Report.h"
#include "RunSetup.h"
#include "TokenizerSource.h"
#include "llmc/runtime/Generator.h"
#include "llmc/runtime/Tokenizer.h"

namespace llmc::cli {
namespace {

struct RunFlags {
  std::string prompt, promptIds;
  int64_t maxTokens = 256;
  double temperature = 0.8, topP = 0.95, minP = 0.05, repetitionPenalty = 1.0;
  int64_t topK = 40, seed = -1;
  std::vector<std::string> stops;
  bool ignoreEos = false, asJson = false, logits = false, stepLogits = false, stats = false, help = false;
  SetupFlags setup;
};

void declare(Flags& f, RunFlags& r) {
  f.addString("--prompt,-p", &r.prompt, "prompt text (encoded with the engine's tokenizer, BOS added as it says)");
  f.addString("--prompt-ids", &r.promptIds, "prompt as token ids, e.g. 1,403,407");
  f.addInt("--max-tokens,-n", &r.maxTokens, 0, 1 << 24, "tokens to generate at most (default 256)");
  f.addDouble("--temperature", &r.temperature, 0, 1000, "0 = greedy (default 0.8)");
  f.addInt("--top-k", &r.topK, 0, 1 << 30, "keep the k most likely tokens; 0 = off (default 40)");
  f.addDouble("--top-p", &r.topP, 1e-9, 1, "nucleus sampling mass; 1 = off (default 0.95)");
  f.addDouble("--min-p", &r.minP, 0, 1, "drop tokens below min-p x the top probability (default 0.05)");
  f.addDouble("--repetition-penalty", &r.repetitionPenalty, 1e-3, 1000, "1 = off");
  f.addInt("--seed", &r.seed, 0, INT64_MAX, "sampling seed (default: random)");
  f.addStrings("--stop", &r.stops, "stop when this text appears (repeatable); it is not printed");
  f.addBool("--ignore-eos", &r.ignoreEos, "keep generating after the end-of-sequence token");
  f.addBool("--json", &r.asJson, "print one JSON object instead of streaming text");
  f.addBool("--logits", &r.logits, "with --json: include the logits after the prompt");
  f.addBool("--step-logits", &r.stepLogits,
            "with --json: include the logits of every decode step (step_logits[i] after ids[i])");
  f.addBool("--stats", &r.stats, "print prefill and decode speed to stderr");
  declareSetupFlags(f, r.setup);
  f.addBool("--help,-h", &r.help, "show this help");
}

GenerationOptions generationOptions(const RunFlags& r) {
  GenerationOptions g;
  g.maxNewTokens = static_cast<int>(r.maxTokens);
  g.sampling.temperature = static_cast<float>(r.temperature);
  g.sampling.topK = static_cast<int>(r.topK);
  g.sampling.topP = static_cast<float>(r.topP);
  g.sampling.minP = static_cast<float>(r.minP);
  g.sampling.repetitionPenalty = static_cast<float>(r.repetitionPenalty);
  g.sampling.seed = r.seed >= 0 ? static_cast<uint64_t>(r.seed) : std::random_device{}();
  g.ignoreEos = r.ignoreEos;
  g.stopStrings = r.stops;
  g.recordLogits = r.stepLogits;
  return g;
}

void printStats(const GenerationStats& s) {
  std::fprintf(stderr,
               "llmc: prefill %d tokens in %.2f ms (%.1f tokens/s); decode %d tokens in %.2f ms "
               "(%.1f tokens/s, %.2f ms/token)\n",
               s.promptTokens, s.prefillMs, s.prefillTokensPerSec(), s.decodeTokens, s.decodeMs,
               s.decodeTokensPerSec(), s.decodeTokens ? s.decodeMs / s.decodeTokens : 0.0);
}

nlohmann::json resultJson(const std::vector<int32_t>& prompt, const GenerationResult& res, const RunFlags& r,
                          bool hasTokenizer) {
  nlohmann::json j;
  j["prompt_ids"] = prompt;
  j["ids"] = res.tokens;
  if (hasTokenizer) j["text"] = res.text;
  j["finish_reason"] = stopReasonName(res.stopReason);
  if (r.logits) j["prompt_logits"] = res.promptLogits;
  if (r.stepLogits) j["step_logits"] = res.stepLogits;
  j["stats"] = {{"prompt_tokens", res.stats.promptTokens},
                {"generated_tokens", res.stats.generatedTokens},
                {"prefill_ms", res.stats.prefillMs},
                {"decode_ms", res.stats.decodeMs},
                {"decode_tokens_per_s", res.stats.decodeTokensPerSec()}};
  return j;
}

// One prompt: streams (plain) or collects (json). Returns the exit code.
int generateOne(Generator& gen, const Tokenizer* tok, const std::vector<int32_t>& prompt,
                const std::string& promptText, const RunFlags& r, GenerationOptions opts) {
  if (!r.asJson) {
    opts.onToken = [&](const TokenEvent& e) {
      if (tok) {
        std::fwrite(e.text.data(), 1, e.text.size(), stdout);
      } else if (e.token >= 0) {
        std::printf("%d ", e.token);
      }
      std::fflush(stdout);
      return true;
    };
    std::fwrite(promptText.data(), 1, promptText.size(), stdout);
  }
  auto res = gen.generate(prompt, opts);
  if (!res.ok()) {
    if (!r.asJson) std::printf("\n");
    return fail(res.status());
  }
  if (r.asJson) {
    std::printf("%s\n", resultJson(prompt, *res, r, tok != nullptr)
                            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                            .c_str());
  } else {
    std::printf("\n");
  }
  std::fflush(stdout);
  if (r.stats) printStats(res->stats);
  return 0;
}

Status encodePrompt(const Tokenizer* tok, const std::string& engine, const std::string& text,
                    std::vector<int32_t>* ids) {
  if (!tok)
    return InvalidArgument(engine + ": the engine has no tokenizer (it was built without tokenizer.json): use --prompt-ids");
  *ids = tok->encode(text, /*addSpecialTokens=*/true);
  if (ids->empty()) return InvalidArgument("--prompt: the prompt encodes to no tokens");
  return Status::Ok();
}

}  // namespace

int runRun(const Args& args) {
  Flags flags;
  RunFlags r;
  declare(flags, r);
  if (Status s = flags.parse(args); !s.ok()) return fail(s);
  if (r.help) return printHelp("usage: llmc run ENGINE [-p PROMPT | --prompt-ids IDS] [options]", flags.help());
  if (flags.positionals().size() != 1) return fail(InvalidArgument("run takes one engine file"));
  if (flags.given("--prompt") && flags.given("--prompt-ids"))
    return fail(InvalidArgument("give --prompt or --prompt-ids, not both"));
  std::vector<int32_t> promptIds;
  if (flags.given("--prompt-ids"))
    if (Status s = parseIdList("--prompt-ids", r.promptIds, &promptIds); !s.ok()) return fail(s);
  GenerationOptions opts = generationOptions(r);
  if (Status s = Sampler::validate(opts.sampling); !s.ok()) return fail(s);
  if (Status s = checkSetupFlags(r.setup); !s.ok()) return fail(s);

  auto loaded = loadForRun(flags.positionals()[0], r.setup);
  if (!loaded.ok()) return fail(loaded.status());
  RunContext& ctx = *loaded;
  const Tokenizer* tok = ctx.tokenizer.get();
  if (!tok && !r.stops.empty())
    return fail(InvalidArgument("--stop: the engine has no tokenizer, so there is no text to match"));
  Generator gen(*ctx.executor, tok);

  if (flags.given("--prompt-ids")) {
    for (int32_t id : promptIds)
      if (id >= ctx.engine->config().vocabSize)
        return fail(InvalidArgument("--prompt-ids: id " + std::to_string(id) + " is outside the vocabulary (" +
                                    std::to_string(ctx.engine->config().vocabSize) + " tokens)"));
    std::string promptText;
    return generateOne(gen, tok, promptIds, promptText, r, opts);
  }
  if (flags.given("--prompt")) {
    std::vector<int32_t> ids;
    if (Status s = encodePrompt(tok, ctx.engine->path(), r.prompt, &ids); !s.ok()) return fail(s);
    return generateOne(gen, tok, ids, r.prompt, r, opts);
  }
  // Interactive: one prompt per line on stdin, each answered in turn.
  bool tty = isatty(STDIN_FILENO);
  std::string line;
  while (true) {
    if (tty) std::fprintf(stderr, "> ");
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    std::vector<int32_t> ids;
    if (tok) {
      if (Status s = encodePrompt(tok, ctx.engine->path(), line, &ids); !s.ok()) return fail(s);
    } else if (Status s = parseIdList("stdin", line, &ids); !s.ok()) {
      return fail(s);
    }
    std::string echo;  // the user typed the prompt already: print only the continuation
    if (int rc = generateOne(gen, tok, ids, echo, r, opts); rc != 0) return rc;
  }
  return 0;
}

}  // namespace llmc::cli

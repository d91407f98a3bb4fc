// BenchCommand.cpp - `llmc bench ENGINE`: prefill and decode speed against the device's own limits.
//
// First measures the device (read bandwidth, GEMM rate) through the backend, then runs a synthetic
// prompt of --prompt-len ids and --gen greedy tokens per sequence (EOS ignored) and reports TTFT,
// prefill tokens/s and TFLOP/s, decode tokens/s, ms/token, achieved GB/s and % of the bandwidth
// speed of light (SOL = bytes one decode step must read: every weight once + the KV cache read).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "Commands.h"
#include "Flags.h"
#include "Report.h"
#include "RunSetup.h"
#include "llmc/runtime/Generator.h"

namespace llmc::cli {
namespace {

struct Figures {
  double weightBytes = 0, kvBytesPerStep = 0, ttftMs = 0, prefillTokPerSec = 0, prefillTflops = 0;
  double decodeTokPerSec = 0, msPerToken = 0, achievedGBs = 0, solTokPerSec = 0, pctSol = 0;
};

// Bytes of KV cache one decode step reads on average: every layer's K and V for the mean context.
double kvBytesPerDecodeStep(const Engine& e, int promptLen, int gen, int batch) {
  double bytesPerToken = 0;
  double elem = e.config().dtype == "f32" ? 4 : 2;
  for (const auto& l : e.program().kvLayers) bytesPerToken += 2.0 * l.numKvHeads * l.headDim * elem;
  return bytesPerToken * (promptLen + gen / 2.0) * batch;
}

}  // namespace

int runBench(const Args& args) {
  Flags flags;
  SetupFlags setup;
  int64_t promptLen = 128, gen = 256, batch = 1, warmup = 1;
  bool asJson = false, help = false;
  flags.addInt("--prompt-len", &promptLen, 1, 1 << 20, "prompt tokens per sequence (default 128)");
  flags.addInt("--gen", &gen, 1, 1 << 20, "tokens generated per sequence (default 256)");
  flags.addInt("--batch", &batch, 1, 4096, "sequences decoded together (default 1)");
  flags.addInt("--warmup", &warmup, 0, 100, "untimed runs first (default 1)");
  flags.addBool("--json", &asJson, "print one JSON object");
  declareSetupFlags(flags, setup);
  flags.addBool("--help,-h", &help, "show this help");
  if (Status s = flags.parse(args); !s.ok()) return fail(s);
  if (help) return printHelp("usage: llmc bench ENGINE [--prompt-len N] [--gen N] [--batch N] [--json]", flags.help());
  if (flags.positionals().size() != 1) return fail(InvalidArgument("bench takes one engine file"));
  if (Status s = checkSetupFlags(setup); !s.ok()) return fail(s);
  if (!flags.given("--max-batch-tokens")) setup.maxBatchTokens = std::max<int64_t>(promptLen * batch, 512);
  if (!flags.given("--max-sequences")) setup.maxSequences = batch;

  auto loaded = loadForRun(flags.positionals()[0], setup);
  if (!loaded.ok()) return fail(loaded.status());
  RunContext& ctx = *loaded;
  const Engine& engine = *ctx.engine;
  if (promptLen + gen > engine.config().maxPosition)
    return fail(InvalidArgument("--prompt-len + --gen = " + std::to_string(promptLen + gen) +
                                " exceeds the model's max_position " + std::to_string(engine.config().maxPosition)));

  auto limits = ctx.executor->backend().measureLimits();
  if (!limits.ok()) return fail(limits.status());

  // Synthetic prompts: ids spread over the vocabulary, different per sequence.
  std::vector<std::vector<int32_t>> prompts(batch);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < promptLen; ++i)
      prompts[b].push_back(static_cast<int32_t>((i * 7919 + b * 104729 + 17) % engine.config().vocabSize));
  GenerationOptions opts;
  opts.maxNewTokens = static_cast<int>(gen);
  opts.ignoreEos = true;
  Generator generator(*ctx.executor, nullptr);
  GenerationStats stats;
  for (int64_t run = 0; run <= warmup; ++run) {
    auto res = generator.generateBatch(prompts, opts);
    if (!res.ok()) return fail(res.status());
    stats = (*res)[0].stats;
  }

  Figures f;
  for (const auto& w : engine.weights()) f.weightBytes += static_cast<double>(w.nbytes);
  f.kvBytesPerStep = kvBytesPerDecodeStep(engine, static_cast<int>(promptLen), static_cast<int>(gen), static_cast<int>(batch));
  f.ttftMs = stats.prefillMs;
  f.prefillTokPerSec = stats.prefillTokensPerSec();
  // 2 FLOPs per weight element per token (the GEMMs dominate prefill).
  double weightElems = 0;
  for (const auto& w : engine.weights()) weightElems += static_cast<double>(w.numel());
  f.prefillTflops = 2.0 * weightElems * stats.promptTokens / (stats.prefillMs / 1000.0) / 1e12;
  double steps = stats.decodeSteps > 0 ? stats.decodeSteps : 1;
  double stepSec = stats.decodeMs / 1000.0 / steps;
  f.decodeTokPerSec = stats.decodeTokensPerSec();
  f.msPerToken = stepSec * 1000.0;
  double bytesPerStep = f.weightBytes + f.kvBytesPerStep;
  f.achievedGBs = bytesPerStep / stepSec / 1e9;
  double solStepSec = bytesPerStep / limits->readBytesPerSec;
  f.solTokPerSec = batch / solStepSec;
  f.pctSol = 100.0 * solStepSec / stepSec;

  nlohmann::json j = {
      {"device", limits->deviceName},
      {"backend", ctx.executor->backend().name()},
      {"read_bandwidth_GBs", limits->readBytesPerSec / 1e9},
      {"gemm_TFLOPs", limits->gemmFlopsPerSec / 1e12},
      {"model", engine.config().architecture},
      {"dtype", engine.config().dtype},
      {"weight_bytes", f.weightBytes},
      {"prompt_len", promptLen},
      {"gen", gen},
      {"batch", batch},
      {"ttft_ms", f.ttftMs},
      {"prefill_tokens_per_s", f.prefillTokPerSec},
      {"prefill_TFLOPs", f.prefillTflops},
      {"prefill_pct_of_gemm", limits->gemmFlopsPerSec > 0 ? 100.0 * f.prefillTflops * 1e12 / limits->gemmFlopsPerSec : 0.0},
      {"decode_tokens_per_s", f.decodeTokPerSec},
      {"ms_per_token", f.msPerToken},
      {"achieved_GBs", f.achievedGBs},
      {"sol_tokens_per_s", f.solTokPerSec},
      {"pct_of_sol", f.pctSol},
  };
  if (asJson) {
    std::printf("%s\n", j.dump(1).c_str());
    return 0;
  }
  std::printf("device    %s (%s backend): read %.0f GB/s, GEMM %.1f TFLOP/s\n", limits->deviceName.c_str(),
              ctx.executor->backend().name().c_str(), limits->readBytesPerSec / 1e9, limits->gemmFlopsPerSec / 1e12);
  std::printf("engine    %s %s, %.2f GB of weights; prompt %lld, gen %lld, batch %lld\n",
              engine.config().architecture.c_str(), engine.config().dtype.c_str(), f.weightBytes / 1e9,
              (long long)promptLen, (long long)gen, (long long)batch);
  std::printf("prefill   TTFT %.2f ms, %.0f tokens/s, %.1f TFLOP/s\n", f.ttftMs, f.prefillTokPerSec, f.prefillTflops);
  std::printf("decode    %.1f tokens/s, %.3f ms/step, %.0f GB/s achieved = %.1f%% of SOL (%.1f tokens/s)\n",
              f.decodeTokPerSec, f.msPerToken, f.achievedGBs, f.pctSol, f.solTokPerSec);
  return 0;
}

}  // namespace llmc::cli

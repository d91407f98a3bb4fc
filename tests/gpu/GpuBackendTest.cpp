// GpuBackendTest.cpp - CudaBackend end to end on tiny random Llama engines (label `gpu`).
//
// Engines come from the runtime tests' TinyLlama (meta, program, weights as docs/design.md
// specifies) plus kernel sections compiled here by the real codegen for this device. Logits are
// compared with TinyLlama's independent float64 forward pass (referenceLogits), which knows
// nothing of programs, memory plans or backends. Covered: prefill through cuBLASLt (T > 8) and
// through GEMV (chunks of <= 8), decode (CUDA graphs after the first step of a batch size), several
// sequences per step, fused and unfused programs, aliasing memory plans, GQA, sliding window,
// partial and interleaved rope, tied embeddings, f32 / bf16, copyBlock, PTX-only engines, and the
// errors for engines without kernels, the decode-ablation diagnostic. Also, without a device:
// kernel-section selection and the ablation list parser.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "CudaBackend.h"
#include "DecodeAblation.h"
#include "GpuEngineUtil.h"
#include "GpuTestUtil.h"
#include "KernelLibrary.h"
#include "TinyLlama.h"
#include "llmc/runtime/Engine.h"
#include "llmc/runtime/Executor.h"
#include "llmc/runtime/Generator.h"

namespace llmc::gputest {
namespace {

using nlohmann::json;

struct Loaded {
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Backend> backend;
};

// configure: backend settings applied before prepare() (the launch-overlap knobs, say).
Loaded load(const std::string& path, const BackendOptions& opts, bool graphs = true, bool pdl = true,
            const std::function<void(cuda::CudaBackend&)>& configure = nullptr) {
  Loaded l;
  auto e = Engine::load(path);
  EXPECT_TRUE(e.ok()) << e.status().message();
  if (!e.ok()) return l;
  l.engine = std::move(e).value();
  auto b = createCudaBackend();
  EXPECT_TRUE(b.ok()) << b.status().message();
  if (!b.ok()) return l;
  l.backend = std::move(b).value();
  static_cast<cuda::CudaBackend*>(l.backend.get())->setGraphsEnabled(graphs);
  static_cast<cuda::CudaBackend*>(l.backend.get())->setPdlEnabled(pdl);
  if (configure) configure(*static_cast<cuda::CudaBackend*>(l.backend.get()));
  const Status s = l.backend->prepare(*l.engine, opts);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) l.backend.reset();
  return l;
}

// A fused bf16 model small enough to build in a second, with GQA and head_dim 64.
test::TinyLlamaConfig smallBf16Config() {
  test::TinyLlamaConfig c;
  c.fused = true;
  c.dtype = engine::DType::kBF16;
  c.hidden = 256;
  c.headDim = 64;
  c.heads = 4;
  c.kvHeads = 2;
  c.inter = 344;
  return c;
}

BackendOptions smallOptions() {
  BackendOptions o;
  o.maxBatchTokens = 64;
  o.maxSequences = 4;
  o.kvBlockSize = 16;
  o.kvBlocks = 64;
  return o;
}

std::vector<int32_t> randomTokens(std::mt19937& rng, int n, int vocab) {
  std::uniform_int_distribution<int> d(0, vocab - 1);
  std::vector<int32_t> t(n);
  for (int32_t& x : t) x = d(rng);
  return t;
}

// Blocks [first, first + n) for one sequence.
std::vector<int32_t> blocks(int first, int n) {
  std::vector<int32_t> b(n);
  for (int i = 0; i < n; ++i) b[i] = first + i;
  return b;
}

struct Variant {
  const char* name;
  test::TinyLlamaConfig cfg;
  double tol;  // relative L2 error of a logits row
};

std::vector<Variant> variants() {
  std::vector<Variant> v;
  test::TinyLlamaConfig c;
  v.push_back({"f32_unfused_gqa", c, 1e-4});
  c.fused = true;
  c.reuseInputs = true;
  v.push_back({"f32_fused_aliasing", c, 1e-4});
  test::TinyLlamaConfig w;
  w.fused = true;
  w.slidingWindow = 7;
  w.interleaved = true;
  w.rotaryDim = 4;
  w.tieEmbeddings = true;
  w.heads = 4;
  w.kvHeads = 1;
  v.push_back({"f32_window_interleaved_partial_rope_mqa_tied", w, 1e-4});
  test::TinyLlamaConfig b = smallBf16Config();
  b.vocab = 300;
  v.push_back({"bf16_fused_hd64", b, 2e-2});
  return v;
}

class BackendTest : public ::testing::TestWithParam<Variant> {};

// Prefill in one step (cuBLASLt) and in chunks (GEMV), then greedy-free decode along a fixed token
// sequence, single and batched; every logits row against the float64 forward of the same prefix.
TEST_P(BackendTest, MatchesFloat64Forward) {
  LLMC_REQUIRE_GPU();
  const Variant v = GetParam();
  const test::TinyLlama model = test::makeTinyLlama(v.cfg);
  const std::string path = tempEnginePath(std::string(v.name) + ".engine");
  ASSERT_OK(writeTinyCudaEngine(model, path, {deviceArchName()}));
  Loaded l = load(path, smallOptions());
  ASSERT_TRUE(l.backend);
  EXPECT_EQ(static_cast<cuda::CudaBackend*>(l.backend.get())->kernelSection(), "kernels." + deviceArchName());
  // 16-bit caches with head_dim 64 / 128 prefill on the tensor cores.
  EXPECT_EQ(static_cast<cuda::CudaBackend*>(l.backend.get())->usesPrefillTc(),
            cuda::prefillTcSupported(v.cfg.dtype, v.cfg.headDim));

  std::mt19937 rng(99);
  const int prompt = 20, decode = 12, vocab = v.cfg.vocab;
  const std::vector<int32_t> tokA = randomTokens(rng, prompt + decode, vocab);
  const std::vector<int32_t> tokB = randomTokens(rng, prompt + decode, vocab);
  const auto refA = test::referenceLogits(model, tokA);
  const auto refB = test::referenceLogits(model, tokB);
  auto row = [&](const std::vector<float>& logits, int i) {
    return std::vector<float>(logits.begin() + static_cast<size_t>(i) * vocab, logits.begin() + static_cast<size_t>(i + 1) * vocab);
  };

  // Sequence A: the prompt in one step (T = 20 > 8: cuBLASLt). Blocks 0..3.
  StepBatch batch;
  std::vector<float> logits;
  batch.tokens.assign(tokA.begin(), tokA.begin() + prompt);
  batch.sequences = {SequenceSlice{0, prompt, 0, blocks(0, 4)}};
  ASSERT_OK(l.backend->forward(batch, &logits));
  EXPECT_LT(relError(logits, refA[prompt - 1]), v.tol) << "prefill A";

  // Sequence B: the prompt in chunks of 7, 7, 6 (GEMV with M = 7, 6). Blocks 8..11.
  for (int begin = 0; begin < prompt; begin += 7) {
    const int n = std::min(7, prompt - begin);
    batch.tokens.assign(tokB.begin() + begin, tokB.begin() + begin + n);
    batch.sequences = {SequenceSlice{0, n, begin, blocks(8, 4)}};
    ASSERT_OK(l.backend->forward(batch, &logits));
    EXPECT_LT(relError(logits, refB[begin + n - 1]), v.tol) << "chunked prefill B at " << begin;
  }

  // Decode: A alone for a few steps (batch size 1: eager, then graph), then A and B together.
  int posA = prompt, posB = prompt;
  for (int i = 0; i < 4; ++i, ++posA) {
    batch.tokens = {tokA[posA]};
    batch.sequences = {SequenceSlice{0, 1, posA, blocks(0, 4)}};
    ASSERT_OK(l.backend->forward(batch, &logits));
    EXPECT_LT(relError(logits, refA[posA]), v.tol) << "decode A at " << posA;
  }
  for (; posA < prompt + decode; ++posA, ++posB) {
    batch.tokens = {tokA[posA], tokB[posB]};
    batch.sequences = {SequenceSlice{0, 1, posA, blocks(0, 4)}, SequenceSlice{1, 1, posB, blocks(8, 4)}};
    ASSERT_OK(l.backend->forward(batch, &logits));
    ASSERT_EQ(logits.size(), 2u * vocab);
    EXPECT_LT(relError(row(logits, 0), refA[posA]), v.tol) << "batched decode A at " << posA;
    EXPECT_LT(relError(row(logits, 1), refB[posB]), v.tol) << "batched decode B at " << posB;
  }
  std::filesystem::remove(path);
}

INSTANTIATE_TEST_SUITE_P(Models, BackendTest, ::testing::ValuesIn(variants()),
                         [](const ::testing::TestParamInfo<Variant>& i) { return std::string(i.param.name); });

// The decode graph replays exactly what direct launches compute.
TEST(GpuBackend, GraphsMatchDirectLaunches) {
  LLMC_REQUIRE_GPU();
  test::TinyLlamaConfig c;
  c.fused = true;
  const test::TinyLlama model = test::makeTinyLlama(c);
  const std::string path = tempEnginePath("graphs.engine");
  ASSERT_OK(writeTinyCudaEngine(model, path, {deviceArchName()}));
  Loaded withGraphs = load(path, smallOptions(), true), direct = load(path, smallOptions(), false);
  ASSERT_TRUE(withGraphs.backend && direct.backend);
  std::mt19937 rng(5);
  const std::vector<int32_t> toks = randomTokens(rng, 40, c.vocab);
  StepBatch batch;
  for (int pos = 0; pos < 40; ++pos) {
    batch.tokens = {toks[pos]};
    batch.sequences = {SequenceSlice{0, 1, pos, blocks(0, 3)}};
    std::vector<float> a, b;
    ASSERT_OK(withGraphs.backend->forward(batch, &a));
    ASSERT_OK(direct.backend->forward(batch, &b));
    ASSERT_EQ(a, b) << "position " << pos;
  }
  std::filesystem::remove(path);
}

// Programmatic dependent launch (sm_90+) changes only when kernels start, never what they compute:
// a kernel that read its predecessor's output before griddepcontrol.wait would show up here. The
// same for the overlap knobs on top of it: dependents released before the wait (a kernel that let
// its successor read too early would differ), and decode attention with its extra L2 prefetch
// blocks (an attention block misrouted to prefetching, or a shifted arrival counter, would differ)
// and its own K/V rows prefetched into L2 (a wrong row address would fault here).
void checkPdlAndOverlapKnobs(const test::TinyLlamaConfig& c) {
  const test::TinyLlama model = test::makeTinyLlama(c);
  const std::string path = tempEnginePath("pdl.engine");
  ASSERT_OK(writeTinyCudaEngine(model, path, {deviceArchName()}));
  Loaded pdl = load(path, smallOptions(), true, true), plain = load(path, smallOptions(), true, false);
  Loaded overlap = load(path, smallOptions(), true, true, [](cuda::CudaBackend& b) {
    b.setEarlyTriggerEnabled(true);
    b.setL2PrefetchMb(1024);  // all of each o_proj weight
    b.setEarlyNormParts(true);
    b.setGemvL2Tails(cuda::kAblateAttention | cuda::kAblateQkv | cuda::kAblateOProj | cuda::kAblateGateUp |
                     cuda::kAblateDown);
    b.setGemvPair(0);  // QKV one row per warp (the default is two): the same sums
    b.setAttentionL2Ahead(64);  // decode attention's K/V rows asked of L2 before its wait
  });
  // Decode attention merging its splits inside thread-block clusters (LLMC_CUDA_ATTN_CLUSTER=1;
  // sm_90). It cuts the split count to the cluster size, so the softmax merges in another grouping:
  // equal to f32 rounding here (bit-identical at the same split count: GpuAttentionTest).
  Loaded clustered = load(path, smallOptions(), true, true,
                          [](cuda::CudaBackend& b) { b.setAttentionClusterEnabled(true); });
  // Every decode kernel kind releasing its dependents only as its blocks exit; with the L2 prefetch
  // of o_proj's row tails (f32 hidden 2048: 4 KB of each 8 KB row) and QKV three rows per warp
  // (f32 hidden 2048: 3072 rows; bf16 hidden 256 has 512, not a multiple of 12: the pair there).
  Loaded atExit = load(path, smallOptions(), true, true, [](cuda::CudaBackend& b) {
    b.setL2PrefetchTails(true);
    b.setGemvTriple(cuda::kAblateQkv);
    b.setTriggerAtExit(cuda::kAblateAttention | cuda::kAblateQkv | cuda::kAblateOProj | cuda::kAblateGateUp |
                       cuda::kAblateDown);
  });
  // o_proj and down two rows per warp with the folded norm's epilogue (LLMC_CUDA_GEMV_PAIR=
  // qkv,o_proj,down): the same rows, but each norm partial covers 8 rows instead of 4, so the
  // consumers' inv sums the squares in another grouping: equal to f32 rounding.
  Loaded pairs = load(path, smallOptions(), true, true, [](cuda::CudaBackend& b) {
    b.setGemvPair(cuda::kAblateQkv | cuda::kAblateOProj | cuda::kAblateDown);
  });
  ASSERT_TRUE(pdl.backend && plain.backend && overlap.backend && clustered.backend && atExit.backend && pairs.backend);
  std::printf("PDL %s on this device\n", static_cast<cuda::CudaBackend*>(pdl.backend.get())->pdlEnabled() ? "enabled" : "not available");
  std::mt19937 rng(12);
  const std::vector<int32_t> toks = randomTokens(rng, 60, c.vocab);
  StepBatch batch;
  std::vector<float> a, b;
  batch.tokens.assign(toks.begin(), toks.begin() + 20);
  batch.sequences = {SequenceSlice{0, 20, 0, blocks(0, 4)}};
  std::vector<float> o, cl, ex, pr;
  // Every configuration runs the prefill too: its KV cache is what the decode steps read.
  ASSERT_OK(pdl.backend->forward(batch, &a));
  ASSERT_OK(plain.backend->forward(batch, &b));
  ASSERT_OK(overlap.backend->forward(batch, &o));
  ASSERT_OK(clustered.backend->forward(batch, &cl));
  ASSERT_OK(atExit.backend->forward(batch, &ex));
  ASSERT_OK(pairs.backend->forward(batch, &pr));
  EXPECT_EQ(a, b) << "prefill";
  EXPECT_EQ(pr, b) << "prefill, o_proj and down pairs (decode only)";
  EXPECT_EQ(cl, b) << "prefill, attention clusters";
  EXPECT_EQ(o, b) << "prefill, overlap knobs";
  EXPECT_EQ(ex, b) << "prefill, dependents launched at exit";
  ASSERT_FALSE(::testing::Test::HasFailure());
  for (int pos = 20; pos < 60; ++pos) {
    batch.tokens = {toks[pos]};
    batch.sequences = {SequenceSlice{0, 1, pos, blocks(0, 4)}};
    ASSERT_OK(pdl.backend->forward(batch, &a));
    ASSERT_OK(plain.backend->forward(batch, &b));
    ASSERT_OK(overlap.backend->forward(batch, &o));
    ASSERT_OK(clustered.backend->forward(batch, &cl));
    ASSERT_OK(atExit.backend->forward(batch, &ex));
    ASSERT_OK(pairs.backend->forward(batch, &pr));
    // EXPECT, then stop at the first failing position: every configuration is checked there.
    EXPECT_EQ(a, b) << "decode at " << pos;
    EXPECT_EQ(ex, b) << "decode at " << pos << ", dependents launched at exit";
    EXPECT_LT(relError(cl, std::vector<double>(b.begin(), b.end())), 1e-4) << "decode at " << pos << ", attention clusters";
    EXPECT_EQ(o, b) << "decode at " << pos << ", overlap knobs";
    EXPECT_LT(relError(pr, std::vector<double>(b.begin(), b.end())), 1e-4) << "decode at " << pos << ", o_proj and down pairs";
    ASSERT_FALSE(::testing::Test::HasFailure());
  }
  std::filesystem::remove(path);
}

TEST(GpuBackend, PdlMatchesPlainLaunches) {
  LLMC_REQUIRE_GPU();
  test::TinyLlamaConfig c = smallBf16Config();
  {
    SCOPED_TRACE("bf16 hidden 256");
    checkPdlAndOverlapKnobs(c);
  }
  // f32, hidden 2048, inter 1024: the GEMVs' pipelined vector path over several rounds.
  c.dtype = engine::DType::kF32;
  c.hidden = 2048;
  c.headDim = 128;
  c.heads = 16;
  c.kvHeads = 4;
  c.inter = 1024;
  c.layers = 1;
  SCOPED_TRACE("f32 hidden 2048");
  checkPdlAndOverlapKnobs(c);
}

// Long prompts in 64-token chunks (several query and key tiles per chunk, chunk starts that are
// multiples of 64 and one that is not), bf16 head_dim 128 with GQA and a sliding window: the
// tensor-core prefill against the float64 forward, and against the FP32 prefill kernel.
TEST(GpuBackend, LongChunkedPrefillOnTensorCores) {
  LLMC_REQUIRE_GPU();
  for (int window : {0, 70}) {
    test::TinyLlamaConfig c;
    c.fused = true;
    c.dtype = engine::DType::kBF16;
    c.hidden = 512;
    c.heads = 4;
    c.kvHeads = 2;
    c.headDim = 128;
    c.inter = 256;
    c.vocab = 200;
    c.maxPos = 400;
    c.slidingWindow = window;
    const test::TinyLlama model = test::makeTinyLlama(c);
    const std::string path = tempEnginePath("long-prefill.engine");
    ASSERT_OK(writeTinyCudaEngine(model, path, {deviceArchName()}));
    BackendOptions o = smallOptions();
    o.kvBlocks = 128;
    Loaded tc = load(path, o);
    ASSERT_TRUE(tc.backend);
    EXPECT_TRUE(static_cast<cuda::CudaBackend*>(tc.backend.get())->usesPrefillTc());
    auto plainBackend = createCudaBackend();
    ASSERT_TRUE(plainBackend.ok());
    static_cast<cuda::CudaBackend*>(plainBackend->get())->setPrefillTcEnabled(false);
    ASSERT_OK((*plainBackend)->prepare(*tc.engine, o));
    EXPECT_FALSE(static_cast<cuda::CudaBackend*>(plainBackend->get())->usesPrefillTc());
    std::mt19937 rng(17);
    const int n = 300;
    const std::vector<int32_t> toks = randomTokens(rng, n, c.vocab);
    const auto ref = test::referenceLogits(model, toks);
    StepBatch batch;
    std::vector<float> a, b;
    for (int begin : {0, 64, 128, 192, 250}) {  // the last chunk starts at 250 (not a multiple of 64)
      const int end = begin == 192 ? 250 : std::min(n, begin + 64);
      batch.tokens.assign(toks.begin() + begin, toks.begin() + end);
      batch.sequences = {SequenceSlice{0, end - begin, begin, blocks(0, (n + 15) / 16)}};
      ASSERT_OK(tc.backend->forward(batch, &a));
      ASSERT_OK((*plainBackend)->forward(batch, &b));
      EXPECT_LT(relError(a, ref[end - 1]), 2e-2) << "window " << window << " chunk at " << begin;
      std::vector<double> bd(b.begin(), b.end());
      EXPECT_LT(relError(a, bd), 2e-2) << "tensor-core vs FP32 prefill, window " << window << " chunk at " << begin;
    }
    std::filesystem::remove(path);
  }
}

// The 16-bit hand-off (Handoff.cpp): in a bf16 engine's prefill the norms, attention and GLU
// write their outputs bf16 for cuBLASLt, the qkv and gate/up projections write bf16 for the KV
// write and the GLU. Logits with and without it agree with the float64 forward (and each other);
// decode steps (GEMV) are untouched: bit-identical logits. An f32 engine hands nothing off.
TEST(GpuBackend, HandoffMatchesF32Activations) {
  LLMC_REQUIRE_GPU();
  for (const Variant& v : variants()) {
    const test::TinyLlama model = test::makeTinyLlama(v.cfg);
    const std::string path = tempEnginePath(std::string("handoff-") + v.name + ".engine");
    ASSERT_OK(writeTinyCudaEngine(model, path, {deviceArchName()}));
    auto e = Engine::load(path);
    ASSERT_TRUE(e.ok()) << e.status().message();
    std::unique_ptr<Backend> with, without;
    for (int on = 0; on < 2; ++on) {
      auto b = createCudaBackend();
      ASSERT_TRUE(b.ok());
      static_cast<cuda::CudaBackend*>(b->get())->setHandoffEnabled(on == 1);
      ASSERT_OK((*b)->prepare(**e, smallOptions()));
      (on ? with : without) = std::move(*b);
    }
    const int handed = static_cast<cuda::CudaBackend*>(with.get())->handoffValues();
    EXPECT_EQ(static_cast<cuda::CudaBackend*>(without.get())->handoffValues(), 0);
    if (v.cfg.dtype == engine::DType::kF32) {
      EXPECT_EQ(handed, 0) << v.name;
    } else {
      // Per layer: normed -> qkv, qkv -> attention, attention -> o, normed -> gate_up, gate_up -> glu, glu -> down.
      EXPECT_GE(handed, 6 * v.cfg.layers) << v.name;
    }
    std::mt19937 rng(55);
    const std::vector<int32_t> toks = randomTokens(rng, 40, v.cfg.vocab);
    const auto ref = test::referenceLogits(model, toks);
    StepBatch batch;
    std::vector<float> a, b;
    batch.tokens.assign(toks.begin(), toks.begin() + 30);  // 30 > 8 tokens: cuBLASLt, hand-off on
    batch.sequences = {SequenceSlice{0, 30, 0, blocks(0, 4)}};
    ASSERT_OK(with->forward(batch, &a));
    ASSERT_OK(without->forward(batch, &b));
    EXPECT_LT(relError(a, ref[29]), v.tol) << v.name << " with hand-off";
    EXPECT_LT(relError(b, ref[29]), v.tol) << v.name << " without";
    for (int pos = 30; pos < 40; ++pos) {
      batch.tokens = {toks[pos]};
      batch.sequences = {SequenceSlice{0, 1, pos, blocks(0, 4)}};
      ASSERT_OK(with->forward(batch, &a));
      ASSERT_OK(without->forward(batch, &b));
      EXPECT_LT(relError(a, ref[pos]), v.tol) << v.name << " decode at " << pos;
      if (v.cfg.dtype == engine::DType::kF32) EXPECT_EQ(a, b) << v.name << " decode at " << pos;
    }
    std::filesystem::remove(path);
  }
}

// The decode-step fusions (docs/cuda.md, "Decode fusions") against the unfused path on the same
// engine: the whole TinyLlama decode, batch 1 (eager, then the graph) and batch 2, every variant
// (f32 / bf16, fused / unfused programs, aliasing memory plans, GQA / MQA, windows), plus a
// 5-token GEMV step. The fused split combine does the unfused combine's arithmetic on the same
// partials, and the GLU-fused GEMV computes the same gate/up sums and activation as GEMV + glu:
// with those two on, bit-identical logits. The rope inside the decode attention does
// rope_kv_write's arithmetic in another kernel (the compiler may contract it differently): equal to
// f32 rounding. Every path also agrees with the float64 forward.
struct Fusions {
  bool attn = true;
  bool glu = true;
  bool rope = true;
  bool norm = true;
};
// Pairs whose glu output the memory plan puts over the gate/up linear's input (read from the
// program JSON here): the backend must move exactly those out of the arena for fused steps.
int gluOverX(const json& p) {
  int n = 0;
  for (const cuda::GluFusion& f : cuda::findGluFusions(p)) {
    const json& x = p["values"][p["steps"][f.linear]["in"][0].get<int>()];
    const json& h = p["values"][p["steps"][f.glu]["out"][0].get<int>()];
    const int64_t xo = x["offset"], xw = x["width"], ho = h["offset"], hw = h["width"];
    n += ho < xo + xw && xo < ho + hw;
  }
  return n;
}
int gluOverX(const test::TinyLlama& model) { return gluOverX(json::parse(model.programJson())); }

// The model's program with every GLU-fused output moved to fresh space at the end of the arena
// (overlapping nothing: still a valid plan), so the backend keeps them in place.
std::string gluApartProgram(const test::TinyLlama& model) {
  json p = json::parse(model.programJson());
  int64_t arena = p["arena_per_token"];
  for (const cuda::GluFusion& f : cuda::findGluFusions(p)) {
    json& h = p["values"][p["steps"][f.glu]["out"][0].get<int>()];
    h["offset"] = arena;
    arena += h["width"].get<int64_t>();
  }
  p["arena_per_token"] = arena;
  return p.dump();
}

std::unique_ptr<Backend> fusedBackend(const Engine& e, const Fusions& f) {
  auto b = createCudaBackend();
  EXPECT_TRUE(b.ok()) << b.status().message();
  if (!b.ok()) return nullptr;
  auto* cb = static_cast<cuda::CudaBackend*>(b->get());
  cb->setFusedAttentionEnabled(f.attn);
  cb->setFusedGluEnabled(f.glu);
  cb->setFusedRopeEnabled(f.rope);
  cb->setFusedNormEnabled(f.norm);
  const Status s = (*b)->prepare(e, smallOptions());
  EXPECT_TRUE(s.ok()) << s.message();
  return s.ok() ? std::move(*b) : nullptr;
}

// apart: the GLU outputs moved apart from the gate/up inputs (kept in the arena, not relocated);
// the TinyLlama plans put them over those inputs.
void checkFusions(const Variant& v, bool apart) {
  SCOPED_TRACE(apart ? "GLU outputs apart" : "GLU outputs over the gate/up input");
  const test::TinyLlama model = test::makeTinyLlama(v.cfg);
  const std::string path = tempEnginePath(std::string("fusions-") + v.name + ".engine");
  const std::string program = apart ? gluApartProgram(model) : model.programJson();
  ASSERT_OK(writeTinyCudaEngine(model, path, {deviceArchName()}, program));
  auto e = Engine::load(path);
  ASSERT_TRUE(e.ok()) << e.status().message();
  std::unique_ptr<Backend> fused = fusedBackend(**e, Fusions{}), plain = fusedBackend(**e, Fusions{false, false, false, false});
  // The fusions that reproduce the unfused sums bit for bit (the rope and the folded norm reorder
  // float operations; they are compared within a tolerance).
  std::unique_ptr<Backend> exact = fusedBackend(**e, Fusions{true, true, false, false});
  ASSERT_TRUE(fused && plain && exact);
  auto* fb = static_cast<cuda::CudaBackend*>(fused.get());
  EXPECT_TRUE(fb->fusedAttentionEnabled());
  // Fused programs have a gate/up linear + glu per layer; unfused ones (silu, mul) none.
  EXPECT_EQ(fb->fusedGluPairs(), v.cfg.fused ? v.cfg.layers : 0) << v.name;
  EXPECT_EQ(fb->relocatedGluOutputs(), gluOverX(json::parse(program))) << v.name;
  if (apart) EXPECT_EQ(fb->relocatedGluOutputs(), 0) << v.name;
  EXPECT_EQ(static_cast<cuda::CudaBackend*>(plain.get())->fusedGluPairs(), 0);
  // Fused programs have add_rms_norm after each layer's o_proj and down_proj (all but the last one
  // read by linears only); unfused ones (add, rms_norm) none.
  if (v.cfg.fused) EXPECT_GE(fb->fusedNormSites(), 2 * v.cfg.layers - 1) << v.name;
  else EXPECT_EQ(fb->fusedNormSites(), 0) << v.name;
  EXPECT_EQ(static_cast<cuda::CudaBackend*>(plain.get())->fusedNormSites(), 0);
  std::mt19937 rng(77);
  const int vocab = v.cfg.vocab;
  const std::vector<int32_t> a = randomTokens(rng, 40, vocab), b = randomTokens(rng, 40, vocab);
  const auto refA = test::referenceLogits(model, a), refB = test::referenceLogits(model, b);
  StepBatch batch;
  std::vector<float> x, y, z;
  const double ropeTol = v.cfg.dtype == engine::DType::kF32 ? 1e-5 : 2e-3;
  auto both = [&](const std::string& what) {
    ASSERT_OK(fused->forward(batch, &x));
    ASSERT_OK(plain->forward(batch, &y));
    ASSERT_OK(exact->forward(batch, &z));
    ASSERT_EQ(z, y) << v.name << " " << what << ": fused attention combine + GLU vs unfused";
    // (all fusions: the rope inside decode attention and the norm folded into the GEMVs)
    ASSERT_EQ(x.size(), y.size());
    EXPECT_LT(relError(x, std::vector<double>(y.begin(), y.end())), ropeTol) << v.name << " " << what << ": all fusions vs unfused";
  };
  batch.tokens.assign(a.begin(), a.begin() + 12);
  batch.tokens.insert(batch.tokens.end(), b.begin(), b.begin() + 3);
  batch.sequences = {SequenceSlice{0, 12, 0, blocks(0, 3)}, SequenceSlice{12, 3, 0, blocks(8, 3)}};
  both("prefill");
  // A 5-token step (GEMV path, the GLU-fused GEMV at M = 5, prefill attention).
  batch.tokens = {a[12], a[13], b[3], b[4], b[5]};
  batch.sequences = {SequenceSlice{0, 2, 12, blocks(0, 3)}, SequenceSlice{2, 3, 3, blocks(8, 3)}};
  both("gemv prefill");
  int pa = 14, pb = 6;
  for (; pa < 20; ++pa) {  // batch 1: eager, capture, replays
    batch.tokens = {a[pa]};
    batch.sequences = {SequenceSlice{0, 1, pa, blocks(0, 3)}};
    both("decode A at " + std::to_string(pa));
    EXPECT_LT(relError(x, refA[pa]), v.tol) << v.name << " decode A at " << pa;
  }
  for (; pa < 40; ++pa, ++pb) {  // batch 2, contexts of different lengths
    batch.tokens = {a[pa], b[pb]};
    batch.sequences = {SequenceSlice{0, 1, pa, blocks(0, 3)}, SequenceSlice{1, 1, pb, blocks(8, 3)}};
    both("batched decode at " + std::to_string(pa));
    std::vector<float> rowA(x.begin(), x.begin() + vocab), rowB(x.begin() + vocab, x.end());
    EXPECT_LT(relError(rowA, refA[pa]), v.tol) << v.name << " batched decode A at " << pa;
    EXPECT_LT(relError(rowB, refB[pb]), v.tol) << v.name << " batched decode B at " << pb;
  }
  std::filesystem::remove(path);
}

TEST(GpuBackend, DecodeFusionsMatchUnfusedPath) {
  LLMC_REQUIRE_GPU();
  for (const Variant& v : variants()) {
    checkFusions(v, false);
    if (v.cfg.fused) checkFusions(v, true);
  }
}

int32_t firstMax(const float* row, int vocab) {
  int32_t id = 0;
  for (int j = 1; j < vocab; ++j)
    if (row[j] > row[id]) id = j;
  return id;
}

// forwardArgmax (greedy tokens from the device) equals the host argmax of forward()'s logits for
// the same step: multi-sequence prefill (cuBLASLt and GEMV), decode eager and through its graph
// (batch 1 and 2), interleaved with logits steps of the same batch sizes (graphs per tail). A
// step repeated at the same positions rewrites the same KV entries, so the pairs see one state.
TEST(GpuBackend, ForwardArgmaxMatchesLogits) {
  LLMC_REQUIRE_GPU();
  for (const Variant& v : variants()) {
    const test::TinyLlama model = test::makeTinyLlama(v.cfg);
    const std::string path = tempEnginePath(std::string("argmax-") + v.name + ".engine");
    ASSERT_OK(writeTinyCudaEngine(model, path, {deviceArchName()}));
    Loaded l = load(path, smallOptions());
    ASSERT_TRUE(l.backend);
    const int vocab = v.cfg.vocab;
    std::mt19937 rng(123);
    const std::vector<int32_t> a = randomTokens(rng, 40, vocab), b = randomTokens(rng, 40, vocab);
    StepBatch batch;
    std::vector<float> logits;
    std::vector<int32_t> ids;
    auto check = [&](const std::string& what) {
      ASSERT_OK(l.backend->forward(batch, &logits));
      ASSERT_OK(l.backend->forwardArgmax(batch, &ids));
      ASSERT_EQ(ids.size(), batch.sequences.size()) << what;
      ASSERT_EQ(logits.size(), batch.sequences.size() * vocab) << what;
      for (size_t r = 0; r < ids.size(); ++r)
        EXPECT_EQ(ids[r], firstMax(&logits[r * vocab], vocab)) << v.name << " " << what << " row " << r;
    };
    // Prefill: A's 12 tokens and B's 5 in one step (17 > 8: cuBLASLt); then 3 more each (GEMV).
    batch.tokens.assign(a.begin(), a.begin() + 12);
    batch.tokens.insert(batch.tokens.end(), b.begin(), b.begin() + 5);
    batch.sequences = {SequenceSlice{0, 12, 0, blocks(0, 4)}, SequenceSlice{12, 5, 0, blocks(8, 4)}};
    check("prefill");
    batch.tokens = {a[12], a[13], a[14], b[5], b[6], b[7]};
    batch.sequences = {SequenceSlice{0, 3, 12, blocks(0, 4)}, SequenceSlice{3, 3, 5, blocks(8, 4)}};
    check("gemv prefill");
    int pa = 15, pb = 8;
    for (int i = 0; i < 5; ++i, ++pa) {
      batch.tokens = {a[pa]};
      batch.sequences = {SequenceSlice{0, 1, pa, blocks(0, 4)}};
      check("decode A at " + std::to_string(pa));
    }
    for (int i = 0; i < 5; ++i, ++pa, ++pb) {
      batch.tokens = {a[pa], b[pb]};
      batch.sequences = {SequenceSlice{0, 1, pa, blocks(0, 4)}, SequenceSlice{1, 1, pb, blocks(8, 4)}};
      check("batched decode at " + std::to_string(pa));
    }
    std::filesystem::remove(path);
  }
}

// The Generator's greedy decoding through the device argmax gives the tokens of host sampling.
TEST(GpuBackend, GeneratorDeviceArgmaxSameTokens) {
  LLMC_REQUIRE_GPU();
  const Variant v = variants().back();  // bf16
  const test::TinyLlama model = test::makeTinyLlama(v.cfg);
  const std::string path = tempEnginePath("gen-argmax.engine");
  ASSERT_OK(writeTinyCudaEngine(model, path, {deviceArchName()}));
  auto e = Engine::load(path);
  ASSERT_TRUE(e.ok()) << e.status().message();
  auto b = createCudaBackend();
  ASSERT_TRUE(b.ok()) << b.status().message();
  auto ex = Executor::create(**e, std::move(*b), smallOptions());
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  Generator gen(**ex);
  std::mt19937 rng(4);
  const std::vector<std::vector<int32_t>> prompts = {randomTokens(rng, 9, v.cfg.vocab), randomTokens(rng, 14, v.cfg.vocab)};
  GenerationOptions go;
  go.maxNewTokens = 20;
  go.ignoreEos = true;
  go.backendArgmax = false;
  auto host = gen.generateBatch(prompts, go);
  ASSERT_TRUE(host.ok()) << host.status().message();
  go.backendArgmax = true;
  auto device = gen.generateBatch(prompts, go);
  ASSERT_TRUE(device.ok()) << device.status().message();
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ((*device)[i].tokens, (*host)[i].tokens) << "sequence " << i;
  std::filesystem::remove(path);
}

// measureLimits (what `llmc bench --device cuda` reports): plausible figures, and the engine's state
// (KV cache, arena, decode graphs) is the same afterwards: logits stay bit-identical to those of a
// backend that never measured.
TEST(GpuBackend, MeasureLimitsLeavesTheEngineAlone) {
  LLMC_REQUIRE_GPU();
  test::TinyLlamaConfig c = smallBf16Config();
  const test::TinyLlama model = test::makeTinyLlama(c);
  const std::string path = tempEnginePath("limits.engine");
  ASSERT_OK(writeTinyCudaEngine(model, path, {deviceArchName()}));
  Loaded measured = load(path, smallOptions()), plain = load(path, smallOptions());
  ASSERT_TRUE(measured.backend && plain.backend);
  std::mt19937 rng(31);
  const std::vector<int32_t> toks = randomTokens(rng, 40, c.vocab);
  StepBatch batch;
  std::vector<float> a, b;
  batch.tokens.assign(toks.begin(), toks.begin() + 20);
  batch.sequences = {SequenceSlice{0, 20, 0, blocks(0, 4)}};
  ASSERT_OK(measured.backend->forward(batch, &a));
  ASSERT_OK(plain.backend->forward(batch, &b));
  for (int pos = 20; pos < 40; ++pos) {
    if (pos == 24) {  // after the decode graph of batch size 1 exists
      auto limits = measured.backend->measureLimits();
      ASSERT_TRUE(limits.ok()) << limits.status().message();
      std::printf("%s: read %.0f GB/s, bf16 GEMM %.1f TFLOP/s\n", limits->deviceName.c_str(), limits->readBytesPerSec / 1e9,
                  limits->gemmFlopsPerSec / 1e12);
      EXPECT_FALSE(limits->deviceName.empty());
      EXPECT_GT(limits->readBytesPerSec, 50e9);    // slower than any GPU's HBM/GDDR: L2 or timing broken
      EXPECT_LT(limits->readBytesPerSec, 20e12);   // faster than any HBM: the reads were not done
      EXPECT_GT(limits->gemmFlopsPerSec, 5e12);
      EXPECT_LT(limits->gemmFlopsPerSec, 5e15);
    }
    batch.tokens = {toks[pos]};
    batch.sequences = {SequenceSlice{0, 1, pos, blocks(0, 4)}};
    ASSERT_OK(measured.backend->forward(batch, &a));
    ASSERT_OK(plain.backend->forward(batch, &b));
    ASSERT_EQ(a, b) << "decode at " << pos;
  }
  std::filesystem::remove(path);
}

// copyBlock: a sequence continued from a copy of another's blocks behaves like the original.
TEST(GpuBackend, CopyBlockForksAPrefix) {
  LLMC_REQUIRE_GPU();
  test::TinyLlamaConfig c;
  const test::TinyLlama model = test::makeTinyLlama(c);
  const std::string path = tempEnginePath("fork.engine");
  ASSERT_OK(writeTinyCudaEngine(model, path, {deviceArchName()}));
  Loaded l = load(path, smallOptions());
  ASSERT_TRUE(l.backend);
  std::mt19937 rng(8);
  const std::vector<int32_t> toks = randomTokens(rng, 21, c.vocab);
  const auto ref = test::referenceLogits(model, toks);
  StepBatch batch;
  std::vector<float> logits;
  batch.tokens.assign(toks.begin(), toks.begin() + 20);  // 20 tokens: blocks 0 (full) and 1 (partial)
  batch.sequences = {SequenceSlice{0, 20, 0, {0, 1}}};
  ASSERT_OK(l.backend->forward(batch, &logits));
  ASSERT_OK(l.backend->copyBlock(1, 9));  // the partial block is copied before the fork writes into it
  batch.tokens = {toks[20]};
  batch.sequences = {SequenceSlice{0, 1, 20, {0, 9}}};
  ASSERT_OK(l.backend->forward(batch, &logits));
  EXPECT_LT(relError(logits, ref[20]), 1e-4);
  EXPECT_FALSE(l.backend->copyBlock(0, 64).ok());
  std::filesystem::remove(path);
}

// An engine carrying only PTX runs through the driver's JIT.
TEST(GpuBackend, PtxOnlyEngine) {
  LLMC_REQUIRE_GPU();
  test::TinyLlamaConfig c;
  const test::TinyLlama model = test::makeTinyLlama(c);
  const std::string path = tempEnginePath("ptx.engine");
  ASSERT_OK(writeTinyCudaEngine(model, path, {"compute_" + std::to_string(std::min(deviceCc(), 90))}));
  Loaded l = load(path, smallOptions());
  ASSERT_TRUE(l.backend);
  EXPECT_EQ(static_cast<cuda::CudaBackend*>(l.backend.get())->kernelSection(), "kernels.ptx");
  std::mt19937 rng(2);
  const std::vector<int32_t> toks = randomTokens(rng, 10, c.vocab);
  StepBatch batch;
  batch.tokens = toks;
  batch.sequences = {SequenceSlice{0, 10, 0, {0}}};
  std::vector<float> logits;
  ASSERT_OK(l.backend->forward(batch, &logits));
  EXPECT_LT(relError(logits, test::referenceLogits(model, toks)[9]), 1e-4);
  std::filesystem::remove(path);
}

TEST(GpuBackend, ClearErrors) {
  LLMC_REQUIRE_GPU();
  test::TinyLlamaConfig c;
  const test::TinyLlama model = test::makeTinyLlama(c);
  const std::string path = tempEnginePath("nokernels.engine");
  ASSERT_OK(model.write(path));  // no kernel sections
  auto e = Engine::load(path);
  ASSERT_TRUE(e.ok()) << e.status().message();
  auto b = createCudaBackend();
  ASSERT_TRUE(b.ok());
  const Status s = (*b)->prepare(**e, smallOptions());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("has no CUDA kernels"), std::string::npos) << s.message();
  std::filesystem::remove(path);

  // Bad steps are refused, not run.
  ASSERT_OK(writeTinyCudaEngine(model, path, {deviceArchName()}));
  Loaded l = load(path, smallOptions());
  ASSERT_TRUE(l.backend);
  StepBatch batch;
  std::vector<float> logits;
  batch.tokens = {c.vocab};
  batch.sequences = {SequenceSlice{0, 1, 0, {0}}};
  EXPECT_NE(l.backend->forward(batch, &logits).message().find("outside the vocabulary"), std::string::npos);
  batch.tokens = {1};
  batch.sequences = {SequenceSlice{0, 1, 16, {0}}};
  EXPECT_NE(l.backend->forward(batch, &logits).message().find("does not cover"), std::string::npos);
  std::filesystem::remove(path);
}

// ---- no device needed ------------------------------------------------------------------------

// DecodeFusionsMatchUnfusedPath covers both placements of a GLU-fused output: a memory plan that
// puts it over the gate/up input (relocated by the backend) and one that keeps it apart.
TEST(GluFusionPlan, VariantsCoverRelocation) {
  int relocated = 0, kept = 0;
  for (const Variant& v : variants()) {
    const test::TinyLlama model = test::makeTinyLlama(v.cfg);
    const int pairs = static_cast<int>(cuda::findGluFusions(json::parse(model.programJson())).size());
    EXPECT_EQ(pairs, v.cfg.fused ? v.cfg.layers : 0) << v.name;
    relocated += gluOverX(model);
    kept += pairs - gluOverX(json::parse(gluApartProgram(model)));
  }
  EXPECT_GT(relocated, 0);
  EXPECT_GT(kept, 0);
}

TEST(DecodeAblation, ParsesKernelKindsAndNamesAnUnknownOne) {
  unsigned mask = 0;
  ASSERT_OK(cuda::parseDecodeKinds("attention,o_proj", &mask, "LLMC_CUDA_ABLATE"));
  EXPECT_EQ(mask, cuda::kAblateAttention | cuda::kAblateOProj);
  ASSERT_OK(cuda::parseDecodeKinds("qkv,gate_up,down,", &mask, "LLMC_CUDA_ABLATE"));
  EXPECT_EQ(mask, cuda::kAblateQkv | cuda::kAblateGateUp | cuda::kAblateDown);
  ASSERT_OK(cuda::parseDecodeKinds("", &mask, "LLMC_CUDA_ABLATE"));
  EXPECT_EQ(mask, 0u);
  mask = cuda::kAblateQkv;  // "none" clears a default (LLMC_CUDA_GEMV_PAIR=none)
  ASSERT_OK(cuda::parseDecodeKinds("none", &mask, "LLMC_CUDA_GEMV_PAIR"));
  EXPECT_EQ(mask, 0u);
  const Status bad = cuda::parseDecodeKinds("attention,mlp", &mask, "LLMC_CUDA_ABLATE");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("'mlp'"), std::string::npos) << bad.message();
  EXPECT_NE(bad.message().find("LLMC_CUDA_ABLATE=attention,mlp"), std::string::npos) << bad.message();
  const Status badExit = cuda::parseDecodeKinds("down,up", &mask, "LLMC_CUDA_TRIGGER_AT_EXIT");
  ASSERT_FALSE(badExit.ok());
  EXPECT_NE(badExit.message().find("LLMC_CUDA_TRIGGER_AT_EXIT=down,up"), std::string::npos) << badExit.message();
}

// Each ablated kind really leaves its kernels out of decode (the logits change), prefill is
// untouched, and the steps still run.
TEST(DecodeAblation, LeavesEachKernelKindOutOfDecodeOnly) {
  LLMC_REQUIRE_GPU();
  const test::TinyLlama model = test::makeTinyLlama(smallBf16Config());
  const std::string path = tempEnginePath("ablate.engine");
  ASSERT_OK(writeTinyCudaEngine(model, path, {deviceArchName()}));
  Loaded full = load(path, smallOptions(), true);
  ASSERT_TRUE(full.backend);
  std::mt19937 rng(21);
  const std::vector<int32_t> toks = randomTokens(rng, 12, smallBf16Config().vocab);
  auto run = [&](Backend& b, std::vector<float>* prefill, std::vector<float>* decode) {
    StepBatch batch;
    batch.tokens.assign(toks.begin(), toks.begin() + 8);
    batch.sequences = {SequenceSlice{0, 8, 0, blocks(0, 2)}};
    ASSERT_OK(b.forward(batch, prefill));
    for (int pos = 8; pos < 12; ++pos) {
      batch.tokens = {toks[pos]};
      batch.sequences = {SequenceSlice{0, 1, pos, blocks(0, 2)}};
      ASSERT_OK(b.forward(batch, decode));
    }
  };
  std::vector<float> refPrefill, refDecode;
  run(*full.backend, &refPrefill, &refDecode);
  for (unsigned kind : {cuda::kAblateAttention, cuda::kAblateQkv, cuda::kAblateOProj, cuda::kAblateGateUp,
                        cuda::kAblateDown}) {
    SCOPED_TRACE("ablate mask " + std::to_string(kind));
    Loaded ab = load(path, smallOptions(), true, true, [kind](cuda::CudaBackend& b) { b.setAblation(kind); });
    ASSERT_TRUE(ab.backend);
    std::vector<float> prefill, decode;
    run(*ab.backend, &prefill, &decode);
    EXPECT_EQ(prefill, refPrefill) << "prefill must not be ablated";
    EXPECT_NE(decode, refDecode) << "decode logits unchanged: the kernels were not left out";
  }
  std::filesystem::remove(path);
}

// The decode timeline (LLMC_KERNEL_TRACE=1 kernels, LLMC_CUDA_TRACE=N): the traced step reports
// every GEMV and attention launch of the decode graph, the trace kernels compute what the plain
// ones do, and the switch without trace kernels (or with a bad step number) is a clear error.
TEST(DecodeTrace, ReportsEveryLaunchOfTheTracedStep) {
  LLMC_REQUIRE_GPU();
  const test::TinyLlamaConfig cfg = smallBf16Config();
  const test::TinyLlama model = test::makeTinyLlama(cfg);
  const std::string plainPath = tempEnginePath("trace-plain.engine");
  const std::string tracePath = tempEnginePath("trace.engine");
  ASSERT_OK(writeTinyCudaEngine(model, plainPath, {deviceArchName()}));
  setenv("LLMC_KERNEL_TRACE", "1", 1);
  const Status w = writeTinyCudaEngine(model, tracePath, {deviceArchName()});
  unsetenv("LLMC_KERNEL_TRACE");
  ASSERT_OK(w);
  std::mt19937 rng(5);
  const std::vector<int32_t> toks = randomTokens(rng, 8, cfg.vocab);
  // Prefill (argmax step 1), then decode steps 2..5, feeding back the argmax.
  auto step = [](Backend& b, const StepBatch& batch, std::vector<int32_t>* out) {
    const Status st = b.forwardArgmax(batch, out);
    EXPECT_TRUE(st.ok()) << st.message();
  };
  auto run = [&](Backend& b) {
    std::vector<int32_t> out, all;
    StepBatch batch;
    batch.tokens = toks;
    batch.sequences = {SequenceSlice{0, 8, 0, blocks(0, 2)}};
    step(b, batch, &out);
    for (int pos = 8; pos < 12 && out.size() == 1; ++pos) {
      all.push_back(out[0]);
      batch.tokens = {out[0]};
      batch.sequences = {SequenceSlice{0, 1, pos, blocks(0, 2)}};
      step(b, batch, &out);
    }
    if (out.size() == 1) all.push_back(out[0]);
    return all;
  };
  Loaded plain = load(plainPath, smallOptions());
  ASSERT_TRUE(plain.backend);
  const std::vector<int32_t> want = run(*plain.backend);
  ASSERT_EQ(want.size(), 5u);

  setenv("LLMC_CUDA_TRACE", "3", 1);
  Loaded traced = load(tracePath, smallOptions());
  ASSERT_TRUE(traced.backend);
  testing::internal::CaptureStderr();
  const std::vector<int32_t> got = run(*traced.backend);
  const std::string report = testing::internal::GetCapturedStderr();
  EXPECT_EQ(got, want) << "the trace kernels must compute what the plain ones do";
  EXPECT_NE(report.find("llmc cuda trace: step 3 (decode)"), std::string::npos) << report;
  // Launch lines: "  <index> <kind> ...". Per layer: the QKV GEMV (two rows per warp by default),
  // o_proj and down GEMVs, the GLU GEMV, decode attention; plus the LM head's GEMV.
  std::map<std::string, int> launches;
  std::istringstream lines(report);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream f(line);
    long index = -1;
    std::string kind;
    if (f >> index >> kind) ++launches[kind];
  }
  EXPECT_EQ(launches["attention"], cfg.layers) << report;
  EXPECT_EQ(launches["gemv_glu"], cfg.layers) << report;
  EXPECT_EQ(launches["gemv_pair"], cfg.layers) << report;
  EXPECT_EQ(launches["gemv"], 2 * cfg.layers + 1) << report;

  // Without trace kernels, and with a step number that is not one: errors that say so.
  auto prepareError = [&](const std::string& path) {
    auto e = Engine::load(path);
    EXPECT_TRUE(e.ok());
    auto b = createCudaBackend();
    EXPECT_TRUE(b.ok());
    if (!e.ok() || !b.ok()) return std::string();
    const Status s = (*b)->prepare(**e, smallOptions());
    return s.ok() ? std::string("ok") : s.message();
  };
  const std::string noTrace = prepareError(plainPath);
  EXPECT_NE(noTrace.find(plainPath), std::string::npos) << noTrace;
  EXPECT_NE(noTrace.find("LLMC_KERNEL_TRACE=1"), std::string::npos) << noTrace;
  setenv("LLMC_CUDA_TRACE", "soon", 1);
  EXPECT_NE(prepareError(tracePath).find("LLMC_CUDA_TRACE=soon"), std::string::npos);
  unsetenv("LLMC_CUDA_TRACE");
  std::filesystem::remove(plainPath);
  std::filesystem::remove(tracePath);
}

TEST(KernelSelection, PicksTheBestFittingSection) {
  const std::vector<std::string> all = {"meta", "program", "weights", "kernels.sm_80", "kernels.sm_86",
                                        "kernels.sm_89", "kernels.sm_90", "kernels.ptx"};
  auto pick = [&](const std::vector<std::string>& s, int cc) {
    auto r = cuda::pickKernelSection(s, cc, "x.engine");
    return r.ok() ? *r : "error: " + r.status().message();
  };
  EXPECT_EQ(pick(all, 80), "kernels.sm_80");
  EXPECT_EQ(pick(all, 87), "kernels.sm_86");
  EXPECT_EQ(pick(all, 89), "kernels.sm_89");
  EXPECT_EQ(pick(all, 90), "kernels.sm_90");
  EXPECT_EQ(pick(all, 100), "kernels.ptx");
  EXPECT_EQ(pick({"kernels.sm_90", "kernels.sm_90a"}, 90), "kernels.sm_90a");
  EXPECT_EQ(pick({"kernels.sm_90a", "kernels.sm_80"}, 90), "kernels.sm_90a");
  EXPECT_EQ(pick({"kernels.sm_90a", "kernels.sm_80"}, 89), "kernels.sm_80");
  EXPECT_EQ(pick({"kernels.sm_80", "kernels.sm_90"}, 100), "error: x.engine: no kernels for sm_100 (engine has sm_80, sm_90)");
  EXPECT_EQ(pick({"kernels.sm_90"}, 86), "error: x.engine: no kernels for sm_86 (engine has sm_90)");
  EXPECT_NE(pick({"meta", "weights"}, 90).find("has no CUDA kernels"), std::string::npos);
}

TEST(CudaBackendFactory, UnavailableWithoutDevice) {
  std::string why;
  if (haveDevice(&why)) GTEST_SKIP() << "a CUDA device is present";
  auto b = createCudaBackend();
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(b.status().message().find("no CUDA device"), std::string::npos);
}

}  // namespace
}  // namespace llmc::gputest

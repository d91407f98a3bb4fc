// KernelCodegenTest.cpp - the NVRTC kernel codegen on a machine without a GPU (label: cuda).
//
// Compiles real kernel sets with NVRTC and checks what `llmc build` relies on: every planned kernel
// is in the image, the bundle round-trips, the cache returns the same bytes, ptxas reports no
// spills for the 7B-shape kernels, and bad input gives a clear error.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>

#include "KernelBundle.h"
#include "KernelPlan.h"
#include "llmc/codegen/cuda/KernelCompiler.h"

namespace llmc::cuda {
namespace {

using codegen::cuda::compileKernels;
using codegen::cuda::KernelRequest;
using nlohmann::json;

std::string tempDir(const std::string& tag) {
  auto dir = std::filesystem::temp_directory_path() /
             ("llmc-kcache-" + tag + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

// A Llama-2-7B-shaped program fragment: one block's worth of the op kinds (shapes are what count),
// with value ids so that the gate/up linear + glu pair is found (findGluFusions).
json llamaProgram(int hidden, int inter, int heads, int kvHeads, int vocab) {
  const int hd = hidden / heads;
  json steps = json::array();
  steps.push_back({{"op", "embedding"}, {"in", {-1}}, {"out", {0}}, {"weights", {{"weight", "embed"}}}, {"attrs", {{"scale", 1.0}}}});
  steps.push_back({{"op", "rms_norm"}, {"in", {0}}, {"out", {1}}, {"weights", {{"weight", "norm"}}}, {"attrs", {{"eps", 1e-5}}}});
  steps.push_back({{"op", "linear"}, {"in", {1}}, {"out", {2}}, {"weights", {{"weight", "qkv"}}}});
  steps.push_back({{"op", "qkv_attention"}, {"in", {2}}, {"out", {3}},
                   {"attrs", {{"head_dim", hd}, {"num_heads", heads}, {"num_kv_heads", kvHeads}, {"layer", 0}}}});
  steps.push_back({{"op", "linear"}, {"in", {3}}, {"out", {4}}, {"weights", {{"weight", "o"}}}});
  steps.push_back({{"op", "add_rms_norm"}, {"in", {4, 0}}, {"out", {5, 6}}, {"weights", {{"weight", "norm"}}}});
  steps.push_back({{"op", "linear"}, {"in", {6}}, {"out", {7}}, {"weights", {{"weight", "gu"}}}});
  steps.push_back({{"op", "glu"}, {"in", {7}}, {"out", {8}}, {"attrs", {{"activation", "silu"}}}});
  steps.push_back({{"op", "linear"}, {"in", {8}}, {"out", {9}}, {"weights", {{"weight", "down"}}}});
  steps.push_back({{"op", "linear"}, {"in", {9}}, {"out", {10}}, {"weights", {{"weight", "lm_head"}}}});
  (void)vocab;
  return {{"steps", steps}, {"output", 10}};
}

struct Weights {
  std::map<std::string, WeightDesc> table;
  WeightLookup lookup() const {
    return [this](const std::string& n) -> const WeightDesc* {
      auto it = table.find(n);
      return it == table.end() ? nullptr : &it->second;
    };
  }
};

Weights llamaWeights(engine::DType dt, int hidden, int inter, int heads, int kvHeads, int vocab) {
  const int hd = hidden / heads;
  Weights w;
  w.table["embed"] = {dt, {vocab, hidden}};
  w.table["norm"] = {dt, {hidden}};
  w.table["qkv"] = {dt, {(heads + 2 * kvHeads) * hd, hidden}};
  w.table["o"] = {dt, {hidden, hidden}};
  w.table["gu"] = {dt, {2 * inter, hidden}};
  w.table["down"] = {dt, {hidden, inter}};
  w.table["lm_head"] = {dt, {vocab, hidden}};
  return w;
}

TEST(KernelPlan, LlamaShapes) {
  Weights w = llamaWeights(engine::DType::kBF16, 4096, 11008, 32, 32, 32000);
  auto plan = planKernels(llamaProgram(4096, 11008, 32, 32, 32000), w.lookup());
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->kvDtype, engine::DType::kBF16);
  auto names = plan->names();
  auto has = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  EXPECT_TRUE(has("llmc_gemv_bf16_k4096_m1"));
  EXPECT_TRUE(has("llmc_gemv_bf16_k4096_m8"));
  EXPECT_TRUE(has("llmc_gemv_bf16_k11008_m3"));
  EXPECT_TRUE(has("llmc_rms_norm_bf16_h4096"));
  EXPECT_TRUE(has("llmc_add_rms_norm_bf16_h4096"));
  EXPECT_TRUE(has("llmc_attn_decode_bf16_d128_g1"));
  EXPECT_TRUE(has("llmc_attn_prefill_bf16_d128"));
  EXPECT_TRUE(has("llmc_rope_kv_write_bf16_d128"));
  EXPECT_TRUE(has("llmc_glu_silu"));
  EXPECT_FALSE(has("llmc_gemv_bf16_k4096_m9"));
  // Two rows per warp for the fused QKV projection only (the linear before qkv_attention).
  EXPECT_TRUE(has("llmc_gemv_pair_bf16_k4096_m1"));
  EXPECT_TRUE(has("llmc_gemv_pair_bf16_k4096_m8"));
  EXPECT_FALSE(has("llmc_gemv_pair_bf16_k11008_m1"));
  // Three rows per warp likewise (12288 rows: a multiple of 12), for M <= 2 only.
  EXPECT_TRUE(has("llmc_gemv_triple_bf16_k4096_m1"));
  EXPECT_TRUE(has("llmc_gemv_triple_bf16_k4096_m2"));
  EXPECT_FALSE(has("llmc_gemv_triple_bf16_k4096_m3"));
  EXPECT_FALSE(has("llmc_gemv_triple_bf16_k11008_m1"));
  // The gate/up projection fused with its GLU for decode: K = hidden, every M.
  EXPECT_TRUE(has("llmc_gemv_glu_silu_bf16_k4096_m1"));
  EXPECT_TRUE(has("llmc_gemv_glu_silu_bf16_k4096_m8"));
  EXPECT_FALSE(has("llmc_gemv_glu_silu_bf16_k11008_m1"));
}

// Which (linear, glu) pairs decode fuses: the gate/up linear whose only reader is the glu right
// after it, and not the program's output.
TEST(KernelPlan, GluFusionRule) {
  const json p = llamaProgram(64, 172, 8, 4, 512);
  auto f = findGluFusions(p);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].linear, 6);
  EXPECT_EQ(f[0].glu, 7);

  json twoReaders = p;  // the gate/up value is read by another step too: gu must exist, no fusion
  twoReaders["steps"][8]["in"] = {8, 7};
  EXPECT_TRUE(findGluFusions(twoReaders).empty());
  json notNext = p;  // another step between the linear and the glu
  notNext["steps"].insert(notNext["steps"].begin() + 7, json{{"op", "add"}, {"in", {5, 5}}, {"out", {11}}});
  EXPECT_TRUE(findGluFusions(notNext).empty());
  json isOutput = p;
  isOutput["output"] = 7;
  EXPECT_TRUE(findGluFusions(isOutput).empty());
  json noIds = p;  // a program without value ids: nothing is fused
  for (auto& st : noIds["steps"]) st.erase("in");
  EXPECT_TRUE(findGluFusions(noIds).empty());
  json gelu = p;
  gelu["steps"][7]["attrs"]["activation"] = "gelu_tanh";
  Weights w = llamaWeights(engine::DType::kF16, 64, 172, 8, 4, 512);
  auto plan = planKernels(gelu, w.lookup());
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  const auto names = plan->names();
  EXPECT_NE(std::find(names.begin(), names.end(), "llmc_gemv_glu_gelu_tanh_f16_k64_m5"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "llmc_gemv_glu_silu_f16_k64_m5"), names.end());
}

TEST(KernelPlan, DecodeGroup) {
  EXPECT_EQ(decodeGroup(32, 32), 1);
  EXPECT_EQ(decodeGroup(32, 8), 4);
  EXPECT_EQ(decodeGroup(64, 8), 8);
  EXPECT_EQ(decodeGroup(28, 4), 7);
  EXPECT_EQ(decodeGroup(40, 4), 5);   // 10 per group: 5 divides it, 8 does not
  EXPECT_EQ(decodeGroup(96, 4), 8);   // 24 per group
}

// QKV three rows per warp only where that alone makes the grid one wave (132 SMs x 8 blocks).
TEST(KernelPlan, TripleRowsWhereTheyMakeOneWave) {
  const int64_t slots = 132 * 8;
  EXPECT_TRUE(preferGemvTriple(12288, 2, slots, slots));    // Llama-2-7B: 1536 pair blocks -> 1024
  EXPECT_FALSE(preferGemvTriple(6144, 2, slots, slots));    // Llama-3-8B: 768 pair blocks fit already
  EXPECT_FALSE(preferGemvTriple(12288, 2, slots, 1000));    // 1024 triple blocks would not fit either
  EXPECT_FALSE(preferGemvTriple(12288 + 8, 2, slots, slots));  // not a multiple of 12: not planned
  EXPECT_TRUE(preferGemvTriple(6144, 1, slots, slots));     // against one row per warp: 1536 blocks
  EXPECT_FALSE(preferGemvTriple(3072, 1, slots, slots));    // 768 one-row blocks fit
  EXPECT_FALSE(preferGemvTriple(12288, 2, slots, 0));       // occupancy unknown: keep the other shape
}

TEST(KernelPlan, RejectsBadInput) {
  Weights w = llamaWeights(engine::DType::kBF16, 64, 172, 8, 4, 512);
  json p = llamaProgram(64, 172, 8, 4, 512);
  p["steps"][3]["attrs"]["head_dim"] = 6;
  auto plan = planKernels(p, w.lookup());
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("program.steps[3] (qkv_attention): head_dim 6"), std::string::npos)
      << plan.status().message();

  json q = llamaProgram(64, 172, 8, 4, 512);
  q["steps"][2]["weights"]["weight"] = "nope";
  plan = planKernels(q, w.lookup());
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("'nope' is not in the weight table"), std::string::npos);

  plan = planKernels(json::array(), w.lookup());
  EXPECT_FALSE(plan.ok());
}

TEST(KernelBundle, RoundTripAndCorruption) {
  KernelImage img;
  img.arch = "sm_90";
  img.kernels = {"llmc_b", "llmc_a"};
  img.nvrtcVersion = "13.0";
  img.options = {"-std=c++17"};
  img.sourceHash = "00ff";
  img.image = std::string("\x7f" "ELF\0\1\2", 7);
  const std::string bytes = serializeBundle(img);
  auto back = parseBundle(bytes, "x.engine: kernels.sm_90");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->arch, "sm_90");
  EXPECT_FALSE(back->isPtx);
  EXPECT_EQ(back->kernels, (std::vector<std::string>{"llmc_a", "llmc_b"}));
  EXPECT_EQ(back->image, img.image);
  EXPECT_EQ(bundleSectionName(*back), "kernels.sm_90");

  auto bad = parseBundle(bytes.substr(0, bytes.size() - 1), "x.engine: kernels.sm_90");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("x.engine: kernels.sm_90: truncated"), std::string::npos);
  std::string wrongMagic = bytes;
  wrongMagic[0] = 'X';
  EXPECT_FALSE(parseBundle(wrongMagic, "s").ok());
  EXPECT_FALSE(parseBundle("", "s").ok());
}

TEST(KernelCodegen, ParseGpuArchs) {
  auto a = codegen::cuda::parseGpuArchs("sm_80, 90,compute_90,sm_90");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(*a, (std::vector<std::string>{"sm_80", "sm_90", "compute_90"}));
  auto bad = codegen::cuda::parseGpuArchs("sm_52");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("sm_52 is not supported by NVRTC"), std::string::npos);
  EXPECT_FALSE(codegen::cuda::parseGpuArchs("banana").ok());
  EXPECT_FALSE(codegen::cuda::parseGpuArchs("").ok());
}

// Compiles the 7B kernel set for every default arch: every kernel present, no register spills.
TEST(KernelCodegen, Llama7BAnd8BCompileWithoutSpills) {
  Weights w = llamaWeights(engine::DType::kBF16, 4096, 11008, 32, 32, 32000);
  auto plan = planKernels(llamaProgram(4096, 11008, 32, 32, 32000), w.lookup());
  ASSERT_TRUE(plan.ok());
  // Llama-3-8B's too (K = 14336, GQA group 4).
  Weights w3 = llamaWeights(engine::DType::kBF16, 4096, 14336, 32, 8, 128256);
  auto plan3 = planKernels(llamaProgram(4096, 14336, 32, 8, 128256), w3.lookup());
  ASSERT_TRUE(plan3.ok());
  for (const KernelSpec& k : plan3->kernels)
    if (std::find(plan->kernels.begin(), plan->kernels.end(), k) == plan->kernels.end()) plan->kernels.push_back(k);
  std::sort(plan->kernels.begin(), plan->kernels.end());
  KernelRequest req;
  req.kernels = plan->kernels;
  req.archs = codegen::cuda::defaultGpuArchs();
  req.cacheDir = "off";
  auto bundle = compileKernels(req);
  ASSERT_TRUE(bundle.ok()) << bundle.status().message();
  ASSERT_EQ(bundle->sections.size(), req.archs.size());
  EXPECT_EQ(bundle->sections[3].name, "kernels.sm_90");
  EXPECT_EQ(bundle->sections.back().name, "kernels.ptx");
  for (const auto& section : bundle->sections) {
    if (section.arch.rfind("compute_", 0) == 0) continue;
    const std::string& log = section.log;
    // ptxas -v: "N bytes stack frame, N bytes spill stores, N bytes spill loads" per kernel.
    std::regex spill("([0-9]+) bytes stack frame, ([0-9]+) bytes spill stores");
    int kernelsReported = 0;
    for (std::sregex_iterator it(log.begin(), log.end(), spill), end; it != end; ++it) {
      ++kernelsReported;
      EXPECT_EQ((*it)[1].str() + "/" + (*it)[2].str(), "0/0") << section.arch << ": a kernel uses local memory:\n" << log;
    }
    EXPECT_GE(kernelsReported, static_cast<int>(plan->names().size())) << log;
  }

  for (const auto& s : bundle->sections) {
    auto img = parseBundle(s.bytes, s.name);
    ASSERT_TRUE(img.ok()) << img.status().message();
    EXPECT_EQ(img->kernels.size(), plan->names().size());
    if (img->isPtx) {
      // Every kernel is an entry of the PTX.
      for (const std::string& n : plan->names())
        EXPECT_NE(img->image.find(".entry " + n + "("), std::string::npos) << n;
    } else {
      EXPECT_EQ(img->image.substr(0, 4), std::string("\x7f" "ELF"));
    }
  }
}

TEST(KernelCodegen, CacheHitGivesSameBytes) {
  Weights w = llamaWeights(engine::DType::kF32, 64, 172, 8, 4, 512);
  auto plan = planKernels(llamaProgram(64, 172, 8, 4, 512), w.lookup());
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  KernelRequest req;
  req.kernels = plan->kernels;
  req.archs = {"sm_80"};
  req.cacheDir = tempDir("hit");
  auto first = compileKernels(req);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_FALSE(first->sections[0].fromCache);
  auto second = compileKernels(req);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_TRUE(second->sections[0].fromCache);
  EXPECT_EQ(first->sections[0].bytes, second->sections[0].bytes);
  // A different specialisation is a different key.
  req.kernels.push_back({KernelKind::kGemv, engine::DType::kF32, 96, 1});
  auto third = compileKernels(req);
  ASSERT_TRUE(third.ok());
  EXPECT_FALSE(third->sections[0].fromCache);
  std::filesystem::remove_all(req.cacheDir);
}

// The kernel set of a small Llama in `dt` for one arch, compiled without the cache.
KernelRequest smallUncachedRequest(engine::DType dt, const std::string& arch) {
  Weights w = llamaWeights(dt, 64, 172, 8, 4, 512);
  auto plan = planKernels(llamaProgram(64, 172, 8, 4, 512), w.lookup());
  EXPECT_TRUE(plan.ok());
  KernelRequest req;
  if (plan.ok()) req.kernels = plan->kernels;
  req.archs = {arch};
  req.cacheDir = "off";
  return req;
}

TEST(KernelCodegen, DeterministicWithoutCache) {
  const KernelRequest req = smallUncachedRequest(engine::DType::kF16, "sm_86");
  ASSERT_FALSE(req.kernels.empty());
  auto a = compileKernels(req);
  auto b = compileKernels(req);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->sections[0].bytes, b->sections[0].bytes);
}

// LLMC_KERNEL_TRACE=1 compiles the decode-timeline kernels (a different source, so a different
// cache key); another value than 0 or 1 is an error that names it.
TEST(KernelCodegen, TraceKernelsOnRequest) {
  const KernelRequest req = smallUncachedRequest(engine::DType::kF32, "sm_90");
  ASSERT_FALSE(req.kernels.empty());
  setenv("LLMC_KERNEL_TRACE", "1", 1);
  auto traced = compileKernels(req);
  setenv("LLMC_KERNEL_TRACE", "yes", 1);
  auto bad = compileKernels(req);
  unsetenv("LLMC_KERNEL_TRACE");
  auto plain = compileKernels(req);
  ASSERT_TRUE(traced.ok()) << traced.status().message();
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(traced->source.rfind("#define LLMC_TRACE 1\n", 0), 0u);
  EXPECT_EQ(plain->source.find("LLMC_TRACE"), std::string::npos);
  EXPECT_NE(traced->sections[0].bytes, plain->sections[0].bytes);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("LLMC_KERNEL_TRACE=yes"), std::string::npos) << bad.status().message();
}

// The engine writer's entry point: program JSON + meta.weights index + --gpu-arch string.
TEST(KernelCodegen, CompileForEngineFromWeightIndex) {
  json index = json::array();
  Weights w = llamaWeights(engine::DType::kF32, 64, 172, 8, 4, 512);
  for (const auto& [name, d] : w.table)
    index.push_back({{"name", name}, {"dtype", engine::dtypeName(d.dtype)}, {"shape", d.shape}, {"offset", 0}, {"nbytes", 0}});
  auto b = codegen::cuda::compileKernelsForEngine(llamaProgram(64, 172, 8, 4, 512), index, "sm_80,compute_80", "off");
  ASSERT_TRUE(b.ok()) << b.status().message();
  ASSERT_EQ(b->sections.size(), 2u);
  EXPECT_EQ(b->sections[0].name, "kernels.sm_80");
  EXPECT_EQ(b->sections[1].name, "kernels.ptx");
  auto img = parseBundle(b->sections[0].bytes, "s");
  ASSERT_TRUE(img.ok());
  EXPECT_TRUE(std::binary_search(img->kernels.begin(), img->kernels.end(), "llmc_gemv_f32_k172_m8"));
  EXPECT_TRUE(std::binary_search(img->kernels.begin(), img->kernels.end(), "llmc_attn_decode_f32_d8_g2"));

  auto bad = codegen::cuda::compileKernelsForEngine(llamaProgram(64, 172, 8, 4, 512), index, "sm_13", "off");
  EXPECT_FALSE(bad.ok());
  index[0]["dtype"] = "int4";
  bad = codegen::cuda::compileKernelsForEngine(llamaProgram(64, 172, 8, 4, 512), index, "", "off");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown dtype 'int4'"), std::string::npos);
}

}  // namespace
}  // namespace llmc::cuda

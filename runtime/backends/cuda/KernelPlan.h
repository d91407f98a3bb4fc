// KernelPlan.h - which CUDA kernel specialisations a program needs, and their symbol names.
//
// Owned by the CUDA backend (runtime/backends/cuda). Shared by both sides of the kernel ABI: the
// codegen (codegen/cuda) compiles exactly the kernels planKernels() lists, the backend looks each
// one up by kernelName() when it loads the engine. Neither side spells a kernel name by hand, so
// they cannot drift apart. No CUDA dependency: this builds into `llmc build` on machines without
// a GPU and into the backend.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "llmc/runtime/EngineFormat.h"
#include "llmc/runtime/Status.h"

namespace llmc::cuda {

// Most tokens one step may carry and still take the GEMV path; above it linear layers go to
// cuBLASLt. GEMV is instantiated for every M in [1, kMaxGemvRows].
inline constexpr int kMaxGemvRows = 8;
// The three-rows-per-warp GEMV (an A/B knob for the QKV projection's wave tail) is planned for
// M <= 2 only (decode at batch 1-2): each kernel adds compile time to every build.
inline constexpr int kGemvTripleMaxRows = 2;
// The two-rows-per-warp GEMV with the folded norm's epilogue (a linear right before an
// add_rms_norm: o_proj, down; LLMC_CUDA_GEMV_PAIR=o_proj,down) likewise, at M <= 2.
inline constexpr int kGemvPairNormMaxRows = 2;
// Largest number of query heads one decode-attention block serves (they share one KV head).
inline constexpr int kMaxDecodeGroup = 8;
// Most context splits of one decode attention (kMaxDecodeSplits in attention_decode.cuh; the
// partials buffer is sized by it).
inline constexpr int kMaxDecodeSplits = 32;
// Most splits when they merge inside one thread-block cluster: 8, the portable cluster size.
inline constexpr int kMaxClusterSplits = 8;

// Host-side mirror of PrefillShape in codegen/cuda/kernels/attention_prefill.cuh: query rows per
// tile and dynamic shared memory of the prefill attention kernel (the GPU tests run both sides).
inline int prefillTileRows(int headDim) { return headDim <= 128 ? 64 : 32; }
inline int prefillSmemBytes(int headDim) {
  const int bq = prefillTileRows(headDim), bk = headDim <= 128 ? 32 : 16;
  const int floats = bq * (headDim + 1) + bk * (headDim + 1) + bk * headDim + bq * (bk + 1) + 3 * bq;
  return floats * 4;
}
// llmc_argmax_rows (elementwise.cuh) splits a row of `vocab` logits into blocks of argmaxChunk()
// columns (~4096, at most kArgmaxMaxParts blocks per row); argmaxParts() blocks cover the row.
inline constexpr int kArgmaxMaxParts = 64;
inline int argmaxChunk(int vocab) {
  if (vocab <= 0) return 1;
  int parts = (vocab + 4095) / 4096;
  parts = parts < 1 ? 1 : parts > kArgmaxMaxParts ? kArgmaxMaxParts : parts;
  return (vocab + parts - 1) / parts;
}
inline int argmaxParts(int vocab) { return (vocab + argmaxChunk(vocab) - 1) / argmaxChunk(vocab); }
// The tensor-core prefill (attention_prefill_tc.cuh, mma.sync on 16-bit operands): 16-bit caches,
// head_dim 64 / 128; 64 query rows per tile (the 64-row tile list), 128 threads, and
// 2 buffers x (K, V) x 64 keys x head_dim 16-bit elements of dynamic shared memory.
inline bool prefillTcSupported(engine::DType kv, int headDim) {
  return kv != engine::DType::kF32 && (headDim == 64 || headDim == 128);
}
inline int prefillTcSmemBytes(int headDim) { return 2 * 2 * 64 * headDim * 2; }
// Threads per block the GEMV kernels are written for (4 warps = 4 output rows).
inline constexpr int kGemvThreads = 128;
// rope_kv_write runs one block per (token, head) with a thread per rotary pair (hd / 2), at least a
// warp and at most 128 threads; the kernel loops, so any size is correct.
inline int ropeKvThreads(int headDim) { return headDim / 2 < 32 ? 32 : (headDim / 2 > 128 ? 128 : headDim / 2); }
// Blocks per token (grid.y) of rope_kv_write for a step of `tokens` tokens over `heads` = nh + 2 nkv
// heads, and the block size: a block per head for short steps (spread over the GPU), 8 heads per
// 128-thread block for prefills (fewer, fuller blocks; rope_kv.cuh says why).
inline int ropeKvGroups(int tokens, int heads) { return tokens >= 16 ? (heads + 7) / 8 : heads; }
inline int ropeKvBlock(int tokens, int headDim) { return tokens >= 16 ? 128 : ropeKvThreads(headDim); }
// Columns one thread of llmc_glu_* covers: 8 when gu and out share a 16-bit type and inner % 8 == 0
// (gluVectorised in elementwise.cuh: 16-byte loads), else 1. Type codes: ActType (common.cuh).
inline int gluColumnsPerThread(int inner, int guType, int outType) {
  return guType == outType && guType != 0 && inner % 8 == 0 ? 8 : 1;
}
inline constexpr int kGemvRowsPerBlock = 4;
// Output rows of one block of the R-rows-per-warp GEMV (gemvRowsBody, R = 2 or 3): its kernel is
// planned, and launched with n / that many blocks, only where it divides n.
inline constexpr int gemvRowsBlockRows(int rowsPerWarp) { return kGemvRowsPerBlock * rowsPerWarp; }
// Which several-rows-per-warp GEMVs a linear of n rows gets at M rows (the plan builds them, the
// backend loads them: one rule for both). The pair: the fused QKV projection (the linear right
// before a qkv_attention), and at M <= kGemvPairNormMaxRows a linear right before an add_rms_norm
// (its folded epilogue). The triple: the QKV projection at M <= kGemvTripleMaxRows. Only these,
// since each kernel adds compile time to every build.
inline constexpr bool gemvPairPlanned(bool beforeQkvAttention, bool beforeAddRmsNorm, int64_t n, int m) {
  return n % gemvRowsBlockRows(2) == 0 && (beforeQkvAttention || (beforeAddRmsNorm && m <= kGemvPairNormMaxRows));
}
inline constexpr bool gemvTriplePlanned(bool beforeQkvAttention, int64_t n, int m) {
  return beforeQkvAttention && n % gemvRowsBlockRows(3) == 0 && m <= kGemvTripleMaxRows;
}
// Whether the QKV projection (n rows) should stream three rows per warp: only where that puts the
// whole grid in one wave of resident blocks and the shape it replaces (otherRowsPerWarp 2 or 1)
// does not. A block of the second wave starts streaming only as one of the first leaves, so on an
// H100 Llama-2-7B's 1536 pair blocks (1.45 waves of 1056 slots) took 2.5% of decode more than 1024
// triple blocks (docs/perf.md). Where both shapes fit in one wave (Llama-3-8B: 768 pair blocks)
// the pair stays: a third fewer warps streaming for no wave saved (not yet measured there). Slots:
// resident blocks per SM x SMs, per kernel.
inline constexpr bool preferGemvTriple(int64_t n, int otherRowsPerWarp, int64_t otherSlots, int64_t tripleSlots) {
  return n % gemvRowsBlockRows(3) == 0 && n / gemvRowsBlockRows(3) <= tripleSlots &&
         (n + gemvRowsBlockRows(otherRowsPerWarp) - 1) / gemvRowsBlockRows(otherRowsPerWarp) > otherSlots;
}
// Bytes of each weight row a plain GEMV warp requests before its wait (gemv.cuh: kGemvUnroll
// 16-byte chunks per lane, 32 lanes): what decode attention's row-tail prefetch skips.
inline constexpr int kGemvFirstRoundBytes = 8 * 32 * 16;

enum class KernelKind {
  kGemv,          // dtype = weight; a = K, b = M
  kRmsNorm,       // dtype = weight; a = H
  kAddRmsNorm,    // dtype = weight; a = H
  kLayerNorm,     // dtype = weight; a = H
  kRopeKvWrite,   // dtype = KV cache; a = head_dim
  kAttnDecode,    // dtype = KV cache; a = head_dim, b = G (query heads per block)
  kAttnPrefill,   // dtype = KV cache; a = head_dim
  kAttnPrefillTc, // dtype = KV cache (f16 / bf16); a = head_dim (64 / 128): tensor-core prefill
  kGemvGlu,       // dtype = weight; a = K, b = M, c = GLU activation (GluAct): gate/up GEMV + GLU
  kGemvPair,      // dtype = weight; a = K, b = M: two rows per warp, no norm epilogue (gemvRowsBody)
  kGemvTriple,    // dtype = weight; a = K, b = M <= kGemvTripleMaxRows: three rows per warp (gemvRowsBody)
  kGraphOps,      // no parameters: the generic ops of a graph program (graph_ops.cuh, graphKernelNames())
};

// The activation of a GLU-fused GEMV (KernelSpec::c); the order of llmc::GluActivation.
enum GluAct { kGluSilu = 0, kGluGeluTanh = 1, kGluGelu = 2 };
// "silu", "gelu_tanh", "gelu" (the program's names); nullptr for another value.
const char* gluActName(int act);

struct KernelSpec {
  KernelKind kind = KernelKind::kGemv;
  engine::DType dtype = engine::DType::kF32;
  int a = 0;
  int b = 0;
  int c = 0;
  bool operator<(const KernelSpec& o) const;
  bool operator==(const KernelSpec& o) const;
};

// The extern "C" symbol of a specialisation (kGraphOps, a set of kernels: graphKernelNames()): "llmc_gemv_bf16_k4096_m1", "llmc_rms_norm_f32_h64",
// "llmc_rope_kv_write_bf16_d128", "llmc_attn_decode_bf16_d128_g4", "llmc_attn_prefill_f32_d8",
// "llmc_gemv_glu_silu_bf16_k4096_m1".
std::string kernelName(const KernelSpec& spec);

// Kernels with no per-model constant; every engine carries them (elementwise.cuh, rope_kv.cuh,
// attention_decode.cuh, measure.cuh): "llmc_embedding_bf16", "llmc_silu", "llmc_read_sum", ...
const std::vector<std::string>& fixedKernelNames();
// The kernels of graph_ops.cuh (KernelKind::kGraphOps): what an engine holding a graph program
// (generic ops, docs/graph-program.md) carries for the CUDA backend's graph runner.
const std::vector<std::string>& graphKernelNames();
// Per-dtype names of the fixed kernels.
std::string embeddingKernelName(engine::DType weight);
std::string positionEmbeddingKernelName(engine::DType weight);
std::string castKernelName(engine::DType to);  // f16 / bf16 only

// G for a model with nh query and nkv KV heads: the largest divisor of nh/nkv <= kMaxDecodeGroup.
int decodeGroup(int numHeads, int numKvHeads);

// What the planner needs to know about a weight.
struct WeightDesc {
  engine::DType dtype = engine::DType::kF32;
  std::vector<int64_t> shape;
};
// Returns the weight named `name`, or nullptr when the engine has none.
using WeightLookup = std::function<const WeightDesc*(const std::string& name)>;

// Step indices of the program's gate/up projections that the decode path fuses with their GLU
// (gemvGluBody): a `linear` whose output is read by exactly one step, the `glu` right after it,
// and is not the program's output. Both the planner (which compiles the fused GEMVs) and the
// backend (which skips the glu launch) use this one rule. Steps without value ids never match.
struct GluFusion {
  int linear = -1;
  int glu = -1;
};
std::vector<GluFusion> findGluFusions(const nlohmann::json& program);

struct KernelPlan {
  engine::DType kvDtype = engine::DType::kF32;  // storage type of the KV cache
  std::vector<KernelSpec> kernels;              // sorted, unique
  std::vector<std::string> names() const;       // kernelName() of each, then fixedKernelNames()
};

// The KV cache dtype of a model: the dtype of its first linear layer's weight (so a bf16 engine
// keeps a bf16 cache, an f32 engine an f32 one); f32 when the program has no linear layer.
// Plans the kernels of a program (the engine's `program` JSON, docs/design.md). Errors name the
// step: "program.steps[7] (qkv_attention): head_dim 6 is not a multiple of 8 (CUDA kernels read
// 16-byte vectors of the KV cache)".
StatusOr<KernelPlan> planKernels(const nlohmann::json& program, const WeightLookup& weights);

}  // namespace llmc::cuda

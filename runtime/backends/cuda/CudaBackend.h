// CudaBackend.h - runs an engine's program on one NVIDIA GPU.
//
// Owned by the CUDA backend. What it owns on the device (all released by RAII members):
//   * the engine's kernels for this GPU (KernelLibrary: a cubin per arch, or PTX JIT-compiled);
//   * the weights (DeviceWeights: one pool, uploaded through pinned staging);
//   * the activation arena, laid out by the program's memory plan (docs/design.md) with the token
//     count rounded up to a multiple of 4 so every value starts 16-byte aligned (the plan is valid
//     for any T, so using T' = roundup(T, 4) for the layout keeps its non-overlap guarantees);
//   * the paged KV cache pool, [num_blocks, 2, nkv, block_size, head_dim] per layer in the engine's
//     weight dtype, sized from free memory * memoryFraction after everything else;
//   * step metadata (tokens, positions, cache slots, block tables, attention tiles), uploaded once
//     per step from a pinned buffer with two copies;
//   * one CUDA graph per decode batch size: the decode step's ~10 launches per layer are replayed
//     with a single cudaGraphLaunch (every launch parameter depends on the batch size only; the
//     per-step data is read from the metadata buffer, whose address never changes).
// Linear layers: GEMV kernels for up to kMaxGemvRows tokens, cuBLASLt above.
#pragma once

#include <cuda_runtime.h>

#include <array>
#include <map>
#include <utility>
#include <memory>
#include <string>
#include <vector>

#include "CudaHandles.h"
#include "DecodeAblation.h"
#include "DecodeTrace.h"
#include "DeviceWeights.h"
#include "GemvArgs.h"
#include "GpuSampler.h"
#include "KernelLibrary.h"
#include "KernelPlan.h"
#include "LtGemm.h"
#include "StepTimer.h"
#include "llmc/runtime/Backend.h"
#include "llmc/runtime/Engine.h"

#include <nlohmann/json.hpp>

namespace llmc::cuda {

class CudaBackend : public Backend {
 public:
  explicit CudaBackend(int device) : device_(device) {}
  ~CudaBackend() override;
  std::string name() const override { return "cuda"; }
  Status prepare(const Engine& engine, const BackendOptions& options) override;
  int64_t kvBlockCount() const override { return graph_ ? graph_->kvBlockCount() : kvBlocks_; }
  // A graph engine (generic ops) runs on the graph runner (graph/CudaGraphBackend.h).
  bool runsGraphPrograms() const override { return true; }
  Status forward(const StepBatch& batch, std::vector<float>* logits) override;
  // The argmax of each sequence's logits row is taken on the device (llmc_argmax_rows, part of the
  // decode graph); one int per sequence comes back. Engines built without that kernel fall back to
  // Backend::forwardArgmax.
  Status forwardArgmax(const StepBatch& batch, std::vector<int32_t>* tokens) override;
  // Samples each sequence's logits row on the device (GpuSampler, sample.cuh: part of the decode
  // graph); one int per sequence comes back. Engines built without those kernels, and histories
  // longer than the buffers, fall back to Backend::forwardSample (host sampling).
  Status forwardSample(const StepBatch& batch, const SamplingParams& params, const std::vector<SampleRow>& rows,
                       std::vector<int32_t>* tokens) override;
  // Whether prepare() found the sampling kernels (else forwardSample samples on the host).
  bool samplesOnDevice() const { return sampler_.available(); }
  Status copyBlock(int32_t src, int32_t dst) override;
  // Read bandwidth and bf16 GEMM rate (DeviceLimits.h) with the engine's measure.cuh kernels, on
  // the backend's stream; its buffers are freed before it returns, nothing of the engine's changes.
  StatusOr<DeviceLimits> measureLimits() override;

  // What prepare() chose (for `llmc bench` / `inspect` and tests).
  const std::string& kernelSection() const { return lib_->section(); }
  uint64_t weightBytes() const { return weights_.bytes(); }
  bool graphsEnabled() const { return graphs_; }
  void setGraphsEnabled(bool on) { graphs_ = on; }
  bool pdlEnabled() const { return pdl_; }
  void setPdlEnabled(bool on) { pdlAllowed_ = on; pdl_ = pdl_ && on; }
  // Launch-overlap knob (before prepare(); it changes when loads are issued, never the results):
  // GEMVs and decode attention release their dependent launch before waiting for the previous
  // kernel (LLMC_CUDA_EARLY_TRIGGER).
  void setEarlyTriggerEnabled(bool on) { earlyTrigger_ = on ? 1 : 0; }
  // Decode attention merges its splits inside a thread-block cluster (sm_90; before prepare()).
  void setAttentionClusterEnabled(bool on) { attnCluster_ = on ? 1 : 0; }
  // Decode attention also asks L2 for up to `mb` MiB of the next GEMV's weight (0: off).
  void setL2PrefetchMb(int mb) { l2PrefetchMb_ = mb; }
  // ... only the part of each weight row the GEMV reads after its wait (LLMC_CUDA_L2_PREFETCH_TAILS).
  void setL2PrefetchTails(bool on) { l2PrefetchTails_ = on ? 1 : 0; }
  // Keys per decode-attention block whose K/V rows it asks of L2 before its wait (0: none).
  void setAttentionL2Ahead(int keys) { attnL2Ahead_ = keys; }
  // Decode leaves out these kernel kinds (DecodeAblation.h: a timing diagnostic; wrong outputs).
  void setAblation(unsigned mask) { ablate_ = mask; }
  void setTriggerAtExit(unsigned mask) { triggerAtExit_ = mask; }
  // GEMVs of these decode kinds ask L2 for their row tails before their wait (GemvIn.prefetchTails).
  void setGemvL2Tails(unsigned mask) { gemvL2Tails_ = mask; }
  // Plain GEMVs of these decode kinds stream two rows per warp (gemvRowsBody; LLMC_CUDA_GEMV_PAIR).
  void setGemvPair(unsigned mask) { gemvPair_ = mask; }
  // ... three rows per warp (LLMC_CUDA_GEMV_TRIPLE; before the pair where both apply).
  void setGemvTriple(unsigned mask) {
    gemvTriple_ = mask;
    gemvTripleAuto_ = false;
  }
  void setEarlyNormParts(bool on) { earlyNormParts_ = on ? 1 : 0; }
  // The tensor-core prefill attention (before prepare(); LLMC_CUDA_PREFILL_TC=0 disables it).
  void setPrefillTcEnabled(bool on) { prefillTc_ = on; }
  // Whether prepare() found the tensor-core prefill for every attention step.
  bool usesPrefillTc() const;
  // The 16-bit hand-off of prefill activations (Handoff.cpp; before prepare();
  // LLMC_CUDA_HANDOFF=0 disables it), and how many values prepare() chose for it.
  void setHandoffEnabled(bool on) { handoffAllowed_ = on; }
  int handoffValues() const;
  // Decode attention merges its splits itself (the last split block of each head group; no
  // llmc_attn_combine launch). Before prepare(); LLMC_CUDA_FUSED_ATTN=0 disables it.
  void setFusedAttentionEnabled(bool on) { fusedAttn_ = on; }
  bool fusedAttentionEnabled() const { return fusedAttn_; }
  // Decode attention rotates q/k and appends k/v to the cache itself (no llmc_rope_kv_write
  // launch). Before prepare(); LLMC_CUDA_FUSED_ROPE=0 disables it.
  void setFusedRopeEnabled(bool on) { fusedRope_ = on; }
  // Decode's gate/up projection + GLU as one GEMV (GluFusion.cpp). Before prepare();
  // LLMC_CUDA_FUSED_GLU=0 disables it. How many (linear, glu) pairs prepare() fused, and how many
  // of their outputs it moved out of the arena.
  void setFusedGluEnabled(bool on) { fusedGlu_ = on; }
  int fusedGluPairs() const { return gluPairs_; }
  int relocatedGluOutputs() const;
  // Decode's residual-add + RMSNorm folded into the GEMVs before and after it (NormFusion.cpp).
  // Before prepare(); LLMC_CUDA_FUSED_NORM=0 disables it. How many add_rms_norm steps it folded.
  void setFusedNormEnabled(bool on) { fusedNorm_ = on; }
  // Prefill GEMM algorithms timed on first use (LtGemm.h). Before prepare(); off by default (no
  // measurable gain on the 7B/8B shapes, and it makes the bits depend on timing);
  // LLMC_CUDA_GEMM_AUTOTUNE=1 turns it on.
  void setGemmAutotuneEnabled(bool on) { gemmAutotune_ = on; }
  int fusedNormSites() const { return static_cast<int>(normSites_.size()); }

 private:
  // Everything a step needs at run time, resolved once in prepare().
  struct Prepared {
    const Step* step = nullptr;
    cudaKernel_t kernel = nullptr;                        // norms, rope, elementwise, embedding, ...
    std::array<cudaKernel_t, kMaxGemvRows + 1> gemv{};    // linear, by row count
    std::array<cudaKernel_t, kMaxGemvRows + 1> gemvPair{};  // two rows per warp (n % 8 == 0), or null
    std::array<cudaKernel_t, kGemvTripleMaxRows + 1> gemvTriple{};  // three rows per warp (n % 12 == 0), or null
    // A gate/up linear fused with the glu after it (GluFusion.cpp): the GEMV-GLU kernels by row
    // count and the glu's output value, which it writes; gluFusedAway marks that glu step.
    std::array<cudaKernel_t, kMaxGemvRows + 1> gemvGlu{};
    int gluOut = -1;
    bool gluFusedAway = false;
    // Decode's add_rms_norm folded into the GEMVs around it (NormFusion.cpp): the linear before it
    // computes the site's sum and norm statistics (normOutSite), each linear reading the normalised
    // value scales by them (normInSite); normFusedAway marks the add_rms_norm step.
    int normOutSite = -1, normInSite = -1;
    bool normFusedAway = false;
    cudaKernel_t ropeKv = nullptr, decode = nullptr, prefill = nullptr;  // attention
    cudaKernel_t prefillTc = nullptr;  // tensor-core prefill, where the engine has it
    const void* w = nullptr;       // weight in its dtype
    const void* b = nullptr;       // layer_norm bias in its dtype
    const float* biasF32 = nullptr;
    engine::DType wdtype = engine::DType::kF32;
    int n = 0, k = 0;              // linear
    int decodeGroup = 1;
    int prefillSmem = 0;
    int prefillTcSmem = 0;
    const float* invFreq = nullptr;
    // Attention: the next linear's weight, which decode attention may stream into L2 (prefetch
    // rows of its grid; LLMC_CUDA_L2_PREFETCH_MB), and its size rounded down to 16 bytes.
    const void* prefetchW = nullptr;
    uint64_t prefetchBytes = 0;
    uint64_t prefetchRowBytes = 0;  // one row of that weight (K elements)
    bool afterAttention = false;  // a linear: the first one after an attention step (its o_proj)
    // A linear right before a fused qkv_attention step (its QKV projection, the one with the
    // multi-row kernels), with or without a folded norm: the first layer's norm is a kernel of its
    // own, so normInSite alone misses its QKV.
    bool beforeAttention = false;
  };
  // What a step ends with after the program: the logits rows (gathered when the program's output
  // has a row per token) for the host, or their argmax.
  enum class Tail { kLogits = 0, kArgmax = 1, kSample = 2 };  // kSample: GpuSampler's kernels
  // The step's shape of this forward (host side of the metadata).
  struct StepShape {
    int t = 0;        // tokens
    int tpad = 0;     // tokens rounded up to 4 (arena layout)
    int nseq = 0;
    bool decode = false;  // one token per sequence
    int tiles64 = 0, tiles32 = 0;
  };

  Status prepareSteps();
  // Finds the (linear, glu) pairs decode runs as one GEMV-GLU (GluFusion.cpp); sets gemvGlu /
  // gluOut / gluFusedAway and relocated_. `program` is the engine's program JSON.
  void planGluFusion(const nlohmann::json& program);
  // Finds the (linear, add_rms_norm, linears) sites decode runs as two GEMVs (NormFusion.cpp);
  // sets normOutSite / normInSite / normFusedAway, relocates the normalised values (and sums that
  // the early write would clobber) and allocates the sites' statistics. After planGluFusion.
  Status planNormFusion();
  // The input-side options of a linear step running as a GEMV of `rows` rows: its folded norm
  // (none: defaults) and the shared-memory staging depth.
  GemvInArgs gemvInArgs(const Prepared& p, int rows) const;
  GemvNormOutArgs normOutArgs(const Prepared& p, const StepShape& shape) const;
  // Rows per warp of the GEMV of a linear before a folded norm at `rows` rows (<= kMaxGemvRows):
  // 2 where its pair is planned and asked for (LLMC_CUDA_GEMV_PAIR), else 1; and its block count,
  // the partials per row its consumers add up.
  int normOutRowsPerWarp(const Prepared& p, int rows) const;
  int normOutBlocks(const Prepared& p, int rows) const;
  // Where value v is in this step: its arena slot, or its slot in fusedOut_ when it is a relocated
  // GLU-fused output and the step runs the fused GEMV (rows <= kMaxGemvRows).
  float* valuePtr(int v, const StepShape& shape) const;
  // Decides handoff_ (Handoff.cpp).
  void planHandoff();
  // The type value v has in this step: its handoff_ type in prefill steps where every linear
  // involved runs through cuBLASLt, else f32.
  engine::DType handoffType(int v, const StepShape& shape) const;
  Status allocateBuffers();
  Status allocateKvCache();
  Status checkBatch(const StepBatch& batch) const;
  Status uploadMetadata(const StepBatch& batch, StepShape* shape);
  // Checks and uploads the batch, then enqueues the program and its tail (a decode step through
  // its graph); no synchronisation.
  Status runStep(const StepBatch& batch, Tail tail, StepShape* shape);
  // Enqueues the whole program on stream_ (no synchronisation; capturable).
  Status enqueueProgram(const StepShape& shape);
  // The program, then the tail: the logits rows into logitsRows_ when the output has all rows, or
  // their argmax into argmaxOut_.
  Status enqueueProgramAndTail(const StepShape& shape, Tail tail);
  // Where the step's [nseq, vocab] logits are after enqueueProgramAndTail(shape, kLogits).
  const float* logitsRowsOf(const StepShape& shape) const;
  Status enqueueStep(const Prepared& p, const StepShape& shape);
  Status enqueueAttention(const Prepared& p, const StepShape& shape, float* const* in, engine::DType inType, float* out,
                          engine::DType outType);
  Status enqueueLinear(const Prepared& p, const void* x, engine::DType xType, void* y, engine::DType yType, int rows,
                       const GemvInArgs& nin);
  Status runDecodeGraph(const StepShape& shape, Tail tail);
  // The sampling kernels over the step's logits rows (GpuSampler.cpp); their ids into sampler_.
  Status enqueueSampleTail(const float* logits, const int32_t* rowIds, int vocab, const StepShape& shape);
  int decodeSplits(int nseq, int numKvHeads, int group, int numHeads) const;
  // Whether an attention step of this shape, with q/k/v of type inType, runs the rope + KV append
  // inside the decode attention kernel.
  bool fusesRope(const StepShape& shape, engine::DType inType) const;

  template <typename... Args>
  Status launch(cudaKernel_t k, dim3 grid, dim3 block, size_t smem, const char* what, Args... args);
  // The same with a thread-block cluster of (clusterX, 1, 1) blocks (sm_90; 0: no cluster).
  template <typename... Args>
  Status launchInCluster(cudaKernel_t k, dim3 grid, dim3 block, unsigned clusterX, const char* what, Args... args);
  Status launchArgv(cudaKernel_t k, dim3 grid, dim3 block, size_t smem, unsigned clusterX, const char* what,
                    void** argv);
  // Whether decode attention merges its splits inside a thread-block cluster (LLMC_CUDA_ATTN_CLUSTER
  // asked for it, sm_90, fused combine); decodeSplits then caps the splits at kMaxClusterSplits.
  bool clusterMerge() const;

  int device_ = 0;
  int cc_ = 0;
  int smCount_ = 0;
  int smemOptin_ = 0;
  const Engine* engine_ = nullptr;
  BackendOptions options_;
  KernelPlan plan_;
  std::unique_ptr<KernelLibrary> lib_;
  Stream stream_;
  DeviceWeights weights_;
  std::unique_ptr<LtGemm> lt_;
  std::vector<Prepared> prepared_;

  int tmax_ = 0, tpadMax_ = 0, maxSeq_ = 0, maxBlocksPerSeq_ = 0;
  DeviceBuffer arena_;       // arenaPerToken * tpadMax_ floats
  DeviceBuffer scratch_;     // outputs that overlap an input other than in place
  DeviceBuffer qScratch_;    // roped q: [tmax, max nh * hd]
  DeviceBuffer castScratch_; // activations narrowed for cuBLASLt: [tmax, max K] 16-bit
  DeviceBuffer partials_;    // flash-decoding: m, l [maxSeq, nh, splits]; acc [maxSeq, nh, splits, hd]
  DeviceBuffer attnCounters_;  // fused decode attention: arrival counters [maxSeq, nh] (zeroed once)
  // GLU-fused outputs that their plan slot cannot hold when written one step early (relocated_[v]:
  // float offset in fusedOut_, or -1), kMaxGemvRows rows each.
  DeviceBuffer fusedOut_;
  std::vector<int64_t> relocated_;
  int64_t fusedOutFloats_ = 0;
  int gluPairs_ = 0;
  int gluRelocated_ = 0;  // GLU-fused outputs among relocated_ (NormFusion adds its own)
  // Folded norms: per site the values involved, the f32 norm weight, and where its statistics go:
  // normStats_ holds per site the producer's per-block partial sums [blocks * kMaxGemvRows].
  struct NormSite {
    int sum = -1, normed = -1, residual = -1;
    const float* normW = nullptr;
    float offset = 0.f, eps = 0.f;
    int64_t statsOffset = 0;  // floats into normStats_
    int producer = -1;        // index of the GEMV that writes the partials, in prepared_
  };
  std::vector<NormSite> normSites_;
  DeviceBuffer normStats_;
  DeviceBuffer invFreq_;     // every rope step's inv_freq, concatenated
  DeviceBuffer logitsRows_;  // [maxSeq, vocab] gathered last rows when the output has all rows
  int64_t scratchFloats_ = 0, qScratchFloats_ = 0, castElems_ = 0;
  int64_t partialAccFloats_ = 0, partialMFloats_ = 0;
  int maxSplits_ = 1;

  // Metadata, int32, same layout on host (pinned) and device:
  //   seqLens[maxSeq] lastRows[maxSeq] tokens[tmax] positions[tmax] slots[tmax]
  //   tiles64[maxTiles64 * 4] tiles32[maxTiles32 * 4] | blockTables[maxSeq * maxBlocksPerSeq]
  PinnedBuffer metaHost_;
  DeviceBuffer metaDev_;
  int64_t offSeqLens_ = 0, offLastRows_ = 0, offTokens_ = 0, offPositions_ = 0, offSlots_ = 0;
  int64_t offTiles64_ = 0, offTiles32_ = 0, offTables_ = 0, headerInts_ = 0;
  int maxTiles64_ = 0, maxTiles32_ = 0;
  PinnedBuffer logitsHost_;
  // Device argmax (llmc_argmax_rows; null for engines built before it existed): per-block partial
  // maxima and indices [maxSeq, kArgmaxMaxParts], per-row tickets [maxSeq] (zeroed once), ids [maxSeq].
  cudaKernel_t argmaxRows_ = nullptr;
  DeviceBuffer argmaxScratch_;
  float* argmaxPartV_ = nullptr;
  int32_t* argmaxPartI_ = nullptr;
  uint32_t* argmaxCounters_ = nullptr;
  int32_t* argmaxOut_ = nullptr;
  PinnedBuffer argmaxHost_;
  // Device sampling (GpuSampler.h; unavailable for engines built before its kernels existed).
  GpuSampler sampler_;

  // KV cache: one pool; layer l's [num_blocks, 2, nkv, bs, hd] starts at kvLayerOffset_[l] bytes.
  DeviceBuffer kv_;
  std::vector<uint64_t> kvLayerOffset_;
  std::vector<uint64_t> kvBlockBytes_;  // bytes of one block in layer l
  int64_t kvBlocks_ = 0;

  bool graphs_ = true;
  bool prefillTc_ = true;
  bool handoffAllowed_ = true;
  bool fusedAttn_ = true;
  bool fusedGlu_ = true;
  bool fusedNorm_ = true;
  bool gemmAutotune_ = false;
  bool fusedRope_ = true;
  // Decode attention blocks per SM the split count aims at (LLMC_CUDA_DECODE_BLOCKS_PER_SM, 1..16).
  int decodeBlocksPerSm_ = 2;
  // Preferred shared-memory carveout (percent) set on every kernel; -1: the driver's choice
  // (LLMC_CUDA_SMEM_CARVEOUT).
  int smemCarveout_ = -1;
  // 1: GEMVs and decode attention release their dependent launch before waiting for their
  // predecessor, not after (LLMC_CUDA_EARLY_TRIGGER=0|1).
  int earlyTrigger_ = 0;
  // At most this many MiB of the o_proj weight are asked into L2 by extra blocks of each decode
  // attention launch, so the weight stream runs while attention is latency-bound; 0: off
  // (LLMC_CUDA_L2_PREFETCH_MB, 0..1024). It pays since the GEMVs' weight loads are L2 evict_first
  // (loadStream16), which no longer push the prefetched lines out (docs/perf.md).
  int l2PrefetchMb_ = 16;
  // 1: that prefetch skips the head of every o_proj row (kGemvFirstRoundBytes): the GEMV's blocks
  // resident during attention request it into registers before their wait, so the prefetch covers
  // the row tails they read after it instead of whole rows of the weight's head
  // (LLMC_CUDA_L2_PREFETCH_TAILS=0|1; the cap above still applies).
  int l2PrefetchTails_ = 0;
  // LLMC_CUDA_ATTN_L2_AHEAD=0..1024: decode attention's blocks ask L2, before their wait, for the
  // K/V rows of up to that many keys past the first groups they load into registers, so the key
  // loop's later loads after the wait hit L2. Off by default: not yet measured (docs/perf.md).
  int attnL2Ahead_ = 0;
  // 1: decode attention's split blocks of a head group form a thread-block cluster and merge
  // through each other's shared memory (sm_90; at most kMaxClusterSplits splits), instead of
  // global partials and an arrival counter (LLMC_CUDA_ATTN_CLUSTER=0|1).
  int attnCluster_ = 0;
  // Decode kernels left out for a timing diagnostic (DecodeAblation.h; LLMC_CUDA_ABLATE): 0 = none.
  unsigned ablate_ = 0;
  // The decode kernel kind of a step (an AblateKind bit; 0 for the other steps).
  unsigned decodeKindOf(const Prepared& p) const;
  bool ablated(const Prepared& p) const { return (ablate_ & decodeKindOf(p)) != 0; }
  // Kinds (AblateKind bits) whose dependents launch only as their blocks exit, not once all of
  // their blocks have waited (LLMC_CUDA_TRIGGER_AT_EXIT=down,...; an A/B knob, docs/perf.md).
  unsigned triggerAtExit_ = 0;
  // Kinds (AblateKind bits) whose GEMVs ask L2 for each row past their first round of register
  // loads before their wait (LLMC_CUDA_GEMV_L2_TAILS=o_proj,...; an A/B knob, docs/perf.md).
  unsigned gemvL2Tails_ = 0;
  // Kinds (AblateKind bits) whose plain GEMVs (no norm epilogue, not GLU-fused: in practice qkv)
  // stream two rows per warp, half as many blocks. On for qkv: +1.1% decode on an H100
  // (docs/perf.md); LLMC_CUDA_GEMV_PAIR=none turns it off.
  unsigned gemvPair_ = kAblateQkv;
  // Kinds whose plain GEMVs stream three rows per warp where planned (qkv, M <= 2): Llama-2-7B's
  // QKV in one wave of 1024 blocks instead of 1.45 waves of pairs (+2.5% decode on an H100,
  // docs/perf.md). gemvTripleAuto_ (the default): only where preferGemvTriple finds that shape the
  // one that fits one wave; LLMC_CUDA_GEMV_TRIPLE=qkv|none (or setGemvTriple) decides instead.
  unsigned gemvTriple_ = kAblateQkv;
  bool gemvTripleAuto_ = true;
  // Blocks of `threads` threads of kernel k resident at once on the whole GPU (0 when unknown).
  int64_t residentSlots(cudaKernel_t k, int threads) const;
  // 1: GEMVs after a folded norm copy its partials into shared memory right after their wait
  // (GemvInArgs::earlyParts; LLMC_CUDA_EARLY_NORM_PARTS=0|1, an A/B knob, docs/perf.md).
  int earlyNormParts_ = 0;
  // The GEMV / decode attention `earlyTrigger` argument for a step: 2 (at exit), or earlyTrigger_.
  int triggerMode(const Prepared& p) const { return (triggerAtExit_ & decodeKindOf(p)) != 0 ? 2 : earlyTrigger_; }
  std::vector<engine::DType> handoff_;  // per value: its 16-bit prefill type, or f32 (never narrowed)
  std::unique_ptr<Backend> graph_;  // set when the engine holds a graph program; it does the work
  bool pdl_ = false;  // programmatic dependent launch (sm_90+; LLMC_CUDA_PDL=0 disables)
  bool pdlAllowed_ = true;
  // Decode graphs and the eager runs before each capture, by (batch size, tail).
  std::map<std::pair<int, Tail>, GraphExec> decodeGraphs_;
  std::map<std::pair<int, Tail>, int> decodeRuns_;
  StepTimer stepTimer_;  // LLMC_CUDA_STEP_TIMING=1: device vs host time per decode step
  DecodeTrace trace_;    // LLMC_CUDA_TRACE=N: the block timeline of argmax step N (trace kernels)
};

// The kernels' ActType code (common.cuh) of an activation type: f32 0, bf16 1, f16 2.
int actTypeCode(engine::DType t);

// Launches `k` on the backend's stream with `args` (copied: each must have exactly the type of
// the kernel's parameter, see the LLMC_DEFINE_* macros in codegen/cuda/kernels).
// With pdl_ the launch carries the programmatic-serialization attribute: the kernel may start
// while its predecessor finishes, and waits for it with griddepcontrol.wait (common.cuh). Should
// the runtime refuse the attribute, PDL is switched off and the launch repeated without it.
template <typename... Args>
Status CudaBackend::launch(cudaKernel_t k, dim3 grid, dim3 block, size_t smem, const char* what, Args... args) {
  void* argv[] = {static_cast<void*>(&args)...};
  return launchArgv(k, grid, block, smem, 0, what, argv);
}
template <typename... Args>
Status CudaBackend::launchInCluster(cudaKernel_t k, dim3 grid, dim3 block, unsigned clusterX, const char* what,
                                    Args... args) {
  void* argv[] = {static_cast<void*>(&args)...};
  return launchArgv(k, grid, block, 0, clusterX, what, argv);
}

}  // namespace llmc::cuda

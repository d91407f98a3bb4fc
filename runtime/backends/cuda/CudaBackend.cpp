// CudaBackend.cpp - prepare (kernels, weights, buffers, KV pool), forward (metadata upload, the
// program or its decode graph, logits download), copyBlock. The per-op launches are in CudaSteps.cpp.
#include "CudaBackend.h"

#include "DecodeAblation.h"

#include "graph/CudaGraphBackend.h"

#include "DeviceLimits.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

namespace llmc {

StatusOr<std::unique_ptr<Backend>> createCudaBackend() {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return Unavailable(std::string("cuda backend: no CUDA device (") + cudaGetErrorString(e) + ")");
  }
  if (n <= 0) return Unavailable("cuda backend: no CUDA device");
  int device = 0;
  if (const char* d = std::getenv("LLMC_CUDA_DEVICE"); d && *d) {
    device = std::atoi(d);
    if (device < 0 || device >= n)
      return InvalidArgument("LLMC_CUDA_DEVICE=" + std::string(d) + ": this machine has " + std::to_string(n) + " CUDA device(s)");
  }
  return std::unique_ptr<Backend>(new cuda::CudaBackend(device));
}

namespace cuda {
namespace {

// An integer knob from the environment: unset or empty leaves *out alone; anything but a whole
// number in [lo, hi] is an error naming the variable.
Status envIntInRange(const char* name, int lo, int hi, int* out) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return Status::Ok();
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (*end != '\0' || n < lo || n > hi)
    return InvalidArgument(std::string(name) + "=" + v + ": expected a whole number in " + std::to_string(lo) + ".." +
                           std::to_string(hi));
  *out = static_cast<int>(n);
  return Status::Ok();
}

// A list of decode kernel kinds from the environment (parseDecodeKinds): unset or empty leaves
// *mask alone. *given (if asked for): whether the variable was set.
Status envDecodeKinds(const char* name, unsigned* mask, bool* given = nullptr) {
  const char* v = std::getenv(name);
  const bool set = v != nullptr && *v != '\0';
  if (given != nullptr) *given = set;
  return set ? parseDecodeKinds(v, mask, name) : Status::Ok();
}

}  // namespace


namespace {

int64_t roundUp(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

}  // namespace

int64_t CudaBackend::residentSlots(cudaKernel_t k, int threads) const {
  int perSm = 0;
  if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&perSm, reinterpret_cast<const void*>(k), threads, 0) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return static_cast<int64_t>(perSm) * smCount_;
}

CudaBackend::~CudaBackend() {
  if (stream_) cudaStreamSynchronize(stream_.get());
}

Status CudaBackend::prepare(const Engine& engine, const BackendOptions& options) {
  if (engine_ || graph_) return Internal("cuda backend: prepare called twice");
  if (engine.graph()) {  // generic ops: graph_ops.cuh through the graph runner
    graph_ = std::make_unique<graph::CudaGraphBackend>(device_);
    return graph_->prepare(engine, options);
  }
  if (options.maxBatchTokens <= 0 || options.maxSequences <= 0 || options.kvBlockSize <= 0 || options.kvBlocks < 0 ||
      !(options.memoryFraction > 0.0 && options.memoryFraction <= 1.0)) {
    return InvalidArgument("cuda backend: maxBatchTokens, maxSequences and kvBlockSize must be positive and "
                           "memoryFraction in (0, 1]");
  }
  engine_ = &engine;
  options_ = options;
  if (const char* g = std::getenv("LLMC_CUDA_GRAPHS"); g && std::string(g) == "0") graphs_ = false;
  if (const char* t = std::getenv("LLMC_CUDA_PREFILL_TC"); t && std::string(t) == "0") prefillTc_ = false;
  if (const char* h = std::getenv("LLMC_CUDA_HANDOFF"); h && std::string(h) == "0") handoffAllowed_ = false;
  if (const char* f = std::getenv("LLMC_CUDA_FUSED_ATTN"); f && std::string(f) == "0") fusedAttn_ = false;
  if (const char* f = std::getenv("LLMC_CUDA_FUSED_GLU"); f && std::string(f) == "0") fusedGlu_ = false;
  if (const char* f = std::getenv("LLMC_CUDA_FUSED_NORM"); f && std::string(f) == "0") fusedNorm_ = false;
  if (const char* f = std::getenv("LLMC_CUDA_GEMM_AUTOTUNE"); f && *f) gemmAutotune_ = std::string(f) != "0";
  if (const char* f = std::getenv("LLMC_CUDA_FUSED_ROPE"); f && std::string(f) == "0") fusedRope_ = false;
  // A/B knob for the flash-decoding split count (more splits: fewer serial key rounds per block).
  LLMC_RETURN_IF_ERROR(envIntInRange("LLMC_CUDA_DECODE_BLOCKS_PER_SM", 1, 16, &decodeBlocksPerSm_));
  if (const char* f = std::getenv("LLMC_CUDA_EARLY_TRIGGER"); f && *f) earlyTrigger_ = std::string(f) != "0";
  LLMC_RETURN_IF_ERROR(envIntInRange("LLMC_CUDA_SMEM_CARVEOUT", 0, 100, &smemCarveout_));
  LLMC_RETURN_IF_ERROR(envIntInRange("LLMC_CUDA_L2_PREFETCH_MB", 0, 1024, &l2PrefetchMb_));
  LLMC_RETURN_IF_ERROR(envIntInRange("LLMC_CUDA_L2_PREFETCH_TAILS", 0, 1, &l2PrefetchTails_));
  LLMC_RETURN_IF_ERROR(envIntInRange("LLMC_CUDA_ATTN_L2_AHEAD", 0, 1024, &attnL2Ahead_));
  LLMC_RETURN_IF_ERROR(envIntInRange("LLMC_CUDA_ATTN_CLUSTER", 0, 1, &attnCluster_));
  LLMC_RETURN_IF_ERROR(envIntInRange("LLMC_CUDA_EARLY_NORM_PARTS", 0, 1, &earlyNormParts_));
  LLMC_RETURN_IF_ERROR(envDecodeKinds("LLMC_CUDA_TRIGGER_AT_EXIT", &triggerAtExit_));
  LLMC_RETURN_IF_ERROR(envDecodeKinds("LLMC_CUDA_GEMV_L2_TAILS", &gemvL2Tails_));
  LLMC_RETURN_IF_ERROR(envDecodeKinds("LLMC_CUDA_GEMV_PAIR", &gemvPair_));
  bool tripleGiven = false;  // the variable decides instead of preferGemvTriple
  LLMC_RETURN_IF_ERROR(envDecodeKinds("LLMC_CUDA_GEMV_TRIPLE", &gemvTriple_, &tripleGiven));
  if (tripleGiven) gemvTripleAuto_ = false;
  LLMC_RETURN_IF_ERROR(envDecodeKinds("LLMC_CUDA_ABLATE", &ablate_));
  if (const char* f = std::getenv("LLMC_CUDA_ABLATE"); f && *f) {
    std::fprintf(stderr, "llmc: LLMC_CUDA_ABLATE=%s: decode leaves those kernels out; its outputs are wrong "
                 "(a timing diagnostic, docs/perf.md)\n", f);
  }

  LLMC_CUDA_CHECK(cudaSetDevice(device_));
  int major = 0, minor = 0;
  LLMC_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device_));
  LLMC_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device_));
  LLMC_CUDA_CHECK(cudaDeviceGetAttribute(&smCount_, cudaDevAttrMultiProcessorCount, device_));
  LLMC_CUDA_CHECK(cudaDeviceGetAttribute(&smemOptin_, cudaDevAttrMaxSharedMemoryPerBlockOptin, device_));
  cc_ = 10 * major + minor;
  const char* pdlEnv = std::getenv("LLMC_CUDA_PDL");
  pdl_ = pdlAllowed_ && cc_ >= 90 && !(pdlEnv && std::string(pdlEnv) == "0");
  LLMC_ASSIGN_OR_RETURN(stream_, createStream());
  LLMC_ASSIGN_OR_RETURN(lib_, KernelLibrary::load(engine.file(), cc_, smemCarveout_));
  LLMC_RETURN_IF_ERROR(trace_.init(*lib_, engine.file().path()));

  // The plan decides the KV-cache dtype exactly as the codegen did.
  const SectionView* programSection = engine.file().find(engine::kSectionProgram);
  if (programSection == nullptr) return InvalidArgument(engine.path() + ": no program section");
  const nlohmann::json program = nlohmann::json::parse(programSection->bytes, nullptr, false);
  if (program.is_discarded()) return InvalidArgument(engine.path() + ": program: not JSON");
  std::map<std::string, WeightDesc> descs;
  for (const WeightInfo& w : engine.weights()) descs[w.name] = WeightDesc{w.dtype, w.shape};
  auto lookup = [&descs](const std::string& n) -> const WeightDesc* {
    auto it = descs.find(n);
    return it == descs.end() ? nullptr : &it->second;
  };
  LLMC_ASSIGN_OR_RETURN(plan_, planKernels(program, lookup));

  LLMC_RETURN_IF_ERROR(prepareSteps());
  planGluFusion(program);
  LLMC_RETURN_IF_ERROR(planNormFusion());
  planHandoff();
  LLMC_ASSIGN_OR_RETURN(lt_, LtGemm::create(32ull << 20, gemmAutotune_));
  LLMC_RETURN_IF_ERROR(allocateBuffers());
  LLMC_RETURN_IF_ERROR(allocateKvCache());
  if (options.verbose) {
    size_t freeB = 0, totalB = 0;
    cudaMemGetInfo(&freeB, &totalB);
    std::fprintf(stderr,
                 "cuda backend: sm_%d, %d SMs, kernels %s; weights %.1f MiB; KV pool %lld blocks (%.1f MiB); "
                 "%.1f of %.1f GiB free\n",
                 cc_, smCount_, lib_->section().c_str(), weights_.bytes() / 1048576.0,
                 static_cast<long long>(kvBlocks_), kv_.bytes() / 1048576.0, freeB / 1073741824.0,
                 totalB / 1073741824.0);
  }
  return Status::Ok();
}

Status CudaBackend::prepareSteps() {
  const Program& prog = engine_->program();
  const auto& infos = engine_->weights();
  std::set<int> used, f32Copies;
  std::vector<float> invFreq;
  std::vector<int64_t> invFreqAt(prog.steps.size(), -1);
  for (size_t i = 0; i < prog.steps.size(); ++i) {
    const Step& s = prog.steps[i];
    if (s.weight >= 0) used.insert(s.weight);
    if (s.bias >= 0) (s.op == OpKind::kLinear ? f32Copies : used).insert(s.bias);
    // A folded norm (NormFusion.cpp) reads its weight as f32 in the GEMV epilogue.
    if (s.op == OpKind::kAddRmsNorm && fusedNorm_ && s.weight >= 0) f32Copies.insert(s.weight);
    if ((s.op == OpKind::kRope || s.op == OpKind::kQkvAttention) && !s.attrs.invFreq.empty()) {
      invFreqAt[i] = static_cast<int64_t>(invFreq.size());
      invFreq.insert(invFreq.end(), s.attrs.invFreq.begin(), s.attrs.invFreq.end());
    }
  }
  LLMC_RETURN_IF_ERROR(weights_.upload(*engine_, used, f32Copies, stream_.get()));
  LLMC_ASSIGN_OR_RETURN(invFreq_, DeviceBuffer::allocate(std::max<size_t>(invFreq.size(), 1) * 4, "rope frequencies"));
  if (!invFreq.empty()) {
    // On stream_ and waited for: a plain cudaMemcpy from pageable memory may return before its DMA
    // lands, and stream_ (non-blocking) would not wait for it.
    LLMC_CUDA_CHECK(cudaMemcpyAsync(invFreq_.get(), invFreq.data(), invFreq.size() * 4, cudaMemcpyHostToDevice, stream_.get()));
    LLMC_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
  }

  auto get = [&](const std::string& name) { return lib_->get(name); };
  prepared_.clear();
  for (size_t i = 0; i < prog.steps.size(); ++i) {
    const Step& s = prog.steps[i];
    const std::string where = engine_->path() + ": program.steps[" + std::to_string(i) + "] (" + opKindName(s.op) + ")";
    Prepared p;
    p.step = &s;
    if (s.weight >= 0) {
      p.w = weights_.get(s.weight);
      p.wdtype = infos[s.weight].dtype;
    }
    if (invFreqAt[i] >= 0) p.invFreq = invFreq_.as<float>() + invFreqAt[i];
    switch (s.op) {
      case OpKind::kEmbedding: {
        LLMC_ASSIGN_OR_RETURN(p.kernel, get(embeddingKernelName(p.wdtype)));
        break;
      }
      case OpKind::kPositionEmbedding: {
        LLMC_ASSIGN_OR_RETURN(p.kernel, get(positionEmbeddingKernelName(p.wdtype)));
        break;
      }
      case OpKind::kRmsNorm:
      case OpKind::kAddRmsNorm:
      case OpKind::kLayerNorm: {
        const KernelKind kind = s.op == OpKind::kRmsNorm      ? KernelKind::kRmsNorm
                                : s.op == OpKind::kAddRmsNorm ? KernelKind::kAddRmsNorm
                                                              : KernelKind::kLayerNorm;
        const int h = static_cast<int>(infos[s.weight].shape[0]);
        LLMC_ASSIGN_OR_RETURN(p.kernel, get(kernelName({kind, p.wdtype, h, 0})));
        if (s.bias >= 0) {
          if (infos[s.bias].dtype != p.wdtype) return Unsupported(where + ": bias and weight dtypes differ");
          p.b = weights_.get(s.bias);
        }
        break;
      }
      case OpKind::kLinear: {
        p.n = static_cast<int>(infos[s.weight].shape[0]);
        p.k = static_cast<int>(infos[s.weight].shape[1]);
        // Several rows per warp where the plan built them (gemvPairPlanned / gemvTriplePlanned).
        p.beforeAttention = i + 1 < prog.steps.size() && prog.steps[i + 1].op == OpKind::kQkvAttention;
        const bool qkv = p.beforeAttention;
        const bool beforeNorm = i + 1 < prog.steps.size() && prog.steps[i + 1].op == OpKind::kAddRmsNorm;
        for (int m = 1; m <= kMaxGemvRows; ++m) {
          LLMC_ASSIGN_OR_RETURN(p.gemv[m], get(kernelName({KernelKind::kGemv, p.wdtype, p.k, m})));
          if (gemvPairPlanned(qkv, beforeNorm, p.n, m)) {
            LLMC_ASSIGN_OR_RETURN(p.gemvPair[m], get(kernelName({KernelKind::kGemvPair, p.wdtype, p.k, m})));
          }
          if (gemvTriplePlanned(qkv, p.n, m)) {
            LLMC_ASSIGN_OR_RETURN(p.gemvTriple[m], get(kernelName({KernelKind::kGemvTriple, p.wdtype, p.k, m})));
            // By default only where it makes the grid one wave (preferGemvTriple); the knob forces it.
            const bool pair = p.gemvPair[m] != nullptr && (gemvPair_ & kAblateQkv) != 0;
            if (gemvTripleAuto_ &&
                !preferGemvTriple(p.n, pair ? 2 : 1, residentSlots(pair ? p.gemvPair[m] : p.gemv[m], kGemvThreads),
                                  residentSlots(p.gemvTriple[m], kGemvThreads)))
              p.gemvTriple[m] = nullptr;
          }
        }
        if (p.wdtype != engine::DType::kF32) {
          LLMC_ASSIGN_OR_RETURN(p.kernel, get(castKernelName(p.wdtype)));
        }
        p.biasF32 = weights_.f32(s.bias);
        break;
      }
      case OpKind::kSplit: {
        LLMC_ASSIGN_OR_RETURN(p.kernel, get("llmc_copy_cols"));
        break;
      }
      case OpKind::kRope: {
        LLMC_ASSIGN_OR_RETURN(p.kernel, get("llmc_rope"));
        break;
      }
      case OpKind::kAttention:
      case OpKind::kQkvAttention: {
        const StepAttrs& a = s.attrs;
        const int hd = static_cast<int>(a.headDim);
        p.decodeGroup = decodeGroup(static_cast<int>(a.numHeads), static_cast<int>(a.numKvHeads));
        LLMC_ASSIGN_OR_RETURN(p.ropeKv, get(kernelName({KernelKind::kRopeKvWrite, plan_.kvDtype, hd, 0})));
        LLMC_ASSIGN_OR_RETURN(p.decode, get(kernelName({KernelKind::kAttnDecode, plan_.kvDtype, hd, p.decodeGroup})));
        const std::string prefillName = kernelName({KernelKind::kAttnPrefill, plan_.kvDtype, hd, 0});
        LLMC_ASSIGN_OR_RETURN(p.prefill, get(prefillName));
        p.prefillSmem = prefillSmemBytes(hd);
        if (p.prefillSmem > smemOptin_) {
          return Unsupported(where + ": head_dim " + std::to_string(hd) + " needs " + std::to_string(p.prefillSmem) +
                             " bytes of shared memory per block, this GPU allows " + std::to_string(smemOptin_));
        }
        if (p.prefillSmem > 48 * 1024) LLMC_RETURN_IF_ERROR(lib_->setMaxDynamicSmem(p.prefill, p.prefillSmem, prefillName));
        // The tensor-core prefill where the engine has it (16-bit caches, head_dim 64 / 128; engines
        // built before it existed run the FP32 kernel above).
        if (prefillTc_ && prefillTcSupported(plan_.kvDtype, hd)) {
          const std::string tcName = kernelName({KernelKind::kAttnPrefillTc, plan_.kvDtype, hd, 0});
          if (auto k = get(tcName); k.ok() && prefillTcSmemBytes(hd) <= smemOptin_) {
            p.prefillTc = *k;
            p.prefillTcSmem = prefillTcSmemBytes(hd);
            if (p.prefillTcSmem > 48 * 1024) LLMC_RETURN_IF_ERROR(lib_->setMaxDynamicSmem(p.prefillTc, p.prefillTcSmem, tcName));
          }
        }
        LLMC_ASSIGN_OR_RETURN(p.kernel, get("llmc_attn_combine"));
        break;
      }
      case OpKind::kSilu: {
        LLMC_ASSIGN_OR_RETURN(p.kernel, get("llmc_silu"));
        break;
      }
      case OpKind::kGelu: {
        LLMC_ASSIGN_OR_RETURN(p.kernel, get(s.attrs.approximate == GeluApprox::kTanh ? "llmc_gelu_tanh" : "llmc_gelu"));
        break;
      }
      case OpKind::kAdd: {
        LLMC_ASSIGN_OR_RETURN(p.kernel, get("llmc_add"));
        break;
      }
      case OpKind::kMul: {
        LLMC_ASSIGN_OR_RETURN(p.kernel, get("llmc_mul"));
        break;
      }
      case OpKind::kGlu: {
        const char* name = s.attrs.activation == GluActivation::kSilu       ? "llmc_glu_silu"
                           : s.attrs.activation == GluActivation::kGeluTanh ? "llmc_glu_gelu_tanh"
                                                                            : "llmc_glu_gelu";
        LLMC_ASSIGN_OR_RETURN(p.kernel, get(name));
        break;
      }
      case OpKind::kLastToken: {
        LLMC_ASSIGN_OR_RETURN(p.kernel, get("llmc_gather_rows"));
        break;
      }
    }
    prepared_.push_back(p);
  }
  // Each attention's L2 prefetch target: the weight of the next linear (its o_proj), which is
  // marked as the one that waits for attention (what LLMC_CUDA_ABLATE=o_proj leaves out).
  for (size_t i = 0; i < prepared_.size(); ++i) {
    Prepared& a = prepared_[i];
    if (a.step->op != OpKind::kAttention && a.step->op != OpKind::kQkvAttention) continue;
    for (size_t j = i + 1; j < prepared_.size(); ++j) {
      const Step& next = *prepared_[j].step;
      if (next.op != OpKind::kLinear) continue;
      a.prefetchW = prepared_[j].w;
      a.prefetchBytes = infos[next.weight].nbytes / 16 * 16;
      a.prefetchRowBytes = static_cast<uint64_t>(prepared_[j].k) * engine::dtypeBytes(prepared_[j].wdtype);
      prepared_[j].afterAttention = true;
      break;
    }
  }
  return Status::Ok();
}

int CudaBackend::handoffValues() const {
  int n = 0;
  for (engine::DType t : handoff_) n += t != engine::DType::kF32;
  return n;
}

bool CudaBackend::usesPrefillTc() const {
  bool any = false;
  for (const Prepared& p : prepared_) {
    if (p.step->op != OpKind::kAttention && p.step->op != OpKind::kQkvAttention) continue;
    if (p.prefillTc == nullptr) return false;
    any = true;
  }
  return any;
}

Status CudaBackend::allocateBuffers() {
  const Program& prog = engine_->program();
  maxSeq_ = options_.maxSequences;
  tmax_ = std::max(options_.maxBatchTokens, options_.maxSequences);
  tpadMax_ = static_cast<int>(roundUp(tmax_, 4));
  const int64_t bs = options_.kvBlockSize;
  maxBlocksPerSeq_ = static_cast<int>((engine_->config().maxPosition + bs - 1) / bs);

  LLMC_ASSIGN_OR_RETURN(arena_, DeviceBuffer::allocate(std::max<int64_t>(prog.arenaPerToken, 1) * tpadMax_ * 4, "the activation arena"));
  int64_t maxNh = 1, maxHd = 1, maxQ = 1;
  for (const Prepared& p : prepared_) {
    const Step& s = *p.step;
    int64_t outFloats = 0;
    for (int o : s.out) outFloats += roundUp(prog.values[o].width * tpadMax_, 64);
    scratchFloats_ = std::max(scratchFloats_, outFloats);
    if (s.op == OpKind::kAttention || s.op == OpKind::kQkvAttention) {
      maxNh = std::max(maxNh, s.attrs.numHeads);
      maxHd = std::max(maxHd, s.attrs.headDim);
      maxQ = std::max(maxQ, s.attrs.numHeads * s.attrs.headDim);
    }
    if (s.op == OpKind::kLinear && p.wdtype != engine::DType::kF32)
      castElems_ = std::max<int64_t>(castElems_, static_cast<int64_t>(p.k) * tmax_);
  }
  LLMC_ASSIGN_OR_RETURN(scratch_, DeviceBuffer::allocate(std::max<int64_t>(scratchFloats_, 1) * 4, "step scratch"));
  qScratchFloats_ = maxQ * tmax_;
  LLMC_ASSIGN_OR_RETURN(qScratch_, DeviceBuffer::allocate(qScratchFloats_ * 4, "the rotated queries"));
  LLMC_ASSIGN_OR_RETURN(castScratch_, DeviceBuffer::allocate(std::max<int64_t>(castElems_, 1) * 2, "cuBLASLt operands"));
  maxSplits_ = kMaxDecodeSplits;
  partialMFloats_ = static_cast<int64_t>(maxSplits_) * maxSeq_ * maxNh;
  partialAccFloats_ = partialMFloats_ * maxHd;
  LLMC_ASSIGN_OR_RETURN(partials_, DeviceBuffer::allocate((2 * partialMFloats_ + partialAccFloats_) * 4, "attention partials"));
  // One counter per (sequence, head group) of a decode launch; every launch leaves them at zero,
  // so all layers share them (layers run one after another: each kernel waits for its predecessor).
  LLMC_ASSIGN_OR_RETURN(attnCounters_, DeviceBuffer::allocate(static_cast<int64_t>(maxSeq_) * maxNh * 4, "attention counters"));
  LLMC_CUDA_CHECK(cudaMemsetAsync(attnCounters_.get(), 0, attnCounters_.bytes(), stream_.get()));
  LLMC_ASSIGN_OR_RETURN(fusedOut_, DeviceBuffer::allocate(std::max<int64_t>(fusedOutFloats_, 1) * 4, "fused decode outputs"));

  const int64_t vocab = prog.values[prog.output].width;
  LLMC_ASSIGN_OR_RETURN(logitsRows_, DeviceBuffer::allocate(vocab * maxSeq_ * 4, "logits rows"));
  LLMC_ASSIGN_OR_RETURN(logitsHost_, PinnedBuffer::allocate(vocab * maxSeq_ * 4, "logits"));
  // Device argmax: optional, so that engines built before llmc_argmax_rows existed still run.
  if (auto k = lib_->get("llmc_argmax_rows"); k.ok()) {
    argmaxRows_ = *k;
    const int64_t parts = static_cast<int64_t>(maxSeq_) * kArgmaxMaxParts;
    LLMC_ASSIGN_OR_RETURN(argmaxScratch_, DeviceBuffer::allocate((2 * parts + 2 * maxSeq_) * 4, "argmax scratch"));
    argmaxPartV_ = argmaxScratch_.as<float>();
    argmaxPartI_ = reinterpret_cast<int32_t*>(argmaxPartV_ + parts);
    argmaxCounters_ = reinterpret_cast<uint32_t*>(argmaxPartI_ + parts);
    argmaxOut_ = reinterpret_cast<int32_t*>(argmaxCounters_ + maxSeq_);
    LLMC_CUDA_CHECK(cudaMemsetAsync(argmaxScratch_.get(), 0, argmaxScratch_.bytes(), stream_.get()));
    LLMC_ASSIGN_OR_RETURN(argmaxHost_, PinnedBuffer::allocate(maxSeq_ * 4, "argmax ids"));
  }
  // Device sampling, equally optional; a history holds at most max_position + 1 tokens.
  LLMC_RETURN_IF_ERROR(sampler_.prepare(*lib_, maxSeq_, static_cast<int>(vocab), engine_->config().maxPosition + 1));

  maxTiles64_ = static_cast<int>((tmax_ + 63) / 64 + maxSeq_);
  maxTiles32_ = static_cast<int>((tmax_ + 31) / 32 + maxSeq_);
  offSeqLens_ = 0;
  offLastRows_ = offSeqLens_ + maxSeq_;
  offTokens_ = offLastRows_ + maxSeq_;
  offPositions_ = offTokens_ + tmax_;
  offSlots_ = offPositions_ + tmax_;
  offTiles64_ = offSlots_ + tmax_;
  offTiles32_ = offTiles64_ + 4 * maxTiles64_;
  headerInts_ = offTiles32_ + 4 * maxTiles32_;
  offTables_ = roundUp(headerInts_, 64);
  const int64_t metaInts = offTables_ + static_cast<int64_t>(maxSeq_) * maxBlocksPerSeq_;
  LLMC_ASSIGN_OR_RETURN(metaHost_, PinnedBuffer::allocate(metaInts * 4, "step metadata"));
  LLMC_ASSIGN_OR_RETURN(metaDev_, DeviceBuffer::allocate(metaInts * 4, "step metadata"));
  std::memset(metaHost_.get(), 0, metaInts * 4);
  // On stream_ (non-blocking: it does not wait for the legacy default stream).
  LLMC_CUDA_CHECK(cudaMemsetAsync(metaDev_.get(), 0, metaInts * 4, stream_.get()));
  return Status::Ok();
}

Status CudaBackend::allocateKvCache() {
  const Program& prog = engine_->program();
  const int64_t bs = options_.kvBlockSize;
  const int64_t elem = static_cast<int64_t>(engine::dtypeBytes(plan_.kvDtype));
  uint64_t perBlock = 0;
  kvBlockBytes_.assign(prog.kvLayers.size(), 0);
  for (size_t l = 0; l < prog.kvLayers.size(); ++l) {
    kvBlockBytes_[l] = static_cast<uint64_t>(2 * prog.kvLayers[l].numKvHeads * bs * prog.kvLayers[l].headDim * elem);
    perBlock += kvBlockBytes_[l];
  }
  if (perBlock == 0) {  // a program without attention
    kvBlocks_ = std::max<int64_t>(options_.kvBlocks, 1);
    kvLayerOffset_.assign(prog.kvLayers.size(), 0);
    return Status::Ok();
  }
  if (options_.kvBlocks > 0) {
    kvBlocks_ = options_.kvBlocks;
  } else {
    size_t freeB = 0, totalB = 0;
    LLMC_CUDA_CHECK(cudaMemGetInfo(&freeB, &totalB));
    // Leave room for what is allocated lazily later (cuBLASLt internals, graphs, the context).
    const double reserve = 512.0 * 1024 * 1024;
    const double budget = std::max(0.0, static_cast<double>(freeB) * options_.memoryFraction - reserve);
    const int64_t fit = static_cast<int64_t>(budget / static_cast<double>(perBlock));
    const int64_t want = static_cast<int64_t>(maxSeq_) * maxBlocksPerSeq_;  // never more than can be used
    kvBlocks_ = std::min(fit, want);
    if (kvBlocks_ < 1) {
      return Unavailable("cuda backend: no device memory left for the KV cache (" + std::to_string(freeB >> 20) +
                         " MiB free, one block of " + std::to_string(bs) + " tokens needs " +
                         std::to_string(perBlock >> 10) + " KiB)");
    }
  }
  LLMC_ASSIGN_OR_RETURN(kv_, DeviceBuffer::allocate(static_cast<uint64_t>(kvBlocks_) * perBlock, "the KV cache"));
  kvLayerOffset_.assign(prog.kvLayers.size(), 0);
  uint64_t at = 0;
  for (size_t l = 0; l < prog.kvLayers.size(); ++l) {
    kvLayerOffset_[l] = at;
    at += kvBlockBytes_[l] * static_cast<uint64_t>(kvBlocks_);
  }
  return Status::Ok();
}

Status CudaBackend::copyBlock(int32_t src, int32_t dst) {
  if (graph_) return graph_->copyBlock(src, dst);
  if (!engine_) return Internal("cuda backend: copyBlock before prepare");
  if (src < 0 || src >= kvBlocks_ || dst < 0 || dst >= kvBlocks_) {
    return InvalidArgument("cuda backend: copyBlock(" + std::to_string(src) + ", " + std::to_string(dst) +
                           ") outside the pool of " + std::to_string(kvBlocks_) + " blocks");
  }
  uint8_t* base = kv_.as<uint8_t>();
  for (size_t l = 0; l < kvBlockBytes_.size(); ++l) {
    const uint64_t bb = kvBlockBytes_[l];
    if (bb == 0) continue;
    uint8_t* layer = base + kvLayerOffset_[l];
    LLMC_CUDA_CHECK(cudaMemcpyAsync(layer + dst * bb, layer + src * bb, bb, cudaMemcpyDeviceToDevice, stream_.get()));
  }
  LLMC_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
  return Status::Ok();
}

StatusOr<DeviceLimits> CudaBackend::measureLimits() {
  if (graph_) return Unsupported("cuda backend: a graph engine (generic ops) carries no measurement kernels");
  if (!engine_) return Internal("cuda backend: measureLimits before prepare");
  LLMC_CUDA_CHECK(cudaSetDevice(device_));
  MeasureKernels k;
  LLMC_ASSIGN_OR_RETURN(k.readSum, lib_->get(kReadSumKernel));
  LLMC_ASSIGN_OR_RETURN(k.fillBf16, lib_->get(kFillBf16Kernel));
  LLMC_ASSIGN_OR_RETURN(k.fillF32, lib_->get(kFillF32Kernel));
  LLMC_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
  LimitOptions o;
  o.verbose = options_.verbose;
  return measureDeviceLimits(k, device_, o, stream_.get());
}

Status CudaBackend::checkBatch(const StepBatch& batch) const {
  const int64_t T = static_cast<int64_t>(batch.tokens.size());
  const ModelConfig& cfg = engine_->config();
  if (T == 0 || T > options_.maxBatchTokens) {
    return InvalidArgument("cuda backend: step has " + std::to_string(T) + " tokens, allowed 1.." +
                           std::to_string(options_.maxBatchTokens));
  }
  if (batch.sequences.empty() || static_cast<int>(batch.sequences.size()) > options_.maxSequences) {
    return InvalidArgument("cuda backend: step has " + std::to_string(batch.sequences.size()) +
                           " sequences, allowed 1.." + std::to_string(options_.maxSequences));
  }
  int64_t next = 0, maxEnd = 0;
  for (const SequenceSlice& s : batch.sequences) {
    if (s.tokenBegin != next || s.tokenCount <= 0 || s.startPos < 0)
      return InvalidArgument("cuda backend: sequence slices must cover the tokens in order, each non-empty");
    next += s.tokenCount;
    const int64_t end = static_cast<int64_t>(s.startPos) + s.tokenCount;
    maxEnd = std::max(maxEnd, end);
    if (end > cfg.maxPosition) {
      return InvalidArgument("cuda backend: sequence reaches position " + std::to_string(end) +
                             ", the model's max_position is " + std::to_string(cfg.maxPosition));
    }
    const int64_t needBlocks = (end + options_.kvBlockSize - 1) / options_.kvBlockSize;
    if (needBlocks > static_cast<int64_t>(s.blockTable.size())) {
      return InvalidArgument("cuda backend: block table of " + std::to_string(s.blockTable.size()) +
                             " blocks does not cover position " + std::to_string(end - 1));
    }
    for (int64_t j = 0; j < needBlocks; ++j) {
      const int32_t b = s.blockTable[j];
      if (b < 0 || b >= kvBlocks_) return InvalidArgument("cuda backend: block id " + std::to_string(b) + " outside the pool");
    }
  }
  if (next != T) {
    return InvalidArgument("cuda backend: sequence slices cover " + std::to_string(next) + " of " + std::to_string(T) +
                           " tokens");
  }
  for (int32_t id : batch.tokens) {
    if (id < 0 || id >= cfg.vocabSize) {
      return InvalidArgument("cuda backend: token id " + std::to_string(id) + " outside the vocabulary [0, " +
                             std::to_string(cfg.vocabSize) + ")");
    }
  }
  for (const Step& s : engine_->program().steps) {
    if (s.op != OpKind::kPositionEmbedding) continue;
    const int64_t rows = engine_->weights()[s.weight].shape[0];
    if (maxEnd > rows) {
      return InvalidArgument("cuda backend: position " + std::to_string(maxEnd - 1) + " past the position table (" +
                             std::to_string(rows) + " rows)");
    }
  }
  return Status::Ok();
}

Status CudaBackend::uploadMetadata(const StepBatch& batch, StepShape* shape) {
  const int T = static_cast<int>(batch.tokens.size());
  const int nseq = static_cast<int>(batch.sequences.size());
  const int bs = options_.kvBlockSize;
  int32_t* m = metaHost_.as<int32_t>();
  shape->t = T;
  shape->tpad = static_cast<int>(roundUp(T, 4));
  shape->nseq = nseq;
  shape->decode = true;
  int tiles64 = 0, tiles32 = 0, usedBlocks = 0;
  for (int si = 0; si < nseq; ++si) {
    const SequenceSlice& s = batch.sequences[si];
    if (s.tokenCount != 1) shape->decode = false;
    m[offSeqLens_ + si] = s.startPos + s.tokenCount;
    m[offLastRows_ + si] = s.tokenBegin + s.tokenCount - 1;
    for (int j = 0; j < s.tokenCount; ++j) {
      const int t = s.tokenBegin + j, pos = s.startPos + j;
      m[offPositions_ + t] = pos;
      m[offSlots_ + t] = s.blockTable[pos / bs] * bs + pos % bs;
    }
    // Attention tiles of at most 64 / 32 query rows, never spanning two sequences.
    for (int j = 0; j < s.tokenCount; j += 64, ++tiles64) {
      int32_t* tile = m + offTiles64_ + 4 * tiles64;
      tile[0] = si, tile[1] = s.tokenBegin + j, tile[2] = std::min(64, s.tokenCount - j), tile[3] = s.startPos + j;
    }
    for (int j = 0; j < s.tokenCount; j += 32, ++tiles32) {
      int32_t* tile = m + offTiles32_ + 4 * tiles32;
      tile[0] = si, tile[1] = s.tokenBegin + j, tile[2] = std::min(32, s.tokenCount - j), tile[3] = s.startPos + j;
    }
    const int need = (s.startPos + s.tokenCount + bs - 1) / bs;
    std::memcpy(m + offTables_ + static_cast<int64_t>(si) * maxBlocksPerSeq_, s.blockTable.data(), need * 4);
    usedBlocks = std::max(usedBlocks, need);
  }
  std::memcpy(m + offTokens_, batch.tokens.data(), T * 4);
  shape->tiles64 = tiles64;
  shape->tiles32 = tiles32;
  // Two copies: the fixed-size header and the used part of the block tables (one 2-D copy).
  LLMC_CUDA_CHECK(cudaMemcpyAsync(metaDev_.get(), metaHost_.get(), headerInts_ * 4, cudaMemcpyHostToDevice, stream_.get()));
  const size_t pitch = static_cast<size_t>(maxBlocksPerSeq_) * 4;
  LLMC_CUDA_CHECK(cudaMemcpy2DAsync(metaDev_.as<int32_t>() + offTables_, pitch, m + offTables_, pitch,
                                    static_cast<size_t>(usedBlocks) * 4, nseq, cudaMemcpyHostToDevice, stream_.get()));
  return Status::Ok();
}

Status CudaBackend::runStep(const StepBatch& batch, Tail tail, StepShape* shape) {
  if (!engine_) return Internal("cuda backend: forward before prepare");
  LLMC_RETURN_IF_ERROR(checkBatch(batch));
  LLMC_CUDA_CHECK(cudaSetDevice(device_));
  LLMC_RETURN_IF_ERROR(uploadMetadata(batch, shape));
  if (shape->decode && graphs_) return runDecodeGraph(*shape, tail);
  return enqueueProgramAndTail(*shape, tail);
}

const float* CudaBackend::logitsRowsOf(const StepShape& shape) const {
  const Program& prog = engine_->program();
  const ValueInfo& ov = prog.values[prog.output];
  if (ov.rows == Rows::kAll) return logitsRows_.as<float>();
  return arena_.as<float>() + ov.offset * shape.tpad;
}

Status CudaBackend::enqueueProgramAndTail(const StepShape& shape, Tail tail) {
  LLMC_RETURN_IF_ERROR(enqueueProgram(shape));
  const Program& prog = engine_->program();
  const ValueInfo& ov = prog.values[prog.output];
  const int vocab = static_cast<int>(ov.width);
  const float* out = arena_.as<float>() + ov.offset * shape.tpad;
  // An output with all rows contributes each sequence's last row (metadata lastRows).
  const int32_t* lastRows = ov.rows == Rows::kAll ? metaDev_.as<const int32_t>() + offLastRows_ : nullptr;
  if (tail == Tail::kSample) return enqueueSampleTail(out, lastRows, vocab, shape);
  if (tail == Tail::kArgmax) {
    const int chunk = argmaxChunk(vocab), parts = argmaxParts(vocab);
    return launch(argmaxRows_, dim3(parts, shape.nseq), dim3(256), 0, "llmc_argmax_rows", out, lastRows, vocab, chunk,
                  argmaxPartV_, argmaxPartI_, argmaxCounters_, argmaxOut_);
  }
  if (lastRows == nullptr) return Status::Ok();
  LLMC_ASSIGN_OR_RETURN(cudaKernel_t gather, lib_->get("llmc_gather_rows"));
  const uint64_t n = static_cast<uint64_t>(shape.nseq) * vocab;
  return launch(gather, dim3(static_cast<unsigned>(std::min<uint64_t>((n + 255) / 256, 4096))), dim3(256), 0,
                "llmc_gather_rows (logits)", out, lastRows, logitsRows_.as<float>(), shape.nseq, vocab);
}

Status CudaBackend::forward(const StepBatch& batch, std::vector<float>* logits) {
  if (graph_) return graph_->forward(batch, logits);
  StepShape shape;
  LLMC_RETURN_IF_ERROR(runStep(batch, Tail::kLogits, &shape));
  const Program& prog = engine_->program();
  const int vocab = static_cast<int>(prog.values[prog.output].width);
  const size_t bytes = static_cast<size_t>(shape.nseq) * vocab * 4;
  LLMC_CUDA_CHECK(cudaMemcpyAsync(logitsHost_.get(), logitsRowsOf(shape), bytes, cudaMemcpyDeviceToHost, stream_.get()));
  LLMC_RETURN_IF_ERROR(cudaStatus(cudaStreamSynchronize(stream_.get()), "running the step"));
  logits->resize(static_cast<size_t>(shape.nseq) * vocab);
  std::memcpy(logits->data(), logitsHost_.get(), bytes);
  return Status::Ok();
}

Status CudaBackend::forwardArgmax(const StepBatch& batch, std::vector<int32_t>* tokens) {
  if (graph_) return graph_->forwardArgmax(batch, tokens);
  if (argmaxRows_ == nullptr) return Backend::forwardArgmax(batch, tokens);
  StepShape shape;
  LLMC_RETURN_IF_ERROR(trace_.begin(stream_.get()));
  stepTimer_.begin(stream_.get());
  LLMC_RETURN_IF_ERROR(runStep(batch, Tail::kArgmax, &shape));
  const size_t bytes = static_cast<size_t>(shape.nseq) * 4;
  LLMC_CUDA_CHECK(cudaMemcpyAsync(argmaxHost_.get(), argmaxOut_, bytes, cudaMemcpyDeviceToHost, stream_.get()));
  stepTimer_.end(stream_.get());
  LLMC_RETURN_IF_ERROR(cudaStatus(cudaStreamSynchronize(stream_.get()), "running the step"));
  stepTimer_.finish(shape.decode);
  LLMC_RETURN_IF_ERROR(trace_.finish(shape.decode));
  tokens->assign(argmaxHost_.as<int32_t>(), argmaxHost_.as<int32_t>() + shape.nseq);
  return Status::Ok();
}

Status CudaBackend::runDecodeGraph(const StepShape& shape, Tail tail) {
  const std::pair<int, Tail> key(shape.nseq, tail);
  auto it = decodeGraphs_.find(key);
  if (it != decodeGraphs_.end()) return cudaStatus(cudaGraphLaunch(it->second.get(), stream_.get()), "launching the decode graph");
  // The first step of a batch size runs eagerly: it loads lazily-loaded kernels and fills the
  // cuBLASLt plan cache, neither of which may happen inside a capture.
  if (decodeRuns_[key]++ == 0) return enqueueProgramAndTail(shape, tail);

  LLMC_CUDA_CHECK(cudaStreamBeginCapture(stream_.get(), cudaStreamCaptureModeThreadLocal));
  Status enq = enqueueProgramAndTail(shape, tail);
  cudaGraph_t raw = nullptr;
  cudaError_t end = cudaStreamEndCapture(stream_.get(), &raw);
  Graph graph(raw);
  cudaGraphExec_t exec = nullptr;
  cudaError_t inst = enq.ok() && end == cudaSuccess ? cudaGraphInstantiate(&exec, graph.get(), 0) : end;
  if (!enq.ok() || inst != cudaSuccess) {
    cudaGetLastError();
    if (!enq.ok()) return enq;
    // Capture is an optimisation. Should programmatic launches be what the capture refused, try
    // once more without them (graphs are worth more); else run without graphs.
    if (pdl_) {
      pdl_ = false;
      decodeRuns_.clear();
      if (options_.verbose)
        std::fprintf(stderr, "cuda backend: decode graph capture failed (%s); retrying without PDL\n", cudaGetErrorString(inst));
      return enqueueProgramAndTail(shape, tail);
    }
    graphs_ = false;
    if (options_.verbose)
      std::fprintf(stderr, "cuda backend: decode graph capture failed (%s); launching kernels directly\n", cudaGetErrorString(inst));
    return enqueueProgramAndTail(shape, tail);
  }
  GraphExec& slot = decodeGraphs_[key];
  slot = GraphExec(exec);
  return cudaStatus(cudaGraphLaunch(slot.get(), stream_.get()), "launching the decode graph");
}

}  // namespace cuda
}  // namespace llmc

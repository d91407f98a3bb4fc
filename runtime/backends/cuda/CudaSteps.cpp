// CudaSteps.cpp - the launches of each program op (kernel ABI: codegen/cuda/kernels/*.cuh).
//
// Everything here only enqueues work on the backend's stream and depends on the step's shape
// (token count, sequence count, tile counts), never on token values or positions, which the
// kernels read from the metadata buffer: so the decode step can be captured into a CUDA graph.
#include <algorithm>

#include "CudaBackend.h"
#include "DecodeAblation.h"

namespace llmc::cuda {

namespace {

dim3 gridFor(uint64_t n, int smCount) {
  // Grid-stride kernels: enough blocks to fill the GPU a few times, no more.
  const uint64_t blocks = std::max<uint64_t>(1, std::min<uint64_t>((n + 255) / 256, static_cast<uint64_t>(smCount) * 8));
  return dim3(static_cast<unsigned>(blocks));
}

}  // namespace

bool CudaBackend::fusesRope(const StepShape& shape, engine::DType inType) const {
  return shape.decode && fusedRope_ && inType == engine::DType::kF32;
}

int CudaBackend::decodeSplits(int nseq, int numKvHeads, int group, int numHeads) const {
  // Enough blocks for ~decodeBlocksPerSm_ (2) per SM across (splits x kv-head groups x sequences).
  const int blocksPerSplit = numKvHeads * (numHeads / numKvHeads / group) * nseq;
  const int want = (decodeBlocksPerSm_ * smCount_ + blocksPerSplit - 1) / std::max(blocksPerSplit, 1);
  const int splits = std::max(1, std::min(want, maxSplits_));
  // A cluster holds at most kMaxClusterSplits blocks: the split count is cut to it (7B on 132 SMs:
  // 9 -> 8; models with few KV-head groups lose blocks, which is what the A/B has to weigh).
  return clusterMerge() ? std::min(splits, kMaxClusterSplits) : splits;
}

bool CudaBackend::clusterMerge() const { return attnCluster_ != 0 && cc_ >= 90 && fusedAttn_; }

Status CudaBackend::launchArgv(cudaKernel_t k, dim3 grid, dim3 block, size_t smem, unsigned clusterX,
                               const char* what, void** argv) {
  if (pdl_ || clusterX > 0) {
    cudaLaunchAttribute attr[2];
    unsigned n = 0;
    if (pdl_) {
      attr[n].id = cudaLaunchAttributeProgrammaticStreamSerialization;
      attr[n++].val.programmaticStreamSerializationAllowed = 1;
    }
    if (clusterX > 0) {
      attr[n].id = cudaLaunchAttributeClusterDimension;
      attr[n].val.clusterDim.x = clusterX;
      attr[n].val.clusterDim.y = 1;
      attr[n++].val.clusterDim.z = 1;
    }
    cudaLaunchConfig_t cfg{};
    cfg.gridDim = grid;
    cfg.blockDim = block;
    cfg.dynamicSmemBytes = smem;
    cfg.stream = stream_.get();
    cfg.attrs = attr;
    cfg.numAttrs = n;
    const cudaError_t e = cudaLaunchKernelExC(&cfg, reinterpret_cast<const void*>(k), argv);
    if (e == cudaSuccess) return Status::Ok();
    // A cluster launch has no fallback (the kernel then merges through shared memory only).
    if (clusterX > 0 || e == cudaErrorStreamCaptureInvalidated || e == cudaErrorStreamCaptureUnsupported)
      return cudaStatus(e, std::string("launching ") + what);
    cudaGetLastError();
    pdl_ = false;
  }
  const cudaError_t e = cudaLaunchKernel(reinterpret_cast<const void*>(k), grid, block, argv, smem, stream_.get());
  return cudaStatus(e, std::string("launching ") + what);
}

Status CudaBackend::enqueueProgram(const StepShape& shape) {
  for (const Prepared& p : prepared_) LLMC_RETURN_IF_ERROR(enqueueStep(p, shape));
  return Status::Ok();
}

Status CudaBackend::enqueueLinear(const Prepared& p, const void* x, engine::DType xType, void* y, engine::DType yType,
                                  int rows, const GemvInArgs& nin) {
  if (rows <= kMaxGemvRows) {  // handoffType() keeps both f32 here
    // Several rows per warp (gemvRowsBody) where planned and asked for: three before two.
    const unsigned kind = decodeKindOf(p);
    const bool triple = rows <= kGemvTripleMaxRows && p.gemvTriple[rows] != nullptr && (gemvTriple_ & kind) != 0;
    const cudaKernel_t multi = triple ? p.gemvTriple[rows] : (gemvPair_ & kind) != 0 ? p.gemvPair[rows] : nullptr;
    if (multi != nullptr)
      return launch(multi, dim3(static_cast<unsigned>(p.n / gemvRowsBlockRows(triple ? 3 : 2))), dim3(kGemvThreads),
                    gemvSmemBytes(nin, rows), triple ? "gemv_triple" : "gemv_pair", static_cast<const float*>(x),
                    p.w, p.biasF32, static_cast<float*>(y), p.n, nin, GemvNormOutArgs{});
    const dim3 grid(static_cast<unsigned>((p.n + kGemvRowsPerBlock - 1) / kGemvRowsPerBlock));
    return launch(p.gemv[rows], grid, dim3(kGemvThreads), gemvSmemBytes(nin, rows), "gemv", static_cast<const float*>(x),
                  p.w, p.biasF32, static_cast<float*>(y), p.n, nin, GemvNormOutArgs{});
  }
  const void* operand = x;
  if (p.wdtype != engine::DType::kF32 && xType == engine::DType::kF32) {
    const uint64_t n = static_cast<uint64_t>(rows) * p.k;
    LLMC_RETURN_IF_ERROR(launch(p.kernel, gridFor(n, smCount_), dim3(256), 0, "cast", static_cast<const float*>(x),
                                castScratch_.get(), n));
    operand = castScratch_.get();
  }
  return lt_->run(p.wdtype, operand, p.w, p.biasF32, y, rows, p.n, p.k, stream_.get(), yType);
}

Status CudaBackend::enqueueAttention(const Prepared& p, const StepShape& shape, float* const* in, engine::DType inType,
                                     float* out, engine::DType outType) {
  const StepAttrs& a = p.step->attrs;
  const int nh = static_cast<int>(a.numHeads), nkv = static_cast<int>(a.numKvHeads), hd = static_cast<int>(a.headDim);
  const int bs = options_.kvBlockSize;
  void* cache = kv_.as<uint8_t>() + kvLayerOffset_[a.layer];
  const int32_t* meta = metaDev_.as<const int32_t>();
  // q/k/v as element offsets into their rows: a 16-bit handed-off fused row has 2-byte elements.
  const void *q, *k, *v;
  int qStride, kStride, vStride;
  if (p.step->op == OpKind::kQkvAttention) {
    const int w = (nh + 2 * nkv) * hd;
    const size_t elem = engine::dtypeBytes(inType);
    const char* row = reinterpret_cast<const char*>(in[0]);
    q = row;
    k = row + static_cast<size_t>(nh) * hd * elem;
    v = row + static_cast<size_t>(nh + nkv) * hd * elem;
    qStride = kStride = vStride = w;
  } else {
    q = in[0], k = in[1], v = in[2];
    qStride = nh * hd;
    kStride = vStride = nkv * hd;
  }
  const int rot = p.step->op == OpKind::kQkvAttention ? static_cast<int>(a.rotaryDim) : 0;
  float* qr = qScratch_.as<float>();
  // Decode with the fused rope: the attention kernel rotates q/k and appends k/v itself.
  const bool ropeInKernel = fusesRope(shape, inType);
  if (!ropeInKernel) {
    LLMC_RETURN_IF_ERROR(launch(p.ropeKv, dim3(shape.t, ropeKvGroups(shape.t, nh + 2 * nkv)), dim3(ropeKvBlock(shape.t, hd)), 0,
                                "rope_kv_write", q, qStride,
                                k, kStride, v, vStride, meta + offPositions_, meta + offSlots_, cache, bs, nh, nkv, rot,
                                p.invFreq, static_cast<int>(a.interleaved), qr, actTypeCode(inType)));
  }
  const float scale = a.scale;
  const int window = static_cast<int>(a.slidingWindow);
  const int32_t* tables = meta + offTables_;
  if (shape.decode) {
    const int splits = decodeSplits(shape.nseq, nkv, p.decodeGroup, nh);
    float* partM = partials_.as<float>();
    float* partL = partM + partialMFloats_;
    float* partAcc = partL + partialMFloats_;
    // L2 prefetch rows: about one block per SM shares the next GEMV's weight head, or with
    // l2PrefetchTails_ the tail of every row (the bytes after the GEMV's first round; nothing when
    // that round is the whole row; the head again when rows are not 16-byte multiples).
    const uint64_t rowBytes = p.prefetchRowBytes;
    const bool tails = l2PrefetchTails_ != 0 && rowBytes % 16 == 0;
    const uint64_t wanted = !tails ? p.prefetchBytes
                            : rowBytes > kGemvFirstRoundBytes ? p.prefetchBytes / rowBytes * (rowBytes - kGemvFirstRoundBytes)
                                                              : 0;
    const uint64_t prefetchBytes = std::min<uint64_t>(wanted, static_cast<uint64_t>(l2PrefetchMb_) << 20);
    const unsigned prefetchRows = prefetchBytes > 0 ? static_cast<unsigned>((smCount_ + splits - 1) / splits) : 0;
    const dim3 grid(splits, nkv * (nh / nkv / p.decodeGroup) + prefetchRows, shape.nseq);
    // Fused: the kernel writes `out` itself (its last split block per head group combines).
    float* const fusedOut = fusedAttn_ ? out : nullptr;
    const float* qIn = ropeInKernel ? static_cast<const float*>(q) : qr;
    const int qInStride = ropeInKernel ? qStride : nh * hd;
    // decodeSplits kept the split count within one cluster; one split needs no merge.
    const unsigned clusterX = clusterMerge() && splits > 1 ? static_cast<unsigned>(splits) : 0;
    LLMC_RETURN_IF_ERROR(launchInCluster(p.decode, grid, dim3(128), clusterX, "attn_decode", qIn, qInStride, cache, bs, tables,
                                maxBlocksPerSeq_, meta + offSeqLens_, nh, nkv, scale, window, partM, partL, partAcc,
                                attnCounters_.as<unsigned>(), fusedOut, nh * hd,
                                ropeInKernel ? static_cast<const float*>(k) : nullptr, kStride,
                                ropeInKernel ? static_cast<const float*>(v) : nullptr, vStride, meta + offPositions_,
                                meta + offSlots_, rot, p.invFreq, static_cast<int>(a.interleaved), triggerMode(p),
                                static_cast<const char*>(p.prefetchW), prefetchBytes, clusterX > 0 ? 1 : 0,
                                tails ? static_cast<int>(rowBytes) : 0, tails ? kGemvFirstRoundBytes : 0,
                                attnL2Ahead_));
    if (fusedAttn_) return Status::Ok();
    return launch(p.kernel, dim3(nh, shape.nseq), dim3(128), 0, "attn_combine", static_cast<const float*>(partM),
                  static_cast<const float*>(partL), static_cast<const float*>(partAcc), splits, hd, out, nh * hd);
  }
  void* const o = out;
  const int oType = actTypeCode(outType);
  if (p.prefillTc != nullptr) {  // 64-row tiles, like the FP32 kernel's for head_dim <= 128
    return launch(p.prefillTc, dim3(shape.tiles64, nh), dim3(128), p.prefillTcSmem, "attn_prefill_tc",
                  static_cast<const float*>(qr), nh * hd, static_cast<const void*>(cache), bs, tables, maxBlocksPerSeq_,
                  meta + offTiles64_, nh, nkv, scale, window, o, nh * hd, oType);
  }
  const bool wide = prefillTileRows(hd) == 32;
  const int tiles = wide ? shape.tiles32 : shape.tiles64;
  const int32_t* tileList = meta + (wide ? offTiles32_ : offTiles64_);
  return launch(p.prefill, dim3(tiles, nh), dim3(128), p.prefillSmem, "attn_prefill", static_cast<const float*>(qr),
                nh * hd, static_cast<const void*>(cache), bs, tables, maxBlocksPerSeq_, tileList, nh, nkv, scale, window,
                o, nh * hd, oType);
}

unsigned CudaBackend::decodeKindOf(const Prepared& p) const {
  const OpKind op = p.step->op;
  if (op == OpKind::kAttention || op == OpKind::kQkvAttention) return kAblateAttention;
  if (op != OpKind::kLinear) return 0;
  if (p.afterAttention) return kAblateOProj;
  if (p.gluOut >= 0) return kAblateGateUp;
  if (p.normOutSite >= 0) return kAblateDown;
  if (p.normInSite >= 0 || p.beforeAttention) return kAblateQkv;
  return 0;
}

Status CudaBackend::enqueueStep(const Prepared& p, const StepShape& shape) {
  const Program& prog = engine_->program();
  const Step& step = *p.step;
  const int T = shape.t, nseq = shape.nseq;
  auto rowsOf = [&](int v) { return prog.values[v].rows == Rows::kAll ? T : nseq; };
  auto ptr = [&](int v) { return valuePtr(v, shape); };
  // A glu whose gate/up linear already wrote its output (GLU-fused GEMV, rows <= kMaxGemvRows),
  // or an add_rms_norm folded into the GEMVs around it (NormFusion.cpp).
  if ((p.gluFusedAway || p.normFusedAway) && rowsOf(step.in[0]) <= kMaxGemvRows) return Status::Ok();
  if (ablate_ != 0 && shape.decode && ablated(p)) return Status::Ok();  // timing diagnostic only
  // The GEMV before a folded norm writes the norm's outputs (sum and weighted row), not its own.
  if (p.normOutSite >= 0 && rowsOf(step.in[0]) <= kMaxGemvRows) {
    const int R = rowsOf(step.in[0]);
    const NormSite& site = normSites_[p.normOutSite];
    const bool pair = normOutRowsPerWarp(p, R) == 2;
    const dim3 grid(static_cast<unsigned>(normOutBlocks(p, R)));
    const GemvInArgs nin = gemvInArgs(p, R);
    return launch(pair ? p.gemvPair[R] : p.gemv[R], grid, dim3(kGemvThreads), gemvSmemBytes(nin, R),
                  pair ? "gemv_pair_add_norm" : "gemv_add_norm",
                  static_cast<const float*>(ptr(step.in[0])), p.w, p.biasF32, ptr(site.sum), p.n, nin,
                  normOutArgs(p, shape));
  }

  std::vector<float*> in;
  std::vector<engine::DType> inT, outT;  // f32, or the 16-bit hand-off type (Handoff.cpp)
  for (int v : step.in) {
    in.push_back(v < 0 ? nullptr : ptr(v));
    inT.push_back(handoffType(v, shape));
  }
  // Outputs overlapping an input other than as an exact in-place alias go to scratch first. A
  // 16-bit output never counts as in place: its rows sit at other byte offsets than the f32 rows
  // other blocks are still reading.
  std::vector<float*> out, target;
  int64_t scratchUsed = 0;
  // Attention reads q/k/v completely in its first kernel, except when the decode kernel does the
  // rope itself: then its blocks read q/k/v while others store the output.
  const bool attentionReadsFirst = (step.op == OpKind::kAttention || step.op == OpKind::kQkvAttention) &&
                                   !fusesRope(shape, handoffType(step.in[0], shape));
  for (int o : step.out) {
    outT.push_back(handoffType(o, shape));
    const bool narrow = outT.back() != engine::DType::kF32;
    float* dst = ptr(o);
    const int64_t n = static_cast<int64_t>(rowsOf(o)) * prog.values[o].width;
    bool needScratch = false;
    for (int v : step.in) {
      if (v < 0) continue;
      const float* src = ptr(v);
      const int64_t m = static_cast<int64_t>(rowsOf(v)) * prog.values[v].width;
      const bool overlap = dst < src + m && src < dst + n;
      const bool exact = src == dst && prog.values[v].width == prog.values[o].width && rowsOf(v) == rowsOf(o);
      if (overlap && !(exact && opIsInPlaceSafe(step.op) && !narrow) && !attentionReadsFirst) needScratch = true;
    }
    target.push_back(dst);
    if (needScratch) {
      dst = scratch_.as<float>() + scratchUsed;
      scratchUsed += (n + 63) / 64 * 64;
    }
    out.push_back(dst);
  }

  const StepAttrs& a = step.attrs;
  const int R = step.in.empty() || step.in[0] < 0 ? T : rowsOf(step.in[0]);
  const int W = step.in.empty() || step.in[0] < 0 ? 0 : static_cast<int>(prog.values[step.in[0]].width);
  const int32_t* meta = metaDev_.as<const int32_t>();
  const uint64_t elems = static_cast<uint64_t>(R) * W;
  switch (step.op) {
    case OpKind::kEmbedding: {
      const int h = static_cast<int>(prog.values[step.out[0]].width);
      LLMC_RETURN_IF_ERROR(launch(p.kernel, dim3(T), dim3(256), 0, "embedding", meta + offTokens_, p.w, out[0], h, a.scale));
      break;
    }
    case OpKind::kPositionEmbedding:
      LLMC_RETURN_IF_ERROR(launch(p.kernel, dim3(T), dim3(256), 0, "position_embedding", static_cast<const float*>(in[0]),
                                  meta + offPositions_, p.w, out[0], W));
      break;
    case OpKind::kRmsNorm:
      LLMC_RETURN_IF_ERROR(launch(p.kernel, dim3(R), dim3(256), 0, "rms_norm", static_cast<const float*>(in[0]), p.w,
                                  static_cast<void*>(out[0]), a.eps, static_cast<int>(a.unitOffset), actTypeCode(outT[0])));
      break;
    case OpKind::kAddRmsNorm:
      LLMC_RETURN_IF_ERROR(launch(p.kernel, dim3(R), dim3(256), 0, "add_rms_norm", static_cast<const float*>(in[0]),
                                  static_cast<const float*>(in[1]), p.w, out[0], static_cast<void*>(out[1]), a.eps,
                                  static_cast<int>(a.unitOffset), actTypeCode(outT[1])));
      break;
    case OpKind::kLayerNorm:
      LLMC_RETURN_IF_ERROR(launch(p.kernel, dim3(R), dim3(256), 0, "layer_norm", static_cast<const float*>(in[0]), p.w,
                                  p.b, static_cast<void*>(out[0]), a.eps, actTypeCode(outT[0])));
      break;
    case OpKind::kLinear:
      if (p.gluOut >= 0 && R <= kMaxGemvRows) {
        // Gate/up GEMV + GLU: writes the glu's output (never overlapping x: GluFusion.cpp); the
        // gate/up value itself is not produced, so nothing is copied back either.
        const int inner = p.n / 2;
        const dim3 grid(static_cast<unsigned>((inner + kGemvRowsPerBlock - 1) / kGemvRowsPerBlock));
        const GemvInArgs nin = gemvInArgs(p, R);
        return launch(p.gemvGlu[R], grid, dim3(kGemvThreads), gemvSmemBytes(nin, R), "gemv_glu",
                      static_cast<const float*>(in[0]), p.w, p.biasF32, ptr(p.gluOut), inner, nin);
      }
      LLMC_RETURN_IF_ERROR(enqueueLinear(p, in[0], inT[0], out[0], outT[0], R, gemvInArgs(p, R)));
      break;
    case OpKind::kSplit: {
      int col = 0;
      for (size_t k = 0; k < out.size(); ++k) {
        const int width = static_cast<int>(a.sizes[k]);
        const uint64_t n = static_cast<uint64_t>(R) * width;
        LLMC_RETURN_IF_ERROR(launch(p.kernel, gridFor(n, smCount_), dim3(256), 0, "copy_cols",
                                    static_cast<const float*>(in[0]), W, col, out[k], R, width));
        col += width;
      }
      break;
    }
    case OpKind::kRope:
      LLMC_RETURN_IF_ERROR(launch(p.kernel, dim3(T), dim3(128), 0, "rope", static_cast<const float*>(in[0]), out[0],
                                  meta + offPositions_, p.invFreq, static_cast<int>(W / a.headDim),
                                  static_cast<int>(a.headDim), static_cast<int>(a.rotaryDim),
                                  static_cast<int>(a.interleaved)));
      break;
    case OpKind::kAttention:
    case OpKind::kQkvAttention:
      LLMC_RETURN_IF_ERROR(enqueueAttention(p, shape, in.data(), inT[0], out[0], outT[0]));
      break;
    case OpKind::kSilu:
    case OpKind::kGelu:
      LLMC_RETURN_IF_ERROR(launch(p.kernel, gridFor(elems, smCount_), dim3(256), 0, "activation",
                                  static_cast<const float*>(in[0]), out[0], elems));
      break;
    case OpKind::kAdd:
    case OpKind::kMul:
      LLMC_RETURN_IF_ERROR(launch(p.kernel, gridFor(elems, smCount_), dim3(256), 0, "elementwise",
                                  static_cast<const float*>(in[0]), static_cast<const float*>(in[1]), out[0], elems));
      break;
    case OpKind::kGlu: {
      const int inner = W / 2;
      const int cols = inner / gluColumnsPerThread(inner, actTypeCode(inT[0]), actTypeCode(outT[0]));
      const dim3 grid(static_cast<unsigned>(std::min((cols + 255) / 256, 64)), static_cast<unsigned>(std::min(R, 65535)));
      LLMC_RETURN_IF_ERROR(launch(p.kernel, grid, dim3(256), 0, "glu", static_cast<const void*>(in[0]),
                                  static_cast<void*>(out[0]), R, inner, actTypeCode(inT[0]), actTypeCode(outT[0])));
      break;
    }
    case OpKind::kLastToken:
      LLMC_RETURN_IF_ERROR(launch(p.kernel, gridFor(static_cast<uint64_t>(nseq) * W, smCount_), dim3(256), 0,
                                  "gather_rows", static_cast<const float*>(in[0]), meta + offLastRows_, out[0], nseq, W));
      break;
  }
  for (size_t k = 0; k < out.size(); ++k) {
    if (out[k] == target[k]) continue;
    const size_t bytes = static_cast<size_t>(rowsOf(step.out[k])) * prog.values[step.out[k]].width * engine::dtypeBytes(outT[k]);
    LLMC_CUDA_CHECK(cudaMemcpyAsync(target[k], out[k], bytes, cudaMemcpyDeviceToDevice, stream_.get()));
  }
  return Status::Ok();
}

}  // namespace llmc::cuda

// CpuBackend.cpp - prepare (weights, arena, KV pool) and forward (run every program step).
#include "CpuBackend.h"

#include <cblas.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

namespace llmc::cpu {

int64_t CpuBackend::chooseKvBlocks() const {
  const Program& p = engine_->program();
  const int64_t bs = options_.kvBlockSize;
  int64_t bytesPerBlock = 0;
  for (const KVLayerInfo& l : p.kvLayers) bytesPerBlock += 2 * l.numKvHeads * bs * l.headDim * 4;
  // Enough for maxSequences sequences of max_position tokens...
  const int64_t perSeq = (engine_->config().maxPosition + bs - 1) / bs;
  int64_t want = perSeq * options_.maxSequences;
  // ...but at most half of memoryFraction of the physical memory (pages are touched lazily).
  const double phys = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
  const int64_t cap = static_cast<int64_t>(phys * options_.memoryFraction * 0.5 / std::max<int64_t>(bytesPerBlock, 1));
  return std::max<int64_t>(1, std::min(want, cap));
}

Status CpuBackend::prepare(const Engine& engine, const BackendOptions& options) {
  if (engine_ || graph_) return Internal("cpu backend: prepare called twice");
  if (engine.graph()) {  // generic ops: interpreted (graph/CpuGraphBackend.h)
    graph_ = std::make_unique<graph::CpuGraphBackend>();
    return graph_->prepare(engine, options);
  }
  if (options.maxBatchTokens <= 0 || options.maxSequences <= 0 || options.kvBlockSize <= 0 ||
      options.kvBlocks < 0) {
    return InvalidArgument("cpu backend: maxBatchTokens, maxSequences and kvBlockSize must be positive");
  }
  engine_ = &engine;
  options_ = options;
  int threads = options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(threads, 1);
  pool_ = std::make_unique<ThreadPool>(threads);
  openblas_set_num_threads(threads);
  LLMC_RETURN_IF_ERROR(weights_.load(engine, pool_.get()));

  const Program& p = engine.program();
  const int64_t tmax = options.maxBatchTokens;
  arena_.reset(new float[static_cast<size_t>(p.arenaPerToken * tmax)]);
  int64_t scratchW = 0, qkvW = 0;
  for (const Step& s : p.steps) {
    int64_t w = 0;
    for (int o : s.out) w += p.values[o].width;
    scratchW = std::max(scratchW, w);
    if (s.op == OpKind::kQkvAttention) {
      const StepAttrs& a = s.attrs;
      qkvW = std::max(qkvW, (a.numHeads + 2 * a.numKvHeads) * a.headDim);
    }
  }
  scratchElems_ = scratchW * tmax;
  qkvScratchElems_ = qkvW * tmax;
  scratch_.reset(new float[static_cast<size_t>(std::max<int64_t>(scratchElems_, 1))]);
  qkvScratch_.reset(new float[static_cast<size_t>(std::max<int64_t>(qkvScratchElems_, 1))]);

  kvBlocks_ = options.kvBlocks > 0 ? options.kvBlocks : chooseKvBlocks();
  for (const KVLayerInfo& l : p.kvLayers) {
    KVLayerView v;
    v.numBlocks = kvBlocks_;
    v.blockSize = options.kvBlockSize;
    v.numKvHeads = l.numKvHeads;
    v.headDim = l.headDim;
    const int64_t n = kvBlocks_ * 2 * l.numKvHeads * options.kvBlockSize * l.headDim;
    // Not zero-filled on purpose: untouched pages cost no memory; slots are written before read.
    std::unique_ptr<float[]> buf(new (std::nothrow) float[static_cast<size_t>(n)]);
    if (!buf) return Unavailable("cpu backend: cannot allocate the KV cache (" + std::to_string(n * 4) + " bytes)");
    v.data = buf.get();
    kv_.push_back(std::move(buf));
    kvViews_.push_back(v);
  }
  positions_.reserve(static_cast<size_t>(tmax));
  return Status::Ok();
}

Status CpuBackend::copyBlock(int32_t src, int32_t dst) {
  if (graph_) return graph_->copyBlock(src, dst);
  if (!engine_) return Internal("cpu backend: copyBlock before prepare");
  if (src < 0 || src >= kvBlocks_ || dst < 0 || dst >= kvBlocks_) {
    return InvalidArgument("cpu backend: copyBlock(" + std::to_string(src) + ", " + std::to_string(dst) +
                           ") outside the pool of " + std::to_string(kvBlocks_) + " blocks");
  }
  for (const KVLayerView& v : kvViews_) {
    const int64_t blockElems = 2 * v.numKvHeads * v.blockSize * v.headDim;
    std::memcpy(v.data + dst * blockElems, v.data + src * blockElems, blockElems * sizeof(float));
  }
  return Status::Ok();
}

Status CpuBackend::checkBatch(const StepBatch& batch) const {
  const int64_t T = static_cast<int64_t>(batch.tokens.size());
  const auto& cfg = engine_->config();
  if (T == 0 || T > options_.maxBatchTokens) {
    return InvalidArgument("cpu backend: step has " + std::to_string(T) + " tokens, allowed 1.." +
                           std::to_string(options_.maxBatchTokens));
  }
  if (batch.sequences.empty() || static_cast<int>(batch.sequences.size()) > options_.maxSequences) {
    return InvalidArgument("cpu backend: step has " + std::to_string(batch.sequences.size()) +
                           " sequences, allowed 1.." + std::to_string(options_.maxSequences));
  }
  int64_t next = 0;
  for (const SequenceSlice& s : batch.sequences) {
    if (s.tokenBegin != next || s.tokenCount <= 0 || s.startPos < 0) {
      return InvalidArgument("cpu backend: sequence slices must cover the tokens in order, each non-empty");
    }
    next += s.tokenCount;
    const int64_t end = static_cast<int64_t>(s.startPos) + s.tokenCount;
    if (end > cfg.maxPosition) {
      return InvalidArgument("cpu backend: sequence reaches position " + std::to_string(end) +
                             ", the model's max_position is " + std::to_string(cfg.maxPosition));
    }
    if (end > static_cast<int64_t>(s.blockTable.size()) * options_.kvBlockSize) {
      return InvalidArgument("cpu backend: block table of " + std::to_string(s.blockTable.size()) +
                             " blocks does not cover position " + std::to_string(end - 1));
    }
    for (int32_t b : s.blockTable) {
      if (b < 0 || b >= kvBlocks_) return InvalidArgument("cpu backend: block id " + std::to_string(b) + " outside the pool");
    }
  }
  if (next != T) return InvalidArgument("cpu backend: sequence slices cover " + std::to_string(next) + " of " +
                                        std::to_string(T) + " tokens");
  for (int32_t id : batch.tokens) {
    if (id < 0 || id >= cfg.vocabSize) {
      return InvalidArgument("cpu backend: token id " + std::to_string(id) + " outside the vocabulary [0, " +
                             std::to_string(cfg.vocabSize) + ")");
    }
  }
  return Status::Ok();
}

Status CpuBackend::forward(const StepBatch& batch, std::vector<float>* logits) {
  if (graph_) return graph_->forward(batch, logits);
  if (!engine_) return Internal("cpu backend: forward before prepare");
  LLMC_RETURN_IF_ERROR(checkBatch(batch));
  const Program& p = engine_->program();
  const int64_t T = static_cast<int64_t>(batch.tokens.size());
  positions_.assign(static_cast<size_t>(T), 0);
  for (const SequenceSlice& s : batch.sequences) {
    for (int j = 0; j < s.tokenCount; ++j) positions_[s.tokenBegin + j] = s.startPos + j;
  }
  for (const Step& step : p.steps) LLMC_RETURN_IF_ERROR(runStep(step, batch, T));

  // Logits: one row per sequence ([nseq, vocab]); an all-rows output contributes each last row.
  const ValueInfo& ov = p.values[p.output];
  const float* out = arena_.get() + ov.offset * T;
  const int64_t V = ov.width;
  const size_t nseq = batch.sequences.size();
  logits->resize(nseq * V);
  for (size_t s = 0; s < nseq; ++s) {
    const int64_t row = ov.rows == Rows::kLast
                            ? static_cast<int64_t>(s)
                            : batch.sequences[s].tokenBegin + batch.sequences[s].tokenCount - 1;
    std::memcpy(logits->data() + s * V, out + row * V, V * sizeof(float));
  }
  return Status::Ok();
}

Status CpuBackend::runStep(const Step& step, const StepBatch& batch, int64_t T) {
  const Program& p = engine_->program();
  const int64_t nseq = static_cast<int64_t>(batch.sequences.size());
  auto rowsOf = [&](int v) { return p.values[v].rows == Rows::kAll ? T : nseq; };
  auto ptr = [&](int v) { return arena_.get() + p.values[v].offset * T; };

  // Inputs and outputs in the arena; outputs that overlap an input other than as an exact in-place
  // alias are computed in scratch and copied back.
  std::vector<const float*> in;
  for (int v : step.in) in.push_back(v < 0 ? nullptr : ptr(v));
  std::vector<float*> out, target;
  int64_t scratchUsed = 0;
  for (int o : step.out) {
    float* dst = ptr(o);
    const int64_t n = rowsOf(o) * p.values[o].width;
    bool needScratch = false;
    for (int v : step.in) {
      if (v < 0) continue;
      const float* src = ptr(v);
      const int64_t m = rowsOf(v) * p.values[v].width;
      const bool overlap = dst < src + m && src < dst + n;
      const bool exact = src == dst && p.values[v].width == p.values[o].width && rowsOf(v) == rowsOf(o);
      if (overlap && !(exact && opIsInPlaceSafe(step.op)) && step.op != OpKind::kQkvAttention) needScratch = true;
    }
    target.push_back(dst);
    if (needScratch) {
      dst = scratch_.get() + scratchUsed;
      scratchUsed += n;
    }
    out.push_back(dst);
  }

  const StepAttrs& a = step.attrs;
  const float* w = weights_.get(step.weight);
  const float* b = weights_.get(step.bias);
  ThreadPool* pool = pool_.get();
  const int64_t R = step.in.empty() || step.in[0] < 0 ? T : rowsOf(step.in[0]);
  const int64_t W = step.in.empty() || step.in[0] < 0 ? 0 : p.values[step.in[0]].width;
  switch (step.op) {
    case OpKind::kEmbedding:
      embedding(batch.tokens.data(), T, w, p.values[step.out[0]].width, a.scale, out[0], pool);
      break;
    case OpKind::kPositionEmbedding: {
      const int64_t rows = engine_->weights()[step.weight].shape[0];
      for (int32_t pos : positions_) {
        if (pos >= rows) {
          return InvalidArgument("cpu backend: position " + std::to_string(pos) + " past the position table (" +
                                 std::to_string(rows) + " rows)");
        }
      }
      positionEmbedding(in[0], T, W, w, positions_.data(), out[0], pool);
      break;
    }
    case OpKind::kRmsNorm:
      rmsNorm(in[0], R, W, w, a.eps, a.unitOffset, out[0], pool);
      break;
    case OpKind::kLayerNorm:
      layerNorm(in[0], R, W, w, b, a.eps, out[0], pool);
      break;
    case OpKind::kAddRmsNorm:
      addRmsNorm(in[0], in[1], R, W, w, a.eps, a.unitOffset, out[0], out[1], pool);
      break;
    case OpKind::kLinear:
      linear(in[0], R, W, w, b, p.values[step.out[0]].width, out[0]);
      break;
    case OpKind::kSplit: {
      int64_t col = 0;
      for (size_t k = 0; k < out.size(); ++k) {
        copyColumns(in[0], R, W, col, a.sizes[k], out[k]);
        col += a.sizes[k];
      }
      break;
    }
    case OpKind::kRope:
      rope(in[0], T, W / a.headDim, a.headDim, a.rotaryDim, a.invFreq.data(), a.interleaved, positions_.data(),
           out[0], pool);
      break;
    case OpKind::kAttention:
      attention(in[0], in[1], in[2], batch.sequences, kvViews_[a.layer], a.numHeads, a.scale, a.slidingWindow,
                out[0], pool);
      break;
    case OpKind::kQkvAttention: {
      // Split into scratch, rotate q and k there, then attend (the input is fully read first, so the
      // output may alias it).
      const int64_t qw = a.numHeads * a.headDim, kvw = a.numKvHeads * a.headDim;
      float* q = qkvScratch_.get();
      float* k = q + T * qw;
      float* v = k + T * kvw;
      copyColumns(in[0], T, W, 0, qw, q);
      copyColumns(in[0], T, W, qw, kvw, k);
      copyColumns(in[0], T, W, qw + kvw, kvw, v);
      rope(q, T, a.numHeads, a.headDim, a.rotaryDim, a.invFreq.data(), a.interleaved, positions_.data(), q, pool);
      rope(k, T, a.numKvHeads, a.headDim, a.rotaryDim, a.invFreq.data(), a.interleaved, positions_.data(), k, pool);
      attention(q, k, v, batch.sequences, kvViews_[a.layer], a.numHeads, a.scale, a.slidingWindow, out[0], pool);
      break;
    }
    case OpKind::kSilu:
      silu(in[0], R * W, out[0], pool);
      break;
    case OpKind::kGelu:
      gelu(in[0], R * W, a.approximate, out[0], pool);
      break;
    case OpKind::kAdd:
      add(in[0], in[1], R * W, out[0], pool);
      break;
    case OpKind::kMul:
      mul(in[0], in[1], R * W, out[0], pool);
      break;
    case OpKind::kGlu:
      glu(in[0], R, W / 2, a.activation, out[0], pool);
      break;
    case OpKind::kLastToken:
      for (int64_t s = 0; s < nseq; ++s) {
        const SequenceSlice& sl = batch.sequences[s];
        std::memcpy(out[0] + s * W, in[0] + (sl.tokenBegin + sl.tokenCount - 1) * W, W * sizeof(float));
      }
      break;
  }
  for (size_t k = 0; k < out.size(); ++k) {
    if (out[k] != target[k]) {
      std::memcpy(target[k], out[k], rowsOf(step.out[k]) * p.values[step.out[k]].width * sizeof(float));
    }
  }
  return Status::Ok();
}

}  // namespace llmc::cpu

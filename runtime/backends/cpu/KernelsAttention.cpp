// KernelsAttention.cpp - paged causal attention with GQA/MQA and sliding windows.
//
// Two phases: append the step's k, v rows to each sequence's blocks, then one work item per
// (token, head) computes softmax(q·K^T * scale) · V over the cache. Scores accumulate in f32 with the
// max subtracted before exp (the usual safe softmax).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "CpuKernels.h"
#include "ThreadPool.h"

namespace llmc::cpu {

void attention(const float* q, const float* k, const float* v, const std::vector<SequenceSlice>& seqs,
               const KVLayerView& cache, int64_t numHeads, float scale, int64_t slidingWindow, float* out,
               ThreadPool* pool) {
  const int64_t hd = cache.headDim, nkv = cache.numKvHeads, bs = cache.blockSize;
  const int64_t group = numHeads / nkv;
  int64_t T = 0;
  for (const SequenceSlice& s : seqs) T = std::max<int64_t>(T, s.tokenBegin + s.tokenCount);
  // token -> (sequence, absolute position)
  std::vector<int32_t> tokSeq(T, -1), tokPos(T, 0);
  for (size_t si = 0; si < seqs.size(); ++si) {
    for (int j = 0; j < seqs[si].tokenCount; ++j) {
      tokSeq[seqs[si].tokenBegin + j] = static_cast<int32_t>(si);
      tokPos[seqs[si].tokenBegin + j] = seqs[si].startPos + j;
    }
  }

  // Phase 1: append. Each token owns a distinct cache slot, so tokens run in parallel.
  auto append = [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      if (tokSeq[t] < 0) continue;
      const SequenceSlice& s = seqs[tokSeq[t]];
      const int64_t pos = tokPos[t];
      const int64_t block = s.blockTable[pos / bs], slot = pos % bs;
      for (int64_t h = 0; h < nkv; ++h) {
        std::memcpy(cache.key(block, h, slot), k + t * nkv * hd + h * hd, hd * sizeof(float));
        std::memcpy(cache.value(block, h, slot), v + t * nkv * hd + h * hd, hd * sizeof(float));
      }
    }
  };
  if (pool) pool->parallelFor(T, 8, append); else append(0, T);

  // Phase 2: one item per (token, head).
  auto attend = [&](int64_t b, int64_t e) {
    std::vector<float> scores;
    for (int64_t item = b; item < e; ++item) {
      const int64_t t = item / numHeads, h = item % numHeads;
      float* o = out + t * numHeads * hd + h * hd;
      if (tokSeq[t] < 0) {
        std::fill(o, o + hd, 0.0f);
        continue;
      }
      const SequenceSlice& s = seqs[tokSeq[t]];
      const int64_t pos = tokPos[t];
      const int64_t lo = slidingWindow > 0 ? std::max<int64_t>(0, pos - slidingWindow + 1) : 0;
      const int64_t kvh = h / group;
      const float* qi = q + t * numHeads * hd + h * hd;
      scores.resize(pos - lo + 1);
      float mx = -INFINITY;
      for (int64_t p = lo; p <= pos; ++p) {
        const float* kr = cache.key(s.blockTable[p / bs], kvh, p % bs);
        float dot = 0;
        for (int64_t d = 0; d < hd; ++d) dot += qi[d] * kr[d];
        dot *= scale;
        scores[p - lo] = dot;
        mx = std::max(mx, dot);
      }
      float sum = 0;
      for (float& sc : scores) {
        sc = std::exp(sc - mx);
        sum += sc;
      }
      const float inv = 1.0f / sum;
      std::fill(o, o + hd, 0.0f);
      for (int64_t p = lo; p <= pos; ++p) {
        const float* vr = cache.value(s.blockTable[p / bs], kvh, p % bs);
        const float w = scores[p - lo] * inv;
        for (int64_t d = 0; d < hd; ++d) o[d] += w * vr[d];
      }
    }
  };
  if (pool) pool->parallelFor(T * numHeads, 4, attend); else attend(0, T * numHeads);
}

}  // namespace llmc::cpu

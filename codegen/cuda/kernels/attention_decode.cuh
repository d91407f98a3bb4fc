// attention_decode.cuh - paged attention for decode (one new token per sequence), split over
// thread blocks along the context ("flash-decoding"), and the combine step that merges the splits.
//
// Owned by the CUDA codegen. Decode attention reads the sequence's whole K/V history once per
// layer and does ~2 FLOPs per byte: it is bandwidth-bound, and with one query per sequence a
// block-per-head launch would leave most SMs idle (32 heads x batch 1 = 32 blocks). So:
//   * the context is cut into `nsplit` ranges, each handled by its own block, which keeps a
//     running (max, sum, weighted V) triple per head ("online softmax"); the last block of a head
//     group to finish (an arrival counter in device memory) merges the triples, so there is no
//     second launch (the separate llmc_attn_combine kernel remains for A/B runs). nsplit is fixed
//     at launch and each block derives its range from the sequence length in device memory, so the
//     launch is the same every step (CUDA-graph friendly);
//   * a block serves the G query heads that share one KV head (GQA): K/V are read once for them;
//   * each key row (HD elements) is read by a group of LPK lanes with one 16-byte load each, so a
//     warp reads 512 contiguous bytes per key group, and UK keys are loaded before use;
//   * scores are kept in log2 units (q pre-scaled by scale * log2 e) so exp is a single exp2;
//   * at decode the kernel also does rope_kv_write's work (rotating q and k, appending k/v to the
//     cache), so a layer's attention is one launch.
// Cache: [num_blocks, 2, nkv, block_size, HD] per layer; block_tables [nseq, max_blocks] int32.
#pragma once

#include "common.cuh"
#include "rope_kv.cuh"  // pairIndex, ropePair: the fused rope does rope_kv_write's arithmetic

namespace llmc {

constexpr int kDecodeWarps = 4;

template <typename KV, int HD>
struct DecodeShape {
  static constexpr int E = Vec16<KV>::kElems;  // elements per 16-byte chunk
  static constexpr int CH = HD / E;            // chunks per key row
  static constexpr int LPK = CH >= 32 ? 32 : (CH > 16 ? 32 : CH > 8 ? 16 : CH > 4 ? 8 : CH > 2 ? 4 : CH > 1 ? 2 : 1);
  static constexpr int CPL = (CH + LPK - 1) / LPK;  // chunks per lane
  static constexpr int KPW = 32 / LPK;              // keys a warp handles at once
  static constexpr int UK = 2;                      // key groups loaded ahead per lane
  static_assert(HD % E == 0, "head_dim must be a multiple of 16 bytes of the cache dtype");
};

// Merges (m2, l2, acc2) into (m, l, acc): all in log2 units; m = -inf means "empty".
template <int N>
__device__ __forceinline__ void mergeState(float& m, float& l, float (&acc)[N], float m2, float l2,
                                           const float (&acc2)[N]) {
  const float mn = fmaxf(m, m2);
  if (mn == LLMC_NEG_INF) return;
  const float a = m == LLMC_NEG_INF ? 0.f : exp2f(m - mn);
  const float b = m2 == LLMC_NEG_INF ? 0.f : exp2f(m2 - mn);
  l = l * a + l2 * b;
#pragma unroll
  for (int i = 0; i < N; ++i) acc[i] = acc[i] * a + acc2[i] * b;
  m = mn;
}

// Most splits one (sequence, head) may be cut into (the backend's cap).
constexpr int kMaxDecodeSplits = 32;

// Merges split s's (ms, ls, as) into the running (m, l, a) of one output element, with a running
// maximum (log2 units; m = -inf while nothing is merged). One function for every combine path
// (global partials, cluster shared memory), so they round alike.
__device__ __forceinline__ void mergeSplit(float& m, float& l, float& a, float ms, float ls, float as) {
  if (ms == LLMC_NEG_INF) return;  // an empty split weighs 0 (its l and acc are 0 too)
  const float mn = fmaxf(m, ms);
  const float ca = exp2f(m - mn);  // 0 while nothing is merged yet (m = -inf)
  const float cb = exp2f(ms - mn);
  l = l * ca + ls * cb;
  a = a * ca + as * cb;
  m = mn;
}

// out[g * hd + d] = sum_s acc_s[d] 2^(m_s - M) / sum_s l_s 2^(m_s - M), M = max_s m_s, for the G
// heads whose partials start at partM/partL[part0 + g * nsplit] (splits consecutive) and
// partAcc[(part0 + g * nsplit + s) * hd]. Called by a whole block; used by llmc_attn_combine and by
// the last split block of the fused decode kernel, so both paths do the same arithmetic. One pass
// per output element, merging split after split with a running maximum: every load is issued up
// front (none depends on another), where a pass for the weights, a barrier and a pass for the
// values took three round trips on the decode critical path. For one split the result is
// acc * (1 / l), what the single-split direct store computes. The partials were written by other
// blocks of this or the previous grid: loads go through L2 (.cg), never a stale L1 line.
template <int G>
__device__ __forceinline__ void combineSplits(const float* partM, const float* partL, const float* partAcc,
                                              u64 part0, int nsplit, int hd, float* __restrict__ out) {
  for (int idx = threadIdx.x; idx < G * hd; idx += blockDim.x) {
    const int g = idx / hd, d = idx % hd;
    const u64 p = part0 + (u64)g * nsplit;
    float m = LLMC_NEG_INF, l = 0.f, a = 0.f;
#pragma unroll 4
    for (int s = 0; s < nsplit; ++s)
      mergeSplit(m, l, a, __ldcg(partM + p + s), __ldcg(partL + p + s), __ldcg(partAcc + (p + s) * hd + d));
    out[(u64)g * hd + d] = a * (l > 0.f ? 1.f / l : 0.f);
  }
}

// The same merge when the nsplit blocks of a head group form one thread-block cluster (sm_90):
// each block left its (m, l, acc) in its own shared memory (smM[G], smL[G], smAcc[G * HD]) and
// the cluster has synchronised; block `rank` merges its share of the G * HD outputs, reading the
// other blocks' shared memory directly. No global partials, no fence, no ticket, no L2 round trip.
template <int G, int HD>
__device__ __forceinline__ void combineCluster(const float* smM, const float* smL, const float* smAcc, int rank,
                                               int nsplit, float* __restrict__ out) {
  for (int idx = rank * blockDim.x + threadIdx.x; idx < G * HD; idx += nsplit * blockDim.x) {
    const int g = idx / HD;
    float m = LLMC_NEG_INF, l = 0.f, a = 0.f;
#pragma unroll 4
    for (int s = 0; s < nsplit; ++s)
      mergeSplit(m, l, a, clusterLoad(smM + g, s), clusterLoad(smL + g, s), clusterLoad(smAcc + idx, s));
    out[idx] = a * (l > 0.f ? 1.f / l : 0.f);
  }
}

template <typename KV, int HD, int G>
__device__ __forceinline__ void attnDecodeBody(
    const float* __restrict__ q, int qStride, KV* cache, int blockSize,
    const int* __restrict__ blockTables, int maxBlocks, const int* __restrict__ seqLens,
    int numHeads, int numKvHeads, float scale, int window, float* __restrict__ partM,
    float* __restrict__ partL, float* __restrict__ partAcc, unsigned* __restrict__ counters,
    float* __restrict__ out, int oStride, const float* __restrict__ kIn, int kStride,
    const float* __restrict__ vIn, int vStride, const int* __restrict__ positions,
    const int* __restrict__ slots, int rot, const float* __restrict__ invFreq, int interleaved,
    int earlyTrigger, const char* __restrict__ prefetch, u64 prefetchBytes, int clusterCombine,
    int prefetchRowBytes, int prefetchSkip, int kvL2Ahead) {
  // Rows of blockIdx.y past the attention's own are L2 prefetch blocks: they ask for the next
  // kernel's weights (prefetch, prefetchBytes) and leave, so that weight stream runs while this
  // latency-bound kernel would leave the memory system mostly idle. Weights never change during a
  // step, so no wait for the previous kernel is needed.
  const int attnRows = numKvHeads * (numHeads / numKvHeads / G);
  if ((int)blockIdx.y >= attnRows) {
    const u64 part = (u64)(blockIdx.y - attnRows) * gridDim.x + blockIdx.x, parts = (u64)(gridDim.y - attnRows) * gridDim.x;
    if (blockIdx.z == 0 && prefetchRowBytes > 0)
      prefetchL2RowTails(prefetch, prefetchBytes, (u32)prefetchRowBytes, (u32)prefetchSkip, part, parts);
    else if (blockIdx.z == 0)
      prefetchL2Share(prefetch, prefetchBytes, part, parts);
    return;
  }
  using S = DecodeShape<KV, HD>;
  constexpr int E = S::E, CPL = S::CPL, LPK = S::LPK, KPW = S::KPW, UK = S::UK;
  constexpr int N = CPL * E;  // accumulator elements per lane per head
  const int nsplit = gridDim.x, split = blockIdx.x, seq = blockIdx.z;
  const int groupSize = numHeads / numKvHeads;
  const int subgroups = groupSize / G;
  const int kvh = blockIdx.y / subgroups;
  const int h0 = kvh * groupSize + (blockIdx.y % subgroups) * G;  // first q head of this block
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int sub = lane % LPK;  // which chunks of the row this lane owns
  const int keyInWarp = lane / LPK;

  // This split's key range [k0, k1). The lengths are step metadata, uploaded before the step's
  // first kernel started: readable before gridWait().
  const int len = seqLens[seq];
  const int start = window > 0 && len > window ? len - window : 0;
  const int per = (len - start + nsplit - 1) / nsplit;
  const int k0 = start + split * per;
  const int k1 = min(len, k0 + per);

  // Fused rope + KV append (kIn != null; decode, so the step's token t is the sequence's index and
  // sits at position len - 1): q of this block's heads is rotated into shared memory (every split
  // block does it for itself: G * HD / 2 pairs), and the block whose range holds the new key also
  // rotates k and narrows v into smK / smV in the cache dtype. That key is then taken from smK / smV
  // instead of the cache, in the same loop iteration and lanes that would have loaded it, so the
  // result is that of rope_kv_write + this kernel; the subgroup-0 block of that split writes it to
  // its cache slot for later steps. No block of this launch reads that slot from the cache.
  __shared__ float smQ[G * HD];
  __shared__ __align__(16) KV smK[HD];  // 16-byte aligned: read back as uint4 chunks
  __shared__ __align__(16) KV smV[HD];
  const bool ropeMode = kIn != nullptr;
  const int newKey = ropeMode && k0 <= len - 1 && len - 1 < k1 ? len - 1 : -1;

  const int* table = blockTables + (u64)seq * maxBlocks;
  const u64 headOff = (u64)kvh * blockSize * HD;
  const u64 vOff = (u64)numKvHeads * blockSize * HD;
  constexpr int kStep = kDecodeWarps * KPW;  // keys the block covers per round
  uint4 kv[UK][CPL], vv[UK][CPL];
  bool valid[UK];
  // Loads the UK key groups starting at `base` (not the new key: takeNewKey supplies it).
  auto loadKeys = [&](int base) {
#pragma unroll
    for (int u = 0; u < UK; ++u) {
      const int key = base + u * kStep + warp * KPW + keyInWarp;
      valid[u] = key < k1;
      if (valid[u] && key != newKey) {
        const int blk = table[key / blockSize];
        const KV* kr = cache + (u64)blk * 2 * numKvHeads * blockSize * HD + headOff +
                       (u64)(key % blockSize) * HD;
#pragma unroll
        for (int j = 0; j < CPL; ++j) {
          const int c = sub + j * LPK;
          if (c < S::CH) {
            kv[u][j] = loadCached16(kr + c * E);
            vv[u][j] = loadCached16(kr + vOff + c * E);
          }
        }
      }
    }
  };
  auto takeNewKey = [&](int base) {
#pragma unroll
    for (int u = 0; u < UK; ++u) {
      if (base + u * kStep + warp * KPW + keyInWarp != newKey) continue;
#pragma unroll
      for (int j = 0; j < CPL; ++j) {
        const int c = sub + j * LPK;
        if (c < S::CH) {
          kv[u][j] = *reinterpret_cast<const uint4*>(smK + c * E);
          vv[u][j] = *reinterpret_cast<const uint4*>(smV + c * E);
        }
      }
    }
  };

  // Programmatic dependent launch: with the fused rope nothing this launch reads from the cache is
  // written during the step (the new key comes from shared memory), so the first key groups are
  // requested before waiting for the q/k/v producer, overlapping its tail. Without it the previous
  // kernel (rope_kv_write) writes the cache: wait first.
  // earlyTrigger: the next kernel (the o_proj GEMV) may launch as soon as every block of this one
  // has started, so its weight prefetch overlaps this latency-bound kernel and the QKV GEMV's tail.
  if (ropeMode && k0 < k1) {
    loadKeys(k0);
    // Up to kvL2Ahead of the split's later keys (past the groups just loaded) have their K and V
    // rows asked of L2 too, so the loop's next loads after the wait hit L2 instead of making
    // another round trip to DRAM behind the next GEMV's weight stream. Capped so long contexts do
    // not flush L2 (64 keys of bf16 HD 128: 32 KB per block, ~9 MB over a 7B layer's 288 blocks).
    const int from = k0 + kStep * UK, to = min(k1, from + kvL2Ahead);
    for (int i = threadIdx.x; i < 2 * (to - from); i += blockDim.x) {
      const int key = from + i / 2;
      const KV* row = cache + (u64)table[key / blockSize] * 2 * numKvHeads * blockSize * HD + headOff +
                      (u64)(key % blockSize) * HD + (i % 2 == 0 ? 0 : vOff);
      prefetchL2Row(reinterpret_cast<const char*>(row), (u32)(HD * sizeof(KV)));
    }
  }
  pdlEnter(earlyTrigger);

  if (ropeMode) {
    const int t = seq, pos = positions[t];
    constexpr int kPairs = HD / 2;
    const int items = (G + (newKey >= 0 ? 1 : 0)) * kPairs;  // q heads, then k
    for (int idx = threadIdx.x; idx < items; idx += blockDim.x) {
      const int g = idx / kPairs, i = idx % kPairs;
      int ia, ib;
      pairIndex(i, rot, interleaved, &ia, &ib);
      const float* src = g < G ? q + (u64)t * qStride + (h0 + g) * HD : kIn + (u64)t * kStride + kvh * HD;
      float a = src[ia], b = src[ib];
      if (rot > 0 && i < rot / 2) ropePair(a, b, pos, invFreq[i]);
      if (g < G) {
        smQ[g * HD + ia] = a;
        smQ[g * HD + ib] = b;
      } else {
        smK[ia] = fromFloat<KV>(a);
        smK[ib] = fromFloat<KV>(b);
      }
    }
    if (newKey >= 0)
      for (int d = threadIdx.x; d < HD; d += blockDim.x) smV[d] = fromFloat<KV>(vIn[(u64)t * vStride + kvh * HD + d]);
    __syncthreads();
    if (newKey >= 0 && blockIdx.y % subgroups == 0) {
      const int slot = slots[t];
      KV* dst = cache + (u64)(slot / blockSize) * 2 * numKvHeads * blockSize * HD + (u64)kvh * blockSize * HD +
                (u64)(slot % blockSize) * HD;
      for (int d = threadIdx.x; d < HD; d += blockDim.x) {
        dst[d] = smK[d];
        dst[(u64)numKvHeads * blockSize * HD + d] = smV[d];
      }
    }
  }

  traceMark(0);
  float qf[G][N];
  const float qs = scale * kLog2e;
#pragma unroll
  for (int g = 0; g < G; ++g)
#pragma unroll
    for (int j = 0; j < CPL; ++j)
#pragma unroll
      for (int e = 0; e < E; ++e) {
        const int d = (sub + j * LPK) * E + e;
        const float qv = d >= HD ? 0.f : ropeMode ? smQ[g * HD + d] : q[(u64)seq * qStride + (h0 + g) * HD + d];
        qf[g][j * E + e] = qv * qs;
      }

  float m[G], l[G], acc[G][N];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    m[g] = LLMC_NEG_INF;
    l[g] = 0.f;
#pragma unroll
    for (int i = 0; i < N; ++i) acc[g][i] = 0.f;
  }

  for (int base = k0; base < k1; base += kStep * UK) {
    if (!ropeMode || base != k0) loadKeys(base);  // the first groups of the fused mode are in flight
    if (newKey >= 0) takeNewKey(base);
#pragma unroll
    for (int u = 0; u < UK; ++u) {
      float kf[N], vf[N];
#pragma unroll
      for (int j = 0; j < CPL; ++j) {
        const bool own = valid[u] && sub + j * LPK < S::CH;
        if (own) {
          unpack16(kv[u][j], (const KV*)nullptr, kf + j * E);
          unpack16(vv[u][j], (const KV*)nullptr, vf + j * E);
        } else {
#pragma unroll
          for (int e = 0; e < E; ++e) kf[j * E + e] = vf[j * E + e] = 0.f;
        }
      }
#pragma unroll
      for (int g = 0; g < G; ++g) {
        float s = 0.f;
#pragma unroll
        for (int i = 0; i < N; ++i) s = fmaf(qf[g][i], kf[i], s);
        // Sum over the LPK lanes that share this key (aligned groups: xor stays inside).
#pragma unroll
        for (int o = LPK / 2; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        if (valid[u]) {
          const float mn = fmaxf(m[g], s);
          const float corr = exp2f(m[g] - mn);  // m = -inf the first time: corr = 0, acc is 0
          const float p = exp2f(s - mn);
          l[g] = l[g] * corr + p;
#pragma unroll
          for (int i = 0; i < N; ++i) acc[g][i] = fmaf(p, vf[i], acc[g][i] * corr);
          m[g] = mn;
        }
      }
    }
  }

  traceMark(1);
  // Merge the KPW key groups of each warp (lanes with equal `sub` hold the same dimensions).
#pragma unroll
  for (int o = LPK; o < 32; o <<= 1) {
#pragma unroll
    for (int g = 0; g < G; ++g) {
      float acc2[N];
#pragma unroll
      for (int i = 0; i < N; ++i) acc2[i] = __shfl_xor_sync(0xffffffffu, acc[g][i], o);
      const float m2 = __shfl_xor_sync(0xffffffffu, m[g], o);
      const float l2 = __shfl_xor_sync(0xffffffffu, l[g], o);
      mergeState<N>(m[g], l[g], acc[g], m2, l2, acc2);
    }
  }

  // Merge the warps through shared memory; lanes [0, LPK) of each warp hold its state.
  __shared__ float smM[kDecodeWarps][G], smL[kDecodeWarps][G];
  __shared__ float smAcc[kDecodeWarps][G][CPL * LPK * E];
  if (lane < LPK) {
#pragma unroll
    for (int g = 0; g < G; ++g) {
      if (lane == 0) {
        smM[warp][g] = m[g];
        smL[warp][g] = l[g];
      }
#pragma unroll
      for (int j = 0; j < CPL; ++j)
#pragma unroll
        for (int e = 0; e < E; ++e) smAcc[warp][g][(sub + j * LPK) * E + e] = acc[g][j * E + e];
    }
  }
  __syncthreads();
  const u64 part = ((u64)seq * numHeads + h0) * nsplit + split;  // head h0 + g: + g * nsplit
  const bool direct = out != nullptr && nsplit == 1;  // the only split: normalise and store
  // Cluster combine (sm_90, the launch's cluster is the nsplit blocks of this head group): the
  // block's state stays in its shared memory for the others to read.
  const bool inCluster = clusterCombine != 0 && out != nullptr && !direct;
  // The merged accumulators reuse smQ (G * HD floats, dead since q went into registers before the
  // key loop, and a barrier ago): a separate array took the f32 HD = 256 G = 8 kernel past the 48 KB
  // of static shared memory.
  __shared__ float clM[G], clL[G];
  float* const clAcc = smQ;
  for (int idx = threadIdx.x; idx < G * HD; idx += blockDim.x) {
    const int g = idx / HD, d = idx % HD;
    float mm = LLMC_NEG_INF;
#pragma unroll
    for (int w = 0; w < kDecodeWarps; ++w) mm = fmaxf(mm, smM[w][g]);
    float ll = 0.f, aa = 0.f;
    if (mm != LLMC_NEG_INF) {
#pragma unroll
      for (int w = 0; w < kDecodeWarps; ++w) {
        if (smM[w][g] == LLMC_NEG_INF) continue;
        const float f = exp2f(smM[w][g] - mm);
        ll += smL[w][g] * f;
        aa += smAcc[w][g][d] * f;
      }
    }
    if (direct) {
      // What combineSplits computes for one split (weight exp2(0) = 1), so the result is the same.
      out[(u64)seq * oStride + (h0 + g) * HD + d] = aa * (ll > 0.f ? 1.f / ll : 0.f);
      continue;
    }
    if (inCluster) {
      clAcc[idx] = aa;
      if (d == 0) {
        clM[g] = mm;
        clL[g] = ll;
      }
      continue;
    }
    const u64 p = part + (u64)g * nsplit;
    partAcc[p * HD + d] = aa;
    if (d == 0) {
      partM[p] = mm;
      partL[p] = ll;
    }
  }
  if (inCluster) {
    clusterSync();  // every block's state is in its shared memory
    combineCluster<G, HD>(clM, clL, clAcc, split, nsplit, out + (u64)seq * oStride + h0 * HD);
    clusterSync();  // no block leaves (freeing its shared memory) while another still reads it
    return;
  }
  if (out == nullptr || direct) return;

  // Fused combine: the block that finishes last among the nsplit blocks of this (sequence, head
  // group) merges the partials. Every thread's partial stores are made visible device-wide before
  // thread 0 takes a ticket; atomicInc wraps the counter back to 0 on the last ticket, so the next
  // launch (the next layer, or a graph replay) finds it zeroed without a reset pass.
  __shared__ bool isLast;
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) {
    const unsigned ticket = atomicInc(counters + (u64)seq * attnRows + blockIdx.y, (unsigned)(nsplit - 1));
    isLast = ticket == (unsigned)(nsplit - 1);
  }
  __syncthreads();
  traceMark(2);
  if (!isLast) return;
  __threadfence();  // acquire side: the other blocks' partials are read after their tickets
  combineSplits<G>(partM, partL, partAcc, part - split, nsplit, HD, out + (u64)seq * oStride + h0 * HD);
}

}  // namespace llmc

// q: query of sequence s at q + s*qStride (heads consecutive, HD each).
// kIn == null: q was rotated by llmc_rope_kv_write (its q scratch) and the new token's k/v are in
//   the cache already. kIn != null (fused rope, decode): q, kIn, vIn are the step's rows (f32,
//   token t = sequence t, strides in elements); this launch rotates q and k (rot, invFreq,
//   interleaved as llmc_rope_kv_write), writes k/v to cache slot slots[t] and attends over them.
//   `out` must then not overlap q/kIn/vIn (blocks read them while others store).
// out == null: every block writes its partials, partM/partL [nseq, nh, nsplit] and
//   partAcc [nseq, nh, nsplit, HD], and llmc_attn_combine merges them (LLMC_CUDA_FUSED_ATTN=0).
// earlyTrigger: when the dependent launch is released (pdlEnter, common.cuh): 0 after this kernel
//   waited for its predecessor, 1 before, 2 as its blocks exit.
// prefetch / prefetchBytes (16-byte aligned, a multiple of 16; 0: none): a range (the next GEMV's
//   weight) that grid rows y >= nkv * (nh / nkv / G) ask L2 to fetch; those blocks do nothing else.
//   prefetchRowBytes > 0: prefetchBytes is instead the sum of row tails: of each prefetchRowBytes-long
//   row only the bytes from prefetchSkip on (prefetchL2RowTails; both multiples of 16).
// kvL2Ahead > 0 (fused rope): before the wait each block also asks L2 for the K and V rows of up to
//   that many of its keys past the first groups it loads (LLMC_CUDA_ATTN_L2_AHEAD).
// out != null (fused): out[s*oStride + h*HD + d] is written by this launch. nsplit == 1: each block
//   normalises its own state and stores it (no partials). nsplit > 1: partials as above, and the
//   last block of each (sequence, blockIdx.y) combines them; counters [nseq * nkv * (nh / nkv / G)], zeroed
//   once at allocation, are back at zero after every launch.
// clusterCombine != 0 (sm_90 only, fused, nsplit > 1): the launch's cluster dimension is
//   (nsplit, 1, 1), so a head group's split blocks form one cluster; they merge through each
//   other's shared memory (combineCluster) and neither partials nor counters are touched.
// Launch: grid (nsplit <= kMaxDecodeSplits, nkv * (nh / nkv / G) + prefetch rows, nseq), block 128. (128, 4): at
// most 128 registers, which stops ptxas (sm_86) from picking ~56 and spilling.
#define LLMC_DEFINE_ATTN_DECODE(NAME, KV, HD, G)                                                 \
  extern "C" __global__ void __launch_bounds__(128, 4) NAME(                                     \
      const float* __restrict__ q, int qStride, KV* cache, int blockSize,                        \
      const int* __restrict__ blockTables, int maxBlocks, const int* __restrict__ seqLens,       \
      int numHeads, int numKvHeads, float scale, int window, float* __restrict__ partM,          \
      float* __restrict__ partL, float* __restrict__ partAcc, unsigned* __restrict__ counters,   \
      float* __restrict__ out, int oStride, const float* __restrict__ kIn, int kStride,          \
      const float* __restrict__ vIn, int vStride, const int* __restrict__ positions,             \
      const int* __restrict__ slots, int rot, const float* __restrict__ invFreq,                 \
      int interleaved, int earlyTrigger, const char* __restrict__ prefetch,                     \
      ::llmc::u64 prefetchBytes, int clusterCombine, int prefetchRowBytes, int prefetchSkip,       \
      int kvL2Ahead) {                                                                           \
    /* attnDecodeBody calls pdlEnter itself, after its first loads in the fused-rope mode. */    \
    ::llmc::TraceScope trace(3, HD, cache); /* empty unless LLMC_TRACE (trace.cuh) */           \
    ::llmc::attnDecodeBody<KV, HD, G>(q, qStride, cache, blockSize, blockTables, maxBlocks,      \
                                      seqLens, numHeads, numKvHeads, scale, window, partM,       \
                                      partL, partAcc, counters, out, oStride, kIn, kStride, vIn, \
                                      vStride, positions, slots, rot, invFreq, interleaved,      \
                                      earlyTrigger, prefetch, prefetchBytes, clusterCombine,     \
                                      prefetchRowBytes, prefetchSkip, kvL2Ahead);                \
  }

// The unfused combine: out[s*oStride + h*hd + d] from the nsplit partials of (s, h) (combineSplits).
// Launch: grid (nh, nseq), block 128; nsplit <= kMaxDecodeSplits.
extern "C" __global__ void __launch_bounds__(128)
    llmc_attn_combine(const float* __restrict__ partM, const float* __restrict__ partL,
                      const float* __restrict__ partAcc, int nsplit, int hd, float* __restrict__ out,
                      int oStride) {
  ::llmc::pdlEnter();
  const int h = blockIdx.x, seq = blockIdx.y, nh = gridDim.x;
  ::llmc::combineSplits<1>(partM, partL, partAcc, ((::llmc::u64)seq * nh + h) * nsplit, nsplit, hd,
                           out + (::llmc::u64)seq * oStride + (::llmc::u64)h * hd);
}

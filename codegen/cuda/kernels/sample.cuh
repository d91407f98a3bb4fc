// sample.cuh - sampling on the device: repetition penalty, temperature, top-k, top-p, min-p and
// the draw, with the host Sampler's semantics (runtime/src/Sampler.cpp), so that only token ids
// leave the GPU.
//
// Owned by the CUDA codegen; no per-model constant, so both kernels are in every engine.
// The host Sampler is the reference: the kernels do its arithmetic in double, element by element
// with the same operations (so the penalised, scaled logits l, e = exp(l - max) and p = e / S are
// the same numbers as on the host, up to the last bit of exp()), and select the same tokens:
//   * order: descending l, ties to the lower id (the host's stable_sort), so every filter keeps a
//     prefix of that order. A prefix is a Cut {key, id}: token i is inside when key(i) > key, or
//     key(i) == key and i <= id. top-k and top-p are found by a radix descent over the 64-bit
//     order-preserving key of l (8 passes of 8 bits), with a count (top-k) or probability mass
//     (top-p) per bucket, then the id cut inside the boundary value's tie group; no sort.
//   * masses for top-p are summed in 62-bit fixed point (integer atomics: exact, so independent of
//     the order the threads add in, and deterministic run to run). The host sums doubles one by one
//     in sorted order. Where the host's running sum and the mass here fall on different sides of
//     top_p (|difference| ~1e-13 at a 150k vocabulary, both being within that of the exact sum) the
//     cut can differ by a token. Likewise S (a block tree here, sorted order on the host), the
//     renormalisation sum and the draw's running sum (per-thread chunks of ids, then the chunks in
//     order, where the host adds id by id): each can differ from the host's in the last bits, which
//     changes a token only when the uniform u or top_p lies within that much of a boundary.
//   * the uniform u of each row comes from the host Sampler's generator (so a seed means the same
//     on either path); the draw is the host's inverse CDF over ids in increasing order.
// Arguments of a step (a fixed device buffer, so the decode graph replays it; layout in
// SampleArgs below, mirrored by runtime/backends/cuda/GpuSampler.h).
#pragma once

#include "common.cuh"

namespace llmc {

// Layout of the int32 argument buffer.
constexpr int kSampleTemperature = 0;  // f32 bits; 0: greedy (argmax of the penalised row)
constexpr int kSampleTopK = 1;         // int; 0: off
constexpr int kSampleTopP = 2;         // f32 bits; 1: off
constexpr int kSampleMinP = 3;         // f32 bits; 0: off
constexpr int kSamplePenalty = 4;      // f32 bits; 1: off
constexpr int kSampleHeaderInts = 8;
constexpr int kSampleRowInts = 4;      // per row: u (f64, 2 ints), history offset, history length
// The history of all rows follows the rows: base + kSampleHeaderInts + kSampleRowInts * maxRows.
constexpr int kSampleChunk = 4096;     // columns per llmc_sample_prep block
constexpr int kSampleThreads = 1024;   // llmc_sample_select block

// Order-preserving map of a double to u64 (larger double, larger key).
// -0 maps to +0's key: the host compares values, and -0 == +0 is a tie (broken by id).
__device__ __forceinline__ u64 sampleKey(double v) {
  const u64 b = (u64)__double_as_longlong(v == 0.0 ? 0.0 : v);
  return (b >> 63) ? ~b : (b | 0x8000000000000000ull);
}

// A prefix of the sampling order (see the header comment).
struct SampleCut {
  u64 key;
  int id;
};
__device__ __forceinline__ bool sampleInside(u64 key, int i, SampleCut c) {
  return key > c.key || (key == c.key && i <= c.id);
}
// The shorter of two prefixes.
__device__ __forceinline__ SampleCut sampleMinCut(SampleCut a, SampleCut b) {
  return (a.key > b.key || (a.key == b.key && a.id < b.id)) ? a : b;
}

// Deterministic block sum of doubles (a fixed tree for a fixed block size). scratch: 32 doubles.
__device__ __forceinline__ double sampleBlockSum(double v, double* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  double t = lane < warps ? scratch[lane] : 0.0;
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) t += __shfl_xor_sync(0xffffffffu, t, o);
  __syncthreads();
  return t;
}

// (v, i) wins over (bv, bi): larger, or equal at a lower id (the host's first maximum).
__device__ __forceinline__ bool sampleBetter(double v, int i, double bv, int bi) {
  return v > bv || (v == bv && i < bi);
}
__device__ __forceinline__ void sampleWarpArgmax(double& v, int& i) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const double ov = __shfl_xor_sync(0xffffffffu, v, o);
    const int oi = __shfl_xor_sync(0xffffffffu, i, o);
    if (sampleBetter(ov, oi, v, i)) { v = ov; i = oi; }
  }
}

struct SampleShared {
  u64 hist[256];
  u64 tieWeight[256];  // last pass of a mass descent: the weight of each bucket's tokens
  int chosen;
  int found;
  int nthId;
  double red[32];
  double prefix[kSampleThreads];
  int counts[kSampleThreads];
};

// Id of the m-th (1-based) token, in increasing id order, with key == `key` inside `within`.
// Thread t scans the contiguous ids [t * per, (t + 1) * per).
__device__ int sampleNthTie(const double* l, int vocab, u64 key, SampleCut within, u64 m, SampleShared& sh) {
  const int per = (vocab + blockDim.x - 1) / blockDim.x;
  const int b = threadIdx.x * per, e = min(vocab, b + per);
  int n = 0;
  for (int i = b; i < e; ++i) {
    const u64 k = sampleKey(l[i]);
    n += (k == key && sampleInside(k, i, within)) ? 1 : 0;
  }
  sh.counts[threadIdx.x] = n;
  if (threadIdx.x == 0) sh.nthId = 0x7fffffff;
  __syncthreads();
  if (threadIdx.x == 0) {
    u64 run = 0;
    for (int t = 0; t < (int)blockDim.x; ++t) {
      const int c = sh.counts[t];
      sh.counts[t] = (int)run;  // exclusive prefix
      run += c;
    }
  }
  __syncthreads();
  u64 seen = (u64)sh.counts[threadIdx.x];
  if (seen < m && seen + n >= m) {
    for (int i = b; i < e; ++i) {
      const u64 k = sampleKey(l[i]);
      if (k == key && sampleInside(k, i, within) && ++seen == m) { sh.nthId = i; break; }
    }
  }
  __syncthreads();
  return sh.nthId;
}

// The shortest prefix of the tokens inside `within` whose weight reaches `target`: weight 1 per
// token (kMass false: top-k, target k) or its probability in 2^-62 units (top-p). Returns false
// when the whole of `within` weighs less than target (then every token of it stays).
template <bool kMass>
__device__ bool sampleDescend(const double* l, const double* p, int vocab, SampleCut within, u64 target,
                              SampleCut* cut, SampleShared& sh) {
  const int lane = threadIdx.x & 31;
  u64 prefix = 0, above = 0;
  for (int shift = 56; shift >= 0; shift -= 8) {
    const u64 hiMask = shift == 56 ? 0ull : (~0ull << (shift + 8));
    for (int b = threadIdx.x; b < 256; b += blockDim.x) sh.hist[b] = 0;
    __syncthreads();
    // Warp-uniform loop: the lanes of a warp that fall in the same bucket are added up first
    // (__match_any_sync), so one atomic per bucket per warp-iteration: the first digits of a
    // row's keys are nearly all equal, and a shared atomic per token would serialise on them.
    for (int base = threadIdx.x - lane; base < vocab; base += blockDim.x) {
      const int i = base + lane;
      bool cand = false;
      u64 key = 0;
      if (i < vocab) {
        key = sampleKey(l[i]);
        cand = (key & hiMask) == (prefix & hiMask) && sampleInside(key, i, within);
      }
      if (!__any_sync(0xffffffffu, cand)) continue;
      const int bucket = cand ? (int)((key >> shift) & 255) : 256 + lane;
      u64 w = 0;
      if (cand) w = kMass ? __double2ull_rn(p[i] * 4611686018427387904.0) : 1ull;  // p * 2^62
      const unsigned peers = __match_any_sync(0xffffffffu, bucket);
      u64 sum = 0;
      if (kMass) {
        for (int j = 0; j < 32; ++j) {
          const u64 o = __shfl_sync(0xffffffffu, w, j);
          if ((peers >> j) & 1u) sum += o;
        }
      } else {
        sum = (u64)__popc(peers);
      }
      if (cand && (__ffs(peers) - 1) == lane) atomicAdd(&sh.hist[bucket], sum);
      // In the last pass a bucket is one value of l, so all its tokens have the same p.
      if (kMass && cand && shift == 0) sh.tieWeight[bucket] = w;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      int chosen = -1;
      for (int b = 255; b >= 0; --b) {
        if (above + sh.hist[b] >= target) { chosen = b; break; }
        above += sh.hist[b];
      }
      sh.chosen = chosen;
      if (chosen >= 0 && shift == 0) {
        // The tie group of the boundary value: take its lowest ids until the target is reached.
        const u64 w = kMass ? sh.tieWeight[chosen] : 1ull;
        const u64 ties = sh.hist[chosen] / w, m = (target - above + w - 1) / w;
        sh.found = m >= ties ? -1 : (int)m;  // -1: the whole group
      }
    }
    __syncthreads();
    const int chosen = sh.chosen;
    if (chosen < 0) return false;
    prefix |= (u64)chosen << shift;  // `above` is thread 0's alone
  }
  const int m = sh.found;
  __syncthreads();
  cut->key = prefix;
  cut->id = m < 0 ? 0x7fffffff : sampleNthTie(l, vocab, prefix, within, (u64)m, sh);
  return true;
}

}  // namespace llmc

// Pass 1 of device sampling. For row r (logits + (rowIds ? rowIds[r] : r) * vocab) and the block's
// columns [blockIdx.x * kSampleChunk, +kSampleChunk): l = double(logit), penalised where the
// column is in row r's history (l > 0 ? l / penalty : l * penalty, once per distinct token),
// divided by the temperature unless it is 0; written to lOut[r * vocab + column]. The block's
// largest l and its lowest column go to partMax / partIdx[r * gridDim.x + blockIdx.x].
// Launch: grid (ceil(vocab / kSampleChunk), rows), block 256.
extern "C" __global__ void __launch_bounds__(256)
    llmc_sample_prep(const float* __restrict__ logits, const int* __restrict__ rowIds, int vocab,
                     const int* __restrict__ args, int maxRows, double* __restrict__ lOut,
                     double* __restrict__ partMax, int* __restrict__ partIdx) {
  ::llmc::pdlEnter();
  __shared__ unsigned seen[::llmc::kSampleChunk / 32];
  __shared__ double sV[8];
  __shared__ int sI[8];
  const int r = blockIdx.y;
  const float* row = logits + (::llmc::u64)(rowIds ? rowIds[r] : r) * vocab;
  const int begin = blockIdx.x * ::llmc::kSampleChunk, end = min(vocab, begin + ::llmc::kSampleChunk);
  const float temperature = __int_as_float(args[::llmc::kSampleTemperature]);
  const float penalty = __int_as_float(args[::llmc::kSamplePenalty]);
  const int* rowArgs = args + ::llmc::kSampleHeaderInts + ::llmc::kSampleRowInts * r;
  const int* hist = args + ::llmc::kSampleHeaderInts + ::llmc::kSampleRowInts * maxRows + rowArgs[2];
  const int histLen = penalty == 1.0f ? 0 : rowArgs[3];
  for (int w = threadIdx.x; w < ::llmc::kSampleChunk / 32; w += blockDim.x) seen[w] = 0u;
  __syncthreads();
  for (int j = threadIdx.x; j < histLen; j += blockDim.x) {
    const int t = hist[j];
    if (t >= begin && t < end) atomicOr(&seen[(t - begin) >> 5], 1u << ((t - begin) & 31));
  }
  __syncthreads();
  const double rp = (double)penalty, temp = (double)temperature;
  double* lr = lOut + (::llmc::u64)r * vocab;
  double v = -__longlong_as_double(0x7ff0000000000000ll);  // -inf
  int idx = 0x7fffffff;
  for (int i = begin + threadIdx.x; i < end; i += blockDim.x) {
    double x = (double)row[i];
    const int o = i - begin;
    if ((seen[o >> 5] >> (o & 31)) & 1u) x = x > 0 ? x / rp : x * rp;
    if (temperature != 0.0f) x /= temp;
    lr[i] = x;
    if (x > v) { v = x; idx = i; }  // ascending i per thread: the first maximum stays
  }
  ::llmc::sampleWarpArgmax(v, idx);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  if (lane == 0) { sV[warp] = v; sI[warp] = idx; }
  __syncthreads();
  if (warp == 0) {
    v = lane < warps ? sV[lane] : -__longlong_as_double(0x7ff0000000000000ll);
    idx = lane < warps ? sI[lane] : 0x7fffffff;
    ::llmc::sampleWarpArgmax(v, idx);
    if (lane == 0) {
      partMax[r * gridDim.x + blockIdx.x] = v;
      partIdx[r * gridDim.x + blockIdx.x] = idx;
    }
  }
}

// Pass 2: one block per row picks its token into out[r] (l from llmc_sample_prep, `parts` of its
// blocks per row). Temperature 0: the argmax. Else top-k, softmax, top-p, min-p, renormalisation
// and the draw with row r's u, as the host Sampler does; p (scratch, [rows, vocab]) receives the
// probabilities before the renormalisation (0 outside top-k).
// Launch: grid rows, block kSampleThreads.
extern "C" __global__ void __launch_bounds__(1024)
    llmc_sample_select(int vocab, int parts, const int* __restrict__ args, const double* __restrict__ lIn,
                       double* __restrict__ pOut, const double* __restrict__ partMax,
                       const int* __restrict__ partIdx, int* __restrict__ out) {
  using namespace ::llmc;
  pdlEnter();
  __shared__ SampleShared sh;
  __shared__ double sMax;
  __shared__ int sArg, sHit, sLast;
  const int r = blockIdx.x, lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const double* l = lIn + (u64)r * vocab;
  double* p = pOut + (u64)r * vocab;
  if (warp == 0) {
    double v = -__longlong_as_double(0x7ff0000000000000ll);
    int idx = 0x7fffffff;
    for (int q = lane; q < parts; q += 32) {
      const double pv = partMax[r * parts + q];
      const int pi = partIdx[r * parts + q];
      if (sampleBetter(pv, pi, v, idx)) { v = pv; idx = pi; }
    }
    sampleWarpArgmax(v, idx);
    if (lane == 0) { sMax = v; sArg = idx == 0x7fffffff ? 0 : idx; sHit = 0x7fffffff; sLast = 0; }
  }
  __syncthreads();
  const float temperature = __int_as_float(args[kSampleTemperature]);
  if (temperature == 0.0f) {
    if (threadIdx.x == 0) out[r] = sArg;
    return;
  }
  const int topK = args[kSampleTopK];
  const float topP = __int_as_float(args[kSampleTopP]), minP = __int_as_float(args[kSampleMinP]);
  const double mx = sMax;
  const SampleCut all = {0ull, 0x7fffffff};

  // top-k: the k-th token of the order.
  SampleCut cut = all;
  if (topK > 0 && topK < vocab) sampleDescend<false>(l, p, vocab, all, (u64)topK, &cut, sh);

  // Softmax over the top-k tokens (the host's exp(l - max), summed, then divided by the sum).
  double s = 0;
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
    const double li = l[i];
    const double e = sampleInside(sampleKey(li), i, cut) ? exp(li - mx) : 0.0;
    p[i] = e;
    s += e;
  }
  const double sum = sampleBlockSum(s, sh.red);
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) p[i] = p[i] / sum;
  __syncthreads();

  // top-p: the shortest prefix of the top-k tokens whose mass reaches top_p.
  if (topP < 1.0f) {
    const u64 target = (u64)ceil((double)topP * 4611686018427387904.0);
    SampleCut cp;
    if (sampleDescend<true>(l, p, vocab, cut, target, &cp, sh)) cut = sampleMinCut(cut, cp);
  }
  // min-p: p >= min_p * p(first token) = min_p * (1 / sum); the first token always passes.
  const double threshold = minP > 0.0f ? (double)minP * (1.0 / sum) : 0.0;
  auto kept = [&](int i, double pi) {
    return sampleInside(sampleKey(l[i]), i, cut) && (minP <= 0.0f || pi >= threshold);
  };
  double k = 0;
  for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
    const double pi = p[i];
    if (kept(i, pi)) k += pi;
  }
  const double keptSum = sampleBlockSum(k, sh.red);

  // The draw: the first id (increasing) where the running sum of p / keptSum exceeds u.
  const double u = __longlong_as_double(*(const long long*)(args + kSampleHeaderInts + kSampleRowInts * r));
  const int per = (vocab + blockDim.x - 1) / blockDim.x;
  const int b = threadIdx.x * per, e = min(vocab, b + per);
  double local = 0;
  for (int i = b; i < e; ++i) {
    const double pi = p[i];
    if (!kept(i, pi)) continue;
    const double q = pi / keptSum;
    if (q > 0) local += q;
  }
  sh.prefix[threadIdx.x] = local;
  __syncthreads();
  if (threadIdx.x == 0) {
    double run = 0;
    for (int t = 0; t < (int)blockDim.x; ++t) {
      const double c = sh.prefix[t];
      sh.prefix[t] = run;
      run += c;
    }
  }
  __syncthreads();
  double cum = sh.prefix[threadIdx.x];
  int last = -1;
  for (int i = b; i < e; ++i) {
    const double pi = p[i];
    if (!kept(i, pi)) continue;
    const double q = pi / keptSum;
    if (!(q > 0)) continue;
    cum += q;
    last = i;
    if (u < cum) { atomicMin(&sHit, i); break; }
  }
  if (last >= 0) atomicMax(&sLast, last);
  __syncthreads();
  if (threadIdx.x == 0) out[r] = sHit != 0x7fffffff ? sHit : sLast;
}

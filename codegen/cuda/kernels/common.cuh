// common.cuh - types and helpers shared by every llmc CUDA kernel template.
//
// Owned by the CUDA codegen (codegen/cuda). These templates are compiled by NVRTC on machines
// without a GPU, so they include no header at all: NVRTC has no C++ standard library, and the
// half/bfloat16 conversions are written with PTX `cvt` (sm_80+) instead of cuda_bf16.h.
//
// Conventions for all kernels (docs/cuda.md):
//   * activations are f32, row-major [T, width] (docs/design.md, "Activations");
//   * weights are `W` = llmc::f32 / llmc::f16 / llmc::bf16, row-major as in the engine;
//   * the KV cache is `KV` (the engine's weight dtype), one buffer per layer,
//     [num_blocks, 2 (k, v), num_kv_heads, block_size, head_dim];
//   * every kernel entry point is `extern "C"` with a name that spells its specialisation, defined
//     by an LLMC_DEFINE_* macro next to its template (the generator emits one line per instance).
#pragma once

#include "trace.cuh"  // TraceScope, traceWaited (empty unless LLMC_TRACE)

namespace llmc {

typedef unsigned long long u64;
typedef long long i64;
typedef unsigned int u32;
typedef unsigned short u16;

constexpr float kLog2e = 1.4426950408889634f;
#define LLMC_NEG_INF (-__int_as_float(0x7f800000))

// Storage types. Kernels never do arithmetic in 16-bit: they load, widen to f32, accumulate in f32.
struct f32 { float v; };
struct f16 { u16 bits; };
struct bf16 { u16 bits; };

template <typename T> struct TypeInfo;
template <> struct TypeInfo<f32> { static constexpr int kBytes = 4; };
template <> struct TypeInfo<f16> { static constexpr int kBytes = 2; };
template <> struct TypeInfo<bf16> { static constexpr int kBytes = 2; };

__device__ __forceinline__ float toFloat(f32 x) { return x.v; }
__device__ __forceinline__ float toFloat(bf16 x) { return __uint_as_float(((u32)x.bits) << 16); }
__device__ __forceinline__ float toFloat(f16 x) {
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(x.bits));
  return f;
}

template <typename T> __device__ __forceinline__ T fromFloat(float x);
template <> __device__ __forceinline__ f32 fromFloat<f32>(float x) { f32 r; r.v = x; return r; }
template <> __device__ __forceinline__ bf16 fromFloat<bf16>(float x) {
  bf16 r;  // round to nearest even, NaN stays NaN (the PTX instruction handles both)
  asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(r.bits) : "f"(x));
  return r;
}
template <> __device__ __forceinline__ f16 fromFloat<f16>(float x) {
  f16 r;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(r.bits) : "f"(x));
  return r;
}

// Activations are f32, except where a prefill step hands a value to a consumer that narrows it
// anyway (a cuBLASLt operand, the KV cache, the tensor-core attention): the backend then lets the
// producer store it 16-bit and the consumer read it so (docs/cuda.md, "16-bit hand-off"). The
// element type of such a tensor is a run-time code, the same for the whole launch (a uniform
// branch per element, negligible next to the memory traffic it saves).
enum ActType { kActF32 = 0, kActBf16 = 1, kActF16 = 2 };
__device__ __forceinline__ void storeAct(void* base, u64 i, float v, int type) {
  if (type == kActBf16) static_cast<bf16*>(base)[i] = fromFloat<bf16>(v);
  else if (type == kActF16) static_cast<f16*>(base)[i] = fromFloat<f16>(v);
  else static_cast<float*>(base)[i] = v;
}
__device__ __forceinline__ float loadAct(const void* base, u64 i, int type) {
  if (type == kActBf16) return toFloat(static_cast<const bf16*>(base)[i]);
  if (type == kActF16) return toFloat(static_cast<const f16*>(base)[i]);
  return static_cast<const float*>(base)[i];
}

// Elements of T per 16-byte vector.
template <typename T> struct Vec16 { static constexpr int kElems = 16 / TypeInfo<T>::kBytes; };

// 16-byte load of data read exactly once (weights): no L1 allocation, so the activations that
// every warp re-reads stay in L1 while the weight stream passes through; and first in line for
// eviction from L2 (an evict_first access policy), so the stream does not push out what L2 holds
// for later: activations, the KV cache, and weights that decode attention's prefetch rows asked
// L2 for (LLMC_CUDA_L2_PREFETCH_MB) ahead of the GEMV that reads them.
__device__ __forceinline__ uint4 loadStream16(const void* p) {
  uint4 r;
  u64 pol;
  asm("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;" : "=l"(pol));
  asm volatile("ld.global.nc.L1::no_allocate.L2::cache_hint.v4.u32 {%0, %1, %2, %3}, [%4], %5;"
               : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w)
               : "l"(p), "l"(pol));
  return r;
}

// Shared-memory address (32-bit, .shared window) of a generic pointer into shared memory.
__device__ __forceinline__ u32 sharedAddress(const void* p) {
  u32 r;
  asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(r) : "l"(p));
  return r;
}
// 16 bytes global -> shared, bypassing L1; srcBytes 0 zero-fills the destination.
__device__ __forceinline__ void cpAsync16(u32 dst, const void* src, int srcBytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(dst), "l"(src), "r"(srcBytes) : "memory");
}
// 4 bytes global -> shared (through L1; 4-byte copies have no L2-only form).
__device__ __forceinline__ void cpAsync4(u32 dst, const void* src) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4;" ::"r"(dst), "l"(src) : "memory");
}
__device__ __forceinline__ void cpAsyncCommit() { asm volatile("cp.async.commit_group;" ::: "memory"); }
template <int N>
__device__ __forceinline__ void cpAsyncWait() {
  asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory");
}

// Thread-block clusters (sm_90+; launched with a cluster dimension). clusterSync: every thread
// of every block of the cluster arrives, and this block's shared-memory stores before it are
// visible to the others' loads after it (release / acquire). clusterLoad: a float from the shared
// memory of block `rank` of the cluster, at the address `local` has in this block's window.
// Compiled to nothing below sm_90, where the runtime never asks for a cluster launch.
__device__ __forceinline__ void clusterSync() {
#if __CUDA_ARCH__ >= 900
  asm volatile("barrier.cluster.arrive.release.aligned;\n\tbarrier.cluster.wait.acquire.aligned;" ::: "memory");
#endif
}
__device__ __forceinline__ float clusterLoad(const float* local, u32 rank) {
#if __CUDA_ARCH__ >= 900
  u32 remote;
  float v;
  asm volatile("mapa.shared::cluster.u32 %0, %1, %2;" : "=r"(remote) : "r"(sharedAddress(local)), "r"(rank));
  asm volatile("ld.shared::cluster.f32 %0, [%1];" : "=f"(v) : "r"(remote) : "memory");
  return v;
#else
  return *local;
#endif
}

// The L2 prefetches below ask L2 to fetch ranges of weights that a later kernel will read (or KV
// rows this kernel reads after its wait), and return without waiting for the data: bytes streamed
// while the memory system would otherwise idle (a latency-bound kernel runs, or the previous
// kernel's tail). All ranges 16-byte aligned, a
// multiple of 16 long.
#if __CUDA_ARCH__ >= 900
// sm_90: one instruction hands the whole range to the bulk-copy unit.
__device__ __forceinline__ void bulkPrefetchL2(const char* p, u32 bytes) {
  asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;" ::"l"(__cvta_generic_to_global(p)), "r"(bytes) : "memory");
}
#endif
// Before sm_90: one prefetch instruction per 128-byte line, for lines first, first + step, ...
__device__ __forceinline__ void linePrefetchL2(const char* p, u64 bytes, u64 first, u64 step) {
  for (u64 off = first; off < bytes; off += step)
    asm volatile("prefetch.global.L2 [%0];" ::"l"(__cvta_generic_to_global(p + off)));
}

// One short range [p, p + bytes) asked for by one thread: a bulk prefetch (sm_90), else a line each.
__device__ __forceinline__ void prefetchL2Row(const char* p, u32 bytes) {
#if __CUDA_ARCH__ >= 900
  bulkPrefetchL2(p, bytes);
#else
  linePrefetchL2(p, bytes, 0, 128);
#endif
}

// This block's share of [p, p + bytes): the share of block `part` when the range is cut into
// `parts` consecutive 16-byte-aligned pieces, each thread asking for a slice of it.
__device__ __forceinline__ void prefetchL2Share(const char* p, u64 bytes, u64 part, u64 parts) {
  const u64 per = ((bytes + parts - 1) / parts + 15) & ~(u64)15;
  const u64 begin = per * part;
  if (begin >= bytes) return;
  const u64 end = begin + per < bytes ? begin + per : bytes;
#if __CUDA_ARCH__ >= 900
  const u64 slice = ((end - begin + blockDim.x - 1) / blockDim.x + 15) & ~(u64)15;
  const u64 b = begin + slice * threadIdx.x;
  if (b < end) bulkPrefetchL2(p + b, (u32)(end - b < slice ? end - b : slice));
#else
  linePrefetchL2(p + begin, end - begin, (u64)threadIdx.x * 128, (u64)blockDim.x * 128);
#endif
}

// prefetchL2Share's strided form: of each `rowBytes`-long row of [p, ...), only the bytes from
// `skip` on, for as many rows as `bytes` (the sum of those tails) covers; each thread asks for
// whole row tails, rows dealt round-robin over the `parts` blocks (so every block's bulk-copy
// unit takes a share, not the first few blocks all of it), then over their threads. For a GEMV
// whose first round of loads (the head of every row) is issued into registers before its wait:
// the tails are what is left for after it. rowBytes and skip multiples of 16, skip < rowBytes.
__device__ __forceinline__ void prefetchL2RowTails(const char* p, u64 bytes, u32 rowBytes, u32 skip, u64 part,
                                                   u64 parts) {
  const u32 tail = rowBytes - skip;
  const u64 rows = bytes / tail;
  for (u64 r = part + threadIdx.x * parts; r < rows; r += parts * blockDim.x) prefetchL2Row(p + r * rowBytes + skip, tail);
}

// [p, p + bytes), asked for by a whole warp: one bulk prefetch from lane 0 (sm_90), else a line per
// lane and step.
__device__ __forceinline__ void warpPrefetchL2(const char* p, u32 bytes) {
#if __CUDA_ARCH__ >= 900
  if ((threadIdx.x & 31) == 0) bulkPrefetchL2(p, bytes);
#else
  linePrefetchL2(p, bytes, (threadIdx.x & 31) * 128, 32 * 128);
#endif
}

// 16-byte read-only load that may stay in L1 (activations, KV tiles re-read by other warps).
__device__ __forceinline__ uint4 loadCached16(const void* p) {
  return __ldg(reinterpret_cast<const uint4*>(p));
}

// Widens the 16 bytes `r` holding Vec16<T>::kElems elements of T into out[0..kElems).
__device__ __forceinline__ void unpack16(uint4 r, const bf16*, float* out) {
  const u32 w[4] = {r.x, r.y, r.z, r.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    // bf16 is the top half of an f32: a shift or a mask widens it exactly.
    out[2 * i] = __uint_as_float(w[i] << 16);
    out[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u);
  }
}
__device__ __forceinline__ void unpack16(uint4 r, const f16*, float* out) {
  const u32 w[4] = {r.x, r.y, r.z, r.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    f16 lo, hi;
    lo.bits = (u16)(w[i] & 0xffffu);
    hi.bits = (u16)(w[i] >> 16);
    out[2 * i] = toFloat(lo);
    out[2 * i + 1] = toFloat(hi);
  }
}
__device__ __forceinline__ void unpack16(uint4 r, const f32*, float* out) {
  out[0] = __uint_as_float(r.x);
  out[1] = __uint_as_float(r.y);
  out[2] = __uint_as_float(r.z);
  out[3] = __uint_as_float(r.w);
}

__device__ __forceinline__ float warpSum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warpMax(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Programmatic dependent launch (sm_90+; no-ops elsewhere and when the launch did not ask for it).
// The backend launches every kernel with the programmatic-serialization attribute, so a kernel may
// start while its predecessor is still finishing. gridWait() blocks until the predecessor grid has
// completed and its writes are visible: every kernel calls it before it reads an activation or
// writes anything (GEMV first issues its weight loads, which depend on no kernel). Since every
// kernel waits, "the previous kernel is complete" implies the same of all earlier ones.
// launchDependents() lets the next kernel's blocks be scheduled once all of this grid's blocks
// have started, so its prologue overlaps our tail.
__device__ __forceinline__ void gridWait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}
__device__ __forceinline__ void launchDependents() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" :::);
#endif
}
__device__ __forceinline__ void pdlEnter() {
  gridWait();
  traceWaited();
  launchDependents();
}
// The same, with a choice of when the dependents may launch (`trigger`): 0 after the wait (as
// above); 1 before it, so the next kernel's blocks may be resident, and prefetching, while this
// one still waits (safe: a grid's dependents launch only once all its blocks have started, and
// every kernel still waits before it reads); 2 never explicitly, so they launch as this grid's
// blocks exit and do not share its SMs while it streams (an A/B knob, docs/perf.md).
__device__ __forceinline__ void pdlEnter(int trigger) {
  if (trigger == 1) launchDependents();
  gridWait();
  traceWaited();
  if (trigger == 0) launchDependents();
}

// Sum over the block; `scratch` holds >= 32 floats of shared memory. Every thread gets the sum.
// Ends with a barrier so the scratch may be reused right after.
__device__ __forceinline__ float blockSum(float v, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warps = (blockDim.x + 31) >> 5;
  v = warpSum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float t = lane < warps ? scratch[lane] : 0.f;
  t = warpSum(t);
  __syncthreads();
  return t;
}

// expf, not __expf: accuracy costs nothing in a memory-bound elementwise op.
__device__ __forceinline__ float siluf(float x) { return x / (1.f + expf(-x)); }
__device__ __forceinline__ float geluErf(float x) {
  return 0.5f * x * (1.f + erff(x * 0.70710678118654752f));
}
__device__ __forceinline__ float geluTanh(float x) {
  const float c = 0.7978845608028654f;  // sqrt(2 / pi)
  return 0.5f * x * (1.f + tanhf(c * (x + 0.044715f * x * x * x)));
}

}  // namespace llmc

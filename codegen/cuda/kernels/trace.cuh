// trace.cuh - a timeline of one decode step, block by block (a diagnostic: docs/perf.md).
//
// Owned by the CUDA codegen. Compiled in only when the engine's kernels were built with
// LLMC_KERNEL_TRACE=1 (the generated source then starts with `#define LLMC_TRACE 1`); otherwise
// every function here is empty and the kernels are the same as without this header.
// The instrumented kernels (GEMVs, decode attention) open a TraceScope first thing: thread 0
// notes the global timer (ns) at the block's start, in pdlEnter right after the wait for the
// predecessor grid, and at a few phase ends (traceMark); when the block leaves, it appends one
// TraceEvent to llmcTrace.events, if the runtime armed the buffer for this step (LLMC_CUDA_TRACE,
// DecodeTrace.cpp). The runtime groups
// the events by `key` (the launch's weight or KV-cache pointer: one per launch in a step) and
// prints when each launch's first block started, when its wait released, and when its last block
// left: the gaps between kernels and what each kernel takes past its predecessor.
// Included by common.cuh before its own types, so it spells them out.
// Thread 0 stands for its block (the other warps of a block do the same work and leave with it);
// the state lives in shared memory, so tracing costs no registers across the kernel.
#pragma once

namespace llmc {

// Phase marks per block: GEMV 0 = weight stream done, 1 = norm scales summed; decode attention
// 0 = q (and the new key) in shared memory, 1 = key loop done, 2 = partials stored and ticket taken.
constexpr int kTraceMarks = 3;

struct TraceEvent {
  unsigned long long key;     // the launch's identity
  unsigned long long start;   // global timer at the block's start (ns)
  unsigned long long waited;  // after the wait for the predecessor grid (0: the block never waited)
  unsigned long long end;     // when the block left
  unsigned long long mark[kTraceMarks];  // phase ends inside the kernel (traceMark; 0: not reached)
  unsigned kind;    // 1 GEMV, 2 GEMV + GLU, 3 decode attention, 4 / 5 two- / three-row GEMV
  unsigned info;    // GEMV: K; attention: head_dim
  unsigned sm;      // the SM the block ran on
  unsigned blocks;  // blocks in the launch's grid
};

#if defined(LLMC_TRACE) && LLMC_TRACE
struct TraceState {
  TraceEvent* events;  // null: not armed (the kernels record nothing)
  unsigned capacity;
  unsigned count;
};
extern "C" {
__device__ TraceState llmcTrace;  // written by the runtime (cudaLibraryGetGlobal)
}

__device__ __forceinline__ unsigned long long traceClock() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}
// One per block: start, waited, key, kind | info << 32, the marks.
__device__ __forceinline__ unsigned long long* traceSlots() {
  __shared__ unsigned long long slots[4 + kTraceMarks];
  return slots;
}
__device__ __forceinline__ void traceMark(int i) {
  if (threadIdx.x == 0) traceSlots()[4 + i] = traceClock();
}
__device__ __forceinline__ void traceWaited() {
  if (threadIdx.x == 0) traceSlots()[1] = traceClock();
}
struct TraceScope {
  __device__ __forceinline__ TraceScope(unsigned kind, unsigned info, const void* key) {
    if (threadIdx.x != 0) return;
    unsigned long long* s = traceSlots();
    s[0] = traceClock();
    s[1] = 0;
    s[2] = reinterpret_cast<unsigned long long>(key);
    s[3] = (unsigned long long)kind | ((unsigned long long)info << 32);
    for (int i = 0; i < kTraceMarks; ++i) s[4 + i] = 0;
  }
  __device__ __forceinline__ ~TraceScope() {
    if (threadIdx.x != 0) return;
    TraceEvent* const events = llmcTrace.events;
    if (events == nullptr) return;
    const unsigned i = atomicAdd(&llmcTrace.count, 1u);
    if (i >= llmcTrace.capacity) return;
    const unsigned long long* s = traceSlots();
    TraceEvent e;
    e.key = s[2];
    e.start = s[0];
    e.waited = s[1];
    e.end = traceClock();
    e.kind = (unsigned)s[3];
    e.info = (unsigned)(s[3] >> 32);
    for (int m = 0; m < kTraceMarks; ++m) e.mark[m] = s[4 + m];
    asm volatile("mov.u32 %0, %%smid;" : "=r"(e.sm));
    e.blocks = gridDim.x * gridDim.y * gridDim.z;
    events[i] = e;
  }
};
#else
__device__ __forceinline__ void traceWaited() {}
__device__ __forceinline__ void traceMark(int) {}
struct TraceScope {
  __device__ __forceinline__ TraceScope(unsigned, unsigned, const void*) {}
};
#endif

}  // namespace llmc

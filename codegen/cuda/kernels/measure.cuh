// measure.cuh - the kernels `llmc bench --device cuda` and llmc-gpu-check measure the device with:
// a read-only sum (read bandwidth) and random fills (GEMM operands that are not zeros).
//
// Owned by the CUDA codegen. They are fixed kernels, in every engine, so the backend measures its
// device with the engine's own image (no NVRTC at run time); llmc-gpu-check gets them from the
// bundle it compiles with the real codegen. The host side is runtime/backends/cuda/DeviceLimits.*.
// None calls griddepcontrol: they are launched without programmatic dependent launch.
#pragma once

#include "common.cuh"

namespace llmc {

// A 32-bit integer hash of (i, seed) (murmur3's finaliser): cheap, stateless, well mixed.
__device__ __forceinline__ u32 hashIndex(u64 i, u32 seed) {
  u32 h = (u32)i * 2654435761u ^ (u32)(i >> 32) * 2246822519u ^ seed;
  h ^= h >> 15;
  h *= 2246822519u;
  h ^= h >> 13;
  h *= 3266489917u;
  h ^= h >> 16;
  return h;
}
// Uniform in [-scale, scale).
__device__ __forceinline__ float hashUniform(u64 i, u32 seed, float scale) {
  return ((hashIndex(i, seed) & 0xffffffu) * (1.f / 16777216.f) * 2.f - 1.f) * scale;
}

}  // namespace llmc

// p[i] = uniform(-scale, scale) rounded to bf16 (truncation: only the distribution matters).
extern "C" __global__ void llmc_fill_random_bf16(::llmc::u16* __restrict__ p, ::llmc::u64 n, ::llmc::u32 seed,
                                                 float scale) {
  for (::llmc::u64 i = blockIdx.x * (::llmc::u64)blockDim.x + threadIdx.x; i < n; i += (::llmc::u64)gridDim.x * blockDim.x)
    p[i] = (::llmc::u16)(__float_as_uint(::llmc::hashUniform(i, seed, scale)) >> 16);
}
extern "C" __global__ void llmc_fill_random_f32(float* __restrict__ p, ::llmc::u64 n, ::llmc::u32 seed, float scale) {
  for (::llmc::u64 i = blockIdx.x * (::llmc::u64)blockDim.x + threadIdx.x; i < n; i += (::llmc::u64)gridDim.x * blockDim.x)
    p[i] = ::llmc::hashUniform(i, seed, scale);
}

// Reads n 16-byte words once: 4 independent loads in flight per thread before any is used, a grid
// of a few blocks per SM striding over the buffer (each warp-wide load is 512 contiguous bytes).
// The sum is stored only when it equals a value it practically never has: the loads stay live
// without a write stream that would share the bandwidth. Launch: grid SMs * 4, block 1024.
extern "C" __global__ void __launch_bounds__(1024)
    llmc_read_sum(const uint4* __restrict__ p, ::llmc::u64 n, ::llmc::u32* __restrict__ out) {
  ::llmc::u32 acc = 0;
  const ::llmc::u64 stride = (::llmc::u64)gridDim.x * blockDim.x;
  ::llmc::u64 i = blockIdx.x * (::llmc::u64)blockDim.x + threadIdx.x;
  for (; i + 3 * stride < n; i += 4 * stride) {
    const uint4 a = __ldg(p + i), b = __ldg(p + i + stride), c = __ldg(p + i + 2 * stride), d = __ldg(p + i + 3 * stride);
    acc += a.x ^ b.y ^ c.z ^ d.w;
    acc += a.y + b.x + c.w + d.z;
    acc += a.z ^ b.w ^ c.x ^ d.y;
    acc += a.w + b.z + c.y + d.x;
  }
  for (; i < n; i += stride) {
    const uint4 a = __ldg(p + i);
    acc += a.x ^ a.y ^ a.z ^ a.w;
  }
  if (acc == 0x9e3779b9u) out[0] = acc;
}

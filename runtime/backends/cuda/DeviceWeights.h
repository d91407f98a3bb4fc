// DeviceWeights.h - the engine's weights in device memory.
//
// Owned by the CUDA backend. All weights the program uses live in one cudaMalloc'd pool, each
// tensor at a 256-byte aligned offset (so GEMV rows with K % 8 == 0 are 16-byte aligned, as its
// vector loads require). They are uploaded from the mmap'd engine through two pinned staging
// buffers: while the DMA engine copies one to the device, the host fills the other from the file,
// so the upload runs at the slower of disk and PCIe instead of their sum.
// Linear biases are also kept as f32 (cuBLASLt's epilogue and the GEMV read f32 biases).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "CudaHandles.h"
#include "llmc/runtime/Engine.h"
#include "llmc/runtime/Status.h"

namespace llmc::cuda {

class DeviceWeights {
 public:
  // Uploads the weights with indices in `used`, and f32 copies of those in `f32Copies`.
  Status upload(const Engine& engine, const std::set<int>& used, const std::set<int>& f32Copies,
                cudaStream_t stream);
  // Device pointer of weight `index` in its engine dtype; nullptr for -1.
  const void* get(int index) const;
  // f32 copy of weight `index` (one of f32Copies); nullptr for -1.
  const float* f32(int index) const;
  uint64_t bytes() const { return pool_.bytes(); }

 private:
  DeviceBuffer pool_;
  std::map<int, uint64_t> offset_;     // weight index -> byte offset in pool_
  std::map<int, uint64_t> f32Offset_;  // weight index -> byte offset of its f32 copy
};

}  // namespace llmc::cuda

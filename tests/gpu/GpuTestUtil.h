// GpuTestUtil.h - helpers for the CUDA kernel and backend tests (label `gpu`).
//
// LLMC_REQUIRE_GPU() skips a test with the visible message "no CUDA device" where the CUDA runtime
// finds none (CI machines), so the suite passes there and runs for real on the GPU machine.
// KernelSet compiles kernel specialisations with the real codegen (NVRTC) for this device's
// compute capability and loads them exactly as the backend does (cudaLibraryLoadData).
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "CudaHandles.h"
#include "GemvArgs.h"
#include "KernelBundle.h"
#include "KernelPlan.h"
#include "llmc/runtime/EngineFormat.h"
#include "llmc/runtime/Status.h"

namespace llmc::gputest {

// True when a CUDA device is usable; the reason otherwise.
bool haveDevice(std::string* why = nullptr);
// Compute capability of device 0 as 10 * major + minor.
int deviceCc();

#define LLMC_REQUIRE_GPU()                                      \
  do {                                                          \
    std::string why_;                                           \
    if (!::llmc::gputest::haveDevice(&why_)) GTEST_SKIP() << "no CUDA device (" << why_ << ")"; \
  } while (0)

#define ASSERT_OK(expr)                                          \
  do {                                                           \
    const ::llmc::Status s_ = (expr);                            \
    ASSERT_TRUE(s_.ok()) << s_.message();                        \
  } while (0)

// The extra kernels plus every fixed kernel, compiled for this device and loaded.
class KernelSet {
 public:
  Status build(const std::vector<cuda::KernelSpec>& specs);
  cudaKernel_t get(const std::string& name);
  cudaKernel_t get(const cuda::KernelSpec& spec) { return get(cuda::kernelName(spec)); }

 private:
  cuda::KernelImage image_;
  cuda::Library lib_;
};

// Launches a kernel on the default stream and synchronises; returns the first error.
template <typename... Args>
Status launchSync(cudaKernel_t k, dim3 grid, dim3 block, size_t smem, Args... args) {
  void* argv[] = {static_cast<void*>(&args)...};
  LLMC_RETURN_IF_ERROR(cuda::cudaStatus(cudaLaunchKernel(reinterpret_cast<const void*>(k), grid, block, argv, smem, 0), "launch"));
  return cuda::cudaStatus(cudaDeviceSynchronize(), "kernel execution");
}

// The same with a thread-block cluster of (clusterX, 1, 1) blocks (sm_90).
template <typename... Args>
Status launchSyncCluster(cudaKernel_t k, dim3 grid, dim3 block, unsigned clusterX, Args... args) {
  void* argv[] = {static_cast<void*>(&args)...};
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeClusterDimension;
  attr[0].val.clusterDim.x = clusterX;
  attr[0].val.clusterDim.y = 1;
  attr[0].val.clusterDim.z = 1;
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = grid;
  cfg.blockDim = block;
  cfg.attrs = attr;
  cfg.numAttrs = 1;
  LLMC_RETURN_IF_ERROR(cuda::cudaStatus(cudaLaunchKernelExC(&cfg, reinterpret_cast<const void*>(k), argv), "cluster launch"));
  return cuda::cudaStatus(cudaDeviceSynchronize(), "kernel execution");
}
// Device copy of host data; download back; a buffer filled with NaN (poison: any element the
// kernel fails to write shows up as NaN in the comparison).
template <typename T>
cuda::DeviceBuffer upload(const std::vector<T>& v) {
  auto b = cuda::DeviceBuffer::allocate(std::max<size_t>(v.size() * sizeof(T), 16), "test data");
  EXPECT_TRUE(b.ok()) << b.status().message();
  if (!b.ok()) return {};
  if (!v.empty()) EXPECT_EQ(cudaMemcpy(b->get(), v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
  return std::move(b).value();
}
cuda::DeviceBuffer poisoned(size_t floats);
template <typename T>
std::vector<T> download(const cuda::DeviceBuffer& b, size_t n) {
  std::vector<T> v(n);
  EXPECT_EQ(cudaMemcpy(v.data(), b.get(), n * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
  return v;
}

// Weights in engine storage: the bytes to upload and their exact values as doubles.
struct Stored {
  std::vector<uint8_t> bytes;
  std::vector<double> values;
};
Stored store(engine::DType dt, const std::vector<float>& v);
std::vector<float> randomVector(std::mt19937& rng, size_t n, float lo = -1.f, float hi = 1.f);

// ||got - want|| / ||want|| (L2); infinity when got holds a NaN/Inf.
double relError(const std::vector<float>& got, const std::vector<double>& want);

// f32 arithmetic on exactly stored inputs (accumulations of up to ~11k terms).
inline constexpr double kF32Tol = 2e-5;
inline constexpr double kF32TolAttention = 2e-5;

// Rotates v[0, hd) in place by the angles pos * invFreq[i], computed in f32 as HF does and
// applied in double; rot/2 pairs, HF rotate-half or GPT-J interleaved layout.
void ropeRef(double* v, int hd, int rot, bool interleaved, int pos, const std::vector<float>& invFreq);
std::vector<float> invFreqFor(int rot, double theta);

}  // namespace llmc::gputest

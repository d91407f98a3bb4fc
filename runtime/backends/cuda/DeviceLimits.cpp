// DeviceLimits.cpp - read bandwidth and bf16 GEMM rate of the GPU (see DeviceLimits.h).
#include "DeviceLimits.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "CudaHandles.h"

namespace llmc::cuda {

namespace {

template <typename... Args>
Status launchPlain(cudaKernel_t k, dim3 grid, dim3 block, cudaStream_t s, const char* what, Args... args) {
  void* argv[] = {static_cast<void*>(&args)...};
  return cudaStatus(cudaLaunchKernel(reinterpret_cast<const void*>(k), grid, block, argv, 0, s),
                    std::string("launching ") + what);
}

StatusOr<int> smCount() {
  int device = 0, sms = 0;
  LLMC_CUDA_CHECK(cudaGetDevice(&device));
  LLMC_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  return sms;
}

bool outOfMemory(const Status& s) { return s.code() == StatusCode::kUnavailable; }

}  // namespace

StatusOr<double> medianMs(cudaStream_t stream, int warm, int reps, const std::function<Status()>& body) {
  for (int i = 0; i < warm; ++i) LLMC_RETURN_IF_ERROR(body());
  LLMC_ASSIGN_OR_RETURN(Event a, createEvent(true));
  LLMC_ASSIGN_OR_RETURN(Event b, createEvent(true));
  std::vector<double> ms;
  for (int i = 0; i < std::max(reps, 1); ++i) {
    LLMC_CUDA_CHECK(cudaEventRecord(a.get(), stream));
    LLMC_RETURN_IF_ERROR(body());
    LLMC_CUDA_CHECK(cudaEventRecord(b.get(), stream));
    LLMC_CUDA_CHECK(cudaEventSynchronize(b.get()));
    float t = 0;
    LLMC_CUDA_CHECK(cudaEventElapsedTime(&t, a.get(), b.get()));
    ms.push_back(t);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

Status fillRandomBf16(const MeasureKernels& k, void* p, uint64_t n, uint32_t seed, float scale, cudaStream_t stream) {
  LLMC_ASSIGN_OR_RETURN(int sms, smCount());
  return launchPlain(k.fillBf16, dim3(sms * 8), dim3(256), stream, "llmc_fill_random_bf16", static_cast<uint16_t*>(p),
                     static_cast<unsigned long long>(n), seed, scale);
}

Status fillRandomF32(const MeasureKernels& k, float* p, uint64_t n, uint32_t seed, float scale, cudaStream_t stream) {
  LLMC_ASSIGN_OR_RETURN(int sms, smCount());
  return launchPlain(k.fillF32, dim3(sms * 8), dim3(256), stream, "llmc_fill_random_f32", p,
                     static_cast<unsigned long long>(n), seed, scale);
}

StatusOr<double> measureReadBandwidth(const MeasureKernels& k, uint64_t bytes, int reps, cudaStream_t stream) {
  bytes = bytes / 16 * 16;
  if (bytes == 0) return InvalidArgument("cuda backend: read bandwidth over an empty buffer");
  LLMC_ASSIGN_OR_RETURN(int sms, smCount());
  LLMC_ASSIGN_OR_RETURN(DeviceBuffer buf, DeviceBuffer::allocate(bytes, "the bandwidth buffer"));
  LLMC_ASSIGN_OR_RETURN(DeviceBuffer sink, DeviceBuffer::allocate(16, "the bandwidth sink"));
  // Written once so every page is backed and the content is not a constant.
  LLMC_RETURN_IF_ERROR(fillRandomBf16(k, buf.get(), bytes / 2, 1, 1.f, stream));
  const unsigned long long words = bytes / 16;
  LLMC_ASSIGN_OR_RETURN(double ms, medianMs(stream, 3, reps, [&] {
    return launchPlain(k.readSum, dim3(sms * 4), dim3(1024), stream, "llmc_read_sum", buf.as<const uint4>(), words,
                       sink.as<uint32_t>());
  }));
  LLMC_CUDA_CHECK(cudaStreamSynchronize(stream));  // the buffers are freed on return
  return static_cast<double>(bytes) / (ms * 1e-3);
}

StatusOr<double> measureBf16GemmRate(const MeasureKernels& k, LtGemm& gemm, int t, int n, int kk, int reps,
                                     cudaStream_t stream) {
  LLMC_ASSIGN_OR_RETURN(DeviceBuffer x, DeviceBuffer::allocate(uint64_t(t) * kk * 2, "GEMM operand x"));
  LLMC_ASSIGN_OR_RETURN(DeviceBuffer w, DeviceBuffer::allocate(uint64_t(n) * kk * 2, "GEMM operand W"));
  LLMC_ASSIGN_OR_RETURN(DeviceBuffer y, DeviceBuffer::allocate(uint64_t(t) * n * 4, "GEMM result"));
  // Activation-like x and weight-like W (the magnitudes of a real layer; never zeros).
  LLMC_RETURN_IF_ERROR(fillRandomBf16(k, x.get(), uint64_t(t) * kk, 2, 1.f, stream));
  LLMC_RETURN_IF_ERROR(fillRandomBf16(k, w.get(), uint64_t(n) * kk, 3, 0.02f, stream));
  LLMC_ASSIGN_OR_RETURN(double ms, medianMs(stream, 3, reps, [&] {
    return gemm.run(engine::DType::kBF16, x.get(), w.get(), nullptr, y.as<float>(), t, n, kk, stream);
  }));
  LLMC_CUDA_CHECK(cudaStreamSynchronize(stream));
  return 2.0 * t * n * kk / (ms * 1e-3);
}

StatusOr<DeviceLimits> measureDeviceLimits(const MeasureKernels& k, int device, const LimitOptions& options,
                                           cudaStream_t stream) {
  if (!k.readSum || !k.fillBf16 || !k.fillF32) return Internal("cuda backend: measurement kernels missing");
  LLMC_CUDA_CHECK(cudaSetDevice(device));
  cudaDeviceProp prop{};
  LLMC_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  DeviceLimits limits;
  limits.deviceName = prop.name;

  // Buffers smaller than asked for when memory is short (the KV pool may hold most of it), but
  // never so small that L2 could serve the reads.
  uint64_t bytes = options.readBytes;
  for (;;) {
    StatusOr<double> bw = measureReadBandwidth(k, bytes, options.reps, stream);
    if (bw.ok()) {
      limits.readBytesPerSec = *bw;
      break;
    }
    if (!outOfMemory(bw.status()) || bytes / 2 < (256ull << 20)) return bw.status();
    bytes /= 2;
    if (options.verbose) std::fprintf(stderr, "cuda backend: read bandwidth over %.0f MiB (memory is short)\n", bytes / 1048576.0);
  }

  int size = options.gemmSize;
  for (;;) {
    StatusOr<double> rate = Unavailable("no GEMM measured");
    {
      // Autotuned like the prefill GEMMs it is the yardstick for (LtGemm.h).
      LLMC_ASSIGN_OR_RETURN(std::unique_ptr<LtGemm> gemm, LtGemm::create(32ull << 20, true));
      rate = measureBf16GemmRate(k, *gemm, size, size, size, options.reps, stream);
    }
    if (rate.ok()) {
      limits.gemmFlopsPerSec = *rate;
      break;
    }
    if (!outOfMemory(rate.status()) || size / 2 < 2048) return rate.status();
    size /= 2;
    if (options.verbose) std::fprintf(stderr, "cuda backend: GEMM rate at %d^3 (memory is short)\n", size);
  }
  return limits;
}

}  // namespace llmc::cuda

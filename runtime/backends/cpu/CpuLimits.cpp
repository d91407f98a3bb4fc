// CpuLimits.cpp - the CPU's own ceilings for `llmc bench`: read bandwidth and SGEMM rate.
//
// Bandwidth: every worker sums its share of a 512 MiB buffer (far beyond the caches), best of 3.
// GEMM: one 1024^3 SGEMM through OpenBLAS (the library the backend's linear layers use), best of 3.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>
#include <vector>

#include "CpuBackend.h"

namespace llmc::cpu {
namespace {

double seconds(std::chrono::steady_clock::time_point a) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

std::string cpuName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  return "CPU";
}

}  // namespace

StatusOr<DeviceLimits> CpuBackend::measureLimits() {
  DeviceLimits limits;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  limits.deviceName = cpuName() + " (" + std::to_string(threads) + " threads)";

  const size_t elems = (512ull << 20) / sizeof(float);
  std::vector<float> buffer(elems, 1.0f);  // written once so every page is really mapped
  std::vector<double> partial(threads);
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
      workers.emplace_back([&, t] {
        size_t begin = elems * t / threads, end = elems * (t + 1) / threads;
        float acc[8] = {0};
        for (size_t i = begin; i + 8 <= end; i += 8)
          for (int j = 0; j < 8; ++j) acc[j] += buffer[i + j];
        partial[t] = acc[0] + acc[1] + acc[2] + acc[3] + acc[4] + acc[5] + acc[6] + acc[7];
      });
    for (auto& w : workers) w.join();
    best = std::min(best, seconds(start));
  }
  limits.readBytesPerSec = elems * sizeof(float) / best;

  const int n = 1024;
  std::vector<float> a(n * n, 0.5f), b(n * n, 0.25f), c(n * n);
  double bestGemm = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    auto start = std::chrono::steady_clock::now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f,
                c.data(), n);
    bestGemm = std::min(bestGemm, seconds(start));
  }
  limits.gemmFlopsPerSec = 2.0 * n * n * n / bestGemm;
  return limits;
}

}  // namespace llmc::cpu

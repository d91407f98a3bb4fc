// GpuCheck.cpp - llmc-gpu-check: the device's two ceilings and how close llmc's kernels get.
//
//   llmc-gpu-check [--json FILE] [--quick]
//
// 1. read bandwidth: a sum over a 4 GiB buffer (bytes read / time), and a device-to-device copy
//    (bytes read + written / time) for comparison with the vendor's and PyTorch's figures;
// 2. cuBLASLt bf16 GEMM rate (f32 accumulate) at 8192^3 and at the Llama-2-7B prefill shapes
//    (2048 tokens), on random data;
// 3. llmc's GEMV kernels (compiled here by the real codegen) at the 7B decode shapes, batch 1 and
//    8, cycling over enough distinct weight copies that L2 never holds them: achieved GB/s and %
//    of the measured read bandwidth; then a whole 7B decode token's worth of GEMVs (32 layers of
//    distinct weights + lm_head) as one graph: the GEMV-only tokens/s ceiling.
// Every time is the median of repeated runs timed with CUDA events after a warm-up (METHOD.md).
// Steps 1 and 2 are runtime/backends/cuda/DeviceLimits.* (what `llmc bench --device cuda` reports),
// with the measure.cuh kernels of the bundle compiled here.
// Exit code 0 when everything ran; the numbers are for docs/perf.md, not pass/fail.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "CudaHandles.h"
#include "DeviceLimits.h"
#include "GemvArgs.h"
#include "KernelBundle.h"
#include "KernelPlan.h"
#include "LtGemm.h"
#include "llmc/codegen/cuda/KernelCompiler.h"

namespace llmc::cuda {
namespace {

#define CHECK_OK(expr)                                                   \
  do {                                                                   \
    const ::llmc::Status s_ = (expr);                                    \
    if (!s_.ok()) {                                                      \
      std::fprintf(stderr, "llmc-gpu-check: %s\n", s_.message().c_str()); \
      return 1;                                                          \
    }                                                                    \
  } while (0)

StatusOr<cudaKernel_t> kernelOf(const Library& lib, const std::string& name) {
  cudaKernel_t k = nullptr;
  LLMC_RETURN_IF_ERROR(cudaStatus(cudaLibraryGetKernel(&k, lib.get(), name.c_str()), "kernel " + name));
  return k;
}

// Launches with programmatic dependent launch when gPdl (as the backend does on sm_90+).
bool gPdl = false;
template <typename... Args>
Status launch(cudaKernel_t k, dim3 grid, dim3 block, cudaStream_t s, Args... args) {
  void* argv[] = {static_cast<void*>(&args)...};
  if (gPdl) {
    cudaLaunchAttribute attr[1];
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    cudaLaunchConfig_t cfg{};
    cfg.gridDim = grid;
    cfg.blockDim = block;
    cfg.stream = s;
    cfg.attrs = attr;
    cfg.numAttrs = 1;
    return cudaStatus(cudaLaunchKernelExC(&cfg, reinterpret_cast<const void*>(k), argv), "launch (PDL)");
  }
  return cudaStatus(cudaLaunchKernel(reinterpret_cast<const void*>(k), grid, block, argv, 0, s), "launch");
}

struct Shape {
  const char* name;
  int n, k;
};

int run(int argc, char** argv) {
  std::string jsonPath;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json" && i + 1 < argc) jsonPath = argv[++i];
    else if (a == "--quick") quick = true;
    else {
      std::fprintf(stderr, "usage: llmc-gpu-check [--json FILE] [--quick]\n");
      return 2;
    }
  }
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::fprintf(stderr, "llmc-gpu-check: no CUDA device\n");
    return 3;
  }
  cudaDeviceProp prop{};
  CHECK_OK(cudaStatus(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties"));
  const int cc = prop.major * 10 + prop.minor;
  nlohmann::json report;
  report["device"] = {{"name", prop.name}, {"cc", cc}, {"sms", prop.multiProcessorCount},
                      {"memory_gib", prop.totalGlobalMem / 1073741824.0}, {"l2_mib", prop.l2CacheSize / 1048576.0}};
  std::printf("device: %s (sm_%d, %d SMs, %.1f GiB, L2 %.0f MiB)\n", prop.name, cc, prop.multiProcessorCount,
              prop.totalGlobalMem / 1073741824.0, prop.l2CacheSize / 1048576.0);

  auto streamOr = createStream();
  CHECK_OK(streamOr.status());
  Stream stream = std::move(streamOr).value();
  const cudaStream_t s = stream.get();
  // Every kernel of the check comes from one bundle compiled by the real codegen: the GEMVs at
  // the 7B decode shapes, and the fixed kernels (measure.cuh's fill and read-sum among them).
  const std::vector<Shape> shapes = {{"o_proj 4096x4096", 4096, 4096}, {"qkv 12288x4096", 12288, 4096},
                                     {"gate_up 22016x4096", 22016, 4096}, {"down 4096x11008", 4096, 11008},
                                     {"lm_head 32000x4096", 32000, 4096}, {"L3 gate_up 28672x4096", 28672, 4096},
                                     {"L3 down 4096x14336", 4096, 14336}};
  std::vector<KernelSpec> specs;
  for (const Shape& sh : shapes)
    for (int m : {1, 2, 4, 8}) specs.push_back({KernelKind::kGemv, engine::DType::kBF16, sh.k, m});
  codegen::cuda::KernelRequest req;
  req.kernels = specs;
  req.archs = {"sm_" + std::to_string(cc)};
  auto bundle = codegen::cuda::compileKernels(req);
  CHECK_OK(bundle.status());
  auto image = parseBundle(bundle->sections[0].bytes, "check kernels");
  CHECK_OK(image.status());
  cudaLibrary_t rawLib = nullptr;
  CHECK_OK(cudaStatus(cudaLibraryLoadData(&rawLib, image->image.data(), nullptr, nullptr, 0, nullptr, nullptr, 0), "load kernels"));
  Library gemvLib(rawLib);
  MeasureKernels mk;
  {
    auto rs = kernelOf(gemvLib, kReadSumKernel), fb = kernelOf(gemvLib, kFillBf16Kernel), ff = kernelOf(gemvLib, kFillF32Kernel);
    CHECK_OK(rs.status());
    CHECK_OK(fb.status());
    CHECK_OK(ff.status());
    mk.readSum = *rs, mk.fillBf16 = *fb, mk.fillF32 = *ff;
  }
  auto fill = [&](void* p, uint64_t elems, unsigned seed, float scale) { return fillRandomBf16(mk, p, elems, seed, scale, s); };

  // 1. Read bandwidth (DeviceLimits.cpp, as `llmc bench` measures it, over a larger buffer).
  const uint64_t bwBytes = quick ? (1ull << 30) : (4ull << 30);
  double readGBs = 0;
  {
    auto bw = measureReadBandwidth(mk, bwBytes, 20, s);
    CHECK_OK(bw.status());
    readGBs = *bw / 1e9;
    auto src = DeviceBuffer::allocate(bwBytes / 2, "copy source");
    auto dst = DeviceBuffer::allocate(bwBytes / 2, "copy target");
    CHECK_OK(src.status());
    CHECK_OK(dst.status());
    CHECK_OK(fill(src->get(), bwBytes / 4, 1, 1.f));
    auto cms = medianMs(s, 2, 10, [&] {
      return cudaStatus(cudaMemcpyAsync(dst->get(), src->get(), bwBytes / 2, cudaMemcpyDeviceToDevice, s), "copy");
    });
    CHECK_OK(cms.status());
    const double copyGBs = 2.0 * (bwBytes / 2) / (*cms * 1e-3) / 1e9;
    std::printf("read bandwidth (sum over %.0f GiB): %.0f GB/s   device copy (read+write): %.0f GB/s\n",
                bwBytes / 1073741824.0, readGBs, copyGBs);
    report["read_gbs"] = readGBs;
    report["copy_gbs"] = copyGBs;
  }

  // 2. cuBLASLt bf16 GEMMs (f32 output, as the backend's prefill uses them); 8192^3 is the rate
  //    `llmc bench` reports.
  {
    auto gemmOr = LtGemm::create(32ull << 20);
    CHECK_OK(gemmOr.status());
    auto& gemm = *gemmOr;
    struct G { const char* name; int t, n, k; };
    std::vector<G> gs = {{"8192^3", 8192, 8192, 8192}, {"7B qkv T=2048", 2048, 12288, 4096},
                         {"7B o T=2048", 2048, 4096, 4096}, {"7B gate_up T=2048", 2048, 22016, 4096},
                         {"7B down T=2048", 2048, 4096, 11008}, {"7B lm_head T=2048", 2048, 32000, 4096}};
    nlohmann::json arr = nlohmann::json::array();
    for (const G& g : gs) {
      auto rate = measureBf16GemmRate(mk, *gemm, g.t, g.n, g.k, quick ? 5 : 20, s);
      CHECK_OK(rate.status());
      const double tflops = *rate / 1e12;
      const double ms = 2.0 * g.t * g.n * g.k / *rate * 1e3;
      std::printf("cuBLASLt bf16 GEMM %-18s %8.3f ms  %6.1f TFLOP/s\n", g.name, ms, tflops);
      arr.push_back({{"shape", g.name}, {"ms", ms}, {"tflops", tflops}});
    }
    report["gemm"] = arr;
  }

  // 3. GEMV at the 7B decode shapes.
  nlohmann::json garr = nlohmann::json::array();
  std::printf("%-24s %4s %10s %9s %8s\n", "GEMV bf16 (N x K)", "M", "us", "GB/s", "% read");
  for (const Shape& sh : shapes) {
    const uint64_t bytes = uint64_t(sh.n) * sh.k * 2;
    // Distinct copies totalling >= 4x L2 (and >= 2), cycled so each launch reads cold weights.
    const int copies = static_cast<int>(std::max<uint64_t>(2, (4ull * prop.l2CacheSize + bytes - 1) / bytes));
    auto w = DeviceBuffer::allocate(bytes * copies, "gemv weights");
    auto x = DeviceBuffer::allocate(uint64_t(8) * sh.k * 4, "gemv x");
    auto y = DeviceBuffer::allocate(uint64_t(8) * sh.n * 4, "gemv y");
    CHECK_OK(w.status());
    CHECK_OK(x.status());
    CHECK_OK(y.status());
    CHECK_OK(fill(w->get(), bytes * copies / 2, 4, 0.02f));
    CHECK_OK(fillRandomF32(mk, x->as<float>(), 8ull * sh.k, 5u, 1.f, s));
    for (int m : {1, 2, 4, 8}) {
      auto k = kernelOf(gemvLib, kernelName({KernelKind::kGemv, engine::DType::kBF16, sh.k, m}));
      CHECK_OK(k.status());
      int next = 0;
      const int reps = quick ? 10 : 50;
      auto ms = medianMs(s, 3, reps, [&] {
        const void* wp = w->as<uint8_t>() + uint64_t(next++ % copies) * bytes;
        const float* xp = x->as<const float>();
        const float* bias = nullptr;
        return launch(*k, dim3((sh.n + kGemvRowsPerBlock - 1) / kGemvRowsPerBlock), dim3(kGemvThreads), s, xp, wp, bias,
                      y->as<float>(), sh.n, GemvInArgs{}, GemvNormOutArgs{});
      });
      CHECK_OK(ms.status());
      const double gbs = bytes / (*ms * 1e-3) / 1e9;
      std::printf("%-24s %4d %10.1f %9.0f %7.1f%%\n", sh.name, m, *ms * 1e3, gbs, 100.0 * gbs / readGBs);
      garr.push_back({{"shape", sh.name}, {"m", m}, {"us", *ms * 1e3}, {"gbs", gbs}, {"pct_read", 100.0 * gbs / readGBs}});
    }
  }
  report["gemv"] = garr;

  // 4. One 7B decode token of GEMVs: 32 layers (distinct weights) + lm_head, in one graph.
  {
    const int layers = quick ? 8 : 32;
    const std::vector<Shape> layer = {shapes[1], shapes[0], shapes[2], shapes[3]};  // qkv, o, gate_up, down
    uint64_t perLayer = 0;
    for (const Shape& sh : layer) perLayer += uint64_t(sh.n) * sh.k * 2;
    const uint64_t headBytes = uint64_t(shapes[4].n) * shapes[4].k * 2;
    const uint64_t total = perLayer * layers + headBytes;
    auto w = DeviceBuffer::allocate(total, "7B weights");
    if (!w.ok()) {
      std::printf("7B token sweep skipped: %s\n", w.status().message().c_str());
    } else {
      CHECK_OK(fill(w->get(), total / 2, 6, 0.02f));
      auto x = DeviceBuffer::allocate(uint64_t(8) * 22016 * 4, "x"), y = DeviceBuffer::allocate(uint64_t(8) * 32000 * 4, "y");
      CHECK_OK(x.status());
      CHECK_OK(y.status());
      CHECK_OK(fillRandomF32(mk, x->as<float>(), 8ull * 22016, 7u, 1.f, s));
      auto token = [&]() -> Status {
        uint64_t at = 0;
        auto one = [&](const Shape& sh) -> Status {
          LLMC_ASSIGN_OR_RETURN(cudaKernel_t k, kernelOf(gemvLib, kernelName({KernelKind::kGemv, engine::DType::kBF16, sh.k, 1})));
          const void* wp = w->as<uint8_t>() + at;
          const float* bias = nullptr;
          at += uint64_t(sh.n) * sh.k * 2;
          return launch(k, dim3((sh.n + kGemvRowsPerBlock - 1) / kGemvRowsPerBlock), dim3(kGemvThreads), s,
                        x->as<const float>(), wp, bias, y->as<float>(), sh.n, GemvInArgs{}, GemvNormOutArgs{});
        };
        for (int l = 0; l < layers; ++l)
          for (const Shape& sh : layer) LLMC_RETURN_IF_ERROR(one(sh));
        return one(shapes[4]);
      };
      // Capture the token's launches into a graph, as the backend's decode step is; with and
      // without programmatic dependent launch (sm_90+), which overlaps each GEMV's first weight
      // loads with its predecessor's tail.
      CHECK_OK(token());  // warm: lazy loading outside the capture
      nlohmann::json sweeps = nlohmann::json::array();
      for (bool pdl : {false, true}) {
        if (pdl && cc < 90) continue;
        gPdl = pdl;
        CHECK_OK(cudaStatus(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), "capture"));
        const Status enq = token();
        cudaGraph_t g = nullptr;
        CHECK_OK(cudaStatus(cudaStreamEndCapture(s, &g), "end capture"));
        CHECK_OK(enq);
        Graph graph(g);
        cudaGraphExec_t exec = nullptr;
        CHECK_OK(cudaStatus(cudaGraphInstantiate(&exec, graph.get(), 0), "instantiate"));
        GraphExec ge(exec);
        auto ms = medianMs(s, 2, quick ? 5 : 20, [&] { return cudaStatus(cudaGraphLaunch(ge.get(), s), "graph launch"); });
        CHECK_OK(ms.status());
        const double gbs = total / (*ms * 1e-3) / 1e9;
        const double sol = readGBs * 1e9 / total;  // tokens/s if every byte moved at the read bandwidth
        std::printf("7B-shape token, GEMVs only (%d layers + lm_head, %.2f GB, graph%s): %.2f ms = %.1f tok/s, "
                    "%.0f GB/s, %.1f%% of SOL %.1f tok/s\n",
                    layers, total / 1e9, pdl ? " + PDL" : "", *ms, 1e3 / *ms, gbs, 100.0 * gbs / readGBs, sol);
        sweeps.push_back({{"layers", layers}, {"pdl", pdl}, {"gb", total / 1e9}, {"ms", *ms}, {"tok_s", 1e3 / *ms},
                          {"pct_read", 100.0 * gbs / readGBs}});
      }
      gPdl = false;
      report["token_sweep"] = sweeps;
    }
  }

  if (!jsonPath.empty()) {
    std::ofstream(jsonPath) << report.dump(2) << "\n";
  }
  return 0;
}

}  // namespace
}  // namespace llmc::cuda

int main(int argc, char** argv) { return llmc::cuda::run(argc, argv); }

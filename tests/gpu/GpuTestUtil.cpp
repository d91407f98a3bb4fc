// GpuTestUtil.cpp - see GpuTestUtil.h.
#include "GpuTestUtil.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "llmc/codegen/cuda/KernelCompiler.h"
#include "llmc/runtime/HalfFloat.h"

namespace llmc::gputest {

bool haveDevice(std::string* why) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();
    if (why) *why = cudaGetErrorString(e);
    return false;
  }
  if (n == 0) {
    if (why) *why = "cudaGetDeviceCount reports 0";
    return false;
  }
  return true;
}

int deviceCc() {
  int major = 0, minor = 0;
  cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0);
  cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, 0);
  return 10 * major + minor;
}

Status KernelSet::build(const std::vector<cuda::KernelSpec>& specs) {
  codegen::cuda::KernelRequest req;
  req.kernels = specs;
  req.archs = {"sm_" + std::to_string(deviceCc())};
  LLMC_ASSIGN_OR_RETURN(codegen::cuda::KernelBundle bundle, codegen::cuda::compileKernels(req));
  LLMC_ASSIGN_OR_RETURN(image_, cuda::parseBundle(bundle.sections.at(0).bytes, "test kernels"));
  cudaLibrary_t lib = nullptr;
  LLMC_RETURN_IF_ERROR(cuda::cudaStatus(cudaLibraryLoadData(&lib, image_.image.data(), nullptr, nullptr, 0, nullptr, nullptr, 0),
                                        "cudaLibraryLoadData"));
  lib_ = cuda::Library(lib);
  return Status::Ok();
}

cudaKernel_t KernelSet::get(const std::string& name) {
  cudaKernel_t k = nullptr;
  const cudaError_t e = cudaLibraryGetKernel(&k, lib_.get(), name.c_str());
  EXPECT_EQ(e, cudaSuccess) << "kernel " << name;
  return k;
}

cuda::DeviceBuffer poisoned(size_t floats) {
  std::vector<float> nan(floats, std::numeric_limits<float>::quiet_NaN());
  return upload(nan);
}

Stored store(engine::DType dt, const std::vector<float>& v) {
  Stored s;
  s.values.resize(v.size());
  s.bytes.resize(v.size() * engine::dtypeBytes(dt));
  for (size_t i = 0; i < v.size(); ++i) {
    switch (dt) {
      case engine::DType::kF32:
        std::memcpy(&s.bytes[4 * i], &v[i], 4);
        s.values[i] = v[i];
        break;
      case engine::DType::kF16: {
        const uint16_t h = floatToF16(v[i]);
        std::memcpy(&s.bytes[2 * i], &h, 2);
        s.values[i] = f16ToFloat(h);
        break;
      }
      case engine::DType::kBF16: {
        const uint16_t h = floatToBf16(v[i]);
        std::memcpy(&s.bytes[2 * i], &h, 2);
        s.values[i] = bf16ToFloat(h);
        break;
      }
    }
  }
  return s;
}

std::vector<float> randomVector(std::mt19937& rng, size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

double relError(const std::vector<float>& got, const std::vector<double>& want) {
  if (got.size() != want.size()) return std::numeric_limits<double>::infinity();
  double num = 0, den = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!std::isfinite(got[i])) return std::numeric_limits<double>::infinity();
    num += (got[i] - want[i]) * (got[i] - want[i]);
    den += want[i] * want[i];
  }
  return den == 0 ? std::sqrt(num) : std::sqrt(num / den);
}

void ropeRef(double* v, int hd, int rot, bool interleaved, int pos, const std::vector<float>& invFreq) {
  (void)hd;
  for (int i = 0; i < rot / 2; ++i) {
    const double ang = static_cast<double>(static_cast<float>(pos) * invFreq[i]);
    const int a = interleaved ? 2 * i : i, b = interleaved ? 2 * i + 1 : i + rot / 2;
    const double x0 = v[a], x1 = v[b];
    v[a] = x0 * std::cos(ang) - x1 * std::sin(ang);
    v[b] = x1 * std::cos(ang) + x0 * std::sin(ang);
  }
}

std::vector<float> invFreqFor(int rot, double theta) {
  std::vector<float> f(rot / 2);
  for (int i = 0; i < rot / 2; ++i) f[i] = static_cast<float>(std::pow(theta, -2.0 * i / rot));
  return f;
}

}  // namespace llmc::gputest

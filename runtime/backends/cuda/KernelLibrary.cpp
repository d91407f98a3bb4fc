// KernelLibrary.cpp - choose and load the engine's kernels for this device.
#include "KernelLibrary.h"

#include <algorithm>

#include "llmc/runtime/EngineFile.h"
#include "llmc/runtime/EngineFormat.h"

namespace llmc::cuda {

StatusOr<std::string> pickKernelSection(const std::vector<std::string>& sections, int cc,
                                        const std::string& enginePath) {
  const std::string prefix = engine::kSectionKernelsPrefix;
  std::string best;
  int bestCc = -1;
  bool hasPtx = false;
  std::vector<std::string> have;
  for (const std::string& s : sections) {
    if (s.rfind(prefix, 0) != 0) continue;
    const std::string arch = s.substr(prefix.size());
    if (arch == "ptx") {
      hasPtx = true;
      continue;
    }
    const int n = archNumber(arch);
    if (n < 0) continue;
    have.push_back(arch);
    const bool archSpecific = arch.back() == 'a';  // sm_90a code runs on 9.0 only
    const bool fits = archSpecific ? n == cc : (n / 10 == cc / 10 && n <= cc);
    if (fits && n >= bestCc) {
      // Prefer the generic cubin over the arch-specific one of the same number only when both
      // exist: the "a" cubin is never worse on its own device, so take it.
      if (n > bestCc || archSpecific) best = s;
      bestCc = n;
    }
  }
  if (!best.empty()) return best;
  if (hasPtx) return prefix + "ptx";  // compute capability checked when the PTX index is read
  const std::string dev = "sm_" + std::to_string(cc);
  if (have.empty()) {
    return Unsupported(enginePath + ": the engine has no CUDA kernels (it was built without a GPU arch); "
                       "rebuild it with `llmc build --gpu-arch " + dev + "` to run it on this GPU");
  }
  std::sort(have.begin(), have.end());
  std::string list;
  for (const std::string& a : have) list += (list.empty() ? "" : ", ") + a;
  return Unsupported(enginePath + ": no kernels for " + dev + " (engine has " + list + ")");
}

StatusOr<std::unique_ptr<KernelLibrary>> KernelLibrary::load(const EngineFile& file, int cc, int carveout) {
  std::vector<std::string> names;
  for (const SectionView& s : file.sections()) names.push_back(s.name);
  LLMC_ASSIGN_OR_RETURN(std::string section, pickKernelSection(names, cc, file.path()));
  const SectionView* view = file.find(section);
  if (view == nullptr) return Internal(file.path() + ": section " + section + " vanished");
  std::unique_ptr<KernelLibrary> lib(new KernelLibrary());
  lib->path_ = file.path();
  lib->carveout_ = carveout;
  lib->section_ = section;
  LLMC_ASSIGN_OR_RETURN(lib->image_, parseBundle(view->bytes, file.path() + ": " + section));
  if (lib->image_.isPtx && archNumber(lib->image_.arch) > cc) {
    std::string have;
    for (const std::string& n : names)
      if (n.rfind(engine::kSectionKernelsPrefix, 0) == 0) have += (have.empty() ? "" : ", ") + n.substr(8);
    return Unsupported(file.path() + ": no kernels for sm_" + std::to_string(cc) + " (engine has " + have +
                       "; its PTX is for " + lib->image_.arch + ")");
  }
  cudaLibrary_t handle = nullptr;
  cudaError_t e = cudaLibraryLoadData(&handle, lib->image_.image.data(), nullptr, nullptr, 0, nullptr, nullptr, 0);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return cudaStatus(e, file.path() + ": loading " + section + " (" + lib->image_.arch + ")");
  }
  lib->lib_ = Library(handle);
  return lib;
}

StatusOr<cudaKernel_t> KernelLibrary::get(const std::string& name) {
  auto it = kernels_.find(name);
  if (it != kernels_.end()) return it->second;
  if (!std::binary_search(image_.kernels.begin(), image_.kernels.end(), name)) {
    return Unsupported(path_ + ": " + section_ + " has no kernel " + name +
                       " (the engine was built for another program or by another llmc version; rebuild it)");
  }
  cudaKernel_t k = nullptr;
  cudaError_t e = cudaLibraryGetKernel(&k, lib_.get(), name.c_str());
  if (e != cudaSuccess) {
    cudaGetLastError();
    return cudaStatus(e, path_ + ": " + section_ + ": kernel " + name);
  }
  if (carveout_ >= 0) {
    int device = 0;
    LLMC_RETURN_IF_ERROR(cudaStatus(cudaGetDevice(&device), "cudaGetDevice"));
    LLMC_RETURN_IF_ERROR(cudaStatus(
        cudaKernelSetAttributeForDevice(k, cudaFuncAttributePreferredSharedMemoryCarveout, carveout_, device),
        path_ + ": kernel " + name + ": shared-memory carveout " + std::to_string(carveout_)));
  }
  kernels_[name] = k;
  return k;
}

StatusOr<void*> KernelLibrary::global(const std::string& name, size_t* bytes) {
  void* p = nullptr;
  *bytes = 0;
  const cudaError_t e = cudaLibraryGetGlobal(&p, bytes, lib_.get(), name.c_str());
  if (e == cudaSuccess) return p;
  cudaGetLastError();
  if (e == cudaErrorSymbolNotFound || e == cudaErrorInvalidSymbol) return static_cast<void*>(nullptr);
  return cudaStatus(e, path_ + ": " + section_ + ": global " + name);
}

Status KernelLibrary::setMaxDynamicSmem(cudaKernel_t k, int bytes, const std::string& name) {
  int device = 0;
  LLMC_RETURN_IF_ERROR(cudaStatus(cudaGetDevice(&device), "cudaGetDevice"));
  // cudaKernel_t (from a library) has its own attribute call; the per-device form is the one
  // that takes effect for launches on `device`.
  return cudaStatus(cudaKernelSetAttributeForDevice(k, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes, device),
                    "allowing " + std::to_string(bytes) + " bytes of shared memory for " + name);
}

}  // namespace llmc::cuda

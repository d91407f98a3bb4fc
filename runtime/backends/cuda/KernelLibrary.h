// KernelLibrary.h - the engine's device code for this GPU: picks the kernels section that fits
// the device's compute capability, loads it (cudaLibraryLoadData) and hands out kernels by name.
//
// Owned by the CUDA backend. Selection (pickKernelSection, no CUDA call, unit-tested on machines
// without a GPU): the cubin of the highest sm_XY with the device's major X and Y <= the device's
// minor (cubins run on later minors of their major); sm_XYa only on exactly that device; else the
// PTX when its compute_XY <= the device (the driver JIT-compiles it); else an error that lists
// what the engine has: "x.engine: no kernels for sm_100 (engine has sm_80, sm_90)".
#pragma once

#include <cuda_runtime.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "CudaHandles.h"
#include "KernelBundle.h"
#include "llmc/runtime/Status.h"

namespace llmc {
class EngineFile;
}

namespace llmc::cuda {

// sections: every section name of the engine; cc: compute capability as 10 * major + minor.
StatusOr<std::string> pickKernelSection(const std::vector<std::string>& sections, int cc,
                                        const std::string& enginePath);

class KernelLibrary {
 public:
  // carveout >= 0: every kernel handed out gets that preferred shared-memory carveout (percent of
  // the SM's L1/shared storage). Kernels that overlap under programmatic dependent launch share an
  // SM only when its carveout suits both, so one value for all of them keeps the overlap possible.
  static StatusOr<std::unique_ptr<KernelLibrary>> load(const EngineFile& file, int cc, int carveout = -1);

  // The kernel named `name`; error when the engine's kernels do not include it (an engine built
  // by another llmc version, or for another program).
  StatusOr<cudaKernel_t> get(const std::string& name);
  // The device address and size of the kernels' global variable `name`; null when the kernels
  // have none of that name.
  StatusOr<void*> global(const std::string& name, size_t* bytes);
  // Raises a kernel's dynamic shared-memory limit (needed above 48 KB).
  Status setMaxDynamicSmem(cudaKernel_t k, int bytes, const std::string& name);

  const std::string& section() const { return section_; }
  bool isPtx() const { return image_.isPtx; }

 private:
  KernelLibrary() = default;
  std::string path_;
  std::string section_;
  int carveout_ = -1;
  KernelImage image_;  // kept: the library may refer to the image bytes
  Library lib_;
  std::map<std::string, cudaKernel_t> kernels_;
};

}  // namespace llmc::cuda

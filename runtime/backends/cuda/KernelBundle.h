// KernelBundle.h - the bytes of an engine's `kernels.sm_XX` / `kernels.ptx` section.
//
// Owned by the CUDA backend; written by the CUDA codegen (codegen/cuda), read by CudaBackend. One
// section holds one device image (a cubin for one arch, or PTX for JIT on newer GPUs) with every
// kernel the engine needs, plus a JSON index saying what is inside. Layout (little-endian):
//
//   [0, 8)    magic "LLMCKBN1"
//   [8, 12)   u32 bundle format version (2: the kernels' parameter lists changed with the 16-bit
//             hand-off of prefill activations; 3: the decode attention combines its splits
//             itself (counters, out, oStride); 4: and does the rope + KV append (k, v, positions,
//             slots, rope parameters); an engine of an older version must be rebuilt)
//   [12, 16)  u32 index bytes (I)
//   [16, 24)  u64 image bytes
//   [24, 24+I)  index: JSON object, sorted keys:
//               {"arch": "sm_90" | "compute_90", "format": "cubin" | "ptx",
//                "kernels": ["llmc_add", ...] (sorted), "nvrtc": "13.0",
//                "options": ["-std=c++17", ...], "source_hash": "<32 hex digits>"}
//   [align16(24+I), +image)   the image; PTX is stored with its terminating NUL.
//
// docs/cuda.md describes it in prose. No CUDA dependency.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "llmc/runtime/Status.h"

namespace llmc::cuda {

inline constexpr char kBundleMagic[8] = {'L', 'L', 'M', 'C', 'K', 'B', 'N', '1'};
// Bumped whenever a kernel's parameter list changes: the backend passes arguments by the current
// ABI, so an image of another version must be refused, not run. Also when the backend starts to
// require a kernel older engines lack (12: the three-rows-per-warp QKV GEMV).
inline constexpr uint32_t kBundleVersion = 12;

struct KernelImage {
  std::string arch;                  // "sm_90" (cubin) or "compute_90" (PTX)
  bool isPtx = false;
  std::vector<std::string> kernels;  // extern "C" names inside, sorted
  std::string nvrtcVersion;          // "13.0"
  std::vector<std::string> options;  // NVRTC options the image was compiled with
  std::string sourceHash;            // XXH3-128 of the generated source, hex
  std::string image;                 // cubin / PTX bytes
};

// "kernels.sm_90" for a cubin, "kernels.ptx" for PTX.
std::string bundleSectionName(const KernelImage& image);
std::string serializeBundle(const KernelImage& image);
// `where` names the section in errors: "model.engine: kernels.sm_90: truncated ...".
StatusOr<KernelImage> parseBundle(std::string_view bytes, const std::string& where);

// Compute capability of an arch string: "sm_90" / "compute_90" -> 90; -1 when malformed.
int archNumber(const std::string& arch);

}  // namespace llmc::cuda

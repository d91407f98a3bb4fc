//===- KernelCompiler.h - CUDA kernels for an engine, via NVRTC -*- C++ -*-===//
//
// Owned by the CUDA codegen. Turns the list of kernel specialisations a program needs (planned by
// llmc::cuda::planKernels, runtime/backends/cuda/KernelPlan.h) into the bytes of the engine's
// `kernels.sm_XX` / `kernels.ptx` sections:
//
//   1. generateKernelSource() writes one translation unit: the templates (codegen/cuda/kernels,
//      embedded) plus one LLMC_DEFINE_* line per specialisation, so every per-model constant
//      (hidden size, K, head_dim, GQA group) is a compile-time constant of its kernel;
//   2. compileKernels() compiles it with NVRTC for every requested arch, in parallel threads (no
//      GPU needed), to a cubin per `sm_XX` and PTX for `compute_XX`;
//   3. results are cached by content hash (source + arch + options + NVRTC version) under
//      $XDG_CACHE_HOME/llmc/kernels (or ~/.cache/llmc/kernels), so rebuilding an engine is fast.
//
// Typical use in the engine writer:
//   LLMC_ASSIGN_OR_RETURN(auto req, requestFromProgram(programJson, lookup, archs));
//   LLMC_ASSIGN_OR_RETURN(auto bundle, compileKernels(req));
//   for (auto &s : bundle.sections) writer.addSection(s.name, s.bytes);
//
//===----------------------------------------------------------------------===//
#pragma once

#include "KernelPlan.h"
#include "llmc/runtime/Status.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace llmc::codegen::cuda {

// The default --gpu-arch list: Ampere, Ampere consumer, Ada, Hopper cubins and Hopper PTX (which
// the driver JIT-compiles on GPUs newer than every cubin).
const std::vector<std::string> &defaultGpuArchs();

// Parses "sm_80,sm_90,compute_90" (spaces allowed; "90" means sm_90). Rejects unknown forms and
// archs this NVRTC cannot target, naming them: "--gpu-arch: sm_52 is not supported by NVRTC 13.0
// (supported: sm_75, sm_80, ...)".
StatusOr<std::vector<std::string>> parseGpuArchs(const std::string &csv);

struct KernelRequest {
  std::vector<llmc::cuda::KernelSpec> kernels;  // specialisations (the fixed kernels are always in)
  std::vector<std::string> archs = defaultGpuArchs();
  // Cache directory; "" = the default above; "off" disables the cache.
  std::string cacheDir;
  // Concurrent NVRTC compilations; 0 = min(archs, hardware threads).
  int threads = 0;
};

struct CompiledSection {
  std::string name;   // "kernels.sm_90" / "kernels.ptx"
  std::string bytes;  // the section's content (KernelBundle.h format)
  std::string arch;   // "sm_90" / "compute_90"
  std::string log;    // NVRTC log, with ptxas's resource report (registers, spills) for cubins
  bool fromCache = false;
};

struct KernelBundle {
  std::vector<CompiledSection> sections;  // in the order of KernelRequest::archs
  std::string source;                     // the generated translation unit
};

// Builds a request for the program (the engine's `program` JSON) and arch list.
StatusOr<KernelRequest> requestFromProgram(const nlohmann::json &program,
                                           const llmc::cuda::WeightLookup &weights,
                                           const std::vector<std::string> &archs);

// The translation unit for `kernels` (deterministic: sorted, one line per specialisation).
std::string generateKernelSource(const std::vector<llmc::cuda::KernelSpec> &kernels);

// Compiles the request. Errors carry NVRTC's log: "NVRTC (sm_90): <log>".
StatusOr<KernelBundle> compileKernels(const KernelRequest &request);

// One call for the engine writer: the program JSON (null for a graph engine: the generic ops'
// kernels, graph_ops.cuh), the engine's `meta.weights` index (entries with
// name, dtype, shape, as codegen::weightIndex() produces) and the --gpu-arch list ("sm_80,sm_90";
// "" = defaultGpuArchs()). Add each returned section to the engine file as is:
//   LLMC_ASSIGN_OR_RETURN(auto k, compileKernelsForEngine(program, meta["weights"], opt.gpuArchs));
//   for (auto &s : k.sections) LLMC_RETURN_IF_ERROR(writer.addSection(s.name, s.bytes));
StatusOr<KernelBundle> compileKernelsForEngine(const nlohmann::json &program,
                                               const nlohmann::json &weightIndex,
                                               const std::string &gpuArchs,
                                               const std::string &cacheDir = "");

// "13.0".
std::string nvrtcVersionString();

} // namespace llmc::codegen::cuda

// BuildCommand.cpp - `llmc build INPUT -o ENGINE`: compile a model into an engine (no GPU needed).
#include <chrono>
#include <cstdio>
#include <sstream>

#include "Commands.h"
#include "Flags.h"
#include "Report.h"
#include "llmc/Compiler/BuildDriver.h"

namespace llmc::cli {
namespace {

Status checkArchList(const std::string& list) {
  std::stringstream ss(list);
  std::string arch;
  int count = 0;
  while (std::getline(ss, arch, ',')) {
    ++count;
    // sm_90, sm_90a, compute_90 (PTX); the CUDA codegen checks what NVRTC can target.
    size_t digits = arch.rfind("sm_", 0) == 0 ? 3 : (arch.rfind("compute_", 0) == 0 ? 8 : 0);
    bool ok = digits && arch.size() > digits + 1 && arch.find_first_not_of("0123456789", digits) >= arch.size() - 1;
    if (!ok) return InvalidArgument("--gpu-arch: '" + arch + "' is not a GPU arch like sm_90 or compute_90");
  }
  if (count == 0) return InvalidArgument("--gpu-arch: empty list");
  return Status::Ok();
}

}  // namespace

int runBuild(const Args& args) {
  Flags flags;
  BuildOptions options;
  bool help = false;
  flags.addString("--output,-o", &options.outputPath, "the engine file to write");
  flags.addString("--dtype", &options.dtype, "weight dtype: auto (the checkpoint's), f32, f16, bf16");
  flags.addString("--gpu-arch", &options.gpuArchs, "GPU archs to compile kernels for (default sm_80,sm_86,sm_89,sm_90 + PTX); none = CPU only");
  flags.addString("--dump-ir", &options.dumpIrDir, "write the IR after import and after every pass to DIR");
  flags.addBool("--verbose,-v", &options.verbose, "print what the build does");
  flags.addBool("--help,-h", &help, "show this help");
  if (Status s = flags.parse(args); !s.ok()) return fail(s);
  if (help)
    return printHelp("usage: llmc build MODEL_DIR|MODEL.onnx -o ENGINE [--dtype auto|f32|f16|bf16] "
                     "[--gpu-arch sm_80,...] [--dump-ir DIR]",
                     flags.help());
  if (flags.positionals().size() != 1)
    return fail(InvalidArgument("build takes one input (a HuggingFace folder or an .onnx file)"));
  options.inputPath = flags.positionals()[0];
  if (options.outputPath.empty()) return fail(InvalidArgument("-o ENGINE is required"));
  if (options.dtype != "auto" && options.dtype != "f32" && options.dtype != "f16" && options.dtype != "bf16")
    return fail(InvalidArgument("--dtype: '" + options.dtype + "' is not one of auto, f32, f16, bf16"));
  if (flags.given("--gpu-arch") && options.gpuArchs != "none")
    if (Status s = checkArchList(options.gpuArchs); !s.ok()) return fail(s);

  auto start = std::chrono::steady_clock::now();
  if (Status s = buildEngine(options); !s.ok()) return fail(s);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "llmc: wrote %s in %.2f s\n", options.outputPath.c_str(), seconds);
  return 0;
}

}  // namespace llmc::cli

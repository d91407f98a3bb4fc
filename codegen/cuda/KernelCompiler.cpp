//===- KernelCompiler.cpp - NVRTC compilation of an engine's kernels ------===//
//
// NVRTC needs no GPU and no driver, so `llmc build` compiles real device code on CI machines.
// Each arch is an independent NVRTC program; they run in parallel threads (NVRTC is thread-safe
// across programs) and each result is cached by content hash (KernelCache.h).
//
//===----------------------------------------------------------------------===//
#include "llmc/codegen/cuda/KernelCompiler.h"

#include "KernelBundle.h"
#include "KernelCache.h"
#include "llmc/codegen/cuda/EmbeddedKernels.h"

#include <nvrtc.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace llmc::codegen::cuda {

using llmc::cuda::KernelImage;

const std::vector<std::string> &defaultGpuArchs() {
  static const std::vector<std::string> archs = {"sm_80", "sm_86", "sm_89", "sm_90", "compute_90"};
  return archs;
}

std::string nvrtcVersionString() {
  int major = 0, minor = 0;
  if (nvrtcVersion(&major, &minor) != NVRTC_SUCCESS)
    return "unknown";
  return std::to_string(major) + "." + std::to_string(minor);
}

namespace {

std::vector<int> supportedArchs() {
  int n = 0;
  if (nvrtcGetNumSupportedArchs(&n) != NVRTC_SUCCESS || n <= 0)
    return {};
  std::vector<int> v(n);
  if (nvrtcGetSupportedArchs(v.data()) != NVRTC_SUCCESS)
    return {};
  return v;
}

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Options that determine the image (recorded in the bundle and hashed).
std::vector<std::string> imageOptions(const std::string &arch) {
  return {"-std=c++17", "--gpu-architecture=" + arch, "-DLLMC_NVRTC=1"};
}

struct Job {
  std::string arch;
  bool ptx = false;
};

// Compiles `source` for one arch; the kernel names go into the bundle index.
StatusOr<CompiledSection> compileOne(const std::string &source, const Job &job,
                                     const std::vector<std::string> &kernelNames,
                                     const KernelCache &cache) {
  const std::vector<EmbeddedSource> &headers = embeddedKernelSources();
  const std::vector<std::string> options = imageOptions(job.arch);
  const std::string version = nvrtcVersionString();

  std::string keyInput = source;
  for (const EmbeddedSource &h : headers)
    keyInput += std::string("\0", 1) + h.name + std::string("\0", 1) + h.text;
  for (const std::string &o : options)
    keyInput += std::string("\0", 1) + o;
  keyInput += std::string("\0", 1) + "nvrtc " + version;
  const std::string key = contentHash(keyInput);
  const std::string ext = job.ptx ? "ptx" : "cubin";

  KernelImage img;
  img.arch = job.arch;
  img.isPtx = job.ptx;
  img.kernels = kernelNames;
  img.nvrtcVersion = version;
  img.options = options;
  img.sourceHash = contentHash(source);

  CompiledSection out;
  out.arch = job.arch;
  if (auto cached = cache.get(key, ext)) {
    img.image = std::move(*cached);
    out.fromCache = true;
    if (auto log = cache.get(key, "log"))
      out.log = std::move(*log);
  } else {
    std::vector<const char *> hdrText, hdrName;
    for (const EmbeddedSource &h : headers) {
      hdrText.push_back(h.text.c_str());
      hdrName.push_back(h.name);
    }
    nvrtcProgram prog = nullptr;
    nvrtcResult rc = nvrtcCreateProgram(&prog, source.c_str(), "llmc_kernels.cu",
                                        static_cast<int>(headers.size()), hdrText.data(),
                                        hdrName.data());
    if (rc != NVRTC_SUCCESS)
      return Internal(std::string("NVRTC (") + job.arch + "): nvrtcCreateProgram: " + nvrtcGetErrorString(rc));
    // The program is destroyed on every path out of this block.
    struct ProgramGuard {
      nvrtcProgram *p;
      ~ProgramGuard() { nvrtcDestroyProgram(p); }
    } guard{&prog};

    std::vector<std::string> all = options;
    if (!job.ptx)
      all.push_back("--ptxas-options=-v");  // registers / spills into the log (docs/cuda.md)
    std::vector<const char *> opts;
    for (const std::string &o : all)
      opts.push_back(o.c_str());
    rc = nvrtcCompileProgram(prog, static_cast<int>(opts.size()), opts.data());
    size_t logSize = 0;
    nvrtcGetProgramLogSize(prog, &logSize);
    std::string log(logSize, '\0');
    if (logSize > 0)
      nvrtcGetProgramLog(prog, log.data());
    while (!log.empty() && (log.back() == '\0' || log.back() == '\n'))
      log.pop_back();
    if (rc != NVRTC_SUCCESS)
      return Internal(std::string("NVRTC (") + job.arch + "): " + nvrtcGetErrorString(rc) + ":\n" + log);
    size_t size = 0;
    if (job.ptx) {
      rc = nvrtcGetPTXSize(prog, &size);
      if (rc == NVRTC_SUCCESS) {
        img.image.assign(size, '\0');  // size counts the terminating NUL, which the bundle keeps
        rc = nvrtcGetPTX(prog, img.image.data());
      }
    } else {
      rc = nvrtcGetCUBINSize(prog, &size);
      if (rc == NVRTC_SUCCESS) {
        img.image.assign(size, '\0');
        rc = nvrtcGetCUBIN(prog, img.image.data());
      }
    }
    if (rc != NVRTC_SUCCESS || img.image.empty())
      return Internal(std::string("NVRTC (") + job.arch + "): no image: " + nvrtcGetErrorString(rc));
    out.log = log;
    cache.put(key, ext, img.image);
    cache.put(key, "log", log.empty() ? std::string(" ") : log);
  }
  out.name = llmc::cuda::bundleSectionName(img);
  out.bytes = llmc::cuda::serializeBundle(img);
  return out;
}

} // namespace

StatusOr<std::vector<std::string>> parseGpuArchs(const std::string &csv) {
  const std::vector<int> supported = supportedArchs();
  auto supportedList = [&] {
    std::string s;
    for (int a : supported)
      s += (s.empty() ? "sm_" : ", sm_") + std::to_string(a);
    return s;
  };
  std::vector<std::string> out;
  std::set<std::string> seen;
  size_t pos = 0;
  while (pos <= csv.size()) {
    size_t comma = csv.find(',', pos);
    if (comma == std::string::npos)
      comma = csv.size();
    std::string a = trim(csv.substr(pos, comma - pos));
    pos = comma + 1;
    if (a.empty())
      continue;
    if (a.find('_') == std::string::npos)
      a = "sm_" + a;  // "90" -> "sm_90"
    const int n = llmc::cuda::archNumber(a);
    if (n < 0)
      return InvalidArgument("--gpu-arch: '" + a + "' is not an arch (expected sm_XX or compute_XX, e.g. sm_90)");
    if (std::find(supported.begin(), supported.end(), n) == supported.end())
      return InvalidArgument("--gpu-arch: " + a + " is not supported by NVRTC " + nvrtcVersionString() +
                             " (supported: " + supportedList() + ")");
    if (seen.insert(a).second)
      out.push_back(a);
  }
  if (out.empty())
    return InvalidArgument("--gpu-arch: no arch given");
  size_t ptx = std::count_if(out.begin(), out.end(), [](const std::string &a) { return a.rfind("compute_", 0) == 0; });
  if (ptx > 1)
    return InvalidArgument("--gpu-arch: at most one compute_XX (the engine holds one PTX section)");
  return out;
}

StatusOr<KernelRequest> requestFromProgram(const nlohmann::json &program,
                                           const llmc::cuda::WeightLookup &weights,
                                           const std::vector<std::string> &archs) {
  LLMC_ASSIGN_OR_RETURN(llmc::cuda::KernelPlan plan, llmc::cuda::planKernels(program, weights));
  KernelRequest req;
  req.kernels = std::move(plan.kernels);
  req.archs = archs;
  return req;
}

StatusOr<KernelBundle> compileKernels(const KernelRequest &request) {
  if (request.archs.empty())
    return InvalidArgument("compileKernels: no target arch");
  std::vector<Job> jobs;
  for (const std::string &a : request.archs) {
    if (llmc::cuda::archNumber(a) < 0)
      return InvalidArgument("compileKernels: malformed arch '" + a + "'");
    jobs.push_back({a, a.rfind("compute_", 0) == 0});
  }

  KernelBundle bundle;
  bundle.source = generateKernelSource(request.kernels);
  // LLMC_KERNEL_TRACE=1: kernels that record a block-by-block timeline of a decode step
  // (kernels/trace.cuh, LLMC_CUDA_TRACE at run time). A diagnostic build: the define is part of
  // the source, so the cache key and the engine's recorded source say which kernels these are.
  if (const char *t = std::getenv("LLMC_KERNEL_TRACE"); t != nullptr && *t != '\0') {
    const std::string v(t);
    if (v != "0" && v != "1")
      return InvalidArgument("LLMC_KERNEL_TRACE=" + v + ": expected 1 (kernels that record a decode timeline) or 0");
    if (v == "1") bundle.source = "#define LLMC_TRACE 1\n" + bundle.source;
  }
  std::vector<std::string> names;
  {
    llmc::cuda::KernelPlan plan;
    plan.kernels = request.kernels;
    std::sort(plan.kernels.begin(), plan.kernels.end());
    plan.kernels.erase(std::unique(plan.kernels.begin(), plan.kernels.end()), plan.kernels.end());
    names = plan.names();
    std::sort(names.begin(), names.end());
  }
  const KernelCache cache(request.cacheDir);

  std::vector<StatusOr<CompiledSection>> results(jobs.size(), Status(StatusCode::kInternal, "not run"));
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < jobs.size(); i = next++)
      results[i] = compileOne(bundle.source, jobs[i], names, cache);
  };
  size_t threads = request.threads > 0 ? static_cast<size_t>(request.threads)
                                       : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, jobs.size());
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t)
    pool.emplace_back(worker);
  worker();
  for (std::thread &t : pool)
    t.join();

  for (auto &r : results) {
    if (!r.ok())
      return r.status();
    bundle.sections.push_back(std::move(r).value());
  }
  return bundle;
}

StatusOr<KernelBundle> compileKernelsForEngine(const nlohmann::json &program,
                                               const nlohmann::json &weightIndex,
                                               const std::string &gpuArchs,
                                               const std::string &cacheDir) {
  if (!weightIndex.is_array())
    return InvalidArgument("meta.weights: expected an array");
  std::map<std::string, llmc::cuda::WeightDesc> descs;
  for (size_t i = 0; i < weightIndex.size(); ++i) {
    const nlohmann::json &e = weightIndex[i];
    const std::string where = "meta.weights[" + std::to_string(i) + "]";
    if (!e.is_object())
      return InvalidArgument(where + ": expected an object");
    auto name = e.find("name"), dtype = e.find("dtype"), shape = e.find("shape");
    if (name == e.end() || !name->is_string() || dtype == e.end() || !dtype->is_string() ||
        shape == e.end() || !shape->is_array())
      return InvalidArgument(where + ": needs a string name and dtype and an array shape");
    llmc::cuda::WeightDesc d;
    if (!engine::parseDType(dtype->get<std::string>(), &d.dtype))
      return InvalidArgument(where + ": unknown dtype '" + dtype->get<std::string>() + "'");
    for (const nlohmann::json &v : *shape) {
      if (!v.is_number_integer())
        return InvalidArgument(where + ": shape holds a non-integer");
      d.shape.push_back(v.get<int64_t>());
    }
    descs[name->get<std::string>()] = std::move(d);
  }
  auto lookup = [&descs](const std::string &n) -> const llmc::cuda::WeightDesc * {
    auto it = descs.find(n);
    return it == descs.end() ? nullptr : &it->second;
  };
  std::vector<std::string> archs = defaultGpuArchs();
  if (!gpuArchs.empty()) {
    LLMC_ASSIGN_OR_RETURN(archs, parseGpuArchs(gpuArchs));
  }
  KernelRequest req;
  if (program.is_null()) {  // a graph engine (docs/graph-program.md): the generic ops' kernels
    req.kernels = {llmc::cuda::KernelSpec{llmc::cuda::KernelKind::kGraphOps}};
    req.archs = archs;
  } else {
    LLMC_ASSIGN_OR_RETURN(req, requestFromProgram(program, lookup, archs));
  }
  req.cacheDir = cacheDir;
  return compileKernels(req);
}

} // namespace llmc::codegen::cuda

// GraphEval.cpp - evalGraph (GraphEval.h): named host tensors in and out of the interpreter.
#include "llmc/runtime/GraphEval.h"

#include <cblas.h>

#include <algorithm>
#include <thread>

#include "GraphInterpreter.h"
#ifdef LLMC_HAVE_CUDA_BACKEND
#include "../../cuda/graph/CudaGraphBackend.h"
#endif

namespace llmc {

namespace {

// Runs the program on `device` ("cpu", "cuda", "auto").
StatusOr<std::vector<cpu::graph::GTensor>> runOn(const Engine& engine, std::vector<cpu::graph::GTensor> ins,
                                                 int threads, const std::string& device) {
  if (device != "cpu" && device != "cuda" && device != "auto")
    return InvalidArgument("--device: '" + device + "' is not one of cpu, cuda, auto");
  // `auto` takes the GPU only for an engine that carries kernels (not one built with --gpu-arch none).
  if (device == "cuda" || (device == "auto" && engine.hasKernels())) {
#ifdef LLMC_HAVE_CUDA_BACKEND
    auto outs = cuda::graph::runGraphOnCuda(engine, ins);
    if (outs.ok() || device == "cuda" || outs.status().code() != StatusCode::kUnavailable) return outs;
#else
    if (device == "cuda") return Unavailable("backend 'cuda': this llmc was built without the CUDA backend");
#endif
  }
  openblas_set_num_threads(threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency()));
  cpu::graph::GraphInterpreter interp(engine);
  std::vector<cpu::graph::GTensor> outs;
  LLMC_RETURN_IF_ERROR(interp.run(std::move(ins), 0, &outs));
  return outs;
}

}  // namespace

StatusOr<std::vector<HostTensor>> evalGraph(const Engine& engine, const std::vector<HostTensor>& inputs, int threads,
                                            const std::string& device) {
  const GraphProgram* g = engine.graph();
  if (!g || g->kind != GraphKind::kTensors)
    return InvalidArgument(engine.path() + ": not an engine of named tensors (llmc eval runs graph programs of "
                           "kind 'tensors'; use llmc run for a language model)");
  for (const HostTensor& t : inputs) {
    bool known = std::any_of(g->inputs.begin(), g->inputs.end(), [&](const GraphIO& io) { return io.name == t.name; });
    if (!known) {
      std::string names;
      for (const GraphIO& io : g->inputs) names += (names.empty() ? "" : ", ") + io.name;
      return InvalidArgument("input '" + t.name + "': the engine has no such input (its inputs: " + names + ")");
    }
  }
  std::vector<cpu::graph::GTensor> ins;
  for (const GraphIO& io : g->inputs) {
    auto it = std::find_if(inputs.begin(), inputs.end(), [&](const HostTensor& t) { return t.name == io.name; });
    const GraphValue& v = g->values[io.value];
    if (it == inputs.end()) return InvalidArgument("input '" + io.name + "' is not given");
    if (it->type != v.type || it->shape != v.shape)
      return InvalidArgument("input '" + io.name + "': " + gtypeName(it->type) + " " + cpu::graph::shapeStr(it->shape) +
                             ", the engine takes " + gtypeName(v.type) + " " + cpu::graph::shapeStr(v.shape));
    if (it->bytes.size() != static_cast<size_t>(cpu::graph::numelOf(it->shape)) * gtypeBytes(it->type))
      return InvalidArgument("input '" + io.name + "': wrong number of bytes for its shape");
    ins.push_back(cpu::graph::fromBytes(it->type, it->shape, it->bytes.data()));
  }
  LLMC_ASSIGN_OR_RETURN(std::vector<cpu::graph::GTensor> outs, runOn(engine, std::move(ins), threads, device));
  std::vector<HostTensor> result;
  for (size_t k = 0; k < outs.size(); ++k) {
    HostTensor h;
    h.name = g->outputs[k].name;
    h.type = outs[k].type;
    h.shape = outs[k].shape;
    cpu::graph::toBytes(outs[k], &h.bytes);
    result.push_back(std::move(h));
  }
  return result;
}

}  // namespace llmc

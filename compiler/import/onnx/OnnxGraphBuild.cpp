//===- OnnxGraphBuild.cpp - `llmc build` of a graph-program engine ---------===//
//
// Owner: graph. See OnnxGraphBuild.h.
//
//===----------------------------------------------------------------------===//
#include "OnnxGraphBuild.h"

#include "OnnxSideFiles.h"

#include "llmc/Codegen/EngineWriter.h"
#include "llmc/Codegen/GraphEmitter.h"
#include "llmc/Compiler/GpuKernels.h"
#include "llmc/Compiler/Support/Paths.h"
#include "llmc/Dialect/LLM/IR/LLMOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include <iostream>
#include <set>

namespace llmc::onnx_import {
namespace {

using nlohmann::json;

const std::set<std::string> &genericOpNames() {
  static const std::set<std::string> s = {
      "constant", "weight_value", "positions", "affine_ints", "causal_mask", "unary",  "binary",
      "where",    "cast",         "matmul",    "reduce",      "softmax",     "cumsum", "sdpa",
      "reshape",  "transpose",    "expand",    "slice",       "concat",      "gather", "gather_nd",
      "range",    "trilu"};
  return s;
}

// Counts of the llm ops of `module` (weights excluded), split into per-token (raised) and
// generic (not raised) ones; generic ops are named with their function ("binary.mul").
void census(mlir::ModuleOp module, json &raised, json &notRaised) {
  raised = json::object();
  notRaised = json::object();
  module.walk([&](mlir::Operation *op) {
    llvm::StringRef full = op->getName().getStringRef();
    if (!full.consume_front("llm.") ||
        mlir::isa<llm::WeightOp, llm::WeightTransposeOp, llm::WeightConcatOp>(op))
      return;
    std::string name = full.str();
    const bool generic = genericOpNames().count(name) > 0;
    if (auto fn = op->getAttrOfType<mlir::StringAttr>("fn"))
      name += "." + fn.getValue().str();
    json &dst = generic ? notRaised : raised;
    dst[name] = dst.value(name, 0) + 1;
  });
}

std::vector<std::string> names(mlir::func::FuncOp f, const char *attr) {
  std::vector<std::string> out;
  if (auto a = f->getAttrOfType<mlir::ArrayAttr>(attr))
    for (mlir::Attribute e : a)
      out.push_back(mlir::cast<mlir::StringAttr>(e).getValue().str());
  return out;
}

}  // namespace

bool isTensorGraphModule(mlir::ModuleOp module) {
  auto f = module.lookupSymbol<mlir::func::FuncOp>("forward");
  return f && f->hasAttr("llm.graph_inputs");
}

Status buildOnnxGraphEngine(const BuildOptions &opt, OnnxImport &imp, mlir::ModuleOp generic,
                            mlir::ModuleOp raised, const std::string &reason, BuildSummary *summary) {
  const std::string &path = opt.inputPath;
  auto func = generic.lookupSymbol<mlir::func::FuncOp>("forward");
  const bool tokenLM = !isTensorGraphModule(generic);
  // Fold what the importer left foldable (identity reshapes, casts) before serialising.
  {
    mlir::MLIRContext *ctx = generic.getContext();
    std::string diag;
    mlir::ScopedDiagnosticHandler handler(ctx, [&](mlir::Diagnostic &d) {
      diag += d.str() + "\n";
      return mlir::success();
    });
    mlir::PassManager pm(ctx, mlir::ModuleOp::getOperationName());
    pm.addPass(mlir::createCanonicalizerPass());
    pm.addPass(mlir::createCSEPass());
    if (mlir::failed(pm.run(generic)))
      return Internal(path + ": canonicalising the graph failed: " + diag);
  }
  codegen::GraphSignature sig;
  sig.tokenLM = tokenLM;
  if (tokenLM) {
    sig.inputNames = {"input_ids"};
    sig.outputNames = {"logits"};
  } else {
    sig.inputNames = names(func, "llm.graph_inputs");
    sig.outputNames = names(func, "llm.graph_outputs");
  }
  LLMC_ASSIGN_OR_RETURN(codegen::EmittedGraph emitted, codegen::emitGraph(generic, sig));

  codegen::EngineContents contents;
  json &m = contents.model;
  json &report = contents.report;
  m["architecture"] = tokenLM ? "onnx-graph" : "onnx-tensors";
  m["dtype"] = engine::dtypeName(imp.dtype);
  report["graph_program"] = true;
  report["graph_ops"] = emitted.opCounts;
  report["onnx_ops"] = imp.onnxOps;
  if (tokenLM) {
    auto out = mlir::cast<mlir::RankedTensorType>(func.getResultTypes()[0]);
    if (out.getRank() < 1 || out.isDynamicDim(out.getRank() - 1))
      return Unsupported(path + ": the logits' last dimension (the vocabulary) is not static");
    m["vocab_size"] = out.getDimSize(out.getRank() - 1);
    LLMC_RETURN_IF_ERROR(readSideFiles(path, m["vocab_size"].get<int64_t>(), m, report));
    json r, left;
    census(raised, r, left);
    report["raised"] = r;
    report["not_raised"] = left;
    report["not_raised_reason"] = reason;
    const std::string dir = path.rfind('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
    LLMC_ASSIGN_OR_RETURN(contents.tokenizerJson, readOptionalFile(dir + "/tokenizer.json"));
    LLMC_ASSIGN_OR_RETURN(contents.tokenizerConfigJson, readOptionalFile(dir + "/tokenizer_config.json"));
    // Always said, not only with -v: the engine works, but slower than a raised one.
    std::cerr << "llmc build: " << path << ": raised " << r.dump() << "; not raised " << left.dump()
              << ": the engine runs the whole graph as generic ops (no KV cache: every token "
                 "recomputes the sequence)\n";
  }
  contents.build["producer"] = "llmc 0.1.0";
  contents.build["source"] = baseName(path);
  contents.build["source_format"] = "onnx";
  contents.build["onnx"] = {{"opset", imp.opset}, {"nodes", imp.numNodes}, {"producer", imp.producer}};
  contents.build["flags"]["dtype"] = opt.dtype;
  contents.build["flags"]["gpu_archs"] = splitList(opt.gpuArchs);
  contents.program = json();  // null: the kernels are the generic ops' (graph_ops.cuh)
  contents.extraSections.emplace_back(engine::kSectionGraph, emitted.graph.dump());
  contents.weights = &emitted.weights;
  auto log = [&](const std::string &line) { opt.progress(line); };
  LLMC_RETURN_IF_ERROR(addGpuKernels(opt, contents, log));
  LLMC_ASSIGN_OR_RETURN(codegen::WrittenEngine written,
                        codegen::writeEngine(opt.outputPath, contents, *imp.weights));
  if (summary) {
    summary->architecture = m["architecture"].get<std::string>();
    summary->dtype = engine::dtypeName(imp.dtype);
    summary->fileBytes = written.fileBytes;
    summary->weightBytes = written.weightBytes;
    summary->numWeights = written.numWeights;
    summary->numSteps = emitted.graph["ops"].size();
  }
  return Status::Ok();
}

}  // namespace llmc::onnx_import

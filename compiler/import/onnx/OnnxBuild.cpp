//===- OnnxBuild.cpp - `llmc build model.onnx` ----------------------------===//
//
// Owner: onnx. Stages (each failing with a Status naming the file):
//   1. import: generic llm ops (OnnxImporter), dumped as 00-import.mlir
//   2. passes: buildOnnxPipeline = raising (ends in llmc-check-raised) + the default pipeline
//   3. model description read back from the raised IR (vocab, hidden, layers, heads, window)
//      plus bos/eos, max_position and tokenizer files found next to the .onnx file
//   4. emit + write, as for HF folders (ProgramEmitter, EngineWriter reading the initializers)
// The build report says what was raised (meta.report.raised) and the ONNX op census.
//
//===----------------------------------------------------------------------===//
#include "llmc/Compiler/Import/ONNX/OnnxBuild.h"

#include "OnnxGraphBuild.h"
#include "OnnxSideFiles.h"

#include "llmc/Codegen/EngineWriter.h"
#include "llmc/Codegen/ProgramEmitter.h"
#include "llmc/Compiler/GpuKernels.h"
#include "llmc/Compiler/IRDumper.h"
#include "llmc/Compiler/Support/Paths.h"
#include "llmc/Compiler/Import/ONNX/OnnxImporter.h"
#include "llmc/Dialect/LLM/IR/LLMOps.h"
#include "llmc/Passes/Passes.h"
#include "llmc/Passes/Raising/Raising.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <sstream>
#include <sys/stat.h>

namespace llmc {
namespace {

using nlohmann::json;

std::string dirOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// The hyper-parameters the runtime needs, read from the final (fused, planned) IR.
// `positionRows`: the rows of a learned position table (0 without one), which bound max_position.
Status describeModel(mlir::ModuleOp module, const std::string &path, json &m,
                     int64_t &positionRows) {
  auto forward = module.lookupSymbol<mlir::func::FuncOp>("forward");
  if (!forward || forward.getNumResults() != 1)
    return Internal(path + ": no @forward after raising");
  auto out = mlir::cast<mlir::RankedTensorType>(forward.getResultTypes()[0]);
  int64_t layers = 0, heads = 0, kvHeads = 0, headDim = 0, window = 0, hidden = 0;
  double eps = 0;
  forward.walk([&](mlir::Operation *op) {
    auto attrI = [&](const char *n) {
      auto a = op->getAttrOfType<mlir::IntegerAttr>(n);
      return a ? a.getInt() : 0;
    };
    if (mlir::isa<llm::AttentionOp, llm::QKVAttentionOp>(op)) {
      if (layers++ == 0) {
        heads = attrI("num_heads");
        kvHeads = attrI("num_kv_heads");
        headDim = attrI("head_dim");
      }
      window = std::max(window, attrI("sliding_window"));
    } else if (auto e = mlir::dyn_cast<llm::EmbeddingOp>(op)) {
      hidden = mlir::cast<mlir::RankedTensorType>(e.getType()).getDimSize(1);
    } else if (eps == 0 && (mlir::isa<llm::RMSNormOp, llm::AddRMSNormOp, llm::LayerNormOp>(op))) {
      eps = op->getAttrOfType<mlir::FloatAttr>("eps").getValueAsDouble();
    } else if (auto p = mlir::dyn_cast<llm::PositionEmbeddingOp>(op)) {
      if (auto w = module.lookupSymbol<llm::WeightOp>(p.getWeight()))
        positionRows = w.getShape()[0];
    }
  });
  if (layers == 0 || hidden == 0)
    return Unsupported(path + ": the raised model has no attention layer or no embedding");
  m["architecture"] = "onnx-decoder";
  m["vocab_size"] = out.getDimSize(1);
  m["hidden_size"] = hidden;
  m["num_layers"] = layers;
  m["num_heads"] = heads;
  m["num_kv_heads"] = kvHeads;
  m["head_dim"] = headDim;
  m["sliding_window"] = window;
  m["norm_eps"] = eps;
  return Status::Ok();
}

// Counts of per-token ops after raising (before fusion): what the ONNX graph was raised to.
json raisedCounts(mlir::ModuleOp module) {
  json r = json::object();
  module.walk([&](mlir::Operation *op) {
    if (op->getDialect() && op->getDialect()->getNamespace() == "llm" &&
        !mlir::isa<llm::WeightOp, llm::WeightTransposeOp, llm::WeightConcatOp>(op)) {
      std::string name = op->getName().getStringRef().str().substr(4);
      r[name] = r.value(name, 0) + 1;
    }
  });
  return r;
}

}  // namespace

Status buildOnnxEngine(const BuildOptions &opt, BuildSummary *summary) {
  auto log = [&](const std::string &line) { opt.progress(line); };
  const std::string &path = opt.inputPath;
  if (!opt.dumpIrDir.empty())
    LLMC_RETURN_IF_ERROR(makeDirectories(opt.dumpIrDir));

  // --- 1. import ------------------------------------------------------------------------------
  mlir::MLIRContext ctx(mlir::MLIRContext::Threading::DISABLED);
  mlir::DialectRegistry registry;
  registerLLMDialect(registry);
  ctx.appendDialectRegistry(registry);
  LLMC_ASSIGN_OR_RETURN(onnx_import::OnnxImport imp, onnx_import::importOnnxFile(ctx, path, opt.dtype));
  mlir::ModuleOp module = *imp.module;
  log("imported " + path + ": opset " + std::to_string(imp.opset) + ", " +
      std::to_string(imp.numNodes) + " nodes, " + std::to_string(imp.numInitializers) +
      " initializers, engine dtype " + engine::dtypeName(imp.dtype));
  if (!opt.dumpIrDir.empty())
    LLMC_RETURN_IF_ERROR(dumpModule(module, opt.dumpIrDir, "00-import.mlir"));
  // Not a token LM (named tensors): nothing to raise, the engine holds the graph program.
  if (onnx_import::isTensorGraphModule(module))
    return onnx_import::buildOnnxGraphEngine(opt, imp, module, nullptr, "", summary);
  // Kept for a graph-program engine if raising leaves generic ops.
  mlir::OwningOpRef<mlir::ModuleOp> generic = module.clone();

  // --- 2. raising, then the default pipeline ------------------------------------------------
  std::string diag;
  auto run = [&](mlir::PassManager &pm) {
    mlir::ScopedDiagnosticHandler handler(&ctx, [&](mlir::Diagnostic &d) {
      llvm::raw_string_ostream os(diag);
      os << d;
      return mlir::success();
    });
    return mlir::succeeded(pm.run(module));
  };
  mlir::PassManager raise(&ctx, mlir::ModuleOp::getOperationName());
  buildOnnxRaisingPipeline(raise);
  if (!opt.dumpIrDir.empty())
    enableIRDumps(raise, opt.dumpIrDir, 1);
  if (!run(raise))
    return onnx_import::buildOnnxGraphEngine(opt, imp, *generic, module, diag, summary);
  json raised = raisedCounts(module);
  log("raised to the per-token form: " + raised.dump());
  mlir::PassManager pm(&ctx, mlir::ModuleOp::getOperationName());
  buildDefaultPipeline(pm);
  if (!opt.dumpIrDir.empty())
    enableIRDumps(pm, opt.dumpIrDir, 1 + static_cast<int>(raise.size()));
  if (!run(pm))
    return Internal("the pass pipeline failed on the model from " + path + ":\n" + diag);

  // --- 3. model description -------------------------------------------------------------------
  codegen::EngineContents contents;
  json &m = contents.model;
  int64_t positionRows = 0;
  LLMC_RETURN_IF_ERROR(describeModel(module, path, m, positionRows));
  m["dtype"] = engine::dtypeName(imp.dtype);
  const std::string dir = dirOf(path);
  LLMC_RETURN_IF_ERROR(onnx_import::readSideFiles(path, m["vocab_size"].get<int64_t>(), m, contents.report));
  // A learned position table (GPT-2's wpe) has no row beyond its last.
  if (positionRows > 0 && (m["max_position"].get<int64_t>() > positionRows ||
                           contents.report["max_position_source"] == "default")) {
    m["max_position"] = positionRows;
    contents.report["max_position_source"] = "position_table";
  }

  // --- 4. emit and write ----------------------------------------------------------------------
  LLMC_ASSIGN_OR_RETURN(codegen::EmittedProgram emitted, codegen::emitProgram(module));
  contents.build["producer"] = "llmc 0.1.0";
  contents.build["source"] = baseName(path);
  contents.build["source_format"] = "onnx";
  contents.build["onnx"] = {{"opset", imp.opset}, {"nodes", imp.numNodes},
                            {"producer", imp.producer}};
  contents.build["flags"]["dtype"] = opt.dtype;
  contents.build["flags"]["gpu_archs"] = splitList(opt.gpuArchs);
  json &report = contents.report;
  report["arena_per_token"] = emitted.arenaPerToken;
  report["ops"] = emitted.opCounts;
  report["steps"] = emitted.program["steps"].size();
  report["raised"] = raised;
  report["not_raised"] = json::array();
  report["onnx_ops"] = imp.onnxOps;
  uint64_t weightBytes = 0;
  for (const std::string &sym : emitted.weights.emitted)
    weightBytes += emitted.weights.defs.at(sym).nbytes();
  report["weight_bytes"] = weightBytes;
  report["num_weights"] = emitted.weights.emitted.size();

  LLMC_ASSIGN_OR_RETURN(contents.tokenizerJson, readOptionalFile(dir + "/tokenizer.json"));
  LLMC_ASSIGN_OR_RETURN(contents.tokenizerConfigJson, readOptionalFile(dir + "/tokenizer_config.json"));
  if (!contents.tokenizerJson)
    log("no tokenizer.json next to the model: the engine will work on token ids only");
  contents.program = emitted.program;
  contents.weights = &emitted.weights;
  LLMC_RETURN_IF_ERROR(addGpuKernels(opt, contents, log));
  LLMC_ASSIGN_OR_RETURN(codegen::WrittenEngine written,
                        codegen::writeEngine(opt.outputPath, contents, *imp.weights));
  log(std::to_string(emitted.program["steps"].size()) + " steps, arena " +
      std::to_string(emitted.arenaPerToken) + " floats per token; wrote " + opt.outputPath + " (" +
      std::to_string(written.fileBytes) + " bytes)");
  if (summary) {
    summary->architecture = "onnx";
    summary->dtype = engine::dtypeName(imp.dtype);
    summary->fileBytes = written.fileBytes;
    summary->weightBytes = written.weightBytes;
    summary->numWeights = written.numWeights;
    summary->numSteps = emitted.program["steps"].size();
    summary->arenaPerToken = emitted.arenaPerToken;
  }
  return Status::Ok();
}

}  // namespace llmc

//===- BuildDriver.cpp - `llmc build`: checkpoint -> engine file ----------===//
//
// Owned by the compiler (cc). The stages, each failing with a Status that names the file:
//   1. inputs: the HF folder's config.json (-> ModelConfig, family) and checkpoint (WeightSource)
//   2. import: llm dialect module (HFImporter), dumped as 00-import.mlir
//   3. passes: llmc::buildDefaultPipeline, dumped after every pass
//   4. emit: Program JSON + weight plan (ProgramEmitter)
//   5. write: meta (model, build, report, weight index), program, tokenizer, weights (EngineWriter)
// The MLIR context runs single-threaded: the pipeline is cheap next to streaming the weights,
// and per-pass module dumps require it.
//
//===----------------------------------------------------------------------===//
#include "llmc/Compiler/BuildDriver.h"

#include "llmc/Codegen/EngineWriter.h"
#include "llmc/Codegen/ProgramEmitter.h"
#include "llmc/Compiler/GpuKernels.h"
#include "llmc/Compiler/IRDumper.h"
#include "llmc/Compiler/Support/Paths.h"
#include "llmc/Compiler/Import/HF/HFConfig.h"
#include "llmc/Compiler/Import/HF/HFImporter.h"
#include "llmc/Compiler/Import/HF/WeightSource.h"
#include "llmc/Compiler/Import/ONNX/OnnxBuild.h"
#include "llmc/Models/ModelFamily.h"
#include "llmc/Passes/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <sys/stat.h>

namespace llmc {

void BuildOptions::progress(const std::string &line) const {
  if (!verbose)
    return;
  if (log)
    log(line);
  else
    std::cerr << "llmc build: " << line << "\n";
}

namespace {

using nlohmann::json;

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

StatusOr<engine::DType> resolveDType(const std::string &requested, const hf::WeightSource &ws) {
  engine::DType d;
  if (requested == "auto") {
    switch (ws.predominantDType()) {
    case codegen::SourceDType::kF32: return engine::DType::kF32;
    case codegen::SourceDType::kF16: return engine::DType::kF16;
    case codegen::SourceDType::kBF16: return engine::DType::kBF16;
    }
  }
  if (!engine::parseDType(requested, &d))
    return InvalidArgument("--dtype: '" + requested + "' is not one of auto, f32, f16, bf16");
  return d;
}

// Token ids the runtime needs: bos (first of the config's), eos (the config's, then any extra
// ones generation_config.json lists; chat models often stop on several).
Status tokenIds(const std::string &dir, const models::ModelConfig &cfg, json &model) {
  std::vector<int64_t> eos = cfg.eosTokenIds;
  LLMC_ASSIGN_OR_RETURN(std::optional<std::string> gen,
                        readOptionalFile(joinPath(dir, "generation_config.json")));
  if (gen) {
    json g = json::parse(*gen, nullptr, /*allow_exceptions=*/false);
    if (g.is_object() && g.contains("eos_token_id")) {
      const json &e = g["eos_token_id"];
      std::vector<json> items = e.is_array() ? std::vector<json>(e.begin(), e.end())
                                             : std::vector<json>{e};
      for (const json &id : items)
        if (id.is_number_integer() &&
            std::find(eos.begin(), eos.end(), id.get<int64_t>()) == eos.end())
          eos.push_back(id.get<int64_t>());
    }
  }
  const std::string configPath = joinPath(dir, "config.json");
  auto check = [&](int64_t id, const char *key) -> Status {
    if (id < 0 || id >= cfg.vocabSize)
      return InvalidArgument(configPath + ": " + key + " " + std::to_string(id) +
                             " is outside the vocabulary [0, " + std::to_string(cfg.vocabSize) + ")");
    return Status::Ok();
  };
  for (int64_t id : eos)
    LLMC_RETURN_IF_ERROR(check(id, "eos_token_id"));
  model["eos_token_ids"] = eos;
  if (cfg.bosTokenIds.empty()) {
    model["bos_token_id"] = nullptr;
  } else {
    LLMC_RETURN_IF_ERROR(check(cfg.bosTokenIds[0], "bos_token_id"));
    model["bos_token_id"] = cfg.bosTokenIds[0];
  }
  return Status::Ok();
}

json modelMeta(const models::ModelConfig &cfg, engine::DType dtype) {
  json m;
  m["architecture"] = cfg.modelType;
  m["hf_architecture"] = cfg.architecture;
  m["vocab_size"] = cfg.vocabSize;
  m["hidden_size"] = cfg.hiddenSize;
  m["intermediate_size"] = cfg.intermediateSize;
  m["num_layers"] = cfg.numLayers;
  m["num_heads"] = cfg.numHeads;
  m["num_kv_heads"] = cfg.numKvHeads;
  m["head_dim"] = cfg.headDim;
  m["max_position"] = cfg.maxPositionEmbeddings;
  // The largest window any layer uses (per-layer windows are on the attention steps).
  int64_t window = 0;
  for (int64_t i = 0; i < cfg.numLayers; ++i)
    window = std::max(window, cfg.slidingWindowForLayer(i));
  m["sliding_window"] = window;
  m["dtype"] = engine::dtypeName(dtype);
  m["rope_theta"] = cfg.ropeTheta;
  m["norm_eps"] = cfg.normEps;
  m["tie_word_embeddings"] = cfg.tieWordEmbeddings;
  return m;
}

// Runs `fn` with MLIR diagnostics captured into `diag` instead of printed.
template <typename Fn>
auto withDiagnostics(mlir::MLIRContext &ctx, std::string &diag, Fn fn) {
  mlir::ScopedDiagnosticHandler handler(&ctx, [&](mlir::Diagnostic &d) {
    llvm::raw_string_ostream os(diag);
    os << d.getLocation() << ": " << d << "\n";
    return mlir::success();
  });
  return fn();
}

}  // namespace

Status buildEngine(const BuildOptions &opt, BuildSummary *summary) {
  auto log = [&](const std::string &line) { opt.progress(line); };
  if (opt.inputPath.empty())
    return InvalidArgument("no input: give an HF model folder (or, later, an .onnx file)");
  if (opt.outputPath.empty())
    return InvalidArgument("no output path (-o FILE)");

  // --- 1. inputs ---------------------------------------------------------------------------
  struct stat st;
  if (::stat(opt.inputPath.c_str(), &st) != 0)
    return NotFound(opt.inputPath + ": no such file or directory");
  if (!S_ISDIR(st.st_mode)) {
    if (endsWith(opt.inputPath, ".onnx"))
      return buildOnnxEngine(opt, summary);  // compiler/import/onnx/OnnxBuild.cpp
    return InvalidArgument(opt.inputPath +
                           ": not a model folder (expected config.json + model.safetensors)");
  }
  const std::string &dir = opt.inputPath;
  const std::string configPath = joinPath(dir, "config.json");
  LLMC_ASSIGN_OR_RETURN(models::ModelConfig cfg, hf::parseConfigFile(configPath));
  const models::ModelFamily *family = models::findFamilyForModelType(cfg.modelType);
  if (!family)
    return Internal("no family for parsed model_type '" + cfg.modelType + "'");
  LLMC_ASSIGN_OR_RETURN(models::ArchitectureSpec spec, family->describe(cfg));
  LLMC_ASSIGN_OR_RETURN(std::unique_ptr<hf::WeightSource> weights, hf::WeightSource::openFolder(dir));
  LLMC_ASSIGN_OR_RETURN(engine::DType dtype, resolveDType(opt.dtype, *weights));
  log("model_type " + cfg.modelType + ", " + std::to_string(cfg.numLayers) + " layers, hidden " +
      std::to_string(cfg.hiddenSize) + ", checkpoint " + weights->description() + ", engine dtype " +
      engine::dtypeName(dtype));
  if (!opt.dumpIrDir.empty())
    LLMC_RETURN_IF_ERROR(makeDirectories(opt.dumpIrDir));

  // --- 2. import ----------------------------------------------------------------------------
  mlir::MLIRContext ctx(mlir::MLIRContext::Threading::DISABLED);
  mlir::DialectRegistry registry;
  registerLLMDialect(registry);
  ctx.appendDialectRegistry(registry);
  hf::ImportInputs in;
  in.config = &cfg;
  in.spec = &spec;
  in.weights = weights.get();
  in.dtype = dtype;
  in.configFile = configPath;
  LLMC_ASSIGN_OR_RETURN(mlir::OwningOpRef<mlir::ModuleOp> module, hf::importHFModel(ctx, in));
  if (!opt.dumpIrDir.empty())
    LLMC_RETURN_IF_ERROR(dumpModule(*module, opt.dumpIrDir, "00-import.mlir"));

  // --- 3. passes ----------------------------------------------------------------------------
  mlir::PassManager pm(&ctx, mlir::ModuleOp::getOperationName());
  buildDefaultPipeline(pm);
  if (!opt.dumpIrDir.empty())
    enableIRDumps(pm, opt.dumpIrDir, 1);
  std::string diag;
  bool passed = withDiagnostics(ctx, diag, [&] { return mlir::succeeded(pm.run(*module)); });
  if (!passed)
    return Internal("the pass pipeline failed on the model from " + dir + ":\n" + diag);
  log("pipeline done");

  // --- 4. emit ------------------------------------------------------------------------------
  LLMC_ASSIGN_OR_RETURN(codegen::EmittedProgram emitted, codegen::emitProgram(*module));
  log(std::to_string(emitted.program["steps"].size()) + " steps, " +
      std::to_string(emitted.weights.emitted.size()) + " weights, arena " +
      std::to_string(emitted.arenaPerToken) + " floats per token");

  // --- 5. write -----------------------------------------------------------------------------
  codegen::EngineContents contents;
  contents.model = modelMeta(cfg, dtype);
  LLMC_RETURN_IF_ERROR(tokenIds(dir, cfg, contents.model));
  // Only the folder's name: an absolute path would make builds differ between machines.
  contents.build["producer"] = "llmc 0.1.0";
  contents.build["source"] = baseName(dir);
  contents.build["source_format"] = "hf-safetensors";
  contents.build["flags"]["dtype"] = opt.dtype;
  contents.build["flags"]["gpu_archs"] = splitList(opt.gpuArchs);

  uint64_t weightBytes = 0;
  size_t concats = 0, transposes = 0;
  std::set<std::string> usedSources;
  std::function<void(const std::string &)> collect = [&](const std::string &sym) {
    const codegen::WeightDef &d = emitted.weights.defs.at(sym);
    if (d.kind == codegen::WeightDef::Kind::kSource)
      usedSources.insert(d.source);
    for (const std::string &p : d.operands)
      collect(p);
  };
  for (const std::string &sym : emitted.weights.emitted) {
    const codegen::WeightDef &d = emitted.weights.defs.at(sym);
    weightBytes += d.nbytes();
    concats += d.kind == codegen::WeightDef::Kind::kConcat;
    transposes += d.kind == codegen::WeightDef::Kind::kTranspose;
    collect(sym);
  }
  json &report = contents.report;
  report["arena_per_token"] = emitted.arenaPerToken;
  report["ops"] = emitted.opCounts;
  report["steps"] = emitted.program["steps"].size();
  report["weight_bytes"] = weightBytes;
  report["num_weights"] = emitted.weights.emitted.size();
  report["fused"]["qkv_attention"] = emitted.opCounts.count("qkv_attention") ? emitted.opCounts["qkv_attention"] : 0;
  report["fused"]["glu"] = emitted.opCounts.count("glu") ? emitted.opCounts["glu"] : 0;
  report["fused"]["add_rms_norm"] = emitted.opCounts.count("add_rms_norm") ? emitted.opCounts["add_rms_norm"] : 0;
  report["fused"]["concatenated_weights"] = concats;
  report["transposed_weights"] = transposes;
  // Checkpoint tensors the engine does not need (e.g. lm_head.weight of a tied model).
  report["unused_checkpoint_tensors"] = weights->names().size() - usedSources.size();

  LLMC_ASSIGN_OR_RETURN(contents.tokenizerJson, readOptionalFile(joinPath(dir, "tokenizer.json")));
  LLMC_ASSIGN_OR_RETURN(contents.tokenizerConfigJson,
                        readOptionalFile(joinPath(dir, "tokenizer_config.json")));
  if (!contents.tokenizerJson)
    log("no tokenizer.json: the engine will work on token ids only");
  contents.program = emitted.program;
  contents.weights = &emitted.weights;
  LLMC_RETURN_IF_ERROR(addGpuKernels(opt, contents, log));
  LLMC_ASSIGN_OR_RETURN(codegen::WrittenEngine written,
                        codegen::writeEngine(opt.outputPath, contents, *weights));
  log("wrote " + opt.outputPath + " (" + std::to_string(written.fileBytes) + " bytes)");

  if (summary) {
    summary->architecture = cfg.modelType;
    summary->dtype = engine::dtypeName(dtype);
    summary->fileBytes = written.fileBytes;
    summary->weightBytes = written.weightBytes;
    summary->numWeights = written.numWeights;
    summary->numSteps = emitted.program["steps"].size();
    summary->arenaPerToken = emitted.arenaPerToken;
  }
  return Status::Ok();
}

}  // namespace llmc

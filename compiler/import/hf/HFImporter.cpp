//===- HFImporter.cpp - HF config + safetensors -> llm dialect ------------===//
//
// Owned by the compiler (cc). The decoder block, in HF's order (LlamaDecoderLayer):
//   h = norm(x); q,k,v = linear(h); q,k = rope(q,k); a = attention(q,k,v); x = x + linear_o(a)
//   h = norm(x); m = down(act(gate(h)) * up(h)); x = x + m
// then norm(x) -> last_token -> lm_head. Fusions (QKV, gate/up, add+norm, rope+attention) are
// the passes' job; the importer emits the plain graph so every pass is visible in --dump-ir.
//
//===----------------------------------------------------------------------===//
#include "llmc/Compiler/Import/HF/HFImporter.h"

#include "llmc/Compiler/Import/HF/HFConfig.h"
#include "llmc/Dialect/LLM/IR/LLMDialect.h"
#include "llmc/Dialect/LLM/IR/LLMOps.h"
#include "llmc/runtime/HalfFloat.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <map>

namespace llmc::hf {
namespace {

using mlir::FlatSymbolRefAttr;
using mlir::Value;

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

class ModuleBuilder {
 public:
  ModuleBuilder(mlir::MLIRContext &ctx, const ImportInputs &in)
      : in_(in), cfg_(*in.config), spec_(*in.spec), b_(&ctx), loc_(b_.getUnknownLoc()) {}

  StatusOr<mlir::OwningOpRef<mlir::ModuleOp>> build();

 private:
  // The symbol for checkpoint tensor `source`, created on first use after checking that the
  // checkpoint has it with shape `shape` (the config's view of it).
  StatusOr<FlatSymbolRefAttr> weight(const std::string &source, std::vector<int64_t> shape);
  // Like weight(), but "" (the architecture has no such tensor) gives a null attribute.
  StatusOr<FlatSymbolRefAttr> optionalWeight(const std::string &source, std::vector<int64_t> shape);
  // A linear's [N, K] weight, through a transpose when the checkpoint stores [K, N].
  StatusOr<FlatSymbolRefAttr> linearWeight(const std::string &source, int64_t n, int64_t k);

  mlir::RankedTensorType act(int64_t width) {
    return mlir::RankedTensorType::get({mlir::ShapedType::kDynamic, width}, b_.getF32Type());
  }
  StatusOr<Value> norm(Value x, const std::string &w, const std::string &bias);
  StatusOr<Value> linear(Value x, const std::string &w, const std::string &bias, int64_t n,
                         int64_t k);
  Value activation(Value x);
  float embeddingScale() const;
  Status layer(int64_t i, Value &x);

  const ImportInputs &in_;
  const models::ModelConfig &cfg_;
  const models::ArchitectureSpec &spec_;
  mlir::OpBuilder b_;
  mlir::Location loc_;
  mlir::ModuleOp module_;
  std::map<std::string, FlatSymbolRefAttr> symbols_;  // source name -> symbol
  std::vector<float> invFreq_;
};

StatusOr<FlatSymbolRefAttr> ModuleBuilder::weight(const std::string &wanted,
                                                  std::vector<int64_t> shape) {
  auto it = symbols_.find(wanted);
  if (it != symbols_.end())
    return it->second;
  // The name as the checkpoint spells it: some lack the family's base-model prefix.
  std::string source = wanted;
  StatusOr<codegen::TensorView> view = in_.weights->tensor(source);
  const std::string &prefix = spec_.optionalPrefix;
  if (!view.ok() && view.status().code() == StatusCode::kNotFound && !prefix.empty() &&
      source.rfind(prefix, 0) == 0) {
    StatusOr<codegen::TensorView> bare = in_.weights->tensor(source.substr(prefix.size()));
    if (bare.ok()) {
      source = source.substr(prefix.size());
      view = std::move(bare);
    }
  }
  if (!view.ok())
    return view.status();
  if (view->shape != shape)
    return InvalidArgument(view->file + ": tensor '" + source + "' has shape " +
                           shapeString(view->shape) + " but " + in_.configFile + " implies " +
                           shapeString(shape));
  // Symbol = the checkpoint name without HF's "model." prefix: readable and unique.
  std::string sym = source.rfind("model.", 0) == 0 ? source.substr(6) : source;
  mlir::OpBuilder::InsertionGuard guard(b_);
  b_.setInsertionPoint(module_.getBody(), std::prev(module_.getBody()->end()));
  b_.create<llm::WeightOp>(loc_, sym, source, shape, engine::dtypeName(in_.dtype));
  FlatSymbolRefAttr ref = FlatSymbolRefAttr::get(b_.getContext(), sym);
  symbols_.emplace(wanted, ref);
  return ref;
}

StatusOr<FlatSymbolRefAttr> ModuleBuilder::linearWeight(const std::string &source, int64_t n,
                                                        int64_t k) {
  if (!spec_.transposedLinears)
    return weight(source, {n, k});
  // Stored [K, N] (Conv1D): llm.linear wants [N, K], so record a transpose for the writer.
  LLMC_ASSIGN_OR_RETURN(FlatSymbolRefAttr stored, weight(source, {k, n}));
  std::string sym = stored.getValue().str() + ".T";
  auto it = symbols_.find(sym);
  if (it != symbols_.end())
    return it->second;
  mlir::OpBuilder::InsertionGuard guard(b_);
  b_.setInsertionPoint(module_.getBody(), std::prev(module_.getBody()->end()));
  b_.create<llm::WeightTransposeOp>(loc_, sym, stored.getValue());
  FlatSymbolRefAttr ref = FlatSymbolRefAttr::get(b_.getContext(), sym);
  symbols_.emplace(sym, ref);
  return ref;
}

StatusOr<FlatSymbolRefAttr> ModuleBuilder::optionalWeight(const std::string &source,
                                                          std::vector<int64_t> shape) {
  if (source.empty())
    return FlatSymbolRefAttr();
  return weight(source, std::move(shape));
}

StatusOr<Value> ModuleBuilder::norm(Value x, const std::string &w, const std::string &bias) {
  const int64_t h = cfg_.hiddenSize;
  LLMC_ASSIGN_OR_RETURN(FlatSymbolRefAttr wref, weight(w, {h}));
  auto type = mlir::cast<mlir::RankedTensorType>(x.getType());
  mlir::FloatAttr eps = b_.getF32FloatAttr(static_cast<float>(cfg_.normEps));
  if (spec_.norm == models::NormKind::kLayerNorm) {
    LLMC_ASSIGN_OR_RETURN(FlatSymbolRefAttr bref, optionalWeight(bias, {h}));
    return Value(b_.create<llm::LayerNormOp>(loc_, type, x, wref, bref, eps));
  }
  bool unitOffset = spec_.norm == models::NormKind::kRmsUnitOffset;
  return Value(b_.create<llm::RMSNormOp>(loc_, type, x, wref, eps, b_.getBoolAttr(unitOffset)));
}

StatusOr<Value> ModuleBuilder::linear(Value x, const std::string &w, const std::string &bias,
                                      int64_t n, int64_t k) {
  LLMC_ASSIGN_OR_RETURN(FlatSymbolRefAttr wref, linearWeight(w, n, k));
  LLMC_ASSIGN_OR_RETURN(FlatSymbolRefAttr bref, optionalWeight(bias, {n}));
  auto inType = mlir::cast<mlir::RankedTensorType>(x.getType());
  auto outType = mlir::RankedTensorType::get({inType.getDimSize(0), n}, b_.getF32Type());
  return Value(b_.create<llm::LinearOp>(loc_, outType, x, wref, bref));
}

float ModuleBuilder::embeddingScale() const {
  const float scale = static_cast<float>(spec_.embeddingScale);
  if (!spec_.embeddingScaleInWeightDtype)
    return scale;
  // The model multiplies by the scale in its own dtype (HF: `normalizer.to(weight.dtype)`).
  switch (in_.dtype) {
  case engine::DType::kBF16:
    return bf16ToFloat(floatToBf16(scale));
  case engine::DType::kF16:
    return f16ToFloat(floatToF16(scale));
  default:
    return scale;
  }
}

Value ModuleBuilder::activation(Value x) {
  if (spec_.mlpActivation == "silu")
    return b_.create<llm::SiluOp>(loc_, x.getType(), x);
  return b_.create<llm::GeluOp>(loc_, x, spec_.mlpActivation == "gelu_tanh" ? "tanh" : "none");
}

Status ModuleBuilder::layer(int64_t i, Value &x) {
  const models::LayerTensorNames n = spec_.layerNames(i);
  const int64_t h = cfg_.hiddenSize, hd = cfg_.headDim;
  const int64_t qWidth = cfg_.numHeads * hd, kvWidth = cfg_.numKvHeads * hd;

  // Attention block.
  LLMC_ASSIGN_OR_RETURN(Value hn, norm(x, n.inputNorm, n.inputNormBias));
  Value q, k, v;
  if (!n.qkv.empty()) {
    // One [q | k | v] projection in the checkpoint: a linear and a column split.
    LLMC_ASSIGN_OR_RETURN(Value qkv, linear(hn, n.qkv, n.qkvBias, qWidth + 2 * kvWidth, h));
    auto split = b_.create<llm::SplitOp>(
        loc_, mlir::TypeRange{act(qWidth), act(kvWidth), act(kvWidth)}, qkv,
        b_.getDenseI64ArrayAttr({qWidth, kvWidth, kvWidth}));
    q = split.getResult(0);
    k = split.getResult(1);
    v = split.getResult(2);
  } else {
    LLMC_ASSIGN_OR_RETURN(q, linear(hn, n.q, n.qBias, qWidth, h));
    LLMC_ASSIGN_OR_RETURN(k, linear(hn, n.k, n.kBias, kvWidth, h));
    LLMC_ASSIGN_OR_RETURN(v, linear(hn, n.v, n.vBias, kvWidth, h));
  }
  if (spec_.rope) {
    auto rope = [&](Value t) -> Value {
      return b_.create<llm::RopeOp>(loc_, t.getType(), t, b_.getI64IntegerAttr(hd),
                                    b_.getI64IntegerAttr(cfg_.rotaryDim()),
                                    b_.getDenseF32ArrayAttr(invFreq_),
                                    b_.getBoolAttr(spec_.interleavedRope));
    };
    q = rope(q);
    k = rope(k);
  }
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
  Value a = b_.create<llm::AttentionOp>(
      loc_, act(qWidth), q, k, v, b_.getI64IntegerAttr(i), b_.getI64IntegerAttr(cfg_.numHeads),
      b_.getI64IntegerAttr(cfg_.numKvHeads), b_.getI64IntegerAttr(hd), b_.getF32FloatAttr(scale),
      b_.getI64IntegerAttr(cfg_.slidingWindowForLayer(i)));
  LLMC_ASSIGN_OR_RETURN(Value o, linear(a, n.o, n.oBias, h, qWidth));
  x = b_.create<llm::AddOp>(loc_, x, o);

  // MLP block.
  LLMC_ASSIGN_OR_RETURN(Value hm, norm(x, n.postAttentionNorm, n.postAttentionNormBias));
  const int64_t inter = cfg_.intermediateSize;
  Value m;
  if (!n.gateUp.empty()) {
    // A fused [gate | up] projection in the checkpoint is exactly llm.glu's input layout.
    LLMC_ASSIGN_OR_RETURN(Value gu, linear(hm, n.gateUp, "", 2 * inter, h));
    m = b_.create<llm::GluOp>(loc_, act(inter), gu, spec_.mlpActivation);
  } else if (spec_.gatedMlp) {
    LLMC_ASSIGN_OR_RETURN(Value g, linear(hm, n.gate, n.gateBias, inter, h));
    LLMC_ASSIGN_OR_RETURN(Value u, linear(hm, n.up, n.upBias, inter, h));
    m = b_.create<llm::MulOp>(loc_, activation(g), u);
  } else {
    LLMC_ASSIGN_OR_RETURN(Value u, linear(hm, n.up, n.upBias, inter, h));
    m = activation(u);
  }
  LLMC_ASSIGN_OR_RETURN(Value d, linear(m, n.down, n.downBias, h, inter));
  x = b_.create<llm::AddOp>(loc_, x, d);
  return Status::Ok();
}

StatusOr<mlir::OwningOpRef<mlir::ModuleOp>> ModuleBuilder::build() {
  mlir::OwningOpRef<mlir::ModuleOp> owned = mlir::ModuleOp::create(loc_);
  module_ = *owned;
  for (double f : computeRopeInvFreq(cfg_))
    invFreq_.push_back(static_cast<float>(f));

  const int64_t h = cfg_.hiddenSize, vocab = cfg_.vocabSize;
  auto idsType = mlir::RankedTensorType::get({mlir::ShapedType::kDynamic}, b_.getI32Type());
  auto logitsType = mlir::RankedTensorType::get({1, vocab}, b_.getF32Type());
  b_.setInsertionPointToEnd(module_.getBody());
  auto func = b_.create<mlir::func::FuncOp>(loc_, "forward",
                                            b_.getFunctionType({idsType}, {logitsType}));
  mlir::Block *body = func.addEntryBlock();
  b_.setInsertionPointToStart(body);

  const models::TensorNameTable &names = spec_.names;
  LLMC_ASSIGN_OR_RETURN(FlatSymbolRefAttr embed, weight(names.embedTokens, {vocab, h}));
  Value x = b_.create<llm::EmbeddingOp>(loc_, act(h), body->getArgument(0), embed,
                                        b_.getF32FloatAttr(embeddingScale()));
  if (!names.positionEmbedding.empty()) {
    LLMC_ASSIGN_OR_RETURN(FlatSymbolRefAttr pos,
                          weight(names.positionEmbedding, {cfg_.maxPositionEmbeddings, h}));
    x = b_.create<llm::PositionEmbeddingOp>(loc_, x.getType(), x, pos);
  }
  for (int64_t i = 0; i < cfg_.numLayers; ++i)
    LLMC_RETURN_IF_ERROR(layer(i, x));
  LLMC_ASSIGN_OR_RETURN(Value final, norm(x, names.finalNorm, names.finalNormBias));
  Value last = b_.create<llm::LastTokenOp>(
      loc_, mlir::RankedTensorType::get({1, h}, b_.getF32Type()), final);
  // Tied embeddings: the lm_head is the embedding table itself (same symbol, written once).
  FlatSymbolRefAttr head = embed;
  if (!cfg_.tieWordEmbeddings) {
    StatusOr<FlatSymbolRefAttr> lm = weight(names.lmHead, {vocab, h});
    if (!lm.ok())
      return lm.status().withPrefix("tie_word_embeddings is false, so the checkpoint needs '" +
                                    names.lmHead + "'");
    head = *lm;
  }
  Value logits = b_.create<llm::LinearOp>(loc_, logitsType, last, head, FlatSymbolRefAttr());
  b_.create<mlir::func::ReturnOp>(loc_, logits);

  // Collect the verifier's diagnostics so a failure is one Status, not text on stderr.
  std::string diag;
  {
    mlir::ScopedDiagnosticHandler handler(b_.getContext(), [&](mlir::Diagnostic &d) {
      llvm::raw_string_ostream os(diag);
      os << d << "\n";
      return mlir::success();
    });
    if (mlir::failed(mlir::verify(module_)))
      return Internal("the imported module does not verify (importer bug): " + diag);
  }
  return std::move(owned);
}

}  // namespace

StatusOr<mlir::OwningOpRef<mlir::ModuleOp>> importHFModel(mlir::MLIRContext &ctx,
                                                          const ImportInputs &in) {
  if (!in.config || !in.spec || !in.weights)
    return Internal("importHFModel: missing inputs");
  ctx.loadDialect<llm::LLMDialect, mlir::func::FuncDialect>();
  return ModuleBuilder(ctx, in).build();
}

}  // namespace llmc::hf

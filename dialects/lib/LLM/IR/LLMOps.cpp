//===- LLMOps.cpp - llm activation ops: traits, verifiers, folders ----------===//
//
// Shape rules of docs/design.md's op table. Local rules (widths, heads) are op verifiers; rules
// that need a weight's shape are checked in verifySymbolUses, which the enclosing module runs
// once with a shared symbol-table cache. Owner: mlir.
//
//===----------------------------------------------------------------------===//

#include "llmc/Dialect/LLM/IR/LLMOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace llmc::llm;

#define GET_OP_CLASSES
#include "llmc/Dialect/LLM/IR/LLMOps.cpp.inc"

/// Width (dim 1) of a [T, W] activation.
static int64_t widthOf(Value v) {
  return llvm::cast<ShapedType>(v.getType()).getDimSize(1);
}

static std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (i)
      s += ", ";
    s += ShapedType::isDynamic(d) ? "?" : std::to_string(d);
  }
  return s + "]";
}

//===----------------------------------------------------------------------===//
// Traits
//===----------------------------------------------------------------------===//

LogicalResult llmc::llm::OpTrait::impl::verifyStaticWidths(Operation *op) {
  auto check = [&](Type t, StringRef what, unsigned i) -> LogicalResult {
    auto st = llvm::dyn_cast<ShapedType>(t);
    if (st && st.hasRank() && st.getRank() == 2 && st.isDynamicDim(1))
      return op->emitOpError() << what << " #" << i
                               << " must have a static width, got " << t;
    return success();
  };
  for (auto [i, t] : llvm::enumerate(op->getOperandTypes()))
    if (failed(check(t, "operand", i)))
      return failure();
  for (auto [i, t] : llvm::enumerate(op->getResultTypes()))
    if (failed(check(t, "result", i)))
      return failure();
  return success();
}

LogicalResult llmc::llm::OpTrait::impl::verifySameRows(Operation *op) {
  int64_t rows = ShapedType::kDynamic;
  auto check = [&](Type t) -> LogicalResult {
    auto st = llvm::dyn_cast<ShapedType>(t);
    if (!st || !st.hasRank() || st.getRank() < 1 || st.isDynamicDim(0))
      return success();
    if (ShapedType::isDynamic(rows))
      rows = st.getDimSize(0);
    else if (rows != st.getDimSize(0))
      return op->emitOpError("operands and results must have the same row count, got ")
             << rows << " and " << st.getDimSize(0);
    return success();
  };
  for (Type t : op->getOperandTypes())
    if (failed(check(t)))
      return failure();
  for (Type t : op->getResultTypes())
    if (failed(check(t)))
      return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Weight references
//===----------------------------------------------------------------------===//

/// Checks that `ref` (attribute `name` of `op`) names a weight symbol whose shape matches
/// `expected`, where kDynamic entries match any size.
static LogicalResult verifyWeightRef(Operation *op, SymbolTableCollection &tables,
                                     StringRef name, SymbolRefAttr ref,
                                     ArrayRef<int64_t> expected) {
  if (!ref)
    return success();
  WeightOpInterface w = lookupWeight(op, ref, tables);
  if (!w)
    return op->emitOpError("'") << name << "' " << ref
                                << " does not name a weight symbol (llm.weight, "
                                   "llm.weight_concat or llm.weight_transpose)";
  FailureOr<SmallVector<int64_t>> shape = w.computeShape(tables, 0);
  if (failed(shape))
    return op->emitOpError("'") << name << "' " << ref << " has no derivable shape";
  bool ok = shape->size() == expected.size();
  for (size_t d = 0; ok && d < expected.size(); ++d)
    ok = ShapedType::isDynamic(expected[d]) || expected[d] == (*shape)[d];
  if (!ok)
    return op->emitOpError("'") << name << "' " << ref << " has shape "
                                << shapeStr(*shape) << ", expected "
                                << shapeStr(expected);
  return success();
}

static constexpr int64_t kAny = ShapedType::kDynamic;

LogicalResult EmbeddingOp::verifySymbolUses(SymbolTableCollection &tables) {
  // [vocab, H]
  return verifyWeightRef(*this, tables, "weight", getWeightAttr(),
                         {kAny, widthOf(getOutput())});
}

LogicalResult
PositionEmbeddingOp::verifySymbolUses(SymbolTableCollection &tables) {
  // [max_pos, H]
  return verifyWeightRef(*this, tables, "weight", getWeightAttr(),
                         {kAny, widthOf(getOutput())});
}

LogicalResult RMSNormOp::verifySymbolUses(SymbolTableCollection &tables) {
  return verifyWeightRef(*this, tables, "weight", getWeightAttr(),
                         {widthOf(getOutput())});
}

LogicalResult AddRMSNormOp::verifySymbolUses(SymbolTableCollection &tables) {
  return verifyWeightRef(*this, tables, "weight", getWeightAttr(),
                         {widthOf(getOutput())});
}

LogicalResult LayerNormOp::verifySymbolUses(SymbolTableCollection &tables) {
  int64_t h = widthOf(getOutput());
  if (failed(verifyWeightRef(*this, tables, "weight", getWeightAttr(), {h})))
    return failure();
  return verifyWeightRef(*this, tables, "bias", getBiasAttr(), {h});
}

LogicalResult LinearOp::verifySymbolUses(SymbolTableCollection &tables) {
  int64_t n = widthOf(getOutput()), k = widthOf(getInput());
  // [N, K]: nn.Linear layout, y = x W^T.
  if (failed(verifyWeightRef(*this, tables, "weight", getWeightAttr(), {n, k})))
    return failure();
  return verifyWeightRef(*this, tables, "bias", getBiasAttr(), {n});
}

//===----------------------------------------------------------------------===//
// Local verifiers
//===----------------------------------------------------------------------===//

LogicalResult SplitOp::verify() {
  ArrayRef<int64_t> sizes = getSizes();
  if (sizes.empty())
    return emitOpError("needs at least one size");
  if (sizes.size() != getNumResults())
    return emitOpError("has ") << sizes.size() << " sizes but " << getNumResults()
                               << " results";
  int64_t sum = 0;
  for (auto [i, s] : llvm::enumerate(sizes)) {
    if (s <= 0)
      return emitOpError("size #") << i << " must be positive, got " << s;
    if (widthOf(getResult(i)) != s)
      return emitOpError("result #") << i << " has width " << widthOf(getResult(i))
                                     << " but size is " << s;
    sum += s;
  }
  if (sum != widthOf(getInput()))
    return emitOpError("sizes sum to ") << sum << " but the input width is "
                                        << widthOf(getInput());
  return success();
}

LogicalResult LastTokenOp::verify() {
  auto out = llvm::cast<ShapedType>(getOutput().getType());
  if (out.isDynamicDim(0) || out.getDimSize(0) != 1)
    return emitOpError("result must have exactly 1 row, got ") << out;
  if (widthOf(getInput()) != widthOf(getOutput()))
    return emitOpError("result width ") << widthOf(getOutput())
                                        << " differs from input width "
                                        << widthOf(getInput());
  return success();
}

/// Rotary attributes shared by llm.rope and llm.qkv_attention.
static LogicalResult verifyRopeAttrs(Operation *op, int64_t headDim,
                                     int64_t rotaryDim, size_t numInvFreq) {
  if (headDim <= 0)
    return op->emitOpError("head_dim must be positive, got ") << headDim;
  if (rotaryDim <= 0 || rotaryDim > headDim || rotaryDim % 2 != 0)
    return op->emitOpError("rotary_dim must be even and in (0, head_dim = ")
           << headDim << "], got " << rotaryDim;
  if ((int64_t)numInvFreq != rotaryDim / 2)
    return op->emitOpError("inv_freq must have rotary_dim / 2 = ")
           << rotaryDim / 2 << " values, has " << numInvFreq;
  return success();
}

LogicalResult RopeOp::verify() {
  if (failed(verifyRopeAttrs(*this, getHeadDim(), getRotaryDim(),
                             getInvFreq().size())))
    return failure();
  if (widthOf(getInput()) % getHeadDim() != 0)
    return emitOpError("width ") << widthOf(getInput())
                                 << " is not a multiple of head_dim " << getHeadDim();
  return success();
}

/// Head counts shared by llm.attention and llm.qkv_attention.
static LogicalResult verifyHeads(Operation *op, int64_t layer, int64_t nh,
                                 int64_t nkv, int64_t hd, int64_t window) {
  if (layer < 0)
    return op->emitOpError("layer must be >= 0, got ") << layer;
  if (nh <= 0 || nkv <= 0 || hd <= 0)
    return op->emitOpError("num_heads, num_kv_heads and head_dim must be positive");
  if (nh % nkv != 0)
    return op->emitOpError("num_heads ") << nh << " is not a multiple of num_kv_heads "
                                         << nkv;
  if (window < 0)
    return op->emitOpError("sliding_window must be >= 0 (0 = none), got ") << window;
  return success();
}

static LogicalResult expectWidth(Operation *op, StringRef what, Value v,
                                 int64_t expected, StringRef formula) {
  if (widthOf(v) != expected)
    return op->emitOpError() << what << " width " << widthOf(v) << " != " << formula
                             << " = " << expected;
  return success();
}

LogicalResult AttentionOp::verify() {
  int64_t nh = getNumHeads(), nkv = getNumKvHeads(), hd = getHeadDim();
  if (failed(verifyHeads(*this, getLayer(), nh, nkv, hd, getSlidingWindow())))
    return failure();
  if (failed(expectWidth(*this, "q", getQ(), nh * hd, "num_heads * head_dim")) ||
      failed(expectWidth(*this, "k", getK(), nkv * hd, "num_kv_heads * head_dim")) ||
      failed(expectWidth(*this, "v", getV(), nkv * hd, "num_kv_heads * head_dim")) ||
      failed(expectWidth(*this, "output", getOutput(), nh * hd,
                         "num_heads * head_dim")))
    return failure();
  return success();
}

LogicalResult QKVAttentionOp::verify() {
  int64_t nh = getNumHeads(), nkv = getNumKvHeads(), hd = getHeadDim();
  if (failed(verifyHeads(*this, getLayer(), nh, nkv, hd, getSlidingWindow())) ||
      failed(verifyRopeAttrs(*this, hd, getRotaryDim(), getInvFreq().size())))
    return failure();
  if (failed(expectWidth(*this, "qkv", getQkv(), (nh + 2 * nkv) * hd,
                         "(num_heads + 2 * num_kv_heads) * head_dim")) ||
      failed(expectWidth(*this, "output", getOutput(), nh * hd,
                         "num_heads * head_dim")))
    return failure();
  return success();
}

LogicalResult GeluOp::verify() {
  if (getApproximate() != "none" && getApproximate() != "tanh")
    return emitOpError("approximate must be \"none\" or \"tanh\", got \"")
           << getApproximate() << "\"";
  return success();
}

LogicalResult GluOp::verify() {
  StringRef act = getActivation();
  if (act != "silu" && act != "gelu_tanh" && act != "gelu")
    return emitOpError("activation must be silu, gelu_tanh or gelu, got \"")
           << act << "\"";
  if (widthOf(getInput()) != 2 * widthOf(getOutput()))
    return emitOpError("input width ") << widthOf(getInput())
                                       << " must be twice the output width "
                                       << widthOf(getOutput());
  return success();
}

//===----------------------------------------------------------------------===//
// Folders
//===----------------------------------------------------------------------===//

LogicalResult SplitOp::fold(FoldAdaptor, SmallVectorImpl<OpFoldResult> &results) {
  // A split into one piece is the identity.
  if (getNumResults() != 1 || getInput().getType() != getResult(0).getType())
    return failure();
  results.push_back(getInput());
  return success();
}

OpFoldResult LastTokenOp::fold(FoldAdaptor) {
  // Already a single row: nothing to drop.
  if (getInput().getType() == getOutput().getType())
    return getInput();
  return {};
}

//===- GraphEmitter.cpp - generic llm IR -> engine graph program ----------===//
//
// Owner: graph. See GraphEmitter.h. Attribute names are the ODS names; the element types and
// attributes the runtime accepts are listed in docs/graph-program.md.
//
//===----------------------------------------------------------------------===//
#include "llmc/Codegen/GraphEmitter.h"

#include "llmc/Codegen/ProgramEmitter.h"
#include "llmc/Dialect/LLM/IR/LLMOps.h"
#include "llmc/runtime/EngineFormat.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <set>

namespace llmc::codegen {
namespace {

using nlohmann::json;

const std::set<std::string> &graphOps() {
  static const std::set<std::string> ops = {
      "constant", "weight_value", "positions", "affine_ints", "causal_mask", "unary",  "binary",
      "where",    "cast",         "matmul",    "reduce",      "softmax",     "cumsum", "sdpa",
      "reshape",  "transpose",    "expand",    "slice",       "concat",      "gather", "gather_nd",
      "range",    "trilu"};
  return ops;
}

std::string where(mlir::Operation *op) {
  std::string s;
  llvm::raw_string_ostream os(s);
  op->getLoc().print(os);
  return op->getName().getStringRef().str() + " at " + s;
}

// "f32", "i64", "u8", "bool", ... or "" for an element type the runtime does not know.
std::string typeName(mlir::Type t) {
  if (t.isF32()) return "f32";
  if (t.isF16()) return "f16";
  if (t.isBF16()) return "bf16";
  if (t.isF64()) return "f64";
  auto it = mlir::dyn_cast<mlir::IntegerType>(t);
  if (!it)
    return "";
  const unsigned w = it.getWidth();
  if (w == 1)
    return "bool";
  if (w != 8 && w != 16 && w != 32 && w != 64)
    return "";
  return (it.isUnsigned() ? "u" : "i") + std::to_string(w);
}

// Non-finite floats as strings: JSON has no literal for them.
json number(double v) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v > 0 ? "inf" : "-inf";
  return v;
}

// Little-endian element bytes of a dense constant, as lowercase hex.
StatusOr<std::string> constantHex(mlir::Operation *op, mlir::ElementsAttr attr) {
  auto dense = mlir::dyn_cast<mlir::DenseElementsAttr>(attr);
  if (!dense)
    return Internal(where(op) + ": constant is not dense");
  mlir::Type et = dense.getType().getElementType();
  const unsigned bits = et.isInteger(1) ? 8 : et.getIntOrFloatBitWidth();
  std::string hex;
  static const char *digits = "0123456789abcdef";
  auto put = [&](uint64_t v) {
    for (unsigned b = 0; b < bits / 8; ++b) {
      const unsigned byte = (v >> (8 * b)) & 0xff;
      hex += digits[byte >> 4];
      hex += digits[byte & 15];
    }
  };
  if (mlir::isa<mlir::FloatType>(et)) {
    for (const llvm::APFloat &x : dense.getValues<llvm::APFloat>())
      put(x.bitcastToAPInt().getZExtValue());
  } else {
    for (const llvm::APInt &x : dense.getValues<llvm::APInt>())
      put(et.isInteger(1) ? (x.isZero() ? 0 : 1) : x.getZExtValue());
  }
  return hex;
}

StatusOr<json> attrJson(mlir::Operation *op, llvm::StringRef name, mlir::Attribute a) {
  if (auto b = mlir::dyn_cast<mlir::BoolAttr>(a))
    return json(b.getValue());
  if (auto i = mlir::dyn_cast<mlir::IntegerAttr>(a))
    return json(i.getValue().getSExtValue());
  if (auto f = mlir::dyn_cast<mlir::FloatAttr>(a))
    return number(f.getValueAsDouble());
  if (auto s = mlir::dyn_cast<mlir::StringAttr>(a))
    return json(s.getValue().str());
  if (auto d = mlir::dyn_cast<mlir::DenseI64ArrayAttr>(a))
    return json(std::vector<int64_t>(d.asArrayRef().begin(), d.asArrayRef().end()));
  return Internal(where(op) + ": attribute '" + name.str() + "' cannot be written to a graph program");
}

}  // namespace

StatusOr<EmittedGraph> emitGraph(mlir::ModuleOp module, const GraphSignature &sig) {
  EmittedGraph out;
  LLMC_RETURN_IF_ERROR(collectWeights(module, out.weights));
  auto func = module.lookupSymbol<mlir::func::FuncOp>("forward");
  if (!func || func.isExternal() || !func.getBody().hasOneBlock())
    return Internal("the module has no func @forward with one block");
  if (sig.inputNames.size() != func.getNumArguments())
    return Internal("graph signature: one input name per argument of @forward expected");

  llvm::DenseMap<mlir::Value, int64_t> index;
  json values = json::array(), ops = json::array(), inputs = json::array(), outputs = json::array();
  std::set<std::string> emittedSet;
  auto addValue = [&](mlir::Value v, mlir::Operation *at) -> StatusOr<int64_t> {
    auto t = mlir::dyn_cast<mlir::RankedTensorType>(v.getType());
    const std::string tn = t ? typeName(t.getElementType()) : "";
    if (tn.empty()) {
      std::string ts;
      llvm::raw_string_ostream os(ts);
      v.getType().print(os);
      return Unsupported((at ? where(at) : std::string("@forward argument")) + ": type " + ts +
                         " is not supported by the graph runtime");
    }
    json shape = json::array();
    for (int64_t d : t.getShape())
      shape.push_back(mlir::ShapedType::isDynamic(d) ? int64_t{-1} : d);
    const int64_t i = static_cast<int64_t>(values.size());
    values.push_back({{"type", tn}, {"shape", shape}});
    index[v] = i;
    return i;
  };
  for (auto [k, arg] : llvm::enumerate(func.getArguments())) {
    LLMC_ASSIGN_OR_RETURN(int64_t i, addValue(arg, nullptr));
    inputs.push_back({{"name", sig.inputNames[k]}, {"value", i}});
  }
  for (mlir::Operation &op : func.getBody().front()) {
    if (auto ret = mlir::dyn_cast<mlir::func::ReturnOp>(&op)) {
      if (ret.getNumOperands() != sig.outputNames.size())
        return Internal("graph signature: one output name per returned value expected");
      for (auto [k, v] : llvm::enumerate(ret.getOperands()))
        outputs.push_back({{"name", sig.outputNames[k]}, {"value", index.at(v)}});
      continue;
    }
    llvm::StringRef full = op.getName().getStringRef();
    if (!full.consume_front("llm.") || !graphOps().count(full.str()))
      return Unsupported("op '" + op.getName().getStringRef().str() +
                         "' cannot run in a graph program (at " + where(&op) + ")");
    if (op.getNumResults() != 1)
      return Internal(where(&op) + ": a generic op has one result");
    json j;
    j["op"] = full.str();
    json ins = json::array();
    for (mlir::Value v : op.getOperands())
      ins.push_back(index.at(v));
    j["in"] = ins;
    json attrs = json::object();
    for (mlir::NamedAttribute na : op.getAttrs()) {
      llvm::StringRef name = na.getName().getValue();
      if (name.contains('.'))
        continue;  // dialect annotations
      if (auto ref = mlir::dyn_cast<mlir::FlatSymbolRefAttr>(na.getValue())) {
        const WeightDef *d = out.weights.find(ref.getValue().str());
        if (!d)
          return Internal(where(&op) + ": weight @" + ref.getValue().str() + " is not defined");
        attrs[name.str()] = d->tableName();
        if (emittedSet.insert(d->symbol).second)
          out.weights.emitted.push_back(d->symbol);
        continue;
      }
      if (auto el = mlir::dyn_cast<mlir::ElementsAttr>(na.getValue())) {
        LLMC_ASSIGN_OR_RETURN(std::string hex, constantHex(&op, el));
        attrs["data"] = std::move(hex);
        continue;
      }
      LLMC_ASSIGN_OR_RETURN(json v, attrJson(&op, name, na.getValue()));
      attrs[name.str()] = std::move(v);
    }
    j["attrs"] = std::move(attrs);
    LLMC_ASSIGN_OR_RETURN(int64_t o, addValue(op.getResult(0), &op));
    j["out"] = o;
    ops.push_back(std::move(j));
    std::string key = full.str();
    if (auto fn = op.getAttrOfType<mlir::StringAttr>("fn"))
      key += "." + fn.getValue().str();
    ++out.opCounts[key];
  }
  out.graph["version"] = engine::kGraphFormatVersion;
  out.graph["kind"] = sig.tokenLM ? "token_lm" : "tensors";
  out.graph["values"] = std::move(values);
  out.graph["ops"] = std::move(ops);
  out.graph["inputs"] = std::move(inputs);
  out.graph["outputs"] = std::move(outputs);
  return out;
}

}  // namespace llmc::codegen

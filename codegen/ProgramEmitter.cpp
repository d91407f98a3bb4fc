//===- ProgramEmitter.cpp - final llm IR -> engine Program JSON -----------===//
//
// Owned by the compiler (cc). Value numbering: op results in program order; the function's
// token-id argument is -1. `rows` is "last" for results whose row count is the static 1 that
// llm.last_token produces, "all" otherwise. Attributes are copied generically (numbers, bools,
// strings, dense arrays); FlatSymbolRefAttrs become `weights` entries named by weight-table name.
//
//===----------------------------------------------------------------------===//
#include "llmc/Codegen/ProgramEmitter.h"

#include "llmc/Dialect/LLM/IR/LLMOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/raw_ostream.h"

#include <set>

namespace llmc::codegen {
namespace {

using nlohmann::json;

// Ops the runtime executes (runtime/include/llmc/runtime/Program.h, design.md's op table).
const std::set<std::string> &runtimeOps() {
  static const std::set<std::string> ops = {
      "embedding", "position_embedding", "rms_norm", "layer_norm", "add_rms_norm", "linear",
      "split",     "rope",               "attention", "qkv_attention", "silu",     "gelu",
      "add",       "mul",                "glu",       "last_token"};
  return ops;
}

std::string opString(mlir::Operation *op) {
  std::string s;
  llvm::raw_string_ostream os(s);
  op->getLoc().print(os);
  return op->getName().getStringRef().str() + " at " + s;
}

// A non-weight attribute as JSON, or an error naming the op and attribute.
StatusOr<json> attrToJson(mlir::Operation *op, llvm::StringRef name, mlir::Attribute a) {
  if (auto b = mlir::dyn_cast<mlir::BoolAttr>(a))
    return json(b.getValue());
  if (auto i = mlir::dyn_cast<mlir::IntegerAttr>(a))
    return json(i.getValue().getSExtValue());
  // Widening f32 -> double is exact, so the runtime's float gets back the same bits.
  if (auto f = mlir::dyn_cast<mlir::FloatAttr>(a))
    return json(f.getValueAsDouble());
  if (auto s = mlir::dyn_cast<mlir::StringAttr>(a))
    return json(s.getValue().str());
  if (auto d = mlir::dyn_cast<mlir::DenseF32ArrayAttr>(a)) {
    json arr = json::array();
    for (float v : d.asArrayRef())
      arr.push_back(static_cast<double>(v));
    return arr;
  }
  if (auto d = mlir::dyn_cast<mlir::DenseI64ArrayAttr>(a)) {
    json arr = json::array();
    for (int64_t v : d.asArrayRef())
      arr.push_back(v);
    return arr;
  }
  if (auto arrAttr = mlir::dyn_cast<mlir::ArrayAttr>(a)) {
    json arr = json::array();
    for (mlir::Attribute e : arrAttr) {
      if (mlir::isa<mlir::ArrayAttr>(e))
        return Internal(opString(op) + ": attribute '" + name.str() + "' is a nested array");
      LLMC_ASSIGN_OR_RETURN(json v, attrToJson(op, name, e));
      arr.push_back(std::move(v));
    }
    return arr;
  }
  return Internal(opString(op) + ": attribute '" + name.str() +
                  "' has a type the program format cannot carry");
}

}  // namespace

Status collectWeights(mlir::ModuleOp module, WeightPlan &plan) {
  mlir::SymbolTableCollection tables;
  for (mlir::Operation &op : module.getBody()->getOperations()) {
    auto w = mlir::dyn_cast<llm::WeightOpInterface>(&op);
    if (!w)
      continue;
    WeightDef d;
    d.symbol = mlir::SymbolTable::getSymbolName(&op).str();
    mlir::FailureOr<llvm::SmallVector<int64_t>> shape = w.computeShape(tables, 0);
    mlir::FailureOr<llvm::StringRef> dtype = w.computeDType(tables, 0);
    if (mlir::failed(shape) || mlir::failed(dtype))
      return Internal("weight @" + d.symbol + ": shape or dtype cannot be derived");
    d.shape.assign(shape->begin(), shape->end());
    if (!engine::parseDType(dtype->str(), &d.dtype))
      return Internal("weight @" + d.symbol + ": unknown dtype '" + dtype->str() + "'");
    if (auto src = mlir::dyn_cast<llm::WeightOp>(&op)) {
      d.kind = WeightDef::Kind::kSource;
      d.source = src.getSource().str();
    } else if (auto cat = mlir::dyn_cast<llm::WeightConcatOp>(&op)) {
      d.kind = WeightDef::Kind::kConcat;
      d.axis = static_cast<int64_t>(cat.getAxis());
      for (mlir::Attribute p : cat.getParts())
        d.operands.push_back(mlir::cast<mlir::FlatSymbolRefAttr>(p).getValue().str());
    } else if (auto tr = mlir::dyn_cast<llm::WeightTransposeOp>(&op)) {
      d.kind = WeightDef::Kind::kTranspose;
      d.operands.push_back(tr.getInput().str());
    } else {
      return Internal(opString(&op) + ": unknown weight symbol op");
    }
    plan.defs.emplace(d.symbol, std::move(d));
  }
  return Status::Ok();
}

StatusOr<EmittedProgram> emitProgram(mlir::ModuleOp module) {
  EmittedProgram out;
  LLMC_RETURN_IF_ERROR(collectWeights(module, out.weights));

  auto func = module.lookupSymbol<mlir::func::FuncOp>("forward");
  if (!func || func.isExternal())
    return Internal("the module has no func @forward with a body");
  if (!func.getBody().hasOneBlock() || func.getNumArguments() != 1)
    return Internal("func @forward must have one block and one argument (the token ids)");
  auto arena = func->getAttrOfType<mlir::IntegerAttr>("llm.arena_per_token");
  if (!arena)
    return Internal("func @forward has no llm.arena_per_token: the memory plan did not run");
  out.arenaPerToken = arena.getInt();

  llvm::DenseMap<mlir::Value, int64_t> valueIndex;
  valueIndex[func.getArgument(0)] = -1;
  json values = json::array(), steps = json::array();
  std::set<std::string> emittedSet;
  int64_t output = -1;

  for (mlir::Operation &op : func.getBody().front()) {
    if (auto ret = mlir::dyn_cast<mlir::func::ReturnOp>(&op)) {
      if (ret.getNumOperands() != 1 || !valueIndex.count(ret.getOperand(0)) ||
          valueIndex[ret.getOperand(0)] < 0)
        return Internal("func @forward must return one value computed by an op");
      output = valueIndex[ret.getOperand(0)];
      continue;
    }
    llvm::StringRef full = op.getName().getStringRef();
    if (!full.consume_front("llm.") || !runtimeOps().count(full.str()))
      return Unsupported("op '" + op.getName().getStringRef().str() +
                         "' has no runtime kernel (in the final IR at " + opString(&op) + ")");
    json step;
    step["op"] = full.str();
    json ins = json::array();
    for (mlir::Value v : op.getOperands()) {
      auto it = valueIndex.find(v);
      if (it == valueIndex.end())
        return Internal(opString(&op) + ": operand defined outside the function body order");
      ins.push_back(it->second);
    }
    step["in"] = ins;

    auto offsets = op.getAttrOfType<mlir::DenseI64ArrayAttr>("llm.offset");
    if (!offsets || offsets.size() != static_cast<int64_t>(op.getNumResults()))
      return Internal(opString(&op) + ": no llm.offset for every result: the memory plan did not run");
    json outs = json::array();
    for (auto [i, r] : llvm::enumerate(op.getResults())) {
      auto type = mlir::dyn_cast<mlir::RankedTensorType>(r.getType());
      if (!type || type.getRank() != 2 || type.isDynamicDim(1))
        return Internal(opString(&op) + ": result is not a [T, W] activation");
      json val;
      val["width"] = type.getDimSize(1);
      val["offset"] = offsets[i];
      val["rows"] = (!type.isDynamicDim(0) && type.getDimSize(0) == 1) ? "last" : "all";
      int64_t idx = static_cast<int64_t>(values.size());
      values.push_back(std::move(val));
      valueIndex[r] = idx;
      outs.push_back(idx);
    }
    step["out"] = outs;

    json weights = json::object(), attrs = json::object();
    for (mlir::NamedAttribute na : op.getAttrs()) {
      llvm::StringRef name = na.getName().getValue();
      if (name == "llm.offset")
        continue;
      if (auto ref = mlir::dyn_cast<mlir::FlatSymbolRefAttr>(na.getValue())) {
        const WeightDef *d = out.weights.find(ref.getValue().str());
        if (!d)
          return Internal(opString(&op) + ": weight @" + ref.getValue().str() + " is not defined");
        weights[name.str()] = d->tableName();
        if (emittedSet.insert(d->symbol).second)
          out.weights.emitted.push_back(d->symbol);
        continue;
      }
      LLMC_ASSIGN_OR_RETURN(json v, attrToJson(&op, name, na.getValue()));
      attrs[name.str()] = std::move(v);
    }
    if (!weights.empty())
      step["weights"] = std::move(weights);
    step["attrs"] = std::move(attrs);
    steps.push_back(std::move(step));
    ++out.opCounts[full.str()];
  }
  if (output < 0)
    return Internal("func @forward has no return");

  // Two symbols with the same weight-table name would make the engine's index ambiguous.
  std::set<std::string> tableNames;
  for (const std::string &s : out.weights.emitted)
    if (!tableNames.insert(out.weights.defs.at(s).tableName()).second)
      return Internal("two weights share the weight-table name '" +
                      out.weights.defs.at(s).tableName() + "'");

  out.program["arena_per_token"] = out.arenaPerToken;
  out.program["values"] = std::move(values);
  out.program["steps"] = std::move(steps);
  out.program["output"] = output;
  return out;
}

}  // namespace llmc::codegen

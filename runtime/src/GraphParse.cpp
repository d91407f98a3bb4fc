// GraphParse.cpp - parses and checks the `graph` section (docs/graph-program.md).
//
// Checked before anything runs: the version, every value's type and shape, each op's name,
// operand count, attribute types and value indices (SSA: every value defined once, before use),
// constants' byte counts, weight names and shapes, and the inputs/outputs of each kind.
#include <cmath>
#include <map>
#include <set>

#include "EngineParse.h"
#include "JsonUtil.h"
#include "llmc/runtime/EngineFormat.h"

namespace llmc {

namespace {

struct GSpec {
  GOp op;
  const char* name;
  int minIn, maxIn;
  std::set<std::string> attrs;
};

const std::vector<GSpec>& gspecs() {
  static const std::vector<GSpec> s = {
      {GOp::kConstant, "constant", 0, 0, {"data"}},
      {GOp::kWeightValue, "weight_value", 0, 0, {"weight"}},
      {GOp::kPositions, "positions", 0, 0, {}},
      {GOp::kAffineInts, "affine_ints", 0, 0, {"scale", "offset"}},
      {GOp::kCausalMask, "causal_mask", 0, 0, {"sliding_window", "masked_value"}},
      {GOp::kUnary, "unary", 1, 1, {"fn"}},
      {GOp::kBinary, "binary", 2, 2, {"fn"}},
      {GOp::kWhere, "where", 3, 3, {}},
      {GOp::kCast, "cast", 1, 1, {}},
      {GOp::kMatMul, "matmul", 2, 2, {}},
      {GOp::kReduce, "reduce", 1, 1, {"fn", "axes", "keepdims"}},
      {GOp::kSoftmax, "softmax", 1, 1, {"axis"}},
      {GOp::kCumSum, "cumsum", 1, 1, {"axis", "exclusive", "reverse"}},
      {GOp::kSdpa, "sdpa", 3, 4, {"scale", "is_causal"}},
      {GOp::kReshape, "reshape", 1, 1, {}},
      {GOp::kTranspose, "transpose", 1, 1, {"perm"}},
      {GOp::kExpand, "expand", 1, 1, {}},
      {GOp::kSlice, "slice", 1, 1, {"starts", "ends", "axes", "steps"}},
      {GOp::kConcat, "concat", 1, 1 << 20, {"axis"}},
      {GOp::kGather, "gather", 2, 2, {"axis"}},
      {GOp::kGatherND, "gather_nd", 2, 2, {"batch_dims"}},
      {GOp::kRange, "range", 3, 3, {}},
      {GOp::kTrilu, "trilu", 1, 1, {"upper", "k"}},
  };
  return s;
}

const char* kTypeNames[] = {"f32", "f16", "bf16", "f64", "i8", "i16", "i32", "i64",
                            "u8",  "u16", "u32",  "u64", "bool"};

const std::set<std::string>& unaryFns() {
  static const std::set<std::string> s = {"neg", "sqrt", "reciprocal", "exp",  "log",   "sigmoid",
                                          "tanh", "erf", "cos",        "sin",  "abs",   "relu",
                                          "not", "isnan", "isinf",     "floor", "ceil", "identity"};
  return s;
}
const std::set<std::string>& binaryFns() {
  static const std::set<std::string> s = {"add", "sub", "mul", "div", "pow", "max", "min", "mod",
                                          "and", "or",  "xor", "eq",  "lt",  "le",  "gt",  "ge"};
  return s;
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

const char* gtypeName(GType t) { return kTypeNames[static_cast<int>(t)]; }

bool parseGType(const std::string& name, GType* out) {
  for (int k = 0; k < 13; ++k) {
    if (name == kTypeNames[k]) {
      *out = static_cast<GType>(k);
      return true;
    }
  }
  return false;
}

bool gtypeIsFloat(GType t) {
  return t == GType::kF32 || t == GType::kF16 || t == GType::kBF16 || t == GType::kF64;
}

size_t gtypeBytes(GType t) {
  switch (t) {
    case GType::kI8: case GType::kU8: case GType::kBool: return 1;
    case GType::kF16: case GType::kBF16: case GType::kI16: case GType::kU16: return 2;
    case GType::kF32: case GType::kI32: case GType::kU32: return 4;
    default: return 8;
  }
}

const char* gopName(GOp op) {
  for (const GSpec& s : gspecs())
    if (s.op == op) return s.name;
  return "?";
}

namespace detail {

using namespace json_util;

namespace {

Status readNumberOrSpecial(const json& v, const std::string& where, double* out) {
  // Non-finite floats are strings: JSON has no literal for them.
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "inf") *out = INFINITY;
    else if (s == "-inf") *out = -INFINITY;
    else if (s == "nan") *out = NAN;
    else return typeError(where, "a number, \"inf\", \"-inf\" or \"nan\"");
    return Status::Ok();
  }
  return readFloat(v, where, out);
}

int64_t staticNumel(const std::vector<int64_t>& shape, bool* dynamic) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) *dynamic = true;
    else n *= d;
  }
  return n;
}

Status parseOp(const json& j, const std::string& where0, const std::vector<WeightInfo>& weights,
               const GraphProgram& g, GraphOp* op) {
  LLMC_RETURN_IF_ERROR(requireObject(j, where0));
  std::string name;
  const json* v = member(j, "op");
  if (!v) return missing(where0 + ".op");
  LLMC_RETURN_IF_ERROR(readString(*v, where0 + ".op", &name));
  const GSpec* spec = nullptr;
  for (const GSpec& s : gspecs())
    if (name == s.name) spec = &s;
  if (!spec) return InvalidArgument(where0 + ": unknown op '" + name + "'");
  op->op = spec->op;
  const std::string where = where0 + " (" + name + ")";
  std::vector<int64_t> raw;
  const json* in = member(j, "in");
  if (!in) return missing(where + ".in");
  LLMC_RETURN_IF_ERROR(readIntArray(*in, where + ".in", &raw));
  if (static_cast<int>(raw.size()) < spec->minIn || static_cast<int>(raw.size()) > spec->maxIn)
    return InvalidArgument(where + ": wrong number of inputs (" + std::to_string(raw.size()) + ")");
  for (int64_t r : raw) {
    if (r < 0 || r >= static_cast<int64_t>(g.values.size()))
      return InvalidArgument(where + ": input value index " + std::to_string(r) + " out of range");
    op->in.push_back(static_cast<int>(r));
  }
  const json* out = member(j, "out");
  if (!out) return missing(where + ".out");
  int64_t o = 0;
  LLMC_RETURN_IF_ERROR(readInt(*out, where + ".out", &o));
  if (o < 0 || o >= static_cast<int64_t>(g.values.size()))
    return InvalidArgument(where + ": output value index " + std::to_string(o) + " out of range");
  op->out = static_cast<int>(o);
  const GraphValue& ov = g.values[op->out];

  const json* attrs = member(j, "attrs");
  if (attrs && !attrs->is_object()) return typeError(where + ".attrs", "an object");
  static const json kEmpty = json::object();
  const json& a = attrs ? *attrs : kEmpty;
  for (auto it = a.begin(); it != a.end(); ++it)
    if (!spec->attrs.count(it.key()))
      return InvalidArgument(where + ": unknown attribute '" + it.key() + "'");
  auto req = [&](const char* key) -> const json* { return member(a, key); };
  auto needInt = [&](const char* key, int64_t* dst, bool required) -> Status {
    const json* x = req(key);
    if (!x) return required ? missing(where + ".attrs." + key) : Status::Ok();
    return readInt(*x, where + ".attrs." + key, dst);
  };
  auto needInts = [&](const char* key, std::vector<int64_t>* dst) -> Status {
    const json* x = req(key);
    if (!x) return missing(where + ".attrs." + key);
    return readIntArray(*x, where + ".attrs." + key, dst);
  };
  auto optBool = [&](const char* key, bool* dst) -> Status {
    const json* x = req(key);
    return x ? readBool(*x, where + ".attrs." + key, dst) : Status::Ok();
  };
  auto needFn = [&](const std::set<std::string>& fns) -> Status {
    const json* x = req("fn");
    if (!x) return missing(where + ".attrs.fn");
    LLMC_RETURN_IF_ERROR(readString(*x, where + ".attrs.fn", &op->fn));
    if (!fns.count(op->fn)) return InvalidArgument(where + ": unknown function '" + op->fn + "'");
    return Status::Ok();
  };

  switch (op->op) {
    case GOp::kConstant: {
      const json* x = req("data");
      if (!x) return missing(where + ".attrs.data");
      std::string hex;
      LLMC_RETURN_IF_ERROR(readString(*x, where + ".attrs.data", &hex));
      bool dyn = false;
      const int64_t n = staticNumel(ov.shape, &dyn);
      if (dyn) return InvalidArgument(where + ": a constant needs a static shape");
      if (hex.size() != static_cast<size_t>(n) * gtypeBytes(ov.type) * 2)
        return InvalidArgument(where + ": data has " + std::to_string(hex.size() / 2) + " bytes, the " +
                               gtypeName(ov.type) + " shape needs " + std::to_string(n * gtypeBytes(ov.type)));
      op->data.resize(hex.size() / 2);
      for (size_t k = 0; k < op->data.size(); ++k) {
        int hi = hexDigit(hex[2 * k]), lo = hexDigit(hex[2 * k + 1]);
        if (hi < 0 || lo < 0) return InvalidArgument(where + ".attrs.data: not lowercase hex");
        op->data[k] = static_cast<uint8_t>(hi * 16 + lo);
      }
      break;
    }
    case GOp::kWeightValue: {
      const json* x = req("weight");
      if (!x) return missing(where + ".attrs.weight");
      std::string wname;
      LLMC_RETURN_IF_ERROR(readString(*x, where + ".attrs.weight", &wname));
      for (size_t k = 0; k < weights.size(); ++k)
        if (weights[k].name == wname) op->weight = static_cast<int>(k);
      if (op->weight < 0) return InvalidArgument(where + ": weight '" + wname + "' is not in the weight table");
      if (weights[op->weight].shape != ov.shape || !gtypeIsFloat(ov.type))
        return InvalidArgument(where + ": weight '" + wname + "' does not have the value's shape and a float type");
      break;
    }
    case GOp::kAffineInts:
      LLMC_RETURN_IF_ERROR(needInts("scale", &op->ints));
      LLMC_RETURN_IF_ERROR(needInts("offset", &op->ints2));
      if (op->ints.size() != op->ints2.size()) return InvalidArgument(where + ": scale and offset differ in length");
      break;
    case GOp::kCausalMask: {
      LLMC_RETURN_IF_ERROR(needInt("sliding_window", &op->window, false));
      const json* x = req("masked_value");
      if (x) LLMC_RETURN_IF_ERROR(readNumberOrSpecial(*x, where + ".attrs.masked_value", &op->number));
      if (ov.shape.size() < 2) return InvalidArgument(where + ": the mask needs rank >= 2");
      break;
    }
    case GOp::kUnary: LLMC_RETURN_IF_ERROR(needFn(unaryFns())); break;
    case GOp::kBinary: LLMC_RETURN_IF_ERROR(needFn(binaryFns())); break;
    case GOp::kReduce: {
      LLMC_RETURN_IF_ERROR(needFn({"mean", "sum", "max", "min", "prod"}));
      LLMC_RETURN_IF_ERROR(needInts("axes", &op->ints));
      op->flag = true;
      LLMC_RETURN_IF_ERROR(optBool("keepdims", &op->flag));
      break;
    }
    case GOp::kSoftmax:
    case GOp::kConcat:
    case GOp::kGather: LLMC_RETURN_IF_ERROR(needInt("axis", &op->axis, true)); break;
    case GOp::kCumSum:
      LLMC_RETURN_IF_ERROR(needInt("axis", &op->axis, true));
      LLMC_RETURN_IF_ERROR(optBool("exclusive", &op->flag));
      LLMC_RETURN_IF_ERROR(optBool("reverse", &op->flag2));
      break;
    case GOp::kSdpa: {
      const json* x = req("scale");
      if (!x) return missing(where + ".attrs.scale");
      LLMC_RETURN_IF_ERROR(readNumberOrSpecial(*x, where + ".attrs.scale", &op->number));
      LLMC_RETURN_IF_ERROR(optBool("is_causal", &op->flag));
      break;
    }
    case GOp::kTranspose: LLMC_RETURN_IF_ERROR(needInts("perm", &op->ints)); break;
    case GOp::kSlice:
      LLMC_RETURN_IF_ERROR(needInts("starts", &op->starts));
      LLMC_RETURN_IF_ERROR(needInts("ends", &op->ends));
      LLMC_RETURN_IF_ERROR(needInts("axes", &op->axes));
      LLMC_RETURN_IF_ERROR(needInts("steps", &op->steps));
      if (op->ends.size() != op->starts.size() || op->axes.size() != op->starts.size() ||
          op->steps.size() != op->starts.size())
        return InvalidArgument(where + ": starts, ends, axes and steps differ in length");
      break;
    case GOp::kGatherND: LLMC_RETURN_IF_ERROR(needInt("batch_dims", &op->axis, true)); break;
    case GOp::kTrilu:
      LLMC_RETURN_IF_ERROR(needInt("k", &op->axis, true));
      LLMC_RETURN_IF_ERROR(optBool("upper", &op->flag));
      break;
    default: break;
  }
  return Status::Ok();
}

Status parseIO(const json* v, const std::string& where, const GraphProgram& g, std::vector<GraphIO>* out) {
  if (!v) return missing(where);
  if (!v->is_array()) return typeError(where, "an array");
  for (size_t k = 0; k < v->size(); ++k) {
    const std::string w = where + "[" + std::to_string(k) + "]";
    const json& e = (*v)[k];
    LLMC_RETURN_IF_ERROR(requireObject(e, w));
    GraphIO io;
    const json* n = member(e, "name");
    const json* idx = member(e, "value");
    if (!n || !idx) return missing(w + ".name/value");
    LLMC_RETURN_IF_ERROR(readString(*n, w + ".name", &io.name));
    int64_t i = 0;
    LLMC_RETURN_IF_ERROR(readInt(*idx, w + ".value", &i));
    if (i < 0 || i >= static_cast<int64_t>(g.values.size())) return InvalidArgument(w + ": value index out of range");
    io.value = static_cast<int>(i);
    for (const GraphIO& other : *out)
      if (other.name == io.name) return InvalidArgument(w + ": duplicate name '" + io.name + "'");
    out->push_back(std::move(io));
  }
  return Status::Ok();
}

}  // namespace

Status parseGraphProgram(const json& j, const std::vector<WeightInfo>& weights, GraphProgram* out) {
  const std::string where = "graph";
  LLMC_RETURN_IF_ERROR(requireObject(j, where));
  int64_t version = 0;
  const json* v = member(j, "version");
  if (!v) return missing(where + ".version");
  LLMC_RETURN_IF_ERROR(readInt(*v, where + ".version", &version));
  if (version != engine::kGraphFormatVersion)
    return InvalidArgument(where + ": version " + std::to_string(version) + ", this llmc reads version " +
                           std::to_string(engine::kGraphFormatVersion));
  GraphProgram g;
  std::string kind;
  v = member(j, "kind");
  if (!v) return missing(where + ".kind");
  LLMC_RETURN_IF_ERROR(readString(*v, where + ".kind", &kind));
  if (kind == "token_lm") g.kind = GraphKind::kTokenLM;
  else if (kind == "tensors") g.kind = GraphKind::kTensors;
  else return InvalidArgument(where + ".kind: '" + kind + "' is not token_lm or tensors");

  v = member(j, "values");
  if (!v) return missing(where + ".values");
  if (!v->is_array()) return typeError(where + ".values", "an array");
  for (size_t k = 0; k < v->size(); ++k) {
    const std::string w = where + ".values[" + std::to_string(k) + "]";
    const json& e = (*v)[k];
    LLMC_RETURN_IF_ERROR(requireObject(e, w));
    GraphValue gv;
    std::string t;
    const json* tj = member(e, "type");
    const json* sj = member(e, "shape");
    if (!tj || !sj) return missing(w + ".type/shape");
    LLMC_RETURN_IF_ERROR(readString(*tj, w + ".type", &t));
    if (!parseGType(t, &gv.type)) return InvalidArgument(w + ".type: unknown element type '" + t + "'");
    LLMC_RETURN_IF_ERROR(readIntArray(*sj, w + ".shape", &gv.shape));
    for (int64_t d : gv.shape) {
      if (d < -1 || (d == -1 && g.kind == GraphKind::kTensors))
        return InvalidArgument(w + ".shape: bad dimension " + std::to_string(d));
    }
    g.values.push_back(std::move(gv));
  }
  LLMC_RETURN_IF_ERROR(parseIO(member(j, "inputs"), where + ".inputs", g, &g.inputs));
  LLMC_RETURN_IF_ERROR(parseIO(member(j, "outputs"), where + ".outputs", g, &g.outputs));

  // SSA: inputs are defined first, then each op defines its output once, after its operands.
  std::vector<bool> defined(g.values.size(), false);
  for (const GraphIO& io : g.inputs) {
    if (defined[io.value]) return InvalidArgument(where + ".inputs: value " + std::to_string(io.value) + " twice");
    defined[io.value] = true;
  }
  v = member(j, "ops");
  if (!v) return missing(where + ".ops");
  if (!v->is_array()) return typeError(where + ".ops", "an array");
  for (size_t k = 0; k < v->size(); ++k) {
    const std::string w = where + ".ops[" + std::to_string(k) + "]";
    GraphOp op;
    LLMC_RETURN_IF_ERROR(parseOp((*v)[k], w, weights, g, &op));
    for (int i : op.in)
      if (!defined[i]) return InvalidArgument(w + ": reads value " + std::to_string(i) + " before it is written");
    if (defined[op.out]) return InvalidArgument(w + ": value " + std::to_string(op.out) + " is written twice");
    defined[op.out] = true;
    g.ops.push_back(std::move(op));
  }
  if (g.outputs.empty()) return InvalidArgument(where + ".outputs: empty");
  for (const GraphIO& io : g.outputs)
    if (!defined[io.value]) return InvalidArgument(where + ".outputs: '" + io.name + "' is never written");
  if (g.kind == GraphKind::kTokenLM) {
    if (g.inputs.size() != 1 || g.outputs.size() != 1)
      return InvalidArgument(where + ": a token_lm graph has one input (the ids) and one output (the logits)");
    const GraphValue& ids = g.values[g.inputs[0].value];
    if (ids.type != GType::kI32 || ids.shape != std::vector<int64_t>{-1})
      return InvalidArgument(where + ": the token ids must be i32 [-1]");
    if (!gtypeIsFloat(g.values[g.outputs[0].value].type))
      return InvalidArgument(where + ": the logits must be floating-point");
  }
  *out = std::move(g);
  return Status::Ok();
}

}  // namespace detail
}  // namespace llmc

// Program.cpp - parses the `program` JSON: op names, operands, weights and typed attributes.
//
// Each op's schema (operand counts, weight slots, attributes) is the table below; the semantic
// checks (widths, shapes, SSA order, memory plan) are in ProgramCheck.cpp.
#include <cmath>
#include <set>

#include "EngineParse.h"
#include "JsonUtil.h"

namespace llmc {

namespace {

struct OpSpec {
  OpKind kind;
  const char* name;
  int numIn;
  int numOut;                 // -1: any number >= 1 (split)
  bool weight;                // `weight` required
  bool bias;                  // `bias` allowed (optional)
  std::set<std::string> attrs;     // allowed
  std::set<std::string> required;  // subset of attrs
};

const std::vector<OpSpec>& opSpecs() {
  static const std::vector<OpSpec> specs = [] {
    const std::set<std::string> attn = {"layer", "num_heads", "num_kv_heads", "head_dim", "scale",
                                        "sliding_window"};
    const std::set<std::string> attnReq = {"layer", "num_heads", "num_kv_heads", "head_dim"};
    std::set<std::string> qkv = attn, qkvReq = attnReq;
    qkv.insert({"rotary_dim", "inv_freq", "interleaved"});
    qkvReq.insert("inv_freq");
    return std::vector<OpSpec>{
        {OpKind::kEmbedding, "embedding", 1, 1, true, false, {"scale"}, {}},
        {OpKind::kPositionEmbedding, "position_embedding", 1, 1, true, false, {}, {}},
        {OpKind::kRmsNorm, "rms_norm", 1, 1, true, false, {"eps", "unit_offset"}, {"eps"}},
        {OpKind::kLayerNorm, "layer_norm", 1, 1, true, true, {"eps"}, {"eps"}},
        {OpKind::kAddRmsNorm, "add_rms_norm", 2, 2, true, false, {"eps", "unit_offset"}, {"eps"}},
        {OpKind::kLinear, "linear", 1, 1, true, true, {}, {}},
        {OpKind::kSplit, "split", 1, -1, false, false, {"sizes"}, {"sizes"}},
        {OpKind::kRope, "rope", 1, 1, false, false, {"head_dim", "rotary_dim", "inv_freq", "interleaved"},
         {"head_dim", "inv_freq"}},
        {OpKind::kAttention, "attention", 3, 1, false, false, attn, attnReq},
        {OpKind::kQkvAttention, "qkv_attention", 1, 1, false, false, qkv, qkvReq},
        {OpKind::kSilu, "silu", 1, 1, false, false, {}, {}},
        {OpKind::kGelu, "gelu", 1, 1, false, false, {"approximate"}, {}},
        {OpKind::kAdd, "add", 2, 1, false, false, {}, {}},
        {OpKind::kMul, "mul", 2, 1, false, false, {}, {}},
        {OpKind::kGlu, "glu", 1, 1, false, false, {"activation"}, {}},
        {OpKind::kLastToken, "last_token", 1, 1, false, false, {}, {}},
    };
  }();
  return specs;
}

const OpSpec* findSpec(OpKind k) {
  for (const OpSpec& s : opSpecs()) {
    if (s.kind == k) return &s;
  }
  return nullptr;
}

}  // namespace

const char* opKindName(OpKind op) {
  const OpSpec* s = findSpec(op);
  return s ? s->name : "?";
}

bool opIsInPlaceSafe(OpKind op) {
  switch (op) {
    case OpKind::kEmbedding:
    case OpKind::kPositionEmbedding:
    case OpKind::kRmsNorm:
    case OpKind::kLayerNorm:
    case OpKind::kAddRmsNorm:
    case OpKind::kRope:
    case OpKind::kSilu:
    case OpKind::kGelu:
    case OpKind::kAdd:
    case OpKind::kMul:
      return true;
    default:
      return false;
  }
}

bool parseOpKind(const std::string& name, OpKind* op) {
  for (const OpSpec& s : opSpecs()) {
    if (name == s.name) {
      *op = s.kind;
      return true;
    }
  }
  return false;
}

namespace detail {

using namespace json_util;

namespace {

Status parseAttr(const std::string& key, const json& v, const std::string& where, StepAttrs* a) {
  double f = 0;
  int64_t i = 0;
  std::string s;
  if (key == "scale" || key == "eps") {
    LLMC_RETURN_IF_ERROR(readFloat(v, where, &f));
    if (!std::isfinite(f)) return InvalidArgument(where + ": not finite");
    (key == "scale" ? a->scale : a->eps) = static_cast<float>(f);
  } else if (key == "unit_offset") {
    return readBool(v, where, &a->unitOffset);
  } else if (key == "interleaved") {
    return readBool(v, where, &a->interleaved);
  } else if (key == "sizes") {
    return readIntArray(v, where, &a->sizes);
  } else if (key == "inv_freq") {
    return readFloatArray(v, where, &a->invFreq);
  } else if (key == "head_dim" || key == "rotary_dim" || key == "layer" || key == "num_heads" ||
             key == "num_kv_heads" || key == "sliding_window") {
    LLMC_RETURN_IF_ERROR(readInt(v, where, &i));
    if (i < 0) return InvalidArgument(where + ": must be >= 0, got " + std::to_string(i));
    if (key == "head_dim") a->headDim = i;
    else if (key == "rotary_dim") a->rotaryDim = i;
    else if (key == "layer") a->layer = i;
    else if (key == "num_heads") a->numHeads = i;
    else if (key == "num_kv_heads") a->numKvHeads = i;
    else a->slidingWindow = i;
  } else if (key == "approximate") {
    LLMC_RETURN_IF_ERROR(readString(v, where, &s));
    if (s == "none") a->approximate = GeluApprox::kNone;
    else if (s == "tanh") a->approximate = GeluApprox::kTanh;
    else return InvalidArgument(where + ": '" + s + "' is not none or tanh");
  } else if (key == "activation") {
    LLMC_RETURN_IF_ERROR(readString(v, where, &s));
    if (s == "silu") a->activation = GluActivation::kSilu;
    else if (s == "gelu_tanh") a->activation = GluActivation::kGeluTanh;
    else if (s == "gelu") a->activation = GluActivation::kGelu;
    else return InvalidArgument(where + ": '" + s + "' is not silu, gelu_tanh or gelu");
  } else {
    return Internal(where + ": no parser for this attribute");
  }
  return Status::Ok();
}

Status parseIndices(const json* v, const std::string& where, std::vector<int>* out) {
  if (!v) return missing(where);
  std::vector<int64_t> raw;
  LLMC_RETURN_IF_ERROR(readIntArray(*v, where, &raw));
  out->clear();
  for (int64_t r : raw) {
    if (r < -1 || r > (int64_t(1) << 30)) return InvalidArgument(where + ": bad value index " + std::to_string(r));
    out->push_back(static_cast<int>(r));
  }
  return Status::Ok();
}

Status parseStep(const json& j, size_t index, const std::vector<WeightInfo>& weights, size_t numValues,
                 Step* step) {
  std::string where = "program.steps[" + std::to_string(index) + "]";
  LLMC_RETURN_IF_ERROR(requireObject(j, where));
  std::string name;
  const json* v = member(j, "op");
  if (!v) return missing(where + ".op");
  LLMC_RETURN_IF_ERROR(readString(*v, where + ".op", &name));
  if (!parseOpKind(name, &step->op)) return InvalidArgument(where + ": unknown op '" + name + "'");
  const OpSpec& spec = *findSpec(step->op);
  where += " (" + name + ")";

  LLMC_RETURN_IF_ERROR(parseIndices(member(j, "in"), where + ".in", &step->in));
  LLMC_RETURN_IF_ERROR(parseIndices(member(j, "out"), where + ".out", &step->out));
  if (static_cast<int>(step->in.size()) != spec.numIn) {
    return InvalidArgument(where + ": takes " + std::to_string(spec.numIn) + " inputs, has " +
                           std::to_string(step->in.size()));
  }
  if (spec.numOut >= 0 ? static_cast<int>(step->out.size()) != spec.numOut : step->out.empty()) {
    return InvalidArgument(where + ": wrong number of outputs (" + std::to_string(step->out.size()) + ")");
  }
  for (int i : step->in) {
    bool idsOk = (step->op == OpKind::kEmbedding);
    if ((i == -1 && !idsOk) || (i != -1 && idsOk) || i >= static_cast<int>(numValues)) {
      return InvalidArgument(where + ": input value index " + std::to_string(i) + " out of range (" +
                             std::to_string(numValues) + " values" +
                             (idsOk ? "; embedding takes the token ids, -1)" : ")"));
    }
  }
  for (int o : step->out) {
    if (o < 0 || o >= static_cast<int>(numValues)) {
      return InvalidArgument(where + ": output value index " + std::to_string(o) + " out of range (" +
                             std::to_string(numValues) + " values)");
    }
  }

  // Weights: name -> index into the weight table.
  const json* w = member(j, "weights");
  if (w && !w->is_object()) return typeError(where + ".weights", "an object");
  if (w) {
    for (auto it = w->begin(); it != w->end(); ++it) {
      const std::string& slot = it.key();
      if (!(slot == "weight" && spec.weight) && !(slot == "bias" && spec.bias)) {
        return InvalidArgument(where + ".weights: '" + name + "' has no weight slot '" + slot + "'");
      }
      std::string wname;
      LLMC_RETURN_IF_ERROR(readString(it.value(), where + ".weights." + slot, &wname));
      int found = -1;
      for (size_t k = 0; k < weights.size(); ++k) {
        if (weights[k].name == wname) found = static_cast<int>(k);
      }
      if (found < 0) {
        return InvalidArgument(where + ": weight '" + wname + "' is not in the weight table");
      }
      (slot == "weight" ? step->weight : step->bias) = found;
    }
  }
  if (spec.weight && step->weight < 0) return InvalidArgument(where + ": missing weight 'weight'");

  // Attributes. Keys with a '.' are dialect-prefixed annotations (llm.offset) and are ignored.
  const json* a = member(j, "attrs");
  if (a && !a->is_object()) return typeError(where + ".attrs", "an object");
  std::set<std::string> seen;
  if (a) {
    for (auto it = a->begin(); it != a->end(); ++it) {
      const std::string& key = it.key();
      if (key.find('.') != std::string::npos) continue;
      if (!spec.attrs.count(key)) {
        return InvalidArgument(where + ".attrs: '" + name + "' has no attribute '" + key + "'");
      }
      LLMC_RETURN_IF_ERROR(parseAttr(key, it.value(), where + ".attrs." + key, &step->attrs));
      seen.insert(key);
    }
  }
  for (const std::string& r : spec.required) {
    if (!seen.count(r)) return missing(where + ".attrs." + r);
  }
  StepAttrs& at = step->attrs;
  if ((step->op == OpKind::kRope || step->op == OpKind::kQkvAttention) && !seen.count("rotary_dim")) {
    at.rotaryDim = at.headDim;
  }
  if ((step->op == OpKind::kAttention || step->op == OpKind::kQkvAttention) && !seen.count("scale")) {
    at.scale = at.headDim > 0 ? static_cast<float>(1.0 / std::sqrt(static_cast<double>(at.headDim))) : 1.0f;
  }
  return Status::Ok();
}

}  // namespace

Status parseProgram(const json& program, const std::vector<WeightInfo>& weights, Program* out) {
  LLMC_RETURN_IF_ERROR(requireObject(program, "program"));
  Program p;
  const json* v = member(program, "arena_per_token");
  if (!v) return missing("program.arena_per_token");
  LLMC_RETURN_IF_ERROR(readInt(*v, "program.arena_per_token", &p.arenaPerToken));
  if (p.arenaPerToken <= 0) return InvalidArgument("program.arena_per_token: must be positive");

  const json* vals = member(program, "values");
  if (!vals) return missing("program.values");
  if (!vals->is_array()) return typeError("program.values", "an array");
  for (size_t i = 0; i < vals->size(); ++i) {
    const std::string where = "program.values[" + std::to_string(i) + "]";
    const json& e = (*vals)[i];
    LLMC_RETURN_IF_ERROR(requireObject(e, where));
    ValueInfo vi;
    if (!(v = member(e, "width"))) return missing(where + ".width");
    LLMC_RETURN_IF_ERROR(readInt(*v, where + ".width", &vi.width));
    if (!(v = member(e, "offset"))) return missing(where + ".offset");
    LLMC_RETURN_IF_ERROR(readInt(*v, where + ".offset", &vi.offset));
    std::string rows = "all";
    if ((v = member(e, "rows"))) LLMC_RETURN_IF_ERROR(readString(*v, where + ".rows", &rows));
    if (rows == "all") vi.rows = Rows::kAll;
    else if (rows == "last") vi.rows = Rows::kLast;
    else return InvalidArgument(where + ".rows: '" + rows + "' is not all or last");
    if (vi.width <= 0 || vi.offset < 0 || vi.offset + vi.width > p.arenaPerToken) {
      return InvalidArgument(where + ": [offset " + std::to_string(vi.offset) + ", width " +
                             std::to_string(vi.width) + "] does not fit arena_per_token " +
                             std::to_string(p.arenaPerToken));
    }
    p.values.push_back(vi);
  }

  const json* steps = member(program, "steps");
  if (!steps) return missing("program.steps");
  if (!steps->is_array()) return typeError("program.steps", "an array");
  for (size_t i = 0; i < steps->size(); ++i) {
    Step s;
    LLMC_RETURN_IF_ERROR(parseStep((*steps)[i], i, weights, p.values.size(), &s));
    p.steps.push_back(std::move(s));
  }
  if (p.steps.empty()) return InvalidArgument("program.steps: empty");

  if (!(v = member(program, "output"))) return missing("program.output");
  int64_t o = 0;
  LLMC_RETURN_IF_ERROR(readInt(*v, "program.output", &o));
  if (o < 0 || o >= static_cast<int64_t>(p.values.size())) {
    return InvalidArgument("program.output: value index " + std::to_string(o) + " out of range (" +
                           std::to_string(p.values.size()) + " values)");
  }
  p.output = static_cast<int>(o);
  *out = std::move(p);
  return Status::Ok();
}

}  // namespace detail
}  // namespace llmc

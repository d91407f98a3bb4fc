// KernelPlan.cpp - the kernel specialisations a program needs (see KernelPlan.h).
#include "KernelPlan.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace llmc::cuda {

using nlohmann::json;

bool KernelSpec::operator<(const KernelSpec& o) const {
  return std::make_tuple(static_cast<int>(kind), static_cast<int>(dtype), a, b, c) <
         std::make_tuple(static_cast<int>(o.kind), static_cast<int>(o.dtype), o.a, o.b, o.c);
}
bool KernelSpec::operator==(const KernelSpec& o) const {
  return kind == o.kind && dtype == o.dtype && a == o.a && b == o.b && c == o.c;
}

const char* gluActName(int act) {
  switch (act) {
    case kGluSilu: return "silu";
    case kGluGeluTanh: return "gelu_tanh";
    case kGluGelu: return "gelu";
  }
  return nullptr;
}

std::string kernelName(const KernelSpec& s) {
  const std::string dt = engine::dtypeName(s.dtype);
  const std::string a = std::to_string(s.a), b = std::to_string(s.b);
  switch (s.kind) {
    case KernelKind::kGemv: return "llmc_gemv_" + dt + "_k" + a + "_m" + b;
    case KernelKind::kRmsNorm: return "llmc_rms_norm_" + dt + "_h" + a;
    case KernelKind::kAddRmsNorm: return "llmc_add_rms_norm_" + dt + "_h" + a;
    case KernelKind::kLayerNorm: return "llmc_layer_norm_" + dt + "_h" + a;
    case KernelKind::kRopeKvWrite: return "llmc_rope_kv_write_" + dt + "_d" + a;
    case KernelKind::kAttnDecode: return "llmc_attn_decode_" + dt + "_d" + a + "_g" + b;
    case KernelKind::kAttnPrefill: return "llmc_attn_prefill_" + dt + "_d" + a;
    case KernelKind::kAttnPrefillTc: return "llmc_attn_prefill_tc_" + dt + "_d" + a;
    case KernelKind::kGemvGlu: {
      const char* act = gluActName(s.c);
      return std::string("llmc_gemv_glu_") + (act ? act : "unknown") + "_" + dt + "_k" + a + "_m" + b;
    }
    case KernelKind::kGemvPair: return "llmc_gemv_pair_" + dt + "_k" + a + "_m" + b;
    case KernelKind::kGemvTriple: return "llmc_gemv_triple_" + dt + "_k" + a + "_m" + b;
    case KernelKind::kGraphOps: return "llmc_g_map";
  }
  return "llmc_unknown";
}

std::string embeddingKernelName(engine::DType w) {
  return std::string("llmc_embedding_") + engine::dtypeName(w);
}
std::string positionEmbeddingKernelName(engine::DType w) {
  return std::string("llmc_position_embedding_") + engine::dtypeName(w);
}
std::string castKernelName(engine::DType to) { return std::string("llmc_cast_") + engine::dtypeName(to); }

const std::vector<std::string>& fixedKernelNames() {
  static const std::vector<std::string> names = {
      "llmc_add", "llmc_argmax", "llmc_argmax_rows", "llmc_attn_combine", "llmc_cast_bf16", "llmc_cast_f16",
      "llmc_copy_cols", "llmc_embedding_bf16", "llmc_embedding_f16", "llmc_embedding_f32",
      "llmc_fill_random_bf16", "llmc_fill_random_f32", "llmc_gather_rows", "llmc_gelu",
      "llmc_gelu_tanh", "llmc_glu_gelu", "llmc_glu_gelu_tanh", "llmc_glu_silu", "llmc_mul",
      "llmc_position_embedding_bf16", "llmc_position_embedding_f16", "llmc_position_embedding_f32",
      "llmc_read_sum", "llmc_rope", "llmc_sample_prep", "llmc_sample_select", "llmc_silu"};
  return names;
}

const std::vector<std::string>& graphKernelNames() {
  static const std::vector<std::string> names = {
      "llmc_g_causal_mask", "llmc_g_cumsum", "llmc_g_from_bytes", "llmc_g_gather", "llmc_g_gather_nd",
      "llmc_g_map",         "llmc_g_matmul", "llmc_g_range",      "llmc_g_reduce", "llmc_g_sdpa",
      "llmc_g_softmax",     "llmc_g_trilu"};
  return names;
}

int decodeGroup(int numHeads, int numKvHeads) {
  if (numKvHeads <= 0 || numHeads % numKvHeads != 0) return 1;
  const int gs = numHeads / numKvHeads;
  for (int g = std::min(gs, kMaxDecodeGroup); g > 1; --g)
    if (gs % g == 0) return g;
  return 1;
}

std::vector<std::string> KernelPlan::names() const {
  std::vector<std::string> out;
  out.reserve(kernels.size() + fixedKernelNames().size());
  for (const KernelSpec& s : kernels) {
    if (s.kind == KernelKind::kGraphOps) out.insert(out.end(), graphKernelNames().begin(), graphKernelNames().end());
    else out.push_back(kernelName(s));
  }
  for (const std::string& n : fixedKernelNames()) out.push_back(n);
  return out;
}

namespace {

// Reads an integer attribute; absent -> *out unchanged when optional.
Status intAttr(const json& attrs, const char* key, const std::string& where, bool required,
               int64_t* out) {
  auto it = attrs.find(key);
  if (it == attrs.end()) {
    if (required) return InvalidArgument(where + ": attribute '" + key + "' is missing");
    return Status::Ok();
  }
  if (!it->is_number()) return InvalidArgument(where + ": attribute '" + key + "' is not a number");
  *out = it->is_number_integer() ? it->get<int64_t>() : static_cast<int64_t>(it->get<double>());
  return Status::Ok();
}

// The weight bound to `slot` ("weight", "bias") of a step, or nullptr when the step has none.
StatusOr<const WeightDesc*> stepWeight(const json& step, const char* slot, const std::string& where,
                                       const WeightLookup& weights) {
  auto ws = step.find("weights");
  if (ws == step.end() || !ws->is_object()) return static_cast<const WeightDesc*>(nullptr);
  auto it = ws->find(slot);
  if (it == ws->end()) return static_cast<const WeightDesc*>(nullptr);
  if (!it->is_string()) return InvalidArgument(where + ": weights." + slot + " is not a string");
  const WeightDesc* w = weights(it->get<std::string>());
  if (w == nullptr)
    return InvalidArgument(where + ": weight '" + it->get<std::string>() + "' is not in the weight table");
  return w;
}

}  // namespace

namespace {

// The single value id of a step's "in" / "out" array; -1 when it is not exactly one integer.
int64_t singleValue(const json& step, const char* key) {
  auto it = step.find(key);
  if (it == step.end() || !it->is_array() || it->size() != 1 || !(*it)[0].is_number_integer()) return -1;
  return (*it)[0].get<int64_t>();
}

bool isOp(const json& step, const char* op) {
  if (!step.is_object()) return false;
  auto it = step.find("op");
  return it != step.end() && it->is_string() && it->get<std::string>() == op;
}

}  // namespace

std::vector<GluFusion> findGluFusions(const json& program) {
  std::vector<GluFusion> out;
  if (!program.is_object()) return out;
  auto stepsIt = program.find("steps");
  if (stepsIt == program.end() || !stepsIt->is_array()) return out;
  const json& steps = *stepsIt;
  int64_t output = -1;
  if (auto o = program.find("output"); o != program.end() && o->is_number_integer()) output = o->get<int64_t>();
  std::map<int64_t, int> readers;  // value id -> number of (step, slot) reads
  for (const json& st : steps) {
    if (!st.is_object()) continue;
    auto in = st.find("in");
    if (in == st.end() || !in->is_array()) continue;
    for (const json& v : *in)
      if (v.is_number_integer()) ++readers[v.get<int64_t>()];
  }
  for (size_t i = 0; i + 1 < steps.size(); ++i) {
    if (!isOp(steps[i], "linear") || !isOp(steps[i + 1], "glu")) continue;
    const int64_t v = singleValue(steps[i], "out");
    if (v < 0 || v == output || singleValue(steps[i + 1], "in") != v || readers[v] != 1) continue;
    out.push_back({static_cast<int>(i), static_cast<int>(i + 1)});
  }
  return out;
}

StatusOr<KernelPlan> planKernels(const json& program, const WeightLookup& weights) {
  if (!program.is_object()) return InvalidArgument("program: expected an object");
  auto stepsIt = program.find("steps");
  if (stepsIt == program.end() || !stepsIt->is_array())
    return InvalidArgument("program.steps: expected an array");
  const json& steps = *stepsIt;

  KernelPlan plan;
  // The KV dtype first: attention steps come before the first linear layer of a later block,
  // but the rule is "the first linear weight of the program" wherever it is.
  for (size_t i = 0; i < steps.size(); ++i) {
    const json& st = steps[i];
    if (!st.is_object()) continue;
    auto op = st.find("op");
    if (op == st.end() || !op->is_string() || op->get<std::string>() != "linear") continue;
    const std::string where = "program.steps[" + std::to_string(i) + "] (linear)";
    LLMC_ASSIGN_OR_RETURN(const WeightDesc* w, stepWeight(st, "weight", where, weights));
    if (w != nullptr) {
      plan.kvDtype = w->dtype;
      break;
    }
  }

  std::set<KernelSpec> specs;
  for (size_t i = 0; i < steps.size(); ++i) {
    const json& st = steps[i];
    auto opIt = st.is_object() ? st.find("op") : st.end();
    if (!st.is_object() || opIt == st.end() || !opIt->is_string())
      return InvalidArgument("program.steps[" + std::to_string(i) + "]: expected an object with a string 'op'");
    const std::string op = opIt->get<std::string>();
    const std::string where = "program.steps[" + std::to_string(i) + "] (" + op + ")";
    static const json kEmpty = json::object();
    auto attrsIt = st.find("attrs");
    const json& attrs = attrsIt != st.end() && attrsIt->is_object() ? *attrsIt : kEmpty;

    if (op == "linear") {
      LLMC_ASSIGN_OR_RETURN(const WeightDesc* w, stepWeight(st, "weight", where, weights));
      if (w == nullptr) return InvalidArgument(where + ": no weight");
      if (w->shape.size() != 2) return InvalidArgument(where + ": weight is not 2-D");
      const int64_t k = w->shape[1];
      if (k <= 0 || k > (1 << 20)) return Unsupported(where + ": K = " + std::to_string(k) + " is out of range");
      // Several rows per warp (LLMC_CUDA_GEMV_PAIR, LLMC_CUDA_GEMV_TRIPLE) where gemvPairPlanned /
      // gemvTriplePlanned say.
      const bool qkv = i + 1 < steps.size() && isOp(steps[i + 1], "qkv_attention");
      const bool beforeNorm = i + 1 < steps.size() && isOp(steps[i + 1], "add_rms_norm");
      const int64_t n = w->shape[0];
      for (int m = 1; m <= kMaxGemvRows; ++m) {
        specs.insert({KernelKind::kGemv, w->dtype, static_cast<int>(k), m});
        if (gemvPairPlanned(qkv, beforeNorm, n, m)) specs.insert({KernelKind::kGemvPair, w->dtype, static_cast<int>(k), m});
        if (gemvTriplePlanned(qkv, n, m)) specs.insert({KernelKind::kGemvTriple, w->dtype, static_cast<int>(k), m});
      }
    } else if (op == "rms_norm" || op == "add_rms_norm" || op == "layer_norm") {
      LLMC_ASSIGN_OR_RETURN(const WeightDesc* w, stepWeight(st, "weight", where, weights));
      if (w == nullptr || w->shape.size() != 1) return InvalidArgument(where + ": expected a 1-D weight");
      const int64_t h = w->shape[0];
      if (h <= 0 || h > 65536)
        return Unsupported(where + ": width " + std::to_string(h) + " is out of range for the CUDA norm kernels (1..65536)");
      if (op == "layer_norm") {
        LLMC_ASSIGN_OR_RETURN(const WeightDesc* b, stepWeight(st, "bias", where, weights));
        if (b != nullptr && b->dtype != w->dtype)
          return Unsupported(where + ": bias and weight have different dtypes");
      }
      const KernelKind kind = op == "rms_norm"       ? KernelKind::kRmsNorm
                              : op == "add_rms_norm" ? KernelKind::kAddRmsNorm
                                                     : KernelKind::kLayerNorm;
      specs.insert({kind, w->dtype, static_cast<int>(h), 0});
    } else if (op == "attention" || op == "qkv_attention") {
      int64_t hd = 0, nh = 0, nkv = 0;
      LLMC_RETURN_IF_ERROR(intAttr(attrs, "head_dim", where, true, &hd));
      LLMC_RETURN_IF_ERROR(intAttr(attrs, "num_heads", where, true, &nh));
      LLMC_RETURN_IF_ERROR(intAttr(attrs, "num_kv_heads", where, true, &nkv));
      if (nh <= 0 || nkv <= 0 || nh % nkv != 0)
        return InvalidArgument(where + ": num_heads " + std::to_string(nh) + " is not a multiple of num_kv_heads " + std::to_string(nkv));
      const int64_t vec = 16 / static_cast<int64_t>(engine::dtypeBytes(plan.kvDtype));
      if (hd <= 0 || hd % vec != 0 || hd > 256)
        return Unsupported(where + ": head_dim " + std::to_string(hd) + " is not a multiple of " +
                           std::to_string(vec) + " up to 256 (CUDA attention reads 16-byte vectors of the " +
                           engine::dtypeName(plan.kvDtype) + " KV cache)");
      const int h = static_cast<int>(hd);
      specs.insert({KernelKind::kRopeKvWrite, plan.kvDtype, h, 0});
      specs.insert({KernelKind::kAttnDecode, plan.kvDtype, h, decodeGroup(static_cast<int>(nh), static_cast<int>(nkv))});
      specs.insert({KernelKind::kAttnPrefill, plan.kvDtype, h, 0});
      if (prefillTcSupported(plan.kvDtype, h)) specs.insert({KernelKind::kAttnPrefillTc, plan.kvDtype, h, 0});
    }
    // Every other op runs on a fixed kernel (fixedKernelNames()).
  }
  // Decode's gate/up projections fused with their GLU: the GEMV-GLU kernels at M = 1..8.
  for (const GluFusion& f : findGluFusions(program)) {
    const std::string where = "program.steps[" + std::to_string(f.linear) + "] (linear)";
    LLMC_ASSIGN_OR_RETURN(const WeightDesc* w, stepWeight(steps[f.linear], "weight", where, weights));
    if (w == nullptr || w->shape.size() != 2 || w->shape[0] % 2 != 0) continue;  // not a gate/up weight
    std::string act = "silu";  // llm.glu's default
    if (auto a = steps[f.glu].find("attrs"); a != steps[f.glu].end() && a->is_object()) {
      auto it = a->find("activation");
      if (it != a->end() && it->is_string()) act = it->get<std::string>();
    }
    int code = -1;
    for (int c : {kGluSilu, kGluGeluTanh, kGluGelu})
      if (act == gluActName(c)) code = c;
    if (code < 0) continue;  // the program parser names the bad activation
    for (int m = 1; m <= kMaxGemvRows; ++m)
      specs.insert({KernelKind::kGemvGlu, w->dtype, static_cast<int>(w->shape[1]), m, code});
  }
  plan.kernels.assign(specs.begin(), specs.end());
  return plan;
}

}  // namespace llmc::cuda

//===- Phi3Family.cpp - Phi-3 ---------------------------------------------===//
//
// Owned by arch. Phi-3's block is Llama's with fused checkpoint projections:
//   self_attn.qkv_proj = [q | k | v] rows (one linear + llm.split in the IR), and
//   mlp.gate_up_proj   = [gate | up] rows, which is exactly llm.glu's input layout.
// No biases anywhere; RMSNorm; rotate-half RoPE over head_dim * partial_rotary_factor dims;
// sliding_window (e.g. 2047 in Phi-3-mini-4k) applies to every layer when not null.
// Defaults are transformers' Phi3Config (max_position_embeddings 4096, rms_norm_eps 1e-5).
//
// LongRoPE (rope type "longrope", spelled "su" or "yarn" in older Phi-3 configs; the 128k
// models) is rejected: its frequencies switch between short_factor and long_factor with the
// sequence length and it scales cos/sin by an attention factor, which a fixed inv_freq table
// cannot express. transformers itself accepts only "default" and "longrope" for Phi-3.
//
//===----------------------------------------------------------------------===//
#include "llmc/Models/ModelFamily.h"

namespace llmc::models {
namespace {

// The rope type named in rope_parameters / rope_scaling ("default" when there is none); ""
// when the object is malformed (parseRopeKeys reports that).
std::string ropeType(const ConfigReader &r) {
  const nlohmann::json *params = r.find("rope_parameters");
  if (!params)
    params = r.find("rope_scaling");
  if (!params || !params->is_object())
    return params ? "" : "default";
  for (const char *key : {"rope_type", "type"}) {
    auto it = params->find(key);
    if (it != params->end() && it->is_string())
      return it->get<std::string>();
  }
  return "default";
}

class Phi3Family final : public ModelFamily {
 public:
  const char *name() const override { return "phi3"; }
  std::vector<std::string> modelTypes() const override { return {"phi3"}; }

  Status parseConfig(const ConfigReader &r, ModelConfig &cfg) const override {
    const std::string rope = ropeType(r);
    if (rope == "longrope" || rope == "su" || rope == "yarn")
      return Unsupported(
          r.fileName() + ": rope_scaling type '" + rope +
          "' (Phi-3 LongRoPE, the 128k-context models) is not supported: its frequencies "
          "depend on the sequence length (short_factor up to original_max_position_embeddings, "
          "long_factor beyond) and it scales cos/sin by an attention factor, which a fixed "
          "inv_freq table cannot express. Phi-3 checkpoints without rope_scaling (the 4k "
          "models) are supported");
    if (!rope.empty() && rope != "default")
      return Unsupported(r.fileName() + ": rope_scaling type '" + rope +
                         "' is not supported for phi3 (transformers accepts only default and "
                         "longrope for Phi-3; llmc supports default)");

    cfg.normEps = 1e-5;
    cfg.ropeTheta = 10000.0;
    cfg.maxPositionEmbeddings = 4096;
    cfg.tieWordEmbeddings = false;
    cfg.hiddenAct = "silu";
    cfg.slidingWindow = 0;  // Phi3Config: sliding_window = None
    LLMC_RETURN_IF_ERROR(parseStandardDecoderKeys(r, cfg));

    // Phi3Attention / Phi3MLP have no biases whatever the file says.
    cfg.attentionBias = false;
    cfg.mlpBias = false;
    // Phi3Model applies one sliding-window mask (or none) to every layer.
    cfg.layerTypes.clear();
    if (cfg.hiddenAct == "silu" || cfg.hiddenAct == "swish")
      cfg.hiddenAct = "silu";
    else if (cfg.hiddenAct == "gelu_pytorch_tanh" || cfg.hiddenAct == "gelu_new")
      cfg.hiddenAct = "gelu_tanh";
    else if (cfg.hiddenAct != "gelu")
      return Unsupported(r.fileName() + ": hidden_act '" + cfg.hiddenAct +
                         "' is not supported (supported: silu, gelu, gelu_pytorch_tanh, gelu_new)");
    return Status::Ok();
  }

  StatusOr<ArchitectureSpec> describe(const ModelConfig &cfg) const override {
    ArchitectureSpec spec;
    spec.norm = NormKind::kRms;
    spec.gatedMlp = true;
    spec.mlpActivation = cfg.hiddenAct;  // already the llm dialect's spelling
    spec.interleavedRope = false;

    // The llama layout with q/k/v and gate/up each stored as one projection.
    spec.names = llamaStyleTensorNames();
    LayerTensorNames &l = spec.names.layer;
    l.q = l.k = l.v = l.gate = l.up = "";
    l.qkv = llamaStyleLayerTensor("self_attn.qkv_proj.weight");
    l.gateUp = llamaStyleLayerTensor("mlp.gate_up_proj.weight");
    return spec;
  }
};

}  // namespace

const ModelFamily &phi3Family() {
  static const Phi3Family family;
  return family;
}

}  // namespace llmc::models

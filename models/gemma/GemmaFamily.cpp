//===- GemmaFamily.cpp - Gemma (v1) ---------------------------------------===//
//
// Owned by arch. Gemma's block is Llama's with four differences, all expressible in the spec:
//   - RMSNorm multiplies by (1 + w) (weights are stored as offsets from 1): NormKind::kRmsUnitOffset.
//   - the gated MLP uses GELU with the tanh approximation (GeGLU).
//   - token embeddings are multiplied by sqrt(hidden_size), computed in the model's dtype (HF
//     rounds the normalizer to bf16 for a bf16 model: sqrt(3072) = 55.4256 becomes 55.5).
//   - head_dim comes from the config (256 in the released models, not hidden / heads); the
//     embeddings are tied by default.
// Defaults are transformers' GemmaConfig for keys a file may omit (head_dim 256, 16 kv heads).
// Gemma 2 (soft-capped attention and final logits, extra norms around the MLP) is not covered:
// the runtime has no soft-capping, see docs/importers.md.
//
//===----------------------------------------------------------------------===//
#include "llmc/Models/ModelFamily.h"

#include <cmath>

namespace llmc::models {
namespace {

// HF activation name -> llm dialect name; "" = not supported. `legacyGelu`: Gemma configs
// released with hidden_act "gelu" meant the tanh approximation, and transformers maps it so.
std::string gemmaActivation(const std::string &hf, bool legacyGelu) {
  if (hf == "gelu_pytorch_tanh" || hf == "gelu_new")
    return "gelu_tanh";
  if (hf == "gelu")
    return legacyGelu ? "gelu_tanh" : "gelu";
  if (hf == "silu" || hf == "swish")
    return "silu";
  return "";
}

class GemmaFamily final : public ModelFamily {
 public:
  const char *name() const override { return "gemma"; }
  std::vector<std::string> modelTypes() const override { return {"gemma"}; }

  Status parseConfig(const ConfigReader &r, ModelConfig &cfg) const override {
    cfg.normEps = 1e-6;
    cfg.ropeTheta = 10000.0;
    cfg.maxPositionEmbeddings = 8192;
    cfg.tieWordEmbeddings = true;
    cfg.hiddenAct = "gelu_pytorch_tanh";
    // GemmaConfig's own defaults differ from the llama-style ones parseStandardDecoderKeys
    // applies (head_dim 256, not hidden / heads; 16 key/value heads, not one per head): fill
    // them into a copy of the file's object so every later check sees transformers' values.
    nlohmann::json withDefaults = r.root();
    for (const auto &[key, value] : {std::pair<const char *, int>{"head_dim", 256},
                                     std::pair<const char *, int>{"num_key_value_heads", 16}})
      if (!r.has(key))
        withDefaults[key] = value;
    const ConfigReader dr(withDefaults, r.fileName());
    LLMC_RETURN_IF_ERROR(parseStandardDecoderKeys(dr, cfg));

    // Gemma's attention and MLP: biases on q, k, v, o only with attention_bias; none on the MLP.
    cfg.mlpBias = false;
    // GemmaModel builds a plain causal mask: a sliding_window key in the file is not used.
    cfg.slidingWindow = 0;
    cfg.layerTypes.clear();
    bool bidirectional = false;
    LLMC_RETURN_IF_ERROR(r.optionalBool("use_bidirectional_attention", &bidirectional));
    if (bidirectional)
      return Unsupported(r.fileName() +
                         ": use_bidirectional_attention = true is not supported (llmc "
                         "compiles causal language models)");

    // transformers 5 reads hidden_act (mapping the legacy "gelu" to the tanh approximation);
    // transformers 4 read hidden_activation and fell back to the tanh approximation. The
    // released configs agree under both readings; a file where they disagree is ambiguous.
    std::string act = gemmaActivation(cfg.hiddenAct, /*legacyGelu=*/true);
    if (act.empty())
      return Unsupported(r.fileName() + ": hidden_act '" + cfg.hiddenAct +
                         "' is not supported (supported: gelu_pytorch_tanh, gelu_new, gelu, silu)");
    std::string hiddenActivation;
    LLMC_RETURN_IF_ERROR(r.optionalString("hidden_activation", &hiddenActivation));
    if (!hiddenActivation.empty()) {
      std::string old = gemmaActivation(hiddenActivation, /*legacyGelu=*/false);
      if (old != act)
        return r.error("hidden_activation '" + hiddenActivation + "' and hidden_act '" +
                       cfg.hiddenAct + "' name different activations (transformers 4 used the "
                       "first, transformers 5 the second); make them agree");
    }
    cfg.hiddenAct = act;  // stored in the llm dialect's spelling
    return Status::Ok();
  }

  StatusOr<ArchitectureSpec> describe(const ModelConfig &cfg) const override {
    ArchitectureSpec spec;
    spec.norm = NormKind::kRmsUnitOffset;
    spec.gatedMlp = true;
    spec.mlpActivation = cfg.hiddenAct;
    spec.interleavedRope = false;
    // hidden_size ** 0.5 (a Python float), rounded to the weights' dtype by the importer.
    spec.embeddingScale = std::sqrt(static_cast<double>(cfg.hiddenSize));
    spec.embeddingScaleInWeightDtype = true;

    spec.names = llamaStyleTensorNames();
    if (cfg.attentionBias) {
      addLlamaStyleQkvBiases(spec.names.layer);
      spec.names.layer.oBias = llamaStyleLayerTensor("self_attn.o_proj.bias");
    }
    return spec;
  }
};

}  // namespace

const ModelFamily &gemmaFamily() {
  static const GemmaFamily family;
  return family;
}

}  // namespace llmc::models

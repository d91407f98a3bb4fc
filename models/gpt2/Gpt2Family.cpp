//===- Gpt2Family.cpp - GPT-2 ---------------------------------------------===//
//
// Owned by the compiler (cc). GPT-2's block: LayerNorm (with bias) -> c_attn (one [q|k|v]
// projection) -> causal multi-head attention without RoPE -> c_proj -> residual; LayerNorm ->
// c_fc -> gelu (tanh approximation, "gelu_new") -> c_proj -> residual. Learned absolute
// positions (wpe) are added to the token embeddings; the head is tied to wte. Its linears are
// Conv1D modules, stored [in, out]: the importer transposes them (llm.weight_transpose).
// Keys are GPT2Config's (n_embd, n_layer, n_head, n_positions, n_inner, layer_norm_epsilon,
// activation_function).
//
//===----------------------------------------------------------------------===//
#include "llmc/Models/ModelFamily.h"

namespace llmc::models {
namespace {

class Gpt2Family final : public ModelFamily {
 public:
  const char *name() const override { return "gpt2"; }
  std::vector<std::string> modelTypes() const override { return {"gpt2"}; }
  bool acceptsArchitecture(const std::string &arch) const override {
    return arch == "GPT2LMHeadModel" || ModelFamily::acceptsArchitecture(arch);
  }

  Status parseConfig(const ConfigReader &r, ModelConfig &cfg) const override {
    LLMC_RETURN_IF_ERROR(r.requireInt("n_embd", &cfg.hiddenSize));
    LLMC_RETURN_IF_ERROR(r.requireInt("n_layer", &cfg.numLayers));
    LLMC_RETURN_IF_ERROR(r.requireInt("n_head", &cfg.numHeads));
    LLMC_RETURN_IF_ERROR(r.requireInt("vocab_size", &cfg.vocabSize));
    cfg.maxPositionEmbeddings = 1024;
    LLMC_RETURN_IF_ERROR(r.optionalInt("n_positions", &cfg.maxPositionEmbeddings));
    if (cfg.hiddenSize <= 0 || cfg.numLayers <= 0 || cfg.numHeads <= 0 || cfg.vocabSize <= 0 ||
        cfg.maxPositionEmbeddings <= 0)
      return r.error("n_embd, n_layer, n_head, vocab_size and n_positions must be positive");
    if (cfg.hiddenSize % cfg.numHeads != 0)
      return r.error("n_embd (" + std::to_string(cfg.hiddenSize) +
                     ") is not a multiple of n_head (" + std::to_string(cfg.numHeads) + ")");
    cfg.numKvHeads = cfg.numHeads;
    cfg.headDim = cfg.hiddenSize / cfg.numHeads;
    cfg.intermediateSize = 4 * cfg.hiddenSize;  // n_inner = null means 4 * n_embd
    LLMC_RETURN_IF_ERROR(r.optionalInt("n_inner", &cfg.intermediateSize));
    cfg.normEps = 1e-5;
    LLMC_RETURN_IF_ERROR(r.optionalDouble("layer_norm_epsilon", &cfg.normEps));
    cfg.hiddenAct = "gelu_new";
    LLMC_RETURN_IF_ERROR(r.optionalString("activation_function", &cfg.hiddenAct));
    if (cfg.hiddenAct != "gelu_new" && cfg.hiddenAct != "gelu_pytorch_tanh" && cfg.hiddenAct != "gelu")
      return Unsupported(r.fileName() + ": activation_function '" + cfg.hiddenAct +
                         "' is not supported (supported: gelu_new, gelu_pytorch_tanh, gelu)");
    cfg.tieWordEmbeddings = true;
    LLMC_RETURN_IF_ERROR(r.optionalBool("tie_word_embeddings", &cfg.tieWordEmbeddings));
    bool inverseLayerScale = false;
    LLMC_RETURN_IF_ERROR(r.optionalBool("scale_attn_by_inverse_layer_idx", &inverseLayerScale));
    if (inverseLayerScale)
      return Unsupported(r.fileName() + ": scale_attn_by_inverse_layer_idx is not supported");
    bool scaleAttn = true;
    LLMC_RETURN_IF_ERROR(r.optionalBool("scale_attn_weights", &scaleAttn));
    if (!scaleAttn)
      return Unsupported(r.fileName() + ": scale_attn_weights = false is not supported");
    LLMC_RETURN_IF_ERROR(r.optionalIntOrList("bos_token_id", &cfg.bosTokenIds));
    LLMC_RETURN_IF_ERROR(r.optionalIntOrList("eos_token_id", &cfg.eosTokenIds));
    LLMC_RETURN_IF_ERROR(r.optionalString("torch_dtype", &cfg.torchDtype));
    LLMC_RETURN_IF_ERROR(r.optionalString("dtype", &cfg.torchDtype));
    cfg.attentionBias = true;
    cfg.mlpBias = true;
    return Status::Ok();
  }

  StatusOr<ArchitectureSpec> describe(const ModelConfig &cfg) const override {
    ArchitectureSpec spec;
    spec.norm = NormKind::kLayerNorm;
    spec.gatedMlp = false;
    spec.mlpActivation = cfg.hiddenAct == "gelu" ? "gelu" : "gelu_tanh";
    spec.rope = false;
    spec.transposedLinears = true;
    spec.optionalPrefix = "transformer.";
    TensorNameTable &n = spec.names;
    n.embedTokens = "transformer.wte.weight";
    n.positionEmbedding = "transformer.wpe.weight";
    n.finalNorm = "transformer.ln_f.weight";
    n.finalNormBias = "transformer.ln_f.bias";
    n.lmHead = "lm_head.weight";
    LayerTensorNames &l = n.layer;
    const std::string p = "transformer.h.{L}.";
    l.inputNorm = p + "ln_1.weight";
    l.inputNormBias = p + "ln_1.bias";
    l.qkv = p + "attn.c_attn.weight";
    l.qkvBias = p + "attn.c_attn.bias";
    l.o = p + "attn.c_proj.weight";
    l.oBias = p + "attn.c_proj.bias";
    l.postAttentionNorm = p + "ln_2.weight";
    l.postAttentionNormBias = p + "ln_2.bias";
    l.up = p + "mlp.c_fc.weight";
    l.upBias = p + "mlp.c_fc.bias";
    l.down = p + "mlp.c_proj.weight";
    l.downBias = p + "mlp.c_proj.bias";
    return spec;
  }
};

}  // namespace

const ModelFamily &gpt2Family() {
  static const Gpt2Family family;
  return family;
}

}  // namespace llmc::models

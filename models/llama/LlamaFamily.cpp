//===- LlamaFamily.cpp - Llama, Mistral and Qwen2 -------------------------===//
//
// Owned by the compiler (cc). The three share one block: pre-norm RMSNorm, q/k/v/o projections,
// rotate-half RoPE, GQA attention, SwiGLU MLP. They differ only in defaults and biases:
//   llama:   attention_bias puts biases on q, k, v *and* o; mlp_bias on gate, up, down.
//   mistral: no biases; sliding_window defaults to 4096 (null = none).
//   qwen2:   q, k, v always have biases, o never; the window applies only when
//            use_sliding_window is true, and then to layers >= max_window_layers.
// Defaults are transformers' (LlamaConfig, MistralConfig, Qwen2Config) for keys a file may omit.
//
//===----------------------------------------------------------------------===//
#include "llmc/Models/ModelFamily.h"

namespace llmc::models {
namespace {

class LlamaFamily final : public ModelFamily {
 public:
  const char *name() const override { return "llama"; }
  std::vector<std::string> modelTypes() const override { return {"llama", "mistral", "qwen2"}; }

  Status parseConfig(const ConfigReader &r, ModelConfig &cfg) const override {
    cfg.normEps = 1e-6;
    cfg.ropeTheta = 10000.0;
    cfg.hiddenAct = "silu";
    if (cfg.modelType == "llama") {
      cfg.maxPositionEmbeddings = 2048;
    } else if (cfg.modelType == "mistral") {
      cfg.maxPositionEmbeddings = 4096 * 32;
      cfg.slidingWindow = 4096;
    } else {  // qwen2
      cfg.maxPositionEmbeddings = 32768;
      cfg.slidingWindow = 4096;
    }
    LLMC_RETURN_IF_ERROR(parseStandardDecoderKeys(r, cfg));

    if (cfg.modelType == "mistral") {
      cfg.attentionBias = false;  // MistralAttention has no biases whatever the file says
      cfg.mlpBias = false;
    } else if (cfg.modelType == "qwen2") {
      cfg.attentionBias = true;
      cfg.mlpBias = false;
      bool useSliding = false;
      int64_t maxWindowLayers = 28;
      LLMC_RETURN_IF_ERROR(r.optionalBool("use_sliding_window", &useSliding));
      LLMC_RETURN_IF_ERROR(r.optionalInt("max_window_layers", &maxWindowLayers));
      if (!useSliding) {
        cfg.slidingWindow = 0;
        cfg.layerTypes.clear();
      } else if (cfg.layerTypes.empty() && cfg.slidingWindow > 0) {
        for (int64_t i = 0; i < cfg.numLayers; ++i)
          cfg.layerTypes.push_back(i >= maxWindowLayers ? "sliding_attention" : "full_attention");
      }
    }
    if (activationName(cfg.hiddenAct).empty())
      return Unsupported(r.fileName() + ": hidden_act '" + cfg.hiddenAct +
                         "' is not supported (supported: silu, gelu, gelu_pytorch_tanh, gelu_new)");
    return Status::Ok();
  }

  StatusOr<ArchitectureSpec> describe(const ModelConfig &cfg) const override {
    ArchitectureSpec spec;
    spec.norm = NormKind::kRms;
    spec.gatedMlp = true;
    spec.mlpActivation = activationName(cfg.hiddenAct);
    spec.interleavedRope = false;

    spec.names = llamaStyleTensorNames();
    LayerTensorNames &l = spec.names.layer;
    if (cfg.attentionBias) {
      addLlamaStyleQkvBiases(l);
      if (cfg.modelType == "llama")
        l.oBias = llamaStyleLayerTensor("self_attn.o_proj.bias");
    }
    if (cfg.mlpBias) {
      l.gateBias = llamaStyleLayerTensor("mlp.gate_proj.bias");
      l.upBias = llamaStyleLayerTensor("mlp.up_proj.bias");
      l.downBias = llamaStyleLayerTensor("mlp.down_proj.bias");
    }
    return spec;
  }

 private:
  // HF activation name -> llm dialect name ("" = unsupported).
  static std::string activationName(const std::string &hf) {
    if (hf == "silu" || hf == "swish")
      return "silu";
    if (hf == "gelu")
      return "gelu";
    if (hf == "gelu_pytorch_tanh" || hf == "gelu_new")
      return "gelu_tanh";
    return "";
  }
};

}  // namespace

const ModelFamily &llamaFamily() {
  static const LlamaFamily family;
  return family;
}

}  // namespace llmc::models

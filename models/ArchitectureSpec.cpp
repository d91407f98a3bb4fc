//===- ArchitectureSpec.cpp - tensor-name templates -> per-layer names ----===//
//
// Owned by the compiler (cc).
//
//===----------------------------------------------------------------------===//
#include "llmc/Models/ModelFamily.h"

namespace llmc::models {

static std::string substituteLayer(const std::string &pattern, int64_t layer) {
  std::string out = pattern;
  const std::string key = "{L}";
  for (size_t pos = out.find(key); pos != std::string::npos; pos = out.find(key, pos)) {
    std::string idx = std::to_string(layer);
    out.replace(pos, key.size(), idx);
    pos += idx.size();
  }
  return out;
}

std::string llamaStyleLayerTensor(const std::string &suffix) {
  return "model.layers.{L}." + suffix;
}

TensorNameTable llamaStyleTensorNames() {
  TensorNameTable n;
  n.embedTokens = "model.embed_tokens.weight";
  n.finalNorm = "model.norm.weight";
  n.lmHead = "lm_head.weight";
  LayerTensorNames &l = n.layer;
  l.inputNorm = llamaStyleLayerTensor("input_layernorm.weight");
  l.postAttentionNorm = llamaStyleLayerTensor("post_attention_layernorm.weight");
  l.q = llamaStyleLayerTensor("self_attn.q_proj.weight");
  l.k = llamaStyleLayerTensor("self_attn.k_proj.weight");
  l.v = llamaStyleLayerTensor("self_attn.v_proj.weight");
  l.o = llamaStyleLayerTensor("self_attn.o_proj.weight");
  l.gate = llamaStyleLayerTensor("mlp.gate_proj.weight");
  l.up = llamaStyleLayerTensor("mlp.up_proj.weight");
  l.down = llamaStyleLayerTensor("mlp.down_proj.weight");
  return n;
}

void addLlamaStyleQkvBiases(LayerTensorNames &l) {
  l.qBias = llamaStyleLayerTensor("self_attn.q_proj.bias");
  l.kBias = llamaStyleLayerTensor("self_attn.k_proj.bias");
  l.vBias = llamaStyleLayerTensor("self_attn.v_proj.bias");
}

LayerTensorNames ArchitectureSpec::layerNames(int64_t i) const {
  const LayerTensorNames &t = names.layer;
  LayerTensorNames n;
  std::string LayerTensorNames::*fields[] = {
      &LayerTensorNames::inputNorm, &LayerTensorNames::inputNormBias,
      &LayerTensorNames::q,         &LayerTensorNames::k,
      &LayerTensorNames::v,         &LayerTensorNames::o,
      &LayerTensorNames::qBias,     &LayerTensorNames::kBias,
      &LayerTensorNames::vBias,     &LayerTensorNames::oBias,
      &LayerTensorNames::postAttentionNorm, &LayerTensorNames::postAttentionNormBias,
      &LayerTensorNames::gate,      &LayerTensorNames::up,
      &LayerTensorNames::down,      &LayerTensorNames::gateBias,
      &LayerTensorNames::upBias,    &LayerTensorNames::downBias,
      &LayerTensorNames::qkv,       &LayerTensorNames::qkvBias,
      &LayerTensorNames::gateUp};
  for (auto field : fields)
    n.*field = substituteLayer(t.*field, i);
  return n;
}

}  // namespace llmc::models

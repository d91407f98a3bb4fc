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

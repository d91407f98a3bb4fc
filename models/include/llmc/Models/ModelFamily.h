//===- ModelFamily.h - per-architecture knowledge for the importers -*- C++ -*-===//
//
// Owned by the compiler (cc). A ModelFamily knows, for the HF model_types it covers:
//  - how to read its config.json into a ModelConfig (key names, defaults, quirks), and
//  - the ArchitectureSpec: the checkpoint's tensor names and the block structure (norm style,
//    which biases exist, MLP activation) the generic IR builder needs.
// Adding an architecture = one file under models/<family>/ plus one line in models/Registry.cpp.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/Models/ConfigReader.h"
#include "llmc/Models/ModelConfig.h"
#include "llmc/runtime/Status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llmc::models {

enum class NormKind {
  kRms,            // y = x / rms(x) * w
  kRmsUnitOffset,  // y = x / rms(x) * (1 + w)   (Gemma)
  kLayerNorm,      // standard LayerNorm with weight and bias (GPT-2, phi)
};

// Tensor names of one decoder layer; "" = the tensor does not exist in this architecture.
struct LayerTensorNames {
  std::string inputNorm, inputNormBias;
  std::string q, k, v, o;
  std::string qBias, kBias, vBias, oBias;
  // A checkpoint that stores q, k, v as one [q | k | v] projection (GPT-2 c_attn, Phi-3
  // qkv_proj) names it here and leaves q, k, v empty.
  std::string qkv, qkvBias;
  std::string postAttentionNorm, postAttentionNormBias;
  std::string gate, up, down;
  std::string gateBias, upBias, downBias;
  // A fused [gate | up] projection (Phi-3 gate_up_proj); gate and up stay empty.
  std::string gateUp;
};

// Name templates: "{L}" is replaced by the layer index. Filled in by a family as plain data.
struct TensorNameTable {
  std::string embedTokens;
  std::string positionEmbedding;  // learned absolute positions [max_pos, H] (GPT-2); "" = none
  std::string finalNorm, finalNormBias;
  std::string lmHead;  // unused when the embeddings are tied
  LayerTensorNames layer;
};

// The names of HF's llama-style checkpoints ("model.layers.{L}.self_attn.q_proj.weight", ...):
// separate q/k/v and gate/up projections, no biases. Families that share the layout start here.
TensorNameTable llamaStyleTensorNames();
// The q/k/v projection biases of that layout ("model.layers.{L}.self_attn.q_proj.bias", ...).
void addLlamaStyleQkvBiases(LayerTensorNames &l);
// The name of a llama-style layer tensor: "model.layers.{L}." + suffix.
std::string llamaStyleLayerTensor(const std::string &suffix);

// Everything the generic decoder IR builder needs beyond the ModelConfig.
struct ArchitectureSpec {
  NormKind norm = NormKind::kRms;
  bool gatedMlp = true;                 // down(act(gate(x)) * up(x)); false: down(act(up(x)))
  std::string mlpActivation = "silu";   // "silu", "gelu", "gelu_tanh"
  double embeddingScale = 1.0;          // Gemma scales embeddings by sqrt(hidden)
  // Round embeddingScale to the engine's weight dtype (f16/bf16) as the model computes it in
  // its own dtype (HF Gemma: sqrt(3072) = 55.4256 is 55.5 in bf16).
  bool embeddingScaleInWeightDtype = false;
  bool interleavedRope = false;         // HF rotate-half = false
  bool rope = true;                     // false: no rotary embedding (learned positions instead)
  // The checkpoint stores linear weights as [K, N] (GPT-2's Conv1D) instead of nn.Linear's
  // [N, K]; the importer records an llm.weight_transpose for each.
  bool transposedLinears = false;
  // A prefix the checkpoint's names may lack (transformers' base_model_prefix, e.g. GPT-2
  // checkpoints saved from GPT2Model have "h.0..." instead of "transformer.h.0...").
  std::string optionalPrefix;
  TensorNameTable names;

  // The names of layer `i` with "{L}" substituted; absent tensors stay "".
  LayerTensorNames layerNames(int64_t i) const;
};

class ModelFamily {
 public:
  virtual ~ModelFamily() = default;
  // Short, stable name ("llama") recorded in ModelConfig::family.
  virtual const char *name() const = 0;
  // The HF `model_type` values this family covers.
  virtual std::vector<std::string> modelTypes() const = 0;
  // Whether `architectures[0]` names a model whose output is next-token logits.
  virtual bool acceptsArchitecture(const std::string &arch) const {
    const std::string suffix = "ForCausalLM";
    return arch.size() >= suffix.size() &&
           arch.compare(arch.size() - suffix.size(), suffix.size(), suffix) == 0;
  }
  // Fills `cfg` from the config (architecture/modelType are already set). Errors name the file/key.
  virtual Status parseConfig(const ConfigReader &reader, ModelConfig &cfg) const = 0;
  // The tensor names and block structure for a parsed config.
  virtual StatusOr<ArchitectureSpec> describe(const ModelConfig &cfg) const = 0;
};

// The family covering an HF model_type, or nullptr.
const ModelFamily *findFamilyForModelType(const std::string &modelType);
// Every supported model_type, sorted (for "unsupported" error messages).
std::vector<std::string> supportedModelTypes();

// Reads the keys shared by llama-style decoders (hidden_size, heads, rope, eps, ids, ...).
// Families call it and then apply their own defaults and quirks.
Status parseStandardDecoderKeys(const ConfigReader &reader, ModelConfig &cfg);
// Reads rope_theta / rope_scaling / rope_parameters (old and new transformers spellings) into cfg.
// Rope types other than default/linear/llama3 are an "unsupported" error naming the file.
Status parseRopeKeys(const ConfigReader &reader, ModelConfig &cfg);

}  // namespace llmc::models

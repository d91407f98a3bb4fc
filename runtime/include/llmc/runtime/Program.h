// Program.h - the engine's `program` section parsed into typed steps (docs/design.md, "The Program").
//
// Activations live in one f32 arena. A value of width W at per-token offset O occupies elements
// [O*T, (O+W)*T) as a row-major [T, W] matrix, where T is the step's token count; a value with
// rows == kLast holds one row per sequence of the step (its first rows of that space).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llmc {

enum class OpKind {
  kEmbedding,
  kPositionEmbedding,
  kRmsNorm,
  kLayerNorm,
  kAddRmsNorm,
  kLinear,
  kSplit,
  kRope,
  kAttention,
  kQkvAttention,
  kSilu,
  kGelu,
  kAdd,
  kMul,
  kGlu,
  kLastToken,
};

// The op's name in the program JSON ("rms_norm"); parseOpKind is its inverse.
const char* opKindName(OpKind op);
bool parseOpKind(const std::string& name, OpKind* op);
// Whether every backend's kernel for `op` reads each element (or its whole row, within one block)
// before writing the same place: an output that is exactly an input (same place, width and rows)
// then needs no scratch copy.
bool opIsInPlaceSafe(OpKind op);

enum class Rows { kAll, kLast };
enum class GeluApprox { kNone, kTanh };
enum class GluActivation { kSilu, kGeluTanh, kGelu };

// Every attribute any op has; each op reads the ones listed for it in docs/engine-format.md.
struct StepAttrs {
  float scale = 1.0f;              // embedding: multiplier; attention: softmax scale (default 1/sqrt(hd))
  float eps = 1e-5f;               // norms
  bool unitOffset = false;         // rms_norm, add_rms_norm: multiply by (w + 1)
  std::vector<int64_t> sizes;      // split
  int64_t headDim = 0;             // rope, attention, qkv_attention
  int64_t rotaryDim = 0;           // rope, qkv_attention (defaults to head_dim)
  std::vector<float> invFreq;      // rope, qkv_attention: rotary_dim / 2 entries
  bool interleaved = false;        // rope: true = GPT-J pairs (2i, 2i+1); false = HF rotate-half
  int64_t layer = 0;               // attention: which KV cache
  int64_t numHeads = 0;
  int64_t numKvHeads = 0;
  int64_t slidingWindow = 0;       // 0 = none; else key positions p' with p - p' < window
  GeluApprox approximate = GeluApprox::kNone;        // gelu
  GluActivation activation = GluActivation::kSilu;   // glu
};

struct Step {
  OpKind op = OpKind::kAdd;
  std::vector<int> in;             // value indices; -1 = the step's token ids
  std::vector<int> out;
  int weight = -1;                 // index into Engine::weights(), -1 none
  int bias = -1;
  StepAttrs attrs;
};

struct ValueInfo {
  int64_t width = 0;
  int64_t offset = 0;              // f32 elements per token
  Rows rows = Rows::kAll;
};

// Per-layer KV-cache geometry, gathered from the attention steps.
struct KVLayerInfo {
  int64_t numKvHeads = 0;
  int64_t headDim = 0;
};

struct Program {
  int64_t arenaPerToken = 0;
  std::vector<ValueInfo> values;
  std::vector<Step> steps;
  int output = -1;                 // value holding the logits
  std::vector<KVLayerInfo> kvLayers;  // indexed by attention `layer`
};

}  // namespace llmc

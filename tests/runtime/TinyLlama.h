// TinyLlama.h - a tiny random-weight Llama-style model for the runtime tests.
//
// Builds the weights (HF tensor names), the meta and program JSON exactly as docs/engine-format.md
// specifies (unfused: linear q/k/v + rope + attention + silu/mul; fused: qkv_attention, glu,
// add_rms_norm), a greedy first-fit memory plan written here, and an engine file through
// EngineFileWriter. referenceLogits() is an independent float64 forward pass over the weights: it
// does not look at the program, the memory plan or any runtime code.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "llmc/runtime/EngineFormat.h"
#include "llmc/runtime/Status.h"

namespace llmc::test {

struct TinyLlamaConfig {
  int vocab = 96;
  int hidden = 32;
  int layers = 2;
  int heads = 4;
  int kvHeads = 2;
  int headDim = 8;
  int rotaryDim = 0;         // 0: headDim
  int inter = 48;
  int maxPos = 160;
  int slidingWindow = 0;
  bool interleaved = false;
  bool fused = false;        // qkv_attention + glu + add_rms_norm
  bool reuseInputs = false;  // memory plan lets outputs take the space of inputs dying at the step
  bool tieEmbeddings = false;
  engine::DType dtype = engine::DType::kF32;
  double eps = 1e-5;
  double theta = 10000.0;
  uint32_t seed = 1;
  std::vector<int> eos = {2};
};

struct TinyLlama {
  TinyLlamaConfig cfg;
  std::map<std::string, std::vector<float>> weights;    // values as stored (rounded to dtype)
  std::map<std::string, std::vector<int64_t>> shapes;
  std::vector<float> invFreq;                           // rotaryDim / 2

  std::string metaJson() const;
  std::string programJson() const;
  // Writes the engine (with optional tokenizer sections).
  Status write(const std::string& path, const std::string& tokenizerJson = "",
               const std::string& tokenizerConfigJson = "") const;
  // Bytes of the weights section and the index entries (name -> offset) used by write().
  std::string weightsSection(std::map<std::string, uint64_t>* offsets) const;
};

TinyLlama makeTinyLlama(const TinyLlamaConfig& cfg);
// A model over given weights (HF names; values already in the engine dtype's precision).
TinyLlama tinyLlamaFromWeights(const TinyLlamaConfig& cfg, std::map<std::string, std::vector<float>> weights,
                               std::map<std::string, std::vector<int64_t>> shapes);

// Logits [tokens.size()][vocab]: row i is the model's output after tokens[0..i], computed from
// scratch in float64.
std::vector<std::vector<double>> referenceLogits(const TinyLlama& model, const std::vector<int32_t>& tokens);

// Writes an engine from raw JSON texts and a weights blob (for loader error tests).
Status writeRawEngine(const std::string& path, const std::string& meta, const std::string& program,
                      const std::string& weights);

}  // namespace llmc::test

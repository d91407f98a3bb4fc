// GraphEngineLoad.cpp - Engine::load for an engine holding a graph program (docs/graph-program.md).
//
// Such an engine has `meta` (model, weights) and `graph`, no `program`. meta.model needs only
// architecture, dtype and, for a token LM, vocab_size, max_position and the bos/eos ids: the other
// keys of a per-token engine (layers, heads, ...) describe the per-token program and may be absent.
#include <nlohmann/json.hpp>

#include "EngineParse.h"
#include "llmc/runtime/Engine.h"

namespace llmc {

StatusOr<std::unique_ptr<Engine>> Engine::loadGraphEngine(std::unique_ptr<EngineFile> file) {
  using nlohmann::json;
  const std::string path = file->path();
  auto bad = [&](const Status& s) { return s.withPrefix(path); };
  const SectionView* meta = file->find(engine::kSectionMeta);
  const SectionView* gsec = file->find(engine::kSectionGraph);
  const SectionView* wsec = file->find(engine::kSectionWeights);
  json metaJson = json::parse(meta->bytes.begin(), meta->bytes.end(), nullptr, false);
  if (metaJson.is_discarded() || !metaJson.is_object())
    return InvalidArgument(path + ": section 'meta' is not a JSON object");
  json graphJson = json::parse(gsec->bytes.begin(), gsec->bytes.end(), nullptr, false);
  if (graphJson.is_discarded()) return InvalidArgument(path + ": section 'graph' is not valid JSON");

  std::unique_ptr<Engine> e(new Engine());
  auto model = metaJson.find("model");
  if (model == metaJson.end() || !model->is_object()) return InvalidArgument(path + ": meta.model: missing");
  // Keys that only describe a per-token program get neutral values when absent.
  json m = *model;
  for (const char* k : {"hidden_size", "num_layers", "num_heads", "num_kv_heads", "head_dim", "vocab_size"})
    if (!m.contains(k)) m[k] = 1;
  if (!m.contains("max_position")) m["max_position"] = 1;
  if (!m.contains("sliding_window")) m["sliding_window"] = 0;
  if (!m.contains("bos_token_id")) m["bos_token_id"] = nullptr;
  if (!m.contains("eos_token_ids")) m["eos_token_ids"] = json::array();
  Status s = detail::parseModelConfig(m, &e->config_);
  if (!s.ok()) return bad(s);
  auto weights = metaJson.find("weights");
  if (weights == metaJson.end()) return InvalidArgument(path + ": meta.weights: missing");
  s = detail::parseWeightTable(*weights, wsec ? wsec->bytes.size() : 0, &e->weights_);
  if (!s.ok()) return bad(s);
  auto g = std::make_unique<GraphProgram>();
  s = detail::parseGraphProgram(graphJson, e->weights_, g.get());
  if (!s.ok()) return bad(s);
  if (g->kind == GraphKind::kTokenLM) {
    const GraphValue& out = g->values[g->outputs[0].value];
    if (out.shape.empty() || out.shape.back() != e->config_.vocabSize)
      return InvalidArgument(path + ": graph: the logits' last dimension is not meta.model.vocab_size " +
                             std::to_string(e->config_.vocabSize));
  }
  e->graph_ = std::move(g);
  e->weightsBase_ = wsec ? reinterpret_cast<const uint8_t*>(wsec->bytes.data()) : nullptr;
  e->file_ = std::move(file);
  return e;
}

}  // namespace llmc

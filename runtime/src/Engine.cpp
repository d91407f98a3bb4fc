// Engine.cpp - Engine::load: verify the file, parse meta and program, check them together.
#include "llmc/runtime/Engine.h"

#include <nlohmann/json.hpp>

#include "EngineParse.h"

namespace llmc {

StatusOr<std::unique_ptr<Engine>> Engine::load(const std::string& path, const EngineFileOptions& options) {
  LLMC_ASSIGN_OR_RETURN(std::unique_ptr<EngineFile> file, EngineFile::open(path, options));
  return fromFile(std::move(file));
}

StatusOr<std::unique_ptr<Engine>> Engine::fromFile(std::unique_ptr<EngineFile> file) {
  using nlohmann::json;
  const std::string path = file->path();
  auto bad = [&](const Status& s) { return s.withPrefix(path); };

  const SectionView* meta = file->find(engine::kSectionMeta);
  if (!meta) return InvalidArgument(path + ": no 'meta' section");
  const SectionView* wsec = file->find(engine::kSectionWeights);
  if (file->find(engine::kSectionGraph)) return loadGraphEngine(std::move(file));
  const SectionView* prog = file->find(engine::kSectionProgram);
  if (!prog) return InvalidArgument(path + ": no 'program' section");

  json metaJson = json::parse(meta->bytes.begin(), meta->bytes.end(), nullptr, false);
  if (metaJson.is_discarded()) return InvalidArgument(path + ": section 'meta' is not valid JSON");
  if (!metaJson.is_object()) return InvalidArgument(path + ": section 'meta' is not a JSON object");
  json progJson = json::parse(prog->bytes.begin(), prog->bytes.end(), nullptr, false);
  if (progJson.is_discarded()) return InvalidArgument(path + ": section 'program' is not valid JSON");

  std::unique_ptr<Engine> e(new Engine());
  auto model = metaJson.find("model");
  if (model == metaJson.end()) return InvalidArgument(path + ": meta.model: missing");
  Status s = detail::parseModelConfig(*model, &e->config_);
  if (!s.ok()) return bad(s);
  auto weights = metaJson.find("weights");
  if (weights == metaJson.end()) return InvalidArgument(path + ": meta.weights: missing");
  s = detail::parseWeightTable(*weights, wsec ? wsec->bytes.size() : 0, &e->weights_);
  if (!s.ok()) return bad(s);
  s = detail::parseProgram(progJson, e->weights_, &e->program_);
  if (!s.ok()) return bad(s);
  s = detail::checkProgram(e->config_, e->weights_, &e->program_);
  if (!s.ok()) return bad(s);
  e->weightsBase_ = wsec ? reinterpret_cast<const uint8_t*>(wsec->bytes.data()) : nullptr;
  e->file_ = std::move(file);
  return e;
}

int Engine::findWeight(std::string_view name) const {
  for (size_t i = 0; i < weights_.size(); ++i) {
    if (weights_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

WeightView Engine::weight(int index) const {
  if (index < 0 || index >= static_cast<int>(weights_.size())) return {};
  const WeightInfo& w = weights_[index];
  return WeightView{&w, weightsBase_ + w.offset};
}

std::string_view Engine::metaJson() const {
  const SectionView* s = file_->find(engine::kSectionMeta);
  return s ? s->bytes : std::string_view();
}

std::string_view Engine::tokenizerJson() const {
  const SectionView* s = file_->find(engine::kSectionTokenizer);
  return s ? s->bytes : std::string_view();
}

std::string_view Engine::tokenizerConfigJson() const {
  const SectionView* s = file_->find(engine::kSectionTokenizerConfig);
  return s ? s->bytes : std::string_view();
}

bool Engine::hasKernels() const {
  for (const SectionView& sv : file().sections())
    if (sv.name.rfind(engine::kSectionKernelsPrefix, 0) == 0) return true;
  return false;
}

}  // namespace llmc

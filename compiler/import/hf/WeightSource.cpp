//===- WeightSource.cpp - the tensors of an HF checkpoint folder ----------===//
//
// Owned by the compiler (cc).
//
//===----------------------------------------------------------------------===//
#include "llmc/Compiler/Import/HF/WeightSource.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <sstream>
#include <sys/stat.h>

namespace llmc::hf {

using nlohmann::json;

namespace {

bool fileExists(const std::string &p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string joinPath(const std::string &dir, const std::string &name) {
  if (dir.empty() || dir.back() == '/')
    return dir + name;
  return dir + "/" + name;
}

}  // namespace

Status WeightSource::addFile(const std::string &path) {
  LLMC_ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> f, SafetensorsFile::open(path));
  size_t idx = files_.size();
  for (const auto &[name, entry] : f->entries()) {
    auto [it, inserted] = index_.emplace(name, std::make_pair(idx, &entry));
    if (!inserted)
      return InvalidArgument(path + ": tensor '" + name + "' also appears in " +
                             files_[it->second.first]->path());
  }
  files_.push_back(std::move(f));
  return Status::Ok();
}

StatusOr<std::unique_ptr<WeightSource>>
WeightSource::openFiles(const std::vector<std::string> &paths) {
  std::unique_ptr<WeightSource> ws(new WeightSource());
  for (const std::string &p : paths)
    LLMC_RETURN_IF_ERROR(ws->addFile(p));
  ws->description_ = paths.size() == 1 ? paths[0] : std::to_string(paths.size()) + " files";
  return ws;
}

StatusOr<std::unique_ptr<WeightSource>> WeightSource::openFolder(const std::string &dir) {
  const std::string indexPath = joinPath(dir, "model.safetensors.index.json");
  const std::string singlePath = joinPath(dir, "model.safetensors");
  std::unique_ptr<WeightSource> ws(new WeightSource());

  if (!fileExists(indexPath)) {
    if (!fileExists(singlePath))
      return NotFound(dir + ": no model.safetensors or model.safetensors.index.json "
                            "(llmc reads HF checkpoints in safetensors format)");
    LLMC_RETURN_IF_ERROR(ws->addFile(singlePath));
    ws->description_ = singlePath;
    return ws;
  }

  std::ifstream in(indexPath, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  if (!in)
    return InvalidArgument(indexPath + ": cannot read");
  json index = json::parse(buf.str(), nullptr, /*allow_exceptions=*/false);
  if (index.is_discarded() || !index.is_object())
    return InvalidArgument(indexPath + ": not a valid JSON object");
  auto wm = index.find("weight_map");
  if (wm == index.end() || !wm->is_object())
    return InvalidArgument(indexPath + ": missing 'weight_map' object");

  // Shards in sorted order so the table (and any error) is deterministic.
  std::set<std::string> shards;
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    if (!it.value().is_string())
      return InvalidArgument(indexPath + ": weight_map['" + it.key() + "'] must be a file name");
    std::string shard = it.value().get<std::string>();
    // The index may only point at files inside the folder.
    if (shard.empty() || shard.find('/') != std::string::npos || shard == "..")
      return InvalidArgument(indexPath + ": weight_map['" + it.key() + "'] = '" + shard +
                             "' is not a file name in the folder");
    shards.insert(shard);
  }
  for (const std::string &shard : shards) {
    std::string p = joinPath(dir, shard);
    if (!fileExists(p))
      return NotFound(indexPath + ": shard '" + shard + "' does not exist");
    LLMC_RETURN_IF_ERROR(ws->addFile(p));
  }
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    auto found = ws->index_.find(it.key());
    std::string shard = it.value().get<std::string>();
    if (found == ws->index_.end() || ws->files_[found->second.first]->path() != joinPath(dir, shard))
      return InvalidArgument(indexPath + ": tensor '" + it.key() + "' is mapped to '" + shard +
                             "' but that file does not contain it");
  }
  ws->description_ = indexPath;
  return ws;
}

const SafetensorsEntry *WeightSource::find(const std::string &name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second.second;
}

StatusOr<codegen::TensorView> WeightSource::tensor(const std::string &name) const {
  auto it = index_.find(name);
  if (it == index_.end())
    return NotFound(description_ + ": no tensor named '" + name + "'");
  return files_[it->second.first]->view(*it->second.second);
}

void WeightSource::release(const std::string &name) const {
  auto it = index_.find(name);
  if (it != index_.end())
    files_[it->second.first]->dropPages(*it->second.second);
}

std::vector<std::string> WeightSource::names() const {
  std::vector<std::string> out;
  for (const auto &kv : index_)
    out.push_back(kv.first);
  return out;
}

codegen::SourceDType WeightSource::predominantDType() const {
  uint64_t bytes[3] = {0, 0, 0};
  for (const auto &kv : index_) {
    const SafetensorsEntry *e = kv.second.second;
    if (e->supported)
      bytes[static_cast<int>(e->dtype)] += e->end - e->begin;
  }
  using D = codegen::SourceDType;
  D best = D::kF32;
  for (D d : {D::kBF16, D::kF16})
    if (bytes[static_cast<int>(d)] > bytes[static_cast<int>(best)])
      best = d;
  return best;
}

}  // namespace llmc::hf

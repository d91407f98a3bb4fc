// Tokenizer.cpp - loading tokenizer.json and the encode/decode pipelines (owner: tokenizer).
#include "llmc/runtime/Tokenizer.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "TokenizerImpl.h"
#include "TokenizerJsonReader.h"
#include "Utf8.h"

namespace llmc {

using tok::json;
using tok::TokenizerImpl;

namespace {

// Added tokens get ids as HF's AddedVocabulary::add_tokens assigns them (it ignores the file's
// ids): the id of the same content already known (added before, or in the model vocabulary), else
// the next id after the model vocabulary and the added tokens so far. For consistent files this
// is the id the file states.
Status parseAddedTokens(const json& root, const std::string& where, TokenizerImpl* impl) {
  auto it = root.find("added_tokens");
  if (it == root.end() || it->is_null()) {
    impl->added.build({});
    return Status::Ok();
  }
  if (!it->is_array()) return InvalidArgument(where + ": 'added_tokens' must be an array");
  std::vector<tok::AddedToken> tokens;
  std::unordered_map<std::string, int32_t> seen;
  const int64_t modelEntries = impl->model->entryCount();
  int64_t maxAdded = -1;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& t = (*it)[i];
    const std::string at = where + ": added_tokens[" + std::to_string(i) + "]";
    if (!t.is_object()) return InvalidArgument(at + " must be an object");
    tok::AddedToken a;
    LLMC_RETURN_IF_ERROR(tok::getString(t, "content", at, &a.content));
    LLMC_RETURN_IF_ERROR(tok::getBool(t, "special", at, &a.special));
    LLMC_RETURN_IF_ERROR(tok::getBool(t, "single_word", at, &a.singleWord));
    LLMC_RETURN_IF_ERROR(tok::getBool(t, "lstrip", at, &a.lstrip));
    LLMC_RETURN_IF_ERROR(tok::getBool(t, "rstrip", at, &a.rstrip));
    a.normalized = !a.special;  // HF's default when the field is absent
    LLMC_RETURN_IF_ERROR(tok::getBool(t, "normalized", at, &a.normalized));
    if (a.content.empty() || seen.count(a.content)) continue;  // HF skips these
    if (auto known = impl->model->tokenToId(a.content)) {
      a.id = *known;
    } else {
      a.id = static_cast<int32_t>(maxAdded >= modelEntries || modelEntries == 0 ? maxAdded + 1
                                                                                : modelEntries);
      if (maxAdded < 0) a.id = static_cast<int32_t>(modelEntries);
    }
    maxAdded = std::max<int64_t>(maxAdded, a.id);
    seen.emplace(a.content, a.id);
    a.decodeForm = a.content;
    if (a.normalized && impl->normalizer) impl->normalizer->normalize(a.decodeForm);
    tokens.push_back(std::move(a));
  }
  impl->added.build(std::move(tokens));
  return Status::Ok();
}

std::string configNameFor(const std::string& sourceName) {
  const std::string suffix = "tokenizer.json";
  if (sourceName.size() >= suffix.size() &&
      sourceName.compare(sourceName.size() - suffix.size(), suffix.size(), suffix) == 0) {
    return sourceName.substr(0, sourceName.size() - suffix.size()) + "tokenizer_config.json";
  }
  return sourceName + " (tokenizer_config.json)";
}

}  // namespace

Tokenizer::~Tokenizer() = default;

StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::fromJson(std::string_view tokenizerJson,
                                                         std::string_view tokenizerConfigJson,
                                                         const std::string& sourceName) {
  tok::TokenizerJsonData data;
  LLMC_RETURN_IF_ERROR(tok::readTokenizerJson(tokenizerJson, sourceName, &data));
  const json& root = data.root;
  auto impl = std::make_unique<TokenizerImpl>();
  impl->source = sourceName;

  auto model = root.find("model");
  if (model == root.end()) return InvalidArgument(sourceName + ": no 'model' section");
  auto m = tok::BpeModel::fromJson(*model, data, sourceName + ": model");
  if (!m.ok()) return m.status();
  impl->model = std::move(m).value();

  // Optional components: null or absent means "none".
  auto present = [&](const char* key) {
    auto it = root.find(key);
    return it != root.end() && !it->is_null() ? &*it : nullptr;
  };
  if (const json* j = present("normalizer")) {
    LLMC_ASSIGN_OR_RETURN(impl->normalizer, tok::parseNormalizer(*j, sourceName + ": normalizer"));
  }
  if (const json* j = present("pre_tokenizer")) {
    LLMC_ASSIGN_OR_RETURN(impl->preTokenizer,
                          tok::parsePreTokenizer(*j, sourceName + ": pre_tokenizer"));
  }
  if (const json* j = present("post_processor")) {
    LLMC_ASSIGN_OR_RETURN(impl->postProcessor,
                          tok::parsePostProcessor(*j, sourceName + ": post_processor"));
  }
  if (const json* j = present("decoder")) {
    LLMC_ASSIGN_OR_RETURN(impl->decoder, tok::parseDecoder(*j, sourceName + ": decoder"));
  }
  // Added tokens come after the normalizer: normalized ones are matched in normalized form.
  LLMC_RETURN_IF_ERROR(parseAddedTokens(root, sourceName, impl.get()));

  if (!tokenizerConfigJson.empty()) {
    LLMC_RETURN_IF_ERROR(
        tok::parseTokenizerConfig(tokenizerConfigJson, configNameFor(sourceName), impl.get()));
  }
  std::unique_ptr<Tokenizer> t(new Tokenizer());
  t->impl_ = std::move(impl);
  return t;
}

StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::fromDirectory(const std::string& dir) {
  auto readFile = [](const std::string& path, std::string* out) -> bool {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    *out = ss.str();
    return !in.bad();
  };
  const std::string base = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  std::string tokenizerJson, configJson;
  if (!readFile(base + "tokenizer.json", &tokenizerJson)) {
    return NotFound(base + "tokenizer.json: cannot be read");
  }
  readFile(base + "tokenizer_config.json", &configJson);  // optional
  return fromJson(tokenizerJson, configJson, base + "tokenizer.json");
}

std::vector<int32_t> Tokenizer::encode(std::string_view input, bool addSpecialTokens) const {
  const TokenizerImpl& im = *impl_;
  // HF works on Rust strings (always valid UTF-8); repair bytes that are not.
  std::string repaired;
  if (!tok::isValidUtf8(input)) {
    repaired = tok::toValidUtf8Lossy(input);
    input = repaired;
  }
  std::vector<int32_t> ids;
  std::vector<tok::PrePiece> pieces;
  for (const tok::TextSegment& raw : im.added.split(input, /*normalizedSet=*/false)) {
    if (raw.id >= 0) {
      ids.push_back(raw.id);
      continue;
    }
    if (raw.begin == raw.end) continue;
    std::string text(input.substr(raw.begin, raw.end - raw.begin));
    if (im.normalizer) im.normalizer->normalize(text);
    if (text.empty()) continue;
    for (const tok::TextSegment& seg : im.added.split(text, /*normalizedSet=*/true)) {
      if (seg.id >= 0) {
        ids.push_back(seg.id);
        continue;
      }
      if (seg.begin == seg.end) continue;
      pieces.clear();
      pieces.push_back({text.substr(seg.begin, seg.end - seg.begin),
                        raw.begin == 0 && seg.begin == 0});
      if (im.preTokenizer) im.preTokenizer->preTokenize(pieces);
      for (const auto& p : pieces) im.model->tokenize(p.text, ids);
    }
  }
  if (addSpecialTokens && im.postProcessor) im.postProcessor->process(ids);
  return ids;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skipSpecialTokens) const {
  return impl_->decodeTokens(impl_->tokensForDecode(ids, skipSpecialTokens));
}

std::optional<int32_t> Tokenizer::bosId() const {
  if (impl_->bosToken) return impl_->tokenToId(*impl_->bosToken);
  if (impl_->postProcessor) return impl_->postProcessor->leadingId();
  return std::nullopt;
}

std::vector<int32_t> Tokenizer::eosIds() const {
  if (impl_->eosToken) {
    if (auto id = impl_->tokenToId(*impl_->eosToken)) return {*id};
    return {};
  }
  for (const char* name : {"</s>", "<|endoftext|>", "<|end_of_text|>", "<|im_end|>", "<|eot_id|>"}) {
    if (auto id = impl_->added.idOf(name)) {
      if (impl_->added.byId(*id)->special) return {*id};
    }
  }
  return {};
}

std::optional<bool> Tokenizer::addBosTokenHint() const { return impl_->addBosToken; }

int32_t Tokenizer::vocabSize() const {
  int32_t n = impl_->model->idBound();
  for (const auto& t : impl_->added.tokens()) n = std::max(n, t.id + 1);
  return n;
}

std::optional<int32_t> Tokenizer::tokenToId(std::string_view token) const {
  return impl_->tokenToId(token);
}

std::string Tokenizer::idToToken(int32_t id) const {
  if (const tok::AddedToken* a = impl_->added.byId(id)) return a->decodeForm;
  if (const std::string* s = impl_->model->idToToken(id)) return *s;
  return "";
}

bool Tokenizer::isSpecial(int32_t id) const {
  const tok::AddedToken* a = impl_->added.byId(id);
  return a && a->special;
}

}  // namespace llmc

// TokenizerImpl.cpp - decode helpers and tokenizer_config.json reading (owner: tokenizer).
#include "TokenizerImpl.h"

#include "TokenizerJsonReader.h"

namespace llmc::tok {

std::vector<std::string> TokenizerImpl::tokensForDecode(const std::vector<int32_t>& ids,
                                                        bool skipSpecial) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    if (const AddedToken* a = added.byId(id)) {
      // HF decides "special" by the token string, so a special token whose normalized spelling
      // differs from its content is not skipped.
      if (!(skipSpecial && a->special && a->decodeForm == a->content)) {
        tokens.push_back(a->decodeForm);
      }
    } else if (const std::string* s = model->idToToken(id)) {
      tokens.push_back(*s);
    }
  }
  return tokens;
}

std::string TokenizerImpl::decodeTokens(std::vector<std::string> tokens) const {
  std::string out;
  if (decoder) {
    decoder->decodeChain(tokens);
    for (const auto& t : tokens) out += t;
    return out;
  }
  // HF joins with spaces when the file has no decoder.
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i) out += ' ';
    out += tokens[i];
  }
  return out;
}

std::optional<int32_t> TokenizerImpl::tokenToId(std::string_view token) const {
  if (auto id = added.idOf(token)) return id;
  return model->tokenToId(token);
}

namespace {

// bos_token / eos_token: a string, or an AddedToken object {"content": ...}; null means none.
Status readTokenField(const json& cfg, const char* key, const std::string& where,
                      std::optional<std::string>* out) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return Status::Ok();
  if (it->is_string()) {
    *out = it->get<std::string>();
    return Status::Ok();
  }
  if (it->is_object()) {
    auto c = it->find("content");
    if (c != it->end() && c->is_string()) {
      *out = c->get<std::string>();
      return Status::Ok();
    }
  }
  return InvalidArgument(where + ": '" + key + "' must be a string or {\"content\": string}");
}

}  // namespace

Status parseTokenizerConfig(std::string_view text, const std::string& where, TokenizerImpl* impl) {
  json cfg;
  LLMC_RETURN_IF_ERROR(parseJsonValue(text, where, 0, &cfg));
  if (!cfg.is_object()) return InvalidArgument(where + ": top level must be a JSON object");
  LLMC_RETURN_IF_ERROR(readTokenField(cfg, "bos_token", where, &impl->bosToken));
  LLMC_RETURN_IF_ERROR(readTokenField(cfg, "eos_token", where, &impl->eosToken));
  auto add = cfg.find("add_bos_token");
  if (add != cfg.end() && add->is_boolean()) impl->addBosToken = add->get<bool>();
  return Status::Ok();
}

}  // namespace llmc::tok

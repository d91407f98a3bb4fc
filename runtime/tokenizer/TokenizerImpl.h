// TokenizerImpl.h - the parsed pipeline behind llmc::Tokenizer (owner: tokenizer).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "AddedTokens.h"
#include "BpeModel.h"
#include "Components.h"

namespace llmc::tok {

struct TokenizerImpl {
  std::string source;  // for messages
  std::unique_ptr<Normalizer> normalizer;      // null: none
  std::unique_ptr<PreTokenizer> preTokenizer;  // null: the whole stretch is one pre-token
  std::unique_ptr<BpeModel> model;
  std::unique_ptr<PostProcessor> postProcessor;  // null: none
  std::unique_ptr<Decoder> decoder;              // null: tokens joined with ' ' (HF's default)
  AddedVocabulary added;

  // From tokenizer_config.json (absent when there is none or it does not say).
  std::optional<std::string> bosToken, eosToken;
  std::optional<bool> addBosToken;

  // Token strings of `ids` as HF hands them to the decoder: added tokens first, then the model;
  // unknown ids and (with skipSpecial) special added tokens are left out.
  std::vector<std::string> tokensForDecode(const std::vector<int32_t>& ids, bool skipSpecial) const;
  // Runs the decoder (or the default join) over token strings.
  std::string decodeTokens(std::vector<std::string> tokens) const;
  std::optional<int32_t> tokenToId(std::string_view token) const;
};

// Parses tokenizer_config.json text into `impl` (bos/eos/add_bos_token); `where` names the file.
Status parseTokenizerConfig(std::string_view text, const std::string& where, TokenizerImpl* impl);

}  // namespace llmc::tok

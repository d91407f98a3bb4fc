// Components.h - the pipeline stages of a tokenizer.json, as parsed objects (owner: tokenizer).
//
// A HF tokenizer is: added-token split -> normalizer -> pre-tokenizer -> model -> post-processor
// to encode, and model ids -> tokens -> decoder to decode. Each stage here mirrors one JSON
// component; the factories (parseNormalizer, ...) turn the JSON into them and name the component
// in the error when a type is unknown or a field is malformed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "llmc/runtime/Status.h"

namespace llmc::tok {

using json = nlohmann::json;

// --- normalizers --------------------------------------------------------------------------------
class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Rewrites valid UTF-8 `s` in place.
  virtual void normalize(std::string& s) const = 0;
};
// `where` names the component for errors ("tokenizer.json: normalizer").
StatusOr<std::unique_ptr<Normalizer>> parseNormalizer(const json& j, const std::string& where);

// --- pre-tokenizers -----------------------------------------------------------------------------
struct PrePiece {
  std::string text;
  bool atStart = false;  // starts at offset 0 of the original input (Metaspace "first")
};
class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Splits every piece further (and may rewrite it); drops empty pieces.
  virtual void preTokenize(std::vector<PrePiece>& pieces) const = 0;
};
StatusOr<std::unique_ptr<PreTokenizer>> parsePreTokenizer(const json& j, const std::string& where);

// --- decoders -----------------------------------------------------------------------------------
class Decoder {
 public:
  virtual ~Decoder() = default;
  // HF's decode_chain: turns the token strings into (fewer, possibly one) strings.
  virtual void decodeChain(std::vector<std::string>& tokens) const = 0;
  // True for ByteFallback: a trailing run of <0xXX> tokens may still change (stream decoding).
  virtual bool groupsByteTokens() const { return false; }
  // True when the step joins all tokens into one string (ByteLevel, Fuse).
  virtual bool fuses() const { return false; }
  // Stream decoding: how many trailing bytes of the decoded `text` may still change when more
  // tokens follow (a Replace pattern that could complete, a Strip of trailing characters), given
  // whether an earlier step already fused the tokens. 0 for token-local steps.
  virtual size_t unstableSuffix(const std::string& text, bool afterFuse) const {
    (void)text;
    (void)afterFuse;
    return 0;
  }
};
StatusOr<std::unique_ptr<Decoder>> parseDecoder(const json& j, const std::string& where);

// --- post-processors ----------------------------------------------------------------------------
class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Adds the special tokens of a single sequence (encode with add_special_tokens).
  virtual void process(std::vector<int32_t>& ids) const = 0;
  // The first id it puts before the sequence, if any (the BOS it adds).
  virtual std::optional<int32_t> leadingId() const { return std::nullopt; }
};
StatusOr<std::unique_ptr<PostProcessor>> parsePostProcessor(const json& j, const std::string& where);

// Small JSON accessors that report the field and the component on a type error.
Status getString(const json& j, const char* key, const std::string& where, std::string* out,
                 bool required = true);
Status getBool(const json& j, const char* key, const std::string& where, bool* out);
Status getInt(const json& j, const char* key, const std::string& where, int64_t* out);
// A component object (normalizer, pre-tokenizer, decoder, post-processor): checks that j is an
// object with a string "type", stores it in *type and the component's name for errors,
// `where (type)`, in *at.
Status getComponentType(const json& j, const std::string& where, std::string* type, std::string* at);
// A pattern object {"String": s} or {"Regex": r}.
struct Pattern {
  bool isRegex = false;
  std::string text;
};
Status getPattern(const json& j, const std::string& where, Pattern* out);

}  // namespace llmc::tok

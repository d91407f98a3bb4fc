// Tokenizer.h - HuggingFace tokenizer.json in C++: encode text to ids, decode ids to text
// (owner: tokenizer; library target llmc_tokenizer, sources in runtime/tokenizer/).
//
// Supports BPE models: byte-level BPE (GPT-2, Llama-3, Qwen) and SentencePiece-style BPE with byte
// fallback (Llama-2), with the normalizers, pre-tokenizers, post-processors and decoders those use
// (docs/tokenizer.md lists them). Encoding matches HF `tokenizers` exactly on the files it is tested
// on (tests/tokenizer/conformance.py). A Tokenizer is immutable after loading; encode/decode may be
// called from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llmc/runtime/Status.h"

namespace llmc {

namespace tok {
struct TokenizerImpl;
}

class StreamDecoder;

class Tokenizer {
 public:
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Parses tokenizer.json text (and tokenizer_config.json text, which may be empty). `sourceName`
  // names the origin in errors ("model/tokenizer.json"). Unsupported component types give
  // kUnsupported naming the component; malformed JSON gives kInvalidArgument.
  static StatusOr<std::unique_ptr<Tokenizer>> fromJson(std::string_view tokenizerJson,
                                                       std::string_view tokenizerConfigJson,
                                                       const std::string& sourceName);
  // Reads dir/tokenizer.json and, when present, dir/tokenizer_config.json.
  static StatusOr<std::unique_ptr<Tokenizer>> fromDirectory(const std::string& dir);

  // Text to ids. Added/special tokens written in the text are recognised (as HF does). With
  // addSpecialTokens the post-processor adds its tokens (Llama-2: BOS). Invalid UTF-8 in `text`
  // is first replaced by U+FFFD.
  std::vector<int32_t> encode(std::string_view text, bool addSpecialTokens) const;

  // Ids to text through the file's decoder; ids outside the vocabulary are skipped. With
  // skipSpecialTokens, added tokens marked special are left out.
  std::string decode(const std::vector<int32_t>& ids, bool skipSpecialTokens) const;

  // BOS: tokenizer_config.json's bos_token, else the first token the post-processor prepends.
  std::optional<int32_t> bosId() const;
  // EOS: tokenizer_config.json's eos_token; without a config, a special token with a well-known
  // end name (</s>, <|endoftext|>, <|end_of_text|>, <|im_end|>, <|eot_id|>) when present.
  std::vector<int32_t> eosIds() const;
  // tokenizer_config.json's add_bos_token, when it says so (informational: encode follows the
  // post-processor of tokenizer.json, as HF does).
  std::optional<bool> addBosTokenHint() const;
  // One past the largest id of the model vocabulary and the added tokens.
  int32_t vocabSize() const;
  std::optional<int32_t> tokenToId(std::string_view token) const;
  // The token string (in the vocabulary's spelling: 'Ġ' for a byte-level space); "" when unknown.
  std::string idToToken(int32_t id) const;
  // True for added tokens marked special (what skipSpecialTokens leaves out).
  bool isSpecial(int32_t id) const;

  const tok::TokenizerImpl& impl() const { return *impl_; }

 private:
  Tokenizer() = default;
  std::unique_ptr<tok::TokenizerImpl> impl_;
};

// Decodes a growing id sequence piece by piece (text generation). push() returns the text that is
// final once `id` is appended: complete UTF-8 only (bytes of a character split over several
// byte-level or <0xXX> tokens are held back until it completes). The concatenation of every
// push() and the final finish() equals tokenizer.decode(allIds, skipSpecialTokens).
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skipSpecialTokens = false);
  std::string push(int32_t id);
  // Returns whatever is still held back (an incomplete character comes out as U+FFFD, as decode
  // would give it) and resets the decoder for a new sequence.
  std::string finish();

 private:
  const Tokenizer& tokenizer_;
  bool skipSpecial_;
  std::vector<int32_t> window_;  // ids since the last cut, preceded by context ids
  size_t contextLen_ = 0;        // leading ids of window_ that are context (already emitted)
  std::string contextText_;      // decode(window_[0, contextLen_))
  size_t emittedExtra_ = 0;      // bytes of decode(window_) after contextText_ already emitted
};

}  // namespace llmc

// StreamDecoder.cpp - incremental decoding for generation (owner: tokenizer).
//
// The decoders are not token-local (byte-level BPE spreads a character over tokens, ByteFallback
// judges a whole run of <0xXX> tokens at once, Strip/Metaspace treat the first token specially),
// so each push decodes a small window: the ids pushed since the last emission, preceded by the ids
// of that emission as context, and emits what the window adds beyond the context's own decoding.
// Text is held back while it ends in U+FFFD (an incomplete or, for now, undecidable character) or
// while a run of <0xXX> tokens may still grow. Emission points are thereby always places where
// decoding the whole sequence splits cleanly, which is what makes the pieces add up to decode().
#include "llmc/runtime/Tokenizer.h"

#include "TokenizerImpl.h"
#include "Utf8.h"

namespace llmc {
namespace {

bool endsWithReplacement(const std::string& s) {
  const auto& r = tok::kReplacementUtf8;
  return s.size() >= r.size() && s.compare(s.size() - r.size(), r.size(), r.data(), r.size()) == 0;
}

bool isByteToken(const std::string& t) {
  return t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>';
}

}  // namespace

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skipSpecialTokens)
    : tokenizer_(tokenizer), skipSpecial_(skipSpecialTokens) {}

std::string StreamDecoder::push(int32_t id) {
  window_.push_back(id);
  const tok::TokenizerImpl& im = tokenizer_.impl();
  // Ids decode() leaves out (skipped special tokens, ids outside the vocabulary) add no text and
  // must not end a run of <0xXX> tokens: decode() joins the bytes on both sides of them.
  const tok::AddedToken* added = im.added.byId(id);
  const std::string* token = added ? nullptr : im.model->idToToken(id);
  const bool skipped =
      added && added->special && skipSpecial_ && added->decodeForm == added->content;
  if (skipped || (!added && !token)) return "";
  if (token && im.decoder && im.decoder->groupsByteTokens() && isByteToken(*token)) {
    return "";  // the run may still grow and change its decoding
  }
  std::string text = tokenizer_.decode(window_, skipSpecial_);
  if (endsWithReplacement(text) ||
      text.compare(0, contextText_.size(), contextText_) != 0) {
    return "";
  }
  // Decoders that rewrite the joined text (a Replace pattern spanning tokens, a trailing Strip)
  // may still change its last bytes.
  const size_t stable = text.size() - (im.decoder ? im.decoder->unstableSuffix(text, false) : 0);
  const size_t already = contextText_.size() + emittedExtra_;
  if (stable <= already) return "";
  std::string out = text.substr(already, stable - already);
  if (stable == text.size()) {
    // Everything is out: cut here. The ids since the previous cut become the new context.
    window_.erase(window_.begin(), window_.begin() + static_cast<std::ptrdiff_t>(contextLen_));
    contextLen_ = window_.size();
    contextText_ = tokenizer_.decode(window_, skipSpecial_);
    emittedExtra_ = 0;
  } else {
    emittedExtra_ = stable - contextText_.size();
  }
  return out;
}

std::string StreamDecoder::finish() {
  std::string text = tokenizer_.decode(window_, skipSpecial_);
  size_t already = contextText_.size() + emittedExtra_;
  if (text.compare(0, contextText_.size(), contextText_) != 0 || text.size() < already) {
    // Not expected: the window no longer extends what was emitted. Emit past the common part.
    already = 0;
    while (already < text.size() && already < contextText_.size() &&
           text[already] == contextText_[already]) {
      ++already;
    }
  }
  std::string out = text.substr(already);
  window_.clear();
  contextLen_ = 0;
  contextText_.clear();
  emittedExtra_ = 0;
  return out;
}

}  // namespace llmc

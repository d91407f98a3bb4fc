// Decoders.cpp - tokenizer.json "decoder" components (owner: tokenizer).
//
// Supported: ByteLevel, ByteFallback, Fuse, Strip, Replace, Metaspace, Sequence. Each mirrors HF's
// decode_chain: a list of token strings in, a list of strings out; the tokenizer joins the result.
#include <algorithm>

#include <utf8proc.h>

#include "ByteLevelMap.h"
#include "Components.h"
#include "Replacement.h"
#include "Utf8.h"

namespace llmc::tok {
namespace {

// Concatenates the bytes every token stands for, then repairs the UTF-8 like from_utf8_lossy. A
// token holding a character outside the byte table (an added token, say) contributes its UTF-8.
class ByteLevelDecoder : public Decoder {
 public:
  void decodeChain(std::vector<std::string>& tokens) const override {
    const ByteLevelMap& map = ByteLevelMap::get();
    std::string bytes;
    for (const auto& t : tokens) {
      std::string mapped;
      bool ok = true;
      forEachCodePoint(t, [&](size_t, size_t, char32_t cp) {
        int b = map.decodeChar(cp);
        if (b < 0) ok = false;
        if (ok) mapped.push_back(static_cast<char>(b));
      });
      bytes += ok ? mapped : t;
    }
    tokens.assign(1, toValidUtf8Lossy(bytes));
  }
  bool fuses() const override { return true; }
};

// "<0xAB>" -> 0xAB, or -1.
int byteTokenValue(const std::string& t) {
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  int hi = hex(t[3]), lo = hex(t[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

// Runs of <0xXX> tokens become their bytes when those are valid UTF-8, else one U+FFFD per token
// (HF's rule: the whole run is judged at once).
class ByteFallbackDecoder : public Decoder {
 public:
  void decodeChain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    out.reserve(tokens.size());
    std::string run;
    size_t runTokens = 0;
    auto flush = [&]() {
      if (runTokens == 0) return;
      if (isValidUtf8(run)) {
        out.push_back(run);
      } else {
        std::string repl;
        for (size_t i = 0; i < runTokens; ++i) repl += kReplacementUtf8;
        out.push_back(repl);
      }
      run.clear();
      runTokens = 0;
    };
    for (auto& t : tokens) {
      int b = byteTokenValue(t);
      if (b >= 0) {
        run.push_back(static_cast<char>(b));
        ++runTokens;
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    tokens.swap(out);
  }
  bool groupsByteTokens() const override { return true; }
};

class FuseDecoder : public Decoder {
 public:
  void decodeChain(std::vector<std::string>& tokens) const override {
    std::string all;
    for (const auto& t : tokens) all += t;
    tokens.assign(1, all);
  }
  bool fuses() const override { return true; }
};

// Removes up to `start` leading and `stop` trailing copies of one character from every token.
class StripDecoder : public Decoder {
 public:
  StripDecoder(std::string content, int64_t start, int64_t stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  void decodeChain(std::vector<std::string>& tokens) const override {
    if (content_.empty()) return;
    const size_t n = content_.size();
    for (auto& t : tokens) {
      size_t b = 0, e = t.size();
      for (int64_t i = 0; i < start_ && b + n <= e && t.compare(b, n, content_) == 0; ++i) b += n;
      for (int64_t i = 0; i < stop_ && e >= b + n && t.compare(e - n, n, content_) == 0; ++i) e -= n;
      t = t.substr(b, e - b);
    }
  }
  size_t unstableSuffix(const std::string& text, bool afterFuse) const override {
    // On fused text, trailing copies are stripped only if nothing follows them.
    if (!afterFuse || content_.empty()) return 0;
    size_t e = text.size();
    for (int64_t i = 0; i < stop_ && e >= content_.size() &&
                        text.compare(e - content_.size(), content_.size(), content_) == 0;
         ++i) {
      e -= content_.size();
    }
    return text.size() - e;
  }

 private:
  std::string content_;
  int64_t start_, stop_;
};

class ReplaceDecoder : public Decoder {
 public:
  explicit ReplaceDecoder(Replacement r) : r_(std::move(r)) {}
  void decodeChain(std::vector<std::string>& tokens) const override {
    for (auto& t : tokens) r_.apply(t);
  }
  size_t unstableSuffix(const std::string& text, bool afterFuse) const override {
    // On fused text a literal pattern can span tokens: hold a tail that could begin a match.
    return afterFuse ? r_.partialMatchSuffix(text) : 0;
  }

 private:
  Replacement r_;
};

// '▁' -> ' '; in the first token the '▁'s are dropped instead (the pre-tokenizer added one).
class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool stripFirst)
      : replacement_(std::move(replacement)), stripFirst_(stripFirst) {}
  void decodeChain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      const std::string& t = tokens[i];
      for (size_t p = 0; p < t.size();) {
        if (!replacement_.empty() && t.compare(p, replacement_.size(), replacement_) == 0) {
          // HF drops every replacement character of the first token, not just a leading one.
          if (!(i == 0 && stripFirst_)) out += ' ';
          p += replacement_.size();
        } else {
          out += t[p++];
        }
      }
      tokens[i].swap(out);
    }
  }

 private:
  std::string replacement_;
  bool stripFirst_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> parts) : parts_(std::move(parts)) {}
  void decodeChain(std::vector<std::string>& tokens) const override {
    for (const auto& p : parts_) p->decodeChain(tokens);
  }
  bool groupsByteTokens() const override {
    for (const auto& p : parts_) {
      if (p->groupsByteTokens()) return true;
    }
    return false;
  }
  bool fuses() const override {
    for (const auto& p : parts_) {
      if (p->fuses()) return true;
    }
    return false;
  }
  size_t unstableSuffix(const std::string& text, bool afterFuse) const override {
    size_t hold = 0;
    for (const auto& p : parts_) {
      hold = std::max(hold, p->unstableSuffix(text, afterFuse));
      afterFuse = afterFuse || p->fuses();
    }
    return hold;
  }

 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

}  // namespace

StatusOr<std::unique_ptr<Decoder>> parseDecoder(const json& j, const std::string& where) {
  std::string type, at;
  LLMC_RETURN_IF_ERROR(getComponentType(j, where, &type, &at));
  using Ptr = std::unique_ptr<Decoder>;
  if (type == "ByteLevel") return Ptr(new ByteLevelDecoder());
  if (type == "ByteFallback") return Ptr(new ByteFallbackDecoder());
  if (type == "Fuse") return Ptr(new FuseDecoder());
  if (type == "Strip") {
    std::string content;
    int64_t start = 0, stop = 0;
    LLMC_RETURN_IF_ERROR(getString(j, "content", at, &content));
    LLMC_RETURN_IF_ERROR(getInt(j, "start", at, &start));
    LLMC_RETURN_IF_ERROR(getInt(j, "stop", at, &stop));
    return Ptr(new StripDecoder(content, start, stop));
  }
  if (type == "Replace") {
    LLMC_ASSIGN_OR_RETURN(Replacement r, Replacement::parse(j, at));
    return Ptr(new ReplaceDecoder(std::move(r)));
  }
  if (type == "Metaspace") {
    std::string replacement = "\xE2\x96\x81";
    LLMC_RETURN_IF_ERROR(getString(j, "replacement", at, &replacement, /*required=*/false));
    std::string scheme;
    LLMC_RETURN_IF_ERROR(getString(j, "prepend_scheme", at, &scheme, /*required=*/false));
    bool stripFirst = scheme != "never";
    if (scheme.empty()) {
      bool addPrefixSpace = true;
      LLMC_RETURN_IF_ERROR(getBool(j, "add_prefix_space", at, &addPrefixSpace));
      stripFirst = addPrefixSpace;
    }
    return Ptr(new MetaspaceDecoder(replacement, stripFirst));
  }
  if (type == "Sequence") {
    auto it = j.find("decoders");
    if (it == j.end() || !it->is_array()) {
      return InvalidArgument(at + ": field 'decoders' must be an array");
    }
    std::vector<Ptr> parts;
    for (size_t i = 0; i < it->size(); ++i) {
      auto p = parseDecoder((*it)[i], where + ".decoders[" + std::to_string(i) + "]");
      if (!p.ok()) return p.status();
      parts.push_back(std::move(p).value());
    }
    return Ptr(new SequenceDecoder(std::move(parts)));
  }
  return Unsupported(where + ": unsupported decoder type '" + type +
                     "' (supported: ByteLevel, ByteFallback, Fuse, Strip, Replace, Metaspace, "
                     "Sequence)");
}

}  // namespace llmc::tok

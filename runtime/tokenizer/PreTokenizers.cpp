// PreTokenizers.cpp - tokenizer.json "pre_tokenizer" components (owner: tokenizer).
//
// Supported: ByteLevel, Split, Sequence, Metaspace, Digits, Punctuation, Whitespace,
// WhitespaceSplit, BertPreTokenizer. Splitting follows HF's NormalizedString::split: the pattern
// yields segments covering the text (matches and gaps), the behavior decides how matches attach,
// and empty pieces are dropped.
#include <algorithm>
#include <cctype>
#include <functional>

#include <utf8proc.h>

#include "ByteLevelMap.h"
#include "Components.h"
#include "Regex.h"
#include "Utf8.h"

namespace llmc::tok {
namespace {

enum class Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct Segment {
  size_t begin, end;
  bool isMatch;
};

// Turns sorted, non-overlapping match ranges into segments covering [0, size).
std::vector<Segment> segmentsFromMatches(size_t size,
                                         const std::vector<std::pair<size_t, size_t>>& matches) {
  std::vector<Segment> segs;
  if (size == 0) return {{0, 0, false}};
  size_t prev = 0;
  for (auto [b, e] : matches) {
    if (prev != b) segs.push_back({prev, b, false});
    segs.push_back({b, e, true});
    prev = e;
  }
  if (prev != size) segs.push_back({prev, size, false});
  return segs;
}

// Segments where each code point for which pred() holds is its own match.
std::vector<Segment> segmentsFromPredicate(std::string_view s,
                                           const std::function<bool(char32_t)>& pred) {
  std::vector<std::pair<size_t, size_t>> matches;
  forEachCodePoint(s, [&](size_t i, size_t len, char32_t cp) {
    if (pred(cp)) matches.emplace_back(i, i + len);
  });
  return segmentsFromMatches(s.size(), matches);
}

// Applies the split behavior; returns the kept [begin, end) ranges.
std::vector<std::pair<size_t, size_t>> applyBehavior(std::vector<Segment> segs, Behavior b) {
  std::vector<std::pair<size_t, size_t>> out;
  switch (b) {
    case Behavior::kIsolated:
      for (auto& s : segs) out.emplace_back(s.begin, s.end);
      break;
    case Behavior::kRemoved:
      for (auto& s : segs) {
        if (!s.isMatch) out.emplace_back(s.begin, s.end);
      }
      break;
    case Behavior::kContiguous: {
      bool prevMatch = false;
      for (auto& s : segs) {
        if (s.isMatch == prevMatch && !out.empty()) {
          out.back().second = s.end;
        } else {
          out.emplace_back(s.begin, s.end);
        }
        prevMatch = s.isMatch;
      }
      break;
    }
    case Behavior::kMergedWithPrevious: {
      bool prevMatch = false;
      for (auto& s : segs) {
        if (s.isMatch && !prevMatch && !out.empty()) {
          out.back().second = s.end;
        } else {
          out.emplace_back(s.begin, s.end);
        }
        prevMatch = s.isMatch;
      }
      break;
    }
    case Behavior::kMergedWithNext: {
      bool prevMatch = false;
      for (auto it = segs.rbegin(); it != segs.rend(); ++it) {
        if (it->isMatch && !prevMatch && !out.empty()) {
          out.back().first = it->begin;
        } else {
          out.emplace_back(it->begin, it->end);
        }
        prevMatch = it->isMatch;
      }
      std::reverse(out.begin(), out.end());
      break;
    }
  }
  return out;
}

// Replaces every piece by the non-empty pieces split() gives for it.
void splitEach(std::vector<PrePiece>& pieces,
               const std::function<std::vector<std::pair<size_t, size_t>>(PrePiece&)>& split) {
  std::vector<PrePiece> out;
  out.reserve(pieces.size());
  for (auto& p : pieces) {
    auto ranges = split(p);
    for (auto [b, e] : ranges) {
      if (b == e) continue;
      out.push_back({p.text.substr(b, e - b), p.atStart && b == 0});
    }
  }
  pieces.swap(out);
}

StatusOr<Behavior> parseBehavior(const json& j, const std::string& where) {
  std::string s;
  LLMC_RETURN_IF_ERROR(getString(j, "behavior", where, &s));
  if (s == "Removed") return Behavior::kRemoved;
  if (s == "Isolated") return Behavior::kIsolated;
  if (s == "MergedWithPrevious") return Behavior::kMergedWithPrevious;
  if (s == "MergedWithNext") return Behavior::kMergedWithNext;
  if (s == "Contiguous") return Behavior::kContiguous;
  return InvalidArgument(where + ": unknown split behavior '" + s + "'");
}

// GPT-2's pre-tokenization pattern (the ByteLevel pre-tokenizer's use_regex).
constexpr const char* kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

class ByteLevel : public PreTokenizer {
 public:
  ByteLevel(bool addPrefixSpace, std::unique_ptr<Regex> regex)
      : addPrefixSpace_(addPrefixSpace), regex_(std::move(regex)) {}
  void preTokenize(std::vector<PrePiece>& pieces) const override {
    splitEach(pieces, [&](PrePiece& p) {
      if (addPrefixSpace_ && (p.text.empty() || p.text[0] != ' ')) p.text.insert(0, " ");
      if (!regex_) return std::vector<std::pair<size_t, size_t>>{{0, p.text.size()}};
      return applyBehavior(segmentsFromMatches(p.text.size(), regex_->findAll(p.text)),
                           Behavior::kIsolated);
    });
    const ByteLevelMap& map = ByteLevelMap::get();
    for (auto& p : pieces) {
      std::string mapped;
      map.encode(p.text, mapped);
      p.text.swap(mapped);
    }
  }

 private:
  bool addPrefixSpace_;
  std::unique_ptr<Regex> regex_;
};

class Split : public PreTokenizer {
 public:
  Split(Pattern pattern, std::unique_ptr<Regex> regex, Behavior behavior, bool invert)
      : pattern_(std::move(pattern)), regex_(std::move(regex)), behavior_(behavior),
        invert_(invert) {}
  void preTokenize(std::vector<PrePiece>& pieces) const override {
    splitEach(pieces, [&](PrePiece& p) {
      std::vector<Segment> segs;
      if (regex_) {
        segs = segmentsFromMatches(p.text.size(), regex_->findAll(p.text));
      } else {
        std::vector<std::pair<size_t, size_t>> matches;
        if (!pattern_.text.empty()) {
          for (size_t q = p.text.find(pattern_.text); q != std::string::npos;
               q = p.text.find(pattern_.text, q + pattern_.text.size())) {
            matches.emplace_back(q, q + pattern_.text.size());
          }
        }
        segs = segmentsFromMatches(p.text.size(), matches);
      }
      if (invert_) {
        for (auto& s : segs) s.isMatch = !s.isMatch;
      }
      return applyBehavior(std::move(segs), behavior_);
    });
  }

 private:
  Pattern pattern_;
  std::unique_ptr<Regex> regex_;
  Behavior behavior_;
  bool invert_;
};

// Splits with a per-code-point predicate (Digits, Punctuation, WhitespaceSplit).
class PredicateSplit : public PreTokenizer {
 public:
  PredicateSplit(std::function<bool(char32_t)> pred, Behavior behavior)
      : pred_(std::move(pred)), behavior_(behavior) {}
  void preTokenize(std::vector<PrePiece>& pieces) const override {
    splitEach(pieces, [&](PrePiece& p) {
      return applyBehavior(segmentsFromPredicate(p.text, pred_), behavior_);
    });
  }

 private:
  std::function<bool(char32_t)> pred_;
  Behavior behavior_;
};

class Metaspace : public PreTokenizer {
 public:
  enum class Prepend { kAlways, kFirst, kNever };
  Metaspace(std::string replacement, Prepend prepend, bool split)
      : replacement_(std::move(replacement)), prepend_(prepend), split_(split) {}
  void preTokenize(std::vector<PrePiece>& pieces) const override {
    splitEach(pieces, [&](PrePiece& p) {
      std::string out;
      for (char c : p.text) {
        if (c == ' ') {
          out += replacement_;
        } else {
          out += c;
        }
      }
      bool startsWith = out.compare(0, replacement_.size(), replacement_) == 0;
      if (!startsWith && (prepend_ == Prepend::kAlways || (prepend_ == Prepend::kFirst && p.atStart))) {
        out.insert(0, replacement_);
      }
      p.text.swap(out);
      if (!split_) return std::vector<std::pair<size_t, size_t>>{{0, p.text.size()}};
      std::vector<std::pair<size_t, size_t>> matches;
      for (size_t q = p.text.find(replacement_); q != std::string::npos;
           q = p.text.find(replacement_, q + replacement_.size())) {
        matches.emplace_back(q, q + replacement_.size());
      }
      return applyBehavior(segmentsFromMatches(p.text.size(), matches), Behavior::kMergedWithNext);
    });
  }

 private:
  std::string replacement_;
  Prepend prepend_;
  bool split_;
};

class Sequence : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> parts) : parts_(std::move(parts)) {}
  void preTokenize(std::vector<PrePiece>& pieces) const override {
    for (const auto& p : parts_) p->preTokenize(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

bool isNumeric(char32_t cp) {
  auto c = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return c == UTF8PROC_CATEGORY_ND || c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_NO;
}

bool isPunctuation(char32_t cp) {
  if (cp < 0x80) return std::ispunct(static_cast<int>(cp)) != 0;
  auto c = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

StatusOr<std::unique_ptr<Regex>> compileOrPrefix(const std::string& pattern, const std::string& at) {
  auto r = Regex::compile(pattern);
  if (!r.ok()) return r.status().withPrefix(at);
  return r;
}

}  // namespace

StatusOr<std::unique_ptr<PreTokenizer>> parsePreTokenizer(const json& j, const std::string& where) {
  std::string type, at;
  LLMC_RETURN_IF_ERROR(getComponentType(j, where, &type, &at));
  using Ptr = std::unique_ptr<PreTokenizer>;
  if (type == "ByteLevel") {
    bool addPrefixSpace = true, useRegex = true;
    LLMC_RETURN_IF_ERROR(getBool(j, "add_prefix_space", at, &addPrefixSpace));
    LLMC_RETURN_IF_ERROR(getBool(j, "use_regex", at, &useRegex));
    std::unique_ptr<Regex> regex;
    if (useRegex) {
      LLMC_ASSIGN_OR_RETURN(regex, compileOrPrefix(kGpt2Pattern, at));
    }
    return Ptr(new ByteLevel(addPrefixSpace, std::move(regex)));
  }
  if (type == "Split") {
    Pattern pattern;
    bool invert = false;
    LLMC_RETURN_IF_ERROR(getPattern(j, at, &pattern));
    LLMC_RETURN_IF_ERROR(getBool(j, "invert", at, &invert));
    LLMC_ASSIGN_OR_RETURN(Behavior behavior, parseBehavior(j, at));
    std::unique_ptr<Regex> regex;
    if (pattern.isRegex) {
      LLMC_ASSIGN_OR_RETURN(regex, compileOrPrefix(pattern.text, at));
    }
    return Ptr(new Split(std::move(pattern), std::move(regex), behavior, invert));
  }
  if (type == "Metaspace") {
    std::string replacement = "\xE2\x96\x81";  // '▁'
    LLMC_RETURN_IF_ERROR(getString(j, "replacement", at, &replacement, /*required=*/false));
    bool split = true;
    LLMC_RETURN_IF_ERROR(getBool(j, "split", at, &split));
    Metaspace::Prepend prepend = Metaspace::Prepend::kAlways;
    std::string scheme;
    LLMC_RETURN_IF_ERROR(getString(j, "prepend_scheme", at, &scheme, /*required=*/false));
    if (scheme == "first") {
      prepend = Metaspace::Prepend::kFirst;
    } else if (scheme == "never") {
      prepend = Metaspace::Prepend::kNever;
    } else if (scheme.empty()) {
      bool addPrefixSpace = true;  // the older files say add_prefix_space instead
      LLMC_RETURN_IF_ERROR(getBool(j, "add_prefix_space", at, &addPrefixSpace));
      if (!addPrefixSpace) prepend = Metaspace::Prepend::kNever;
    } else if (scheme != "always") {
      return InvalidArgument(at + ": unknown prepend_scheme '" + scheme + "'");
    }
    return Ptr(new Metaspace(replacement, prepend, split));
  }
  if (type == "Sequence") {
    auto it = j.find("pretokenizers");
    if (it == j.end() || !it->is_array()) {
      return InvalidArgument(at + ": field 'pretokenizers' must be an array");
    }
    std::vector<Ptr> parts;
    for (size_t i = 0; i < it->size(); ++i) {
      auto p = parsePreTokenizer((*it)[i], where + ".pretokenizers[" + std::to_string(i) + "]");
      if (!p.ok()) return p.status();
      parts.push_back(std::move(p).value());
    }
    return Ptr(new Sequence(std::move(parts)));
  }
  if (type == "Digits") {
    bool individual = false;
    LLMC_RETURN_IF_ERROR(getBool(j, "individual_digits", at, &individual));
    return Ptr(new PredicateSplit(isNumeric,
                                  individual ? Behavior::kIsolated : Behavior::kContiguous));
  }
  if (type == "Punctuation") {
    Behavior behavior = Behavior::kIsolated;
    if (j.contains("behavior")) {
      LLMC_ASSIGN_OR_RETURN(behavior, parseBehavior(j, at));
    }
    return Ptr(new PredicateSplit(isPunctuation, behavior));
  }
  if (type == "WhitespaceSplit") {
    return Ptr(new PredicateSplit(isWhitespace, Behavior::kRemoved));
  }
  if (type == "Whitespace") {
    // HF keeps the matches of \w+|[^\w\s]+ (Split with invert + Removed).
    Pattern p{true, "\\w+|[^\\w\\s]+"};
    LLMC_ASSIGN_OR_RETURN(auto regex, compileOrPrefix(p.text, at));
    return Ptr(new Split(p, std::move(regex), Behavior::kRemoved, /*invert=*/true));
  }
  if (type == "BertPreTokenizer") {
    std::vector<Ptr> parts;
    parts.push_back(Ptr(new PredicateSplit(isWhitespace, Behavior::kRemoved)));
    parts.push_back(Ptr(new PredicateSplit(isPunctuation, Behavior::kIsolated)));
    return Ptr(new Sequence(std::move(parts)));
  }
  return Unsupported(where + ": unsupported pre_tokenizer type '" + type +
                     "' (supported: ByteLevel, Split, Sequence, Metaspace, Digits, Punctuation, "
                     "Whitespace, WhitespaceSplit, BertPreTokenizer)");
}

}  // namespace llmc::tok

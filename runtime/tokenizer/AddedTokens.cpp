// AddedTokens.cpp - trie matching of added tokens with HF's lstrip/rstrip/single_word rules.
#include "AddedTokens.h"

#include <algorithm>

#include <utf8proc.h>

#include "Utf8.h"

namespace llmc::tok {
namespace {

bool isWordChar(char32_t cp) {
  if (cp == '_') return true;
  auto c = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
         (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO);
}

// Last code point of s (valid UTF-8, non-empty).
char32_t lastCodePoint(std::string_view s) {
  size_t i = s.size() - 1;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  size_t n = validSequenceLength(s, i);
  return n ? decodeAt(s, i, n) : kReplacementChar;
}

char32_t firstCodePoint(std::string_view s) {
  size_t n = validSequenceLength(s, 0);
  return n ? decodeAt(s, 0, n) : kReplacementChar;
}

// Start of the whitespace run that ends s (0 when s is all whitespace).
size_t trailingSpaceStart(std::string_view s) {
  size_t start = 0;
  forEachCodePoint(s, [&](size_t i, size_t len, char32_t cp) {
    if (!isWhitespace(cp)) start = i + len;
  });
  return start;
}

// Length of the whitespace run that starts s.
size_t leadingSpaceLength(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t n = validSequenceLength(s, i);
    if (n == 0 || !isWhitespace(decodeAt(s, i, n))) break;
    i += n;
  }
  return i;
}

}  // namespace

void AddedVocabulary::Trie::insert(std::string_view s, int32_t token) {
  if (s.empty()) return;
  firstByte[static_cast<unsigned char>(s[0])] = true;
  int32_t node = 0;
  for (unsigned char b : s) {
    int32_t next = child(node, b);
    if (next < 0) {
      next = static_cast<int32_t>(nodes.size());
      auto& ch = nodes[node].children;
      ch.insert(std::lower_bound(ch.begin(), ch.end(), std::make_pair(b, int32_t(-1))),
                std::make_pair(b, next));
      nodes.emplace_back();
    }
    node = next;
  }
  // Two tokens with one spelling: the first keeps it (as a map insert that keeps the first).
  if (nodes[node].terminal < 0) nodes[node].terminal = token;
}

int32_t AddedVocabulary::Trie::child(int32_t node, unsigned char b) const {
  const auto& ch = nodes[node].children;
  auto it = std::lower_bound(ch.begin(), ch.end(), std::make_pair(b, int32_t(-1)));
  return it != ch.end() && it->first == b ? it->second : -1;
}

std::pair<int32_t, size_t> AddedVocabulary::Trie::longestAt(std::string_view text,
                                                            size_t pos) const {
  std::pair<int32_t, size_t> best{-1, 0};
  int32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    node = child(node, static_cast<unsigned char>(text[i]));
    if (node < 0) break;
    if (nodes[node].terminal >= 0) best = {nodes[node].terminal, i + 1 - pos};
  }
  return best;
}

void AddedVocabulary::build(std::vector<AddedToken> tokens) {
  tokens_ = std::move(tokens);
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& t = tokens_[i];
    byId_.emplace(t.id, i);
    byContent_.emplace(t.content, t.id);
    if (t.normalized) {
      normalized_.insert(t.decodeForm, static_cast<int32_t>(i));
    } else {
      raw_.insert(t.content, static_cast<int32_t>(i));
    }
  }
}

std::vector<TextSegment> AddedVocabulary::split(std::string_view text, bool normalizedSet) const {
  const Trie& trie = normalizedSet ? normalized_ : raw_;
  std::vector<TextSegment> out;
  if (text.empty()) return {{0, 0, -1}};
  size_t consumed = 0;  // end of the last emitted segment
  size_t pos = 0;
  while (pos < text.size()) {
    if (!trie.firstByte[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    auto [index, len] = trie.longestAt(text, pos);
    if (index < 0) {
      ++pos;
      continue;
    }
    const AddedToken& tok = tokens_[index];
    size_t start = pos, stop = pos + len;
    pos = stop;  // matching resumes after this match even when the rules reject it
    if (tok.singleWord) {
      bool spaceBefore = start == 0 || !isWordChar(lastCodePoint(text.substr(0, start)));
      bool spaceAfter = stop == text.size() || !isWordChar(firstCodePoint(text.substr(stop)));
      if (!spaceBefore || !spaceAfter) continue;
    }
    if (tok.lstrip) {
      // Whitespace before the token joins it, except what an earlier match already took.
      start = std::max(trailingSpaceStart(text.substr(0, start)), consumed);
    }
    if (tok.rstrip) stop += leadingSpaceLength(text.substr(stop));
    if (consumed < start) out.push_back({consumed, start, -1});
    out.push_back({start, stop, tok.id});
    consumed = stop;
  }
  if (consumed != text.size()) out.push_back({consumed, text.size(), -1});
  return out;
}

const AddedToken* AddedVocabulary::byId(int32_t id) const {
  auto it = byId_.find(id);
  return it == byId_.end() ? nullptr : &tokens_[it->second];
}

std::optional<int32_t> AddedVocabulary::idOf(std::string_view content) const {
  auto it = byContent_.find(std::string(content));
  if (it == byContent_.end()) return std::nullopt;
  return it->second;
}

}  // namespace llmc::tok

// Utf8.cpp - UTF-8 decoding, lossy repair and incomplete-tail detection (owner: tokenizer).
#include "Utf8.h"

namespace llmc::tok {
namespace {

// The well-formed byte sequences of Unicode Table 3-7: the allowed range of the second byte depends
// on the lead byte (this is what excludes overlongs, surrogates and values above U+10FFFF).
bool secondByteRange(unsigned char lead, unsigned char* lo, unsigned char* hi, size_t* len) {
  *lo = 0x80;
  *hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    *len = 2;
  } else if (lead == 0xE0) {
    *len = 3;
    *lo = 0xA0;
  } else if (lead == 0xED) {
    *len = 3;
    *hi = 0x9F;
  } else if (lead >= 0xE1 && lead <= 0xEF) {
    *len = 3;
  } else if (lead == 0xF0) {
    *len = 4;
    *lo = 0x90;
  } else if (lead >= 0xF1 && lead <= 0xF3) {
    *len = 4;
  } else if (lead == 0xF4) {
    *len = 4;
    *hi = 0x8F;
  } else {
    return false;
  }
  return true;
}

bool isContinuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// Length of the longest prefix of s[i..] that is a prefix of some well-formed sequence (at least 1
// for any byte): the "maximal subpart" that becomes one U+FFFD when it is not complete.
size_t maximalSubpart(std::string_view s, size_t i, bool* complete) {
  unsigned char lead = static_cast<unsigned char>(s[i]);
  *complete = false;
  if (lead < 0x80) {
    *complete = true;
    return 1;
  }
  unsigned char lo, hi;
  size_t len;
  if (!secondByteRange(lead, &lo, &hi, &len)) return 1;
  size_t n = 1;
  if (i + n >= s.size()) return n;
  unsigned char b1 = static_cast<unsigned char>(s[i + n]);
  if (b1 < lo || b1 > hi) return n;
  ++n;
  while (n < len) {
    if (i + n >= s.size() || !isContinuation(static_cast<unsigned char>(s[i + n]))) return n;
    ++n;
  }
  *complete = true;
  return n;
}

}  // namespace

size_t validSequenceLength(std::string_view s, size_t i) {
  if (i >= s.size()) return 0;
  bool complete;
  size_t n = maximalSubpart(s, i, &complete);
  return complete ? n : 0;
}

char32_t decodeAt(std::string_view s, size_t i, size_t len) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  switch (len) {
    case 1: return b(0);
    case 2: return (char32_t(b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3: return (char32_t(b(0) & 0x0F) << 12) | (char32_t(b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    case 4:
      return (char32_t(b(0) & 0x07) << 18) | (char32_t(b(1) & 0x3F) << 12) |
             (char32_t(b(2) & 0x3F) << 6) | (b(3) & 0x3F);
    default: return kReplacementChar;
  }
}

void appendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool isValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = validSequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string toValidUtf8Lossy(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    bool complete;
    size_t n = maximalSubpart(s, i, &complete);
    if (complete) {
      out.append(s.data() + i, n);
    } else {
      out.append(kReplacementUtf8);
    }
    i += n;
  }
  return out;
}

size_t incompleteTailLength(std::string_view s) {
  // A lead byte can be at most 3 bytes before the end for the tail to be incomplete.
  size_t start = s.size() >= 3 ? s.size() - 3 : 0;
  for (size_t i = start; i < s.size(); ++i) {
    unsigned char b = static_cast<unsigned char>(s[i]);
    if (isContinuation(b)) continue;
    bool complete;
    size_t n = maximalSubpart(s, i, &complete);
    // Incomplete only if the subpart runs to the very end (more bytes could finish it).
    if (!complete && i + n == s.size() && b >= 0xC2 && b <= 0xF4) return s.size() - i;
  }
  return 0;
}

bool isWhitespace(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

}  // namespace llmc::tok

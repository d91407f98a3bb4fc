// Utf8.h - UTF-8 helpers for the tokenizer (owner: tokenizer).
//
// HuggingFace `tokenizers` works on Rust strings, which are always valid UTF-8; our API takes bytes.
// These helpers decode code points, repair invalid input the way Rust's String::from_utf8_lossy does
// (one U+FFFD per "maximal subpart" of an invalid sequence, Unicode 15 §3.9), and find where a byte
// string stops being complete UTF-8 (the streaming decoder holds those bytes back).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace llmc::tok {

inline constexpr char32_t kReplacementChar = 0xFFFD;
inline constexpr std::string_view kReplacementUtf8 = "\xEF\xBF\xBD";

// Length of the valid UTF-8 sequence starting at s[i], or 0 when the bytes there are not one.
size_t validSequenceLength(std::string_view s, size_t i);

// Decodes the valid sequence of length `len` at s[i] (from validSequenceLength).
char32_t decodeAt(std::string_view s, size_t i, size_t len);

// Appends the UTF-8 encoding of `cp` (must be a scalar value) to `out`.
void appendUtf8(std::string& out, char32_t cp);

// True when `s` is entirely valid UTF-8.
bool isValidUtf8(std::string_view s);

// Rust's String::from_utf8_lossy: each maximal subpart of an ill-formed sequence becomes U+FFFD.
std::string toValidUtf8Lossy(std::string_view s);

// Number of trailing bytes of `s` that form a proper prefix of a valid multi-byte sequence (that
// later bytes could complete), 0..3. A streaming decoder must hold these back.
size_t incompleteTailLength(std::string_view s);

// Rust's char::is_whitespace (the Unicode White_Space property).
bool isWhitespace(char32_t cp);

// Calls f(begin, length, codePoint) for each code point of valid UTF-8 `s`.
template <typename F>
void forEachCodePoint(std::string_view s, F&& f) {
  size_t i = 0;
  while (i < s.size()) {
    size_t len = validSequenceLength(s, i);
    if (len == 0) len = 1;  // callers pass valid text; be safe and step one byte
    f(i, len, decodeAt(s, i, len));
    i += len;
  }
}

}  // namespace llmc::tok

// ByteLevelMap.h - GPT-2's reversible byte <-> printable-character table (owner: tokenizer).
//
// Byte-level BPE never sees raw bytes: each byte is shown as one printable code point. Bytes that
// are printable Latin-1 ('!'..'~', '¡'..'¬', '®'..'ÿ') map to themselves; the other 68 bytes map,
// in increasing byte order, to U+0100, U+0101, ... (so ' ' -> 'Ġ' U+0120, '\n' -> 'Ċ' U+010A).
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace llmc::tok {

class ByteLevelMap {
 public:
  static const ByteLevelMap& get();

  // UTF-8 of the code point that stands for byte b.
  const std::string& encodeByte(unsigned char b) const { return byteToUtf8_[b]; }
  // Appends the byte-level form of arbitrary bytes.
  void encode(std::string_view bytes, std::string& out) const;
  // The byte that code point cp stands for, or -1 when cp is not in the table.
  int decodeChar(char32_t cp) const { return cp < charToByte_.size() ? charToByte_[cp] : -1; }

 private:
  ByteLevelMap();
  std::array<std::string, 256> byteToUtf8_;
  std::array<int, 324> charToByte_;  // code points used are all below U+0144
};

}  // namespace llmc::tok

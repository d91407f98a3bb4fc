// ByteLevelMap.cpp - builds the GPT-2 byte table once (owner: tokenizer).
#include "ByteLevelMap.h"

#include "Utf8.h"

namespace llmc::tok {

const ByteLevelMap& ByteLevelMap::get() {
  static const ByteLevelMap map;
  return map;
}

ByteLevelMap::ByteLevelMap() {
  charToByte_.fill(-1);
  auto printable = [](int b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  };
  int next = 256;
  for (int b = 0; b < 256; ++b) {
    int cp = printable(b) ? b : next++;
    appendUtf8(byteToUtf8_[b], static_cast<char32_t>(cp));
    charToByte_[cp] = b;
  }
}

void ByteLevelMap::encode(std::string_view bytes, std::string& out) const {
  for (unsigned char b : bytes) out += byteToUtf8_[b];
}

}  // namespace llmc::tok

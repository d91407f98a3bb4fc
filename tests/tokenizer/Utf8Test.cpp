// Utf8Test.cpp - UTF-8 repair, byte-level table and regex facts (owner: tokenizer).
//
// Expected values come from the Unicode Standard (§3.9, "U+FFFD Substitution of Maximal
// Subparts"), from GPT-2's published bytes_to_unicode table, and from GPT-2's pre-tokenization
// pattern semantics, not from this code.
#include <gtest/gtest.h>

#include <set>

#include "ByteLevelMap.h"
#include "Regex.h"
#include "Utf8.h"

namespace llmc::tok {
namespace {

const std::string R = "\xEF\xBF\xBD";  // U+FFFD

TEST(Utf8, LossyRepairFollowsMaximalSubparts) {
  // The Unicode Standard's example: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64.
  EXPECT_EQ(toValidUtf8Lossy("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64"),
            "a" + R + R + R + "b" + R + "c" + R + R + "d");
  EXPECT_EQ(toValidUtf8Lossy("\xC0\xAF"), R + R);              // overlong: two subparts
  EXPECT_EQ(toValidUtf8Lossy("\xED\xA0\x80"), R + R + R);      // a surrogate is not scalar
  EXPECT_EQ(toValidUtf8Lossy("\xF4\x90\x80\x80"), R + R + R + R);  // above U+10FFFF
  EXPECT_EQ(toValidUtf8Lossy("ok\xE4\xBD"), "ok" + R);         // truncated: one subpart
  EXPECT_EQ(toValidUtf8Lossy("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");  // valid emoji kept
  EXPECT_EQ(toValidUtf8Lossy(""), "");
}

TEST(Utf8, Validity) {
  EXPECT_TRUE(isValidUtf8("plain ascii"));
  EXPECT_TRUE(isValidUtf8("\xE4\xBD\xA0\xE5\xA5\xBD"));  // 你好
  EXPECT_FALSE(isValidUtf8("\xFF"));
  EXPECT_FALSE(isValidUtf8("\xE4\xBD"));
  EXPECT_FALSE(isValidUtf8("\xED\xA0\x80"));
}

TEST(Utf8, IncompleteTail) {
  EXPECT_EQ(incompleteTailLength("abc\xE4\xBD"), 2u);      // 2 of 3 bytes of 你
  EXPECT_EQ(incompleteTailLength("\xF0\x9F\x98"), 3u);     // 3 of 4 bytes of 😀
  EXPECT_EQ(incompleteTailLength("a\xC3"), 1u);
  EXPECT_EQ(incompleteTailLength("\xE4\xBD\xA0"), 0u);     // complete
  EXPECT_EQ(incompleteTailLength("\xFF"), 0u);             // invalid, nothing can complete it
  EXPECT_EQ(incompleteTailLength("\xED\xA0"), 0u);         // would be a surrogate
  EXPECT_EQ(incompleteTailLength(""), 0u);
}

TEST(Utf8, EncodeDecodeCodePoints) {
  std::string s;
  appendUtf8(s, 0x41);
  appendUtf8(s, 0xE9);
  appendUtf8(s, 0x4F60);
  appendUtf8(s, 0x1F600);
  EXPECT_EQ(s, "A\xC3\xA9\xE4\xBD\xA0\xF0\x9F\x98\x80");
  std::vector<char32_t> cps;
  forEachCodePoint(s, [&](size_t, size_t, char32_t cp) { cps.push_back(cp); });
  EXPECT_EQ(cps, (std::vector<char32_t>{0x41, 0xE9, 0x4F60, 0x1F600}));
}

TEST(ByteLevelMap, Gpt2Table) {
  const ByteLevelMap& m = ByteLevelMap::get();
  EXPECT_EQ(m.encodeByte(' '), "\xC4\xA0");   // 'Ġ' U+0120
  EXPECT_EQ(m.encodeByte('\n'), "\xC4\x8A");  // 'Ċ' U+010A
  EXPECT_EQ(m.encodeByte('\t'), "\xC4\x89");  // 'ĉ' U+0109
  EXPECT_EQ(m.encodeByte(0x00), "\xC4\x80");  // 'Ā' U+0100
  EXPECT_EQ(m.encodeByte('a'), "a");
  EXPECT_EQ(m.encodeByte('!'), "!");
  EXPECT_EQ(m.encodeByte(0xE9), "\xC3\xA9");  // printable Latin-1 maps to itself: 'é'
  EXPECT_EQ(m.encodeByte(0xAD), "\xC5\x83");  // soft hyphen is the last remapped: U+0143
  std::set<std::string> seen;
  for (int b = 0; b < 256; ++b) {
    const std::string& e = m.encodeByte(static_cast<unsigned char>(b));
    EXPECT_TRUE(seen.insert(e).second) << "byte " << b << " shares its character";
    size_t n = validSequenceLength(e, 0);
    ASSERT_EQ(n, e.size());
    EXPECT_EQ(m.decodeChar(decodeAt(e, 0, n)), b);
  }
  EXPECT_EQ(m.decodeChar(0x4F60), -1);
}

std::vector<std::string> splits(const Regex& re, const std::string& text) {
  std::vector<std::string> out;
  for (auto [b, e] : re.findAll(text)) out.push_back(text.substr(b, e - b));
  return out;
}

TEST(Regex, Gpt2PatternSplits) {
  auto re = Regex::compile(
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");
  ASSERT_TRUE(re.ok()) << re.status().message();
  EXPECT_EQ(splits(**re, "Hello world's 123!!"),
            (std::vector<std::string>{"Hello", " world", "'s", " 123", "!!"}));
  // \s+(?!\S): a run of spaces leaves its last space to the following word.
  EXPECT_EQ(splits(**re, "a   b"), (std::vector<std::string>{"a", "  ", " b"}));
  EXPECT_EQ(splits(**re, "\xD0\xBC\xD0\xB8\xD1\x80 42"),  // Cyrillic letters are \p{L}
            (std::vector<std::string>{"\xD0\xBC\xD0\xB8\xD1\x80", " 42"}));
}

TEST(Regex, CaseInsensitiveGroupAndLookahead) {
  auto re = Regex::compile("(?i:'s|'ll)|\\p{L}+");
  ASSERT_TRUE(re.ok());
  EXPECT_EQ(splits(**re, "IT'S WE'LL"),
            (std::vector<std::string>{"IT", "'S", "WE", "'LL"}));
}

TEST(Regex, WhitespaceIsOnigurumaSet) {
  // U+180E (Mongolian vowel separator) is not White_Space; PCRE2's UCP \s would match it.
  auto re = Regex::compile("\\s+");
  ASSERT_TRUE(re.ok());
  EXPECT_TRUE(re.value()->findAll("a\xE1\xA0\x8E" "b").empty());
  EXPECT_EQ(re.value()->findAll("a\xC2\xA0\xE3\x80\x80" "b").size(), 1u);  // NBSP + U+3000
  auto cls = Regex::compile("[^\\s\\p{L}]+");
  ASSERT_TRUE(cls.ok());
  EXPECT_EQ(splits(**cls, "ab 12\xC2\xA0!"), (std::vector<std::string>{"12", "!"}));
}

TEST(Regex, BadPatternIsAnError) {
  auto re = Regex::compile("(unclosed");
  ASSERT_FALSE(re.ok());
  EXPECT_NE(re.status().message().find("(unclosed"), std::string::npos);
}

}  // namespace
}  // namespace llmc::tok

// TokenizerToyTest.cpp - BPE rules on tiny hand-written tokenizer.json files (owner: tokenizer).
//
// Every expected id list is worked out by hand from the BPE definition (merge the lowest-rank
// adjacent pair, leftmost first) and HF's documented component behavior, not taken from this code.
#include <gtest/gtest.h>

#include "llmc/runtime/Tokenizer.h"

namespace llmc {
namespace {

std::unique_ptr<Tokenizer> load(const std::string& json) {
  auto t = Tokenizer::fromJson(json, "", "toy/tokenizer.json");
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? std::move(t).value() : nullptr;
}

// vocab a b c ab bc abc <x>; `merges` is the JSON array text.
std::string abcTokenizer(const std::string& merges, const std::string& extra = "") {
  return R"({"version":"1.0","added_tokens":[{"id":6,"content":"<x>","single_word":false,
    "lstrip":false,"rstrip":false,"normalized":false,"special":true}],"normalizer":null,
    "pre_tokenizer":null,"decoder":null,)" + extra +
         R"("model":{"type":"BPE","dropout":null,"unk_token":null,"fuse_unk":false,
    "byte_fallback":false,"vocab":{"a":0,"b":1,"c":2,"ab":3,"bc":4,"abc":5,"<x>":6},
    "merges":)" + merges + "}}";
}

TEST(BpeToy, MergesApplyInRankOrder) {
  auto t = load(abcTokenizer(R"(["a b", "ab c"])"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->encode("abc", false), (std::vector<int32_t>{5}));
  EXPECT_EQ(t->encode("ab", false), (std::vector<int32_t>{3}));
  EXPECT_EQ(t->encode("cab", false), (std::vector<int32_t>{2, 3}));
  EXPECT_EQ(t->encode("", false), (std::vector<int32_t>{}));
}

TEST(BpeToy, LowerRankWins) {
  // (b,c) has rank 0, so "abc" becomes a + bc, and no merge (a,bc) exists.
  auto t = load(abcTokenizer(R"(["b c", "a b"])"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->encode("abc", false), (std::vector<int32_t>{0, 4}));
  auto u = load(abcTokenizer(R"(["a b", "b c"])"));
  ASSERT_TRUE(u);
  EXPECT_EQ(u->encode("abc", false), (std::vector<int32_t>{3, 2}));
}

TEST(BpeToy, PairFormatEqualsStringFormat) {
  auto s = load(abcTokenizer(R"(["b c", "a bc"])"));
  auto p = load(abcTokenizer(R"([["b", "c"], ["a", "bc"]])"));
  ASSERT_TRUE(s && p);
  for (const char* text : {"abc", "ab", "bcab", "cba", "abcabc"}) {
    EXPECT_EQ(s->encode(text, false), p->encode(text, false)) << text;
  }
  EXPECT_EQ(p->encode("abc", false), (std::vector<int32_t>{5}));
}

TEST(BpeToy, LeftmostPairFirstOnTies) {
  auto t = load(R"({"model":{"type":"BPE","vocab":{"a":0,"aa":1},"merges":["a a"]}})");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->encode("aaa", false), (std::vector<int32_t>{1, 0}));
  EXPECT_EQ(t->encode("aaaa", false), (std::vector<int32_t>{1, 1}));
}

TEST(BpeToy, AddedTokensSplitTheTextFirst) {
  auto t = load(abcTokenizer(R"(["a b", "ab c"])"));
  ASSERT_TRUE(t);
  // "ab<x>c": <x> is matched before BPE, so "abc" is never merged across it.
  EXPECT_EQ(t->encode("ab<x>c", false), (std::vector<int32_t>{3, 6, 2}));
  EXPECT_EQ(t->tokenToId("<x>"), std::optional<int32_t>(6));
  EXPECT_TRUE(t->isSpecial(6));
  EXPECT_FALSE(t->isSpecial(5));
  // Without a decoder HF joins the tokens with spaces.
  EXPECT_EQ(t->decode({3, 6, 2}, false), "ab <x> c");
  EXPECT_EQ(t->decode({3, 6, 2}, true), "ab c");
  EXPECT_EQ(t->decode({3, 999, -1, 2}, false), "ab c");  // unknown ids are skipped
  EXPECT_EQ(t->vocabSize(), 7);
}

TEST(BpeToy, TemplatePostProcessorAddsBos) {
  auto t = load(abcTokenizer(R"(["a b"])", R"("post_processor":{"type":"TemplateProcessing",
    "single":[{"SpecialToken":{"id":"<x>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
    "special_tokens":{"<x>":{"id":"<x>","ids":[6],"tokens":["<x>"]}}},)"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->encode("ab", true), (std::vector<int32_t>{6, 3}));
  EXPECT_EQ(t->encode("ab", false), (std::vector<int32_t>{3}));
  EXPECT_EQ(t->encode("", true), (std::vector<int32_t>{6}));
  EXPECT_EQ(t->bosId(), std::optional<int32_t>(6));
}

std::string fallbackTokenizer(bool fuseUnk) {
  return std::string(R"({"decoder":{"type":"Sequence","decoders":[{"type":"ByteFallback"},
    {"type":"Fuse"}]},"model":{"type":"BPE","unk_token":"<unk>","fuse_unk":)") +
         (fuseUnk ? "true" : "false") +
         R"(,"byte_fallback":true,"vocab":{"<unk>":0,"<0xC3>":1,"<0xA9>":2,"a":3},"merges":[]}})";
}

TEST(BpeToy, ByteFallbackAndUnk) {
  auto t = load(fallbackTokenizer(true));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->encode("a\xC3\xA9", false), (std::vector<int32_t>{3, 1, 2}));  // é = C3 A9
  // € (E2 82 AC) has no byte tokens: unknown; with fuse_unk consecutive unknowns are one <unk>.
  EXPECT_EQ(t->encode("\xE2\x82\xAC\xE2\x82\xAC" "a", false), (std::vector<int32_t>{0, 3}));
  auto u = load(fallbackTokenizer(false));
  ASSERT_TRUE(u);
  EXPECT_EQ(u->encode("\xE2\x82\xAC\xE2\x82\xAC" "a", false), (std::vector<int32_t>{0, 0, 3}));
  // ByteFallback: valid runs become their bytes; an invalid run one U+FFFD per byte token.
  EXPECT_EQ(t->decode({3, 1, 2}, false), "a\xC3\xA9");
  EXPECT_EQ(t->decode({1, 3}, false), "\xEF\xBF\xBD" "a");
  EXPECT_EQ(t->decode({1, 1}, false), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(BpeToy, InvalidUtf8InputIsRepairedNotFatal) {
  auto t = load(fallbackTokenizer(true));
  ASSERT_TRUE(t);
  // 0xFF becomes U+FFFD, which is unknown here.
  EXPECT_EQ(t->encode("a\xFF" "a", false), (std::vector<int32_t>{3, 0, 3}));
}

TEST(BpeToy, StreamDecoderHoldsIncompleteCharacters) {
  auto t = load(fallbackTokenizer(true));
  ASSERT_TRUE(t);
  StreamDecoder sd(*t);
  EXPECT_EQ(sd.push(3), "a");
  EXPECT_EQ(sd.push(1), "");  // first byte of é: held
  EXPECT_EQ(sd.push(2), "");  // the byte run may still grow
  EXPECT_EQ(sd.push(3), "\xC3\xA9" "a");
  EXPECT_EQ(sd.finish(), "");
}


// Fuse then Strip(" ", 0, 1): one trailing space of the whole text is removed, so a space at the
// current end of the stream may vanish and must not be emitted yet.
TEST(BpeToy, StreamDecoderHoldsWhatATrailingStripMayRemove) {
  auto t = load(R"({"decoder":{"type":"Sequence","decoders":[{"type":"Fuse"},
    {"type":"Strip","content":" ","start":0,"stop":1}]},
    "model":{"type":"BPE","vocab":{"a":0," ":1,"b":2},"merges":[]}})");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->decode({0, 1, 2}, false), "a b");
  EXPECT_EQ(t->decode({0, 1}, false), "a");
  StreamDecoder sd(*t);
  EXPECT_EQ(sd.push(0), "a");
  EXPECT_EQ(sd.push(1), "");
  EXPECT_EQ(sd.push(2), " b");
  EXPECT_EQ(sd.push(1), "");
  EXPECT_EQ(sd.finish(), "");  // decode({0,1,2,1}) is "a b"
}

// Replace("  " -> "\t") after Fuse: a pattern can span two tokens.
TEST(BpeToy, StreamDecoderHoldsAPossibleReplaceMatch) {
  auto t = load(R"({"decoder":{"type":"Sequence","decoders":[{"type":"Fuse"},
    {"type":"Replace","pattern":{"String":"  "},"content":"\t"}]},
    "model":{"type":"BPE","vocab":{"a":0," ":1},"merges":[]}})");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->decode({0, 1, 1, 1, 0}, false), "a\t a");
  StreamDecoder sd(*t);
  std::string joined;
  std::vector<std::string> pieces;
  for (int32_t id : {0, 1, 1, 1, 0}) pieces.push_back(sd.push(id));
  EXPECT_EQ(pieces, (std::vector<std::string>{"a", "", "\t", "", " a"}));
  EXPECT_EQ(sd.finish(), "");
}

}  // namespace
}  // namespace llmc

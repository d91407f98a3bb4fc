// SharedTokenizersTest.cpp - the real tokenizer files of the shared test data (owner: tokenizer).
//
// Facts checked: stories260K's golden file (prompt ids and greedy text computed with HF), and the
// stream decoder's contract on every file: each piece is complete UTF-8 and the pieces join to
// decode(). Skips with a message when the shared data is absent.
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "Utf8.h"
#include "llmc/runtime/Tokenizer.h"

namespace llmc {
namespace {

const std::string kShared = LLMC_SHARED_DIR;

std::unique_ptr<Tokenizer> loadShared(const std::string& rel) {
  auto t = Tokenizer::fromDirectory(kShared + "/" + rel);
  if (!t.ok()) return nullptr;
  return std::move(t).value();
}

#define REQUIRE_SHARED(tok, rel)                                              \
  auto tok = loadShared(rel);                                                 \
  if (!tok) GTEST_SKIP() << "shared test data " << kShared << "/" << rel << " is absent"

TEST(Stories260K, GoldenPromptAndGreedyText) {
  REQUIRE_SHARED(t, "models/stories260K");
  std::ifstream in(kShared + "/models/stories260K/golden_greedy.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto g = nlohmann::json::parse(ss.str(), nullptr, false);
  ASSERT_FALSE(g.is_discarded());
  EXPECT_EQ(t->encode(g["prompt"].get<std::string>(), true),
            g["prompt_ids_with_bos"].get<std::vector<int32_t>>());
  auto ids = g["greedy_new_ids"].get<std::vector<int32_t>>();
  const std::string text = g["greedy_text"].get<std::string>();
  EXPECT_EQ(t->decode(ids, true), text);
  StreamDecoder sd(*t, true);
  std::string joined;
  for (int32_t id : ids) joined += sd.push(id);
  joined += sd.finish();
  EXPECT_EQ(joined, text);
  for (const auto& top : g["logits_after_prompt_top5"]) {
    EXPECT_EQ(t->idToToken(top[0].get<int32_t>()), top[1].get<std::string>());
    EXPECT_EQ(t->tokenToId(top[1].get<std::string>()), top[0].get<int32_t>());
  }
  EXPECT_EQ(t->bosId(), std::optional<int32_t>(1));
  EXPECT_EQ(t->eosIds(), (std::vector<int32_t>{2}));
  EXPECT_EQ(t->vocabSize(), 512);
}

const char* kTexts[] = {
    "Hello world! I love \xF0\x9F\xA4\x97 and \xE4\xBD\xA0\xE5\xA5\xBD.",
    "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7 family",
    "caf\xC3\xA9 vs cafe\xCC\x81, \xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82",
    "def f(x):\n\treturn x  # trailing  \n\n",
    "\xE6\xB7\xB1\xE5\xBA\xA6\xE5\xAD\xA6\xE4\xB9\xA0 \xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7",
};

void expectStreamMatchesDecode(const Tokenizer& t, const std::vector<int32_t>& ids, bool skip) {
  StreamDecoder sd(t, skip);
  std::string joined;
  for (int32_t id : ids) {
    std::string piece = sd.push(id);
    EXPECT_TRUE(tok::isValidUtf8(piece)) << "piece is not complete UTF-8";
    joined += piece;
  }
  std::string rest = sd.finish();
  EXPECT_TRUE(tok::isValidUtf8(rest));
  joined += rest;
  EXPECT_EQ(joined, t.decode(ids, skip));
}

class SharedFiles : public ::testing::TestWithParam<const char*> {};

TEST_P(SharedFiles, StreamDecoderPiecesAreCompleteAndJoinToDecode) {
  REQUIRE_SHARED(t, GetParam());
  for (const char* text : kTexts) {
    auto ids = t->encode(text, true);
    expectStreamMatchesDecode(*t, ids, false);
    expectStreamMatchesDecode(*t, ids, true);
    EXPECT_EQ(t->decode(t->encode(text, false), false).find("\xEF\xBF\xBD"), std::string::npos);
  }
  // Random ids: invalid byte sequences, special tokens anywhere.
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> any(0, t->vocabSize() - 1);
  for (int n = 0; n < 200; ++n) {
    std::vector<int32_t> ids(1 + n % 17);
    for (auto& id : ids) id = any(rng);
    expectStreamMatchesDecode(*t, ids, n % 2 == 0);
  }
}

TEST_P(SharedFiles, StreamDecoderEmitsWordsWithoutWaitingForTheEnd) {
  REQUIRE_SHARED(t, GetParam());
  auto ids = t->encode("The quick brown fox jumps over the lazy dog", false);
  StreamDecoder sd(*t);
  std::string beforeLast;
  for (size_t i = 0; i + 1 < ids.size(); ++i) beforeLast += sd.push(ids[i]);
  // ASCII text never needs holding back: all but (at most) the last token is out already.
  EXPECT_GE(beforeLast.size(), std::string("The quick brown fox jumps over the lazy").size() - 1);
}

TEST_P(SharedFiles, ConcurrentEncodeIsConsistent) {
  REQUIRE_SHARED(t, GetParam());
  std::vector<std::vector<int32_t>> expected;
  for (const char* text : kTexts) expected.push_back(t->encode(text, false));
  bool ok[2] = {true, true};
  auto work = [&](int k) {
    for (int r = 0; r < 50; ++r) {
      for (size_t i = 0; i < expected.size(); ++i) ok[k] &= t->encode(kTexts[i], false) == expected[i];
    }
  };
  std::thread a(work, 0), b(work, 1);
  a.join();
  b.join();
  EXPECT_TRUE(ok[0] && ok[1]);
}

INSTANTIATE_TEST_SUITE_P(Files, SharedFiles,
                         ::testing::Values("tokenizers/gpt2", "tokenizers/llama2",
                                           "tokenizers/llama3", "tokenizers/qwen3",
                                           "models/stories260K"),
                         [](const auto& paramInfo) {
                           std::string n = paramInfo.param;
                           return n.substr(n.find('/') + 1);
                         });

}  // namespace
}  // namespace llmc

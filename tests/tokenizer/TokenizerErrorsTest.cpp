// TokenizerErrorsTest.cpp - bad or unsupported tokenizer files give clear Status values
// (owner: tokenizer).
#include <gtest/gtest.h>

#include "llmc/runtime/Tokenizer.h"

namespace llmc {
namespace {

Status loadError(const std::string& json, const std::string& config = "") {
  auto t = Tokenizer::fromJson(json, config, "models/x/tokenizer.json");
  EXPECT_FALSE(t.ok());
  return t.ok() ? Status::Ok() : t.status();
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

const char* kModel = R"("model":{"type":"BPE","vocab":{"a":0},"merges":[]})";

TEST(TokenizerErrors, BadJsonNamesFileAndOffset) {
  Status s = loadError(R"({"model": {"type": "BPE", "vocab": {"a": 0,}}})");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(s.message(), "models/x/tokenizer.json")) << s.message();
  EXPECT_TRUE(contains(s.message(), "byte")) << s.message();
  EXPECT_EQ(loadError("").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(loadError("[1, 2]").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(loadError("{\"model\": ").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(loadError(std::string("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"") + "\xFF" +
                      "\":0},\"merges\":[]}}")
                .code(),
            StatusCode::kInvalidArgument);
}

TEST(TokenizerErrors, MissingModel) {
  Status s = loadError(R"({"normalizer": null})");
  EXPECT_TRUE(contains(s.message(), "model")) << s.message();
}

TEST(TokenizerErrors, UnsupportedComponentsAreNamed) {
  Status m = loadError(R"({"model":{"type":"Unigram","vocab":[["a",0.0]]}})");
  EXPECT_EQ(m.code(), StatusCode::kUnsupported);
  EXPECT_TRUE(contains(m.message(), "model") && contains(m.message(), "Unigram")) << m.message();

  Status n = loadError(std::string(R"({"normalizer":{"type":"Precompiled","precompiled_charsmap":""},)") +
                       kModel + "}");
  EXPECT_EQ(n.code(), StatusCode::kUnsupported);
  EXPECT_TRUE(contains(n.message(), "normalizer") && contains(n.message(), "Precompiled"))
      << n.message();
  EXPECT_TRUE(contains(n.message(), "models/x/tokenizer.json")) << n.message();

  Status p = loadError(std::string(R"({"pre_tokenizer":{"type":"Sequence","pretokenizers":[
      {"type":"UnicodeScripts"}]},)") + kModel + "}");
  EXPECT_EQ(p.code(), StatusCode::kUnsupported);
  EXPECT_TRUE(contains(p.message(), "pre_tokenizer") && contains(p.message(), "UnicodeScripts"))
      << p.message();

  Status d = loadError(std::string(R"({"decoder":{"type":"CTC"},)") + kModel + "}");
  EXPECT_EQ(d.code(), StatusCode::kUnsupported);
  EXPECT_TRUE(contains(d.message(), "decoder") && contains(d.message(), "CTC")) << d.message();

  Status q = loadError(std::string(R"({"post_processor":{"type":"Nope"},)") + kModel + "}");
  EXPECT_TRUE(contains(q.message(), "post_processor")) << q.message();
}

TEST(TokenizerErrors, MalformedModelFields) {
  Status m = loadError(R"({"model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]}})");
  EXPECT_EQ(m.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(m.message(), "merges[0]") && contains(m.message(), "'b'")) << m.message();
  Status s = loadError(R"({"model":{"type":"BPE","vocab":{"a":0},"merges":["a"]}})");
  EXPECT_TRUE(contains(s.message(), "merges[0]")) << s.message();
  Status v = loadError(R"({"model":{"type":"BPE","vocab":{"a":-1},"merges":[]}})");
  EXPECT_TRUE(contains(v.message(), "vocab")) << v.message();
  Status u = loadError(R"({"model":{"type":"BPE","unk_token":"<unk>","vocab":{"a":0},"merges":[]}})");
  EXPECT_TRUE(contains(u.message(), "unk_token")) << u.message();
  Status r = loadError(std::string(R"({"pre_tokenizer":{"type":"Split","pattern":{"Regex":"(a"},
      "behavior":"Isolated","invert":false},)") + kModel + "}");
  EXPECT_TRUE(contains(r.message(), "pre_tokenizer") && contains(r.message(), "(a")) << r.message();
}

TEST(TokenizerErrors, BadConfigNamesConfigFile) {
  Status s = loadError(std::string("{") + kModel + "}", "{not json");
  EXPECT_TRUE(contains(s.message(), "models/x/tokenizer_config.json")) << s.message();
}

TEST(TokenizerErrors, MissingDirectory) {
  auto t = Tokenizer::fromDirectory("/nonexistent/llmc-tokenizer-test");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(contains(t.status().message(), "/nonexistent/llmc-tokenizer-test/tokenizer.json"));
}

}  // namespace
}  // namespace llmc

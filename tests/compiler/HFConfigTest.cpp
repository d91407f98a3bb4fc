//===- HFConfigTest.cpp - config.json parsing -----------------------------===//
//
// Owned by the compiler (cc). Inputs are config.json texts as transformers writes them; expected
// values are read off those texts (or transformers' documented defaults), never off our output.
//
//===----------------------------------------------------------------------===//
#include "llmc/Compiler/Import/HF/HFConfig.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using llmc::StatusCode;
using llmc::hf::parseConfigText;
using nlohmann::json;

namespace {

json llamaConfig() {
  return json::parse(R"({
    "architectures": ["LlamaForCausalLM"], "model_type": "llama",
    "hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 5,
    "num_attention_heads": 8, "num_key_value_heads": 4, "vocab_size": 512,
    "max_position_embeddings": 512, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
    "hidden_act": "silu", "tie_word_embeddings": true, "bos_token_id": 1, "eos_token_id": 2,
    "torch_dtype": "float32"})");
}

llmc::StatusOr<llmc::models::ModelConfig> parse(const json &j) {
  return parseConfigText(j.dump(), "m/config.json");
}

void expectError(const json &j, StatusCode code, std::initializer_list<const char *> needles) {
  auto r = parse(j);
  ASSERT_FALSE(r.ok()) << j.dump();
  EXPECT_EQ(r.status().code(), code) << r.status().message();
  EXPECT_NE(r.status().message().find("m/config.json"), std::string::npos) << r.status().message();
  for (const char *n : needles)
    EXPECT_NE(r.status().message().find(n), std::string::npos)
        << "'" << n << "' not in: " << r.status().message();
}

TEST(HFConfig, ParsesLlama) {
  auto r = parse(llamaConfig());
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto &c = *r;
  EXPECT_EQ(c.family, "llama");
  EXPECT_EQ(c.architecture, "LlamaForCausalLM");
  EXPECT_EQ(c.hiddenSize, 64);
  EXPECT_EQ(c.intermediateSize, 172);
  EXPECT_EQ(c.numLayers, 5);
  EXPECT_EQ(c.numHeads, 8);
  EXPECT_EQ(c.numKvHeads, 4);
  EXPECT_EQ(c.headDim, 8);  // hidden / heads
  EXPECT_EQ(c.vocabSize, 512);
  EXPECT_EQ(c.maxPositionEmbeddings, 512);
  EXPECT_DOUBLE_EQ(c.normEps, 1e-5);
  EXPECT_DOUBLE_EQ(c.ropeTheta, 10000.0);
  EXPECT_TRUE(c.tieWordEmbeddings);
  EXPECT_FALSE(c.attentionBias);
  EXPECT_EQ(c.bosTokenIds, std::vector<int64_t>{1});
  EXPECT_EQ(c.eosTokenIds, std::vector<int64_t>{2});
  EXPECT_EQ(c.torchDtype, "float32");
  EXPECT_EQ(c.slidingWindow, 0);
  EXPECT_EQ(c.ropeScaling.kind, llmc::models::RopeScaling::Kind::kNone);
}

TEST(HFConfig, Defaults) {
  json j = llamaConfig();
  j.erase("num_key_value_heads");
  j.erase("rms_norm_eps");
  j.erase("max_position_embeddings");
  j["head_dim"] = 16;
  j["eos_token_id"] = {2, 7};
  j["dtype"] = "bfloat16";  // transformers >= 4.56 spelling
  j.erase("torch_dtype");
  auto r = parse(j);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->numKvHeads, 8);  // = num_attention_heads
  EXPECT_EQ(r->headDim, 16);    // explicit head_dim wins over hidden/heads
  EXPECT_DOUBLE_EQ(r->normEps, 1e-6);  // LlamaConfig default
  EXPECT_EQ(r->maxPositionEmbeddings, 2048);
  EXPECT_EQ(r->eosTokenIds, (std::vector<int64_t>{2, 7}));
  EXPECT_EQ(r->torchDtype, "bfloat16");
}

TEST(HFConfig, MissingRequiredKeyNamesFileAndKey) {
  for (const char *key : {"hidden_size", "intermediate_size", "num_hidden_layers",
                          "num_attention_heads", "vocab_size", "model_type"}) {
    json j = llamaConfig();
    j.erase(key);
    expectError(j, StatusCode::kInvalidArgument, {"missing required key", key});
  }
}

TEST(HFConfig, WrongTypes) {
  json j = llamaConfig();
  j["hidden_size"] = "64";
  expectError(j, StatusCode::kInvalidArgument, {"hidden_size", "integer"});
  j = llamaConfig();
  j["tie_word_embeddings"] = 1;
  expectError(j, StatusCode::kInvalidArgument, {"tie_word_embeddings"});
  j = llamaConfig();
  j["eos_token_id"] = {2, "x"};
  expectError(j, StatusCode::kInvalidArgument, {"eos_token_id"});
  j = llamaConfig();
  j["num_key_value_heads"] = 3;  // 8 heads are not a multiple of 3
  expectError(j, StatusCode::kInvalidArgument, {"num_key_value_heads"});
}

TEST(HFConfig, NotJson) {
  auto r = parseConfigText("{\"model_type\": ", "m/config.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("m/config.json: not valid JSON"), std::string::npos);
}

TEST(HFConfig, UnsupportedArchitecture) {
  json j = llamaConfig();
  j["model_type"] = "gpt_neox";
  j["architectures"] = {"GPTNeoXForCausalLM"};
  expectError(j, StatusCode::kUnsupported, {"gpt_neox", "not supported", "llama, mistral, phi3, qwen2"});
  j = llamaConfig();
  j["architectures"] = {"LlamaForSequenceClassification"};
  expectError(j, StatusCode::kUnsupported, {"LlamaForSequenceClassification"});
  j = llamaConfig();
  j["hidden_act"] = "relu2";
  expectError(j, StatusCode::kUnsupported, {"hidden_act", "relu2"});
}

TEST(HFConfig, RopeScalingLlama3OldAndNewSpelling) {
  json j = llamaConfig();
  j["rope_theta"] = 500000.0;
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
  auto r = parse(j);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->ropeScaling.kind, llmc::models::RopeScaling::Kind::kLlama3);
  EXPECT_DOUBLE_EQ(r->ropeScaling.factor, 8.0);
  EXPECT_DOUBLE_EQ(r->ropeScaling.highFreqFactor, 4.0);
  EXPECT_EQ(r->ropeScaling.originalMaxPositionEmbeddings, 8192);
  EXPECT_DOUBLE_EQ(r->ropeTheta, 500000.0);

  // transformers 5: everything inside rope_parameters, theta included.
  json k = llamaConfig();
  k.erase("rope_theta");
  k["rope_parameters"] = j["rope_scaling"];
  k["rope_parameters"]["rope_theta"] = 500000.0;
  auto r2 = parse(k);
  ASSERT_TRUE(r2.ok()) << r2.status().message();
  EXPECT_EQ(r2->ropeScaling.kind, llmc::models::RopeScaling::Kind::kLlama3);
  EXPECT_DOUBLE_EQ(r2->ropeTheta, 500000.0);

  // Old "type" key, linear.
  json l = llamaConfig();
  l["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  auto r3 = parse(l);
  ASSERT_TRUE(r3.ok()) << r3.status().message();
  EXPECT_EQ(r3->ropeScaling.kind, llmc::models::RopeScaling::Kind::kLinear);
  EXPECT_DOUBLE_EQ(r3->ropeScaling.factor, 2.0);

  json d = llamaConfig();
  d["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1234.0}};
  auto r4 = parse(d);
  ASSERT_TRUE(r4.ok()) << r4.status().message();
  EXPECT_EQ(r4->ropeScaling.kind, llmc::models::RopeScaling::Kind::kNone);
  EXPECT_DOUBLE_EQ(r4->ropeTheta, 1234.0);
}

TEST(HFConfig, BadRopeScaling) {
  json j = llamaConfig();
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  expectError(j, StatusCode::kUnsupported, {"yarn", "not supported", "llama3"});
  j["rope_scaling"] = {{"type", "dynamic"}, {"factor", 4.0}};
  expectError(j, StatusCode::kUnsupported, {"dynamic"});
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"high_freq_factor", 4.0}};
  expectError(j, StatusCode::kInvalidArgument, {"low_freq_factor", "rope_scaling"});
  j["rope_scaling"] = {{"rope_type", "linear"}};
  expectError(j, StatusCode::kInvalidArgument, {"factor"});
  j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", "two"}};
  expectError(j, StatusCode::kInvalidArgument, {"factor", "number"});
  j["rope_scaling"] = "llama3";
  expectError(j, StatusCode::kInvalidArgument, {"rope_scaling", "object"});
}

TEST(HFConfig, MistralSlidingWindow) {
  json j = llamaConfig();
  j["model_type"] = "mistral";
  j["architectures"] = {"MistralForCausalLM"};
  auto r = parse(j);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->slidingWindow, 4096);  // MistralConfig default when the key is absent
  EXPECT_EQ(r->slidingWindowForLayer(3), 4096);
  j["sliding_window"] = nullptr;      // explicit null: no window (Mistral v0.2+)
  r = parse(j);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->slidingWindow, 0);
  j["sliding_window"] = 128;
  j["attention_bias"] = true;          // MistralAttention has no biases regardless
  r = parse(j);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->slidingWindow, 128);
  EXPECT_FALSE(r->attentionBias);
}

TEST(HFConfig, Qwen2BiasAndWindowLayers) {
  json j = llamaConfig();
  j["model_type"] = "qwen2";
  j["architectures"] = {"Qwen2ForCausalLM"};
  j["sliding_window"] = 32;
  j["use_sliding_window"] = false;
  auto r = parse(j);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->attentionBias);  // Qwen2 always has q/k/v biases
  EXPECT_EQ(r->slidingWindow, 0);  // not used unless use_sliding_window
  j["use_sliding_window"] = true;
  j["max_window_layers"] = 3;
  r = parse(j);
  ASSERT_TRUE(r.ok()) << r.status().message();
  // Qwen2Config: layers i >= max_window_layers use the window.
  EXPECT_EQ(r->slidingWindowForLayer(2), 0);
  EXPECT_EQ(r->slidingWindowForLayer(3), 32);
  EXPECT_EQ(r->slidingWindowForLayer(4), 32);
}

TEST(HFConfig, Gpt2Keys) {
  // GPT2Config's own key names and defaults (n_inner null = 4 * n_embd, tied head).
  json j = json::parse(R"({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
    "n_embd": 64, "n_layer": 2, "n_head": 4, "n_positions": 128, "vocab_size": 300,
    "n_inner": null, "layer_norm_epsilon": 1e-05, "activation_function": "gelu_new",
    "bos_token_id": 1, "eos_token_id": 2})");
  auto r = parse(j);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->family, "gpt2");
  EXPECT_EQ(r->headDim, 16);
  EXPECT_EQ(r->numKvHeads, 4);
  EXPECT_EQ(r->intermediateSize, 256);
  EXPECT_EQ(r->maxPositionEmbeddings, 128);
  EXPECT_TRUE(r->tieWordEmbeddings);
  j.erase("n_embd");
  expectError(j, StatusCode::kInvalidArgument, {"missing required key", "n_embd"});
  j = json::parse(R"({"model_type": "gpt2", "n_embd": 64, "n_layer": 2, "n_head": 4,
    "vocab_size": 300, "scale_attn_by_inverse_layer_idx": true})");
  expectError(j, StatusCode::kUnsupported, {"scale_attn_by_inverse_layer_idx"});
}

TEST(HFConfig, FileNotFound) {
  auto r = llmc::hf::parseConfigFile("/nonexistent/dir/config.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("/nonexistent/dir/config.json"), std::string::npos);
}

TEST(HFConfig, Stories260K) {
  auto r = llmc::hf::parseConfigFile(LLMC_SHARED_DIR "/models/stories260K/config.json");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->numKvHeads, 4);
  EXPECT_EQ(r->headDim, 8);
  EXPECT_EQ(r->intermediateSize, 172);
}

}  // namespace

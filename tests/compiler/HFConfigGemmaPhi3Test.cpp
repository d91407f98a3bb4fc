//===- HFConfigGemmaPhi3Test.cpp - Gemma and Phi-3 config.json parsing ----===//
//
// Owned by arch. Inputs are config.json texts shaped like the released checkpoints' (gemma-2b,
// gemma-1.1-2b-it, Phi-3-mini-4k/128k-instruct); expected values are read off those texts or
// transformers' GemmaConfig / Phi3Config defaults, never off our output. The architecture spec
// each family returns is checked for the tensor names transformers' modules define.
//
//===----------------------------------------------------------------------===//
#include "llmc/Compiler/Import/HF/HFConfig.h"
#include "llmc/Models/ModelFamily.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

using llmc::StatusCode;
using llmc::hf::parseConfigText;
using nlohmann::json;

namespace {

// google/gemma-2b's config.json (shapes shrunk).
json gemmaConfig() {
  return json::parse(R"({
    "architectures": ["GemmaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
    "bos_token_id": 2, "eos_token_id": 1, "head_dim": 32, "hidden_act": "gelu",
    "hidden_size": 96, "initializer_range": 0.02, "intermediate_size": 160,
    "max_position_embeddings": 8192, "model_type": "gemma", "num_attention_heads": 4,
    "num_hidden_layers": 2, "num_key_value_heads": 1, "pad_token_id": 0, "rms_norm_eps": 1e-06,
    "rope_scaling": null, "rope_theta": 10000.0, "torch_dtype": "bfloat16", "vocab_size": 300})");
}

// microsoft/Phi-3-mini-4k-instruct's config.json (shapes shrunk).
json phi3Config() {
  return json::parse(R"({
    "architectures": ["Phi3ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 1,
    "embd_pdrop": 0.0, "eos_token_id": 32000, "hidden_act": "silu", "hidden_size": 64,
    "initializer_range": 0.02, "intermediate_size": 128, "max_position_embeddings": 4096,
    "model_type": "phi3", "num_attention_heads": 4, "num_hidden_layers": 2,
    "num_key_value_heads": 4, "original_max_position_embeddings": 4096, "pad_token_id": 32000,
    "resid_pdrop": 0.0, "rms_norm_eps": 1e-05, "rope_scaling": null, "rope_theta": 10000.0,
    "sliding_window": 2047, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
    "use_cache": true, "attention_bias": false, "vocab_size": 32064})");
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

llmc::models::ArchitectureSpec describe(const llmc::models::ModelConfig &c) {
  const llmc::models::ModelFamily *f = llmc::models::findFamilyForModelType(c.modelType);
  EXPECT_NE(f, nullptr);
  auto spec = f->describe(c);
  EXPECT_TRUE(spec.ok()) << spec.status().message();
  return *spec;
}

TEST(HFConfigGemma, ParsesGemma) {
  auto r = parse(gemmaConfig());
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto &c = *r;
  EXPECT_EQ(c.family, "gemma");
  EXPECT_EQ(c.headDim, 32);  // from the file, not hidden / heads (24)
  EXPECT_EQ(c.numKvHeads, 1);
  EXPECT_TRUE(c.tieWordEmbeddings);  // GemmaConfig's default
  EXPECT_DOUBLE_EQ(c.normEps, 1e-6);
  EXPECT_EQ(c.hiddenAct, "gelu_tanh");  // legacy "gelu" means the tanh approximation
  EXPECT_EQ(c.slidingWindow, 0);
  EXPECT_EQ(c.bosTokenIds, std::vector<int64_t>{2});
  EXPECT_EQ(c.eosTokenIds, std::vector<int64_t>{1});

  llmc::models::ArchitectureSpec s = describe(c);
  EXPECT_EQ(s.norm, llmc::models::NormKind::kRmsUnitOffset);
  EXPECT_EQ(s.mlpActivation, "gelu_tanh");
  EXPECT_TRUE(s.gatedMlp);
  EXPECT_DOUBLE_EQ(s.embeddingScale, std::sqrt(96.0));
  EXPECT_TRUE(s.embeddingScaleInWeightDtype);
  llmc::models::LayerTensorNames l = s.layerNames(1);
  EXPECT_EQ(l.q, "model.layers.1.self_attn.q_proj.weight");
  EXPECT_EQ(l.gate, "model.layers.1.mlp.gate_proj.weight");
  EXPECT_EQ(l.qBias, "");
  EXPECT_EQ(l.oBias, "");
}

TEST(HFConfigGemma, TransformersDefaultsWhenKeysAreMissing) {
  json j = gemmaConfig();
  j.erase("head_dim");
  j.erase("num_key_value_heads");
  j.erase("hidden_act");
  j.erase("rms_norm_eps");
  j.erase("max_position_embeddings");
  j["num_attention_heads"] = 16;
  auto r = parse(j);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->headDim, 256);     // GemmaConfig.head_dim
  EXPECT_EQ(r->numKvHeads, 16);   // GemmaConfig.num_key_value_heads
  EXPECT_EQ(r->hiddenAct, "gelu_tanh");  // gelu_pytorch_tanh
  EXPECT_DOUBLE_EQ(r->normEps, 1e-6);
  EXPECT_EQ(r->maxPositionEmbeddings, 8192);
}

TEST(HFConfigGemma, AttentionBiasOnAllFourProjections) {
  json j = gemmaConfig();
  j["attention_bias"] = true;
  auto r = parse(j);
  ASSERT_TRUE(r.ok()) << r.status().message();
  llmc::models::LayerTensorNames l = describe(*r).layerNames(0);
  EXPECT_EQ(l.qBias, "model.layers.0.self_attn.q_proj.bias");
  EXPECT_EQ(l.vBias, "model.layers.0.self_attn.v_proj.bias");
  EXPECT_EQ(l.oBias, "model.layers.0.self_attn.o_proj.bias");
  EXPECT_EQ(l.gateBias, "");
}

TEST(HFConfigGemma, HiddenActivation) {
  // gemma-1.1: hidden_act "gelu" plus hidden_activation "gelu_pytorch_tanh" agree.
  json j = gemmaConfig();
  j["hidden_activation"] = "gelu_pytorch_tanh";
  auto r = parse(j);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->hiddenAct, "gelu_tanh");
  // transformers 4 would use exact gelu here, transformers 5 the tanh approximation.
  j["hidden_activation"] = "gelu";
  expectError(j, StatusCode::kInvalidArgument, {"hidden_activation", "hidden_act"});
  j = gemmaConfig();
  j["hidden_act"] = "relu";
  expectError(j, StatusCode::kUnsupported, {"hidden_act", "relu"});
  j = gemmaConfig();
  j["use_bidirectional_attention"] = true;
  expectError(j, StatusCode::kUnsupported, {"use_bidirectional_attention"});
}

TEST(HFConfigGemma, Gemma2IsNotGemma) {
  json j = gemmaConfig();
  j["model_type"] = "gemma2";
  j["architectures"] = {"Gemma2ForCausalLM"};
  expectError(j, StatusCode::kUnsupported, {"gemma2", "not supported"});
}

TEST(HFConfigPhi3, ParsesPhi3Mini4k) {
  auto r = parse(phi3Config());
  ASSERT_TRUE(r.ok()) << r.status().message();
  const auto &c = *r;
  EXPECT_EQ(c.family, "phi3");
  EXPECT_EQ(c.headDim, 16);
  EXPECT_EQ(c.rotaryDim(), 16);
  EXPECT_EQ(c.slidingWindow, 2047);
  EXPECT_EQ(c.slidingWindowForLayer(1), 2047);  // every layer
  EXPECT_FALSE(c.tieWordEmbeddings);
  EXPECT_EQ(c.hiddenAct, "silu");
  EXPECT_EQ(c.eosTokenIds, std::vector<int64_t>{32000});

  llmc::models::ArchitectureSpec s = describe(c);
  EXPECT_EQ(s.norm, llmc::models::NormKind::kRms);
  EXPECT_DOUBLE_EQ(s.embeddingScale, 1.0);
  llmc::models::LayerTensorNames l = s.layerNames(0);
  EXPECT_EQ(l.qkv, "model.layers.0.self_attn.qkv_proj.weight");
  EXPECT_EQ(l.gateUp, "model.layers.0.mlp.gate_up_proj.weight");
  EXPECT_EQ(l.q, "");
  EXPECT_EQ(l.gate, "");
  EXPECT_EQ(l.o, "model.layers.0.self_attn.o_proj.weight");
  EXPECT_EQ(l.down, "model.layers.0.mlp.down_proj.weight");
}

TEST(HFConfigPhi3, PartialRotaryAndDefaults) {
  json j = phi3Config();
  j.erase("sliding_window");
  j.erase("rms_norm_eps");
  j.erase("max_position_embeddings");
  j["partial_rotary_factor"] = 0.5;
  auto r = parse(j);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->rotaryDim(), 8);
  EXPECT_EQ(r->slidingWindow, 0);  // Phi3Config.sliding_window = None
  EXPECT_DOUBLE_EQ(r->normEps, 1e-5);
  EXPECT_EQ(r->maxPositionEmbeddings, 4096);
  // transformers 5 spelling: inside rope_parameters.
  j = phi3Config();
  j.erase("rope_scaling");
  j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 250000.0},
                          {"partial_rotary_factor", 0.75}};
  r = parse(j);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->rotaryDim(), 12);
  EXPECT_DOUBLE_EQ(r->ropeTheta, 250000.0);
  // Biases in the file are ignored: Phi-3's projections have none.
  j = phi3Config();
  j["attention_bias"] = true;
  r = parse(j);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->attentionBias);
}

TEST(HFConfigPhi3, LongRopeIsRejectedClearly) {
  // Phi-3-mini-128k-instruct's rope_scaling, in its old ("su") and current spellings.
  std::vector<double> factors(8, 1.0);
  for (const char *type : {"longrope", "su", "yarn"}) {
    json j = phi3Config();
    j["rope_scaling"] = {{"type", type}, {"short_factor", factors}, {"long_factor", factors}};
    j["max_position_embeddings"] = 131072;
    expectError(j, StatusCode::kUnsupported,
                {"rope_scaling type", type, "LongRoPE", "short_factor", "not supported"});
  }
  json j = phi3Config();
  j.erase("rope_scaling");
  j["rope_parameters"] = {{"rope_type", "longrope"}, {"rope_theta", 10000.0},
                          {"short_factor", factors}, {"long_factor", factors}};
  expectError(j, StatusCode::kUnsupported, {"longrope", "LongRoPE"});
  // transformers rejects other types for Phi-3; so do we.
  j = phi3Config();
  j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 2.0}};
  expectError(j, StatusCode::kUnsupported, {"linear", "phi3"});
}

}  // namespace

// EngineLoadTest.cpp - Engine::load: a good engine parses into the documented structs; every broken
// meta/program gives one kInvalidArgument naming the file and the problem.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "TestUtil.h"
#include "TinyLlama.h"
#include "llmc/runtime/Engine.h"
#include "llmc/runtime/EngineFileWriter.h"

namespace llmc {
namespace {

using nlohmann::json;

class EngineLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::TinyLlamaConfig c;
    c.fused = true;
    model = test::makeTinyLlama(c);
    meta = json::parse(model.metaJson());
    program = json::parse(model.programJson());
    std::map<std::string, uint64_t> offsets;
    weights = model.weightsSection(&offsets);
  }
  // Writes the (edited) JSON and loads it.
  Status loadWith(const std::string& metaText, const std::string& programText) {
    std::string p = dir.file("bad.engine");
    Status w = test::writeRawEngine(p, metaText, programText, weights);
    if (!w.ok()) return w;
    return Engine::load(p).status();
  }
  Status loadEdited() { return loadWith(meta.dump(), program.dump()); }
  void expectError(const Status& s, const std::string& fragment) {
    ASSERT_FALSE(s.ok()) << "expected an error containing: " << fragment;
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.message();
    EXPECT_EQ(s.message().rfind(dir.file("bad.engine") + ": ", 0), 0u) << s.message();
    EXPECT_NE(s.message().find(fragment), std::string::npos) << "message: " << s.message();
  }
  json& stepOf(const std::string& op) {
    for (json& s : program["steps"]) {
      if (s["op"] == op) return s;
    }
    ADD_FAILURE() << "no step " << op;
    return program["steps"][0];
  }

  test::TempDir dir;
  test::TinyLlama model;
  json meta, program;
  std::string weights;
};

TEST_F(EngineLoadTest, LoadsConfigWeightsAndProgram) {
  std::string p = dir.file("ok.engine");
  ASSERT_TRUE(model.write(p, "{\"tok\":1}", "{\"cfg\":2}").ok());
  auto e = Engine::load(p);
  ASSERT_TRUE(e.ok()) << e.status().message();
  const ModelConfig& c = (*e)->config();
  EXPECT_EQ(c.architecture, "llama");
  EXPECT_EQ(c.vocabSize, 96);
  EXPECT_EQ(c.hiddenSize, 32);
  EXPECT_EQ(c.numLayers, 2);
  EXPECT_EQ(c.numHeads, 4);
  EXPECT_EQ(c.numKvHeads, 2);
  EXPECT_EQ(c.headDim, 8);
  EXPECT_EQ(c.maxPosition, 160);
  EXPECT_EQ(c.bosTokenId, 1);
  EXPECT_EQ(c.eosTokenIds, std::vector<int32_t>{2});
  EXPECT_EQ(c.slidingWindow, 0);
  EXPECT_EQ(c.dtype, "f32");
  EXPECT_EQ((*e)->tokenizerJson(), "{\"tok\":1}");
  EXPECT_EQ((*e)->tokenizerConfigJson(), "{\"cfg\":2}");
  EXPECT_TRUE((*e)->hasTokenizer());

  int w = (*e)->findWeight("model.layers.1.mlp.down_proj.weight");
  ASSERT_GE(w, 0);
  EXPECT_EQ((*e)->weights()[w].shape, (std::vector<int64_t>{32, 48}));
  WeightView v = (*e)->weight(w);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(v.data) % 4096, 0u);
  const auto& want = model.weights.at("model.layers.1.mlp.down_proj.weight");
  EXPECT_EQ(std::memcmp(v.data, want.data(), want.size() * 4), 0);
  EXPECT_EQ((*e)->findWeight("nope"), -1);

  const Program& prog = (*e)->program();
  EXPECT_EQ(prog.steps.size(), program["steps"].size());
  EXPECT_EQ(prog.steps[0].op, OpKind::kEmbedding);
  EXPECT_EQ(prog.steps[0].in, std::vector<int>{-1});
  ASSERT_EQ(prog.kvLayers.size(), 2u);
  EXPECT_EQ(prog.kvLayers[1].numKvHeads, 2);
  EXPECT_EQ(prog.kvLayers[1].headDim, 8);
  for (const Step& s : prog.steps) {
    if (s.op == OpKind::kQkvAttention) {
      EXPECT_EQ(s.attrs.invFreq.size(), 4u);
      EXPECT_FLOAT_EQ(s.attrs.scale, 1.0f / std::sqrt(8.0f));
      EXPECT_EQ(s.attrs.rotaryDim, 8);
    }
  }
  EXPECT_EQ(prog.values[prog.output].width, 96);
  EXPECT_EQ(prog.values[prog.output].rows, Rows::kLast);
}

TEST_F(EngineLoadTest, NoTokenizerSection) {
  std::string p = dir.file("ok.engine");
  ASSERT_TRUE(model.write(p).ok());
  auto e = Engine::load(p);
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE((*e)->hasTokenizer());
}

TEST_F(EngineLoadTest, BadJson) {
  expectError(loadWith("{\"model\": ", program.dump()), "section 'meta' is not valid JSON");
  expectError(loadWith(meta.dump(), "[1, 2"), "section 'program' is not valid JSON");
  expectError(loadWith("[]", program.dump()), "not a JSON object");
}

TEST_F(EngineLoadTest, MissingSections) {
  std::string p = dir.file("bad.engine");
  EngineFileWriter w;
  ASSERT_TRUE(w.addSection("meta", meta.dump()).ok());
  ASSERT_TRUE(w.write(p).ok());
  expectError(Engine::load(p).status(), "no 'program' section");
}

TEST_F(EngineLoadTest, ModelConfigErrors) {
  meta["model"].erase("hidden_size");
  expectError(loadEdited(), "meta.model.hidden_size: missing");
  SetUp();
  meta["model"]["num_heads"] = "four";
  expectError(loadEdited(), "meta.model.num_heads: expected an integer");
  SetUp();
  meta["model"]["num_kv_heads"] = 3;
  expectError(loadEdited(), "not a multiple of num_kv_heads 3");
  SetUp();
  meta["model"]["eos_token_ids"] = {96};
  expectError(loadEdited(), "token id 96 outside the vocabulary");
  SetUp();
  meta["model"]["dtype"] = "f8";
  expectError(loadEdited(), "unknown dtype 'f8'");
  SetUp();
  meta["model"]["bos_token_id"] = nullptr;  // allowed: no BOS
  EXPECT_TRUE(loadEdited().ok());
}

TEST_F(EngineLoadTest, WeightTableErrors) {
  meta["weights"][0]["offset"] = engine::alignUp(weights.size());  // starts past the end
  expectError(loadEdited(), "extends past the weights section");
  SetUp();
  meta["weights"][1]["offset"] = 4096 * 1000;
  expectError(loadEdited(), "extends past the weights section");
  SetUp();
  meta["weights"][0]["offset"] = 100;
  expectError(loadEdited(), "is not 4096-aligned");
  SetUp();
  meta["weights"][0]["nbytes"] = 12;
  expectError(loadEdited(), "nbytes 12 but shape and dtype give");
  SetUp();
  meta["weights"][1]["offset"] = meta["weights"][0]["offset"];
  expectError(loadEdited(), "overlap");
}

TEST_F(EngineLoadTest, ProgramRefersToMissingWeight) {
  stepOf("linear")["weights"]["weight"] = "model.layers.9.nothing.weight";
  expectError(loadEdited(), "weight 'model.layers.9.nothing.weight' is not in the weight table");
  SetUp();
  stepOf("rms_norm")["weights"] = json::object();
  expectError(loadEdited(), "missing weight 'weight'");
  SetUp();
  stepOf("glu")["weights"] = {{"weight", "model.norm.weight"}};
  expectError(loadEdited(), "has no weight slot 'weight'");
}

TEST_F(EngineLoadTest, UnknownOpAndAttributes) {
  stepOf("glu")["op"] = "swiglu";
  expectError(loadEdited(), "unknown op 'swiglu'");
  SetUp();
  stepOf("glu")["attrs"]["activation"] = "relu";
  expectError(loadEdited(), "'relu' is not silu, gelu_tanh or gelu");
  SetUp();
  stepOf("qkv_attention")["attrs"]["rotaryDim"] = 4;
  expectError(loadEdited(), "has no attribute 'rotaryDim'");
  SetUp();
  stepOf("qkv_attention")["attrs"]["llm.offset"] = {1, 2};  // dialect annotations are ignored
  EXPECT_TRUE(loadEdited().ok());
  SetUp();
  stepOf("qkv_attention")["attrs"].erase("inv_freq");
  expectError(loadEdited(), "attrs.inv_freq: missing");
  SetUp();
  stepOf("qkv_attention")["attrs"]["inv_freq"] = {1.0, 0.5};
  expectError(loadEdited(), "inv_freq has 2 entries, rotary_dim/2 is 4");
  SetUp();
  stepOf("rms_norm")["attrs"]["eps"] = "small";
  expectError(loadEdited(), "attrs.eps: expected a number");
}

TEST_F(EngineLoadTest, ValueIndexErrors) {
  const size_t nv = program["values"].size();
  stepOf("glu")["in"] = {static_cast<int>(nv)};
  expectError(loadEdited(), "input value index " + std::to_string(nv) + " out of range");
  SetUp();
  stepOf("glu")["out"] = {-1};
  expectError(loadEdited(), "output value index -1 out of range");
  SetUp();
  program["output"] = nv + 3;
  expectError(loadEdited(), "program.output: value index");
  SetUp();
  stepOf("glu")["in"] = {1, 2};
  expectError(loadEdited(), "takes 1 inputs, has 2");
  SetUp();
  // Reading a value before it is written: swap the first two steps.
  std::swap(program["steps"][0], program["steps"][1]);
  expectError(loadEdited(), "before any step writes it");
}

TEST_F(EngineLoadTest, WidthAndShapeErrors) {
  json& glu = stepOf("glu");
  int out = glu["out"][0];
  program["values"][out]["width"] = 47;
  expectError(loadEdited(), "input width 96, expected 94");
  SetUp();
  stepOf("linear")["weights"]["weight"] = "model.layers.0.self_attn.o_proj.weight";  // [32, 32] for a qkv
  expectError(loadEdited(), "expected 32");
  SetUp();
  stepOf("qkv_attention")["attrs"]["layer"] = 5;
  expectError(loadEdited(), "layer 5 >= num_layers 2");
  SetUp();
  for (json& s : program["steps"])
    if (s["op"] == "qkv_attention") s["attrs"]["layer"] = 0;
  expectError(loadEdited(), "layer 0 has a second attention step");
  SetUp();
  meta["model"]["vocab_size"] = 90;
  expectError(loadEdited(), "program.output: width 96, vocab_size is 90");
}

TEST_F(EngineLoadTest, MemoryPlanErrors) {
  // Put the embedding's output on top of a value that is still needed later: the residual stream
  // of layer 0 (the first add_rms_norm's sum) overlapping the normalised input of its linear.
  json& v = program["values"];
  program["arena_per_token"] = 10000;
  v[0]["offset"] = 5000;
  stepOf("rms_norm");
  int h = stepOf("rms_norm")["out"][0];
  v[h]["offset"] = 5000 + 16;  // overlaps value 0, which rms_norm reads... and value 0 stays live
  expectError(loadEdited(), "memory plan: output value");
  SetUp();
  program["values"][0]["offset"] = program["arena_per_token"].get<int>();
  expectError(loadEdited(), "does not fit arena_per_token");
}

}  // namespace
}  // namespace llmc

// GraphProgramTest.cpp - graph programs (docs/graph-program.md): the `graph` section's parser refuses
// each malformed program with a kInvalidArgument naming the file and the problem, and the CPU
// interpreter's ops (run through GraphInterpreter on engines written here) match float64 references
// computed in the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <random>

#include <nlohmann/json.hpp>

#include "TestUtil.h"
#include "graph/GraphInterpreter.h"
#include "llmc/runtime/Engine.h"
#include "llmc/runtime/EngineFileWriter.h"
#include "llmc/runtime/EngineFormat.h"

namespace llmc {
namespace {

using nlohmann::json;
using cpu::graph::GraphInterpreter;
using cpu::graph::GTensor;

// The engine's one weight: "w", f32 [3, 4], values kWeight(k).
constexpr int kWRows = 3, kWCols = 4;
float weightValue(int k) { return 0.25f * static_cast<float>(k) - 1.0f; }

template <typename T>
std::string hexOf(const std::vector<T>& xs) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (const T& x : xs) {
    unsigned char b[sizeof(T)];
    std::memcpy(b, &x, sizeof(T));  // little-endian host
    for (unsigned char c : b) {
      s += digits[c >> 4];
      s += digits[c & 15];
    }
  }
  return s;
}

json val(const std::string& type, std::vector<int64_t> shape) { return {{"type", type}, {"shape", shape}}; }
json io(const std::string& name, int value) { return {{"name", name}, {"value", value}}; }
json op(const std::string& name, std::vector<int> in, int out, json attrs = json::object()) {
  return {{"op", name}, {"in", in}, {"out", out}, {"attrs", attrs}};
}

class GraphEngineFixture : public ::testing::Test {
 protected:
  std::string path() const { return dir.file("g.engine"); }

  // Writes an engine holding `graph` (meta names one f32 weight "w" [3, 4]) and loads it.
  StatusOr<std::unique_ptr<Engine>> load(const json& graph, const json& modelExtra = json::object()) {
    json model = {{"architecture", "onnx-tensors"}, {"dtype", "f32"}};
    for (auto it = modelExtra.begin(); it != modelExtra.end(); ++it) model[it.key()] = it.value();
    json ws = json::array({{{"name", "w"},
                            {"dtype", "f32"},
                            {"shape", {kWRows, kWCols}},
                            {"offset", 0},
                            {"nbytes", kWRows * kWCols * 4}}});
    json meta = {{"model", model}, {"build", {{"producer", "graph tests"}}}, {"weights", ws}, {"report", json::object()}};
    std::string wbytes;
    for (int k = 0; k < kWRows * kWCols; ++k) {
      float x = weightValue(k);
      wbytes.append(reinterpret_cast<const char*>(&x), 4);
    }
    EngineFileWriter w("llmc-test");
    Status s = w.addSection(engine::kSectionMeta, meta.dump());
    if (s.ok()) s = w.addSection(engine::kSectionGraph, graph.dump());
    if (s.ok()) s = w.addSection(engine::kSectionWeights, wbytes);
    if (s.ok()) s = w.write(path());
    if (!s.ok()) return s;
    return Engine::load(path());
  }

  void expectError(const json& graph, const std::string& fragment, const json& modelExtra = json::object()) {
    auto e = load(graph, modelExtra);
    ASSERT_FALSE(e.ok()) << "expected an error containing: " << fragment;
    const Status& s = e.status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.message();
    EXPECT_EQ(s.message().rfind(path() + ": ", 0), 0u) << s.message();
    EXPECT_NE(s.message().find(fragment), std::string::npos) << "message: " << s.message();
  }

  test::TempDir dir;
};

// ---- parser ------------------------------------------------------------------------------------

class GraphParseTest : public GraphEngineFixture {
 protected:
  // A valid tensors program: y = reduce_sum(x + c, axis 1), c a constant, plus the weight read.
  void SetUp() override {
    g = {{"version", engine::kGraphFormatVersion},
         {"kind", "tensors"},
         {"values", {val("f32", {2, 3}), val("f32", {3}), val("f32", {2, 3}), val("f32", {2}),
                     val("f32", {3, 4})}},
         {"inputs", {io("x", 0)}},
         {"outputs", {io("y", 3), io("wv", 4)}},
         {"ops", {op("constant", {}, 1, {{"data", hexOf(cvals)}}),
                  op("binary", {0, 1}, 2, {{"fn", "add"}}),
                  op("reduce", {2}, 3, {{"fn", "sum"}, {"axes", {1}}, {"keepdims", false}}),
                  op("weight_value", {}, 4, {{"weight", "w"}})}}};
  }
  // A valid token_lm program (vocab 4): ids i32 [-1] -> cast f32 [-1] -> reshape [-1, 1] -> expand [-1, 4].
  json tokenLM() const {
    return {{"version", engine::kGraphFormatVersion},
            {"kind", "token_lm"},
            {"values", {val("i32", {-1}), val("f32", {-1}), val("f32", {-1, 1}), val("f32", {-1, 4})}},
            {"inputs", {io("ids", 0)}},
            {"outputs", {io("logits", 3)}},
            {"ops", {op("cast", {0}, 1), op("reshape", {1}, 2), op("expand", {2}, 3)}}};
  }
  json tokenModel() const {
    return {{"architecture", "onnx-graph"}, {"vocab_size", 4}, {"max_position", 16}, {"bos_token_id", 1},
            {"eos_token_ids", {2}}};
  }

  std::vector<float> cvals = {0.5f, -1.25f, 3.0f};
  json g;
};

TEST_F(GraphParseTest, ValidProgramParsesIntoTheDocumentedStructs) {
  auto e = load(g);
  ASSERT_TRUE(e.ok()) << e.status().message();
  const GraphProgram* p = (*e)->graph();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->kind, GraphKind::kTensors);
  ASSERT_EQ(p->values.size(), 5u);
  EXPECT_EQ(p->values[0].type, GType::kF32);
  EXPECT_EQ(p->values[0].shape, (std::vector<int64_t>{2, 3}));
  ASSERT_EQ(p->inputs.size(), 1u);
  EXPECT_EQ(p->inputs[0].name, "x");
  EXPECT_EQ(p->inputs[0].value, 0);
  ASSERT_EQ(p->outputs.size(), 2u);
  EXPECT_EQ(p->outputs[1].name, "wv");
  EXPECT_EQ(p->outputs[1].value, 4);
  ASSERT_EQ(p->ops.size(), 4u);
  EXPECT_EQ(p->ops[0].op, GOp::kConstant);
  ASSERT_EQ(p->ops[0].data.size(), 12u);
  std::vector<float> decoded(3);
  std::memcpy(decoded.data(), p->ops[0].data.data(), 12);
  EXPECT_EQ(decoded, cvals);
  EXPECT_EQ(p->ops[1].op, GOp::kBinary);
  EXPECT_EQ(p->ops[1].fn, "add");
  EXPECT_EQ(p->ops[1].in, (std::vector<int>{0, 1}));
  EXPECT_EQ(p->ops[1].out, 2);
  EXPECT_EQ(p->ops[2].op, GOp::kReduce);
  EXPECT_EQ(p->ops[2].ints, (std::vector<int64_t>{1}));
  EXPECT_FALSE(p->ops[2].flag);
  EXPECT_EQ(p->ops[3].op, GOp::kWeightValue);
  EXPECT_EQ(p->ops[3].weight, 0);
  EXPECT_STREQ(gopName(GOp::kGatherND), "gather_nd");
}

TEST_F(GraphParseTest, ReduceKeepdimsDefaultsToTrue) {
  g["ops"][2]["attrs"].erase("keepdims");
  g["values"][3] = val("f32", {2, 1});
  auto e = load(g);
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_TRUE((*e)->graph()->ops[2].flag);
}

TEST_F(GraphParseTest, ValidTokenLMParses) {
  auto e = load(tokenLM(), tokenModel());
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ((*e)->graph()->kind, GraphKind::kTokenLM);
}

TEST_F(GraphParseTest, Version) {
  g["version"] = engine::kGraphFormatVersion + 1;
  expectError(g, "graph: version " + std::to_string(engine::kGraphFormatVersion + 1) + ", this llmc reads version " +
                     std::to_string(engine::kGraphFormatVersion));
  g.erase("version");
  expectError(g, "graph.version: missing");
  g["version"] = "1";
  expectError(g, "graph.version");
}

TEST_F(GraphParseTest, NotAnObject) { expectError(json::array(), "graph: expected an object"); }

TEST_F(GraphParseTest, Kind) {
  g["kind"] = "images";
  expectError(g, "graph.kind: 'images' is not token_lm or tensors");
  g.erase("kind");
  expectError(g, "graph.kind: missing");
}

TEST_F(GraphParseTest, ValueTypeAndShape) {
  json bad = g;
  bad["values"][1]["type"] = "f8";
  expectError(bad, "graph.values[1].type: unknown element type 'f8'");
  bad = g;
  bad["values"][2]["shape"] = {2, -2};
  expectError(bad, "graph.values[2].shape: bad dimension -2");
  bad = g;
  bad["values"][2]["shape"] = {-1, 3};  // T is only for a token LM
  expectError(bad, "graph.values[2].shape: bad dimension -1");
  bad = g;
  bad["values"][0].erase("shape");
  expectError(bad, "graph.values[0].type/shape: missing");
  bad = g;
  bad["values"] = json::object();
  expectError(bad, "graph.values: expected an array");
}

TEST_F(GraphParseTest, UnknownOp) {
  g["ops"][1]["op"] = "conv";
  expectError(g, "graph.ops[1]: unknown op 'conv'");
}

TEST_F(GraphParseTest, WrongOperandCount) {
  json bad = g;
  bad["ops"][1]["in"] = {0};
  expectError(bad, "graph.ops[1] (binary): wrong number of inputs (1)");
  bad = g;
  bad["ops"][2]["in"] = {2, 2};
  expectError(bad, "graph.ops[2] (reduce): wrong number of inputs (2)");
  bad = g;
  bad["ops"][0]["in"] = {0};
  expectError(bad, "graph.ops[0] (constant): wrong number of inputs (1)");
  bad = g;
  bad["ops"][1].erase("in");
  expectError(bad, "graph.ops[1] (binary).in: missing");
}

TEST_F(GraphParseTest, ValueIndicesOutOfRange) {
  json bad = g;
  bad["ops"][1]["in"] = {0, 9};
  expectError(bad, "graph.ops[1] (binary): input value index 9 out of range");
  bad = g;
  bad["ops"][1]["in"] = {-1, 1};
  expectError(bad, "graph.ops[1] (binary): input value index -1 out of range");
  bad = g;
  bad["ops"][1]["out"] = 5;
  expectError(bad, "graph.ops[1] (binary): output value index 5 out of range");
  bad = g;
  bad["outputs"][0]["value"] = 7;
  expectError(bad, "graph.outputs[0]: value index out of range");
  bad = g;
  bad["inputs"][0]["value"] = -1;
  expectError(bad, "graph.inputs[0]: value index out of range");
}

TEST_F(GraphParseTest, ValueUsedBeforeItIsDefined) {
  std::swap(g["ops"][1], g["ops"][2]);  // reduce reads value 2 before binary writes it
  expectError(g, "graph.ops[1]: reads value 2 before it is written");
}

TEST_F(GraphParseTest, ValueWrittenTwice) {
  json bad = g;
  bad["ops"][2]["out"] = 2;
  bad["ops"][2]["in"] = {1};
  bad["ops"][2]["op"] = "unary";
  bad["ops"][2]["attrs"] = {{"fn", "neg"}};
  expectError(bad, "graph.ops[2]: value 2 is written twice");
  bad = g;
  bad["ops"][1]["out"] = 0;  // the input is already defined
  expectError(bad, "graph.ops[1]: value 0 is written twice");
}

TEST_F(GraphParseTest, Attributes) {
  json bad = g;
  bad["ops"][1]["attrs"]["axis"] = 0;
  expectError(bad, "graph.ops[1] (binary): unknown attribute 'axis'");
  bad = g;
  bad["ops"][1]["attrs"] = json::array();
  expectError(bad, "graph.ops[1] (binary).attrs: expected an object");
  bad = g;
  bad["ops"][1]["attrs"].erase("fn");
  expectError(bad, "graph.ops[1] (binary).attrs.fn: missing");
  bad = g;
  bad["ops"][1]["attrs"]["fn"] = "frobnicate";
  expectError(bad, "graph.ops[1] (binary): unknown function 'frobnicate'");
  bad = g;
  bad["ops"][1]["attrs"]["fn"] = "exp";  // a unary function is not a binary one
  expectError(bad, "graph.ops[1] (binary): unknown function 'exp'");
  bad = g;
  bad["ops"][2]["attrs"]["fn"] = "argmax";
  expectError(bad, "graph.ops[2] (reduce): unknown function 'argmax'");
  bad = g;
  bad["ops"][2]["attrs"].erase("axes");
  expectError(bad, "graph.ops[2] (reduce).attrs.axes: missing");
  bad = g;
  bad["ops"][2]["attrs"]["keepdims"] = 1;
  expectError(bad, "graph.ops[2] (reduce).attrs.keepdims");
  bad = g;
  bad["ops"][2]["attrs"]["axes"] = "1";
  expectError(bad, "graph.ops[2] (reduce).attrs.axes");
}

TEST_F(GraphParseTest, OpSpecificAttributeChecks) {
  // Programs whose op 1 is replaced; value 2 is f32 [2, 3].
  auto with = [&](const json& o) {
    json b = g;
    b["ops"][1] = o;
    return b;
  };
  expectError(with(op("softmax", {0}, 2)), "graph.ops[1] (softmax).attrs.axis: missing");
  expectError(with(op("softmax", {0}, 2, {{"axis", 1.5}})), "graph.ops[1] (softmax).attrs.axis");
  expectError(with(op("gather", {0, 1}, 2)), "graph.ops[1] (gather).attrs.axis: missing");
  expectError(with(op("cumsum", {0}, 2)), "graph.ops[1] (cumsum).attrs.axis: missing");
  expectError(with(op("transpose", {0}, 2)), "graph.ops[1] (transpose).attrs.perm: missing");
  expectError(with(op("gather_nd", {0, 1}, 2)), "graph.ops[1] (gather_nd).attrs.batch_dims: missing");
  expectError(with(op("trilu", {0}, 2)), "graph.ops[1] (trilu).attrs.k: missing");
  expectError(with(op("sdpa", {0, 0, 0}, 2)), "graph.ops[1] (sdpa).attrs.scale: missing");
  expectError(with(op("sdpa", {0, 0, 0}, 2, {{"scale", "big"}})), "graph.ops[1] (sdpa).attrs.scale");
  expectError(with(op("sdpa", {0, 0}, 2, {{"scale", 1.0}})), "graph.ops[1] (sdpa): wrong number of inputs (2)");
  expectError(with(op("slice", {0}, 2, {{"starts", {0}}, {"ends", {1, 2}}, {"axes", {0}}, {"steps", {1}}})),
              "graph.ops[1] (slice): starts, ends, axes and steps differ in length");
  expectError(with(op("slice", {0}, 2, {{"starts", {0}}, {"ends", {1}}, {"axes", {0}}})),
              "graph.ops[1] (slice).attrs.steps: missing");
  expectError(with(op("affine_ints", {}, 2, {{"scale", {1, 2}}, {"offset", {0}}})),
              "graph.ops[1] (affine_ints): scale and offset differ in length");
  expectError(with(op("concat", {}, 2, {{"axis", 0}})), "graph.ops[1] (concat): wrong number of inputs (0)");
  // A rank-1 causal mask.
  json b = with(op("causal_mask", {}, 3));
  b["ops"].erase(2);
  expectError(b, "graph.ops[1] (causal_mask): the mask needs rank >= 2");
  expectError(with(op("causal_mask", {}, 2, {{"masked_value", "-inf"}, {"sliding_window", "x"}})),
              "graph.ops[1] (causal_mask).attrs.sliding_window");
  expectError(with(op("causal_mask", {}, 2, {{"masked_value", "minus infinity"}})),
              "graph.ops[1] (causal_mask).attrs.masked_value");
}

TEST_F(GraphParseTest, NonFiniteNumbersAsStrings) {
  json b = g;
  b["values"][2] = val("f32", {3, 3});
  b["ops"][1] = op("causal_mask", {}, 2, {{"masked_value", "-inf"}, {"sliding_window", 2}});
  b["ops"][2] = op("reduce", {2}, 3, {{"fn", "max"}, {"axes", {0}}, {"keepdims", false}});
  b["values"][3] = val("f32", {3});
  auto e = load(b);
  ASSERT_TRUE(e.ok()) << e.status().message();
  const GraphOp& m = (*e)->graph()->ops[1];
  EXPECT_TRUE(std::isinf(m.number) && m.number < 0);
  EXPECT_EQ(m.window, 2);
}

TEST_F(GraphParseTest, ConstantSizeAndHex) {
  json bad = g;
  bad["ops"][0]["attrs"]["data"] = "0000";
  expectError(bad, "graph.ops[0] (constant): data has 2 bytes, the f32 shape needs 12");
  bad = g;
  bad["ops"][0]["attrs"]["data"] = hexOf(cvals) + "00000000";
  expectError(bad, "graph.ops[0] (constant): data has 16 bytes, the f32 shape needs 12");
  bad = g;
  bad["values"][1]["type"] = "f64";  // 12 bytes of data, 24 needed
  expectError(bad, "graph.ops[0] (constant): data has 12 bytes, the f64 shape needs 24");
  bad = g;
  std::string upper = hexOf(std::vector<float>{1.0f, 1.0f, 1.0f});  // 0000803f
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  bad["ops"][0]["attrs"]["data"] = upper;
  expectError(bad, "graph.ops[0] (constant).attrs.data: not lowercase hex");
  bad = g;
  bad["ops"][0]["attrs"]["data"] = std::string(24, 'g');
  expectError(bad, "graph.ops[0] (constant).attrs.data: not lowercase hex");
  bad = g;
  bad["ops"][0]["attrs"].erase("data");
  expectError(bad, "graph.ops[0] (constant).attrs.data: missing");
}

TEST_F(GraphParseTest, ConstantNeedsStaticShape) {
  json t = tokenLM();
  t["values"].push_back(val("f32", {-1}));
  t["ops"].push_back(op("constant", {}, 4, {{"data", ""}}));
  expectError(t, "graph.ops[3] (constant): a constant needs a static shape", tokenModel());
}

TEST_F(GraphParseTest, WeightValue) {
  json bad = g;
  bad["ops"][3]["attrs"]["weight"] = "missing_weight";
  expectError(bad, "graph.ops[3] (weight_value): weight 'missing_weight' is not in the weight table");
  bad = g;
  bad["values"][4]["shape"] = {4, 3};
  expectError(bad, "graph.ops[3] (weight_value): weight 'w' does not have the value's shape and a float type");
  bad = g;
  bad["values"][4]["type"] = "i32";
  expectError(bad, "graph.ops[3] (weight_value): weight 'w' does not have the value's shape and a float type");
}

TEST_F(GraphParseTest, InputsAndOutputs) {
  json bad = g;
  bad["inputs"].push_back(io("x", 1));
  expectError(bad, "graph.inputs[1]: duplicate name 'x'");
  bad = g;
  bad["inputs"].push_back(io("x2", 0));
  expectError(bad, "graph.inputs: value 0 twice");
  bad = g;
  bad["outputs"] = json::array();
  expectError(bad, "graph.outputs: empty");
  bad = g;
  bad["outputs"].push_back(io("never", 2));
  bad["ops"].erase(1);
  bad["ops"].erase(1);  // nothing writes 2 or 3 now
  expectError(bad, "graph.outputs: 'y' is never written");
  bad = g;
  bad["outputs"][0].erase("name");
  expectError(bad, "graph.outputs[0].name/value: missing");
  bad = g;
  bad.erase("ops");
  expectError(bad, "graph.ops: missing");
  bad = g;
  bad.erase("inputs");
  expectError(bad, "graph.inputs: missing");
}

TEST_F(GraphParseTest, TokenLMShape) {
  json t = tokenLM();
  t["values"][0]["type"] = "i64";
  expectError(t, "graph: the token ids must be i32 [-1]", tokenModel());
  t = tokenLM();
  t["values"][0]["shape"] = {1, -1};
  expectError(t, "graph: the token ids must be i32 [-1]", tokenModel());
  t = tokenLM();
  t["outputs"].push_back(io("more", 2));
  expectError(t, "a token_lm graph has one input (the ids) and one output (the logits)", tokenModel());
  t = tokenLM();
  t["values"][3]["type"] = "i32";
  expectError(t, "graph: the logits must be floating-point", tokenModel());
  json m = tokenModel();
  m["vocab_size"] = 5;
  expectError(tokenLM(), "graph: the logits' last dimension is not meta.model.vocab_size 5", m);
}

// ---- interpreter -------------------------------------------------------------------------------

class GraphRunTest : public GraphEngineFixture {
 protected:
  GTensor randomF64(std::vector<int64_t> shape) {
    GTensor t = GTensor::make(GType::kF64, std::move(shape));
    std::uniform_real_distribution<double> d(-2.0, 2.0);
    for (double& x : t.f) x = d(rng);
    return t;
  }
  // Runs a tensors program with f64 inputs values[0..n) and one output (the last value).
  // (vectors, not json: a braced list of one json would be that element, not an array of it)
  Status runProgram(const std::vector<json>& values, const std::vector<json>& ops, std::vector<GTensor> inputs,
                    GTensor* out) {
    json ins = json::array();
    for (size_t k = 0; k < inputs.size(); ++k) ins.push_back(io("in" + std::to_string(k), static_cast<int>(k)));
    json g = {{"version", engine::kGraphFormatVersion},
              {"kind", "tensors"},
              {"values", json(values)},
              {"inputs", ins},
              {"outputs", {io("out", static_cast<int>(values.size()) - 1)}},
              {"ops", json(ops)}};
    auto e = load(g);
    if (!e.ok()) return e.status();
    engine = std::move(*e);
    GraphInterpreter interp(*engine);
    std::vector<GTensor> outs;
    LLMC_RETURN_IF_ERROR(interp.run(std::move(inputs), 0, &outs));
    if (outs.size() != 1) return Internal("expected one output");
    *out = std::move(outs[0]);
    return Status::Ok();
  }
  static void expectClose(const GTensor& got, const std::vector<int64_t>& shape, const std::vector<double>& want,
                          double tol = 1e-12) {
    ASSERT_EQ(got.shape, shape);
    ASSERT_TRUE(got.isFloat());
    ASSERT_EQ(got.f.size(), want.size());
    for (size_t j = 0; j < want.size(); ++j)
      EXPECT_NEAR(got.f[j], want[j], tol * (1.0 + std::fabs(want[j]))) << "element " << j;
  }

  std::mt19937 rng{1234};
  std::unique_ptr<Engine> engine;
};

TEST_F(GraphRunTest, BinaryBroadcasting) {
  // a [2, 1, 3] op b [4, 1] -> [2, 4, 3]
  for (const char* fn : {"add", "sub", "mul", "div", "max", "pow"}) {
    SCOPED_TRACE(fn);
    GTensor a = randomF64({2, 1, 3}), b = randomF64({4, 1});
    if (std::string(fn) == "pow")
      for (double& x : a.f) x = std::fabs(x) + 0.1;
    std::vector<double> want;
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 4; ++j)
        for (int k = 0; k < 3; ++k) {
          const double x = a.f[i * 3 + k], y = b.f[j];
          const std::string f = fn;
          want.push_back(f == "add"   ? x + y
                         : f == "sub" ? x - y
                         : f == "mul" ? x * y
                         : f == "div" ? x / y
                         : f == "max" ? std::max(x, y)
                                      : std::pow(x, y));
        }
    GTensor out;
    Status s = runProgram({val("f64", {2, 1, 3}), val("f64", {4, 1}), val("f64", {2, 4, 3})},
                          {op("binary", {0, 1}, 2, {{"fn", fn}})}, {a, b}, &out);
    ASSERT_TRUE(s.ok()) << s.message();
    expectClose(out, {2, 4, 3}, want);
  }
}

TEST_F(GraphRunTest, BinaryF32RoundsToF32) {
  GTensor a = GTensor::make(GType::kF32, {5}), b = GTensor::make(GType::kF32, {5});
  std::uniform_real_distribution<float> d(-3.0f, 3.0f);
  for (int k = 0; k < 5; ++k) {
    a.f[k] = d(rng);
    b.f[k] = d(rng) * 1e-4f;
  }
  GTensor out;
  Status s = runProgram({val("f32", {5}), val("f32", {5}), val("f32", {5})}, {op("binary", {0, 1}, 2, {{"fn", "add"}})},
                        {a, b}, &out);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(out.type, GType::kF32);
  ASSERT_EQ(out.f.size(), 5u);
  for (int k = 0; k < 5; ++k)
    EXPECT_EQ(out.f[k], static_cast<double>(static_cast<float>(static_cast<double>(a.f[k]) + b.f[k]))) << k;
}

TEST_F(GraphRunTest, Reduce) {
  GTensor a = randomF64({2, 3, 4});
  auto at = [&](int i, int j, int k) { return a.f[(i * 3 + j) * 4 + k]; };
  {  // sum over axis 1, keepdims false -> [2, 4]
    std::vector<double> want;
    for (int i = 0; i < 2; ++i)
      for (int k = 0; k < 4; ++k) {
        double s = 0;
        for (int j = 0; j < 3; ++j) s += at(i, j, k);
        want.push_back(s);
      }
    GTensor out;
    Status s = runProgram({val("f64", {2, 3, 4}), val("f64", {2, 4})},
                          {op("reduce", {0}, 1, {{"fn", "sum"}, {"axes", {1}}, {"keepdims", false}})}, {a}, &out);
    ASSERT_TRUE(s.ok()) << s.message();
    expectClose(out, {2, 4}, want);
  }
  {  // mean over axis -1, keepdims -> [2, 3, 1]
    std::vector<double> want;
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j) {
        double s = 0;
        for (int k = 0; k < 4; ++k) s += at(i, j, k);
        want.push_back(s / 4);
      }
    GTensor out;
    Status s = runProgram({val("f64", {2, 3, 4}), val("f64", {2, 3, 1})},
                          {op("reduce", {0}, 1, {{"fn", "mean"}, {"axes", {-1}}, {"keepdims", true}})}, {a}, &out);
    ASSERT_TRUE(s.ok()) << s.message();
    expectClose(out, {2, 3, 1}, want);
  }
  {  // max over axes 0 and 2 -> [3]
    std::vector<double> want;
    for (int j = 0; j < 3; ++j) {
      double m = -INFINITY;
      for (int i = 0; i < 2; ++i)
        for (int k = 0; k < 4; ++k) m = std::max(m, at(i, j, k));
      want.push_back(m);
    }
    GTensor out;
    Status s = runProgram({val("f64", {2, 3, 4}), val("f64", {3})},
                          {op("reduce", {0}, 1, {{"fn", "max"}, {"axes", {0, 2}}, {"keepdims", false}})}, {a}, &out);
    ASSERT_TRUE(s.ok()) << s.message();
    expectClose(out, {3}, want);
  }
}

TEST_F(GraphRunTest, Softmax) {
  GTensor a = randomF64({2, 3, 4});
  for (double& x : a.f) x *= 10;
  for (int axis : {1, -1}) {
    SCOPED_TRACE(axis);
    const int ax = axis < 0 ? 2 : axis;
    const int dims[3] = {2, 3, 4};
    std::vector<double> want(a.f.size());
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j)
        for (int k = 0; k < 4; ++k) {
          auto idx = [&](int t) {
            int c[3] = {i, j, k};
            c[ax] = t;
            return (c[0] * 3 + c[1]) * 4 + c[2];
          };
          double sum = 0;
          for (int t = 0; t < dims[ax]; ++t) sum += std::exp(a.f[idx(t)]);
          want[(i * 3 + j) * 4 + k] = std::exp(a.f[(i * 3 + j) * 4 + k]) / sum;
        }
    GTensor out;
    Status s = runProgram({val("f64", {2, 3, 4}), val("f64", {2, 3, 4})}, {op("softmax", {0}, 1, {{"axis", axis}})},
                          {a}, &out);
    ASSERT_TRUE(s.ok()) << s.message();
    expectClose(out, {2, 3, 4}, want);
  }
}

TEST_F(GraphRunTest, MatMulBatchedAndBroadcast) {
  // [2, 1, 3, 4] x [5, 4, 2] -> [2, 5, 3, 2]
  GTensor a = randomF64({2, 1, 3, 4}), b = randomF64({5, 4, 2});
  std::vector<double> want;
  for (int p = 0; p < 2; ++p)
    for (int q = 0; q < 5; ++q)
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 2; ++j) {
          double s = 0;
          for (int k = 0; k < 4; ++k) s += a.f[(p * 3 + i) * 4 + k] * b.f[(q * 4 + k) * 2 + j];
          want.push_back(s);
        }
  GTensor out;
  Status s = runProgram({val("f64", {2, 1, 3, 4}), val("f64", {5, 4, 2}), val("f64", {2, 5, 3, 2})},
                        {op("matmul", {0, 1}, 2)}, {a, b}, &out);
  ASSERT_TRUE(s.ok()) << s.message();
  expectClose(out, {2, 5, 3, 2}, want);
}

TEST_F(GraphRunTest, WeightValueTimesInput) {
  // x [2, 3] @ w [3, 4], w read from the weights section through weight_value (f32 -> f64).
  GTensor x = randomF64({2, 3});
  std::vector<double> want;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < kWCols; ++j) {
      double s = 0;
      for (int k = 0; k < kWRows; ++k) s += x.f[i * 3 + k] * static_cast<double>(weightValue(k * kWCols + j));
      want.push_back(s);
    }
  GTensor out;
  Status s = runProgram({val("f64", {2, 3}), val("f64", {3, 4}), val("f64", {2, 4})},
                        {op("weight_value", {}, 1, {{"weight", "w"}}), op("matmul", {0, 1}, 2)}, {x}, &out);
  ASSERT_TRUE(s.ok()) << s.message();
  expectClose(out, {2, 4}, want);
}

TEST_F(GraphRunTest, GatherWithNegativeIndices) {
  GTensor data = randomF64({5, 3});
  const std::vector<int64_t> idx = {4, -1, 0, -5};  // [2, 2]
  for (int axis : {0, 1}) {
    SCOPED_TRACE(axis);
    const int64_t n = axis == 0 ? 5 : 3;
    std::vector<int64_t> use = idx;
    if (axis == 1) use = {2, -1, 0, -3};
    std::vector<double> want;
    std::vector<int64_t> shape;
    if (axis == 0) {
      shape = {2, 2, 3};
      for (int64_t r : use)
        for (int c = 0; c < 3; ++c) want.push_back(data.f[((r + n) % n) * 3 + c]);
    } else {
      shape = {5, 2, 2};
      for (int r = 0; r < 5; ++r)
        for (int64_t c : use) want.push_back(data.f[r * 3 + (c + n) % n]);
    }
    GTensor ind = GTensor::make(GType::kI64, {2, 2});
    ind.i = use;
    GTensor out;
    Status s = runProgram({val("f64", {5, 3}), val("i64", {2, 2}), val("f64", shape)},
                          {op("gather", {0, 1}, 2, {{"axis", axis}})}, {data, ind}, &out);
    ASSERT_TRUE(s.ok()) << s.message();
    expectClose(out, shape, want);
  }
}

TEST_F(GraphRunTest, Transpose) {
  GTensor a = randomF64({2, 3, 4});
  // perm [2, 0, 1]: out[k][i][j] = a[i][j][k], out [4, 2, 3]
  std::vector<double> want;
  for (int k = 0; k < 4; ++k)
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j) want.push_back(a.f[(i * 3 + j) * 4 + k]);
  GTensor out;
  Status s = runProgram({val("f64", {2, 3, 4}), val("f64", {4, 2, 3})},
                        {op("transpose", {0}, 1, {{"perm", {2, 0, 1}}})}, {a}, &out);
  ASSERT_TRUE(s.ok()) << s.message();
  expectClose(out, {4, 2, 3}, want);
}

// ONNX Slice on one axis: the indices taken, by the operator's clamping rules.
std::vector<int64_t> sliceIndices(int64_t dim, int64_t start, int64_t end, int64_t step) {
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  std::vector<int64_t> r;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    for (int64_t i = start; i < end; i += step) r.push_back(i);
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
    for (int64_t i = start; i > end; i += step) r.push_back(i);
  }
  return r;
}

TEST_F(GraphRunTest, SliceNegativeStepsAndClamping) {
  GTensor a = randomF64({6, 5});
  struct Case {
    std::vector<int64_t> starts, ends, axes, steps;
  };
  const std::vector<Case> cases = {
      {{1, -1}, {5, -100}, {0, 1}, {2, -2}},         // rows 1,3; cols 4,2,0
      {{-100, 1}, {100, 4}, {0, -1}, {1, 1}},        // clamped rows; negative axis
      {{4}, {-7}, {0}, {-1}},                        // rows 4..0 reversed, all columns
  };
  for (size_t c = 0; c < cases.size(); ++c) {
    SCOPED_TRACE(c);
    const Case& k = cases[c];
    std::vector<int64_t> rows = sliceIndices(6, 0, 6, 1), cols = sliceIndices(5, 0, 5, 1);
    for (size_t j = 0; j < k.axes.size(); ++j) {
      const int64_t ax = k.axes[j] < 0 ? k.axes[j] + 2 : k.axes[j];
      (ax == 0 ? rows : cols) = sliceIndices(ax == 0 ? 6 : 5, k.starts[j], k.ends[j], k.steps[j]);
    }
    std::vector<double> want;
    for (int64_t r : rows)
      for (int64_t cc : cols) want.push_back(a.f[r * 5 + cc]);
    const std::vector<int64_t> shape = {static_cast<int64_t>(rows.size()), static_cast<int64_t>(cols.size())};
    GTensor out;
    Status s = runProgram({val("f64", {6, 5}), val("f64", shape)},
                          {op("slice", {0}, 1, {{"starts", k.starts}, {"ends", k.ends}, {"axes", k.axes}, {"steps", k.steps}})},
                          {a}, &out);
    ASSERT_TRUE(s.ok()) << s.message();
    expectClose(out, shape, want);
  }
}

TEST_F(GraphRunTest, ShapeMismatchesAreRefusedAtRun) {
  GTensor a = randomF64({2, 3}), b = randomF64({2, 3});
  GTensor out;
  // The program declares [3, 2] for a [2, 3] sum: the parser does not infer shapes, the run refuses.
  Status s = runProgram({val("f64", {2, 3}), val("f64", {2, 3}), val("f64", {3, 2})},
                        {op("binary", {0, 1}, 2, {{"fn", "add"}})}, {a, b}, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("graph.ops[0] (binary): computed shape"), std::string::npos) << s.message();
  // Operands that do not broadcast.
  s = runProgram({val("f64", {2, 3}), val("f64", {4}), val("f64", {2, 3})}, {op("binary", {0, 1}, 2, {{"fn", "add"}})},
                 {a, randomF64({4})}, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("graph.ops[0] (binary)"), std::string::npos) << s.message();
  // An input of the wrong shape, then of the wrong type.
  s = runProgram({val("f64", {2, 3}), val("f64", {2, 3}), val("f64", {2, 3})},
                 {op("binary", {0, 1}, 2, {{"fn", "add"}})}, {a, randomF64({3, 2})}, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("input 'in1': shape"), std::string::npos) << s.message();
  GTensor f32 = GTensor::make(GType::kF32, {2, 3});
  s = runProgram({val("f64", {2, 3}), val("f64", {2, 3}), val("f64", {2, 3})},
                 {op("binary", {0, 1}, 2, {{"fn", "add"}})}, {a, f32}, &out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("input 'in1': element type f32, the engine takes f64"), std::string::npos) << s.message();
  // Too few inputs.
  GraphInterpreter interp(*engine);
  std::vector<GTensor> outs;
  s = interp.run({a}, 0, &outs);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("2 inputs expected, got 1"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace llmc

// GpuGraphTest.cpp - graph programs (generic ops, docs/graph-program.md) on the GPU: the CUDA
// graph runner (runtime/backends/cuda/graph, graph_ops.cuh compiled here by the real codegen)
// against the CPU interpreter, the float64 reference that the ONNX node tests check against ONNX.
// Every op kind, broadcasting, integer and bool classes, rounding to f32/f16/bf16, the leaves, the
// device-side errors, and a token-LM engine through the CUDA backend vs the CPU backend.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include <nlohmann/json.hpp>

#include "GpuEngineUtil.h"
#include "GpuTestUtil.h"
#include "graph/GraphInterpreter.h"
#include "graph/GraphRunner.h"
#include "llmc/codegen/cuda/KernelCompiler.h"
#include "llmc/runtime/Backend.h"
#include "llmc/runtime/Engine.h"
#include "llmc/runtime/EngineFileWriter.h"
#include "llmc/runtime/EngineFormat.h"

namespace llmc {
namespace {

using nlohmann::json;
using cpu::graph::GTensor;

json val(const std::string& type, std::vector<int64_t> shape) { return {{"type", type}, {"shape", shape}}; }
json io(const std::string& name, int value) { return {{"name", name}, {"value", value}}; }
json op(const std::string& name, std::vector<int> in, int out, json attrs = json::object()) {
  return {{"op", name}, {"in", in}, {"out", out}, {"attrs", attrs}};
}
template <typename T>
std::string hexOf(const std::vector<T>& xs) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (const T& x : xs) {
    unsigned char b[sizeof(T)];
    std::memcpy(b, &x, sizeof(T));
    for (unsigned char c : b) {
      s += digits[c >> 4];
      s += digits[c & 15];
    }
  }
  return s;
}

struct Weight {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// Writes an engine holding `graph`, the f32 `weights`, and the graph kernels for this device.
Status writeGraphEngine(const std::string& path, const json& graph, const std::vector<Weight>& weights,
                        const json& model) {
  codegen::cuda::KernelRequest req;
  req.kernels = {cuda::KernelSpec{cuda::KernelKind::kGraphOps}};
  req.archs = {gputest::deviceArchName()};
  LLMC_ASSIGN_OR_RETURN(codegen::cuda::KernelBundle bundle, codegen::cuda::compileKernels(req));
  json ws = json::array();
  std::string bytes;
  for (const Weight& w : weights) {
    while (bytes.size() % 4096) bytes.push_back('\0');
    ws.push_back({{"name", w.name}, {"dtype", "f32"}, {"shape", w.shape}, {"offset", bytes.size()},
                  {"nbytes", w.values.size() * 4}});
    bytes.append(reinterpret_cast<const char*>(w.values.data()), w.values.size() * 4);
  }
  json meta = {{"model", model}, {"build", {{"producer", "gpu graph tests"}}}, {"weights", ws}, {"report", json::object()}};
  EngineFileWriter w("llmc-gpu-test");
  LLMC_RETURN_IF_ERROR(w.addSection(engine::kSectionMeta, meta.dump()));
  LLMC_RETURN_IF_ERROR(w.addSection(engine::kSectionGraph, graph.dump()));
  LLMC_RETURN_IF_ERROR(w.addSection(engine::kSectionWeights, bytes));
  for (const auto& s : bundle.sections) LLMC_RETURN_IF_ERROR(w.addSection(s.name, s.bytes));
  return w.write(path);
}

// Largest |gpu - cpu| allowed for an element of `t`: both compute in double and round to the
// type; they may differ by the last bits of a transcendental or a summation order, which rounding
// to f32/f16/bf16 turns into at most one unit in the last place of that type.
double tolerance(GType t, double ref) {
  const double scale = 1.0 + std::fabs(ref);
  switch (t) {
    case GType::kF64: return 1e-12 * scale;
    case GType::kF32: return 3e-7 * scale;
    case GType::kF16: return 1e-3 * scale;
    case GType::kBF16: return 8e-3 * scale;
    default: return 0;
  }
}

void expectSame(const GTensor& gpu, const GTensor& cpu) {
  ASSERT_EQ(gpu.type, cpu.type);
  ASSERT_EQ(gpu.shape, cpu.shape);
  if (cpu.isFloat()) {
    ASSERT_EQ(gpu.f.size(), cpu.f.size());
    for (size_t j = 0; j < cpu.f.size(); ++j) {
      if (std::isnan(cpu.f[j])) {
        EXPECT_TRUE(std::isnan(gpu.f[j])) << "element " << j;
      } else if (std::isinf(cpu.f[j])) {
        EXPECT_EQ(gpu.f[j], cpu.f[j]) << "element " << j;
      } else {
        EXPECT_NEAR(gpu.f[j], cpu.f[j], tolerance(cpu.type, cpu.f[j])) << "element " << j;
      }
    }
  } else {
    EXPECT_EQ(gpu.i, cpu.i);
  }
}

class GpuGraphTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = gputest::tempEnginePath("graph.engine"); }
  void TearDown() override { std::remove(path_.c_str()); }

  GTensor random(GType t, std::vector<int64_t> shape, double lo = -2, double hi = 2) {
    GTensor x = GTensor::make(t, std::move(shape));
    std::uniform_real_distribution<double> u(lo, hi);
    if (x.isFloat()) {
      for (double& v : x.f) v = u(rng_);
    } else {
      for (int64_t& v : x.i) v = t == GType::kBool ? (u(rng_) > (lo + hi) / 2) : static_cast<int64_t>(std::floor(u(rng_)));
    }
    cpu::graph::roundToType(x);
    return x;
  }

  // Runs a tensors program (inputs = values[0..n), output = the last value) on both devices and
  // compares every output. `weights` default to one f32 "w" [3, 4].
  void compare(const std::vector<json>& values, const std::vector<json>& ops, const std::vector<GTensor>& inputs,
               std::vector<Weight> weights = {}) {
    if (weights.empty()) {
      Weight w{"w", {3, 4}, {}};
      for (int k = 0; k < 12; ++k) w.values.push_back(0.25f * k - 1.0f);
      weights.push_back(w);
    }
    json ins = json::array();
    for (size_t k = 0; k < inputs.size(); ++k) ins.push_back(io("in" + std::to_string(k), static_cast<int>(k)));
    json g = {{"version", engine::kGraphFormatVersion}, {"kind", "tensors"}, {"values", json(values)},
              {"inputs", ins}, {"outputs", {io("out", static_cast<int>(values.size()) - 1)}}, {"ops", json(ops)}};
    ASSERT_OK(writeGraphEngine(path_, g, weights, {{"architecture", "onnx-tensors"}, {"dtype", "f32"}}));
    auto e = Engine::load(path_);
    ASSERT_TRUE(e.ok()) << e.status().message();
    cpu::graph::GraphInterpreter interp(**e);
    std::vector<GTensor> want;
    ASSERT_OK(interp.run(inputs, 0, &want));
    auto runner = cuda::graph::GraphRunner::create(**e, 0);
    ASSERT_TRUE(runner.ok()) << runner.status().message();
    std::vector<cuda::graph::DTensor> outs;
    ASSERT_OK((*runner)->run(inputs, 0, &outs));
    ASSERT_EQ(outs.size(), want.size());
    for (size_t k = 0; k < outs.size(); ++k) {
      auto got = (*runner)->download(outs[k]);
      ASSERT_TRUE(got.ok()) << got.status().message();
      expectSame(*got, want[k]);
    }
  }

  // The error the GPU run returns (the program must fail there).
  std::string gpuError(const std::vector<json>& values, const std::vector<json>& ops, const std::vector<GTensor>& inputs) {
    json ins = json::array();
    for (size_t k = 0; k < inputs.size(); ++k) ins.push_back(io("in" + std::to_string(k), static_cast<int>(k)));
    json g = {{"version", engine::kGraphFormatVersion}, {"kind", "tensors"}, {"values", json(values)},
              {"inputs", ins}, {"outputs", {io("out", static_cast<int>(values.size()) - 1)}}, {"ops", json(ops)}};
    Weight w{"w", {3, 4}, std::vector<float>(12, 1.0f)};
    if (!writeGraphEngine(path_, g, {w}, {{"architecture", "onnx-tensors"}, {"dtype", "f32"}}).ok()) return "write";
    auto e = Engine::load(path_);
    if (!e.ok()) return "load: " + e.status().message();
    auto runner = cuda::graph::GraphRunner::create(**e, 0);
    if (!runner.ok()) return "create: " + runner.status().message();
    std::vector<cuda::graph::DTensor> outs;
    Status s = (*runner)->run(inputs, 0, &outs);
    return s.ok() ? "" : s.message();
  }

  std::mt19937 rng_{20261122};
  std::string path_;
};

TEST_F(GpuGraphTest, UnaryFloatFunctionsInEveryFloatType) {
  LLMC_REQUIRE_GPU();
  for (const char* t : {"f32", "f64", "f16", "bf16"}) {
    GType gt;
    ASSERT_TRUE(parseGType(t, &gt));
    for (const char* fn : {"neg", "sqrt", "reciprocal", "exp", "log", "sigmoid", "tanh", "erf", "cos", "sin", "abs",
                           "relu", "floor", "ceil", "identity"}) {
      SCOPED_TRACE(std::string(t) + " " + fn);
      const bool positive = std::string(fn) == "sqrt" || std::string(fn) == "log";
      GTensor a = random(gt, {2, 3, 5}, positive ? 0.1 : -3, 3);
      compare({val(t, {2, 3, 5}), val(t, {2, 3, 5})}, {op("unary", {0}, 1, {{"fn", fn}})}, {a});
    }
  }
}

TEST_F(GpuGraphTest, UnaryIntBoolAndClassifiers) {
  LLMC_REQUIRE_GPU();
  for (const char* fn : {"neg", "abs", "relu", "floor", "identity"}) {
    SCOPED_TRACE(fn);
    compare({val("i32", {7}), val("i32", {7})}, {op("unary", {0}, 1, {{"fn", fn}})}, {random(GType::kI32, {7}, -50, 50)});
  }
  compare({val("bool", {6}), val("bool", {6})}, {op("unary", {0}, 1, {{"fn", "not"}})}, {random(GType::kBool, {6})});
  GTensor a = random(GType::kF32, {6});
  a.f[1] = NAN;
  a.f[3] = INFINITY;
  a.f[4] = -INFINITY;
  for (const char* fn : {"isnan", "isinf"})
    compare({val("f32", {6}), val("bool", {6})}, {op("unary", {0}, 1, {{"fn", fn}})}, {a});
}

TEST_F(GpuGraphTest, BinaryBroadcastingFloatIntAndBool) {
  LLMC_REQUIRE_GPU();
  for (const char* fn : {"add", "sub", "mul", "div", "pow", "max", "min", "mod"}) {
    SCOPED_TRACE(fn);
    GTensor a = random(GType::kF32, {2, 1, 3}, 0.5, 3), b = random(GType::kF32, {4, 1}, 0.5, 2);
    compare({val("f32", {2, 1, 3}), val("f32", {4, 1}), val("f32", {2, 4, 3})}, {op("binary", {0, 1}, 2, {{"fn", fn}})},
            {a, b});
    GTensor ia = random(GType::kI64, {3, 4}, -40, 40), ib = random(GType::kI64, {4}, 1, 9);
    ib.i[1] = -3;  // a negative divisor: mod takes its sign, div truncates
    compare({val("i64", {3, 4}), val("i64", {4}), val("i64", {3, 4})}, {op("binary", {0, 1}, 2, {{"fn", fn}})},
            {ia, ib});
  }
  for (const char* fn : {"eq", "lt", "le", "gt", "ge"}) {
    SCOPED_TRACE(fn);
    GTensor a = random(GType::kI32, {3, 4}, -3, 3), b = random(GType::kI32, {3, 1}, -3, 3);
    compare({val("i32", {3, 4}), val("i32", {3, 1}), val("bool", {3, 4})}, {op("binary", {0, 1}, 2, {{"fn", fn}})},
            {a, b});
    GTensor fa = random(GType::kF16, {5}), fb = random(GType::kF16, {1});
    compare({val("f16", {5}), val("f16", {1}), val("bool", {5})}, {op("binary", {0, 1}, 2, {{"fn", fn}})}, {fa, fb});
  }
  for (const char* fn : {"and", "or", "xor"}) {
    SCOPED_TRACE(fn);
    compare({val("bool", {2, 3}), val("bool", {3}), val("bool", {2, 3})}, {op("binary", {0, 1}, 2, {{"fn", fn}})},
            {random(GType::kBool, {2, 3}), random(GType::kBool, {3})});
  }
  // Integer wrap-around of the declared type.
  GTensor big = GTensor::make(GType::kI32, {2});
  big.i = {2147483647, -2147483647 - 1};
  GTensor one = GTensor::make(GType::kI32, {2});
  one.i = {1, -1};
  compare({val("i32", {2}), val("i32", {2}), val("i32", {2})}, {op("binary", {0, 1}, 2, {{"fn", "add"}})}, {big, one});
}

TEST_F(GpuGraphTest, WhereAndCasts) {
  LLMC_REQUIRE_GPU();
  compare({val("bool", {2, 1}), val("f32", {2, 3}), val("f32", {3}), val("f32", {2, 3})}, {op("where", {0, 1, 2}, 3)},
          {random(GType::kBool, {2, 1}), random(GType::kF32, {2, 3}), random(GType::kF32, {3})});
  compare({val("bool", {4}), val("i64", {4}), val("i64", {1}), val("i64", {4})}, {op("where", {0, 1, 2}, 3)},
          {random(GType::kBool, {4}), random(GType::kI64, {4}, -9, 9), random(GType::kI64, {1}, -9, 9)});
  GTensor f = random(GType::kF32, {12}, -300, 300);
  f.f[0] = NAN;
  f.f[1] = 1e30;
  f.f[2] = -0.7;
  for (const char* to : {"i32", "i8", "u8", "i64", "bool", "f16", "bf16", "f64"}) {
    SCOPED_TRACE(to);
    compare({val("f32", {12}), val(to, {12})}, {op("cast", {0}, 1)}, {f});
  }
  GTensor i = random(GType::kI64, {6}, -70000, 70000);
  for (const char* to : {"f16", "f32", "i16", "u16", "bool"}) {
    SCOPED_TRACE(to);
    compare({val("i64", {6}), val(to, {6})}, {op("cast", {0}, 1)}, {i});
  }
}

TEST_F(GpuGraphTest, MatMulShapes) {
  LLMC_REQUIRE_GPU();
  // batch broadcast, a vector on either side, K larger than one tile, an integer operand
  compare({val("f32", {2, 3, 4, 37}), val("f32", {37, 19}), val("f32", {2, 3, 4, 19})}, {op("matmul", {0, 1}, 2)},
          {random(GType::kF32, {2, 3, 4, 37}), random(GType::kF32, {37, 19})});
  compare({val("f64", {2, 1, 3, 4}), val("f64", {5, 4, 2}), val("f64", {2, 5, 3, 2})}, {op("matmul", {0, 1}, 2)},
          {random(GType::kF64, {2, 1, 3, 4}), random(GType::kF64, {5, 4, 2})});
  compare({val("f32", {4}), val("f32", {4, 3}), val("f32", {3})}, {op("matmul", {0, 1}, 2)},
          {random(GType::kF32, {4}), random(GType::kF32, {4, 3})});
  compare({val("f32", {2, 5, 4}), val("f32", {4}), val("f32", {2, 5})}, {op("matmul", {0, 1}, 2)},
          {random(GType::kF32, {2, 5, 4}), random(GType::kF32, {4})});
  compare({val("i32", {3, 4}), val("i32", {4, 2}), val("i32", {3, 2})}, {op("matmul", {0, 1}, 2)},
          {random(GType::kI32, {3, 4}, -9, 9), random(GType::kI32, {4, 2}, -9, 9)});
}

TEST_F(GpuGraphTest, ReductionsSoftmaxCumsum) {
  LLMC_REQUIRE_GPU();
  const std::vector<std::pair<std::vector<int64_t>, bool>> cases = {{{1}, false}, {{-1}, true}, {{0, 2}, false}, {{}, true}};
  for (const char* fn : {"sum", "mean", "max", "min", "prod"})
    for (const auto& [axes, keep] : cases) {
      SCOPED_TRACE(std::string(fn) + " axes " + std::to_string(axes.size()) + (keep ? " keep" : ""));
      std::vector<int64_t> shape = {2, 3, 4};
      std::vector<int64_t> out;
      for (int k = 0; k < 3; ++k) {
        bool red = axes.empty();
        for (int64_t a : axes) red = red || (a + 3) % 3 == k;
        if (!red) out.push_back(shape[k]);
        else if (keep) out.push_back(1);
      }
      compare({val("f32", shape), val("f32", out)},
              {op("reduce", {0}, 1, {{"fn", fn}, {"axes", axes}, {"keepdims", keep}})}, {random(GType::kF32, shape)});
      compare({val("i32", shape), val("i32", out)},
              {op("reduce", {0}, 1, {{"fn", fn}, {"axes", axes}, {"keepdims", keep}})},
              {random(GType::kI32, shape, -5, 5)});
    }
  for (int axis : {0, 1, -1})
    compare({val("f32", {2, 3, 4}), val("f32", {2, 3, 4})}, {op("softmax", {0}, 1, {{"axis", axis}})},
            {random(GType::kF32, {2, 3, 4}, -6, 6)});
  for (bool exclusive : {false, true})
    for (bool reverse : {false, true}) {
      compare({val("f32", {3, 5}), val("f32", {3, 5})},
              {op("cumsum", {0}, 1, {{"axis", 1}, {"exclusive", exclusive}, {"reverse", reverse}})},
              {random(GType::kF32, {3, 5})});
      compare({val("i64", {4, 3}), val("i64", {4, 3})},
              {op("cumsum", {0}, 1, {{"axis", 0}, {"exclusive", exclusive}, {"reverse", reverse}})},
              {random(GType::kI64, {4, 3}, -9, 9)});
    }
}

TEST_F(GpuGraphTest, ScaledDotProductAttention) {
  LLMC_REQUIRE_GPU();
  const std::vector<json> base = {val("f32", {2, 4, 5, 8}), val("f32", {2, 2, 6, 8}), val("f32", {2, 2, 6, 3})};
  const std::vector<GTensor> qkv = {random(GType::kF32, {2, 4, 5, 8}), random(GType::kF32, {2, 2, 6, 8}),
                                    random(GType::kF32, {2, 2, 6, 3})};
  for (bool causal : {false, true}) {
    auto v = base;
    v.push_back(val("f32", {2, 4, 5, 3}));
    compare(v, {op("sdpa", {0, 1, 2}, 3, {{"scale", 0.35}, {"is_causal", causal}})}, qkv);
  }
  // additive mask broadcast over batch and heads
  auto v = base;
  v.push_back(val("f32", {5, 6}));
  v.push_back(val("f32", {2, 4, 5, 3}));
  auto in = qkv;
  in.push_back(random(GType::kF32, {5, 6}, -3, 0));
  compare(v, {op("sdpa", {0, 1, 2, 3}, 4, {{"scale", 0.5}})}, in);
  // bool mask with a fully masked row (zeros, not NaN)
  v = base;
  v.push_back(val("bool", {2, 1, 5, 6}));
  v.push_back(val("f32", {2, 4, 5, 3}));
  in = qkv;
  GTensor m = random(GType::kBool, {2, 1, 5, 6});
  for (int j = 0; j < 6; ++j) m.i[6 * 2 + j] = 0;
  in.push_back(m);
  compare(v, {op("sdpa", {0, 1, 2, 3}, 4, {{"scale", 0.5}})}, in);
}

TEST_F(GpuGraphTest, DataMovement) {
  LLMC_REQUIRE_GPU();
  GTensor a = random(GType::kF32, {2, 3, 4});
  compare({val("f32", {2, 3, 4}), val("f32", {4, 2, 3})}, {op("transpose", {0}, 1, {{"perm", {2, 0, 1}}})}, {a});
  compare({val("f32", {3, 1}), val("f32", {2, 3, 4})}, {op("expand", {0}, 1)}, {random(GType::kF32, {3, 1})});
  compare({val("f32", {2, 3, 4}), val("f32", {2, 2, 2})},
          {op("slice", {0}, 1, {{"starts", {-1, 0}}, {"ends", {std::numeric_limits<int64_t>::min(), 4}},
                                {"axes", {1, 2}}, {"steps", {-2, 2}}})},
          {a});
  compare({val("i64", {2, 1}), val("i64", {2, 3}), val("i64", {2, 2}), val("i64", {2, 6})},
          {op("concat", {0, 1, 2}, 3, {{"axis", 1}})},
          {random(GType::kI64, {2, 1}, -9, 9), random(GType::kI64, {2, 3}, -9, 9), random(GType::kI64, {2, 2}, -9, 9)});
  GTensor idx = GTensor::make(GType::kI64, {2, 2});
  idx.i = {0, -1, 2, 1};
  compare({val("f32", {2, 3, 4}), val("i64", {2, 2}), val("f32", {2, 2, 2, 4})}, {op("gather", {0, 1}, 2, {{"axis", 1}})},
          {a, idx});
  GTensor nd = GTensor::make(GType::kI64, {2, 1, 2});
  nd.i = {0, 3, 2, -1};
  compare({val("f32", {2, 3, 4}), val("i64", {2, 1, 2}), val("f32", {2, 1})},
          {op("gather_nd", {0, 1}, 2, {{"batch_dims", 1}})}, {a, nd});
  for (bool upper : {false, true})
    for (int k : {-1, 0, 2})
      compare({val("f32", {2, 3, 4}), val("f32", {2, 3, 4})}, {op("trilu", {0}, 1, {{"k", k}, {"upper", upper}})}, {a});
  compare({val("f32", {2, 3, 4}), val("f32", {6, 4}), val("f32", {4, 6})},
          {op("reshape", {0}, 1), op("transpose", {1}, 2, {{"perm", {1, 0}}})}, {a});
}

TEST_F(GpuGraphTest, LeavesConstantsWeightsRangesMasks) {
  LLMC_REQUIRE_GPU();
  const std::vector<float> c = {0.5f, -1.25f, 3.0f, 7.5f};
  compare({val("f32", {3, 4}), val("f32", {4}), val("f32", {3, 4})},
          {op("weight_value", {}, 0, {{"weight", "w"}}), op("constant", {}, 1, {{"data", hexOf(c)}}),
           op("binary", {0, 1}, 2, {{"fn", "mul"}})},
          {});
  const std::vector<int64_t> s = {2}, l = {11}, d = {3};
  compare({val("i64", {}), val("i64", {}), val("i64", {}), val("i64", {3})},
          {op("constant", {}, 0, {{"data", hexOf(s)}}), op("constant", {}, 1, {{"data", hexOf(l)}}),
           op("constant", {}, 2, {{"data", hexOf(d)}}), op("range", {0, 1, 2}, 3)},
          {});
  const std::vector<float> fs = {1.5f}, fl = {-1.0f}, fd = {-0.75f};
  compare({val("f32", {}), val("f32", {}), val("f32", {}), val("f32", {4})},
          {op("constant", {}, 0, {{"data", hexOf(fs)}}), op("constant", {}, 1, {{"data", hexOf(fl)}}),
           op("constant", {}, 2, {{"data", hexOf(fd)}}), op("range", {0, 1, 2}, 3)},
          {});
  compare({val("f32", {1, 5, 5})}, {op("causal_mask", {}, 0, {{"masked_value", "-inf"}, {"sliding_window", 2}})}, {});
  compare({val("bool", {4, 4})}, {op("causal_mask", {}, 0)}, {});
  compare({val("i64", {3})}, {op("affine_ints", {}, 0, {{"scale", {0, 1, 2}}, {"offset", {4, 5, 6}}})}, {});
}

TEST_F(GpuGraphTest, DataErrorsNameTheOp) {
  LLMC_REQUIRE_GPU();
  GTensor data = random(GType::kF32, {3, 2});
  GTensor idx = GTensor::make(GType::kI64, {2});
  idx.i = {1, 3};
  EXPECT_EQ(gpuError({val("f32", {3, 2}), val("i64", {2}), val("f32", {2, 2})}, {op("gather", {0, 1}, 2, {{"axis", 0}})},
                     {data, idx}),
            "graph.ops[0] (gather): gather: an index is out of range");
  GTensor a = GTensor::make(GType::kI32, {2}), b = GTensor::make(GType::kI32, {2});
  a.i = {4, 5};
  b.i = {2, 0};
  EXPECT_EQ(gpuError({val("i32", {2}), val("i32", {2}), val("i32", {2})}, {op("binary", {0, 1}, 2, {{"fn", "div"}})},
                     {a, b}),
            "graph.ops[0] (binary): integer division by zero");
  // A shape the program declares wrongly is refused before anything runs on it.
  EXPECT_NE(gpuError({val("f32", {3, 2}), val("f32", {2, 2})}, {op("transpose", {0}, 1, {{"perm", {1, 0}}})}, {data})
                .find("computed shape [2, 3], the program declares [2, 2]"),
            std::string::npos);
}

// A token LM of generic ops (embedding gather, positions, causal sdpa, LM head) through the
// CUDA backend and the CPU backend: same logits for a two-sequence prefill and a decode step.
TEST_F(GpuGraphTest, TokenLMBackendMatchesTheCpuBackend) {
  LLMC_REQUIRE_GPU();
  const int64_t V = 11, H = 8;
  Weight emb{"emb", {V, H}, {}}, lm{"lm", {H, V}, {}};
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (int64_t k = 0; k < V * H; ++k) {
    emb.values.push_back(n(rng_));
    lm.values.push_back(n(rng_));
  }
  json g = {{"version", engine::kGraphFormatVersion},
            {"kind", "token_lm"},
            {"values", {val("i32", {-1}), val("f32", {V, H}), val("f32", {-1, H}), val("i64", {-1}), val("f32", {-1}),
                        val("f32", {-1, 1}), val("f32", {-1, H}), val("f32", {1, 1, -1, H}), val("f32", {1, 1, -1, H}),
                        val("f32", {-1, H}), val("f32", {H, V}), val("f32", {-1, V})}},
            {"inputs", {io("ids", 0)}},
            {"outputs", {io("logits", 11)}},
            {"ops", {op("weight_value", {}, 1, {{"weight", "emb"}}), op("gather", {1, 0}, 2, {{"axis", 0}}),
                     op("positions", {}, 3), op("cast", {3}, 4), op("reshape", {4}, 5),
                     op("binary", {2, 5}, 6, {{"fn", "add"}}), op("reshape", {6}, 7),
                     op("sdpa", {7, 7, 7}, 8, {{"scale", 0.3}, {"is_causal", true}}), op("reshape", {8}, 9),
                     op("weight_value", {}, 10, {{"weight", "lm"}}), op("matmul", {9, 10}, 11)}}};
  json model = {{"architecture", "onnx-graph"}, {"dtype", "f32"}, {"vocab_size", V}, {"max_position", 64},
                {"bos_token_id", 1}, {"eos_token_ids", {2}}};
  ASSERT_OK(writeGraphEngine(path_, g, {emb, lm}, model));
  auto e = Engine::load(path_);
  ASSERT_TRUE(e.ok()) << e.status().message();
  BackendOptions opts;
  opts.maxBatchTokens = 64;
  opts.maxSequences = 4;
  opts.kvBlockSize = 16;
  opts.kvBlocks = 8;
  auto gpu = createBackend("cuda");
  auto cpu = createBackend("cpu");
  ASSERT_TRUE(gpu.ok() && cpu.ok());
  ASSERT_TRUE((*gpu)->runsGraphPrograms());
  ASSERT_OK((*gpu)->prepare(**e, opts));
  ASSERT_OK((*cpu)->prepare(**e, opts));
  StepBatch prefill;
  prefill.tokens = {1, 5, 9, 3, 7, 1, 4, 10};
  prefill.sequences = {SequenceSlice{0, 5, 0, {0}}, SequenceSlice{5, 3, 0, {3}}};
  StepBatch decode;
  decode.tokens = {6, 2};
  decode.sequences = {SequenceSlice{0, 1, 5, {0}}, SequenceSlice{1, 1, 3, {3}}};
  for (const StepBatch* b : {&prefill, &decode}) {
    std::vector<float> lg, lc;
    ASSERT_OK((*gpu)->forward(*b, &lg));
    ASSERT_OK((*cpu)->forward(*b, &lc));
    ASSERT_EQ(lg.size(), lc.size());
    for (size_t j = 0; j < lc.size(); ++j) EXPECT_NEAR(lg[j], lc[j], 1e-5f * (1 + std::fabs(lc[j]))) << "logit " << j;
    std::vector<int32_t> tg, tc;
    ASSERT_OK((*gpu)->forwardArgmax(*b, &tg));
    ASSERT_OK((*cpu)->forwardArgmax(*b, &tc));
    EXPECT_EQ(tg, tc);
  }
}

}  // namespace
}  // namespace llmc

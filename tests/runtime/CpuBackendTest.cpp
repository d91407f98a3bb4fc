// CpuBackendTest.cpp - the CPU backend as a whole: a tiny GPT-2-style program (position embedding,
// layer norm with bias, linear with bias, split, attention without rope, gelu-tanh, ops on
// last-token rows) against a float64 reference; batch validation; copyBlock; backend factory.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include <nlohmann/json.hpp>

#include "TestUtil.h"
#include "TinyLlama.h"
#include "llmc/runtime/Backend.h"
#include "llmc/runtime/Engine.h"
#include "llmc/runtime/Executor.h"

namespace llmc {
namespace {

using nlohmann::json;

constexpr int V = 40, H = 16, NH = 2, HD = 8, F = 32, P = 24;

struct Gpt2 {
  std::map<std::string, std::vector<float>> w;
  std::map<std::string, std::vector<int64_t>> shape;
};

Gpt2 makeGpt2(uint32_t seed) {
  Gpt2 g;
  std::mt19937 rng(seed);
  auto add = [&](const std::string& n, std::vector<int64_t> s, float lo, float hi) {
    int64_t k = 1;
    for (auto d : s) k *= d;
    g.w[n] = test::randomVector(rng, size_t(k), lo, hi);
    g.shape[n] = s;
  };
  add("wte", {V, H}, -1, 1);
  add("wpe", {P, H}, -0.5, 0.5);
  add("ln1.w", {H}, 0.7f, 1.3f);
  add("ln1.b", {H}, -0.2f, 0.2f);
  add("attn.w", {3 * H, H}, -0.4f, 0.4f);
  add("attn.b", {3 * H}, -0.2f, 0.2f);
  add("proj.w", {H, H}, -0.4f, 0.4f);
  add("proj.b", {H}, -0.2f, 0.2f);
  add("ln2.w", {H}, 0.7f, 1.3f);
  add("ln2.b", {H}, -0.2f, 0.2f);
  add("fc.w", {F, H}, -0.4f, 0.4f);
  add("fc.b", {F}, -0.2f, 0.2f);
  add("mlp.w", {H, F}, -0.3f, 0.3f);
  add("mlp.b", {H}, -0.2f, 0.2f);
  add("lnf.w", {H}, 0.7f, 1.3f);
  add("lnf.b", {H}, -0.2f, 0.2f);
  return g;
}

Status writeGpt2(const Gpt2& g, const std::string& path) {
  // Values without space sharing: each gets its own offset.
  json values = json::array();
  int64_t at = 0;
  auto val = [&](int64_t width, const char* rows = "all") {
    values.push_back({{"width", width}, {"offset", at}, {"rows", rows}});
    at += width;
    return int(values.size()) - 1;
  };
  json steps = json::array();
  auto step = [&](const char* op, std::vector<int> in, std::vector<int> out, json weights, json attrs) {
    steps.push_back({{"op", op}, {"in", in}, {"out", out}, {"weights", weights}, {"attrs", attrs}});
  };
  int e = val(H), x = val(H), h = val(H), qkv = val(3 * H), q = val(H), k = val(H), v = val(H), a = val(H),
      o = val(H), x2 = val(H), h2 = val(H), f = val(F), gl = val(F), d = val(H), x3 = val(H), last = val(H, "last"),
      lf = val(H, "last"), logits = val(V, "last");
  json none = json::object();
  step("embedding", {-1}, {e}, {{"weight", "wte"}}, {{"scale", 1.5}});
  step("position_embedding", {e}, {x}, {{"weight", "wpe"}}, none);
  step("layer_norm", {x}, {h}, {{"weight", "ln1.w"}, {"bias", "ln1.b"}}, {{"eps", 1e-5}});
  step("linear", {h}, {qkv}, {{"weight", "attn.w"}, {"bias", "attn.b"}}, none);
  step("split", {qkv}, {q, k, v}, none, {{"sizes", {H, H, H}}});
  step("attention", {q, k, v}, {a}, none,
       {{"layer", 0}, {"num_heads", NH}, {"num_kv_heads", NH}, {"head_dim", HD}});
  step("linear", {a}, {o}, {{"weight", "proj.w"}, {"bias", "proj.b"}}, none);
  step("add", {x, o}, {x2}, none, none);
  step("layer_norm", {x2}, {h2}, {{"weight", "ln2.w"}, {"bias", "ln2.b"}}, {{"eps", 1e-5}});
  step("linear", {h2}, {f}, {{"weight", "fc.w"}, {"bias", "fc.b"}}, none);
  step("gelu", {f}, {gl}, none, {{"approximate", "tanh"}});
  step("linear", {gl}, {d}, {{"weight", "mlp.w"}, {"bias", "mlp.b"}}, none);
  step("add", {x2, d}, {x3}, none, none);
  step("last_token", {x3}, {last}, none, none);
  step("layer_norm", {last}, {lf}, {{"weight", "lnf.w"}, {"bias", "lnf.b"}}, {{"eps", 1e-5}});
  step("linear", {lf}, {logits}, {{"weight", "wte"}}, none);
  json program = {{"arena_per_token", at}, {"values", values}, {"steps", steps}, {"output", logits}};

  std::string blob;
  json index = json::array();
  for (const auto& [name, data] : g.w) {
    blob.resize(engine::alignUp(blob.size()), '\0');
    index.push_back({{"name", name}, {"dtype", "f32"}, {"shape", g.shape.at(name)}, {"offset", blob.size()},
                     {"nbytes", data.size() * 4}});
    blob.append(reinterpret_cast<const char*>(data.data()), data.size() * 4);
  }
  json model = {{"architecture", "gpt2"}, {"vocab_size", V}, {"hidden_size", H}, {"num_layers", 1},
                {"num_heads", NH}, {"num_kv_heads", NH}, {"head_dim", HD}, {"max_position", P},
                {"bos_token_id", nullptr}, {"eos_token_ids", {0}}, {"sliding_window", 0}, {"dtype", "f32"}};
  json meta = {{"model", model}, {"weights", index}, {"build", json::object()}, {"report", json::object()}};
  return test::writeRawEngine(path, meta.dump(), program.dump(), blob);
}

// float64 GPT-2 forward; logits after the last token.
std::vector<double> gpt2Ref(const Gpt2& g, const std::vector<int32_t>& ids) {
  const int T = int(ids.size());
  auto W = [&](const char* n) -> const std::vector<float>& { return g.w.at(n); };
  using Mat = std::vector<std::vector<double>>;
  auto ln = [&](const Mat& x, const char* w, const char* b) {
    Mat y = x;
    for (auto& r : y) {
      double m = 0, var = 0;
      for (double v : r) m += v;
      m /= r.size();
      for (double v : r) var += (v - m) * (v - m);
      var /= r.size();
      for (size_t i = 0; i < r.size(); ++i) r[i] = (r[i] - m) / std::sqrt(var + 1e-5) * W(w)[i] + W(b)[i];
    }
    return y;
  };
  auto lin = [&](const Mat& x, const char* w, const char* b, int n) {
    Mat y(x.size(), std::vector<double>(n));
    const int kk = int(x[0].size());
    for (size_t t = 0; t < x.size(); ++t)
      for (int i = 0; i < n; ++i) {
        double s = b ? W(b)[i] : 0.0;
        for (int j = 0; j < kk; ++j) s += x[t][j] * W(w)[size_t(i) * kk + j];
        y[t][i] = s;
      }
    return y;
  };
  Mat x(T, std::vector<double>(H));
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < H; ++i) x[t][i] = 1.5 * W("wte")[ids[t] * H + i] + W("wpe")[t * H + i];
  Mat qkv = lin(ln(x, "ln1.w", "ln1.b"), "attn.w", "attn.b", 3 * H);
  Mat a(T, std::vector<double>(H, 0.0));
  for (int t = 0; t < T; ++t)
    for (int hh = 0; hh < NH; ++hh) {
      std::vector<double> s(t + 1);
      double mx = -1e300, sum = 0;
      for (int p = 0; p <= t; ++p) {
        double d = 0;
        for (int i = 0; i < HD; ++i) d += qkv[t][hh * HD + i] * qkv[p][H + hh * HD + i];
        s[p] = d / std::sqrt(double(HD));
        mx = std::max(mx, s[p]);
      }
      for (double& e : s) sum += (e = std::exp(e - mx));
      for (int p = 0; p <= t; ++p)
        for (int i = 0; i < HD; ++i) a[t][hh * HD + i] += s[p] / sum * qkv[p][2 * H + hh * HD + i];
    }
  Mat o = lin(a, "proj.w", "proj.b", H);
  for (int t = 0; t < T; ++t) for (int i = 0; i < H; ++i) x[t][i] += o[t][i];
  Mat f = lin(ln(x, "ln2.w", "ln2.b"), "fc.w", "fc.b", F);
  for (auto& r : f)
    for (double& v : r) v = 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
  Mat d = lin(f, "mlp.w", "mlp.b", H);
  for (int t = 0; t < T; ++t) for (int i = 0; i < H; ++i) x[t][i] += d[t][i];
  Mat last = {x.back()};
  return lin(ln(last, "lnf.w", "lnf.b"), "wte", nullptr, V)[0];
}

class CpuBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g = makeGpt2(21);
    ASSERT_TRUE(writeGpt2(g, dir.file("g.engine")).ok());
    auto e = Engine::load(dir.file("g.engine"));
    ASSERT_TRUE(e.ok()) << e.status().message();
    engine = std::move(*e);
  }
  test::TempDir dir;
  Gpt2 g;
  std::unique_ptr<Engine> engine;
};

TEST_F(CpuBackendTest, Gpt2StyleProgramMatchesReference) {
  BackendOptions bo;
  bo.kvBlockSize = 4;
  bo.kvBlocks = 16;
  bo.threads = 2;
  auto ex = Executor::create(*engine, createCpuBackend(), bo);
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  Executor& x = **ex;
  std::vector<int32_t> p1 = {3, 17, 5, 39, 0, 22, 8}, p2 = {11, 4, 30};
  auto s1 = x.addSequence(), s2 = x.addSequence();
  std::vector<float> logits;
  ASSERT_TRUE(x.step({{s1, p1}, {s2, p2}}, &logits).ok());  // two prompts in one step
  auto check = [&](const std::vector<int32_t>& ids, size_t row) {
    std::vector<float> got(logits.begin() + row * V, logits.begin() + (row + 1) * V);
    EXPECT_LE(test::worstError(got, gpt2Ref(g, ids), 1e-4, 1e-4), 1.0);
  };
  check(p1, 0);
  check(p2, 1);
  ASSERT_TRUE(x.step({{s2, {7}}, {s1, {12}}}, &logits).ok());  // decode, order swapped
  p1.push_back(12);
  p2.push_back(7);
  check(p2, 0);
  check(p1, 1);
  // The position table has P rows: the sequence may not run past it.
  std::vector<int32_t> longer(P - p1.size() + 1, 1);
  EXPECT_EQ(x.step({{s1, longer}}, &logits).code(), StatusCode::kInvalidArgument);
}

TEST_F(CpuBackendTest, RejectsBadBatches) {
  auto be = createCpuBackend();
  BackendOptions bo;
  bo.maxBatchTokens = 8;
  bo.maxSequences = 2;
  bo.kvBlockSize = 4;
  bo.kvBlocks = 6;
  std::vector<float> logits;
  StepBatch early;
  EXPECT_EQ(be->forward(early, &logits).code(), StatusCode::kInternal);  // before prepare
  ASSERT_TRUE(be->prepare(*engine, bo).ok());
  EXPECT_EQ(be->kvBlockCount(), 6);
  auto batch = [](std::vector<int32_t> tokens, std::vector<SequenceSlice> s) {
    StepBatch b;
    b.tokens = std::move(tokens);
    b.sequences = std::move(s);
    return b;
  };
  SequenceSlice ok{0, 3, 0, {0}};
  EXPECT_TRUE(be->forward(batch({1, 2, 3}, {ok}), &logits).ok());
  EXPECT_EQ(logits.size(), size_t(V));
  auto code = [&](StepBatch b) { return be->forward(b, &logits).code(); };
  EXPECT_EQ(code(batch({}, {})), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(batch(std::vector<int32_t>(9, 1), {SequenceSlice{0, 9, 0, {0, 1, 2}}})), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(batch({1, 2, 40}, {ok})), StatusCode::kInvalidArgument);           // token outside vocab
  EXPECT_EQ(code(batch({1, 2, 3}, {SequenceSlice{0, 3, 2, {0}}})), StatusCode::kInvalidArgument);  // table too short
  EXPECT_EQ(code(batch({1, 2, 3}, {SequenceSlice{0, 3, 0, {6}}})), StatusCode::kInvalidArgument);  // block id
  EXPECT_EQ(code(batch({1, 2, 3}, {SequenceSlice{0, 2, 0, {0}}})), StatusCode::kInvalidArgument);  // uncovered
  EXPECT_EQ(code(batch({1, 2, 3}, {SequenceSlice{1, 2, 0, {0}}, SequenceSlice{0, 1, 0, {1}}})),
            StatusCode::kInvalidArgument);  // out of order
  EXPECT_EQ(code(batch({1, 2, 3}, {SequenceSlice{0, 1, 0, {0}}, SequenceSlice{1, 1, 0, {1}},
                                   SequenceSlice{2, 1, 0, {2}}})),
            StatusCode::kInvalidArgument);  // > maxSequences
  EXPECT_EQ(code(batch({1}, {SequenceSlice{0, 1, P, {0, 1, 2, 3, 4, 5}}})), StatusCode::kInvalidArgument);
  EXPECT_EQ(be->copyBlock(0, 6).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(be->copyBlock(0, 5).ok());
  EXPECT_EQ(be->prepare(*engine, bo).code(), StatusCode::kInternal);
}

// copyBlock duplicates a block's K and V: a sequence reading the copy sees the original's cache.
TEST_F(CpuBackendTest, CopyBlockCopiesKv) {
  auto be = createCpuBackend();
  BackendOptions bo;
  bo.kvBlockSize = 4;
  bo.kvBlocks = 4;
  ASSERT_TRUE(be->prepare(*engine, bo).ok());
  std::vector<float> a, b;
  StepBatch first{{5, 6, 7}, {SequenceSlice{0, 3, 0, {1}}}};
  ASSERT_TRUE(be->forward(first, &a).ok());
  ASSERT_TRUE(be->copyBlock(1, 3).ok());
  StepBatch viaOriginal{{9}, {SequenceSlice{0, 1, 3, {1}}}};
  ASSERT_TRUE(be->forward(viaOriginal, &a).ok());
  StepBatch viaCopy{{9}, {SequenceSlice{0, 1, 3, {3}}}};
  ASSERT_TRUE(be->forward(viaCopy, &b).ok());
  EXPECT_EQ(a, b);
  EXPECT_LE(test::worstError(a, gpt2Ref(g, {5, 6, 7, 9}), 1e-4, 1e-4), 1.0);
}

TEST(BackendFactoryTest, Names) {
  auto cpu = createBackend("cpu");
  ASSERT_TRUE(cpu.ok());
  EXPECT_EQ((*cpu)->name(), "cpu");
  auto bad = createBackend("tpu");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("tpu"), std::string::npos);
  // Without a usable CUDA device (or without the CUDA backend), "cuda" is kUnavailable and "auto"
  // is the CPU backend.
  auto cuda = createBackend("cuda");
  if (!cuda.ok()) {
    EXPECT_EQ(cuda.status().code(), StatusCode::kUnavailable) << cuda.status().message();
    auto any = createBackend("auto");
    ASSERT_TRUE(any.ok());
    EXPECT_EQ((*any)->name(), "cpu");
  }

}

}  // namespace
}  // namespace llmc

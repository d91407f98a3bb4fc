// Stories260KTest.cpp - a real trained model end to end through the runtime alone: stories260K's
// safetensors (read here) become an engine with the tiny-Llama program, and greedy decoding must
// reproduce golden_greedy.json (computed independently in float64 and checked against transformers)
// token for token, with the engine's embedded tokenizer giving the golden text.
#include <gtest/gtest.h>

#include <cstring>

#include <nlohmann/json.hpp>

#include "TestUtil.h"
#include "TinyLlama.h"
#include "llmc/runtime/Engine.h"
#include "llmc/runtime/Executor.h"
#include "llmc/runtime/Generator.h"
#include "llmc/runtime/Tokenizer.h"

#ifndef LLMC_SHARED_DIR
#define LLMC_SHARED_DIR "/work/shared"
#endif

namespace llmc {
namespace {

using nlohmann::json;

const std::string kDir = std::string(LLMC_SHARED_DIR) + "/models/stories260K";

// safetensors: u64 header length, JSON header {name: {dtype, shape, data_offsets}}, data. F32 only.
bool readSafetensors(const std::string& path, std::map<std::string, std::vector<float>>* w,
                     std::map<std::string, std::vector<int64_t>>* shapes) {
  std::string b = test::readFile(path);
  if (b.size() < 8) return false;
  uint64_t n;
  std::memcpy(&n, b.data(), 8);
  json h = json::parse(b.substr(8, n), nullptr, false);
  if (h.is_discarded()) return false;
  for (auto& [name, t] : h.items()) {
    if (name == "__metadata__") continue;
    if (t["dtype"] != "F32") return false;
    uint64_t s = t["data_offsets"][0], e = t["data_offsets"][1];
    std::vector<float> v((e - s) / 4);
    std::memcpy(v.data(), b.data() + 8 + n + s, e - s);
    (*w)[name] = std::move(v);
    (*shapes)[name] = t["shape"].get<std::vector<int64_t>>();
  }
  return true;
}

class Stories260KTest : public ::testing::TestWithParam<bool> {};  // param: fused program

TEST_P(Stories260KTest, GreedyMatchesGolden) {
  const std::string golden = test::readFile(kDir + "/golden_greedy.json");
  if (golden.empty()) GTEST_SKIP() << "no " << kDir;
  json g = json::parse(golden);
  std::map<std::string, std::vector<float>> w;
  std::map<std::string, std::vector<int64_t>> shapes;
  ASSERT_TRUE(readSafetensors(kDir + "/model.safetensors", &w, &shapes));
  test::TinyLlamaConfig c;  // config.json of stories260K
  c.vocab = 512;
  c.hidden = 64;
  c.layers = 5;
  c.heads = 8;
  c.kvHeads = 4;
  c.headDim = 8;
  c.inter = 172;
  c.maxPos = 512;
  c.eps = 1e-5;
  c.theta = 10000.0;
  c.tieEmbeddings = true;
  c.eos = {2};
  c.fused = GetParam();
  test::TinyLlama m = test::tinyLlamaFromWeights(c, std::move(w), std::move(shapes));
  test::TempDir dir;
  ASSERT_TRUE(m.write(dir.file("s.engine"), test::readFile(kDir + "/tokenizer.json"),
                      test::readFile(kDir + "/tokenizer_config.json"))
                  .ok());
  auto engine = Engine::load(dir.file("s.engine"));
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  auto tok = Tokenizer::fromJson((*engine)->tokenizerJson(), (*engine)->tokenizerConfigJson(), "s.engine");
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  BackendOptions bo;
  bo.maxBatchTokens = 3;  // the 5-token prompt is prefilled in two chunks
  bo.kvBlockSize = 16;
  auto exec = Executor::create(**engine, createCpuBackend(), bo);
  ASSERT_TRUE(exec.ok()) << exec.status().message();
  Generator gen(**exec, tok->get());
  GenerationOptions go;
  go.maxNewTokens = static_cast<int>(g["greedy_new_ids"].size());
  auto r = gen.generateText(g["prompt"].get<std::string>(), go);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->tokens, g["greedy_new_ids"].get<std::vector<int32_t>>());
  EXPECT_EQ(r->text, g["greedy_text"].get<std::string>());
  auto first8 = g["logits_after_prompt_first8"].get<std::vector<double>>();
  for (size_t i = 0; i < first8.size(); ++i) EXPECT_NEAR(r->promptLogits[i], first8[i], 1e-3) << i;
  for (auto& e : g["logits_after_prompt_top5"]) {
    EXPECT_NEAR(r->promptLogits[e[0].get<int>()], e[2].get<double>(), 1e-3);
  }
}

INSTANTIATE_TEST_SUITE_P(Programs, Stories260KTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& i) { return i.param ? "fused" : "unfused"; });

}  // namespace
}  // namespace llmc

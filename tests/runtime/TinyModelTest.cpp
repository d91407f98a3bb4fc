// TinyModelTest.cpp - whole-model runs: tiny random Llama engines written with EngineFileWriter and
// hand-built meta/program JSON, executed by Executor/Generator on the CPU backend, checked against
// the float64 reference forward in TinyLlama.cpp (which never sees the program or the runtime).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

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

using test::referenceLogits;
using test::TinyLlama;
using test::TinyLlamaConfig;

struct Loaded {
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Executor> exec;
};

Loaded load(const TinyLlama& m, const std::string& path, BackendOptions bo, const std::string& tok = "") {
  Loaded l;
  Status s = m.write(path, tok);
  EXPECT_TRUE(s.ok()) << s.message();
  auto e = Engine::load(path);
  EXPECT_TRUE(e.ok()) << e.status().message();
  if (!e.ok()) return l;
  l.engine = std::move(*e);
  auto be = createBackend("cpu");
  EXPECT_TRUE(be.ok());
  auto ex = Executor::create(*l.engine, std::move(*be), bo);
  EXPECT_TRUE(ex.ok()) << ex.status().message();
  if (ex.ok()) l.exec = std::move(*ex);
  return l;
}

std::vector<int32_t> randomIds(std::mt19937& rng, int n, int vocab) {
  std::uniform_int_distribution<int> u(3, vocab - 1);
  std::vector<int32_t> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

double check(const std::vector<float>& got, const std::vector<double>& want) {
  return test::worstError(got, want, 1e-4, 1e-3);
}

int argmax(const std::vector<float>& v) { return int(std::max_element(v.begin(), v.end()) - v.begin()); }

struct ModelCase {
  const char* name;
  TinyLlamaConfig cfg;
  int maxBatchTokens;
  int promptLen;
};

void PrintTo(const ModelCase& c, std::ostream* os) { *os << c.name; }

class TinyModelTest : public ::testing::TestWithParam<ModelCase> {
 protected:
  test::TempDir dir;
};

// Greedy generation: prompt logits and every decode step's logits match the float64 forward of the
// same token sequence, and each token is the argmax of the logits before it.
TEST_P(TinyModelTest, GreedyMatchesReference) {
  const ModelCase mc = GetParam();
  TinyLlama m = test::makeTinyLlama(mc.cfg);
  BackendOptions bo;
  bo.maxBatchTokens = mc.maxBatchTokens;
  bo.kvBlockSize = 4;
  bo.kvBlocks = 64;
  bo.threads = 2;
  Loaded l = load(m, dir.file("m.engine"), bo);
  ASSERT_TRUE(l.exec);
  std::mt19937 rng(5);
  auto prompt = randomIds(rng, mc.promptLen, mc.cfg.vocab);
  Generator gen(*l.exec);
  GenerationOptions go;
  go.maxNewTokens = 10;
  go.ignoreEos = true;
  go.recordLogits = true;
  auto r = gen.generate(prompt, go);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->tokens.size(), 10u);
  EXPECT_EQ(r->stopReason, StopReason::kLength);
  ASSERT_EQ(r->stepLogits.size(), 9u);

  std::vector<int32_t> all = prompt;
  all.insert(all.end(), r->tokens.begin(), r->tokens.end());
  auto ref = referenceLogits(m, all);
  EXPECT_LE(check(r->promptLogits, ref[prompt.size() - 1]), 1.0) << "prompt logits";
  EXPECT_EQ(r->tokens[0], argmax(r->promptLogits));
  for (size_t i = 0; i < r->stepLogits.size(); ++i) {
    EXPECT_LE(check(r->stepLogits[i], ref[prompt.size() + i]), 1.0) << "decode step " << i;
    EXPECT_EQ(r->tokens[i + 1], argmax(r->stepLogits[i]));
  }
  // The KV blocks went back to the pool.
  EXPECT_EQ(l.exec->kvCache().freeBlocks(), 64);
}

TinyLlamaConfig cfg(std::function<void(TinyLlamaConfig&)> f) {
  TinyLlamaConfig c;
  f(c);
  return c;
}

INSTANTIATE_TEST_SUITE_P(
    Models, TinyModelTest,
    ::testing::Values(
        ModelCase{"unfused_gqa", cfg([](auto&) {}), 64, 9},
        ModelCase{"fused_gqa", cfg([](auto& c) { c.fused = true; }), 64, 9},
        ModelCase{"fused_inplace_plan", cfg([](auto& c) { c.fused = true; c.reuseInputs = true; }), 64, 9},
        ModelCase{"unfused_inplace_plan", cfg([](auto& c) { c.reuseInputs = true; }), 64, 9},
        ModelCase{"mha", cfg([](auto& c) { c.kvHeads = 4; }), 64, 6},
        ModelCase{"mqa", cfg([](auto& c) { c.kvHeads = 1; c.fused = true; }), 64, 6},
        ModelCase{"chunked_prefill", cfg([](auto& c) { c.fused = true; }), 4, 11},
        ModelCase{"chunked_prefill_unfused", cfg([](auto&) {}), 3, 10},
        ModelCase{"sliding_window", cfg([](auto& c) { c.slidingWindow = 5; }), 64, 9},
        ModelCase{"sliding_window_chunked", cfg([](auto& c) { c.slidingWindow = 3; c.fused = true; }), 4, 9},
        ModelCase{"interleaved_partial_rotary", cfg([](auto& c) { c.interleaved = true; c.rotaryDim = 4; }), 64, 7},
        ModelCase{"f16", cfg([](auto& c) { c.dtype = engine::DType::kF16; c.fused = true; }), 64, 7},
        ModelCase{"bf16", cfg([](auto& c) { c.dtype = engine::DType::kBF16; }), 64, 7},
        ModelCase{"tied_3layers", cfg([](auto& c) { c.tieEmbeddings = true; c.layers = 3; }), 64, 7}),
    [](const ::testing::TestParamInfo<ModelCase>& i) { return std::string(i.param.name); });

class TinyModelRunTest : public ::testing::Test {
 protected:
  BackendOptions options(int maxBatchTokens = 64, int blocks = 64) {
    BackendOptions bo;
    bo.maxBatchTokens = maxBatchTokens;
    bo.kvBlockSize = 4;
    bo.kvBlocks = blocks;
    bo.threads = 2;
    return bo;
  }
  test::TempDir dir;
  std::mt19937 rng{11};
};

// Two sequences in one batch (packed prefill, batched decode) give the same tokens as each alone,
// and logits that match the reference.
TEST_F(TinyModelRunTest, BatchOfTwoMatchesSingles) {
  TinyLlamaConfig c;
  c.fused = true;
  TinyLlama m = test::makeTinyLlama(c);
  for (int mbt : {64, 5}) {  // 5: prompts are chunked and share steps
    Loaded l = load(m, dir.file("b.engine"), options(mbt));
    ASSERT_TRUE(l.exec);
    Generator gen(*l.exec);
    GenerationOptions go;
    go.maxNewTokens = 8;
    go.ignoreEos = true;
    go.recordLogits = true;
    std::vector<std::vector<int32_t>> prompts = {randomIds(rng, 7, c.vocab), randomIds(rng, 12, c.vocab)};
    auto batch = gen.generateBatch(prompts, go);
    ASSERT_TRUE(batch.ok()) << batch.status().message();
    ASSERT_EQ(batch->size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
      auto single = gen.generate(prompts[i], go);
      ASSERT_TRUE(single.ok());
      EXPECT_EQ((*batch)[i].tokens, single->tokens) << "sequence " << i << " maxBatchTokens " << mbt;
      std::vector<int32_t> all = prompts[i];
      all.insert(all.end(), (*batch)[i].tokens.begin(), (*batch)[i].tokens.end());
      auto ref = referenceLogits(m, all);
      EXPECT_LE(check((*batch)[i].promptLogits, ref[prompts[i].size() - 1]), 1.0);
      for (size_t s = 0; s < (*batch)[i].stepLogits.size(); ++s) {
        EXPECT_LE(check((*batch)[i].stepLogits[s], ref[prompts[i].size() + s]), 1.0) << i << " step " << s;
      }
    }
    EXPECT_GT((*batch)[0].stats.decodeSteps, 0);
    EXPECT_EQ((*batch)[0].stats.promptTokens, 19);
  }
}

// Prefix sharing: a forked sequence shares the parent's blocks (the last one partially filled);
// both then diverge, which forces a copy-on-write through the backend's copyBlock.
TEST_F(TinyModelRunTest, ForkedSequencesCopyOnWrite) {
  TinyLlamaConfig c;
  TinyLlama m = test::makeTinyLlama(c);
  Loaded l = load(m, dir.file("f.engine"), options());
  ASSERT_TRUE(l.exec);
  Executor& ex = *l.exec;
  auto prefix = randomIds(rng, 6, c.vocab);  // 6 tokens: block 1 holds 2 of 4 slots
  auto a = ex.addSequence();
  std::vector<float> logits;
  ASSERT_TRUE(ex.prefill(a, prefix, &logits).ok());
  auto b = ex.forkSequence(a);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(ex.kvCache().blockTable(a), ex.kvCache().blockTable(*b));
  const int64_t freeBefore = ex.kvCache().freeBlocks();
  std::vector<int32_t> ta = {5, 9, 17}, tb = {40, 41};
  ASSERT_TRUE(ex.step({{a, ta}, {*b, tb}}, &logits).ok());
  // a: a private copy of the shared block 1 and a new block 2 (9 tokens); b: then the only owner of
  // the old block 1, writes in place (8 tokens).
  EXPECT_EQ(ex.kvCache().freeBlocks(), freeBefore - 2);
  EXPECT_NE(ex.kvCache().blockTable(a)[1], ex.kvCache().blockTable(*b)[1]);
  EXPECT_EQ(ex.kvCache().blockTable(a)[0], ex.kvCache().blockTable(*b)[0]);
  auto seqA = prefix, seqB = prefix;
  seqA.insert(seqA.end(), ta.begin(), ta.end());
  seqB.insert(seqB.end(), tb.begin(), tb.end());
  auto refA = referenceLogits(m, seqA), refB = referenceLogits(m, seqB);
  const size_t V = c.vocab;
  EXPECT_LE(check(std::vector<float>(logits.begin(), logits.begin() + V), refA.back()), 1.0);
  EXPECT_LE(check(std::vector<float>(logits.begin() + V, logits.end()), refB.back()), 1.0);
  // One more token each, reading the shared first block and their own second blocks.
  ASSERT_TRUE(ex.step({{*b, {3}}, {a, {4}}}, &logits).ok());
  seqA.push_back(4);
  seqB.push_back(3);
  EXPECT_LE(check(std::vector<float>(logits.begin(), logits.begin() + V), referenceLogits(m, seqB).back()), 1.0);
  EXPECT_LE(check(std::vector<float>(logits.begin() + V, logits.end()), referenceLogits(m, seqA).back()), 1.0);
  ASSERT_TRUE(ex.removeSequence(a).ok());
  ASSERT_TRUE(ex.removeSequence(*b).ok());
  EXPECT_EQ(ex.kvCache().freeBlocks(), 64);
}

// Wraps a backend and counts which kind of step the Generator asked for; forwardArgmax is the
// Backend base class's default (forward() + a host scan), as every backend without its own has.
class CountingBackend : public Backend {
 public:
  explicit CountingBackend(std::unique_ptr<Backend> inner) : inner_(std::move(inner)) {}
  std::string name() const override { return inner_->name(); }
  Status prepare(const Engine& e, const BackendOptions& o) override { return inner_->prepare(e, o); }
  int64_t kvBlockCount() const override { return inner_->kvBlockCount(); }
  Status forward(const StepBatch& b, std::vector<float>* logits) override {
    ++*forwards;
    return inner_->forward(b, logits);
  }
  Status forwardArgmax(const StepBatch& b, std::vector<int32_t>* tokens) override {
    ++*argmaxes;
    return Backend::forwardArgmax(b, tokens);
  }
  Status copyBlock(int32_t src, int32_t dst) override { return inner_->copyBlock(src, dst); }
  std::shared_ptr<int> forwards = std::make_shared<int>(0), argmaxes = std::make_shared<int>(0);

 private:
  std::unique_ptr<Backend> inner_;
};

// Greedy decode steps through Backend::forwardArgmax give exactly the tokens (and stop reasons)
// of sampling from the logits on the host; the path is taken only where no logits are needed.
TEST_F(TinyModelRunTest, BackendArgmaxGivesTheSameTokens) {
  TinyLlamaConfig c;
  c.fused = true;
  c.eos = {0, 7};
  TinyLlama m = test::makeTinyLlama(c);
  ASSERT_TRUE(m.write(dir.file("a.engine")).ok());
  auto e = Engine::load(dir.file("a.engine"));
  ASSERT_TRUE(e.ok()) << e.status().message();
  auto cpu = createBackend("cpu");
  ASSERT_TRUE(cpu.ok());
  auto counting = std::make_unique<CountingBackend>(std::move(*cpu));
  std::shared_ptr<int> forwards = counting->forwards, argmaxes = counting->argmaxes;
  auto ex = Executor::create(**e, std::move(counting), options(6));
  ASSERT_TRUE(ex.ok()) << ex.status().message();
  Generator gen(**ex);
  std::vector<std::vector<int32_t>> prompts = {randomIds(rng, 7, c.vocab), randomIds(rng, 12, c.vocab),
                                               randomIds(rng, 3, c.vocab)};
  for (bool ignoreEos : {true, false}) {
    GenerationOptions go;
    go.maxNewTokens = 16;
    go.ignoreEos = ignoreEos;
    go.backendArgmax = false;
    *forwards = *argmaxes = 0;
    auto host = gen.generateBatch(prompts, go);
    ASSERT_TRUE(host.ok()) << host.status().message();
    EXPECT_EQ(*argmaxes, 0);
    go.backendArgmax = true;
    *forwards = 0;
    auto device = gen.generateBatch(prompts, go);
    ASSERT_TRUE(device.ok()) << device.status().message();
    EXPECT_EQ(*argmaxes, (*device)[0].stats.decodeSteps) << "every decode step took the argmax path";
    EXPECT_GT(*argmaxes, 0);
    for (size_t i = 0; i < prompts.size(); ++i) {
      EXPECT_EQ((*device)[i].tokens, (*host)[i].tokens) << "sequence " << i << " ignoreEos " << ignoreEos;
      EXPECT_EQ((*device)[i].stopReason, (*host)[i].stopReason) << "sequence " << i;
      EXPECT_EQ((*device)[i].promptLogits, (*host)[i].promptLogits) << "prefill still returns the prompt logits";
    }
  }
  // Where logits are needed (recordLogits) or the sampler needs them (temperature, repetition
  // penalty), the path is not taken.
  for (int variant = 0; variant < 3; ++variant) {
    GenerationOptions go;
    go.maxNewTokens = 4;
    go.ignoreEos = true;
    if (variant == 0) go.recordLogits = true;
    if (variant == 1) go.sampling.temperature = 0.8f;
    if (variant == 2) go.sampling.repetitionPenalty = 1.3f;
    *argmaxes = 0;
    auto r = gen.generateBatch(prompts, go);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(*argmaxes, 0) << "variant " << variant;
  }
}

TEST_F(TinyModelRunTest, StopsAtEos) {
  TinyLlamaConfig c;
  TinyLlama free = test::makeTinyLlama(c);
  auto prompt = randomIds(rng, 5, c.vocab);
  GenerationOptions go;
  go.maxNewTokens = 12;
  go.ignoreEos = true;
  std::vector<int32_t> tokens;
  {
    Loaded l = load(free, dir.file("e0.engine"), options());
    ASSERT_TRUE(l.exec);
    auto r = Generator(*l.exec).generate(prompt, go);
    ASSERT_TRUE(r.ok());
    tokens = r->tokens;
  }
  // The same weights with eos = the 4th generated token: generation ends there, EOS kept.
  c.eos = {0, tokens[3]};
  TinyLlama withEos = test::makeTinyLlama(c);
  Loaded l = load(withEos, dir.file("e1.engine"), options());
  ASSERT_TRUE(l.exec);
  go.ignoreEos = false;
  auto r = Generator(*l.exec).generate(prompt, go);
  ASSERT_TRUE(r.ok());
  const size_t first = std::find(tokens.begin(), tokens.end(), tokens[3]) - tokens.begin();
  EXPECT_EQ(r->stopReason, StopReason::kEos);
  EXPECT_EQ(r->tokens, std::vector<int32_t>(tokens.begin(), tokens.begin() + first + 1));
  go.ignoreEos = true;
  auto r2 = Generator(*l.exec).generate(prompt, go);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->tokens, tokens);
}

TEST_F(TinyModelRunTest, StopsAtMaxPosition) {
  TinyLlamaConfig c;
  c.maxPos = 20;
  TinyLlama m = test::makeTinyLlama(c);
  Loaded l = load(m, dir.file("p.engine"), options());
  ASSERT_TRUE(l.exec);
  GenerationOptions go;
  go.maxNewTokens = 50;
  go.ignoreEos = true;
  auto r = Generator(*l.exec).generate(randomIds(rng, 15, c.vocab), go);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->stopReason, StopReason::kMaxPosition);
  EXPECT_EQ(r->tokens.size(), 6u);  // positions 15..19 fed; the 6th token is never fed
  auto tooLong = Generator(*l.exec).generate(randomIds(rng, 21, c.vocab), go);
  EXPECT_EQ(tooLong.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TinyModelRunTest, SeededSamplingIsDeterministic) {
  TinyLlamaConfig c;
  TinyLlama m = test::makeTinyLlama(c);
  Loaded l = load(m, dir.file("s.engine"), options());
  ASSERT_TRUE(l.exec);
  auto prompt = randomIds(rng, 4, c.vocab);
  GenerationOptions go;
  go.maxNewTokens = 16;
  go.ignoreEos = true;
  go.sampling.temperature = 1.5f;
  go.sampling.topK = 40;
  go.sampling.topP = 0.95f;
  go.sampling.seed = 42;
  Generator gen(*l.exec);
  auto a = gen.generate(prompt, go), b = gen.generate(prompt, go);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->tokens, b->tokens);
  go.sampling.seed = 43;
  auto d = gen.generate(prompt, go);
  ASSERT_TRUE(d.ok());
  EXPECT_NE(a->tokens, d->tokens);  // 16 draws at temperature 1.5 over ~40 tokens: equal by chance ~never
}

TEST_F(TinyModelRunTest, OutOfKvBlocksIsAnError) {
  TinyLlamaConfig c;
  TinyLlama m = test::makeTinyLlama(c);
  Loaded l = load(m, dir.file("k.engine"), options(64, /*blocks=*/3));
  ASSERT_TRUE(l.exec);
  GenerationOptions go;
  go.maxNewTokens = 20;
  go.ignoreEos = true;
  auto r = Generator(*l.exec).generate(randomIds(rng, 10, c.vocab), go);  // needs 8 blocks of 4
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("out of blocks"), std::string::npos) << r.status().message();
  EXPECT_EQ(l.exec->kvCache().freeBlocks(), 3);  // released on the error path too
}

// Text generation with the stories260K tokenizer (vocab 512) on random weights: stop strings cut the
// text where they begin, streamed pieces add up to the text.
TEST_F(TinyModelRunTest, StopStringsWithTokenizer) {
  const std::string tokPath = std::string(LLMC_SHARED_DIR) + "/models/stories260K/tokenizer.json";
  const std::string tokJson = test::readFile(tokPath);
  if (tokJson.empty()) GTEST_SKIP() << "no " << tokPath;
  auto tok = Tokenizer::fromJson(tokJson, "", tokPath);
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  TinyLlamaConfig c;
  c.vocab = 512;
  c.eos = {2};
  TinyLlama m = test::makeTinyLlama(c);
  Loaded l = load(m, dir.file("t.engine"), options(), tokJson);
  ASSERT_TRUE(l.exec);
  ASSERT_TRUE(l.engine->hasTokenizer());
  Generator gen(*l.exec, tok->get());
  GenerationOptions go;
  go.maxNewTokens = 40;
  go.ignoreEos = true;
  std::string streamed;
  go.onToken = [&](const TokenEvent& e) {
    streamed += e.text;
    return true;
  };
  auto full = gen.generateText("Once upon a time", go);
  ASSERT_TRUE(full.ok()) << full.status().message();
  EXPECT_EQ(streamed, full->text);
  EXPECT_EQ(full->text, (*tok)->decode(full->tokens, true));
  ASSERT_GT(full->text.size(), 12u);
  // A stop string taken from the second half of the text: two ASCII letters (random weights also
  // produce byte tokens whose U+FFFD only becomes final one token later).
  std::string stop;
  for (size_t i = full->text.size() / 2; i + 1 < full->text.size() && stop.empty(); ++i) {
    if (std::isalpha(static_cast<unsigned char>(full->text[i])) &&
        std::isalpha(static_cast<unsigned char>(full->text[i + 1]))) {
      stop = full->text.substr(i, 2);
    }
  }
  ASSERT_FALSE(stop.empty()) << full->text;
  const size_t cut = full->text.find(stop);
  go.stopStrings = {stop, "\x01never"};
  streamed.clear();
  auto r = gen.generateText("Once upon a time", go);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stopReason, StopReason::kStopString);
  EXPECT_EQ(r->text, full->text.substr(0, cut));
  EXPECT_EQ(streamed, r->text);
  ASSERT_LE(r->tokens.size(), full->tokens.size());
  EXPECT_EQ(r->tokens, std::vector<int32_t>(full->tokens.begin(), full->tokens.begin() + r->tokens.size()));
  // The stop string is complete with the last token and not before it.
  EXPECT_NE((*tok)->decode(r->tokens, true).find(stop), std::string::npos);
  std::vector<int32_t> shorter(r->tokens.begin(), r->tokens.end() - 1);
  EXPECT_EQ((*tok)->decode(shorter, true).find(stop), std::string::npos)
      << "stop '" << stop << "' text '" << r->text << "' shorter '" << (*tok)->decode(shorter, true) << "' full '"
      << full->text << "'";
  // Stopping from the callback.
  go.stopStrings.clear();
  int calls = 0;
  go.onToken = [&](const TokenEvent& e) { return e.token < 0 || ++calls < 5; };
  auto cb = gen.generateText("Once upon a time", go);
  ASSERT_TRUE(cb.ok());
  EXPECT_EQ(cb->stopReason, StopReason::kCallback);
  EXPECT_EQ(cb->tokens.size(), 5u);
}

TEST_F(TinyModelRunTest, BadRequests) {
  TinyLlamaConfig c;
  TinyLlama m = test::makeTinyLlama(c);
  Loaded l = load(m, dir.file("r.engine"), options());
  ASSERT_TRUE(l.exec);
  Generator gen(*l.exec);
  GenerationOptions go;
  EXPECT_EQ(gen.generate({}, go).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(gen.generate({5, 96}, go).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(gen.generateText("hi", go).status().code(), StatusCode::kInvalidArgument);
  go.stopStrings = {"x"};
  EXPECT_EQ(gen.generate({5}, go).status().code(), StatusCode::kInvalidArgument);
  go.stopStrings.clear();
  go.sampling.topP = 0;
  EXPECT_EQ(gen.generate({5}, go).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(l.exec->kvCache().freeBlocks(), 64);
}

}  // namespace
}  // namespace llmc

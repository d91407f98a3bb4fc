//===- ProgramEmitterTest.cpp - final IR -> program JSON ------------------===//
//
// Owned by the compiler (cc). Hand-written final-form modules (as the pipeline leaves them:
// llm.offset on every op, llm.arena_per_token on @forward); expected JSON follows design.md's
// Program description, written out by hand.
//
//===----------------------------------------------------------------------===//
#include "llmc/Codegen/ProgramEmitter.h"
#include "llmc/Passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

using nlohmann::json;

namespace {

mlir::OwningOpRef<mlir::ModuleOp> parse(mlir::MLIRContext &ctx, const std::string &text) {
  mlir::DialectRegistry registry;
  llmc::registerLLMDialect(registry);
  ctx.appendDialectRegistry(registry);
  ctx.loadAllAvailableDialects();
  return mlir::parseSourceString<mlir::ModuleOp>(text, &ctx);
}

const char *kModule = R"mlir(
llm.weight @emb {source = "emb.w", shape = array<i64: 16, 8>, dtype = "f32"}
llm.weight @n {source = "norm.w", shape = array<i64: 8>, dtype = "bf16"}
llm.weight @a {source = "a.w", shape = array<i64: 4, 8>, dtype = "f32"}
llm.weight @b {source = "b.w", shape = array<i64: 4, 8>, dtype = "f32"}
llm.weight @unused {source = "unused.w", shape = array<i64: 3>, dtype = "f32"}
llm.weight_concat @ab {parts = [@a, @b], axis = 0 : i64}
func.func @forward(%ids: tensor<?xi32>) -> tensor<1x16xf32> attributes {llm.arena_per_token = 24 : i64} {
  %x = llm.embedding %ids {weight = @emb, scale = 2.0 : f32, llm.offset = array<i64: 0>} : tensor<?xi32> -> tensor<?x8xf32>
  %y = llm.rms_norm %x {weight = @n, eps = 1.0e-05 : f32, llm.offset = array<i64: 8>} : tensor<?x8xf32>
  %s = llm.linear %y {weight = @ab, llm.offset = array<i64: 16>} : tensor<?x8xf32> -> tensor<?x8xf32>
  %p, %q = llm.split %s {sizes = array<i64: 4, 4>, llm.offset = array<i64: 0, 4>} : tensor<?x8xf32> -> tensor<?x4xf32>, tensor<?x4xf32>
  %g = llm.gelu %p {approximate = "tanh", llm.offset = array<i64: 8>} : tensor<?x4xf32>
  %m = llm.mul %g, %q {llm.offset = array<i64: 12>} : tensor<?x4xf32>
  %l = llm.last_token %y {llm.offset = array<i64: 0>} : tensor<?x8xf32> -> tensor<1x8xf32>
  %o = llm.linear %l {weight = @emb, llm.offset = array<i64: 8>} : tensor<1x8xf32> -> tensor<1x16xf32>
  return %o : tensor<1x16xf32>
}
)mlir";

TEST(ProgramEmitter, EmitsDesignMdProgram) {
  mlir::MLIRContext ctx;
  auto module = parse(ctx, kModule);
  ASSERT_TRUE(module);
  auto r = llmc::codegen::emitProgram(*module);
  ASSERT_TRUE(r.ok()) << r.status().message();
  json want = {
      {"arena_per_token", 24},
      {"values",
       {{{"width", 8}, {"offset", 0}, {"rows", "all"}},
        {{"width", 8}, {"offset", 8}, {"rows", "all"}},
        {{"width", 8}, {"offset", 16}, {"rows", "all"}},
        {{"width", 4}, {"offset", 0}, {"rows", "all"}},
        {{"width", 4}, {"offset", 4}, {"rows", "all"}},
        {{"width", 4}, {"offset", 8}, {"rows", "all"}},
        {{"width", 4}, {"offset", 12}, {"rows", "all"}},
        {{"width", 8}, {"offset", 0}, {"rows", "last"}},
        {{"width", 16}, {"offset", 8}, {"rows", "last"}}}},
      {"steps",
       {{{"op", "embedding"}, {"in", {-1}}, {"out", {0}}, {"weights", {{"weight", "emb.w"}}},
         {"attrs", {{"scale", 2.0}}}},
        {{"op", "rms_norm"}, {"in", {0}}, {"out", {1}}, {"weights", {{"weight", "norm.w"}}},
         // f32 1e-5 widened to double exactly; the default-valued unit_offset is materialised
         // by the op's properties, and carrying it explicitly is equally valid.
         {"attrs", {{"eps", static_cast<double>(1.0e-05f)}, {"unit_offset", false}}}},
        {{"op", "linear"}, {"in", {1}}, {"out", {2}}, {"weights", {{"weight", "ab"}}},
         {"attrs", json::object()}},
        {{"op", "split"}, {"in", {2}}, {"out", {3, 4}}, {"attrs", {{"sizes", {4, 4}}}}},
        {{"op", "gelu"}, {"in", {3}}, {"out", {5}}, {"attrs", {{"approximate", "tanh"}}}},
        {{"op", "mul"}, {"in", {5, 4}}, {"out", {6}}, {"attrs", json::object()}},
        {{"op", "last_token"}, {"in", {1}}, {"out", {7}}, {"attrs", json::object()}},
        {{"op", "linear"}, {"in", {7}}, {"out", {8}}, {"weights", {{"weight", "emb.w"}}},
         {"attrs", json::object()}}}},
      {"output", 8}};
  EXPECT_EQ(r->program, want) << r->program.dump();

  // Referenced weights in first-use order; the concat's parts and unused weights are not emitted.
  EXPECT_EQ(r->weights.emitted, (std::vector<std::string>{"emb", "n", "ab"}));
  const auto *ab = r->weights.find("ab");
  ASSERT_NE(ab, nullptr);
  EXPECT_EQ(ab->kind, llmc::codegen::WeightDef::Kind::kConcat);
  EXPECT_EQ(ab->shape, (std::vector<int64_t>{8, 8}));
  EXPECT_EQ(ab->operands, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r->weights.find("n")->dtype, llmc::engine::DType::kBF16);
  EXPECT_EQ(r->arenaPerToken, 24);
  EXPECT_EQ(r->opCounts.at("linear"), 2);
}

TEST(ProgramEmitter, UnknownOpIsAnError) {
  mlir::MLIRContext ctx;
  auto module = parse(ctx, R"mlir(
func.func @forward(%ids: tensor<?xi32>) -> tensor<1x4xf32> attributes {llm.arena_per_token = 4 : i64} {
  %c = arith.constant {llm.offset = array<i64: 0>} dense<1.0> : tensor<1x4xf32>
  return %c : tensor<1x4xf32>
}
)mlir");
  ASSERT_TRUE(module);
  auto r = llmc::codegen::emitProgram(*module);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), llmc::StatusCode::kUnsupported);
  EXPECT_NE(r.status().message().find("arith.constant"), std::string::npos) << r.status().message();
}

TEST(ProgramEmitter, NeedsMemoryPlan) {
  mlir::MLIRContext ctx;
  std::string text = kModule;
  text.replace(text.find(" attributes {llm.arena_per_token = 24 : i64}"),
               std::string(" attributes {llm.arena_per_token = 24 : i64}").size(), "");
  auto module = parse(ctx, text);
  ASSERT_TRUE(module);
  auto r = llmc::codegen::emitProgram(*module);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("memory plan"), std::string::npos) << r.status().message();
}

}  // namespace

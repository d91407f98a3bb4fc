//===- WeightMaterializerTest.cpp - dtype conversion, concat, transpose ---===//
//
// Owned by the compiler (cc). Expected bit patterns come from the IEEE-754 definitions
// (round to nearest, ties to even), worked out by hand in the comments.
//
//===----------------------------------------------------------------------===//
#include "llmc/Codegen/WeightMaterializer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>

using namespace llmc;
using namespace llmc::codegen;

namespace {

// An in-memory checkpoint.
class FakeProvider : public WeightProvider {
 public:
  void add(const std::string &name, SourceDType dt, std::vector<int64_t> shape, std::string bytes) {
    tensors_[name] = {std::move(shape), dt, std::move(bytes)};
  }
  StatusOr<TensorView> tensor(const std::string &name) const override {
    auto it = tensors_.find(name);
    if (it == tensors_.end())
      return NotFound("fake: no tensor '" + name + "'");
    TensorView v;
    v.name = name;
    v.file = "fake.safetensors";
    v.dtype = it->second.dt;
    v.shape = it->second.shape;
    v.data = reinterpret_cast<const uint8_t *>(it->second.bytes.data());
    v.nbytes = it->second.bytes.size();
    return v;
  }
  mutable std::vector<std::string> released;
  void release(const std::string &name) const override { released.push_back(name); }

 private:
  struct T {
    std::vector<int64_t> shape;
    SourceDType dt;
    std::string bytes;
  };
  std::map<std::string, T> tensors_;
};

std::string f32Bytes(const std::vector<float> &v) {
  return std::string(reinterpret_cast<const char *>(v.data()), v.size() * 4);
}
std::string u32AsF32Bytes(const std::vector<uint32_t> &v) {
  return std::string(reinterpret_cast<const char *>(v.data()), v.size() * 4);
}
std::string u16Bytes(const std::vector<uint16_t> &v) {
  return std::string(reinterpret_cast<const char *>(v.data()), v.size() * 2);
}

WeightDef source(const std::string &sym, const std::string &src, engine::DType dt,
                 std::vector<int64_t> shape) {
  WeightDef d;
  d.kind = WeightDef::Kind::kSource;
  d.symbol = sym;
  d.source = src;
  d.dtype = dt;
  d.shape = std::move(shape);
  return d;
}

StatusOr<std::string> materialize(const WeightPlan &plan, const WeightProvider &p,
                                  const std::string &sym) {
  std::string out;
  WeightMaterializer m(plan, p);
  LLMC_RETURN_IF_ERROR(m.write(sym, [&](const void *d, size_t n) {
    out.append(static_cast<const char *>(d), n);
    return Status::Ok();
  }));
  return out;
}

std::vector<uint16_t> asU16(const std::string &s) {
  std::vector<uint16_t> v(s.size() / 2);
  std::memcpy(v.data(), s.data(), s.size());
  return v;
}
std::vector<float> asF32(const std::string &s) {
  std::vector<float> v(s.size() / 4);
  std::memcpy(v.data(), s.data(), s.size());
  return v;
}

TEST(WeightMaterializer, F32ToBF16RoundsToNearestEven) {
  FakeProvider p;
  // 0x3F800000 = 1.0                  -> 0x3F80
  // 0x3F808000 = halfway 3F80 / 3F81  -> ties to even: 0x3F80
  // 0x3F818000 = halfway 3F81 / 3F82  -> ties to even: 0x3F82
  // 0x3F808001 = just above halfway   -> 0x3F81
  // 0xBF7FFFFF = -0.99999994          -> carries into the exponent: 0xBF80 (-1.0)
  // 0x7F7FFFFF = FLT_MAX              -> rounds up to +inf 0x7F80
  p.add("w", SourceDType::kF32, {6},
        u32AsF32Bytes({0x3F800000u, 0x3F808000u, 0x3F818000u, 0x3F808001u, 0xBF7FFFFFu, 0x7F7FFFFFu}));
  WeightPlan plan;
  plan.defs["w"] = source("w", "w", engine::DType::kBF16, {6});
  plan.emitted = {"w"};
  auto out = materialize(plan, p, "w");
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(asU16(*out),
            (std::vector<uint16_t>{0x3F80, 0x3F80, 0x3F82, 0x3F81, 0xBF80, 0x7F80}));
  EXPECT_EQ(p.released, std::vector<std::string>{"w"});
}

TEST(WeightMaterializer, F32ToF16RoundsToNearestEven) {
  FakeProvider p;
  // 1 + 2^-11 is halfway between f16 1.0 (0x3C00) and 1 + 2^-10 (0x3C01): even -> 0x3C00.
  // 1 + 3*2^-11 is halfway between 0x3C01 and 0x3C02: even -> 0x3C02.
  // 65504 is f16 max (0x7BFF); 65520 is halfway to 2^16 and rounds to inf (0x7C00).
  // 2^-24 is the smallest f16 subnormal (0x0001); -2.0 is 0xC000.
  p.add("w", SourceDType::kF32, {2, 3},
        f32Bytes({1.0f + 0.00048828125f, 1.0f + 3 * 0.00048828125f, 65504.0f, 65520.0f,
                  5.9604644775390625e-08f, -2.0f}));
  WeightPlan plan;
  plan.defs["w"] = source("w", "w", engine::DType::kF16, {2, 3});
  plan.emitted = {"w"};
  auto out = materialize(plan, p, "w");
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(asU16(*out), (std::vector<uint16_t>{0x3C00, 0x3C02, 0x7BFF, 0x7C00, 0x0001, 0xC000}));
}

TEST(WeightMaterializer, HalfSourcesWidenExactly) {
  FakeProvider p;
  // bf16 0x4049 = 3.140625; f16 0x3555 = 0.333251953125; f16 0x0001 = 2^-24.
  p.add("b", SourceDType::kBF16, {1}, u16Bytes({0x4049}));
  p.add("h", SourceDType::kF16, {2}, u16Bytes({0x3555, 0x0001}));
  WeightPlan plan;
  plan.defs["b"] = source("b", "b", engine::DType::kF32, {1});
  plan.defs["h"] = source("h", "h", engine::DType::kF32, {2});
  plan.defs["hb"] = source("hb", "h", engine::DType::kBF16, {2});
  auto b = materialize(plan, p, "b");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(asF32(*b), std::vector<float>{3.140625f});
  auto h = materialize(plan, p, "h");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(asF32(*h), (std::vector<float>{0.333251953125f, 5.9604644775390625e-08f}));
  // f16 -> bf16: 0.333251953125 = 0x3EAAA000 in f32; the dropped low half 0xA000 is above
  // 0x8000, so it rounds up to 0x3EAB. 2^-24 = 0x33800000 -> 0x3380 exactly.
  auto hb = materialize(plan, p, "hb");
  ASSERT_TRUE(hb.ok());
  EXPECT_EQ(asU16(*hb), (std::vector<uint16_t>{0x3EAB, 0x3380}));
}

TEST(WeightMaterializer, ConcatAndTranspose) {
  FakeProvider p;
  p.add("a", SourceDType::kF32, {2, 2}, f32Bytes({1, 2, 3, 4}));
  p.add("b", SourceDType::kF32, {1, 2}, f32Bytes({5, 6}));
  p.add("c", SourceDType::kF32, {2, 3}, f32Bytes({7, 8, 9, 10, 11, 12}));
  WeightPlan plan;
  plan.defs["a"] = source("a", "a", engine::DType::kF32, {2, 2});
  plan.defs["b"] = source("b", "b", engine::DType::kF32, {1, 2});
  plan.defs["c"] = source("c", "c", engine::DType::kF32, {2, 3});
  WeightDef rows;
  rows.kind = WeightDef::Kind::kConcat;
  rows.symbol = "ab";
  rows.operands = {"a", "b"};
  rows.axis = 0;
  rows.shape = {3, 2};
  plan.defs["ab"] = rows;
  WeightDef cols;
  cols.kind = WeightDef::Kind::kConcat;
  cols.symbol = "ac";
  cols.operands = {"a", "c"};
  cols.axis = 1;
  cols.shape = {2, 5};
  plan.defs["ac"] = cols;
  WeightDef t;
  t.kind = WeightDef::Kind::kTranspose;
  t.symbol = "ct";
  t.operands = {"c"};
  t.shape = {3, 2};
  plan.defs["ct"] = t;
  plan.emitted = {"ab", "ac", "ct"};
  WeightMaterializer m(plan, p);
  ASSERT_TRUE(m.validate().ok());

  auto ab = materialize(plan, p, "ab");
  ASSERT_TRUE(ab.ok()) << ab.status().message();
  EXPECT_EQ(asF32(*ab), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  auto ac = materialize(plan, p, "ac");
  ASSERT_TRUE(ac.ok()) << ac.status().message();
  EXPECT_EQ(asF32(*ac), (std::vector<float>{1, 2, 7, 8, 9, 3, 4, 10, 11, 12}));
  auto ct = materialize(plan, p, "ct");
  ASSERT_TRUE(ct.ok()) << ct.status().message();
  EXPECT_EQ(asF32(*ct), (std::vector<float>{7, 10, 8, 11, 9, 12}));
}

TEST(WeightMaterializer, LargeConcatCrossesChunks) {
  // 3000 x 700 rows: several ~4 MB chunks, with part boundaries inside chunks.
  FakeProvider p;
  const int64_t cols = 700;
  std::vector<float> a(1000 * cols), b(2000 * cols);
  for (size_t i = 0; i < a.size(); ++i)
    a[i] = static_cast<float>(i);
  for (size_t i = 0; i < b.size(); ++i)
    b[i] = -static_cast<float>(i);
  p.add("a", SourceDType::kF32, {1000, cols}, f32Bytes(a));
  p.add("b", SourceDType::kF32, {2000, cols}, f32Bytes(b));
  WeightPlan plan;
  plan.defs["a"] = source("a", "a", engine::DType::kF32, {1000, cols});
  plan.defs["b"] = source("b", "b", engine::DType::kF32, {2000, cols});
  WeightDef c;
  c.kind = WeightDef::Kind::kConcat;
  c.symbol = "ab";
  c.operands = {"a", "b"};
  c.shape = {3000, cols};
  plan.defs["ab"] = c;
  auto out = materialize(plan, p, "ab");
  ASSERT_TRUE(out.ok());
  std::vector<float> want = a;
  want.insert(want.end(), b.begin(), b.end());
  EXPECT_EQ(asF32(*out), want);
}

TEST(WeightMaterializer, ShapeMismatchNamesFile) {
  FakeProvider p;
  p.add("w", SourceDType::kF32, {2, 2}, f32Bytes({1, 2, 3, 4}));
  WeightPlan plan;
  plan.defs["w"] = source("w", "w", engine::DType::kF32, {4, 1});
  plan.emitted = {"w"};
  Status s = WeightMaterializer(plan, p).validate();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("fake.safetensors"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("[2, 2]"), std::string::npos) << s.message();
  plan.defs["w"].source = "missing";
  s = WeightMaterializer(plan, p).validate();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'missing'"), std::string::npos);
}

}  // namespace

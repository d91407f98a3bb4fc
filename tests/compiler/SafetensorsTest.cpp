//===- SafetensorsTest.cpp - safetensors reader and HF weight source ------===//
//
// Owned by the compiler (cc). Files are crafted byte by byte here, broken in each way the
// reader must catch; every failure must name the file.
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"

#include "llmc/Compiler/Import/HF/Safetensors.h"
#include "llmc/Compiler/Import/HF/WeightSource.h"

#include <gtest/gtest.h>

#include <cstring>

using llmc::StatusCode;
using llmc::codegen::SourceDType;
using llmc::hf::SafetensorsFile;
using llmc::hf::WeightSource;
using llmc::test::ScratchDir;
using llmc::test::safetensorsBytes;
using llmc::test::writeFile;

namespace {

std::string floatBytes(std::initializer_list<float> vals) {
  std::string s;
  for (float v : vals) {
    char b[4];
    std::memcpy(b, &v, 4);
    s.append(b, 4);
  }
  return s;
}

void expectOpenError(const std::string &path, StatusCode code,
                     std::initializer_list<const char *> needles) {
  auto r = SafetensorsFile::open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), code) << r.status().message();
  EXPECT_EQ(r.status().message().rfind(path, 0), 0u) << "must start with the path: "
                                                     << r.status().message();
  for (const char *n : needles)
    EXPECT_NE(r.status().message().find(n), std::string::npos)
        << "'" << n << "' not in: " << r.status().message();
}

TEST(Safetensors, ReadsValidFile) {
  ScratchDir d;
  // a: F32 [2, 2] at [0, 16); b: BF16 [3] at [16, 22); c: F16 [1] at [22, 24).
  std::string data = floatBytes({1, 2, 3, 4}) + std::string("\x80\x3f\x00\x40\x40\x40", 6) +
                     std::string("\x00\x3c", 2);
  std::string header = R"({"__metadata__": {"format": "pt"},
    "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
    "b": {"dtype": "BF16", "shape": [3], "data_offsets": [16, 22]},
    "c": {"dtype": "F16", "shape": [1], "data_offsets": [22, 24]}})";
  writeFile(d.file("model.safetensors"), safetensorsBytes(header, data));
  auto f = SafetensorsFile::open(d.file("model.safetensors"));
  ASSERT_TRUE(f.ok()) << f.status().message();
  ASSERT_EQ((*f)->entries().size(), 3u);
  const auto *a = (*f)->find("a");
  ASSERT_NE(a, nullptr);
  auto va = (*f)->view(*a);
  ASSERT_TRUE(va.ok());
  EXPECT_EQ(va->dtype, SourceDType::kF32);
  EXPECT_EQ(va->shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(va->nbytes, 16u);
  float got[4];
  std::memcpy(got, va->data, 16);
  EXPECT_EQ(got[0], 1.0f);
  EXPECT_EQ(got[3], 4.0f);
  auto vb = (*f)->view(*(*f)->find("b"));
  ASSERT_TRUE(vb.ok());
  EXPECT_EQ(vb->dtype, SourceDType::kBF16);
  EXPECT_EQ(vb->data[0], 0x80);
  EXPECT_EQ((*f)->find("c")->dtype, SourceDType::kF16);
  EXPECT_EQ((*f)->find("__metadata__"), nullptr);
}

TEST(Safetensors, TooShortForLength) {
  ScratchDir d;
  writeFile(d.file("x.safetensors"), "abc");
  expectOpenError(d.file("x.safetensors"), StatusCode::kInvalidArgument, {"truncated"});
}

TEST(Safetensors, HeaderLongerThanFile) {
  ScratchDir d;
  std::string header = R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})";
  writeFile(d.file("x.safetensors"), safetensorsBytes(header, floatBytes({1}), 1000));
  expectOpenError(d.file("x.safetensors"), StatusCode::kInvalidArgument,
                  {"truncated", "1000 bytes of JSON"});
}

TEST(Safetensors, TruncatedData) {
  ScratchDir d;
  std::string header = R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})";
  writeFile(d.file("x.safetensors"), safetensorsBytes(header, floatBytes({1, 2, 3})));
  expectOpenError(d.file("x.safetensors"), StatusCode::kInvalidArgument,
                  {"truncated: header says 16 bytes of data, file has 12", "'a'"});
}

TEST(Safetensors, BadHeaderJson) {
  ScratchDir d;
  writeFile(d.file("x.safetensors"), safetensorsBytes(R"({"a": {"dtype": "F32",)", "xxxx"));
  expectOpenError(d.file("x.safetensors"), StatusCode::kInvalidArgument, {"not valid JSON"});
  writeFile(d.file("y.safetensors"), safetensorsBytes(R"([1, 2])", ""));
  expectOpenError(d.file("y.safetensors"), StatusCode::kInvalidArgument, {"JSON object"});
}

TEST(Safetensors, HugeHeaderLength) {
  ScratchDir d;
  writeFile(d.file("x.safetensors"), safetensorsBytes("{}", "", int64_t(1) << 40));
  expectOpenError(d.file("x.safetensors"), StatusCode::kInvalidArgument, {"header length"});
}

TEST(Safetensors, DTypeSizeMismatch) {
  ScratchDir d;
  // F32 [2, 2] needs 16 bytes; the offsets give 8.
  std::string header = R"({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 8]}})";
  writeFile(d.file("x.safetensors"), safetensorsBytes(header, floatBytes({1, 2})));
  expectOpenError(d.file("x.safetensors"), StatusCode::kInvalidArgument,
                  {"'w'", "needs 16 bytes", "span 8"});
  // Same bytes declared BF16 [2, 2] (8 bytes) are fine.
  header = R"({"w": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [0, 8]}})";
  writeFile(d.file("y.safetensors"), safetensorsBytes(header, floatBytes({1, 2})));
  EXPECT_TRUE(SafetensorsFile::open(d.file("y.safetensors")).ok());
}

TEST(Safetensors, OffsetsOutOfRange) {
  ScratchDir d;
  std::string header = R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [100, 104]}})";
  writeFile(d.file("x.safetensors"), safetensorsBytes(header, floatBytes({1, 2})));
  expectOpenError(d.file("x.safetensors"), StatusCode::kInvalidArgument, {"104", "'w'"});
  header = R"({"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}})";
  writeFile(d.file("y.safetensors"), safetensorsBytes(header, floatBytes({1, 2})));
  expectOpenError(d.file("y.safetensors"), StatusCode::kInvalidArgument, {"end before"});
  header = R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}})";
  writeFile(d.file("z.safetensors"), safetensorsBytes(header, floatBytes({1, 2})));
  expectOpenError(d.file("z.safetensors"), StatusCode::kInvalidArgument, {"data_offsets"});
}

TEST(Safetensors, BadEntries) {
  ScratchDir d;
  std::string data = floatBytes({1});
  writeFile(d.file("a.safetensors"),
            safetensorsBytes(R"({"w": {"dtype": "Q4", "shape": [1], "data_offsets": [0, 4]}})", data));
  expectOpenError(d.file("a.safetensors"), StatusCode::kInvalidArgument, {"unknown dtype 'Q4'"});
  writeFile(d.file("b.safetensors"),
            safetensorsBytes(R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", data));
  expectOpenError(d.file("b.safetensors"), StatusCode::kInvalidArgument, {"shape"});
  writeFile(d.file("c.safetensors"), safetensorsBytes(R"({"w": {"dtype": "F32", "shape": [1]}})", data));
  expectOpenError(d.file("c.safetensors"), StatusCode::kInvalidArgument, {"data_offsets"});
}

TEST(Safetensors, UnsupportedDTypeOnlyWhenUsed) {
  ScratchDir d;
  std::string header = R"({"ids": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]},
                           "w": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}})";
  writeFile(d.file("model.safetensors"), safetensorsBytes(header, floatBytes({0, 0, 5})));
  auto ws = WeightSource::openFolder(d.path());
  ASSERT_TRUE(ws.ok()) << ws.status().message();
  EXPECT_TRUE((*ws)->tensor("w").ok());
  auto r = (*ws)->tensor("ids");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(r.status().message().find("I64"), std::string::npos);
  EXPECT_NE(r.status().message().find("model.safetensors"), std::string::npos);
  auto missing = (*ws)->tensor("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'nope'"), std::string::npos);
}

TEST(WeightSource, NoCheckpoint) {
  ScratchDir d;
  writeFile(d.file("config.json"), "{}");
  auto r = WeightSource::openFolder(d.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("model.safetensors"), std::string::npos);
  EXPECT_NE(r.status().message().find(d.path()), std::string::npos);
}

TEST(WeightSource, ShardedIndex) {
  ScratchDir d;
  writeFile(d.file("model-00001-of-00002.safetensors"),
            safetensorsBytes(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})",
                             floatBytes({7})));
  writeFile(d.file("model-00002-of-00002.safetensors"),
            safetensorsBytes(R"({"b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})",
                             floatBytes({8, 9})));
  writeFile(d.file("model.safetensors.index.json"),
            R"({"metadata": {"total_size": 12}, "weight_map": {
                "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}})");
  auto ws = WeightSource::openFolder(d.path());
  ASSERT_TRUE(ws.ok()) << ws.status().message();
  auto b = (*ws)->tensor("b");
  ASSERT_TRUE(b.ok());
  EXPECT_NE(b->file.find("model-00002-of-00002.safetensors"), std::string::npos);
  float v;
  std::memcpy(&v, b->data + 4, 4);
  EXPECT_EQ(v, 9.0f);
  EXPECT_EQ((*ws)->names(), (std::vector<std::string>{"a", "b"}));

  // The index promises a tensor the shard lacks.
  writeFile(d.file("model.safetensors.index.json"),
            R"({"weight_map": {"a": "model-00002-of-00002.safetensors"}})");
  auto bad = WeightSource::openFolder(d.path());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("model.safetensors.index.json"), std::string::npos);
  EXPECT_NE(bad.status().message().find("'a'"), std::string::npos);

  // A shard that does not exist.
  writeFile(d.file("model.safetensors.index.json"),
            R"({"weight_map": {"a": "model-00009-of-00009.safetensors"}})");
  bad = WeightSource::openFolder(d.path());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("model-00009-of-00009.safetensors"), std::string::npos);

  // An index that escapes the folder.
  writeFile(d.file("model.safetensors.index.json"), R"({"weight_map": {"a": "../x.safetensors"}})");
  bad = WeightSource::openFolder(d.path());
  ASSERT_FALSE(bad.ok());

  writeFile(d.file("model.safetensors.index.json"), R"({"weight_map": )");
  bad = WeightSource::openFolder(d.path());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("JSON"), std::string::npos);
}

TEST(WeightSource, Stories260K) {
  auto ws = WeightSource::openFolder(LLMC_SHARED_DIR "/models/stories260K");
  ASSERT_TRUE(ws.ok()) << ws.status().message();
  auto e = (*ws)->tensor("model.embed_tokens.weight");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->shape, (std::vector<int64_t>{512, 64}));
}

}  // namespace

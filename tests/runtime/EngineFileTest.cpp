// EngineFileTest.cpp - EngineFileWriter / EngineFile: round trip, every corruption case, writer failures.
#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstring>

#include "TestUtil.h"
#include "llmc/runtime/EngineFile.h"
#include "llmc/runtime/EngineFileWriter.h"

namespace llmc {
namespace {

using test::TempDir;

// Byte offsets of the header fields, as docs/engine-format.md lists them (not taken from the struct).
constexpr size_t kOffVersion = 8, kOffCount = 12, kOffProducer = 16, kOffFileSize = 48, kOffChecksum = 56;
constexpr size_t kOffTable = 64, kEntryBytes = 48;

template <typename T>
T readAt(const std::string& b, size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof(T));
  return v;
}
template <typename T>
void writeAt(std::string& b, size_t off, T v) {
  std::memcpy(&b[off], &v, sizeof(T));
}
// Recomputes the header checksum after a deliberate edit, so the check under test is the next one.
void resealHeader(std::string& b) {
  writeAt<uint64_t>(b, kOffChecksum, 0);
  writeAt<uint64_t>(b, kOffChecksum, XXH3_64bits(b.data(), 4096));
}

std::string pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed;
  for (char& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

// meta (held), weights (streamed, 3 pieces), program (held, empty allowed? no: 5 bytes).
Status writeSample(const std::string& path, const std::string& meta, const std::string& weights,
                   const std::string& program) {
  EngineFileWriter w("llmc-test 1");
  LLMC_RETURN_IF_ERROR(w.addSection("meta", meta));
  LLMC_RETURN_IF_ERROR(w.addStreamedSection("weights", weights.size(), [&](SectionSink& s) -> Status {
    size_t a = weights.size() / 3, b = 2 * weights.size() / 3;
    LLMC_RETURN_IF_ERROR(s.write(weights.data(), a));
    LLMC_RETURN_IF_ERROR(s.write(weights.data() + a, b - a));
    return s.write(weights.data() + b, weights.size() - b);
  }));
  LLMC_RETURN_IF_ERROR(w.addSection("program", program));
  return w.write(path);
}

class EngineFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path = dir.file("x.engine");
    meta = "{\"model\":{}}";
    weights = pattern(10000, 7);
    program = pattern(5000, 9);
    ASSERT_TRUE(writeSample(path, meta, weights, program).ok());
    bytes = test::readFile(path);
  }
  // Writes `b` to a new file and opens it.
  Status openBytes(const std::string& b, bool verifyWeights = true) {
    std::string p = dir.file("bad.engine");
    test::writeFile(p, b);
    EngineFileOptions o;
    o.verifyWeights = verifyWeights;
    return EngineFile::open(p, o).status();
  }
  static void expectError(const Status& s, const std::string& fragment) {
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.message();
    EXPECT_NE(s.message().find("bad.engine: "), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(fragment), std::string::npos) << "message: " << s.message();
  }
  size_t sectionOffset(int i) const { return readAt<uint64_t>(bytes, kOffTable + i * kEntryBytes + 24); }

  TempDir dir;
  std::string path, meta, weights, program, bytes;
};

TEST_F(EngineFileTest, RoundTripLayoutAndChecksums) {
  // Header fields at their documented offsets.
  EXPECT_EQ(bytes.substr(0, 8), "LLMCENG1");
  EXPECT_EQ(readAt<uint32_t>(bytes, kOffVersion), 1u);
  EXPECT_EQ(readAt<uint32_t>(bytes, kOffCount), 3u);
  EXPECT_STREQ(bytes.data() + kOffProducer, "llmc-test 1");
  EXPECT_EQ(readAt<uint64_t>(bytes, kOffFileSize), bytes.size());
  std::string zeroed = bytes;
  writeAt<uint64_t>(zeroed, kOffChecksum, 0);
  EXPECT_EQ(readAt<uint64_t>(bytes, kOffChecksum), XXH3_64bits(zeroed.data(), 4096));
  const std::string want[3] = {meta, weights, program};
  const char* names[3] = {"meta", "weights", "program"};
  uint64_t prevEnd = 4096;
  for (int i = 0; i < 3; ++i) {
    size_t e = kOffTable + i * kEntryBytes;
    EXPECT_STREQ(bytes.data() + e, names[i]);
    uint64_t off = readAt<uint64_t>(bytes, e + 24), size = readAt<uint64_t>(bytes, e + 32);
    EXPECT_EQ(off % 4096, 0u);
    EXPECT_GE(off, prevEnd);
    EXPECT_LT(off, prevEnd + 4096);  // packed: no more padding than alignment needs
    EXPECT_EQ(size, want[i].size());
    EXPECT_EQ(bytes.substr(off, size), want[i]);
    EXPECT_EQ(readAt<uint64_t>(bytes, e + 40), XXH3_64bits(want[i].data(), want[i].size()));
    prevEnd = off + size;
  }
  EXPECT_EQ(prevEnd, bytes.size());

  auto f = EngineFile::open(path);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ((*f)->producer(), "llmc-test 1");
  ASSERT_EQ((*f)->sections().size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const SectionView* s = (*f)->find(names[i]);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(std::string(s->bytes), want[i]);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(s->bytes.data()) % 4096, 0u);
  }
  EXPECT_EQ((*f)->find("tokenizer"), nullptr);
}

TEST_F(EngineFileTest, Deterministic) {
  std::string p2 = dir.file("y.engine");
  ASSERT_TRUE(writeSample(p2, meta, weights, program).ok());
  EXPECT_EQ(test::readFile(p2), bytes);
}

TEST_F(EngineFileTest, EmptySectionAndNoSections) {
  EngineFileWriter w;
  ASSERT_TRUE(w.addSection("empty", "").ok());
  std::string p = dir.file("e.engine");
  ASSERT_TRUE(w.write(p).ok());
  auto f = EngineFile::open(p);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ((*f)->find("empty")->bytes.size(), 0u);
  EngineFileWriter none;
  ASSERT_TRUE(none.write(dir.file("n.engine")).ok());
  EXPECT_TRUE(EngineFile::open(dir.file("n.engine")).ok());
}

TEST_F(EngineFileTest, Truncated) {
  expectError(openBytes(bytes.substr(0, 4096)),
              "truncated: header says " + std::to_string(bytes.size()) + " bytes, file has 4096");
  expectError(openBytes(bytes.substr(0, bytes.size() - 1)), "truncated");
  expectError(openBytes(bytes.substr(0, 100)), "truncated: 100 bytes");
  expectError(openBytes(""), "truncated: 0 bytes");
}

TEST_F(EngineFileTest, TrailingData) { expectError(openBytes(bytes + "x"), "trailing data"); }

TEST_F(EngineFileTest, WrongMagic) {
  std::string b = bytes;
  b[3] = 'X';
  expectError(openBytes(b), "bad magic");
}

TEST_F(EngineFileTest, WrongVersion) {
  std::string b = bytes;
  writeAt<uint32_t>(b, kOffVersion, 7);
  resealHeader(b);
  expectError(openBytes(b), "format version 7, this llmc reads version 1");
  // Version is checked before the checksum: an unsealed edit still reports the version.
  std::string c = bytes;
  writeAt<uint32_t>(c, kOffVersion, 2);
  expectError(openBytes(c), "format version 2");
}

TEST_F(EngineFileTest, HeaderChecksum) {
  for (size_t off : {size_t(kOffCount), size_t(kOffProducer + 2), size_t(kOffTable + 30), size_t(4000)}) {
    std::string b = bytes;
    b[off] ^= 0x10;
    expectError(openBytes(b), "header checksum mismatch (corrupted)");
  }
}

TEST_F(EngineFileTest, FlippedByteInEachSection) {
  const char* names[3] = {"meta", "weights", "program"};
  const size_t sizes[3] = {meta.size(), weights.size(), program.size()};
  for (int i = 0; i < 3; ++i) {
    for (size_t at : {size_t(0), sizes[i] / 2, sizes[i] - 1}) {
      std::string b = bytes;
      b[sectionOffset(i) + at] ^= 0x01;
      expectError(openBytes(b), std::string("section '") + names[i] + "' checksum mismatch (corrupted)");
    }
  }
  // The weights checksum can be skipped (--no-verify); the others cannot.
  std::string b = bytes;
  b[sectionOffset(1) + 5] ^= 0x01;
  EXPECT_TRUE(openBytes(b, /*verifyWeights=*/false).ok());
  std::string c = bytes;
  c[sectionOffset(0) + 1] ^= 0x01;
  expectError(openBytes(c, false), "section 'meta' checksum mismatch");
}

TEST_F(EngineFileTest, SectionOutOfBounds) {
  std::string b = bytes;
  writeAt<uint64_t>(b, kOffTable + 2 * kEntryBytes + 32, 1u << 20);  // program size
  resealHeader(b);
  expectError(openBytes(b), "section 'program' [");
  std::string c = bytes;
  writeAt<uint64_t>(c, kOffTable + 24, 4096 + 8);  // unaligned meta
  resealHeader(c);
  expectError(openBytes(c), "not a 4096-aligned");
  std::string d = bytes;
  writeAt<uint64_t>(d, kOffTable + 2 * kEntryBytes + 24, sectionOffset(1));  // program onto weights
  resealHeader(d);
  expectError(openBytes(d), "overlap");
  std::string e = bytes;
  std::memcpy(&e[kOffTable + 2 * kEntryBytes], "meta\0\0\0", 7);  // duplicate name
  resealHeader(e);
  expectError(openBytes(e), "appears twice");
  std::string f = bytes;
  writeAt<uint32_t>(f, kOffCount, 1000);
  resealHeader(f);
  expectError(openBytes(f), "section count 1000");
}

TEST_F(EngineFileTest, MissingFile) {
  auto f = EngineFile::open(dir.file("nope.engine"));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kNotFound);
  EXPECT_NE(f.status().message().find("nope.engine"), std::string::npos);
}

// ---- writer failures leave nothing behind --------------------------------------------------------

class WriterFailureTest : public ::testing::Test {
 protected:
  void expectNothingWritten(const Status& s, StatusCode code) {
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.code(), code) << s.message();
    EXPECT_TRUE(dir.list().empty()) << "left: " << dir.list().front();
  }
  TempDir dir;
};

TEST_F(WriterFailureTest, StreamerError) {
  EngineFileWriter w;
  ASSERT_TRUE(w.addSection("meta", "{}").ok());
  ASSERT_TRUE(w.addStreamedSection("weights", 100000, [](SectionSink& s) -> Status {
                 std::string half(50000, 'a');
                 LLMC_RETURN_IF_ERROR(s.write(half.data(), half.size()));
                 return InvalidArgument("model.safetensors: truncated");
               }).ok());
  Status s = w.write(dir.file("x.engine"));
  expectNothingWritten(s, StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("model.safetensors: truncated"), std::string::npos);
  EXPECT_NE(s.message().find("x.engine"), std::string::npos);
}

TEST_F(WriterFailureTest, StreamerShortAndLong) {
  EngineFileWriter shortW;
  ASSERT_TRUE(shortW.addStreamedSection("weights", 10, [](SectionSink& s) { return s.write("abc", 3); }).ok());
  expectNothingWritten(shortW.write(dir.file("x.engine")), StatusCode::kInternal);
  EngineFileWriter longW;
  ASSERT_TRUE(longW.addStreamedSection("weights", 2, [](SectionSink& s) { return s.write("abc", 3); }).ok());
  expectNothingWritten(longW.write(dir.file("x.engine")), StatusCode::kInternal);
}

TEST_F(WriterFailureTest, ExistingFileUntouchedOnFailure) {
  test::writeFile(dir.file("x.engine"), "old");
  EngineFileWriter w;
  ASSERT_TRUE(w.addStreamedSection("weights", 10, [](SectionSink&) { return Internal("boom"); }).ok());
  EXPECT_FALSE(w.write(dir.file("x.engine")).ok());
  EXPECT_EQ(test::readFile(dir.file("x.engine")), "old");
  EXPECT_EQ(dir.list().size(), 1u);
}

TEST_F(WriterFailureTest, UnwritableDirectory) {
  EngineFileWriter w;
  ASSERT_TRUE(w.addSection("meta", "{}").ok());
  Status s = w.write(dir.file("missing/x.engine"));
  expectNothingWritten(s, StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("missing/x.engine"), std::string::npos);
}

TEST_F(WriterFailureTest, BadSectionNames) {
  EngineFileWriter w;
  EXPECT_TRUE(w.addSection("meta", "").ok());
  EXPECT_EQ(w.addSection("meta", "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.addSection("", "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.addSection(std::string(24, 'a'), "").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(w.addSection(std::string(23, 'a'), "").ok());
  EngineFileWriter p(std::string(40, 'p'));
  expectNothingWritten(p.write(dir.file("x.engine")), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace llmc

// EngineFormat.h - the on-disk layout of an llmc engine file (format version 1).
//
// Owned by the runtime; the compiler's engine writer includes it. docs/engine-format.md describes
// the format in prose. All integers are little-endian; every section starts 4096-byte aligned so the
// weights can be mmap'd and uploaded without copies.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace llmc::engine {

inline constexpr char kMagic[8] = {'L', 'L', 'M', 'C', 'E', 'N', 'G', '1'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint64_t kAlignment = 4096;   // sections and tensors start at multiples of this
inline constexpr uint64_t kHeaderBytes = 4096; // header + section table fit in the first page
inline constexpr size_t kSectionNameBytes = 24;

// The first bytes of the file.
struct EngineHeader {
  char magic[8];            // kMagic
  uint32_t formatVersion;   // kFormatVersion
  uint32_t sectionCount;    // entries in the table that follows the header
  char producer[32];        // "llmc 0.1.0", NUL-padded
  uint64_t fileSize;        // total bytes; a shorter file is truncated
  uint64_t headerChecksum;  // xxh3-64 of [0, kHeaderBytes) with this field zeroed
};
static_assert(sizeof(EngineHeader) == 64, "EngineHeader layout is part of the format");

// One entry per section, directly after the header.
struct SectionEntry {
  char name[kSectionNameBytes];  // "meta", "program", "tokenizer", "weights", "kernels.sm_90", ...
  uint64_t offset;               // absolute, multiple of kAlignment
  uint64_t size;                 // bytes
  uint64_t checksum;             // xxh3-64 of the section's bytes
};
static_assert(sizeof(SectionEntry) == 48, "SectionEntry layout is part of the format");

inline constexpr size_t kMaxSections = (kHeaderBytes - sizeof(EngineHeader)) / sizeof(SectionEntry);

inline uint64_t alignUp(uint64_t v, uint64_t a = kAlignment) { return (v + a - 1) / a * a; }

// Section names used by the writer and the loader.
inline constexpr const char* kSectionMeta = "meta";
inline constexpr const char* kSectionProgram = "program";
inline constexpr const char* kSectionTokenizer = "tokenizer";
inline constexpr const char* kSectionTokenizerConfig = "tokenizer_config";
inline constexpr const char* kSectionWeights = "weights";
inline constexpr const char* kSectionKernelsPrefix = "kernels.";  // + "sm_90" / "ptx"
// A graph program of generic tensor ops (docs/graph-program.md); present instead of `program` when
// the model was not raised to the per-token form. Versioned on its own (the JSON's "version").
inline constexpr const char* kSectionGraph = "graph";
inline constexpr int64_t kGraphFormatVersion = 1;

// Engine dtypes (weights); strings as they appear in the meta JSON.
enum class DType : uint8_t { kF32, kF16, kBF16 };
inline const char* dtypeName(DType d) {
  switch (d) {
    case DType::kF32: return "f32";
    case DType::kF16: return "f16";
    case DType::kBF16: return "bf16";
  }
  return "?";
}
inline bool parseDType(const std::string& s, DType* out) {
  if (s == "f32") { *out = DType::kF32; return true; }
  if (s == "f16") { *out = DType::kF16; return true; }
  if (s == "bf16") { *out = DType::kBF16; return true; }
  return false;
}
inline size_t dtypeBytes(DType d) { return d == DType::kF32 ? 4 : 2; }

}  // namespace llmc::engine

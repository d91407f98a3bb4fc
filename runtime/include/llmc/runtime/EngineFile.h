// EngineFile.h - an engine file opened read-only: mmap'd, verified, and split into section views.
//
// open() checks, in this order (docs/design.md): file size >= 4096, magic, format version, header
// checksum, declared file size, every section inside the file (aligned, no overlap, unique names),
// every section's xxh3-64 checksum (the `weights` section's only when verifyWeights). Each failure is
// one kInvalidArgument Status whose message starts with the file's path.
//
// Owns the mapping: section views stay valid as long as the EngineFile lives.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "llmc/runtime/EngineFormat.h"
#include "llmc/runtime/Status.h"

namespace llmc {

struct EngineFileOptions {
  bool verifyWeights = true;  // false skips the (large) weights checksum: `--no-verify`
};

struct SectionView {
  std::string name;
  uint64_t offset = 0;     // absolute, in the file
  uint64_t checksum = 0;   // as stored
  std::string_view bytes;  // into the mapping
};

class EngineFile {
 public:
  static StatusOr<std::unique_ptr<EngineFile>> open(const std::string& path,
                                                    const EngineFileOptions& options = {});
  ~EngineFile();
  EngineFile(const EngineFile&) = delete;
  EngineFile& operator=(const EngineFile&) = delete;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  const engine::EngineHeader& header() const { return header_; }
  std::string producer() const;
  // Sections in table order.
  const std::vector<SectionView>& sections() const { return sections_; }
  // The section named `name`, or nullptr.
  const SectionView* find(std::string_view name) const;
  // Base of the mapping (the weights section's data is at base() + its offset).
  const uint8_t* base() const { return base_; }

 private:
  EngineFile() = default;
  Status verify(const EngineFileOptions& options);

  std::string path_;
  const uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  engine::EngineHeader header_{};
  std::vector<SectionView> sections_;
};

}  // namespace llmc

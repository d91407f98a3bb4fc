// EngineFile.cpp - mmap + verification of an engine file, in the order docs/design.md gives.
#include "llmc/runtime/EngineFile.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace llmc {
namespace {

using engine::EngineHeader;
using engine::SectionEntry;

std::string hex64(uint64_t v) {
  char buf[19];
  std::snprintf(buf, sizeof(buf), "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

StatusOr<std::unique_ptr<EngineFile>> EngineFile::open(const std::string& path,
                                                       const EngineFileOptions& options) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return NotFound(path + ": no such file");
    return InvalidArgument(path + ": cannot open: " + std::strerror(err));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgument(path + ": not a regular file");
  }
  std::unique_ptr<EngineFile> file(new EngineFile());
  file->path_ = path;
  file->size_ = static_cast<uint64_t>(st.st_size);
  if (file->size_ < engine::kHeaderBytes) {
    ::close(fd);
    return InvalidArgument(path + ": truncated: " + std::to_string(file->size_) +
                           " bytes, an engine file has at least " +
                           std::to_string(engine::kHeaderBytes));
  }
  void* map = ::mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);  // the mapping keeps the file alive
  if (map == MAP_FAILED) return InvalidArgument(path + ": mmap failed: " + std::strerror(errno));
  file->base_ = static_cast<const uint8_t*>(map);
  LLMC_RETURN_IF_ERROR(file->verify(options));
  return file;
}

EngineFile::~EngineFile() {
  if (base_) ::munmap(const_cast<uint8_t*>(base_), size_);
}

std::string EngineFile::producer() const {
  return std::string(header_.producer, strnlen(header_.producer, sizeof(header_.producer)));
}

const SectionView* EngineFile::find(std::string_view name) const {
  for (const SectionView& s : sections_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

Status EngineFile::verify(const EngineFileOptions& options) {
  auto bad = [&](const std::string& what) { return InvalidArgument(path_ + ": " + what); };
  std::memcpy(&header_, base_, sizeof(header_));
  if (std::memcmp(header_.magic, engine::kMagic, sizeof(engine::kMagic)) != 0) {
    return bad("not an llmc engine file (bad magic)");
  }
  if (header_.formatVersion != engine::kFormatVersion) {
    return bad("format version " + std::to_string(header_.formatVersion) + ", this llmc reads version " +
               std::to_string(engine::kFormatVersion));
  }
  // Checksum of the header page with the checksum field zeroed.
  {
    std::vector<uint8_t> page(base_, base_ + engine::kHeaderBytes);
    std::memset(page.data() + offsetof(EngineHeader, headerChecksum), 0, sizeof(uint64_t));
    uint64_t sum = XXH3_64bits(page.data(), page.size());
    if (sum != header_.headerChecksum) {
      return bad("header checksum mismatch (corrupted): stored " + hex64(header_.headerChecksum) +
                 ", computed " + hex64(sum));
    }
  }
  if (header_.fileSize > size_) {
    return bad("truncated: header says " + std::to_string(header_.fileSize) + " bytes, file has " +
               std::to_string(size_));
  }
  if (header_.fileSize < size_) {
    return bad("header says " + std::to_string(header_.fileSize) + " bytes, file has " +
               std::to_string(size_) + " (trailing data)");
  }
  if (header_.sectionCount > engine::kMaxSections) {
    return bad("section count " + std::to_string(header_.sectionCount) + " exceeds the maximum " +
               std::to_string(engine::kMaxSections));
  }

  // Section table: names, alignment, bounds, no overlap.
  sections_.clear();
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (uint32_t i = 0; i < header_.sectionCount; ++i) {
    SectionEntry e;
    std::memcpy(&e, base_ + sizeof(EngineHeader) + i * sizeof(SectionEntry), sizeof(e));
    size_t nameLen = strnlen(e.name, sizeof(e.name));
    if (nameLen == 0 || nameLen == sizeof(e.name)) {
      return bad("section " + std::to_string(i) + " has an empty or unterminated name");
    }
    SectionView v;
    v.name.assign(e.name, nameLen);
    v.offset = e.offset;
    v.checksum = e.checksum;
    if (find(v.name)) return bad("section '" + v.name + "' appears twice");
    if (e.offset < engine::kHeaderBytes || e.offset % engine::kAlignment != 0) {
      return bad("section '" + v.name + "' offset " + std::to_string(e.offset) +
                 " is not a 4096-aligned offset after the header");
    }
    if (e.offset > size_ || e.size > size_ - e.offset) {
      return bad("section '" + v.name + "' [" + std::to_string(e.offset) + ", +" +
                 std::to_string(e.size) + ") extends past the end of the file (" +
                 std::to_string(size_) + " bytes)");
    }
    v.bytes = std::string_view(reinterpret_cast<const char*>(base_ + e.offset), e.size);
    ranges.emplace_back(e.offset, e.offset + e.size);
    sections_.push_back(std::move(v));
  }
  std::vector<std::pair<uint64_t, uint64_t>> sorted = ranges;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i].first < sorted[i - 1].second) return bad("sections overlap");
  }

  for (const SectionView& v : sections_) {
    if (!options.verifyWeights && v.name == engine::kSectionWeights) continue;
    uint64_t sum = XXH3_64bits(v.bytes.data(), v.bytes.size());
    if (sum != v.checksum) return bad("section '" + v.name + "' checksum mismatch (corrupted)");
  }
  return Status::Ok();
}

}  // namespace llmc

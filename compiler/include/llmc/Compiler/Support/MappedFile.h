//===- MappedFile.h - read-only memory-mapped file (RAII) -------*- C++ -*-===//
//
// Owned by the compiler (cc). A MappedFile owns one read-only private mapping of a whole file;
// the mapping is released in the destructor. Checkpoints are read through it so that building a
// model never copies it into anonymous memory.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/runtime/Status.h"

#include <cstdint>
#include <memory>
#include <string>

namespace llmc {

class MappedFile {
 public:
  // Maps `path` read-only. Errors name the file (not found, not a regular file, mmap failure).
  static StatusOr<std::unique_ptr<MappedFile>> open(const std::string &path);
  ~MappedFile();
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;

  const std::string &path() const { return path_; }
  const uint8_t *data() const { return data_; }
  uint64_t size() const { return size_; }

  // Tells the kernel the bytes [offset, offset+length) are not needed soon (their clean pages may
  // be dropped); contents stay readable.
  void dropPages(uint64_t offset, uint64_t length) const;

 private:
  MappedFile(std::string path, const uint8_t *data, uint64_t size)
      : path_(std::move(path)), data_(data), size_(size) {}
  std::string path_;
  const uint8_t *data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace llmc

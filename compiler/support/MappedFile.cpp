//===- MappedFile.cpp - read-only memory-mapped file (RAII) ---------------===//
//
// Owned by the compiler (cc).
//
//===----------------------------------------------------------------------===//
#include "llmc/Compiler/Support/MappedFile.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace llmc {

StatusOr<std::unique_ptr<MappedFile>> MappedFile::open(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string why = std::strerror(err);
    if (err == ENOENT)
      return NotFound(path + ": no such file");
    return InvalidArgument(path + ": cannot open: " + why);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgument(path + ": not a regular file");
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  const uint8_t *data = nullptr;
  // mmap of length 0 fails; an empty file maps to nothing (callers report it as truncated).
  if (size > 0) {
    void *p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      std::string why = std::strerror(errno);
      ::close(fd);
      return Internal(path + ": mmap failed: " + why);
    }
    data = static_cast<const uint8_t *>(p);
  }
  ::close(fd);  // the mapping keeps the file referenced
  return std::unique_ptr<MappedFile>(new MappedFile(path, data, size));
}

MappedFile::~MappedFile() {
  if (data_)
    ::munmap(const_cast<uint8_t *>(data_), size_);
}

void MappedFile::dropPages(uint64_t offset, uint64_t length) const {
  if (!data_ || length == 0 || offset >= size_)
    return;
  long page = ::sysconf(_SC_PAGESIZE);
  uint64_t begin = (offset + page - 1) / page * page;  // only whole pages inside the range
  uint64_t end = std::min<uint64_t>(offset + length, size_) / page * page;
  if (end > begin)
    ::madvise(const_cast<uint8_t *>(data_) + begin, end - begin, MADV_DONTNEED);
}

}  // namespace llmc

// EngineFileWriter.cpp - writes engine files: buffered, checksummed, temporary file then rename.
#include "llmc/runtime/EngineFileWriter.h"

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

#include "llmc/runtime/EngineFormat.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the engine format is little-endian");

namespace llmc {
namespace {

using engine::EngineHeader;
using engine::SectionEntry;

std::string errnoText() { return std::strerror(errno); }

// A file descriptor plus a write buffer; the output is only ever appended to, except the header.
class OutFile {
 public:
  explicit OutFile(std::string path) : path_(std::move(path)), buffer_(kBufferBytes) {}
  ~OutFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status open() {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) return InvalidArgument(path_ + ": cannot create: " + errnoText());
    return Status::Ok();
  }
  Status append(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    while (n > 0) {
      size_t take = std::min(n, buffer_.size() - used_);
      std::memcpy(buffer_.data() + used_, p, take);
      used_ += take;
      p += take;
      n -= take;
      if (used_ == buffer_.size()) LLMC_RETURN_IF_ERROR(flush());
    }
    return Status::Ok();
  }
  Status appendZeros(uint64_t n) {
    static const uint8_t kZeros[4096] = {};
    while (n > 0) {
      size_t take = static_cast<size_t>(std::min<uint64_t>(n, sizeof(kZeros)));
      LLMC_RETURN_IF_ERROR(append(kZeros, take));
      n -= take;
    }
    return Status::Ok();
  }
  Status flush() {
    size_t done = 0;
    while (done < used_) {
      ssize_t w = ::write(fd_, buffer_.data() + done, used_ - done);
      if (w < 0) {
        if (errno == EINTR) continue;
        return InvalidArgument(path_ + ": write failed: " + errnoText());
      }
      done += static_cast<size_t>(w);
    }
    used_ = 0;
    return Status::Ok();
  }
  Status pwriteAll(const void* data, size_t n, uint64_t offset) {
    const auto* p = static_cast<const uint8_t*>(data);
    while (n > 0) {
      ssize_t w = ::pwrite(fd_, p, n, static_cast<off_t>(offset));
      if (w < 0) {
        if (errno == EINTR) continue;
        return InvalidArgument(path_ + ": write failed: " + errnoText());
      }
      p += w;
      n -= static_cast<size_t>(w);
      offset += static_cast<uint64_t>(w);
    }
    return Status::Ok();
  }
  Status syncAndClose() {
    LLMC_RETURN_IF_ERROR(flush());
    if (::fsync(fd_) != 0) return InvalidArgument(path_ + ": fsync failed: " + errnoText());
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return InvalidArgument(path_ + ": close failed: " + errnoText());
    return Status::Ok();
  }

 private:
  static constexpr size_t kBufferBytes = 1 << 20;
  std::string path_;
  int fd_ = -1;
  std::vector<uint8_t> buffer_;
  size_t used_ = 0;
};

struct XxhState {
  XXH3_state_t* state = XXH3_createState();
  XxhState() { XXH3_64bits_reset(state); }
  ~XxhState() { XXH3_freeState(state); }
};

// The sink handed to a streamed section's callback: counts, hashes and appends.
class StreamSink : public SectionSink {
 public:
  StreamSink(OutFile* out, XXH3_state_t* hash, const std::string& section, uint64_t limit)
      : out_(out), hash_(hash), section_(section), limit_(limit) {}
  Status write(const void* data, size_t bytes) override {
    if (bytes > limit_ - written_) {
      return Internal("section '" + section_ + "': streamer wrote more than the declared " +
                      std::to_string(limit_) + " bytes");
    }
    XXH3_64bits_update(hash_, data, bytes);
    written_ += bytes;
    return out_->append(data, bytes);
  }
  uint64_t written() const override { return written_; }

 private:
  OutFile* out_;
  XXH3_state_t* hash_;
  const std::string& section_;
  uint64_t limit_;
  uint64_t written_ = 0;
};

}  // namespace

EngineFileWriter::EngineFileWriter(std::string producer) : producer_(std::move(producer)) {}

Status EngineFileWriter::checkName(const std::string& name) const {
  if (name.empty() || name.size() >= engine::kSectionNameBytes) {
    return InvalidArgument("engine section name '" + name + "' must have 1.." +
                           std::to_string(engine::kSectionNameBytes - 1) + " bytes");
  }
  if (name.find('\0') != std::string::npos) {
    return InvalidArgument("engine section name contains a NUL byte");
  }
  for (const Pending& p : sections_) {
    if (p.name == name) return InvalidArgument("engine section '" + name + "' added twice");
  }
  if (sections_.size() >= engine::kMaxSections) {
    return InvalidArgument("engine has more than " + std::to_string(engine::kMaxSections) + " sections");
  }
  return Status::Ok();
}

Status EngineFileWriter::addSection(const std::string& name, std::string_view bytes) {
  LLMC_RETURN_IF_ERROR(checkName(name));
  Pending p;
  p.name = name;
  p.size = bytes.size();
  p.bytes.assign(bytes.data(), bytes.size());
  sections_.push_back(std::move(p));
  return Status::Ok();
}

Status EngineFileWriter::addStreamedSection(const std::string& name, uint64_t size,
                                            SectionStreamer streamer) {
  LLMC_RETURN_IF_ERROR(checkName(name));
  if (!streamer) return InvalidArgument("engine section '" + name + "': no streamer");
  Pending p;
  p.name = name;
  p.size = size;
  p.streamer = std::move(streamer);
  sections_.push_back(std::move(p));
  return Status::Ok();
}

uint64_t EngineFileWriter::fileSize() const {
  uint64_t end = engine::kHeaderBytes;
  for (const Pending& p : sections_) end = engine::alignUp(end) + p.size;
  return end;
}

Status EngineFileWriter::write(const std::string& path) {
  if (producer_.size() >= sizeof(EngineHeader::producer)) {
    return InvalidArgument(path + ": producer string '" + producer_ + "' longer than 31 bytes");
  }
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::vector<SectionEntry> table(sections_.size());

  // Everything that touches the temporary runs here; any error removes it below.
  auto writeAll = [&]() -> Status {
    OutFile out(tmp);
    LLMC_RETURN_IF_ERROR(out.open());
    // The header page is written last (pwrite); reserve it now.
    LLMC_RETURN_IF_ERROR(out.appendZeros(engine::kHeaderBytes));
    uint64_t pos = engine::kHeaderBytes;
    for (size_t i = 0; i < sections_.size(); ++i) {
      const Pending& p = sections_[i];
      uint64_t start = engine::alignUp(pos);
      LLMC_RETURN_IF_ERROR(out.appendZeros(start - pos));
      SectionEntry& e = table[i];
      std::memset(&e, 0, sizeof(e));
      std::memcpy(e.name, p.name.data(), p.name.size());
      e.offset = start;
      e.size = p.size;
      XxhState hash;
      if (p.streamer) {
        StreamSink sink(&out, hash.state, p.name, p.size);
        Status s = p.streamer(sink);
        if (!s.ok()) return s.withPrefix(path + ": section '" + p.name + "'");
        if (sink.written() != p.size) {
          return Internal(path + ": section '" + p.name + "': streamer wrote " +
                          std::to_string(sink.written()) + " bytes, declared " + std::to_string(p.size));
        }
      } else {
        XXH3_64bits_update(hash.state, p.bytes.data(), p.bytes.size());
        LLMC_RETURN_IF_ERROR(out.append(p.bytes.data(), p.bytes.size()));
      }
      e.checksum = XXH3_64bits_digest(hash.state);
      pos = start + p.size;
    }
    LLMC_RETURN_IF_ERROR(out.flush());

    // Header page: EngineHeader, the table, zeros; checksum over the page with its field zeroed.
    std::vector<uint8_t> page(engine::kHeaderBytes, 0);
    EngineHeader h;
    std::memset(&h, 0, sizeof(h));
    std::memcpy(h.magic, engine::kMagic, sizeof(h.magic));
    h.formatVersion = engine::kFormatVersion;
    h.sectionCount = static_cast<uint32_t>(sections_.size());
    std::memcpy(h.producer, producer_.data(), producer_.size());
    h.fileSize = pos;
    h.headerChecksum = 0;
    std::memcpy(page.data(), &h, sizeof(h));
    if (!table.empty()) {
      std::memcpy(page.data() + sizeof(h), table.data(), table.size() * sizeof(SectionEntry));
    }
    h.headerChecksum = XXH3_64bits(page.data(), page.size());
    std::memcpy(page.data(), &h, sizeof(h));
    LLMC_RETURN_IF_ERROR(out.pwriteAll(page.data(), page.size(), 0));
    LLMC_RETURN_IF_ERROR(out.syncAndClose());
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      return InvalidArgument(path + ": cannot rename " + tmp + " onto it: " + errnoText());
    }
    return Status::Ok();
  };

  Status s = writeAll();
  if (!s.ok()) ::unlink(tmp.c_str());
  return s;
}

}  // namespace llmc

// EngineFileWriter.h - writes an llmc engine file (docs/engine-format.md).
//
// Sections are added by name, either as bytes held by the writer or as a streamed section whose
// size is known up front and whose bytes a callback produces through a SectionSink (so a 14 GB
// weight section is never held in memory). write() computes every xxh3-64 checksum while writing,
// writes PATH.tmp.<pid>, writes the header last, and renames the temporary onto PATH. On any error
// the temporary is removed and PATH is left untouched.
//
// Used by the compiler's engine writer (codegen) and by tests; the schema belongs to the runtime.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "llmc/runtime/Status.h"

namespace llmc {

// Where a streamed section's bytes go. write() may be called any number of times; the total must be
// exactly the size given to addStreamedSection (more is rejected at once, less when the callback returns).
class SectionSink {
 public:
  virtual ~SectionSink() = default;
  virtual Status write(const void* data, size_t bytes) = 0;
  // Bytes written so far in this section.
  virtual uint64_t written() const = 0;
};

// Produces a streamed section's bytes. Returning an error aborts the whole file.
using SectionStreamer = std::function<Status(SectionSink& sink)>;

class EngineFileWriter {
 public:
  // producer: stored in the header ("llmc 0.1.0"); at most 31 bytes.
  explicit EngineFileWriter(std::string producer = "llmc 0.1.0");

  // Adds a section holding `bytes` (copied). Names: 1..23 bytes, unique, at most kMaxSections sections.
  Status addSection(const std::string& name, std::string_view bytes);
  // Adds a section of exactly `size` bytes produced by `streamer` during write().
  Status addStreamedSection(const std::string& name, uint64_t size, SectionStreamer streamer);

  // Writes the file. Sections appear in the order they were added, each 4096-aligned.
  Status write(const std::string& path);

  // Size of the file write() will produce.
  uint64_t fileSize() const;

 private:
  struct Pending {
    std::string name;
    uint64_t size = 0;
    std::string bytes;           // held sections
    SectionStreamer streamer;    // streamed sections (bytes unused)
  };
  Status checkName(const std::string& name) const;

  std::string producer_;
  std::vector<Pending> sections_;
};

}  // namespace llmc

//===- KernelCache.h - compiled kernel images cached by content hash -*- C++ -*-===//
//
// Owned by the CUDA codegen (internal). A cache entry is one file, <dir>/<32 hex digits>.<ext>,
// whose name is the XXH3-128 of everything that determines the image (generated source, every
// embedded header, arch, NVRTC options and version). Entries are written to a temporary and
// renamed, so concurrent builds never see half a file; a cache that cannot be read or written is
// skipped silently (it is an optimisation, never a reason to fail a build).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <optional>
#include <string>

namespace llmc::codegen::cuda {

class KernelCache {
public:
  // dir: "" = $XDG_CACHE_HOME/llmc/kernels or $HOME/.cache/llmc/kernels; "off" = disabled.
  explicit KernelCache(const std::string &dir);
  bool enabled() const { return !dir_.empty(); }
  const std::string &dir() const { return dir_; }
  std::optional<std::string> get(const std::string &key, const std::string &ext) const;
  void put(const std::string &key, const std::string &ext, const std::string &bytes) const;

private:
  std::string dir_;
};

// Hex XXH3-128 of `bytes`.
std::string contentHash(const std::string &bytes);

} // namespace llmc::codegen::cuda

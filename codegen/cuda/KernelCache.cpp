//===- KernelCache.cpp - compiled kernel images cached by content hash ----===//
#include "KernelCache.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <unistd.h>

#define XXH_INLINE_ALL  // header-only: the codegen links no xxhash library
#include <xxhash.h>

namespace llmc::codegen::cuda {

namespace fs = std::filesystem;

std::string contentHash(const std::string &bytes) {
  const XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return buf;
}

KernelCache::KernelCache(const std::string &dir) {
  if (dir == "off")
    return;
  if (!dir.empty()) {
    dir_ = dir;
  } else if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    dir_ = std::string(xdg) + "/llmc/kernels";
  } else if (const char *home = std::getenv("HOME"); home && *home) {
    dir_ = std::string(home) + "/.cache/llmc/kernels";
  }
}

std::optional<std::string> KernelCache::get(const std::string &key, const std::string &ext) const {
  if (!enabled())
    return std::nullopt;
  std::ifstream in(dir_ + "/" + key + "." + ext, std::ios::binary);
  if (!in)
    return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in.good() && !in.eof())
    return std::nullopt;
  std::string bytes = ss.str();
  if (bytes.empty())
    return std::nullopt;
  return bytes;
}

void KernelCache::put(const std::string &key, const std::string &ext, const std::string &bytes) const {
  if (!enabled())
    return;
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec)
    return;
  const std::string final = dir_ + "/" + key + "." + ext;
  const std::string tmp = final + ".tmp." + std::to_string(::getpid()) + "." +
                          std::to_string(reinterpret_cast<uintptr_t>(&bytes));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      return;
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.good()) {
      out.close();
      fs::remove(tmp, ec);
      return;
    }
  }
  fs::rename(tmp, final, ec);
  if (ec)
    fs::remove(tmp, ec);
}

} // namespace llmc::codegen::cuda

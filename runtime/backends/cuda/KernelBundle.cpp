// KernelBundle.cpp - serialise / parse a kernel bundle section (format in KernelBundle.h).
#include "KernelBundle.h"

#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>

namespace llmc::cuda {

using nlohmann::json;

namespace {

constexpr size_t kFixedBytes = 24;

size_t align16(size_t v) { return (v + 15) / 16 * 16; }

void putU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void putU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t getLE(const char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

Status readStrings(const json& idx, const char* key, const std::string& where,
                   std::vector<std::string>* out) {
  auto it = idx.find(key);
  if (it == idx.end() || !it->is_array()) return InvalidArgument(where + ": index." + key + " is not an array");
  for (const json& s : *it) {
    if (!s.is_string()) return InvalidArgument(where + ": index." + key + " holds a non-string");
    out->push_back(s.get<std::string>());
  }
  return Status::Ok();
}

Status readString(const json& idx, const char* key, const std::string& where, std::string* out) {
  auto it = idx.find(key);
  if (it == idx.end() || !it->is_string()) return InvalidArgument(where + ": index." + key + " is not a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

}  // namespace

int archNumber(const std::string& arch) {
  size_t us = arch.find('_');
  if (us == std::string::npos) return -1;
  const std::string prefix = arch.substr(0, us), digits = arch.substr(us + 1);
  if ((prefix != "sm" && prefix != "compute") || digits.empty() || digits.size() > 4) return -1;
  // "90a" (arch-specific features) is accepted; the number is its digits.
  size_t n = 0;
  while (n < digits.size() && digits[n] >= '0' && digits[n] <= '9') ++n;
  if (n == 0 || (n != digits.size() && !(n + 1 == digits.size() && digits[n] == 'a'))) return -1;
  return std::stoi(digits.substr(0, n));
}

std::string bundleSectionName(const KernelImage& image) {
  return image.isPtx ? "kernels.ptx" : "kernels." + image.arch;
}

std::string serializeBundle(const KernelImage& image) {
  std::vector<std::string> kernels = image.kernels;
  std::sort(kernels.begin(), kernels.end());
  json idx = json::object();  // nlohmann's object is a std::map: keys come out sorted
  idx["arch"] = image.arch;
  idx["format"] = image.isPtx ? "ptx" : "cubin";
  idx["kernels"] = kernels;
  idx["nvrtc"] = image.nvrtcVersion;
  idx["options"] = image.options;
  idx["source_hash"] = image.sourceHash;
  const std::string index = idx.dump();

  std::string out(kBundleMagic, sizeof(kBundleMagic));
  putU32(&out, kBundleVersion);
  putU32(&out, static_cast<uint32_t>(index.size()));
  putU64(&out, image.image.size());
  out += index;
  out.resize(align16(out.size()), '\0');
  out += image.image;
  return out;
}

StatusOr<KernelImage> parseBundle(std::string_view bytes, const std::string& where) {
  if (bytes.size() < kFixedBytes)
    return InvalidArgument(where + ": truncated: " + std::to_string(bytes.size()) + " bytes, a kernel bundle has at least 24");
  if (std::memcmp(bytes.data(), kBundleMagic, sizeof(kBundleMagic)) != 0)
    return InvalidArgument(where + ": not a kernel bundle (bad magic)");
  const uint32_t version = static_cast<uint32_t>(getLE(bytes.data() + 8, 4));
  if (version != kBundleVersion)
    return InvalidArgument(where + ": kernel bundle version " + std::to_string(version) + ", this runtime reads version " +
                           std::to_string(kBundleVersion) + " (the engine was built by another llmc: rebuild it)");
  const uint64_t indexBytes = getLE(bytes.data() + 12, 4);
  const uint64_t imageBytes = getLE(bytes.data() + 16, 8);
  const uint64_t imageAt = align16(kFixedBytes + indexBytes);
  if (imageAt > bytes.size() || imageBytes > bytes.size() - imageAt)
    return InvalidArgument(where + ": truncated: index and image need " + std::to_string(imageAt) + " + " +
                           std::to_string(imageBytes) + " bytes, the section has " + std::to_string(bytes.size()));
  const json idx = json::parse(bytes.substr(kFixedBytes, indexBytes), nullptr, false);
  if (idx.is_discarded() || !idx.is_object()) return InvalidArgument(where + ": the bundle index is not a JSON object");

  KernelImage image;
  std::string format;
  LLMC_RETURN_IF_ERROR(readString(idx, "arch", where, &image.arch));
  LLMC_RETURN_IF_ERROR(readString(idx, "format", where, &format));
  LLMC_RETURN_IF_ERROR(readString(idx, "nvrtc", where, &image.nvrtcVersion));
  LLMC_RETURN_IF_ERROR(readString(idx, "source_hash", where, &image.sourceHash));
  LLMC_RETURN_IF_ERROR(readStrings(idx, "kernels", where, &image.kernels));
  LLMC_RETURN_IF_ERROR(readStrings(idx, "options", where, &image.options));
  if (format != "cubin" && format != "ptx") return InvalidArgument(where + ": unknown image format '" + format + "'");
  image.isPtx = format == "ptx";
  if (archNumber(image.arch) < 0) return InvalidArgument(where + ": malformed arch '" + image.arch + "'");
  image.image.assign(bytes.data() + imageAt, imageBytes);
  if (image.isPtx && (image.image.empty() || image.image.back() != '\0'))
    return InvalidArgument(where + ": PTX image is not NUL-terminated");
  return image;
}

}  // namespace llmc::cuda

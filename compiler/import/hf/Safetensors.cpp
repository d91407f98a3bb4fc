//===- Safetensors.cpp - validated reader for one .safetensors file -------===//
//
// Owned by the compiler (cc).
//
//===----------------------------------------------------------------------===//
#include "llmc/Compiler/Import/HF/Safetensors.h"

#include <nlohmann/json.hpp>

#include <cstring>

namespace llmc::hf {

using nlohmann::json;

namespace {

// Element sizes of every dtype in the safetensors spec; 0 = not a spec dtype.
size_t specDTypeBytes(const std::string &d) {
  if (d == "F64" || d == "I64" || d == "U64")
    return 8;
  if (d == "F32" || d == "I32" || d == "U32")
    return 4;
  if (d == "F16" || d == "BF16" || d == "I16" || d == "U16")
    return 2;
  if (d == "I8" || d == "U8" || d == "BOOL" || d == "F8_E4M3" || d == "F8_E5M2")
    return 1;
  return 0;
}

// The safetensors spec caps the header at 100 MB; a larger value means a corrupt length field.
constexpr uint64_t kMaxHeaderBytes = 100u << 20;

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::open(const std::string &path) {
  LLMC_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> file, MappedFile::open(path));
  std::unique_ptr<SafetensorsFile> st(new SafetensorsFile(std::move(file)));
  LLMC_RETURN_IF_ERROR(st->parseHeader());
  return st;
}

Status SafetensorsFile::parseHeader() {
  const std::string &p = file_->path();
  const uint64_t fileSize = file_->size();
  auto fail = [&](const std::string &msg) { return InvalidArgument(p + ": " + msg); };

  if (fileSize < 8)
    return fail("truncated: file is " + std::to_string(fileSize) +
                " bytes, too short for the 8-byte header length");
  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i)  // little-endian regardless of the host
    headerLen = (headerLen << 8) | file_->data()[i];
  if (headerLen > kMaxHeaderBytes)
    return fail("header length " + std::to_string(headerLen) +
                " is larger than the 100 MB the format allows (corrupt or not a safetensors file)");
  if (8 + headerLen > fileSize)
    return fail("truncated: header says " + std::to_string(headerLen) + " bytes of JSON, file has " +
                std::to_string(fileSize - 8) + " after the length field");

  const char *text = reinterpret_cast<const char *>(file_->data() + 8);
  json header = json::parse(text, text + headerLen, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded())
    return fail("header is not valid JSON");
  if (!header.is_object())
    return fail("header must be a JSON object, got " + std::string(header.type_name()));

  const uint64_t dataStart = 8 + headerLen;
  const uint64_t dataSize = fileSize - dataStart;
  uint64_t maxEnd = 0;
  std::string maxEndTensor;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string &name = it.key();
    if (name == "__metadata__")
      continue;  // free-form string map; nothing in it affects the data
    const json &e = it.value();
    auto bad = [&](const std::string &msg) { return fail("tensor '" + name + "': " + msg); };
    if (!e.is_object())
      return bad("header entry must be an object");

    SafetensorsEntry entry;
    entry.name = name;
    auto dt = e.find("dtype");
    if (dt == e.end() || !dt->is_string())
      return bad("missing or non-string 'dtype'");
    entry.dtypeName = dt->get<std::string>();
    size_t elemBytes = specDTypeBytes(entry.dtypeName);
    if (elemBytes == 0)
      return bad("unknown dtype '" + entry.dtypeName + "'");
    if (entry.dtypeName == "F32") {
      entry.supported = true;
      entry.dtype = codegen::SourceDType::kF32;
    } else if (entry.dtypeName == "F16") {
      entry.supported = true;
      entry.dtype = codegen::SourceDType::kF16;
    } else if (entry.dtypeName == "BF16") {
      entry.supported = true;
      entry.dtype = codegen::SourceDType::kBF16;
    }

    auto sh = e.find("shape");
    if (sh == e.end() || !sh->is_array())
      return bad("missing or non-list 'shape'");
    // Element count, checked for overflow: a hostile header must not wrap it around.
    unsigned __int128 elems = 1;
    for (const json &d : *sh) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0)
        return bad("'shape' must be a list of non-negative integers, got " + sh->dump());
      entry.shape.push_back(d.get<int64_t>());
      elems *= static_cast<uint64_t>(entry.shape.back());
      if (elems > (static_cast<unsigned __int128>(1) << 62))
        return bad("shape " + sh->dump() + " is impossibly large");
    }

    auto off = e.find("data_offsets");
    if (off == e.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned())
      return bad("'data_offsets' must be two non-negative integers [begin, end]");
    uint64_t begin = (*off)[0].get<uint64_t>(), end = (*off)[1].get<uint64_t>();
    if (begin > end)
      return bad("data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                 "] end before they begin");
    uint64_t need = static_cast<uint64_t>(elems) * elemBytes;
    if (end - begin != need)
      return bad("shape " + shapeString(entry.shape) + " of " + entry.dtypeName + " needs " +
                 std::to_string(need) + " bytes but data_offsets [" + std::to_string(begin) + ", " +
                 std::to_string(end) + "] span " + std::to_string(end - begin));
    if (end > maxEnd) {
      maxEnd = end;
      maxEndTensor = name;
    }
    entry.begin = dataStart + begin;
    entry.end = dataStart + end;
    entries_.emplace(name, std::move(entry));
  }
  if (maxEnd > dataSize)
    return fail("truncated: header says " + std::to_string(maxEnd) + " bytes of data, file has " +
                std::to_string(dataSize) + " (tensor '" + maxEndTensor + "' ends past the end)");
  return Status::Ok();
}

const SafetensorsEntry *SafetensorsFile::find(const std::string &name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

StatusOr<codegen::TensorView> SafetensorsFile::view(const SafetensorsEntry &e) const {
  if (!e.supported)
    return Unsupported(path() + ": tensor '" + e.name + "' has dtype " + e.dtypeName +
                       "; only F32, F16 and BF16 weights are supported");
  codegen::TensorView v;
  v.name = e.name;
  v.file = path();
  v.dtype = e.dtype;
  v.shape = e.shape;
  v.data = file_->data() + e.begin;
  v.nbytes = e.end - e.begin;
  return v;
}

}  // namespace llmc::hf

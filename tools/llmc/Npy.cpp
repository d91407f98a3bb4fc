// Npy.cpp - .npy header parsing and writing (see Npy.h).
#include "Npy.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

namespace llmc::cli {

namespace {

struct Descr {
  const char* text;
  GType type;
};
const Descr kDescrs[] = {{"<f4", GType::kF32}, {"<f2", GType::kF16}, {"<f8", GType::kF64}, {"|i1", GType::kI8},
                         {"<i2", GType::kI16}, {"<i4", GType::kI32}, {"<i8", GType::kI64}, {"|u1", GType::kU8},
                         {"<u2", GType::kU16}, {"<u4", GType::kU32}, {"<u8", GType::kU64}, {"|b1", GType::kBool},
                         // NumPy has no bfloat16: ml_dtypes' bfloat16 arrays are saved as 2-byte voids.
                         {"<V2", GType::kBF16}};

// The text after `'key':` in the header dict, or npos.
size_t valueAt(const std::string& h, const std::string& key) {
  size_t k = h.find("'" + key + "'");
  if (k == std::string::npos) return k;
  k = h.find(':', k);
  if (k == std::string::npos) return k;
  return h.find_first_not_of(' ', k + 1);
}

}  // namespace

StatusOr<HostTensor> readNpy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFound(path + ": cannot open");
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto bad = [&](const std::string& why) { return InvalidArgument(path + ": not a .npy file llmc reads: " + why); };
  if (data.size() < 10 || data.compare(0, 6, "\x93NUMPY") != 0) return bad("bad magic");
  const int major = static_cast<unsigned char>(data[6]);
  size_t headerLen = 0, start = 0;
  if (major == 1) {
    headerLen = static_cast<unsigned char>(data[8]) | (static_cast<unsigned char>(data[9]) << 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (data.size() < 12) return bad("truncated header");
    uint32_t n;
    std::memcpy(&n, data.data() + 8, 4);
    headerLen = n;
    start = 12;
  } else {
    return bad("format version " + std::to_string(major));
  }
  if (data.size() < start + headerLen) return bad("truncated header");
  const std::string h = data.substr(start, headerLen);
  HostTensor t;
  size_t d = valueAt(h, "descr");
  if (d == std::string::npos || h[d] != '\'') return bad("no descr");
  const std::string descr = h.substr(d + 1, h.find('\'', d + 1) - d - 1);
  bool found = false;
  for (const Descr& e : kDescrs) {
    if (descr == e.text || (descr.size() == 3 && descr[0] == '=' && descr.substr(1) == std::string(e.text).substr(1))) {
      t.type = e.type;
      found = true;
    }
  }
  if (!found) return bad("element type '" + descr + "' (llmc reads little-endian f2/f4/f8, i1-i8, u1-u8, b1, V2 = bfloat16)");
  size_t fo = valueAt(h, "fortran_order");
  if (fo == std::string::npos) return bad("no fortran_order");
  if (h.compare(fo, 4, "True") == 0) return bad("Fortran order");
  size_t s = valueAt(h, "shape");
  if (s == std::string::npos || h[s] != '(') return bad("no shape");
  const size_t close = h.find(')', s);
  if (close == std::string::npos) return bad("bad shape");
  const std::string dims = h.substr(s + 1, close - s - 1);
  size_t at = 0;
  while (at < dims.size()) {
    while (at < dims.size() && (dims[at] == ' ' || dims[at] == ',')) ++at;
    if (at >= dims.size()) break;
    char* end = nullptr;
    const long long v = std::strtoll(dims.c_str() + at, &end, 10);
    if (end == dims.c_str() + at || v < 0) return bad("bad shape");
    t.shape.push_back(v);
    at = static_cast<size_t>(end - dims.c_str());
  }
  size_t n = gtypeBytes(t.type);
  for (int64_t x : t.shape) n *= static_cast<size_t>(x);
  if (data.size() - start - headerLen != n)
    return bad("the data is " + std::to_string(data.size() - start - headerLen) + " bytes, the header says " +
               std::to_string(n));
  t.bytes.assign(data.begin() + static_cast<std::ptrdiff_t>(start + headerLen), data.end());
  return t;
}

Status writeNpy(const std::string& path, const HostTensor& t) {
  const char* descr = nullptr;
  for (const Descr& e : kDescrs)
    if (e.type == t.type) descr = e.text;
  if (!descr) return Unsupported(path + ": " + gtypeName(t.type) + " has no .npy element type");
  std::string shape = "(";
  for (size_t k = 0; k < t.shape.size(); ++k) shape += std::to_string(t.shape[k]) + (t.shape.size() == 1 ? "," : k + 1 < t.shape.size() ? ", " : "");
  shape += ")";
  std::string h = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + h.size() + 1) % 64 != 0) h += ' ';
  h += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>(h.size() >> 8);
  out += h;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    f.write(out.data(), static_cast<std::streamsize>(out.size()));
    f.write(reinterpret_cast<const char*>(t.bytes.data()), static_cast<std::streamsize>(t.bytes.size()));
    if (!f) {
      std::remove(tmp.c_str());
      return InvalidArgument(path + ": cannot write");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return InvalidArgument(path + ": cannot write");
  }
  return Status::Ok();
}

}  // namespace llmc::cli

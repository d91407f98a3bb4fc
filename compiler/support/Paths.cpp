//===- Paths.cpp - small path and side-file helpers of the build drivers -===//
#include "llmc/Compiler/Support/Paths.h"

#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace llmc {

std::string joinPath(const std::string &dir, const std::string &name) {
  return (dir.empty() || dir.back() == '/') ? dir + name : dir + "/" + name;
}

std::string baseName(std::string p) {
  while (p.size() > 1 && p.back() == '/')
    p.pop_back();
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::vector<std::string> splitList(const std::string &list) {
  std::vector<std::string> items;
  std::string cur;
  for (char c : list + ",") {
    if (c == ',') {
      if (!cur.empty())
        items.push_back(cur);
      cur.clear();
    } else if (c != ' ' && c != '\t') {
      cur += c;
    }
  }
  return items;
}

StatusOr<std::optional<std::string>> readOptionalFile(const std::string &path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return std::optional<std::string>();
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  if (!in)
    return InvalidArgument(path + ": cannot read");
  return std::optional<std::string>(buf.str());
}

} // namespace llmc

// TestUtil.h - helpers shared by the runtime tests: temporary directories, random data, comparisons.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace llmc::test {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Names of the entries in the directory.
  std::vector<std::string> list() const;

 private:
  std::string path_;
};

std::vector<float> randomVector(std::mt19937& rng, size_t n, float lo = -1.0f, float hi = 1.0f);
std::string readFile(const std::string& path);
void writeFile(const std::string& path, const std::string& bytes);

// max |a - b| / (atol + rtol * |b|) <= 1 elementwise; returns the worst ratio (NaN propagates as inf).
double worstError(const std::vector<float>& got, const std::vector<double>& want, double atol, double rtol);

}  // namespace llmc::test

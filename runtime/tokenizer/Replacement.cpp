// Replacement.cpp - tokenizer.json's "Replace" (normalizer and decoder).
#include "Replacement.h"

#include <algorithm>

namespace llmc::tok {

StatusOr<Replacement> Replacement::parse(const json& j, const std::string& at) {
  Pattern pattern;
  Replacement r;
  LLMC_RETURN_IF_ERROR(getPattern(j, at, &pattern));
  LLMC_RETURN_IF_ERROR(getString(j, "content", at, &r.content_));
  if (pattern.isRegex) {
    auto compiled = Regex::compile(pattern.text);
    if (!compiled.ok()) return compiled.status().withPrefix(at);
    r.regex_ = std::move(compiled).value();
  }
  r.literal_ = std::move(pattern.text);
  return r;
}

void Replacement::apply(std::string& s) const {
  std::string out;
  size_t last = 0;
  if (regex_) {
    for (auto [b, e] : regex_->findAll(s)) {
      out.append(s, last, b - last);
      out += content_;
      last = e;
    }
  } else {
    if (literal_.empty()) return;
    for (size_t p = s.find(literal_); p != std::string::npos; p = s.find(literal_, last)) {
      out.append(s, last, p - last);
      out += content_;
      last = p + literal_.size();
    }
  }
  out.append(s, last, std::string::npos);
  s.swap(out);
}

size_t Replacement::partialMatchSuffix(const std::string& text) const {
  if (regex_ || literal_.size() < 2) return 0;
  for (size_t k = std::min(literal_.size() - 1, text.size()); k > 0; --k) {
    if (text.compare(text.size() - k, k, literal_, 0, k) == 0) return k;
  }
  return 0;
}

}  // namespace llmc::tok

// Regex.h - PCRE2 regular expressions for Split pre-tokenizers and Replace rules (owner: tokenizer).
//
// HF `tokenizers` uses Oniguruma; PCRE2 in UTF + UCP mode accepts the same syntax for the patterns
// tokenizer.json files carry (\p{L}, \p{N}, (?i:...), lookaheads) and gives the same matches on
// them. One exception is handled here: \s. PCRE2's UCP \s also matches U+180E (Mongolian vowel
// separator), which Oniguruma's \s does not, so \s and \S are rewritten to explicit classes.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "llmc/runtime/Status.h"

namespace llmc::tok {

class Regex {
 public:
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Compiles `pattern`; the error names the pattern and PCRE2's reason.
  static StatusOr<std::unique_ptr<Regex>> compile(std::string_view pattern);

  // All non-overlapping matches in valid UTF-8 `text`, as byte ranges [begin, end), left to right.
  // Like Oniguruma's iterator, an empty match right after the previous match is skipped.
  std::vector<std::pair<size_t, size_t>> findAll(std::string_view text) const;

 private:
  Regex() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Rewrites \s and \S (outside and inside [...] classes) to Oniguruma's whitespace set; exposed for
// tests.
std::string rewriteWhitespaceClasses(std::string_view pattern);

}  // namespace llmc::tok

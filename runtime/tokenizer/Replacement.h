// Replacement.h - the "Replace" operation that tokenizer.json uses both as a normalizer and as a
// decoder: every match of a pattern ({"String": s} or {"Regex": r}) becomes `content`
// (owner: tokenizer). One parser and one implementation for both component kinds.
#pragma once

#include <memory>
#include <string>

#include "Components.h"
#include "Regex.h"

namespace llmc::tok {

class Replacement {
 public:
  // Reads "pattern" and "content" of the component object j; errors name `at`.
  static StatusOr<Replacement> parse(const json& j, const std::string& at);

  // Replaces every non-overlapping match in s, left to right. An empty literal matches nothing.
  void apply(std::string& s) const;
  // How many trailing bytes of `text` could be the start of a literal match that continues in
  // later text (0 for regex patterns, which are assumed not to span tokens).
  size_t partialMatchSuffix(const std::string& text) const;

 private:
  std::string literal_;
  std::unique_ptr<Regex> regex_;  // set for {"Regex": ...}
  std::string content_;
};

}  // namespace llmc::tok

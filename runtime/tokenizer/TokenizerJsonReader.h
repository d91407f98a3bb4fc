// TokenizerJsonReader.h - fast reading of tokenizer.json (owner: tokenizer).
//
// A Llama-3/Qwen tokenizer.json is 9-11 MB, almost all of it model.vocab and model.merges; a DOM
// parse with nlohmann::json takes over half a second for those alone. This reader scans the file
// once, decodes vocab and merges straight into flat vectors, and hands every other value (small) to
// nlohmann::json, so the pipeline components keep reading ordinary json objects.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "Components.h"

namespace llmc::tok {

struct TokenizerJsonData {
  json root;  // the whole document, except model.vocab and model.merges (moved out below)
  bool hasVocab = false;
  bool hasMerges = false;
  std::vector<std::pair<std::string, int64_t>> vocab;  // in file order
  // One entry per merge: the two parts. A string merge "a b" is split at its space; one that does
  // not have exactly one space keeps the whole string in `first` and sets `malformed`.
  struct Merge {
    std::string first, second;
    bool malformed = false;
    bool fromString = false;
  };
  std::vector<Merge> merges;
};

// Errors name `where`, the byte offset and what was expected.
Status readTokenizerJson(std::string_view text, const std::string& where, TokenizerJsonData* out);

// Parses a small JSON text with nlohmann (no exceptions); the error gives the byte offset plus
// `offsetBase`.
Status parseJsonValue(std::string_view text, const std::string& where, size_t offsetBase, json* out);

}  // namespace llmc::tok

// TokenizerSource.h - loads a tokenizer from a folder (tokenizer.json) or from an engine file.
#pragma once

#include <memory>
#include <string>

#include "llmc/runtime/Engine.h"
#include "llmc/runtime/Tokenizer.h"

namespace llmc::cli {

// `source` is a folder holding tokenizer.json (+ tokenizer_config.json) or an engine file.
StatusOr<std::unique_ptr<Tokenizer>> loadTokenizer(const std::string& source);

// The engine's embedded tokenizer, or nullptr when it has none.
StatusOr<std::unique_ptr<Tokenizer>> engineTokenizer(const Engine& engine);

}  // namespace llmc::cli

// TokenizerSource.cpp - tokenizer from a folder or an engine (see TokenizerSource.h).
#include "TokenizerSource.h"

#include <sys/stat.h>

namespace llmc::cli {

StatusOr<std::unique_ptr<Tokenizer>> engineTokenizer(const Engine& engine) {
  if (!engine.hasTokenizer()) return std::unique_ptr<Tokenizer>();
  return Tokenizer::fromJson(engine.tokenizerJson(), engine.tokenizerConfigJson(),
                             engine.path() + " (embedded tokenizer.json)");
}

StatusOr<std::unique_ptr<Tokenizer>> loadTokenizer(const std::string& source) {
  struct stat st {};
  if (stat(source.c_str(), &st) != 0) return NotFound(source + ": no such file or directory");
  if (S_ISDIR(st.st_mode)) return Tokenizer::fromDirectory(source);
  // Loading only to read the tokenizer: the weights' checksum is not needed.
  EngineFileOptions options;
  options.verifyWeights = false;
  auto engine = Engine::load(source, options);
  if (!engine.ok()) return engine.status();
  auto tokenizer = engineTokenizer(**engine);
  if (!tokenizer.ok()) return tokenizer.status();
  if (!*tokenizer) return InvalidArgument(source + ": the engine has no tokenizer (it was built without tokenizer.json)");
  return tokenizer;
}

}  // namespace llmc::cli

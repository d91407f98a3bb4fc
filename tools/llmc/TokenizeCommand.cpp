// TokenizeCommand.cpp - `llmc tokenize --tokenizer DIR_OR_ENGINE (--text S | --decode IDS) [--json]`.
//
// Encodes exactly the given text (no BOS/EOS unless --add-special-tokens; special-token strings in
// the text match as in the HF library) or decodes a comma-separated id list.
#include <sys/stat.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "Commands.h"
#include "Flags.h"
#include "Report.h"
#include "TokenizerSource.h"

namespace llmc::cli {

int runTokenize(const Args& args) {
  Flags flags;
  std::string source, text, decodeIds;
  bool asJson = false, addSpecial = false, skipSpecial = false, help = false;
  flags.addString("--tokenizer,-t", &source, "a folder with tokenizer.json, or an engine file");
  flags.addString("--text", &text, "the text to encode");
  flags.addString("--decode", &decodeIds, "comma-separated ids to decode instead");
  flags.addBool("--add-special-tokens", &addSpecial, "add BOS/EOS as the tokenizer's post-processor does");
  flags.addBool("--skip-special-tokens", &skipSpecial, "with --decode: drop special tokens");
  flags.addBool("--json", &asJson, "print {\"ids\": [...]} (or {\"text\": ...})");
  flags.addBool("--help,-h", &help, "show this help");
  if (Status s = flags.parse(args); !s.ok()) return fail(s);
  if (help)
    return printHelp("usage: llmc tokenize --tokenizer DIR_OR_ENGINE (--text S | --decode IDS) [--json]",
                     flags.help());
  if (!flags.positionals().empty())
    return fail(InvalidArgument("unexpected argument '" + flags.positionals()[0] + "'"));
  if (source.empty()) return fail(InvalidArgument("--tokenizer is required"));
  if (flags.given("--text") == flags.given("--decode"))
    return fail(InvalidArgument("give exactly one of --text and --decode"));

  auto tokenizer = loadTokenizer(source);
  if (!tokenizer.ok()) return fail(tokenizer.status());
  if (flags.given("--decode")) {
    std::vector<int32_t> ids;
    if (Status s = parseIdList("--decode", decodeIds, &ids); !s.ok()) return fail(s);
    for (int32_t id : ids)
      if (id >= (*tokenizer)->vocabSize())
        return fail(InvalidArgument("--decode: id " + std::to_string(id) + " is outside the vocabulary (" +
                                    std::to_string((*tokenizer)->vocabSize()) + " tokens)"));
    std::string out = (*tokenizer)->decode(ids, skipSpecial);
    if (asJson)
      std::printf("%s\n", nlohmann::json({{"text", out}}).dump(-1, ' ', false,
                                                                nlohmann::json::error_handler_t::replace).c_str());
    else
      std::printf("%s\n", out.c_str());
    return 0;
  }
  std::vector<int32_t> ids = (*tokenizer)->encode(text, addSpecial);
  if (asJson) {
    std::printf("%s\n", nlohmann::json({{"ids", ids}}).dump().c_str());
  } else {
    for (size_t i = 0; i < ids.size(); ++i) std::printf(i ? ",%d" : "%d", ids[i]);
    std::printf("\n");
  }
  return 0;
}

}  // namespace llmc::cli

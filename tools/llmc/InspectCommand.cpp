// InspectCommand.cpp - `llmc inspect ENGINE [--json]`: what an engine holds.
//
// The JSON form is the engine's own `meta` object (model, build, weights, report) plus the program,
// the section table and the kernels per GPU arch, so scripts and tests read what the file says.
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "Commands.h"
#include "Flags.h"
#include "Report.h"
#include "llmc/runtime/Engine.h"

namespace llmc::cli {
namespace {

using nlohmann::json;

std::string humanBytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) b /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", b, units[u]);
  return buf;
}

json describe(const Engine& engine) {
  json meta = json::parse(engine.metaJson(), nullptr, false);
  if (meta.is_discarded() || !meta.is_object()) meta = json::object();
  const SectionView* prog = engine.file().find("program");
  json program = prog ? json::parse(prog->bytes, nullptr, false) : json();
  meta["program"] = program.is_discarded() ? json() : program;
  json sections = json::array();
  json kernels = json::object();
  for (const auto& s : engine.file().sections()) {
    sections.push_back({{"name", s.name}, {"offset", s.offset}, {"size", s.bytes.size()}});
    if (s.name.rfind("kernels.", 0) == 0) {
      kernels[s.name.substr(8)] = {{"bytes", s.bytes.size()}};
    }
  }
  meta["sections"] = sections;
  meta["kernels"] = kernels;
  meta["format_version"] = engine.file().header().formatVersion;
  meta["producer"] = engine.file().producer();
  meta["file_size"] = engine.file().size();
  return meta;
}

void printText(const Engine& engine, const json& d) {
  const ModelConfig& m = engine.config();
  std::printf("engine     %s (format %u, %s, %s)\n", engine.path().c_str(),
              engine.file().header().formatVersion, engine.file().producer().c_str(),
              humanBytes(static_cast<double>(engine.file().size())).c_str());
  std::printf("model      %s: vocab %lld, hidden %lld, layers %lld, heads %lld (kv %lld), head_dim %lld, "
              "max_position %lld, weights %s\n",
              m.architecture.c_str(), (long long)m.vocabSize, (long long)m.hiddenSize, (long long)m.numLayers,
              (long long)m.numHeads, (long long)m.numKvHeads, (long long)m.headDim, (long long)m.maxPosition,
              m.dtype.c_str());
  if (engine.hasTokenizer())
    std::printf("tokenizer  embedded (%s)\n", humanBytes(static_cast<double>(engine.tokenizerJson().size())).c_str());
  else
    std::printf("tokenizer  none: the engine works on token ids (--prompt-ids)\n");
  if (d.contains("build")) std::printf("build      %s\n", d["build"].dump().c_str());

  const Program& p = engine.program();
  std::map<std::string, int> opCounts;
  for (const auto& s : p.steps) opCounts[opKindName(s.op)]++;
  std::printf("program    %zu steps, %zu values; arena %lld f32 per token\n", p.steps.size(), p.values.size(),
              (long long)p.arenaPerToken);
  std::printf("  ops     ");
  for (const auto& [op, n] : opCounts) std::printf(" %s x%d", op.c_str(), n);
  std::printf("\n");
  uint64_t weightBytes = 0;
  for (const auto& w : engine.weights()) weightBytes += w.nbytes;
  std::printf("weights    %zu tensors, %s\n", engine.weights().size(), humanBytes(static_cast<double>(weightBytes)).c_str());
  std::printf("sections\n");
  for (const auto& s : engine.file().sections())
    std::printf("  %-20s offset %12llu  size %s\n", s.name.c_str(), (unsigned long long)s.offset,
                humanBytes(static_cast<double>(s.bytes.size())).c_str());
  if (!d["kernels"].empty()) {
    std::printf("kernels   ");
    for (auto it = d["kernels"].begin(); it != d["kernels"].end(); ++it) std::printf(" %s", it.key().c_str());
    std::printf("\n");
  }
  if (d.contains("report")) std::printf("report     %s\n", d["report"].dump().c_str());
}

}  // namespace

int runInspect(const Args& args) {
  Flags flags;
  bool asJson = false, help = false, verbose = false;
  flags.addBool("--json", &asJson, "print one JSON object");
  flags.addBool("--steps,-v", &verbose, "list every program step");
  flags.addBool("--help,-h", &help, "show this help");
  if (Status s = flags.parse(args); !s.ok()) return fail(s);
  if (help) return printHelp("usage: llmc inspect ENGINE [--json]", flags.help());
  if (flags.positionals().size() != 1) return fail(InvalidArgument("inspect takes one engine file"));
  auto engine = Engine::load(flags.positionals()[0]);
  if (!engine.ok()) return fail(engine.status());
  json d = describe(**engine);
  if (asJson) {
    std::printf("%s\n", d.dump(1).c_str());
    return 0;
  }
  printText(**engine, d);
  if (verbose && d["program"].contains("steps"))
    for (const auto& s : d["program"]["steps"]) std::printf("  %s\n", s.dump().c_str());
  return 0;
}

}  // namespace llmc::cli

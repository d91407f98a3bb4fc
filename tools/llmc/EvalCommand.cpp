// EvalCommand.cpp - `llmc eval ENGINE --input NAME=FILE.npy ... --out DIR`: run an engine of named
// tensors (a graph program of kind `tensors`, e.g. an ONNX node test) on the CPU or GPU and write each
// output as DIR/NAME.npy. Every input is checked before anything runs; outputs are written only
// after all of them were computed, each through a temporary file.
#include <sys/stat.h>

#include "Commands.h"
#include "Flags.h"
#include "Npy.h"
#include "Report.h"
#include "llmc/runtime/Engine.h"

namespace llmc::cli {

namespace {

// File name of an output: its name with anything but [A-Za-z0-9_.-] replaced by '_'.
std::string fileNameOf(const std::string& name) {
  std::string s = name;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') c = '_';
  return s.empty() || s[0] == '.' ? "_" + s : s;
}

}  // namespace

int runEval(const Args& args) {
  Flags flags;
  std::vector<std::string> inputs;
  std::string outDir;
  std::string device = "auto";
  int64_t threads = 0;
  bool help = false;
  flags.addStrings("--input,-i", &inputs, "NAME=FILE.npy, one per engine input");
  flags.addString("--out,-o", &outDir, "folder for the outputs (NAME.npy each); created if needed");
  flags.addString("--device", &device, "cpu, cuda or auto (default: cuda when present)");
  flags.addInt("--threads", &threads, 0, 4096, "CPU threads (default: all cores)");
  flags.addBool("--help,-h", &help, "show this help");
  if (Status s = flags.parse(args); !s.ok()) return fail(s);
  if (help) return printHelp("usage: llmc eval ENGINE --input NAME=FILE.npy ... --out DIR", flags.help());
  if (flags.positionals().size() != 1) return fail(InvalidArgument("eval takes one engine file"));
  if (outDir.empty()) return fail(InvalidArgument("--out DIR is required"));
  if (device != "cpu" && device != "cuda" && device != "auto")
    return fail(InvalidArgument("--device: '" + device + "' is not one of cpu, cuda, auto"));
  std::vector<HostTensor> tensors;
  for (const std::string& spec : inputs) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      return fail(InvalidArgument("--input '" + spec + "': expected NAME=FILE.npy"));
    StatusOr<HostTensor> t = readNpy(spec.substr(eq + 1));
    if (!t.ok()) return fail(t.status());
    t->name = spec.substr(0, eq);
    for (const HostTensor& other : tensors)
      if (other.name == t->name) return fail(InvalidArgument("--input '" + t->name + "' given twice"));
    tensors.push_back(std::move(*t));
  }
  auto engine = Engine::load(flags.positionals()[0]);
  if (!engine.ok()) return fail(engine.status());
  auto outs = evalGraph(**engine, tensors, static_cast<int>(threads), device);
  if (!outs.ok()) return fail(outs.status().withPrefix((*engine)->path()));
  if (mkdir(outDir.c_str(), 0777) != 0 && errno != EEXIST)
    return fail(InvalidArgument(outDir + ": cannot create the folder"));
  for (const HostTensor& t : *outs)
    if (Status s = writeNpy(outDir + "/" + fileNameOf(t.name) + ".npy", t); !s.ok()) return fail(s);
  return 0;
}

}  // namespace llmc::cli

// main.cpp - the llmc command: parses the subcommand and hands the rest to it (Commands.h).
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "Commands.h"

namespace {

constexpr const char* kUsage =
    "llmc - an ahead-of-time compiler and runtime for LLMs\n"
    "\n"
    "usage: llmc <command> [options]\n"
    "\n"
    "commands:\n"
    "  build     compile a HuggingFace folder (config.json, *.safetensors, tokenizer.json) or an .onnx file\n"
    "            into an engine (no GPU needed; CUDA kernels for --gpu-arch are compiled in)\n"
    "  run       generate text (or ids) with an engine; without a prompt, an interactive loop on stdin\n"
    "  bench     measure prefill and decode speed against the device's limits\n"
    "  inspect   show what an engine holds: model, weights, program, memory plan, sections\n"
    "  tokenize  encode text to ids (or --decode ids) with a tokenizer folder or an engine\n"
    "  eval      run an engine of named tensors (a non-LLM ONNX graph) on .npy inputs, write .npy outputs\n"
    "\n"
    "`llmc <command> --help` lists each command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    std::printf("%s", kUsage);
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("llmc 0.1.0\n");
    return 0;
  }
  std::string command = argv[1];
  llmc::cli::Args args(argv + 2, argv + argc);
  if (command == "build") return llmc::cli::runBuild(args);
  if (command == "run") return llmc::cli::runRun(args);
  if (command == "bench") return llmc::cli::runBench(args);
  if (command == "inspect") return llmc::cli::runInspect(args);
  if (command == "tokenize") return llmc::cli::runTokenize(args);
  if (command == "eval") return llmc::cli::runEval(args);
  std::fprintf(stderr, "llmc: error: unknown command '%s' (see llmc --help)\n", command.c_str());
  return 2;
}

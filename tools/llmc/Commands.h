// Commands.h - the llmc subcommands; each lives in its own file and returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace llmc::cli {

using Args = std::vector<std::string>;  // the arguments after the subcommand name

int runBuild(const Args& args);
int runRun(const Args& args);
int runBench(const Args& args);
int runInspect(const Args& args);
int runTokenize(const Args& args);
int runEval(const Args& args);

}  // namespace llmc::cli

# lit configuration for llmc's .mlir tests. Owner: mlir.
import os

import lit.formats

config.name = "llmc"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir"]
config.test_source_root = config.llmc_lit_source_root
config.test_exec_root = config.llmc_lit_exec_root
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py.in", "Inputs"]

# llmc-opt first, then FileCheck / not from LLVM 19, then the usual PATH.
path = [os.path.dirname(config.llmc_opt), config.llvm_tools_dir, os.environ.get("PATH", "")]
config.environment["PATH"] = os.pathsep.join(path)

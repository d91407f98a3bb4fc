//===- WeightPlan.h - the weights an engine must contain --------*- C++ -*-===//
//
// Owned by the compiler (cc). An MLIR-free description of the module's weight symbols
// (llm.weight / llm.weight_concat / llm.weight_transpose), extracted by ProgramEmitter and
// consumed by the EngineWriter, which materialises the `emitted` ones in order.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/runtime/EngineFormat.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace llmc::codegen {

struct WeightDef {
  enum class Kind { kSource, kConcat, kTranspose };
  Kind kind = Kind::kSource;
  std::string symbol;                 // IR symbol name (without '@')
  std::string source;                 // kSource: the checkpoint tensor name
  std::vector<std::string> operands;  // kConcat: part symbols; kTranspose: {input symbol}
  int64_t axis = 0;                   // kConcat
  engine::DType dtype = engine::DType::kF32;
  std::vector<int64_t> shape;

  // Name in the engine's weight table: a source weight keeps its checkpoint name (readable in
  // `llmc inspect`); a derived one is named by its symbol.
  const std::string &tableName() const { return kind == Kind::kSource ? source : symbol; }
  uint64_t numElements() const {
    uint64_t n = 1;
    for (int64_t d : shape)
      n *= static_cast<uint64_t>(d);
    return n;
  }
  uint64_t nbytes() const { return numElements() * engine::dtypeBytes(dtype); }
};

struct WeightPlan {
  std::map<std::string, WeightDef> defs;  // every weight symbol of the module, by symbol
  std::vector<std::string> emitted;       // symbols referenced by the program, first use first

  const WeightDef *find(const std::string &symbol) const {
    auto it = defs.find(symbol);
    return it == defs.end() ? nullptr : &it->second;
  }
};

}  // namespace llmc::codegen

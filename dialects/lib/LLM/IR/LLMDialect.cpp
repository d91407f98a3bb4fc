//===- LLMDialect.cpp - the llm dialect ------------------------------------===//
//
// Registers the llm ops with the dialect. Owner: mlir.
//
//===----------------------------------------------------------------------===//

#include "llmc/Dialect/LLM/IR/LLMDialect.h"
#include "llmc/Dialect/LLM/IR/LLMOps.h"

using namespace mlir;
using namespace llmc::llm;

#include "llmc/Dialect/LLM/IR/LLMDialect.cpp.inc"

void LLMDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "llmc/Dialect/LLM/IR/LLMOps.cpp.inc"
      >();
}

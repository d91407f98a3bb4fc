//===- LLMDialect.h - the llm dialect -----------------------------*- C++ -*-===//
//
// Declares the `llm` dialect (ODS: LLMBase.td). Ops are in LLMOps.h. Owner: mlir.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECT_LLM_IR_LLMDIALECT_H
#define LLMC_DIALECT_LLM_IR_LLMDIALECT_H

#include "mlir/IR/Dialect.h"

#include "llmc/Dialect/LLM/IR/LLMDialect.h.inc"

#endif // LLMC_DIALECT_LLM_IR_LLMDIALECT_H

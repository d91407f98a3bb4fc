//===- OnnxEmitUtil.h - building generic llm ops with derived types -*- C++ -*-===//
//
// Owner: onnx. Internal to compiler/import/onnx. Converters that decompose an ONNX op
// (RMSNormalization, RotaryEmbedding, Gemm, ...) create intermediate values whose types the
// probes do not give; these helpers derive them (`?` is T, and broadcasting ? with 1 gives ?).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

#include <string>
#include <vector>

namespace llmc::onnx_import {

mlir::RankedTensorType typeOfValue(mlir::Value v);
// Broadcast result shape of two types (numpy rules; `?` is T).
std::vector<int64_t> broadcastDims(mlir::RankedTensorType a, mlir::RankedTensorType b);

mlir::Value emitBinary(mlir::OpBuilder &b, mlir::Location loc, const std::string &fn,
                       mlir::Value lhs, mlir::Value rhs);
mlir::Value emitUnary(mlir::OpBuilder &b, mlir::Location loc, const std::string &fn,
                      mlir::Value x);
// A rank-0 constant of `elemType` (a float or integer type).
mlir::Value emitScalar(mlir::OpBuilder &b, mlir::Location loc, double value, mlir::Type elemType);
mlir::Value emitReshape(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                        const std::vector<int64_t> &shape);
mlir::Value emitTranspose(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                          const std::vector<int64_t> &perm);
// x[..., start:end, ...] along `axis` with static bounds inside a static dimension.
mlir::Value emitSlice(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x, int64_t axis,
                      int64_t start, int64_t end);
mlir::Value emitConcat(mlir::OpBuilder &b, mlir::Location loc, const std::vector<mlir::Value> &xs,
                       int64_t axis);
// mean over the given (non-negative) axes, keepdims.
mlir::Value emitReduce(mlir::OpBuilder &b, mlir::Location loc, const std::string &fn,
                       mlir::Value x, const std::vector<int64_t> &axes);

}  // namespace llmc::onnx_import

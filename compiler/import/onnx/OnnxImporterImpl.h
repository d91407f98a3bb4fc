//===- OnnxImporterImpl.h - the ONNX importer's state -----------*- C++ -*-===//
//
// Owner: onnx. Internal to compiler/import/onnx. The importer works in two passes over the
// (topologically sorted) graph:
//
//  1. probe: every node's converter evaluates shapes, and values where all inputs are known, at
//     kNumProbes sequence lengths. A value known at every probe depends only on T and constants
//     ("symbol-only"): shape vectors, positions, masks, RoPE tables. Everything else is data.
//  2. emit: nodes producing data are emitted as generic llm ops in order. Symbol-only operands
//     are materialised on demand in a canonical form when one fits (constant, weight,
//     affine_ints, positions, causal_mask, fill), else by emitting their producer node.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "OnnxConverter.h"
#include "OnnxModel.h"

#include "llmc/runtime/EngineFormat.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace llmc::onnx_import {

class OnnxImporterImpl {
 public:
  OnnxImporterImpl(mlir::MLIRContext &ctx, const OnnxModel &model, engine::DType dtype);

  StatusOr<mlir::OwningOpRef<mlir::ModuleOp>> run();

  // --- used by EmitCtx ------------------------------------------------------------------------
  // Value `name` as IR. `forData`: the consumer computes on model data, so a float initializer
  // with more than one element becomes a weight symbol rather than an inline constant.
  StatusOr<mlir::Value> materialize(const std::string &name, bool forData);
  const ProbeValue &probe(const std::string &name, int p) const;
  StatusOr<mlir::RankedTensorType> typeOf(const std::string &name, const std::string &where) const;
  StatusOr<std::vector<Affine>> affineOf(const std::string &name, const std::string &where) const;
  StatusOr<mlir::Type> elemType(int32_t dtype, const std::string &where) const;
  void setEmitted(const std::string &name, mlir::Value v) { emitted_[name] = v; }
  bool isDataNode(const onnx::NodeProto &n) const;
  std::string nodeWhere(const onnx::NodeProto &n) const;

 private:
  struct ValueState {
    ProbeValue probes[kNumProbes];
    int producer = -1;  // node index, -1 for inputs and initializers
    const InitializerData *init = nullptr;
    bool isGraphInput = false;
  };
  struct NodePlan {
    const OpConverter *conv = nullptr;
    int64_t since = 0;
  };

  Status checkSupported();
  Status classifyInputs();
  // Graphs that are not token LMs (OnnxTensorGraph.cpp): static-shaped named inputs and outputs.
  bool isTensorGraph() const;
  Status classifyTensorInputs();
  StatusOr<mlir::OwningOpRef<mlir::ModuleOp>> runTensorGraph();
  // KV-cache exports (OnnxKvCache.cpp): past_key_values.* inputs are bound to an empty past, so
  // Concat(past, new) is the new keys/values and the graph is the no-cache one; present.* outputs
  // are checked to be exactly what the runtime's cache holds and dropped.
  static bool isPastName(const std::string &name);
  Status classifyPastInput(const onnx::ValueInfoProto &v);
  void bindPastProbe(const std::string &name, ProbeValue &pv) const;
  Status checkKvCache();  // sets logitsName_, kvKeep_, droppedNodes_
  // The last k positions of the past axis (Slice with constant starts [-k], ends to the end,
  // axes [2]): k, else 0.
  int64_t tailSliceKeep(const onnx::NodeProto &n) const;
  // Presents that keep only the last kvKeep_ positions are exact only under a sliding window of
  // at most kvKeep_ + 1 (checked on the emitted masks).
  Status checkKvWindow(mlir::Operation *func) const;
  Status probeAll();
  Status checkValueInfo() const;
  Status emitNode(int idx);
  StatusOr<mlir::Value> canonical(const std::string &name, const ValueState &vs, bool &found);
  StatusOr<mlir::Value> weightValue(const std::string &name, const InitializerData &d);
  StatusOr<mlir::Value> constant(const eval::Tensor &t, mlir::RankedTensorType type);
  bool allData(const ValueState &vs) const;

  mlir::MLIRContext &ctx_;
  const OnnxModel &model_;
  engine::DType dtype_;
  mlir::OpBuilder b_;
  mlir::Location loc_;
  mlir::ModuleOp module_;
  mlir::Value ids_;            // %ids: tensor<?xi32>
  std::string idsName_;        // the ONNX token-id input
  bool tensorMode_ = false;    // a tensor graph: tensorInputs_ are @forward's arguments
  std::vector<std::string> tensorInputs_;
  std::string logitsName_;     // the graph output returned by @forward
  struct PastInput {
    bool isKey = false;
    int32_t dtype = 0;
    int64_t kvHeads = 0, headDim = 0;
  };
  std::map<std::string, PastInput> past_;  // KV-cache inputs, by name
  int64_t kvKeep_ = 0;                     // > 0: the presents keep the last kvKeep_ positions
  std::set<int> droppedNodes_;             // nodes that only compute dropped present outputs
  int32_t idsType_ = 0;
  std::map<std::string, ValueState> values_;
  std::vector<NodePlan> plan_;
  std::map<std::string, mlir::Value> emitted_;         // data values and node outputs
  std::map<std::string, mlir::Value> emittedConst_;    // initializers as inline constants
  std::map<std::string, mlir::FlatSymbolRefAttr> weights_;  // initializer -> symbol
  std::set<std::string> symbolNames_;
  std::map<std::string, eval::Tensor> initCache_;
};

}  // namespace llmc::onnx_import

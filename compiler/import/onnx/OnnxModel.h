//===- OnnxModel.h - an ONNX ModelProto, validated, with its tensors -*- C++ -*-===//
//
// Owner: onnx. Internal to compiler/import/onnx. OnnxModel owns the parsed ModelProto (the .onnx
// file is mapped and parsed in place) and read-only mappings of the external-data files its
// initializers point to. It answers initializer lookups with where the bytes are, without
// copying them: a raw_data string inside the proto, a typed repeated field, or a range of an
// external file. It implements codegen::WeightProvider, so the engine writer streams weights
// from it exactly as from safetensors.
//
// Validation on open (each failure is one Status naming the file): the protobuf parses, there is
// a graph with nodes and outputs, the default-domain opset is known, every node input is defined
// before use, and every initializer's data is present with the size its shape implies (external
// data: location inside the model's folder, offset + length inside the file).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/Codegen/WeightProvider.h"
#include "llmc/Compiler/Support/MappedFile.h"
#include "llmc/Passes/Raising/EvalTensor.h"
#include "llmc/runtime/Status.h"

#include "onnx/onnx_pb.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace llmc::onnx_import {

// The newest default-domain opset whose operator versions llmc knows (docs/onnx.md).
constexpr int64_t kMaxKnownOpset = 25;
constexpr int64_t kMinSupportedOpset = 13;

// ONNX TensorProto.DataType values used here.
enum OnnxType : int32_t {
  kOnnxFloat = 1, kOnnxUint8 = 2, kOnnxInt8 = 3, kOnnxInt32 = 6, kOnnxInt64 = 7, kOnnxBool = 9,
  kOnnxFloat16 = 10, kOnnxDouble = 11, kOnnxBFloat16 = 16, kOnnxUint16 = 4, kOnnxInt16 = 5,
  kOnnxUint32 = 12, kOnnxUint64 = 13,
};
const char *onnxTypeName(int32_t t);
// Bytes per element, 0 for types llmc does not read.
size_t onnxTypeBytes(int32_t t);
bool isOnnxFloatType(int32_t t);

// Where an initializer's bytes are.
struct InitializerData {
  const onnx::TensorProto *proto = nullptr;
  int32_t dtype = 0;
  std::vector<int64_t> shape;
  const uint8_t *bytes = nullptr;  // little-endian packed elements; null for typed-field storage
  uint64_t nbytes = 0;
  std::string file;                // the .onnx or the external data file (messages)
  int64_t numel() const;
};

class OnnxModel final : public codegen::WeightProvider {
 public:
  static StatusOr<std::unique_ptr<OnnxModel>> open(const std::string &path);

  const std::string &path() const { return path_; }
  const onnx::ModelProto &proto() const { return model_; }
  const onnx::GraphProto &graph() const { return model_.graph(); }
  // Opset of `domain` ("" and "ai.onnx" are the default domain), or -1 when not imported.
  int64_t opset(const std::string &domain) const;

  const InitializerData *initializer(const std::string &name) const;
  const std::map<std::string, InitializerData> &initializers() const { return inits_; }

  // The whole tensor as an eval::Tensor (small tensors: constants, shape operands). Errors on
  // unsupported element types.
  StatusOr<eval::Tensor> readTensor(const InitializerData &d) const;

  // codegen::WeightProvider: F32/F16/BF16 initializers by name.
  StatusOr<codegen::TensorView> tensor(const std::string &name) const override;
  void release(const std::string &name) const override;
  // The float dtype holding most initializer bytes (F32 when there are none).
  codegen::SourceDType predominantDType() const;

 private:
  OnnxModel() = default;
  Status validate();
  Status indexInitializer(const onnx::TensorProto &t);
  StatusOr<const MappedFile *> externalFile(const std::string &location);

  std::string path_, dir_;
  std::unique_ptr<MappedFile> file_;
  onnx::ModelProto model_;
  std::map<std::string, std::unique_ptr<MappedFile>> external_;
  std::map<std::string, InitializerData> inits_;
  // Typed-field tensors (float_data, int32_data holding f16/bf16) converted on demand.
  mutable std::mutex convertedMu_;
  mutable std::map<std::string, std::vector<uint8_t>> converted_;
};

// Reads an ONNX tensor attribute / Constant value (never external) into an eval::Tensor.
StatusOr<eval::Tensor> tensorFromProto(const onnx::TensorProto &t, const std::string &where);

}  // namespace llmc::onnx_import

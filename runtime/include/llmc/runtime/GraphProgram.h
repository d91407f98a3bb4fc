// GraphProgram.h - the engine's `graph` section parsed: a program of generic N-d tensor ops.
//
// An engine holds a graph program instead of the per-token `program` when the compiler could not
// raise the model to the per-token form (docs/graph-program.md). Values are N-d tensors of any
// element type; a shape entry of -1 is T (a token LM: the length of the whole sequence). The CPU
// backend interprets it (runtime/backends/cpu/graph). Two kinds:
//   kTokenLM: one input, the token ids [T] i32; one output whose last row of `vocab_size` numbers
//             is the next token's logits. Every step recomputes the whole sequence (no KV cache).
//   kTensors: named inputs and outputs of static shapes (`llmc eval`), e.g. an ONNX node test.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llmc {

// Element types of graph values; names as in the JSON ("f32", "u8", "bool", ...).
enum class GType : uint8_t { kF32, kF16, kBF16, kF64, kI8, kI16, kI32, kI64, kU8, kU16, kU32, kU64, kBool };
const char* gtypeName(GType t);
bool parseGType(const std::string& name, GType* out);
bool gtypeIsFloat(GType t);
size_t gtypeBytes(GType t);

enum class GOp {
  kConstant, kWeightValue, kPositions, kAffineInts, kCausalMask,
  kUnary, kBinary, kWhere, kCast, kMatMul, kReduce, kSoftmax, kCumSum, kSdpa,
  kReshape, kTranspose, kExpand, kSlice, kConcat, kGather, kGatherND, kRange, kTrilu,
};
const char* gopName(GOp op);

struct GraphValue {
  GType type = GType::kF32;
  std::vector<int64_t> shape;  // -1 = T
};

struct GraphOp {
  GOp op = GOp::kConstant;
  std::vector<int> in;
  int out = -1;
  std::string fn;                 // unary / binary / reduce function
  std::vector<int64_t> ints;      // reduce axes, transpose perm, affine scale
  std::vector<int64_t> ints2;     // affine offset
  std::vector<int64_t> starts, ends, axes, steps;  // slice
  int64_t axis = 0;               // softmax, cumsum, concat, gather; gather_nd batch_dims; trilu k
  bool flag = false;              // reduce keepdims, cumsum exclusive, trilu upper, sdpa is_causal
  bool flag2 = false;             // cumsum reverse
  int64_t window = 0;             // causal_mask sliding_window
  double number = 0;              // sdpa scale, causal_mask masked_value
  int weight = -1;                // weight_value: index into Engine::weights()
  std::vector<uint8_t> data;      // constant: little-endian elements of the output's type
};

struct GraphIO {
  std::string name;
  int value = -1;
};

enum class GraphKind { kTokenLM, kTensors };

struct GraphProgram {
  GraphKind kind = GraphKind::kTokenLM;
  std::vector<GraphIO> inputs;
  std::vector<GraphIO> outputs;
  std::vector<GraphValue> values;
  std::vector<GraphOp> ops;
};

}  // namespace llmc

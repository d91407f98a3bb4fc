//===- LLMGenericOps.td - generic N-d tensor ops of the llm dialect -*- tablegen -*-===//
//
// Owner: onnx. The generic tensor vocabulary the ONNX importer produces (docs/onnx.md): N-d
// tensors of any element type, static dims where known and `?` for the step's token count T
// (in generic ops every `?` dimension is T). The raising passes (passes/Raising) turn the
// patterns they recognise into the per-token ops of LLMOps.td; a model whose generic ops are
// all raised runs on the existing runtime. Included by LLMOps.td.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECT_LLM_IR_LLMGENERICOPS_TD
#define LLMC_DIALECT_LLM_IR_LLMGENERICOPS_TD

include "llmc/Dialect/LLM/IR/LLMBase.td"
include "mlir/IR/SymbolInterfaces.td"

class LLM_GenericOp<string mnemonic, list<Trait> traits = []>
    : LLM_Op<mnemonic, !listconcat(traits, [Pure])>;

//===----------------------------------------------------------------------===//
// Leaves: constants, weights, positions, masks
//===----------------------------------------------------------------------===//

def LLM_ConstantOp : LLM_GenericOp<"constant"> {
  let summary = "a small constant tensor (never a weight)";
  let description = [{
    Folded shape values, scalars, frequencies. Weights are `llm.weight_value` of a symbol.

    ```mlir
    %c = llm.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "attr-dict `:` type($output)";
  let hasVerifier = 1;
}

def LLM_WeightValueOp : LLM_GenericOp<"weight_value",
    [DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "the value of a weight symbol as a tensor";
  let description = [{
    The data stays in the checkpoint; raising turns uses of it into ops that name the symbol
    (`llm.linear {weight = @w}`), so no generic op survives that needs the data in the IR.

    ```mlir
    %w = llm.weight_value {weight = @val_104} : tensor<64x64xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$weight);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "attr-dict `:` type($output)";
}

def LLM_PositionsOp : LLM_GenericOp<"positions"> {
  let summary = "absolute position of each token of the step: [T] i64";
  let description = [{
    For a prompt processed from its start this is `0, 1, ..., T-1` (ONNX `Range(0, T, 1)`); in
    the per-token form positions are implicit in `llm.rope` and `llm.attention`.

    ```mlir
    %p = llm.positions : tensor<?xi64>
    ```
  }];
  let results = (outs 1DTensorOf<[I64]>:$output);
  let assemblyFormat = "attr-dict `:` type($output)";
}

def LLM_AffineIntsOp : LLM_GenericOp<"affine_ints"> {
  let summary = "integers that depend on T: element j = scale[j] * T + offset[j]";
  let description = [{
    A folded shape value that mentions the token count (ONNX `Shape` of a `[1, T]` input is
    `scale = [0, 1], offset = [1, 0]`).

    ```mlir
    %s = llm.affine_ints {scale = array<i64: 0, 1>, offset = array<i64: 1, 0>} : tensor<2xi64>
    ```
  }];
  let arguments = (ins DenseI64ArrayAttr:$scale, DenseI64ArrayAttr:$offset);
  let results = (outs TensorOf<[I64]>:$output);
  let assemblyFormat = "attr-dict `:` type($output)";
  let hasVerifier = 1;
}

def LLM_CausalMaskOp : LLM_GenericOp<"causal_mask"> {
  let summary = "the causal (optionally sliding-window) attention mask [..., T, T]";
  let description = [{
    Query row `i` may attend to key column `j` iff `j <= i` and, with `sliding_window = W > 0`,
    `i - j < W`. An `i1` result is true where attention is allowed; a float result is `0` where
    allowed and `masked_value` elsewhere (an additive mask). Leading dimensions are 1.

    ```mlir
    %m = llm.causal_mask {masked_value = 0xFF800000 : f32} : tensor<1x1x?x?xf32>
    ```
  }];
  let arguments = (ins DefaultValuedAttr<I64Attr, "0">:$sliding_window,
                       OptionalAttr<F32Attr>:$masked_value);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "attr-dict `:` type($output)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise (numpy broadcasting)
//===----------------------------------------------------------------------===//

def LLM_ElemUnaryOp : LLM_GenericOp<"unary"> {
  let summary = "elementwise unary function";
  let description = [{
    `fn` is one of neg, sqrt, reciprocal, exp, log, sigmoid, tanh, erf, cos, sin, abs, relu,
    not, isnan, isinf, floor, ceil, identity. isnan/isinf give i1.

    ```mlir
    %y = llm.unary "sigmoid" %x : tensor<1x?x96xf32> -> tensor<1x?x96xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, StrAttr:$fn);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$fn $input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def LLM_ElemBinaryOp : LLM_GenericOp<"binary"> {
  let summary = "elementwise binary function with numpy broadcasting";
  let description = [{
    `fn` is one of add, sub, mul, div, pow, max, min, mod, and, or, xor, eq, lt, le, gt, ge.
    Comparisons give i1. `mod` takes the divisor's sign for integers (ONNX Mod fmod=0) and is C
    fmod for floats (fmod=1).

    ```mlir
    %y = llm.binary "mul" %x, %s : tensor<1x?x64xf32>, tensor<1x?x1xf32> -> tensor<1x?x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs, StrAttr:$fn);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$fn $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($output)";
  let hasVerifier = 1;
}

def LLM_WhereOp : LLM_GenericOp<"where"> {
  let summary = "select(cond, lhs, rhs) with broadcasting";
  let description = [{
    ```mlir
    %y = llm.where %c, %a, %b : tensor<1x1x?x?xi1>, tensor<f32>, tensor<f32> -> tensor<1x1x?x?xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$cond, AnyRankedTensor:$lhs, AnyRankedTensor:$rhs);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = [{
    $cond `,` $lhs `,` $rhs attr-dict `:` type($cond) `,` type($lhs) `,` type($rhs) `->` type($output)
  }];
}

def LLM_CastOp : LLM_GenericOp<"cast"> {
  let summary = "element type conversion (float -> int truncates)";
  let description = [{
    ```mlir
    %y = llm.cast %x : tensor<?xi64> -> tensor<?xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Linear algebra, reductions
//===----------------------------------------------------------------------===//

def LLM_MatMulOp : LLM_GenericOp<"matmul"> {
  let summary = "numpy matmul (batched, broadcasting batch dimensions)";
  let description = [{
    ```mlir
    %y = llm.matmul %x, %w : tensor<1x?x64xf32>, tensor<64x96xf32> -> tensor<1x?x96xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($output)";
}

def LLM_ReduceOp : LLM_GenericOp<"reduce"> {
  let summary = "reduction (mean, sum, max, min, prod) over axes";
  let description = [{
    ```mlir
    %m = llm.reduce "mean" %x {axes = array<i64: 2>, keepdims = true}
        : tensor<1x?x64xf32> -> tensor<1x?x1xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, StrAttr:$fn, DenseI64ArrayAttr:$axes,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$fn $input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def LLM_SoftmaxOp : LLM_GenericOp<"softmax"> {
  let summary = "softmax along one axis";
  let description = [{
    ```mlir
    %p = llm.softmax %s {axis = 3 : i64} : tensor<1x4x?x?xf32> -> tensor<1x4x?x?xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$axis);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def LLM_CumSumOp : LLM_GenericOp<"cumsum"> {
  let summary = "cumulative sum along an axis (ONNX CumSum)";
  let description = [{
    ```mlir
    %c = llm.cumsum %x {axis = 1 : i64} : tensor<1x?xi64> -> tensor<1x?xi64>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "false">:$exclusive,
                       DefaultValuedAttr<BoolAttr, "false">:$reverse);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

def LLM_SdpaOp : LLM_GenericOp<"sdpa"> {
  let summary = "scaled dot-product attention on [B, H, S, D] tensors (no cache)";
  let description = [{
    `softmax(q · kᵀ · scale + mask) · v` over the whole sequence; `k`, `v` may have fewer heads
    than `q` (grouped: query head h uses kv head h / (H / Hkv)). `mask` is boolean (true =
    attend) or additive; `is_causal` adds the causal mask. Produced by the importer (ONNX
    Attention) or `llmc-raise-sdpa`; `llmc-raise-attention` turns it into `llm.attention`.

    ```mlir
    %o = llm.sdpa %q, %k, %v, %m {scale = 0.25 : f32}
        : tensor<1x4x?x16xf32>, tensor<1x4x?x16xf32>, tensor<1x4x?x16xf32>, tensor<1x1x?x?xi1>
        -> tensor<1x4x?x16xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$q, AnyRankedTensor:$k, AnyRankedTensor:$v,
                       Optional<AnyRankedTensor>:$mask, F32Attr:$scale,
                       DefaultValuedAttr<BoolAttr, "false">:$is_causal);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = [{
    $q `,` $k `,` $v (`,` $mask^)? attr-dict `:` type($q) `,` type($k) `,` type($v)
    (`,` type($mask)^)? `->` type($output)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def LLM_ReshapeOp : LLM_GenericOp<"reshape"> {
  let summary = "reshape to the result type (row-major order kept)";
  let description = [{
    The result type is the new shape; a `?` dimension is T. Reshapes of reshapes fold.

    ```mlir
    %y = llm.reshape %x : tensor<1x?x64xf32> -> tensor<1x?x4x16xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasFolder = 1;
}

def LLM_TransposeOp : LLM_GenericOp<"transpose"> {
  let summary = "permute dimensions: result dim k is input dim perm[k]";
  let description = [{
    ```mlir
    %y = llm.transpose %x {perm = array<i64: 0, 2, 1, 3>} : tensor<1x?x4x16xf32> -> tensor<1x4x?x16xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def LLM_ExpandOp : LLM_GenericOp<"expand"> {
  let summary = "broadcast to the result type (ONNX Expand)";
  let description = [{
    ```mlir
    %y = llm.expand %x : tensor<1x2x1x?x16xf32> -> tensor<1x2x2x?x16xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasFolder = 1;
}

def LLM_SliceOp : LLM_GenericOp<"slice"> {
  let summary = "strided slice with ONNX semantics (negative = from the end, clamped)";
  let description = [{
    For each listed axis, `[starts, ends)` with `steps`; negative values count from the end of
    the dimension at run time (so `starts = [-1]` on the T axis is the last token), values past
    the end clamp.

    ```mlir
    %y = llm.slice %x {axes = array<i64: 3>, starts = array<i64: 8>, ends = array<i64: 16>,
                       steps = array<i64: 1>} : tensor<1x4x?x16xf32> -> tensor<1x4x?x8xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$starts,
                       DenseI64ArrayAttr:$ends, DenseI64ArrayAttr:$axes,
                       DenseI64ArrayAttr:$steps);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def LLM_ConcatOp : LLM_GenericOp<"concat"> {
  let summary = "concatenation along an axis";
  let description = [{
    ```mlir
    %y = llm.concat %a, %b {axis = 3 : i64} : tensor<1x4x?x8xf32>, tensor<1x4x?x8xf32> -> tensor<1x4x?x16xf32>
    ```
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs, I64Attr:$axis);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($output)";
}

def LLM_GatherOp : LLM_GenericOp<"gather"> {
  let summary = "ONNX Gather: index one axis of data with an index tensor";
  let description = [{
    ```mlir
    %x = llm.gather %table, %ids {axis = 0 : i64} : tensor<320x64xf32>, tensor<1x?xi64> -> tensor<1x?x64xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$data, AnyRankedTensor:$indices, I64Attr:$axis);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$data `,` $indices attr-dict `:` type($data) `,` type($indices) `->` type($output)";
}

def LLM_GatherNDOp : LLM_GenericOp<"gather_nd"> {
  let summary = "ONNX GatherND";
  let description = [{
    ```mlir
    %y = llm.gather_nd %d, %i {batch_dims = 0 : i64} : tensor<1x?xi64>, tensor<?x?x2xi64> -> tensor<?x?xi64>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$data, AnyRankedTensor:$indices, I64Attr:$batch_dims);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$data `,` $indices attr-dict `:` type($data) `,` type($indices) `->` type($output)";
}

def LLM_RangeOp : LLM_GenericOp<"range"> {
  let summary = "ONNX Range(start, limit, delta) of scalars";
  let description = [{
    ```mlir
    %r = llm.range %s, %l, %d : tensor<i64>, tensor<i64>, tensor<i64> -> tensor<?xi64>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$start, AnyRankedTensor:$limit, AnyRankedTensor:$delta);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = [{
    $start `,` $limit `,` $delta attr-dict `:` type($start) `,` type($limit) `,` type($delta) `->` type($output)
  }];
}

def LLM_TriluOp : LLM_GenericOp<"trilu"> {
  let summary = "ONNX Trilu: keep the upper or lower triangle of the last two dims";
  let description = [{
    ```mlir
    %y = llm.trilu %x {upper = true, k = 1 : i64} : tensor<?x?xf32> -> tensor<?x?xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, BoolAttr:$upper, I64Attr:$k);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
}

#endif // LLMC_DIALECT_LLM_IR_LLMGENERICOPS_TD

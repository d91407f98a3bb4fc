//===- OnnxAttentionOps.cpp - Attention (23) and RotaryEmbedding (23) -----===//
//
// Owner: onnx. Attention becomes llm.sdpa on [B, H, S, D] tensors (3-D inputs are split into
// heads first); RotaryEmbedding becomes HF's rotate-half form
//   y = x * concat(cos, cos) + concat(-x2, x1) * concat(sin, sin)
// so that the opset-18 and opset-23 exports reach llmc-raise-rope in the same shape.
// past_key/past_value must be KV-cache graph inputs, which the importer binds to an empty past
// (OnnxKvCache.cpp): the present outputs are then the new K and V in [B, Hkv, S, D].
// Not supported (clear errors): nonpad_kv_seqlen, the qk_matmul_output output, softcap,
// interleaved rotary embedding.
//
//===----------------------------------------------------------------------===//
#include "OnnxConverter.h"
#include "OnnxEmitUtil.h"
#include "OnnxModel.h"

#include "llmc/Dialect/LLM/IR/LLMOps.h"

#include <cmath>

namespace llmc::onnx_import {
namespace {

using mlir::ShapedType;
using mlir::Value;

Status attentionEval(EvalCtx &c) {
  if (c.present(6))
    return c.unsupported("nonpad_kv_seqlen input");
  if (c.present(4) != c.present(5))
    return c.fail("past_key and past_value must be given together");
  for (size_t k : {4, 5})
    if (c.present(k) && (c.input(k).shape.size() != 4 || c.input(k).shape[2] != 0))
      return c.unsupported("past_key/past_value must be KV-cache graph inputs "
                           "(past_key_values.N.key/value), which llmc maps onto its own cache");
  if (c.node.output_size() > 3 && !c.node.output(3).empty())
    return c.unsupported("qk_matmul_output output");
  if (c.attr.f("softcap", 0.0f) != 0.0f)
    return c.unsupported("softcap");
  // Opset 25's attention windows are not implemented: refused rather than ignored.
  if (c.attr.i("left_window_size", -1) != -1 || c.attr.i("right_window_size", -1) != -1)
    return c.unsupported("left_window_size/right_window_size");
  const ProbeValue &q = c.input(0), &k = c.input(1), &v = c.input(2);
  // present_key/value: the new K, V as heads [B, Hkv, S, D] (the past is empty).
  std::vector<int64_t> pk = k.shape, pv = v.shape;
  if (q.shape.size() == 4 && v.shape.size() == 4) {
    c.setShape(0, q.dtype, {q.shape[0], q.shape[1], q.shape[2], v.shape[3]});
  } else if (q.shape.size() == 3 && v.shape.size() == 3) {
    const int64_t hq = c.attr.i("q_num_heads", 0), hkv = c.attr.i("kv_num_heads", 0);
    if (hq <= 0 || hkv <= 0)
      return c.fail("3-D Attention needs q_num_heads and kv_num_heads");
    c.setShape(0, q.dtype, {q.shape[0], q.shape[1], hq * (v.shape[2] / hkv)});
    pk = {k.shape[0], hkv, k.shape[1], k.shape[2] / hkv};
    pv = {v.shape[0], hkv, v.shape[1], v.shape[2] / hkv};
  } else {
    return c.fail("Attention inputs must all be 3-D or all be 4-D");
  }
  if (c.node.output_size() > 1 && !c.node.output(1).empty())
    c.setShape(1, k.dtype, pk);
  if (c.node.output_size() > 2 && !c.node.output(2).empty())
    c.setShape(2, v.dtype, pv);
  return Status::Ok();
}

// [B, S, H*D] -> [B, H, S, D]
Value toHeads(EmitCtx &c, Value x, int64_t heads) {
  auto t = typeOfValue(x);
  const int64_t d = t.getDimSize(2) / heads;
  Value r = emitReshape(c.b, c.loc, x, {t.getDimSize(0), t.getDimSize(1), heads, d});
  return emitTranspose(c.b, c.loc, r, {0, 2, 1, 3});
}

Status attentionEmit(EmitCtx &c) {
  LLMC_ASSIGN_OR_RETURN(Value q, c.in(0));
  LLMC_ASSIGN_OR_RETURN(Value k, c.in(1));
  LLMC_ASSIGN_OR_RETURN(Value v, c.in(2));
  const bool threeD = typeOfValue(q).getRank() == 3;
  if (threeD) {
    const int64_t hq = c.attr.i("q_num_heads", 0), hkv = c.attr.i("kv_num_heads", 0);
    q = toHeads(c, q, hq);
    k = toHeads(c, k, hkv);
    v = toHeads(c, v, hkv);
  }
  for (int o : {1, 2})
    if (c.node.output_size() > o && !c.node.output(o).empty())
      c.set(o, o == 1 ? k : v);
  Value mask;
  if (c.present(3)) {
    LLMC_ASSIGN_OR_RETURN(mask, c.in(3));
  }
  const int64_t headDim = typeOfValue(q).getDimSize(3);
  float scale = c.attr.has("scale") ? c.attr.f("scale", 1.0f)
                                    : static_cast<float>(1.0 / std::sqrt(static_cast<double>(headDim)));
  auto qt = typeOfValue(q), vt = typeOfValue(v);
  auto outType = mlir::RankedTensorType::get(
      {qt.getDimSize(0), qt.getDimSize(1), qt.getDimSize(2), vt.getDimSize(3)}, qt.getElementType());
  Value y = c.b.create<llm::SdpaOp>(c.loc, outType, q, k, v, mask, c.b.getF32FloatAttr(scale),
                                    c.b.getBoolAttr(c.attr.i("is_causal", 0) != 0));
  if (threeD) {
    y = emitTranspose(c.b, c.loc, y, {0, 2, 1, 3});
    LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType t, c.outType(0));
    y = emitReshape(c.b, c.loc, y, std::vector<int64_t>(t.getShape().begin(), t.getShape().end()));
  }
  c.set(0, y);
  return Status::Ok();
}

Status rotaryEval(EvalCtx &c) {
  if (c.attr.i("interleaved", 0) != 0)
    return c.unsupported("interleaved rotary embedding");
  c.setShape(0, c.input(0).dtype, c.input(0).shape);
  return Status::Ok();
}

Status rotaryEmit(EmitCtx &c) {
  LLMC_ASSIGN_OR_RETURN(Value x, c.in(0));
  LLMC_ASSIGN_OR_RETURN(Value cosT, c.in(1));
  LLMC_ASSIGN_OR_RETURN(Value sinT, c.in(2));
  auto xt0 = typeOfValue(x);
  const bool threeD = xt0.getRank() == 3;
  if (threeD) {
    const int64_t heads = c.attr.i("num_heads", 0);
    if (heads <= 0)
      return c.fail("3-D RotaryEmbedding needs num_heads");
    x = toHeads(c, x, heads);
  } else if (xt0.getRank() != 4) {
    return c.fail("RotaryEmbedding input must be 3-D or 4-D");
  }
  auto xt = typeOfValue(x);  // [B, H, S, D]
  if (c.present(3)) {
    LLMC_ASSIGN_OR_RETURN(Value pos, c.in(3));
    auto gather = [&](Value table) -> Value {
      auto tt = typeOfValue(table), pt = typeOfValue(pos);
      std::vector<int64_t> shape(pt.getShape().begin(), pt.getShape().end());
      shape.push_back(tt.getDimSize(1));
      return c.b.create<llm::GatherOp>(c.loc, mlir::RankedTensorType::get(shape, tt.getElementType()),
                                       table, pos, c.b.getI64IntegerAttr(0));
    };
    cosT = gather(cosT);
    sinT = gather(sinT);
  }
  const int64_t d = xt.getDimSize(3);
  const int64_t half = typeOfValue(cosT).getDimSize(typeOfValue(cosT).getRank() - 1);
  const int64_t rd = c.attr.i("rotary_embedding_dim", 0) > 0 ? c.attr.i("rotary_embedding_dim", 0) : 2 * half;
  if (rd != 2 * half || rd > d || ShapedType::isDynamic(d))
    return c.fail("rotary_embedding_dim does not match the cos/sin cache width");
  // [B, S, rd/2] -> [B, 1, S, rd/2] -> duplicated halves [B, 1, S, rd].
  auto table = [&](Value t) -> Value {
    auto tt = typeOfValue(t);
    Value r = emitReshape(c.b, c.loc, t, {tt.getDimSize(0), 1, tt.getDimSize(1), half});
    return emitConcat(c.b, c.loc, {r, r}, 3);
  };
  Value cosF = table(cosT), sinF = table(sinT);
  Value xr = rd == d ? x : emitSlice(c.b, c.loc, x, 3, 0, rd);
  Value x1 = emitSlice(c.b, c.loc, xr, 3, 0, half), x2 = emitSlice(c.b, c.loc, xr, 3, half, rd);
  Value rotated = emitConcat(c.b, c.loc, {emitUnary(c.b, c.loc, "neg", x2), x1}, 3);
  Value y = emitBinary(c.b, c.loc, "add", emitBinary(c.b, c.loc, "mul", xr, cosF),
                       emitBinary(c.b, c.loc, "mul", rotated, sinF));
  if (rd != d)
    y = emitConcat(c.b, c.loc, {y, emitSlice(c.b, c.loc, x, 3, rd, d)}, 3);
  if (threeD) {
    y = emitTranspose(c.b, c.loc, y, {0, 2, 1, 3});
    y = emitReshape(c.b, c.loc, y,
                    std::vector<int64_t>(xt0.getShape().begin(), xt0.getShape().end()));
  }
  c.set(0, y);
  return Status::Ok();
}

}  // namespace

void registerAttentionOps(OpRegistry &r) {
  r.add(OpConverter{"", "Attention", {23, 24, 25}, 23, attentionEval, attentionEmit});
  r.add(OpConverter{"", "RotaryEmbedding", {23}, 23, rotaryEval, rotaryEmit});
}

}  // namespace llmc::onnx_import

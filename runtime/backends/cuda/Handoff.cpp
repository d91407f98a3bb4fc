// Handoff.cpp - which activations a prefill step may hand to its consumer 16-bit (docs/cuda.md,
// "16-bit hand-off").
//
// Owned by the CUDA backend. Activations are f32 (docs/design.md), but in a prefill step of a
// 16-bit engine most of them only travel from one kernel into a consumer that narrows them at
// once: a norm's output into the cuBLASLt operand cast, the attention output likewise, the GLU
// output likewise, the fused qkv GEMM output into the 16-bit KV cache, the gate/up GEMM output
// into the GLU. Writing such a value 16-bit and reading it so removes the cast passes and halves
// the bytes of the rest (~0.6 GB per Llama-2-7B layer at 2048 tokens). The value keeps its arena
// slot (sized for f32; it uses the first half). A value is handed off 16-bit when
//   * every consumer reads it in a 16-bit-capable slot: a linear's input (as its cuBLASLt
//     operand), qkv_attention's fused row, glu's input;
//   * its producer can write it 16-bit: the normed output of a norm, the output of
//     (qkv_)attention (prefill kernels) or glu, or a bias-free linear (cuBLASLt's output type);
//   * every linear involved has the same 16-bit weight dtype, which is the value's type;
//   * and, per step (CudaBackend::handoffType): the step is not a decode step and the value has
//     more than kMaxGemvRows rows, so every linear involved runs through cuBLASLt (the GEMVs read
//     and write f32).
// Values of decode steps never change type, so the decode graph is unaffected.
#include "CudaBackend.h"

namespace llmc::cuda {

namespace {

bool acceptsHandoff(const Step& s, size_t slot) {
  if (slot != 0) return false;
  return s.op == OpKind::kLinear || s.op == OpKind::kQkvAttention || s.op == OpKind::kGlu;
}

bool producesHandoff(const Step& s, size_t slot) {
  switch (s.op) {
    case OpKind::kRmsNorm:
    case OpKind::kLayerNorm:
      return slot == 0;
    case OpKind::kAddRmsNorm:
      return slot == 1;  // the normed row; the residual sum stays f32
    case OpKind::kAttention:
    case OpKind::kQkvAttention:
    case OpKind::kGlu:
      return slot == 0;
    case OpKind::kLinear:
      return slot == 0 && s.bias < 0;  // cuBLASLt's bias epilogue is kept on f32 outputs
    default:
      return false;
  }
}

}  // namespace

void CudaBackend::planHandoff() {
  const Program& prog = engine_->program();
  handoff_.assign(prog.values.size(), engine::DType::kF32);
  if (!handoffAllowed_) return;
  const auto& infos = engine_->weights();
  std::vector<int> producer(prog.values.size(), -1), producerSlot(prog.values.size(), -1);
  std::vector<std::vector<std::pair<int, size_t>>> consumers(prog.values.size());
  for (size_t i = 0; i < prog.steps.size(); ++i) {
    const Step& s = prog.steps[i];
    for (size_t k = 0; k < s.out.size(); ++k) producer[s.out[k]] = static_cast<int>(i), producerSlot[s.out[k]] = static_cast<int>(k);
    for (size_t k = 0; k < s.in.size(); ++k)
      if (s.in[k] >= 0) consumers[s.in[k]].push_back({static_cast<int>(i), k});
  }
  auto linearType = [&](const Step& s) { return s.weight >= 0 ? infos[s.weight].dtype : engine::DType::kF32; };
  for (size_t v = 0; v < prog.values.size(); ++v) {
    if (static_cast<int>(v) == prog.output || producer[v] < 0 || consumers[v].empty()) continue;
    const Step& p = prog.steps[producer[v]];
    if (!producesHandoff(p, static_cast<size_t>(producerSlot[v]))) continue;
    engine::DType type = engine::DType::kF32;
    bool ok = true;
    auto agree = [&](engine::DType t) {
      if (t == engine::DType::kF32 || (type != engine::DType::kF32 && type != t)) ok = false;
      type = t;
    };
    if (p.op == OpKind::kLinear) {
      // cuBLASLt runs only where the input has as many rows as the output (then both decide alike).
      if (p.in.empty() || p.in[0] < 0 || prog.values[p.in[0]].rows != prog.values[v].rows) continue;
      agree(linearType(p));
    }
    for (const auto& [ci, slot] : consumers[v]) {
      const Step& c = prog.steps[ci];
      if (!acceptsHandoff(c, slot)) ok = false;
      if (c.op == OpKind::kLinear) agree(linearType(c));
      if (c.op == OpKind::kLinear && !c.out.empty() && prog.values[c.out[0]].rows != prog.values[v].rows) ok = false;
      if (c.op == OpKind::kQkvAttention && plan_.kvDtype == engine::DType::kF32) ok = false;
    }
    if (ok && type != engine::DType::kF32) handoff_[v] = type;
  }
}

engine::DType CudaBackend::handoffType(int v, const StepShape& shape) const {
  if (v < 0 || shape.decode || handoff_[v] == engine::DType::kF32) return engine::DType::kF32;
  const Program& prog = engine_->program();
  const int rows = prog.values[v].rows == Rows::kAll ? shape.t : shape.nseq;
  return rows > kMaxGemvRows ? handoff_[v] : engine::DType::kF32;
}

int actTypeCode(engine::DType t) {
  return t == engine::DType::kBF16 ? 1 : t == engine::DType::kF16 ? 2 : 0;  // ActType in common.cuh
}

}  // namespace llmc::cuda

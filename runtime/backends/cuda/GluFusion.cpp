// GluFusion.cpp - decode's gate/up projection and its GLU as one GEMV (docs/cuda.md, "Decode
// fusions").
//
// Owned by the CUDA backend. A gated MLP is `gu = linear(x)` (gate rows, then up rows) followed by
// `h = glu(gu)`. At decode (<= kMaxGemvRows rows) the linear is a GEMV, and the GEMV-GLU kernel
// (gemv.cuh, gemvGluBody) computes each gate row and its up row in one warp and writes h directly:
// gu is never written and the glu launch (plus its launch gap) disappears. The fused result is
// bit-identical to GEMV + glu (the same sums, the same activation code).
//
// Which pairs: findGluFusions() (KernelPlan.h, the planner's rule too: a linear whose only reader
// is the glu right after it), then here the shapes (weight [2I, K], h [., I], equal row kinds) and
// the kernels (engines built before them simply run unfused).
//
// Where h goes: the memory plan makes h live from the glu step on, but the fused kernel writes it
// one step earlier, while the linear's input x is still read. The only value that may share h's
// space at that point is x (every other value live at the linear is still live at the glu, where
// the plan kept h apart from it), and a GEMV's output must not overlap its input (other warps are
// still reading it). When the plan puts h over x, h is relocated for steps that take the fused
// path: into its own region of fusedOut_ (kMaxGemvRows rows), which every reader of h then uses
// (valuePtr). Prefill steps (more rows: cuBLASLt + glu) keep the plan's slot.
#include "CudaBackend.h"

namespace llmc::cuda {

void CudaBackend::planGluFusion(const nlohmann::json& program) {
  const Program& prog = engine_->program();
  relocated_.assign(prog.values.size(), -1);
  fusedOutFloats_ = 0;
  gluPairs_ = 0;
  gluRelocated_ = 0;
  if (!fusedGlu_) return;
  for (const GluFusion& f : findGluFusions(program)) {
    if (f.glu >= static_cast<int>(prepared_.size())) continue;
    Prepared& lp = prepared_[f.linear];
    Prepared& gp = prepared_[f.glu];
    const Step& ls = *lp.step;
    const Step& gs = *gp.step;
    if (ls.op != OpKind::kLinear || gs.op != OpKind::kGlu || ls.in.size() != 1 || ls.in[0] < 0 || ls.out.size() != 1 ||
        gs.in.size() != 1 || gs.out.size() != 1 || gs.in[0] != ls.out[0])
      continue;
    const int x = ls.in[0], gu = ls.out[0], h = gs.out[0];
    const ValueInfo& vx = prog.values[x];
    const ValueInfo& vgu = prog.values[gu];
    const ValueInfo& vh = prog.values[h];
    if (h == prog.output || vgu.width != lp.n || lp.n % 2 != 0 || vh.width * 2 != lp.n || vx.width != lp.k ||
        vx.rows != vgu.rows || vh.rows != vgu.rows)
      continue;
    const int act = gs.attrs.activation == GluActivation::kSilu       ? kGluSilu
                    : gs.attrs.activation == GluActivation::kGeluTanh ? kGluGeluTanh
                                                                      : kGluGelu;
    std::array<cudaKernel_t, kMaxGemvRows + 1> kernels{};
    bool found = true;
    for (int m = 1; m <= kMaxGemvRows && found; ++m) {
      auto k = lib_->get(kernelName({KernelKind::kGemvGlu, lp.wdtype, lp.k, m, act}));
      if (k.ok()) kernels[m] = *k;
      else found = false;
    }
    if (!found) continue;
    lp.gemvGlu = kernels;
    lp.gluOut = h;
    gp.gluFusedAway = true;
    ++gluPairs_;
    const bool overlapsX = vh.offset < vx.offset + vx.width && vx.offset < vh.offset + vh.width;
    if (overlapsX) {
      ++gluRelocated_;
      relocated_[h] = fusedOutFloats_;
      fusedOutFloats_ += (vh.width * kMaxGemvRows + 63) / 64 * 64;  // 256-byte aligned regions
    }
  }
}

int CudaBackend::relocatedGluOutputs() const { return gluRelocated_; }

float* CudaBackend::valuePtr(int v, const StepShape& shape) const {
  const ValueInfo& vi = engine_->program().values[v];
  if (relocated_[v] >= 0) {
    const int rows = vi.rows == Rows::kAll ? shape.t : shape.nseq;
    if (rows <= kMaxGemvRows) return fusedOut_.as<float>() + relocated_[v];
  }
  return arena_.as<float>() + vi.offset * shape.tpad;
}

}  // namespace llmc::cuda

// NormFusion.cpp - decode's residual-add + RMSNorm folded into the GEMVs around it (docs/cuda.md,
// "Decode fusions").
//
// Owned by the CUDA backend. A pre-norm block is `d = linear(x)` (o_proj or down_proj), then
// `s, y = add_rms_norm(d, r)` (s = d + r, the residual stream; y = rms_norm(s) * w), then one or
// more linears reading y (the fused QKV or gate/up projection). At decode batch sizes the norm is
// one block per row: ~7 us on one SM while the rest of the GPU idles, twice per layer. Instead
// (gemv.cuh, GemvNormOut / GemvIn):
//   * the GEMV of d adds r in its epilogue and stores s, y' = s ∘ w, and per block a partial
//     sum of s² per row;
//   * each GEMV reading y reads y', adds the partials up (every block in the same order:
//     deterministic) and multiplies its dot products by rsqrt(sum(s²) / H + eps), a scalar per
//     row, before its bias.
// The add_rms_norm launch disappears; d is never written.
//
// Which sites: the linear right before the add_rms_norm, whose output only that norm reads; every
// reader of y is a linear over H columns (so the final norm, read through last_token, is not
// folded); all values have the same row kind.
//
// Where the values go (the fused GEMV writes s and y' one step early, while x is still read by
// every warp): y' always gets its own region of fusedOut_ (its readers find it through valuePtr,
// as GLU-fused outputs do); s stays in its plan slot unless that slot overlaps x, or overlaps r
// other than exactly (an exact alias is safe: each element of r is read by the lane that then
// writes it). By the plan's lifetimes nothing else live at the linear can share s's slot.
#include "CudaBackend.h"

namespace llmc::cuda {

namespace {

int64_t roundUp64(int64_t v) { return (v + 63) / 64 * 64; }

}  // namespace

Status CudaBackend::planNormFusion() {
  normSites_.clear();
  if (!fusedNorm_) return Status::Ok();
  const Program& prog = engine_->program();
  const auto& infos = engine_->weights();
  std::vector<std::vector<int>> readers(prog.values.size());
  for (size_t i = 0; i < prog.steps.size(); ++i)
    for (int v : prog.steps[i].in)
      if (v >= 0) readers[v].push_back(static_cast<int>(i));
  // Arena slots of two values overlap (both still in the arena for fused steps).
  auto overlaps = [&](int a, int b) {
    if (relocated_[a] >= 0 || relocated_[b] >= 0) return false;
    const ValueInfo& va = prog.values[a];
    const ValueInfo& vb = prog.values[b];
    return va.offset < vb.offset + vb.width && vb.offset < va.offset + va.width;
  };

  int64_t statsFloats = 0;
  for (size_t i = 1; i < prepared_.size(); ++i) {
    Prepared& np = prepared_[i];
    Prepared& pp = prepared_[i - 1];
    const Step& ns = *np.step;
    const Step& ps = *pp.step;
    if (ns.op != OpKind::kAddRmsNorm || ns.in.size() != 2 || ns.out.size() != 2 || ns.weight < 0) continue;
    if (ps.op != OpKind::kLinear || ps.in.size() != 1 || ps.in[0] < 0 || ps.out.size() != 1 || pp.gluOut >= 0 ||
        pp.normOutSite >= 0)
      continue;
    const int x = ps.in[0], d = ps.out[0];
    const int r = ns.in[0] == d ? ns.in[1] : ns.in[1] == d ? ns.in[0] : -1;
    const int s = ns.out[0], y = ns.out[1];
    if (r < 0 || r == d || d == prog.output || s == prog.output || y == prog.output || readers[d].size() != 1) continue;
    const int64_t h = pp.n;
    const Rows rows = prog.values[d].rows;
    bool ok = infos[ns.weight].shape.size() == 1 && infos[ns.weight].shape[0] == h && weights_.f32(ns.weight) != nullptr;
    for (int v : {x, d, r, s, y}) ok = ok && prog.values[v].rows == rows;
    for (int v : {d, r, s, y}) ok = ok && prog.values[v].width == h;
    ok = ok && !readers[y].empty();
    for (int c : readers[y]) {
      const Prepared& cp = prepared_[c];
      ok = ok && c > static_cast<int>(i) && cp.step->op == OpKind::kLinear && cp.step->in.size() == 1 && cp.k == h &&
           cp.normInSite < 0;
    }
    if (!ok) continue;

    NormSite site;
    site.sum = s;
    site.normed = y;
    site.residual = r;
    site.normW = weights_.f32(ns.weight);
    site.offset = ns.attrs.unitOffset ? 1.f : 0.f;
    site.eps = ns.attrs.eps;
    site.statsOffset = statsFloats;
    site.producer = static_cast<int>(i - 1);
    // Room for the most partials per row the producer may write: the one-row GEMV's block count.
    statsFloats += roundUp64((h + kGemvRowsPerBlock - 1) / kGemvRowsPerBlock * kMaxGemvRows);
    const bool exactAlias = prog.values[s].offset == prog.values[r].offset;
    if (overlaps(s, x) || (overlaps(s, r) && !exactAlias)) {
      relocated_[s] = fusedOutFloats_;
      fusedOutFloats_ += roundUp64(h * kMaxGemvRows);
    }
    relocated_[y] = fusedOutFloats_;
    fusedOutFloats_ += roundUp64(h * kMaxGemvRows);

    const int index = static_cast<int>(normSites_.size());
    normSites_.push_back(site);
    pp.normOutSite = index;
    np.normFusedAway = true;
    for (int c : readers[y]) prepared_[c].normInSite = index;
  }
  if (normSites_.empty()) return Status::Ok();
  LLMC_ASSIGN_OR_RETURN(normStats_, DeviceBuffer::allocate(statsFloats * 4, "folded-norm statistics"));
  return Status::Ok();
}

GemvInArgs CudaBackend::gemvInArgs(const Prepared& p, int rows) const {
  GemvInArgs a;
  a.earlyTrigger = triggerMode(p);
  a.prefetchTails = (gemvL2Tails_ & decodeKindOf(p)) != 0 ? 1 : 0;
  if (p.normInSite < 0 || rows > kMaxGemvRows) return a;
  const NormSite& site = normSites_[p.normInSite];
  a.ssParts = normStats_.as<float>() + site.statsOffset;
  a.nParts = normOutBlocks(prepared_[site.producer], rows);
  a.eps = site.eps;
  // Within the 48 KB a launch may have without raising the kernel's limit (4 KB at 7B, M = 1).
  a.earlyParts = earlyNormParts_ && rows <= kGemvEarlyPartsMaxRows ? 1 : 0;
  if (gemvSmemBytes(a, rows) > 48 * 1024) a.earlyParts = 0;
  return a;
}

int CudaBackend::normOutRowsPerWarp(const Prepared& p, int rows) const {
  return p.gemvPair[rows] != nullptr && (gemvPair_ & decodeKindOf(p)) != 0 ? 2 : 1;
}

int CudaBackend::normOutBlocks(const Prepared& p, int rows) const {
  const int perBlock = gemvRowsBlockRows(normOutRowsPerWarp(p, rows));
  return (p.n + perBlock - 1) / perBlock;
}

GemvNormOutArgs CudaBackend::normOutArgs(const Prepared& p, const StepShape& shape) const {
  GemvNormOutArgs a;
  if (p.normOutSite < 0) return a;
  const NormSite& site = normSites_[p.normOutSite];
  a.residual = valuePtr(site.residual, shape);
  a.normW = site.normW;
  a.normOffset = site.offset;
  a.xw = valuePtr(site.normed, shape);
  a.partials = normStats_.as<float>() + site.statsOffset;
  return a;
}

}  // namespace llmc::cuda

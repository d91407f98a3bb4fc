// GpuAttentionTest.cpp - the paged-KV kernels against a float64 reference (label `gpu`):
// rope + KV append, flash-decoding (split combine fused into the kernel, and the separate combine
// kernel) and the FlashAttention-style prefill, with GQA/MQA,
// sliding windows, several sequences with scattered (permuted) cache blocks, chunked prefill
// (queries starting at startPos > 0) and f32 / bf16 caches. See GpuKernelTest.cpp for tolerances.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>

#include "GpuTestUtil.h"
#include "llmc/runtime/HalfFloat.h"

namespace llmc::gputest {
namespace {

using cuda::KernelKind;
using engine::DType;

struct Geometry {
  DType kv;
  int nh, nkv, hd;
  int window;
  int blockSize = 16;
};

// A paged cache filled from the host with random K/V at positions [0, len) of each sequence.
struct PagedCache {
  Geometry g;
  int numBlocks = 0, maxBlocks = 0;
  std::vector<std::vector<int32_t>> tables;  // per sequence
  std::vector<uint8_t> bytes;                // [blocks, 2, nkv, bs, hd] in g.kv
  // Exact stored values: [seq][pos][kv 0|1][nkv * hd]
  std::vector<std::vector<std::array<std::vector<double>, 2>>> values;

  size_t index(int block, int which, int head, int off, int d) const {
    return ((((static_cast<size_t>(block) * 2 + which) * g.nkv + head) * g.blockSize + off) * g.hd) + d;
  }
  void build(const Geometry& geo, const std::vector<int>& lens, std::mt19937& rng, int extraPositions = 0) {
    g = geo;
    int total = 0;
    maxBlocks = 0;
    for (int len : lens) {
      const int nb = (len + extraPositions + g.blockSize - 1) / g.blockSize;
      total += nb;
      maxBlocks = std::max(maxBlocks, nb);
    }
    numBlocks = total + 3;
    std::vector<int32_t> perm(numBlocks);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);  // blocks of a sequence scattered over the pool
    int next = 0;
    tables.clear();
    values.clear();
    const size_t elem = engine::dtypeBytes(g.kv);
    bytes.assign(static_cast<size_t>(numBlocks) * 2 * g.nkv * g.blockSize * g.hd * elem, 0xff);
    for (size_t s = 0; s < lens.size(); ++s) {
      const int nb = (lens[s] + extraPositions + g.blockSize - 1) / g.blockSize;
      tables.emplace_back(perm.begin() + next, perm.begin() + next + nb);
      next += nb;
      values.emplace_back(lens[s]);
      for (int p = 0; p < lens[s]; ++p) {
        for (int which = 0; which < 2; ++which) {
          const Stored st = store(g.kv, randomVector(rng, static_cast<size_t>(g.nkv) * g.hd));
          values[s][p][which] = st.values;
          for (int h = 0; h < g.nkv; ++h)
            std::memcpy(&bytes[index(tables[s][p / g.blockSize], which, h, p % g.blockSize, 0) * elem],
                        &st.bytes[static_cast<size_t>(h) * g.hd * elem], g.hd * elem);
        }
      }
    }
  }
  std::vector<int32_t> flatTables() const {
    std::vector<int32_t> t(tables.size() * maxBlocks, 0);
    for (size_t s = 0; s < tables.size(); ++s) std::copy(tables[s].begin(), tables[s].end(), t.begin() + s * maxBlocks);
    return t;
  }
};

// Causal attention of query q (head h) at position pos over the stored cache of sequence s.
void attendRef(const PagedCache& c, int s, int pos, const float* q, int h, double scale, double* out) {
  const Geometry& g = c.g;
  const int kvh = h / (g.nh / g.nkv);
  const int lo = g.window > 0 ? std::max(0, pos - g.window + 1) : 0;
  std::vector<double> sc;
  double mx = -1e300;
  for (int p = lo; p <= pos; ++p) {
    double d = 0;
    for (int i = 0; i < g.hd; ++i) d += static_cast<double>(q[i]) * c.values[s][p][0][kvh * g.hd + i];
    sc.push_back(d * scale);
    mx = std::max(mx, d * scale);
  }
  double sum = 0;
  for (double& x : sc) sum += (x = std::exp(x - mx));
  for (int i = 0; i < g.hd; ++i) out[i] = 0;
  for (int p = lo; p <= pos; ++p)
    for (int i = 0; i < g.hd; ++i) out[i] += sc[p - lo] / sum * c.values[s][p][1][kvh * g.hd + i];
}

class DecodeTest : public ::testing::TestWithParam<Geometry> {};

TEST_P(DecodeTest, FlashDecodingMatchesFloat64) {
  LLMC_REQUIRE_GPU();
  const Geometry g = GetParam();
  const int group = cuda::decodeGroup(g.nh, g.nkv);
  KernelSet ks;
  ASSERT_OK(ks.build({{KernelKind::kAttnDecode, g.kv, g.hd, group}}));
  std::mt19937 rng(11 + g.hd + g.nh);
  const std::vector<int> lens = {1, 37, 300, 1029};
  PagedCache cache;
  cache.build(g, lens, rng);
  const int nseq = static_cast<int>(lens.size());
  const std::vector<float> q = randomVector(rng, static_cast<size_t>(nseq) * g.nh * g.hd);
  auto dq = upload(q), dc = upload(cache.bytes), dt = upload(cache.flatTables()), dl = upload(std::vector<int32_t>(lens.begin(), lens.end()));
  const double scale = 1.0 / std::sqrt(static_cast<double>(g.hd));
  std::vector<double> ref(q.size());
  for (int s = 0; s < nseq; ++s)
    for (int h = 0; h < g.nh; ++h)
      attendRef(cache, s, lens[s] - 1, &q[(static_cast<size_t>(s) * g.nh + h) * g.hd], h, scale, &ref[(static_cast<size_t>(s) * g.nh + h) * g.hd]);
  const cudaKernel_t decode = ks.get({KernelKind::kAttnDecode, g.kv, g.hd, group});
  const int blocksY = g.nkv * (g.nh / g.nkv / group);
  auto counters = upload(std::vector<uint32_t>(static_cast<size_t>(nseq) * blocksY, 0));
  // 1 split (the fused kernel stores directly), splits longer and shorter than the contexts (16 and
  // 32 splits leave the 1-token context with empty splits), the backend's cap.
  for (int splits : {1, 3, cuda::kMaxClusterSplits, 16, cuda::kMaxDecodeSplits}) {
    const size_t parts = static_cast<size_t>(nseq) * g.nh * splits;
    const dim3 grid(splits, blocksY, nseq);
    // Unfused: partials, then llmc_attn_combine.
    auto pm = poisoned(parts), pl = poisoned(parts), pa = poisoned(parts * g.hd), out = poisoned(q.size());
    ASSERT_OK(launchSync(decode, grid, dim3(128), 0, dq.as<const float>(), g.nh * g.hd, static_cast<const void*>(dc.get()),
                         g.blockSize, dt.as<const int32_t>(), cache.maxBlocks, dl.as<const int32_t>(), g.nh, g.nkv,
                         static_cast<float>(scale), g.window, pm.as<float>(), pl.as<float>(), pa.as<float>(),
                         static_cast<unsigned*>(nullptr), static_cast<float*>(nullptr), 0, static_cast<const float*>(nullptr),
                         0, static_cast<const float*>(nullptr), 0, static_cast<const int32_t*>(nullptr),
                         static_cast<const int32_t*>(nullptr), 0, static_cast<const float*>(nullptr), 0, 0, static_cast<const char*>(nullptr), uint64_t{0}, 0, 0, 0, 0));
    ASSERT_OK(launchSync(ks.get("llmc_attn_combine"), dim3(g.nh, nseq), dim3(128), 0, pm.as<const float>(),
                         pl.as<const float>(), pa.as<const float>(), splits, g.hd, out.as<float>(), g.nh * g.hd));
    const std::vector<float> unfused = download<float>(out, q.size());
    EXPECT_LT(relError(unfused, ref), kF32TolAttention) << "unfused, splits " << splits;
    // Fused: the last split block of each head group combines. Twice in a row on fresh poison: the
    // arrival counters must be back at zero after each launch. The second and third runs add three
    // grid rows of L2 prefetch blocks over the cache buffer (the third: row tails, 192 of every 256
    // bytes): they must change nothing, counters included.
    for (int run = 0; run < 3; ++run) {
      auto fm = poisoned(parts), fl = poisoned(parts), fa = poisoned(parts * g.hd), fout = poisoned(q.size());
      const dim3 runGrid(splits, blocksY + (run >= 1 ? 3 : 0), nseq);
      const char* prefetch = run >= 1 ? dc.as<const char>() : nullptr;
      const uint64_t prefetchBytes = run == 1 ? cache.bytes.size() / 16 * 16 : run == 2 ? cache.bytes.size() / 256 * 192 : 0;
      ASSERT_OK(launchSync(decode, runGrid, dim3(128), 0, dq.as<const float>(), g.nh * g.hd, static_cast<const void*>(dc.get()),
                           g.blockSize, dt.as<const int32_t>(), cache.maxBlocks, dl.as<const int32_t>(), g.nh, g.nkv,
                           static_cast<float>(scale), g.window, fm.as<float>(), fl.as<float>(), fa.as<float>(),
                           counters.as<unsigned>(), fout.as<float>(), g.nh * g.hd, static_cast<const float*>(nullptr), 0,
                           static_cast<const float*>(nullptr), 0, static_cast<const int32_t*>(nullptr),
                           static_cast<const int32_t*>(nullptr), 0, static_cast<const float*>(nullptr), 0, 0, prefetch,
                           prefetchBytes, 0, run == 2 ? 256 : 0, run == 2 ? 64 : 0));
      const std::vector<float> fused = download<float>(fout, q.size());
      EXPECT_LT(relError(fused, ref), kF32TolAttention) << "fused, splits " << splits << " run " << run;
      // Same partials, same combine arithmetic (combineSplits): the same bits as the two launches.
      EXPECT_EQ(fused, unfused) << "fused vs unfused, splits " << splits << " run " << run;
      const auto left = download<uint32_t>(counters, static_cast<size_t>(nseq) * blocksY);
      EXPECT_EQ(left, std::vector<uint32_t>(left.size(), 0u)) << "counters after splits " << splits << " run " << run;
    }
    // Cluster merge (sm_90): the splits of a head group are one cluster and merge through shared
    // memory. The same bits as the partials path; neither the partials nor the counters are touched
    // (a poisoned partial stays NaN; the counters are poisoned to a value the kernel would trip on).
    if (deviceCc() >= 90 && splits > 1 && splits <= cuda::kMaxClusterSplits) {
      auto cm = poisoned(parts), cl = poisoned(parts), ca = poisoned(parts * g.hd), cout = poisoned(q.size());
      auto poisonedCounters = upload(std::vector<uint32_t>(static_cast<size_t>(nseq) * blocksY, 0xdeadbeefu));
      ASSERT_OK(launchSyncCluster(decode, grid, dim3(128), static_cast<unsigned>(splits), dq.as<const float>(), g.nh * g.hd,
                                  static_cast<const void*>(dc.get()), g.blockSize, dt.as<const int32_t>(), cache.maxBlocks,
                                  dl.as<const int32_t>(), g.nh, g.nkv, static_cast<float>(scale), g.window, cm.as<float>(),
                                  cl.as<float>(), ca.as<float>(), poisonedCounters.as<unsigned>(), cout.as<float>(), g.nh * g.hd,
                                  static_cast<const float*>(nullptr), 0, static_cast<const float*>(nullptr), 0,
                                  static_cast<const int32_t*>(nullptr), static_cast<const int32_t*>(nullptr), 0,
                                  static_cast<const float*>(nullptr), 0, 0, static_cast<const char*>(nullptr), uint64_t{0}, 1, 0, 0, 0));
      EXPECT_EQ(download<float>(cout, q.size()), unfused) << "cluster vs partials, splits " << splits;
      const auto m = download<float>(cm, parts);
      EXPECT_TRUE(std::all_of(m.begin(), m.end(), [](float x) { return std::isnan(x); })) << "cluster wrote partials";
      const auto c = download<uint32_t>(poisonedCounters, static_cast<size_t>(nseq) * blocksY);
      EXPECT_EQ(c, std::vector<uint32_t>(c.size(), 0xdeadbeefu)) << "cluster touched the counters";
    }
  }
}

// The value of cache element i (in the cache dtype) as stored in `bytes`.
double cacheAt(DType kv, const std::vector<uint8_t>& bytes, size_t i) {
  if (kv == DType::kF32) {
    float f;
    std::memcpy(&f, &bytes[4 * i], 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, &bytes[2 * i], 2);
  return kv == DType::kBF16 ? bf16ToFloat(h) : f16ToFloat(h);
}

// Decode attention with the rope + KV append inside (the fused-rope mode): the step's fused q/k/v
// rows go in, the new token's k/v land in their cache slots (float64 rope, rounded once to the
// cache dtype) and the output is the float64 attention over the history plus that new key. The
// slots of the new tokens are NaN-poisoned in the uploaded cache: a read of them before the kernel
// wrote them shows. Also equal (to f32 rounding) to rope_kv_write + the attention kernel, for 1..32
// splits (new key in the middle split, empty splits after it), twice in a row, partial rotary
// and GPT-J pairs in some geometries.
TEST_P(DecodeTest, FusedRopeMatchesFloat64) {
  LLMC_REQUIRE_GPU();
  const Geometry g = GetParam();
  const int group = cuda::decodeGroup(g.nh, g.nkv);
  KernelSet ks;
  ASSERT_OK(ks.build({{KernelKind::kAttnDecode, g.kv, g.hd, group}, {KernelKind::kRopeKvWrite, g.kv, g.hd, 0}}));
  const cudaKernel_t decode = ks.get({KernelKind::kAttnDecode, g.kv, g.hd, group});
  const cudaKernel_t ropeKv = ks.get({KernelKind::kRopeKvWrite, g.kv, g.hd, 0});
  std::mt19937 rng(41 + g.hd + g.nh);
  const std::vector<int> lens = {1, 37, 300, 1029};  // the new token is at lens[s] - 1
  const int nseq = static_cast<int>(lens.size());
  const int rot = g.window > 0 && g.hd % 4 == 0 ? g.hd / 2 : g.hd;
  const bool interleaved = g.nkv == 1;
  const std::vector<float> inv = invFreqFor(rot, 10000.0);
  PagedCache cache;
  cache.build(g, lens, rng);
  const size_t elem = engine::dtypeBytes(g.kv);
  std::vector<int32_t> pos(nseq), slots(nseq);
  for (int s = 0; s < nseq; ++s) {
    pos[s] = lens[s] - 1;
    const int blk = cache.tables[s][pos[s] / g.blockSize], off = pos[s] % g.blockSize;
    slots[s] = blk * g.blockSize + off;
    for (int which = 0; which < 2; ++which)
      for (int h = 0; h < g.nkv; ++h)
        std::memset(&cache.bytes[cache.index(blk, which, h, off, 0) * elem], 0xff, g.hd * elem);
  }
  const int w = (g.nh + 2 * g.nkv) * g.hd;
  const std::vector<float> qkv = randomVector(rng, static_cast<size_t>(nseq) * w);
  const std::vector<int32_t> lens32(lens.begin(), lens.end());
  auto dqkv = upload(qkv), dt = upload(cache.flatTables()), dl = upload(lens32), dpos = upload(pos), dslots = upload(slots),
       dinv = upload(inv);
  const float* qp = dqkv.as<const float>();
  const float* kp = qp + g.nh * g.hd;
  const float* vp = qp + (g.nh + g.nkv) * g.hd;
  const double scale = 1.0 / std::sqrt(static_cast<double>(g.hd));
  const int blocksY = g.nkv * (g.nh / g.nkv / group);
  auto counters = upload(std::vector<uint32_t>(static_cast<size_t>(nseq) * blocksY, 0));
  for (int splits : {1, 3, cuda::kMaxClusterSplits, 16, cuda::kMaxDecodeSplits}) {
    const size_t parts = static_cast<size_t>(nseq) * g.nh * splits;
    const dim3 grid(splits, blocksY, nseq);
    // Unfused: rope_kv_write (q into its scratch, k/v into the cache), then the attention.
    auto dcU = upload(cache.bytes), qr = poisoned(static_cast<size_t>(nseq) * g.nh * g.hd), outU = poisoned(static_cast<size_t>(nseq) * g.nh * g.hd);
    ASSERT_OK(launchSync(ropeKv, dim3(nseq, g.nh + 2 * g.nkv), dim3(cuda::ropeKvThreads(g.hd)), 0, static_cast<const void*>(qp), w,
                         static_cast<const void*>(kp), w, static_cast<const void*>(vp), w, dpos.as<const int32_t>(),
                         dslots.as<const int32_t>(), dcU.get(), g.blockSize, g.nh, g.nkv, rot, dinv.as<const float>(),
                         static_cast<int>(interleaved), qr.as<float>(), 0));
    {
      auto pm = poisoned(parts), pl = poisoned(parts), pa = poisoned(parts * g.hd);
      ASSERT_OK(launchSync(decode, grid, dim3(128), 0, qr.as<const float>(), g.nh * g.hd, dcU.get(), g.blockSize,
                           dt.as<const int32_t>(), cache.maxBlocks, dl.as<const int32_t>(), g.nh, g.nkv, static_cast<float>(scale),
                           g.window, pm.as<float>(), pl.as<float>(), pa.as<float>(), counters.as<unsigned>(), outU.as<float>(),
                           g.nh * g.hd, static_cast<const float*>(nullptr), 0, static_cast<const float*>(nullptr), 0,
                           static_cast<const int32_t*>(nullptr), static_cast<const int32_t*>(nullptr), 0,
                           static_cast<const float*>(nullptr), 0, 0, static_cast<const char*>(nullptr), uint64_t{0}, 0, 0, 0, 0));
    }
    const std::vector<float> unfused = download<float>(outU, static_cast<size_t>(nseq) * g.nh * g.hd);
    // Fused, twice (the second run finds the slots written by the first: same result).
    auto dc = upload(cache.bytes);
    for (int run = 0; run < 2; ++run) {
      auto pm = poisoned(parts), pl = poisoned(parts), pa = poisoned(parts * g.hd), out = poisoned(static_cast<size_t>(nseq) * g.nh * g.hd);
      ASSERT_OK(launchSync(decode, grid, dim3(128), 0, qp, w, dc.get(), g.blockSize, dt.as<const int32_t>(), cache.maxBlocks,
                           dl.as<const int32_t>(), g.nh, g.nkv, static_cast<float>(scale), g.window, pm.as<float>(), pl.as<float>(),
                           pa.as<float>(), counters.as<unsigned>(), out.as<float>(), g.nh * g.hd, kp, w, vp, w,
                           dpos.as<const int32_t>(), dslots.as<const int32_t>(), rot, dinv.as<const float>(),
                           static_cast<int>(interleaved), /*earlyTrigger=*/1, static_cast<const char*>(nullptr), uint64_t{0}, 0, 0, 0,
                           /*kvL2Ahead=*/64));
      const std::vector<uint8_t> stored = download<uint8_t>(dc, cache.bytes.size());
      // The new k/v in their slots: float64 rope of the row, within one rounding to the cache dtype.
      PagedCache ref = cache;
      std::vector<double> kRef, vRef, kGot, vGot;
      for (int s = 0; s < nseq; ++s) {
        const int blk = slots[s] / g.blockSize, off = slots[s] % g.blockSize;
        for (int h = 0; h < g.nkv; ++h) {
          std::vector<double> k(qkv.begin() + s * w + (g.nh + h) * g.hd, qkv.begin() + s * w + (g.nh + h + 1) * g.hd);
          ropeRef(k.data(), g.hd, rot, interleaved, pos[s], inv);
          kRef.insert(kRef.end(), k.begin(), k.end());
          vRef.insert(vRef.end(), qkv.begin() + s * w + (g.nh + g.nkv + h) * g.hd, qkv.begin() + s * w + (g.nh + g.nkv + h + 1) * g.hd);
          for (int d = 0; d < g.hd; ++d) {
            const double kv0 = cacheAt(g.kv, stored, cache.index(blk, 0, h, off, d));
            const double kv1 = cacheAt(g.kv, stored, cache.index(blk, 1, h, off, d));
            kGot.push_back(kv0);
            vGot.push_back(kv1);
            // The attention reference uses the stored new key (checked just here against float64).
            ref.values[s][pos[s]][0][h * g.hd + d] = kv0;
            ref.values[s][pos[s]][1][h * g.hd + d] = kv1;
          }
        }
      }
      const double tol = g.kv == DType::kF32 ? kF32Tol : 8e-3;
      EXPECT_LT(relError(std::vector<float>(kGot.begin(), kGot.end()), kRef), tol) << "new k, splits " << splits;
      EXPECT_LT(relError(std::vector<float>(vGot.begin(), vGot.end()), vRef), tol) << "new v, splits " << splits;
      std::vector<double> want(static_cast<size_t>(nseq) * g.nh * g.hd);
      for (int s = 0; s < nseq; ++s)
        for (int h = 0; h < g.nh; ++h) {
          std::vector<double> qd(qkv.begin() + s * w + h * g.hd, qkv.begin() + s * w + (h + 1) * g.hd);
          ropeRef(qd.data(), g.hd, rot, interleaved, pos[s], inv);
          const std::vector<float> qf(qd.begin(), qd.end());  // the f32 rotated query, as both kernels hold it
          attendRef(ref, s, pos[s], qf.data(), h, scale, &want[(static_cast<size_t>(s) * g.nh + h) * g.hd]);
        }
      const std::vector<float> got = download<float>(out, want.size());
      EXPECT_LT(relError(got, want), kF32TolAttention) << "fused rope, splits " << splits << " run " << run;
      std::vector<double> unfusedD(unfused.begin(), unfused.end());
      // Same arithmetic in another kernel; a 16-bit k may round the other way where the compiler
      // contracted the rotation differently.
      EXPECT_LT(relError(got, unfusedD), g.kv == DType::kF32 ? 1e-6 : 1e-4) << "fused vs unfused rope, splits " << splits << " run " << run;
      const auto left = download<uint32_t>(counters, static_cast<size_t>(nseq) * blocksY);
      EXPECT_EQ(left, std::vector<uint32_t>(left.size(), 0u)) << "counters, splits " << splits;
      // The same launch merging inside clusters (sm_90; the slots hold the same k/v again): the same bits.
      if (deviceCc() >= 90 && splits > 1 && splits <= cuda::kMaxClusterSplits) {
        auto cout = poisoned(want.size());
        ASSERT_OK(launchSyncCluster(decode, grid, dim3(128), static_cast<unsigned>(splits), qp, w, dc.get(), g.blockSize,
                                    dt.as<const int32_t>(), cache.maxBlocks, dl.as<const int32_t>(), g.nh, g.nkv,
                                    static_cast<float>(scale), g.window, pm.as<float>(), pl.as<float>(), pa.as<float>(),
                                    counters.as<unsigned>(), cout.as<float>(), g.nh * g.hd, kp, w, vp, w,
                                    dpos.as<const int32_t>(), dslots.as<const int32_t>(), rot, dinv.as<const float>(),
                                    static_cast<int>(interleaved), 1, static_cast<const char*>(nullptr), uint64_t{0}, 1, 0, 0, 0));
        EXPECT_EQ(download<float>(cout, want.size()), got) << "cluster fused rope, splits " << splits << " run " << run;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Geometries, DecodeTest,
    ::testing::Values(Geometry{DType::kBF16, 32, 32, 128, 0}, Geometry{DType::kBF16, 32, 8, 128, 0},
                      Geometry{DType::kF32, 8, 4, 8, 0}, Geometry{DType::kBF16, 8, 1, 64, 0},
                      Geometry{DType::kF32, 16, 2, 256, 100}, Geometry{DType::kBF16, 64, 8, 128, 257},
                      Geometry{DType::kF16, 12, 4, 96, 0}, Geometry{DType::kBF16, 40, 4, 128, 0, 32}));

// Prefill: several sequences, some continuing a cached prefix (chunked prefill), tiles cut as the
// backend cuts them. tc: the tensor-core kernel (64-row tiles) instead of the FP32 one.
struct PrefillSeq {
  int start, count;
};
void checkPrefill(const Geometry& g, bool tc, const std::vector<PrefillSeq>& seqs, double scaleMul, double tol) {
  const KernelKind kind = tc ? KernelKind::kAttnPrefillTc : KernelKind::kAttnPrefill;
  KernelSet ks;
  ASSERT_OK(ks.build({{kind, g.kv, g.hd, 0}}));
  std::mt19937 rng(21 + g.hd + g.nh + (tc ? 1000 : 0));
  std::vector<int> lens;
  for (const PrefillSeq& s : seqs) lens.push_back(s.start + s.count);
  PagedCache cache;
  cache.build(g, lens, rng);
  int T = 0;
  for (const PrefillSeq& s : seqs) T += s.count;
  const std::vector<float> q = randomVector(rng, static_cast<size_t>(T) * g.nh * g.hd);
  const int bq = tc ? 64 : cuda::prefillTileRows(g.hd);
  std::vector<int32_t> tiles;
  int tok = 0;
  for (size_t s = 0; s < seqs.size(); ++s) {
    for (int j = 0; j < seqs[s].count; j += bq)
      tiles.insert(tiles.end(), {static_cast<int32_t>(s), tok + j, std::min(bq, seqs[s].count - j), seqs[s].start + j});
    tok += seqs[s].count;
  }
  const int numTiles = static_cast<int>(tiles.size() / 4);
  auto dq = upload(q), dc = upload(cache.bytes), dt = upload(cache.flatTables()), dtl = upload(tiles), out = poisoned(q.size());
  const double scale = scaleMul / std::sqrt(static_cast<double>(g.hd));
  const cudaKernel_t k = ks.get({kind, g.kv, g.hd, 0});
  const int smem = tc ? cuda::prefillTcSmemBytes(g.hd) : cuda::prefillSmemBytes(g.hd);
  ASSERT_EQ(cudaKernelSetAttributeForDevice(k, cudaFuncAttributeMaxDynamicSharedMemorySize, smem, 0), cudaSuccess);
  ASSERT_OK(launchSync(k, dim3(numTiles, g.nh), dim3(128), smem, dq.as<const float>(), g.nh * g.hd,
                       static_cast<const void*>(dc.get()), g.blockSize, dt.as<const int32_t>(), cache.maxBlocks,
                       dtl.as<const int32_t>(), g.nh, g.nkv, static_cast<float>(scale), g.window, out.get(), g.nh * g.hd, 0));
  std::vector<double> ref(q.size());
  tok = 0;
  for (size_t s = 0; s < seqs.size(); ++s) {
    for (int j = 0; j < seqs[s].count; ++j, ++tok)
      for (int h = 0; h < g.nh; ++h)
        attendRef(cache, static_cast<int>(s), seqs[s].start + j, &q[(static_cast<size_t>(tok) * g.nh + h) * g.hd], h, scale,
                  &ref[(static_cast<size_t>(tok) * g.nh + h) * g.hd]);
  }
  const std::vector<float> got = download<float>(out, q.size());
  const double err = relError(got, ref);
  EXPECT_LT(err, tol) << (tc ? "tensor-core" : "fp32") << " prefill, scale x" << scaleMul;
  // A 16-bit output (the prefill hand-off to the o projection): the f32 result, rounded to nearest
  // even exactly as the cast kernel would round it.
  for (DType outType : {DType::kBF16, DType::kF16}) {
    auto out16 = upload(std::vector<uint16_t>(q.size(), 0xffff));
    ASSERT_OK(launchSync(k, dim3(numTiles, g.nh), dim3(128), smem, dq.as<const float>(), g.nh * g.hd,
                         static_cast<const void*>(dc.get()), g.blockSize, dt.as<const int32_t>(), cache.maxBlocks,
                         dtl.as<const int32_t>(), g.nh, g.nkv, static_cast<float>(scale), g.window, out16.get(), g.nh * g.hd,
                         outType == DType::kBF16 ? 1 : 2));
    const auto bits = download<uint16_t>(out16, q.size());
    for (size_t i = 0; i < q.size(); ++i)
      ASSERT_EQ(bits[i], outType == DType::kBF16 ? floatToBf16(got[i]) : floatToF16(got[i]))
          << engine::dtypeName(outType) << " output element " << i;
  }
  std::printf("%s prefill %s hd %d nh %d nkv %d window %d bs %d scale x%.1f: rel L2 error %.2e\n", tc ? "tc" : "fp32",
              engine::dtypeName(g.kv), g.hd, g.nh, g.nkv, g.window, g.blockSize, scaleMul, err);
}

class PrefillTest : public ::testing::TestWithParam<Geometry> {};

TEST_P(PrefillTest, FlashPrefillMatchesFloat64) {
  LLMC_REQUIRE_GPU();
  checkPrefill(GetParam(), false, {{0, 100}, {37, 5}, {200, 64}, {0, 1}, {5, 130}}, 0.7, kF32TolAttention);
}

// The tensor-core prefill: Q and P are rounded to the cache's 16-bit type for the mma (as every
// FlashAttention does), so the error is that of one bf16/f16 rounding (2^-9 / 2^-11 relative),
// not of f32 arithmetic. Long sequences (many key tiles through the double buffer), chunks whose
// first position is not a multiple of 64, partial tiles, peaked (scale x4) and flat softmax.
constexpr double kTcTolBf16 = 1e-2, kTcTolF16 = 3e-3;
class PrefillTcTest : public ::testing::TestWithParam<Geometry> {};

TEST_P(PrefillTcTest, TensorCorePrefillMatchesFloat64) {
  LLMC_REQUIRE_GPU();
  const Geometry g = GetParam();
  ASSERT_TRUE(cuda::prefillTcSupported(g.kv, g.hd));
  const double tol = g.kv == DType::kBF16 ? kTcTolBf16 : kTcTolF16;
  const std::vector<PrefillSeq> seqs = {{0, 100}, {37, 5}, {200, 64}, {0, 1}, {5, 130}, {0, 300}, {701, 77}};
  for (double scaleMul : {0.7, 4.0}) checkPrefill(g, true, seqs, scaleMul, tol);
}

INSTANTIATE_TEST_SUITE_P(
    Geometries, PrefillTcTest,
    ::testing::Values(Geometry{DType::kBF16, 32, 32, 128, 0}, Geometry{DType::kBF16, 32, 8, 128, 0},
                      Geometry{DType::kBF16, 8, 1, 64, 0}, Geometry{DType::kBF16, 8, 2, 128, 50},
                      Geometry{DType::kBF16, 8, 4, 64, 257}, Geometry{DType::kF16, 12, 4, 128, 0},
                      Geometry{DType::kF16, 4, 2, 64, 33}, Geometry{DType::kBF16, 8, 8, 128, 0, 32},
                      Geometry{DType::kBF16, 4, 2, 64, 0, 8}));

INSTANTIATE_TEST_SUITE_P(
    Geometries, PrefillTest,
    ::testing::Values(Geometry{DType::kBF16, 32, 32, 128, 0}, Geometry{DType::kBF16, 32, 8, 128, 0},
                      Geometry{DType::kF32, 8, 4, 8, 0}, Geometry{DType::kF32, 8, 2, 64, 50},
                      Geometry{DType::kBF16, 16, 2, 256, 0}, Geometry{DType::kF16, 12, 4, 96, 33},
                      Geometry{DType::kF32, 4, 4, 16, 0, 32}));

// rope_kv_write: q rotated into its scratch, k rotated and v copied into the cache slots; the fused
// row f32, or bf16 as a prefill GEMM hands it over (16-bit hand-off).
TEST(GpuAttention, RopeKvWrite) {
  LLMC_REQUIRE_GPU();
  for (DType kv : {DType::kF32, DType::kBF16}) {
    for (int fused = 0; fused < 2; ++fused) {
      for (int in16 = 0; in16 < 2; ++in16) {
        const int nh = 8, nkv = 2, hd = 64, rot = fused ? 32 : 0, T = 7, bs = 16, numBlocks = 6;
        KernelSet ks;
        ASSERT_OK(ks.build({{KernelKind::kRopeKvWrite, kv, hd, 0}}));
        std::mt19937 rng(31 + fused);
        const int w = (nh + 2 * nkv) * hd;
        const std::vector<float> qkv = randomVector(rng, static_cast<size_t>(T) * w);
        const Stored stored = store(in16 ? DType::kBF16 : DType::kF32, qkv);  // what the kernel reads, exactly
        const std::vector<double>& src = stored.values;
        const size_t inElem = in16 ? 2 : 4;
        const std::vector<int32_t> pos = {0, 1, 2, 15, 16, 40, 95};
        std::vector<int32_t> slots(T);
        const std::vector<int32_t> table = {4, 0, 5, 2, 1, 3};
        for (int t = 0; t < T; ++t) slots[t] = table[pos[t] / bs] * bs + pos[t] % bs;
        const std::vector<float> inv = invFreqFor(32, 10000.0);
        const size_t cacheElems = static_cast<size_t>(numBlocks) * 2 * nkv * bs * hd, elem = engine::dtypeBytes(kv);
        auto dqkv = upload(stored.bytes), dpos = upload(pos), dslots = upload(slots), dinv = upload(inv);
        // Heads per block: one (decode's launch), 6, and 3 with an empty last group; 128 threads too.
        for (const auto& [groups, threads] : {std::pair{nh + 2 * nkv, cuda::ropeKvThreads(hd)}, std::pair{2, 128},
                                              std::pair{5, 128}, std::pair{5, cuda::ropeKvThreads(hd)}}) {
        SCOPED_TRACE("groups " + std::to_string(groups) + " threads " + std::to_string(threads));
        auto dcache = upload(std::vector<uint8_t>(cacheElems * elem, 0xff)), dq = poisoned(static_cast<size_t>(T) * nh * hd);
        const char* base = static_cast<const char*>(dqkv.get());
        ASSERT_OK(launchSync(ks.get({KernelKind::kRopeKvWrite, kv, hd, 0}), dim3(T, groups),
                             dim3(threads), 0, static_cast<const void*>(base), w,
                             static_cast<const void*>(base + nh * hd * inElem), w,
                             static_cast<const void*>(base + (nh + nkv) * hd * inElem), w, dpos.as<const int32_t>(),
                             dslots.as<const int32_t>(), dcache.get(), bs, nh, nkv, rot,
                             fused ? dinv.as<const float>() : nullptr, 0, dq.as<float>(), in16));
        std::vector<double> qRef, kRef, vRef;
        std::vector<float> kGot, vGot;
        const auto cacheBytes = download<uint8_t>(dcache, cacheElems * elem);
        auto at = [&](size_t i) {
          if (kv == DType::kF32) { float f; std::memcpy(&f, &cacheBytes[4 * i], 4); return f; }
          uint16_t h; std::memcpy(&h, &cacheBytes[2 * i], 2); return bf16ToFloat(h);
        };
        for (int t = 0; t < T; ++t) {
          for (int h = 0; h < nh; ++h) {
            std::vector<double> v(src.begin() + t * w + h * hd, src.begin() + t * w + (h + 1) * hd);
            ropeRef(v.data(), hd, rot, false, pos[t], inv);
            qRef.insert(qRef.end(), v.begin(), v.end());
          }
          for (int h = 0; h < nkv; ++h) {
            std::vector<double> k(src.begin() + t * w + (nh + h) * hd, src.begin() + t * w + (nh + h + 1) * hd);
            ropeRef(k.data(), hd, rot, false, pos[t], inv);
            kRef.insert(kRef.end(), k.begin(), k.end());
            vRef.insert(vRef.end(), src.begin() + t * w + (nh + nkv + h) * hd, src.begin() + t * w + (nh + nkv + h + 1) * hd);
            const int block = slots[t] / bs, off = slots[t] % bs;
            for (int d = 0; d < hd; ++d) {
              kGot.push_back(at((((static_cast<size_t>(block) * 2 + 0) * nkv + h) * bs + off) * hd + d));
              vGot.push_back(at((((static_cast<size_t>(block) * 2 + 1) * nkv + h) * bs + off) * hd + d));
            }
          }
        }
        const double tol = kv == DType::kF32 ? kF32Tol : 8e-3;
        EXPECT_LT(relError(download<float>(dq, qRef.size()), qRef), kF32Tol) << "q, rot " << rot << " in16 " << in16;
        EXPECT_LT(relError(kGot, kRef), tol) << "k, rot " << rot << " in16 " << in16;
        EXPECT_LT(relError(vGot, vRef), tol) << "v, in16 " << in16;
        }
      }
    }
  }
}

}  // namespace
}  // namespace llmc::gputest

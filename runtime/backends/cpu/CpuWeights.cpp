// CpuWeights.cpp - widen f16/bf16 weights to f32 at prepare time.
#include "CpuWeights.h"

#include "ThreadPool.h"
#include "llmc/runtime/HalfFloat.h"

namespace llmc::cpu {

Status CpuWeights::load(const Engine& engine, ThreadPool* pool) {
  const auto& table = engine.weights();
  ptrs_.assign(table.size(), nullptr);
  std::vector<bool> used(table.size(), false);
  for (const Step& s : engine.program().steps) {
    if (s.weight >= 0) used[s.weight] = true;
    if (s.bias >= 0) used[s.bias] = true;
  }
  for (size_t i = 0; i < table.size(); ++i) {
    if (!used[i]) continue;
    WeightView view = engine.weight(static_cast<int>(i));
    if (!view.data) return Internal(engine.path() + ": weight '" + table[i].name + "' has no data");
    if (view.info->dtype == engine::DType::kF32) {
      ptrs_[i] = static_cast<const float*>(view.data);
      continue;
    }
    const int64_t n = view.info->numel();
    std::unique_ptr<float[]> buf(new float[static_cast<size_t>(n)]);
    const auto* src = static_cast<const uint16_t*>(view.data);
    float* dst = buf.get();
    const bool bf16 = view.info->dtype == engine::DType::kBF16;
    auto body = [&](int64_t b, int64_t e) {
      for (int64_t j = b; j < e; ++j) dst[j] = bf16 ? bf16ToFloat(src[j]) : f16ToFloat(src[j]);
    };
    if (pool) pool->parallelFor(n, 1 << 16, body); else body(0, n);
    ptrs_[i] = dst;
    ownedBytes_ += static_cast<size_t>(n) * sizeof(float);
    owned_.push_back(std::move(buf));
  }
  return Status::Ok();
}

}  // namespace llmc::cpu

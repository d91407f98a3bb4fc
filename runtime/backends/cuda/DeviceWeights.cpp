// DeviceWeights.cpp - upload through double-buffered pinned staging (see DeviceWeights.h).
#include "DeviceWeights.h"

#include <algorithm>
#include <cstring>

#include "llmc/runtime/HalfFloat.h"

namespace llmc::cuda {

namespace {

constexpr uint64_t kAlign = 256;
constexpr size_t kStagingBytes = 64ull << 20;  // per buffer; large enough to amortise each copy call

uint64_t alignUp(uint64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

float toF32(engine::DType d, const uint8_t* p, int64_t i) {
  switch (d) {
    case engine::DType::kF32: {
      float f;
      std::memcpy(&f, p + 4 * i, 4);
      return f;
    }
    case engine::DType::kF16: {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      return f16ToFloat(h);
    }
    case engine::DType::kBF16: {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      return bf16ToFloat(h);
    }
  }
  return 0.f;
}

}  // namespace

Status DeviceWeights::upload(const Engine& engine, const std::set<int>& used, const std::set<int>& f32Copies,
                             cudaStream_t stream) {
  const auto& infos = engine.weights();
  uint64_t total = 0;
  for (int i : used) {
    offset_[i] = total;
    total = alignUp(total + infos[i].nbytes);
  }
  for (int i : f32Copies) {
    f32Offset_[i] = total;
    total = alignUp(total + static_cast<uint64_t>(infos[i].numel()) * 4);
  }
  LLMC_ASSIGN_OR_RETURN(pool_, DeviceBuffer::allocate(total, engine.path() + ": weights"));
  if (total == 0) return Status::Ok();

  PinnedBuffer staging[2];
  Event done[2];
  bool pending[2] = {false, false};
  for (int b = 0; b < 2; ++b) {
    LLMC_ASSIGN_OR_RETURN(staging[b], PinnedBuffer::allocate(kStagingBytes, "weight staging"));
    LLMC_ASSIGN_OR_RETURN(done[b], createEvent());
  }
  int cur = 0;
  // Copies `n` bytes produced by fill(dst, n) to device offset `at`, through the staging buffers.
  auto stream_bytes = [&](uint64_t at, uint64_t n, const auto& fill) -> Status {
    uint64_t doneBytes = 0;
    while (doneBytes < n) {
      const uint64_t piece = std::min<uint64_t>(kStagingBytes, n - doneBytes);
      if (pending[cur]) LLMC_CUDA_CHECK(cudaEventSynchronize(done[cur].get()));  // buffer free again?
      fill(staging[cur].as<uint8_t>(), doneBytes, piece);
      LLMC_CUDA_CHECK(cudaMemcpyAsync(pool_.as<uint8_t>() + at + doneBytes, staging[cur].get(), piece,
                                      cudaMemcpyHostToDevice, stream));
      LLMC_CUDA_CHECK(cudaEventRecord(done[cur].get(), stream));
      pending[cur] = true;
      cur ^= 1;
      doneBytes += piece;
    }
    return Status::Ok();
  };

  for (int i : used) {
    const WeightView v = engine.weight(i);
    const uint8_t* src = static_cast<const uint8_t*>(v.data);
    LLMC_RETURN_IF_ERROR(stream_bytes(offset_[i], infos[i].nbytes, [&](uint8_t* dst, uint64_t from, uint64_t n) {
      std::memcpy(dst, src + from, n);
    }));
  }
  for (int i : f32Copies) {
    const WeightView v = engine.weight(i);
    const uint8_t* src = static_cast<const uint8_t*>(v.data);
    const engine::DType dt = infos[i].dtype;
    LLMC_RETURN_IF_ERROR(stream_bytes(f32Offset_[i], static_cast<uint64_t>(infos[i].numel()) * 4,
                                      [&](uint8_t* dst, uint64_t from, uint64_t n) {
                                        float* out = reinterpret_cast<float*>(dst);
                                        const int64_t first = static_cast<int64_t>(from / 4);
                                        for (int64_t j = 0; j < static_cast<int64_t>(n / 4); ++j)
                                          out[j] = toF32(dt, src, first + j);
                                      }));
  }
  LLMC_CUDA_CHECK(cudaStreamSynchronize(stream));
  return Status::Ok();
}

const void* DeviceWeights::get(int index) const {
  auto it = offset_.find(index);
  return it == offset_.end() ? nullptr : pool_.as<uint8_t>() + it->second;
}

const float* DeviceWeights::f32(int index) const {
  auto it = f32Offset_.find(index);
  return it == f32Offset_.end() ? nullptr : reinterpret_cast<const float*>(pool_.as<uint8_t>() + it->second);
}

}  // namespace llmc::cuda

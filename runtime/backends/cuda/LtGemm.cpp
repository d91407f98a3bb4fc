// LtGemm.cpp - cuBLASLt matmuls for prefill (see LtGemm.h for the layout mapping).
#include "LtGemm.h"

#include <algorithm>
#include <string>
#include <vector>

namespace llmc::cuda {

namespace {

Status ltStatus(cublasStatus_t s, const std::string& what) {
  if (s == CUBLAS_STATUS_SUCCESS) return Status::Ok();
  return Internal("cuda backend: cuBLASLt " + what + ": status " + std::to_string(static_cast<int>(s)));
}
#define LLMC_LT_CHECK(expr) LLMC_RETURN_IF_ERROR(ltStatus((expr), #expr))

cudaDataType_t cudaType(engine::DType d) {
  switch (d) {
    case engine::DType::kF32: return CUDA_R_32F;
    case engine::DType::kF16: return CUDA_R_16F;
    case engine::DType::kBF16: return CUDA_R_16BF;
  }
  return CUDA_R_32F;
}

}  // namespace

struct LtGemm::Plan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
  cublasLtMatmulAlgo_t algo{};
  // The heuristic's answers, kept until the first run decides (autotune); then cleared.
  std::vector<cublasLtMatmulHeuristicResult_t> candidates;
  bool tuned = false;
  ~Plan() {
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (d) cublasLtMatrixLayoutDestroy(d);
    if (op) cublasLtMatmulDescDestroy(op);
  }
};

StatusOr<std::unique_ptr<LtGemm>> LtGemm::create(size_t workspaceBytes, bool autotune) {
  std::unique_ptr<LtGemm> g(new LtGemm());
  g->autotune_ = autotune;
  LLMC_LT_CHECK(cublasLtCreate(&g->handle_));
  LLMC_ASSIGN_OR_RETURN(g->workspace_, DeviceBuffer::allocate(workspaceBytes, "the cuBLASLt workspace"));
  return g;
}

LtGemm::~LtGemm() {
  plans_.clear();
  if (handle_) cublasLtDestroy(handle_);
}

StatusOr<LtGemm::Plan*> LtGemm::plan(engine::DType dtype, engine::DType outType, int t, int n, int k, bool bias) {
  if (outType != engine::DType::kF32 && outType != dtype)
    return Internal("cuda backend: cuBLASLt output must be f32 or the operands' type");
  auto key = std::make_tuple(static_cast<int>(dtype), static_cast<int>(outType), t, n, k, bias);
  auto it = plans_.find(key);
  if (it != plans_.end()) return it->second.get();

  auto p = std::make_unique<Plan>();
  const cudaDataType_t in = cudaType(dtype);
  const cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
  LLMC_LT_CHECK(cublasLtMatmulDescCreate(&p->op, compute, CUDA_R_32F));
  const cublasOperation_t transA = CUBLAS_OP_T, transB = CUBLAS_OP_N;
  LLMC_LT_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSA, &transA, sizeof(transA)));
  LLMC_LT_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSB, &transB, sizeof(transB)));
  if (bias) {
    const cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
    const cudaDataType_t biasType = CUDA_R_32F;
    LLMC_LT_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof(epi)));
    LLMC_LT_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &biasType, sizeof(biasType)));
  }
  // A = W as stored: column-major [K, N], ld K (op T makes it [N, K]).
  LLMC_LT_CHECK(cublasLtMatrixLayoutCreate(&p->a, in, k, n, k));
  // B = x: column-major [K, T], ld K.
  LLMC_LT_CHECK(cublasLtMatrixLayoutCreate(&p->b, in, k, t, k));
  // C = D = y: column-major [N, T], ld N (row-major [T, N]).
  LLMC_LT_CHECK(cublasLtMatrixLayoutCreate(&p->d, cudaType(outType), n, t, n));

  cublasLtMatmulPreference_t pref = nullptr;
  LLMC_LT_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  size_t ws = workspace_.bytes();
  cublasStatus_t s = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws));
  const bool tune = autotune_ && t >= kAutotuneMinRows;
  cublasLtMatmulHeuristicResult_t results[kAutotuneCandidates] = {};
  int found = 0;
  if (s == CUBLAS_STATUS_SUCCESS)
    s = cublasLtMatmulAlgoGetHeuristic(handle_, p->op, p->a, p->b, p->d, p->d, pref, tune ? kAutotuneCandidates : 1,
                                       results, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  LLMC_RETURN_IF_ERROR(ltStatus(s, "heuristic"));
  if (found == 0) {
    return Unsupported("cuda backend: cuBLASLt has no algorithm for a " + std::string(engine::dtypeName(dtype)) +
                       " matmul of T=" + std::to_string(t) + " N=" + std::to_string(n) + " K=" + std::to_string(k) +
                       " with a " + engine::dtypeName(outType) + " output");
  }
  p->algo = results[0].algo;
  if (tune && found > 1) p->candidates.assign(results, results + found);
  else p->tuned = true;
  Plan* raw = p.get();
  plans_[key] = std::move(p);
  return raw;
}

Status LtGemm::matmul(Plan* p, const cublasLtMatmulAlgo_t& algo, const void* x, const void* w, const float* bias,
                      void* y, cudaStream_t stream) {
  if (bias != nullptr) {
    LLMC_LT_CHECK(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof(bias)));
  }
  const float alpha = 1.0f, beta = 0.0f;
  return ltStatus(cublasLtMatmul(handle_, p->op, &alpha, w, p->a, x, p->b, &beta, y, p->d, y, p->d, &algo,
                                 workspace_.get(), workspace_.bytes(), stream),
                  "matmul");
}

Status LtGemm::tune(Plan* p, const cublasLtMatmulHeuristicResult_t* results, int found, const void* x, const void* w,
                    const float* bias, void* y, cudaStream_t stream) {
  LLMC_ASSIGN_OR_RETURN(Event start, createEvent(true));
  LLMC_ASSIGN_OR_RETURN(Event stop, createEvent(true));
  float best = -1.f;
  int bestIndex = 0;
  for (int i = 0; i < found; ++i) {
    // One untimed run (an algorithm the heuristic offers may still refuse these operands), then
    // the median of three.
    if (!matmul(p, results[i].algo, x, w, bias, y, stream).ok()) continue;
    float ms[3];
    bool ok = true;
    for (float& m : ms) {
      LLMC_CUDA_CHECK(cudaEventRecord(start.get(), stream));
      ok = ok && matmul(p, results[i].algo, x, w, bias, y, stream).ok();
      LLMC_CUDA_CHECK(cudaEventRecord(stop.get(), stream));
      LLMC_CUDA_CHECK(cudaEventSynchronize(stop.get()));
      LLMC_CUDA_CHECK(cudaEventElapsedTime(&m, start.get(), stop.get()));
    }
    if (!ok) continue;
    std::sort(ms, ms + 3);
    if (best < 0.f || ms[1] < best) {
      best = ms[1];
      bestIndex = i;
    }
  }
  p->algo = results[bestIndex].algo;
  ++autotuned_;
  autotuneChanged_ += bestIndex != 0;
  return Status::Ok();
}

Status LtGemm::run(engine::DType dtype, const void* x, const void* w, const float* bias, void* y, int t, int n,
                   int k, cudaStream_t stream, engine::DType outType) {
  LLMC_ASSIGN_OR_RETURN(Plan * p, plan(dtype, outType, t, n, k, bias != nullptr));
  if (!p->tuned) {
    // Timing needs synchronisation, which a stream being captured into a graph cannot do: such a
    // call keeps the heuristic's choice for now and the next eager call decides.
    cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
    LLMC_CUDA_CHECK(cudaStreamIsCapturing(stream, &capture));
    if (capture == cudaStreamCaptureStatusNone) {
      LLMC_RETURN_IF_ERROR(tune(p, p->candidates.data(), static_cast<int>(p->candidates.size()), x, w, bias, y, stream));
      p->tuned = true;
      p->candidates.clear();
    }
  }
  return matmul(p, p->algo, x, w, bias, y, stream);
}

}  // namespace llmc::cuda

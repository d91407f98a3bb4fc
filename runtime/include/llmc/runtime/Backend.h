// Backend.h - what a device backend (cpu, cuda) implements to run an engine's program.
//
// The executor (Generator) owns scheduling, sampling and the KV-cache *bookkeeping* (which blocks
// each sequence holds: KVCacheManager); a backend owns device memory: the weights, the activation
// arena (sized by the program's memory plan) and the KV-cache block pool, and runs one step.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "llmc/runtime/Sampler.h"
#include "llmc/runtime/Status.h"

namespace llmc {

class Engine;

struct BackendOptions {
  int maxBatchTokens = 512;        // most tokens one step may carry (prefill chunk size)
  int maxSequences = 8;            // most sequences in one step
  int kvBlockSize = 16;            // tokens per KV-cache block
  int64_t kvBlocks = 0;            // blocks in the pool; 0: the backend chooses (memoryFraction)
  double memoryFraction = 0.9;     // share of free device memory the KV pool may take (cuda)
  int threads = 0;                 // cpu: worker threads; 0 = hardware concurrency
  bool verbose = false;
};

// One sequence's share of a step: its tokens are tokens[tokenBegin, tokenBegin + tokenCount) of the
// batch, at absolute positions startPos, startPos+1, ...; its KV cache lives in blockTable.
struct SequenceSlice {
  int tokenBegin = 0;
  int tokenCount = 0;
  int startPos = 0;                    // tokens already in this sequence's cache
  std::vector<int32_t> blockTable;     // block ids covering positions [0, startPos + tokenCount)
};

struct StepBatch {
  std::vector<int32_t> tokens;          // [T] all sequences' new tokens, concatenated
  std::vector<SequenceSlice> sequences; // in order; last_token keeps one row per sequence
};

// One sequence's share of a sampled step (Backend::forwardSample).
struct SampleRow {
  const std::vector<int32_t>* history = nullptr;  // the repetition penalty's tokens (may be null)
  double uniform = 0;  // this step's draw from the sequence's Sampler (Sampler::nextUniform)
};

// The device's own ceilings, measured by `llmc bench` before it times the model.
struct DeviceLimits {
  std::string deviceName;
  double readBytesPerSec = 0;    // streaming read of a buffer much larger than the caches
  double gemmFlopsPerSec = 0;    // dense GEMM at the engine's dtype (bf16 on GPUs); 0 = not measured
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // Uploads weights, allocates the arena and the KV-cache pool. Called once, before forward().
  virtual Status prepare(const Engine& engine, const BackendOptions& options) = 0;
  // Blocks in the KV-cache pool (valid after prepare); the KVCacheManager hands them out.
  virtual int64_t kvBlockCount() const = 0;
  // Runs the whole program for one step. logits: [sequences.size(), vocab] row-major f32, on the host.
  virtual Status forward(const StepBatch& batch, std::vector<float>* logits) = 0;
  // Runs the step like forward() but returns only each sequence's greedy token: the id of the
  // largest logit of its row (the lowest id among equal maxima, NaN never wins; 0 for a row with
  // no finite maximum). Lets greedy decoding skip copying [sequences, vocab] floats to the host
  // (the CUDA backend takes the argmax on the device). This default calls forward() and scans.
  virtual Status forwardArgmax(const StepBatch& batch, std::vector<int32_t>* tokens) {
    std::vector<float> logits;
    LLMC_RETURN_IF_ERROR(forward(batch, &logits));
    const size_t rows = batch.sequences.size();
    const size_t vocab = rows == 0 ? 0 : logits.size() / rows;
    tokens->assign(rows, 0);
    for (size_t r = 0; r < rows; ++r) {
      const float* row = logits.data() + r * vocab;
      float best = -std::numeric_limits<float>::infinity();
      for (size_t j = 0; j < vocab; ++j) {
        if (row[j] > best) {  // strict: the first maximum stays; NaN compares false
          best = row[j];
          (*tokens)[r] = static_cast<int32_t>(j);
        }
      }
    }
    return Status::Ok();
  }
  // Whether prepare() accepts an engine holding a graph program (Engine::graph(); generic ops,
  // docs/graph-program.md). Executor::create refuses such an engine on a backend that does not.
  virtual bool runsGraphPrograms() const { return false; }
  // Runs the step like forward() and returns each sequence's sampled token: the token
  // Sampler(params).sampleWith(row, vocab, *rows[i].history, rows[i].uniform) picks from its logits
  // row (the same tokens up to float summation order at a boundary, docs/cuda.md "Sampling").
  // Lets sampled decoding skip copying [sequences, vocab] floats to the host (the CUDA backend
  // samples on the device). This default calls forward() and samples on the host.
  virtual Status forwardSample(const StepBatch& batch, const SamplingParams& params, const std::vector<SampleRow>& rows,
                               std::vector<int32_t>* tokens) {
    std::vector<float> logits;
    LLMC_RETURN_IF_ERROR(forward(batch, &logits));
    const size_t n = batch.sequences.size();
    if (rows.size() != n) return InvalidArgument("forwardSample: one SampleRow per sequence");
    const size_t vocab = n == 0 ? 0 : logits.size() / n;
    const Sampler sampler(params);
    const std::vector<int32_t> none;
    tokens->assign(n, 0);
    for (size_t r = 0; r < n; ++r) {
      (*tokens)[r] = sampler.sampleWith(logits.data() + r * vocab, static_cast<int64_t>(vocab),
                                        rows[r].history ? *rows[r].history : none, rows[r].uniform);
    }
    return Status::Ok();
  }
  // Copies the KV contents of block `src` into block `dst` (copy-on-write of shared prefix blocks).
  virtual Status copyBlock(int32_t src, int32_t dst) = 0;
  // Measures the device's read bandwidth (and GEMM rate where it can); used by `llmc bench`.
  virtual StatusOr<DeviceLimits> measureLimits() { return Unsupported(name() + " backend cannot measure its limits"); }
};

// Creates a backend by name: "cpu" or "cuda". "auto" picks cuda when a device is present.
StatusOr<std::unique_ptr<Backend>> createBackend(const std::string& name);

// The built-in factories createBackend dispatches to (src/BackendRegistry.cpp).
std::unique_ptr<Backend> createCpuBackend();  // runtime/backends/cpu
// Defined by runtime/backends/cuda (CMake target llmc_backend_cuda, which sets
// LLMC_HAVE_CUDA_BACKEND for the factory). Returns Unavailable when no device is present.
StatusOr<std::unique_ptr<Backend>> createCudaBackend();

}  // namespace llmc

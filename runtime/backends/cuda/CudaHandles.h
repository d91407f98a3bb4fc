// CudaHandles.h - RAII owners for every CUDA runtime handle the backend holds, and the Status
// conversion of cudaError_t.
//
// Owned by the CUDA backend. Each class owns exactly one handle, is move-only, and releases it in
// its destructor (release errors are ignored: there is nothing left to do with them). Creation
// functions return Status values naming what failed; no exception and no abort.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <utility>

#include "llmc/runtime/Status.h"

namespace llmc::cuda {

// "cuda backend: <what>: cudaErrorMemoryAllocation (out of memory)"; out-of-memory and no-device
// errors are kUnavailable (the machine, not our code), everything else kInternal.
inline Status cudaStatus(cudaError_t e, const std::string& what) {
  if (e == cudaSuccess) return Status::Ok();
  const std::string msg = "cuda backend: " + what + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
  if (e == cudaErrorMemoryAllocation || e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver)
    return Unavailable(msg);
  return Internal(msg);
}

#define LLMC_CUDA_CHECK(expr) LLMC_RETURN_IF_ERROR(::llmc::cuda::cudaStatus((expr), #expr))

// A move-only owner of one handle; Traits::release(h) frees it.
template <typename Traits>
class Handle {
 public:
  using T = typename Traits::Type;
  Handle() = default;
  explicit Handle(T h) : h_(h) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : h_(std::exchange(o.h_, T{})) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, T{});
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  T get() const { return h_; }
  explicit operator bool() const { return h_ != T{}; }
  void reset() {
    if (h_ != T{}) Traits::release(h_);
    h_ = T{};
  }

 private:
  T h_{};
};

struct StreamTraits { using Type = cudaStream_t; static void release(cudaStream_t s) { cudaStreamDestroy(s); } };
struct EventTraits { using Type = cudaEvent_t; static void release(cudaEvent_t e) { cudaEventDestroy(e); } };
struct GraphExecTraits { using Type = cudaGraphExec_t; static void release(cudaGraphExec_t g) { cudaGraphExecDestroy(g); } };
struct GraphTraits { using Type = cudaGraph_t; static void release(cudaGraph_t g) { cudaGraphDestroy(g); } };
struct LibraryTraits { using Type = cudaLibrary_t; static void release(cudaLibrary_t l) { cudaLibraryUnload(l); } };
// Memory kinds: how a block is allocated and freed, and how errors call it.
struct DevicePtrTraits {
  using Type = void*;
  static cudaError_t allocate(void** p, size_t bytes) { return cudaMalloc(p, bytes); }
  static void release(void* p) { cudaFree(p); }
  static constexpr const char* kKind = " bytes";
};
struct PinnedPtrTraits {
  using Type = void*;
  static cudaError_t allocate(void** p, size_t bytes) { return cudaMallocHost(p, bytes); }
  static void release(void* p) { cudaFreeHost(p); }
  static constexpr const char* kKind = " pinned host bytes";
};

using Stream = Handle<StreamTraits>;
using Event = Handle<EventTraits>;
using GraphExec = Handle<GraphExecTraits>;
using Graph = Handle<GraphTraits>;
using Library = Handle<LibraryTraits>;

// One allocation of a memory kind (Traits above) with its size.
template <typename Traits>
class OwnedMemory {
 public:
  OwnedMemory() = default;
  static StatusOr<OwnedMemory> allocate(size_t bytes, const std::string& what) {
    void* p = nullptr;
    if (bytes > 0) {
      cudaError_t e = Traits::allocate(&p, bytes);
      if (e != cudaSuccess) {
        cudaGetLastError();  // clear the error so later calls do not report it
        return cudaStatus(e, "allocating " + std::to_string(bytes) + Traits::kKind + " for " + what);
      }
    }
    OwnedMemory b;
    b.p_ = Handle<Traits>(p);
    b.bytes_ = bytes;
    return b;
  }
  void* get() const { return p_.get(); }
  template <typename T> T* as() const { return static_cast<T*>(p_.get()); }
  size_t bytes() const { return bytes_; }

 private:
  Handle<Traits> p_;
  size_t bytes_ = 0;
};

// Device memory (cudaMalloc: never managed memory, see docs/cuda.md).
using DeviceBuffer = OwnedMemory<DevicePtrTraits>;
// Page-locked host memory: the only kind async copies overlap with host work.
using PinnedBuffer = OwnedMemory<PinnedPtrTraits>;

inline StatusOr<Stream> createStream() {
  cudaStream_t s = nullptr;
  LLMC_RETURN_IF_ERROR(cudaStatus(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "creating a stream"));
  return Stream(s);
}

inline StatusOr<Event> createEvent(bool timing = false) {
  cudaEvent_t e = nullptr;
  LLMC_RETURN_IF_ERROR(cudaStatus(cudaEventCreateWithFlags(&e, timing ? cudaEventDefault : cudaEventDisableTiming),
                                  "creating an event"));
  return Event(e);
}

}  // namespace llmc::cuda

// DecodeTrace.cpp - one decode step's block timeline (DecodeTrace.h, kernels/trace.cuh).
#include "DecodeTrace.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <vector>

namespace llmc::cuda {
namespace {

// The device-side layouts (kernels/trace.cuh), byte for byte.
constexpr int kMarks = 3;
struct TraceEvent {
  uint64_t key, start, waited, end;
  uint64_t mark[kMarks];
  uint32_t kind, info, sm, blocks;
};
struct TraceState {
  TraceEvent* events;
  uint32_t capacity;
  uint32_t count;
};
static_assert(sizeof(TraceEvent) == 72 && sizeof(TraceState) == 16, "must match kernels/trace.cuh");

constexpr unsigned kCapacity = 1u << 20;  // events (blocks) per step: 7B decode has ~250k

// A block's time from its wait to each phase end and to its exit, as phases: waited -> mark 0,
// mark 0 -> 1, 1 -> 2, last mark reached -> end (us; a phase the block did not reach is 0).
struct Phases {
  double p[kMarks + 1] = {};
  void add(const Phases& o) {
    for (int i = 0; i <= kMarks; ++i) p[i] += o.p[i];
  }
};
Phases phasesOf(const TraceEvent& e) {
  Phases ph;
  if (e.waited == 0) return ph;
  uint64_t t = e.waited;
  for (int i = 0; i < kMarks; ++i) {
    if (e.mark[i] == 0) continue;
    ph.p[i] = (e.mark[i] - t) / 1000.0;
    t = e.mark[i];
  }
  ph.p[kMarks] = (e.end - t) / 1000.0;
  return ph;
}

// One launch: its blocks' events folded.
struct Launch {
  uint64_t key = 0;
  uint32_t kind = 0, info = 0, blocks = 0, events = 0, waitedEvents = 0;
  uint32_t startedEarly = 0;  // blocks that started before the predecessor's last block left
  uint64_t firstStart = UINT64_MAX, firstWait = UINT64_MAX, lastWait = 0, lastEnd = 0;
  Phases meanPhases;  // summed over the blocks that waited, then divided
  Phases lastPhases;  // of the block that left last: the launch's critical path
};

// TraceEvent::kind (trace.cuh) by its number.
const char* kindName(uint32_t kind) {
  static const char* const kNames[] = {"?", "gemv", "gemv_glu", "attention", "gemv_pair", "gemv_triple"};
  return kind < sizeof(kNames) / sizeof(kNames[0]) ? kNames[kind] : "?";
}

}  // namespace

Status DecodeTrace::init(KernelLibrary& lib, const std::string& enginePath) {
  const char* e = std::getenv("LLMC_CUDA_TRACE");
  if (e == nullptr || *e == '\0' || std::string(e) == "0") return Status::Ok();
  char* endp = nullptr;
  const long n = std::strtol(e, &endp, 10);
  if (*endp != '\0' || n < 1 || n > 1000000)
    return InvalidArgument("LLMC_CUDA_TRACE=" + std::string(e) + ": expected the number of the step to trace (1..1000000)");
  size_t bytes = 0;
  LLMC_ASSIGN_OR_RETURN(state_, lib.global("llmcTrace", &bytes));
  if (state_ == nullptr || bytes != sizeof(TraceState))
    return Unsupported(enginePath + ": LLMC_CUDA_TRACE needs an engine whose kernels record a trace: rebuild it with LLMC_KERNEL_TRACE=1");
  LLMC_ASSIGN_OR_RETURN(events_, DeviceBuffer::allocate(sizeof(TraceEvent) * kCapacity, "the decode trace"));
  capacity_ = kCapacity;
  target_ = static_cast<int>(n);
  return Status::Ok();
}

Status DecodeTrace::begin(cudaStream_t stream) {
  if (!enabled() || ++calls_ != target_) return Status::Ok();
  const TraceState st{events_.as<TraceEvent>(), capacity_, 0};
  // Before the step's launches on the same stream (also before a graph replay or capture).
  LLMC_RETURN_IF_ERROR(cudaStatus(cudaMemcpyAsync(state_, &st, sizeof st, cudaMemcpyHostToDevice, stream), "arming the decode trace"));
  LLMC_RETURN_IF_ERROR(cudaStatus(cudaStreamSynchronize(stream), "arming the decode trace"));
  armed_ = true;
  return Status::Ok();
}

Status DecodeTrace::finish(bool decode) {
  if (!armed_) return Status::Ok();
  armed_ = false;
  TraceState st{};
  LLMC_RETURN_IF_ERROR(cudaStatus(cudaMemcpy(&st, state_, sizeof st, cudaMemcpyDeviceToHost), "reading the decode trace"));
  const TraceState off{nullptr, 0, 0};
  LLMC_RETURN_IF_ERROR(cudaStatus(cudaMemcpy(state_, &off, sizeof off, cudaMemcpyHostToDevice), "disarming the decode trace"));
  const unsigned n = std::min(st.count, capacity_);
  std::vector<TraceEvent> ev(n);
  LLMC_RETURN_IF_ERROR(cudaStatus(cudaMemcpy(ev.data(), events_.get(), sizeof(TraceEvent) * n, cudaMemcpyDeviceToHost), "reading the decode trace"));

  std::map<uint64_t, Launch> byKey;
  uint64_t t0 = UINT64_MAX;
  for (const TraceEvent& x : ev) {
    Launch& l = byKey[x.key];
    l.key = x.key;
    l.kind = x.kind;
    l.info = x.info;
    l.blocks = x.blocks;
    ++l.events;
    l.firstStart = std::min(l.firstStart, x.start);
    if (x.waited != 0) {
      l.firstWait = std::min(l.firstWait, x.waited);
      l.lastWait = std::max(l.lastWait, x.waited);
    }
    if (x.end >= l.lastEnd) l.lastPhases = phasesOf(x);
    l.lastEnd = std::max(l.lastEnd, x.end);
    if (x.waited != 0) {
      l.meanPhases.add(phasesOf(x));
      ++l.waitedEvents;
    }
    t0 = std::min(t0, x.start);
  }
  for (auto& [key, l] : byKey)
    for (double& v : l.meanPhases.p) v /= std::max(1u, l.waitedEvents);
  std::vector<Launch> launches;
  for (auto& [key, l] : byKey) launches.push_back(l);
  std::sort(launches.begin(), launches.end(), [](const Launch& a, const Launch& b) { return a.firstStart < b.firstStart; });
  // How many of each launch's blocks were resident (their first loads issued) before its
  // predecessor's last block left: the overlap programmatic launches actually got.
  std::map<uint64_t, size_t> order;
  for (size_t i = 0; i < launches.size(); ++i) order[launches[i].key] = i;
  for (const TraceEvent& x : ev) {
    const size_t i = order[x.key];
    if (i > 0 && x.start < launches[i - 1].lastEnd) ++launches[i].startedEarly;
  }

  auto us = [&](uint64_t t) { return t == UINT64_MAX ? -1.0 : (t - t0) / 1000.0; };
  std::fprintf(stderr, "llmc cuda trace: step %d (%s), %u block events%s, %zu launches\n", target_,
               decode ? "decode" : "not a decode step", n, st.count > capacity_ ? " (buffer full: some lost)" : "",
               launches.size());
  std::fprintf(stderr, "  launch kind       K/hd  blocks  start    wait0    waitN    end      span past predecessor's end (us), "
                       "%% of blocks resident before it\n");
  // Per kind (and K, which tells o_proj from down): sums of span, wait release after the
  // predecessor's end, and how long before that end the first block was resident.
  struct Sum { int n = 0; double span = 0, release = 0, lead = 0, early = 0; Phases mean, last; };
  std::map<std::pair<uint32_t, uint32_t>, Sum> sums;
  for (size_t i = 0; i < launches.size(); ++i) {
    const Launch& l = launches[i];
    const double prevEnd = i > 0 ? us(launches[i - 1].lastEnd) : us(l.firstStart);
    const double span = us(l.lastEnd) - prevEnd;
    const double earlyPct = 100.0 * l.startedEarly / std::max(1u, l.events);
    std::fprintf(stderr, "  %6zu %-10s %5u %7u %8.2f %8.2f %8.2f %8.2f %8.2f %5.1f\n", i, kindName(l.kind), l.info, l.blocks,
                 us(l.firstStart), us(l.firstWait), us(l.lastWait), us(l.lastEnd), span, earlyPct);
    if (i == 0) continue;
    Sum& s = sums[{l.kind, l.info}];
    ++s.n;
    s.span += span;
    s.release += l.firstWait == UINT64_MAX ? 0.0 : us(l.firstWait) - prevEnd;
    s.lead += prevEnd - us(l.firstStart);
    s.early += earlyPct;
    s.mean.add(l.meanPhases);
    s.last.add(l.lastPhases);
  }
  std::fprintf(stderr, "  per kind (mean over launches): kind K/hd launches span release-after-prev-end "
                       "first-block-resident-before-prev-end (us), %% of blocks resident before it\n");
  for (const auto& [k, s] : sums)
    std::fprintf(stderr, "  %-10s %5u %4d %8.2f %8.2f %8.2f %5.1f\n", kindName(k.first), k.second, s.n, s.span / s.n,
                 s.release / s.n, s.lead / s.n, s.early / s.n);
  // Phases (kernels/trace.cuh): GEMV: weight stream, norm scales, -, epilogue; attention: q stage,
  // key loop, merge + partials + ticket, combine (last block of a head group) or exit.
  std::fprintf(stderr, "  phases after the wait (us; GEMV: stream, norm scales, -, epilogue; attention: q, keys, "
                       "partials+ticket, combine/exit): mean block | last block to leave\n");
  for (const auto& [k, s] : sums)
    std::fprintf(stderr, "  %-10s %5u  %6.2f %6.2f %6.2f %6.2f | %6.2f %6.2f %6.2f %6.2f\n", kindName(k.first), k.second,
                 s.mean.p[0] / s.n, s.mean.p[1] / s.n, s.mean.p[2] / s.n, s.mean.p[3] / s.n, s.last.p[0] / s.n,
                 s.last.p[1] / s.n, s.last.p[2] / s.n, s.last.p[3] / s.n);
  if (!launches.empty())
    std::fprintf(stderr, "  step: %.2f us from the first block's start to the last block's end\n", us(launches.back().lastEnd));
  return Status::Ok();
}

}  // namespace llmc::cuda

//===- OnnxKvCache.cpp - KV-cache exports: past inputs, present outputs ---===//
//
// Owner: onnx. Decoders exported with an explicit cache take past_key_values.N.key/value
// [batch, kv_heads, past, head_dim] and return present.N.key/value = Concat(past, new) along the
// past axis (or an opset-23 Attention's present outputs). The runtime owns a paged KV cache and
// runs per-token programs, so the importer binds every past input to an empty past (past = 0):
// Concat(past, k) is k, the attention_mask of length past + T has length T, and the graph is the
// no-cache graph the raising passes turn into llm.attention over the runtime's cache. This is
// exact only when each present output is the concat of its past input and the keys/values the
// attention reads (what the runtime's cache holds); anything else is refused with one line.
// Sliding-window caches keep only the last k positions (a tail Slice of the past and of the
// present): exact when the attention's window is at most k + 1, checked on the emitted masks.
//
//===----------------------------------------------------------------------===//
#include "OnnxImporterImpl.h"

#include "llmc/Dialect/LLM/IR/LLMOps.h"

#include <algorithm>
#include <cctype>
#include <climits>

namespace llmc::onnx_import {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The axis of a Concat node normalised for rank 4, or -1.
int64_t concatAxis(const onnx::NodeProto &n) {
  for (const onnx::AttributeProto &a : n.attribute())
    if (a.name() == "axis")
      return a.i() < 0 ? a.i() + 4 : a.i();
  return -1;
}

}  // namespace

bool OnnxImporterImpl::isPastName(const std::string &name) {
  return lower(name).rfind("past", 0) == 0;
}

Status OnnxImporterImpl::classifyPastInput(const onnx::ValueInfoProto &v) {
  const onnx::TypeProto_Tensor &tt = v.type().tensor_type();
  auto bad = [&](const std::string &why) {
    return Unsupported(model_.path() + ": graph input '" + v.name() + "' " + why);
  };
  const bool rank4Float = tt.has_shape() && tt.shape().dim_size() == 4 &&
                          isOnnxFloatType(tt.elem_type());
  if (!isPastName(v.name()))
    return bad("is a rank-4 float tensor whose name does not say it is a KV-cache input (name it "
               "past_key_values.N.key / past_key_values.N.value)");
  if (!rank4Float)
    return bad("is named like a KV-cache input but is not a float tensor [batch, kv_heads, "
               "past_len, head_dim]");
  // The role is in the part after the prefix ("past_key_values.0.key", "past_value.3").
  std::string rest = lower(v.name());
  rest = rest.substr(rest.rfind("past_key_values", 0) == 0 ? 15 : 4);
  const bool key = rest.find("key") != std::string::npos;
  const bool value = rest.find("value") != std::string::npos;
  if (key == value)
    return bad("is ambiguous: its name does not say whether it holds keys or values (name it "
               "past_key_values.N.key / past_key_values.N.value)");
  const auto &d = tt.shape();
  if (d.dim(0).has_dim_value() && d.dim(0).dim_value() != 1)
    return bad("has batch size " + std::to_string(d.dim(0).dim_value()) +
               " (must be 1 or dynamic)");
  if (!d.dim(1).has_dim_value() || !d.dim(3).has_dim_value() || d.dim(1).dim_value() <= 0 ||
      d.dim(3).dim_value() <= 0)
    return bad("must have static kv_heads and head_dim (layout [batch, kv_heads, past_len, "
               "head_dim])");
  if (d.dim(2).has_dim_value())
    return bad("has a static past length " + std::to_string(d.dim(2).dim_value()) +
               "; export with a dynamic past axis");
  PastInput &p = past_[v.name()];
  p.isKey = key;
  p.dtype = tt.elem_type();
  p.kvHeads = d.dim(1).dim_value();
  p.headDim = d.dim(3).dim_value();
  return Status::Ok();
}

int64_t OnnxImporterImpl::tailSliceKeep(const onnx::NodeProto &n) const {
  if (n.op_type() != "Slice")
    return 0;
  // Input k as integers, the same at every probe.
  auto ints = [&](int k, std::vector<int64_t> &out) {
    if (k >= n.input_size() || n.input(k).empty())
      return false;
    const ValueState &vs = values_.at(n.input(k));
    for (const ProbeValue &p : vs.probes)
      if (!p.hasData || !p.data.sameValues(vs.probes[0].data))
        return false;
    out = vs.probes[0].data.toInts();
    return true;
  };
  std::vector<int64_t> s, e, ax, st{1};
  if (!ints(1, s) || !ints(2, e) || !ints(3, ax) || (n.input_size() > 4 && !n.input(4).empty() &&
                                                     !ints(4, st)))
    return 0;
  if (s.size() != 1 || e.size() != 1 || ax.size() != 1 || st.size() != 1)
    return 0;
  if ((ax[0] != 2 && ax[0] != -2) || st[0] != 1 || s[0] >= 0 || e[0] < INT32_MAX)
    return 0;
  return -s[0];
}

void OnnxImporterImpl::bindPastProbe(const std::string &name, ProbeValue &pv) const {
  const PastInput &p = past_.at(name);
  pv.dtype = p.dtype;
  pv.shape = {1, p.kvHeads, 0, p.headDim};
  // An empty tensor, so shape-only uses and identity wrappers fold; checkKvCache refuses every
  // use that would read model data from it.
  pv.hasData = true;
  pv.data = eval::Tensor::floats(pv.shape, {});
}

Status OnnxImporterImpl::checkKvCache() {
  const onnx::GraphProto &g = model_.graph();
  const std::string &file = model_.path();
  std::map<std::string, std::vector<int>> readers;
  for (int i = 0; i < g.node_size(); ++i)
    for (const std::string &in : g.node(i).input())
      readers[in].push_back(i);
  auto keepAtMost = [&](int64_t k) { kvKeep_ = kvKeep_ ? std::min(kvKeep_, k) : k; };

  // 1. A past input (or an alias: Identity or a one-input Concat of it, as TorchScript exports
  //    have, or its last k positions) is read only for its shape, as the first operand of a
  //    Concat along the past axis, or as an Attention's past_key / past_value.
  std::map<std::string, std::string> root;  // past input or alias -> past input
  for (const auto &[name, p] : past_)
    root[name] = name;
  for (const onnx::NodeProto &n : g.node()) {
    const std::string &op = n.op_type();
    if ((op == "Identity" || (op == "Concat" && n.input_size() == 1)) && root.count(n.input(0))) {
      root[n.output(0)] = root[n.input(0)];
      continue;
    }
    if (const int64_t keep = tailSliceKeep(n); keep > 0 && root.count(n.input(0))) {
      root[n.output(0)] = root[n.input(0)];
      keepAtMost(keep);
      continue;
    }
    for (int k = 0; k < n.input_size(); ++k) {
      auto it = root.find(n.input(k));
      if (it == root.end())
        continue;
      const bool ok =
          op == "Shape" || op == "Size" ||
          (op == "Concat" && k == 0 && n.input_size() == 2 && !root.count(n.input(1)) &&
           concatAxis(n) == 2) ||
          (op == "Attention" && (k == 4 || k == 5) && past_.at(it->second).isKey == (k == 4));
      if (!ok)
        return Unsupported(file + ": KV-cache input '" + it->second + "' is read by node '" +
                           n.name() + "' (" + op + " input " + std::to_string(k) +
                           "); llmc maps the cache only through Concat(past, new) along the past "
                           "axis or Attention's past_key/past_value");
    }
  }

  // 2. Outputs: present ones are exactly the cache (and are dropped); one other is the logits.
  std::map<std::string, std::string> presentOf;  // past input -> present output
  std::vector<std::string> others;
  for (const onnx::ValueInfoProto &o : g.output()) {
    const ValueState &vs = values_.at(o.name());
    std::string pastIn;
    if (vs.producer >= 0) {
      // A present that keeps the last k positions of the concat: the crop is dropped.
      int crop = -1;
      int64_t keep = 0;
      if ((keep = tailSliceKeep(g.node(vs.producer))) > 0 && readers[o.name()].empty() &&
          values_.at(g.node(vs.producer).input(0)).producer >= 0)
        crop = vs.producer;
      const onnx::NodeProto &n =
          g.node(crop < 0 ? vs.producer : values_.at(g.node(crop).input(0)).producer);
      if (n.op_type() == "Concat" && n.input_size() == 2 && root.count(n.input(0))) {
        pastIn = root[n.input(0)];
        bool read = false;
        for (int r : readers[n.output(0)])
          read |= r != crop;
        if (!read)
          return Unsupported(file + ": present output '" + o.name() + "' (Concat of '" + pastIn +
                             "' and '" + n.input(1) + "') is not read by the graph's attention, "
                             "so it is not what the runtime's KV cache holds");
        if (crop >= 0) {
          droppedNodes_.insert(crop);
          keepAtMost(keep);
        }
      } else if (crop < 0 && n.op_type() == "Attention") {
        for (int k : {1, 2})
          if (n.output_size() > k && n.output(k) == o.name() && n.input_size() > k + 3 &&
              root.count(n.input(k + 3)))
            pastIn = root[n.input(k + 3)];
      }
    }
    if (pastIn.empty()) {
      if (!past_.empty() && lower(o.name()).rfind("present", 0) == 0)
        return Unsupported(file + ": output '" + o.name() + "' is not the concat of a KV-cache "
                           "input and the new keys/values along the past axis (what the "
                           "runtime's KV cache holds), so llmc cannot drop it");
      others.push_back(o.name());
      continue;
    }
    if (!presentOf.emplace(pastIn, o.name()).second)
      return Unsupported(file + ": KV-cache input '" + pastIn + "' reaches two outputs ('" +
                         presentOf[pastIn] + "', '" + o.name() + "')");
  }
  for (const auto &[name, p] : past_)
    if (!presentOf.count(name))
      return Unsupported(file + ": KV-cache input '" + name + "' is not concatenated into a "
                         "present output (Concat(past, new) along the past axis, returned by "
                         "the graph)");
  if (others.size() != 1)
    return Unsupported(file + ": the graph has " + std::to_string(others.size()) +
                       " outputs besides present.* KV-cache outputs; llmc expects one (the "
                       "logits)");
  logitsName_ = others[0];
  return Status::Ok();
}

Status OnnxImporterImpl::checkKvWindow(mlir::Operation *func) const {
  if (kvKeep_ == 0)
    return Status::Ok();
  std::string bad;
  func->walk([&](llm::CausalMaskOp m) {
    const int64_t w = m.getSlidingWindow();
    if (bad.empty() && (w <= 0 || w > kvKeep_ + 1))
      bad = w <= 0 ? "no sliding window (windows of 40 tokens or more are not detected yet)"
                   : "a sliding window of " + std::to_string(w);
  });
  func->walk([&](llm::SdpaOp s) {
    if (bad.empty() && !s.getMask())
      bad = "no mask (is_causal)";
  });
  if (bad.empty())
    return Status::Ok();
  return Unsupported(model_.path() + ": the KV cache keeps only the last " +
                     std::to_string(kvKeep_) + " positions, which is exact only under a sliding "
                     "window of at most " + std::to_string(kvKeep_ + 1) +
                     " tokens, but the graph's attention has " + bad);
}

}  // namespace llmc::onnx_import

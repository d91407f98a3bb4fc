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
//
//===----------------------------------------------------------------------===//
#include "OnnxImporterImpl.h"

#include <algorithm>
#include <cctype>

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
  std::set<std::string> consumed;
  for (const onnx::NodeProto &n : g.node())
    for (const std::string &in : n.input())
      consumed.insert(in);

  // 1. A past input (or an alias: Identity or a one-input Concat of it, as TorchScript exports
  //    have) is read only for its shape, as the first operand of a Concat along the past axis,
  //    or as an Attention's past_key / past_value.
  std::map<std::string, std::string> root;  // past input or alias -> past input
  for (const auto &[name, p] : past_)
    root[name] = name;
  for (const onnx::NodeProto &n : g.node()) {
    const std::string &op = n.op_type();
    if ((op == "Identity" || (op == "Concat" && n.input_size() == 1)) && root.count(n.input(0))) {
      root[n.output(0)] = root[n.input(0)];
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
      const onnx::NodeProto &n = g.node(vs.producer);
      if (n.op_type() == "Concat" && n.input_size() == 2 && root.count(n.input(0))) {
        pastIn = root[n.input(0)];
        if (!consumed.count(o.name()))
          return Unsupported(file + ": present output '" + o.name() + "' (Concat of '" + pastIn +
                             "' and '" + n.input(1) + "') is not read by the graph's attention, "
                             "so it is not what the runtime's KV cache holds");
      } else if (n.op_type() == "Attention") {
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

}  // namespace llmc::onnx_import

// ProgramCheck.cpp - semantic checks of a parsed program against the model and its weights.
//
// A compiler bug should surface as one clear load error, not as wrong numbers or a crash in a
// kernel: operand widths, weight shapes, row kinds, definition-before-use, the memory plan (no
// value overwrites one still needed) and per-layer KV-cache geometry are all checked here.
#include <algorithm>

#include "EngineParse.h"

namespace llmc::detail {

namespace {

std::string stepName(const Program& p, size_t i) {
  return "program.steps[" + std::to_string(i) + "] (" + opKindName(p.steps[i].op) + ")";
}

std::string shapeText(const std::vector<int64_t>& s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

}  // namespace

Status checkProgram(const ModelConfig& config, const std::vector<WeightInfo>& weights, Program* program) {
  Program& p = *program;
  const size_t nv = p.values.size();
  std::vector<int> definedAt(nv, -1);
  std::vector<int> lastUse(nv, -1);
  for (size_t i = 0; i < p.steps.size(); ++i) {
    for (int v : p.steps[i].in) {
      if (v >= 0) lastUse[v] = static_cast<int>(i);
    }
  }
  lastUse[p.output] = static_cast<int>(p.steps.size());  // read after the last step
  p.kvLayers.assign(static_cast<size_t>(config.numLayers), KVLayerInfo{});
  std::vector<bool> layerSeen(static_cast<size_t>(config.numLayers), false);

  for (size_t i = 0; i < p.steps.size(); ++i) {
    const Step& s = p.steps[i];
    const StepAttrs& a = s.attrs;
    const std::string where = stepName(p, i);
    auto bad = [&](const std::string& m) { return InvalidArgument(where + ": " + m); };
    auto width = [&](int v) { return v < 0 ? int64_t(1) : p.values[v].width; };
    auto inW = [&](size_t k) { return width(s.in[k]); };
    auto outW = [&](size_t k) { return width(s.out[k]); };
    auto expectWidth = [&](const char* what, int64_t got, int64_t want) -> Status {
      if (got != want) {
        return bad(std::string(what) + " width " + std::to_string(got) + ", expected " + std::to_string(want));
      }
      return Status::Ok();
    };
    auto expectShape = [&](int w, const std::vector<int64_t>& want) -> Status {
      if (w < 0) return Status::Ok();
      if (weights[w].shape != want) {
        return bad("weight '" + weights[w].name + "' has shape " + shapeText(weights[w].shape) +
                   ", expected " + shapeText(want));
      }
      return Status::Ok();
    };

    // Definition before use; each value defined once.
    for (int v : s.in) {
      if (v >= 0 && definedAt[v] < 0) return bad("reads value " + std::to_string(v) + " before any step writes it");
    }
    for (int v : s.out) {
      if (definedAt[v] >= 0) return bad("value " + std::to_string(v) + " is already written by step " +
                                        std::to_string(definedAt[v]));
    }

    // Row kinds: last_token turns "all" into "last"; every other op keeps its inputs' kind.
    Rows inRows = Rows::kAll;
    for (size_t k = 0; k < s.in.size(); ++k) {
      Rows r = s.in[k] < 0 ? Rows::kAll : p.values[s.in[k]].rows;
      if (k == 0) inRows = r;
      else if (r != inRows) return bad("mixes all-rows and last-row inputs");
    }
    Rows outRows = s.op == OpKind::kLastToken ? Rows::kLast : inRows;
    if (s.op == OpKind::kLastToken && inRows != Rows::kAll) return bad("input already has one row per sequence");
    if ((s.op == OpKind::kAttention || s.op == OpKind::kQkvAttention || s.op == OpKind::kRope ||
         s.op == OpKind::kPositionEmbedding) && inRows != Rows::kAll) {
      return bad("needs every token's row (input is rows=last)");
    }
    for (int v : s.out) {
      if (p.values[v].rows != outRows) {
        return bad("output value " + std::to_string(v) + " has rows=" +
                   (p.values[v].rows == Rows::kAll ? "all" : "last") + ", the op produces rows=" +
                   (outRows == Rows::kAll ? "all" : "last"));
      }
    }

    switch (s.op) {
      case OpKind::kEmbedding: {
        const auto& sh = weights[s.weight].shape;
        if (sh.size() != 2) return bad("embedding table must be 2-D, is " + shapeText(sh));
        LLMC_RETURN_IF_ERROR(expectWidth("output", outW(0), sh[1]));
        if (sh[0] < config.vocabSize) return bad("embedding table has " + std::to_string(sh[0]) +
                                                 " rows, vocab_size is " + std::to_string(config.vocabSize));
        break;
      }
      case OpKind::kPositionEmbedding: {
        const auto& sh = weights[s.weight].shape;
        if (sh.size() != 2) return bad("position table must be 2-D, is " + shapeText(sh));
        LLMC_RETURN_IF_ERROR(expectWidth("input", inW(0), sh[1]));
        LLMC_RETURN_IF_ERROR(expectWidth("output", outW(0), sh[1]));
        break;
      }
      case OpKind::kRmsNorm:
      case OpKind::kLayerNorm:
        LLMC_RETURN_IF_ERROR(expectWidth("output", outW(0), inW(0)));
        LLMC_RETURN_IF_ERROR(expectShape(s.weight, {inW(0)}));
        LLMC_RETURN_IF_ERROR(expectShape(s.bias, {inW(0)}));
        break;
      case OpKind::kAddRmsNorm:
        LLMC_RETURN_IF_ERROR(expectWidth("input 1", inW(1), inW(0)));
        LLMC_RETURN_IF_ERROR(expectWidth("output 0", outW(0), inW(0)));
        LLMC_RETURN_IF_ERROR(expectWidth("output 1", outW(1), inW(0)));
        LLMC_RETURN_IF_ERROR(expectShape(s.weight, {inW(0)}));
        break;
      case OpKind::kLinear: {
        const auto& sh = weights[s.weight].shape;
        if (sh.size() != 2) return bad("linear weight must be 2-D [N, K], is " + shapeText(sh));
        LLMC_RETURN_IF_ERROR(expectWidth("input", inW(0), sh[1]));
        LLMC_RETURN_IF_ERROR(expectWidth("output", outW(0), sh[0]));
        LLMC_RETURN_IF_ERROR(expectShape(s.bias, {sh[0]}));
        break;
      }
      case OpKind::kSplit: {
        if (a.sizes.size() != s.out.size()) return bad("sizes has " + std::to_string(a.sizes.size()) +
                                                       " entries for " + std::to_string(s.out.size()) + " outputs");
        int64_t sum = 0;
        for (size_t k = 0; k < a.sizes.size(); ++k) {
          LLMC_RETURN_IF_ERROR(expectWidth("output", outW(k), a.sizes[k]));
          sum += a.sizes[k];
        }
        LLMC_RETURN_IF_ERROR(expectWidth("input", inW(0), sum));
        break;
      }
      case OpKind::kRope:
      case OpKind::kQkvAttention:
      case OpKind::kAttention: {
        if (a.headDim <= 0) return bad("head_dim must be positive");
        if (s.op != OpKind::kAttention) {
          if (a.rotaryDim <= 0 || a.rotaryDim > a.headDim || a.rotaryDim % 2 != 0) {
            return bad("rotary_dim " + std::to_string(a.rotaryDim) + " must be even and in (0, head_dim " +
                       std::to_string(a.headDim) + "]");
          }
          if (static_cast<int64_t>(a.invFreq.size()) != a.rotaryDim / 2) {
            return bad("inv_freq has " + std::to_string(a.invFreq.size()) + " entries, rotary_dim/2 is " +
                       std::to_string(a.rotaryDim / 2));
          }
        }
        if (s.op == OpKind::kRope) {
          if (inW(0) % a.headDim != 0) return bad("width " + std::to_string(inW(0)) + " is not a multiple of head_dim");
          LLMC_RETURN_IF_ERROR(expectWidth("output", outW(0), inW(0)));
          break;
        }
        if (a.numHeads <= 0 || a.numKvHeads <= 0 || a.numHeads % a.numKvHeads != 0) {
          return bad("num_heads " + std::to_string(a.numHeads) + " must be a positive multiple of num_kv_heads " +
                     std::to_string(a.numKvHeads));
        }
        if (a.layer >= config.numLayers) {
          return bad("layer " + std::to_string(a.layer) + " >= num_layers " + std::to_string(config.numLayers));
        }
        if (layerSeen[a.layer]) return bad("layer " + std::to_string(a.layer) + " has a second attention step");
        layerSeen[a.layer] = true;
        p.kvLayers[a.layer] = KVLayerInfo{a.numKvHeads, a.headDim};
        const int64_t q = a.numHeads * a.headDim, kv = a.numKvHeads * a.headDim;
        if (s.op == OpKind::kAttention) {
          LLMC_RETURN_IF_ERROR(expectWidth("q", inW(0), q));
          LLMC_RETURN_IF_ERROR(expectWidth("k", inW(1), kv));
          LLMC_RETURN_IF_ERROR(expectWidth("v", inW(2), kv));
        } else {
          LLMC_RETURN_IF_ERROR(expectWidth("qkv", inW(0), q + 2 * kv));
        }
        LLMC_RETURN_IF_ERROR(expectWidth("output", outW(0), q));
        break;
      }
      case OpKind::kSilu:
      case OpKind::kGelu:
      case OpKind::kLastToken:
        LLMC_RETURN_IF_ERROR(expectWidth("output", outW(0), inW(0)));
        break;
      case OpKind::kAdd:
      case OpKind::kMul:
        LLMC_RETURN_IF_ERROR(expectWidth("input 1", inW(1), inW(0)));
        LLMC_RETURN_IF_ERROR(expectWidth("output", outW(0), inW(0)));
        break;
      case OpKind::kGlu:
        LLMC_RETURN_IF_ERROR(expectWidth("input", inW(0), 2 * outW(0)));
        break;
    }

    // Memory plan: an output may not overlap a value that is read after this step (sharing space
    // with an input read only here is fine: the backend handles in-place steps).
    for (int o : s.out) {
      const ValueInfo& ov = p.values[o];
      for (size_t v = 0; v < nv; ++v) {
        if (definedAt[v] < 0 || lastUse[v] <= static_cast<int>(i)) continue;
        const ValueInfo& lv = p.values[v];
        if (ov.offset < lv.offset + lv.width && lv.offset < ov.offset + ov.width) {
          return bad("memory plan: output value " + std::to_string(o) + " overlaps value " + std::to_string(v) +
                     ", which is still read by step " + std::to_string(lastUse[v]));
        }
      }
    }
    // Outputs of one step must not overlap each other.
    for (size_t x = 0; x < s.out.size(); ++x) {
      for (size_t y = x + 1; y < s.out.size(); ++y) {
        const ValueInfo &a1 = p.values[s.out[x]], &b1 = p.values[s.out[y]];
        if (a1.offset < b1.offset + b1.width && b1.offset < a1.offset + a1.width) {
          return bad("memory plan: outputs " + std::to_string(s.out[x]) + " and " + std::to_string(s.out[y]) +
                     " overlap");
        }
      }
    }
    for (int v : s.out) definedAt[v] = static_cast<int>(i);
  }

  if (definedAt[p.output] < 0) return InvalidArgument("program.output: value " + std::to_string(p.output) +
                                                      " is never written");
  if (p.values[p.output].width != config.vocabSize) {
    return InvalidArgument("program.output: width " + std::to_string(p.values[p.output].width) +
                           ", vocab_size is " + std::to_string(config.vocabSize));
  }
  // Every layer the model declares has exactly one attention step (its KV cache).
  for (int64_t l = 0; l < config.numLayers; ++l) {
    if (!layerSeen[l]) return InvalidArgument("program: no attention step for layer " + std::to_string(l) +
                                              " (num_layers is " + std::to_string(config.numLayers) + ")");
  }
  return Status::Ok();
}

}  // namespace llmc::detail

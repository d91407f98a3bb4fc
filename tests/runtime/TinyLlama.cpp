// TinyLlama.cpp - tiny Llama engines for tests and an independent float64 reference forward.
#include "TinyLlama.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include <nlohmann/json.hpp>

#include "llmc/runtime/EngineFileWriter.h"
#include "llmc/runtime/HalfFloat.h"

namespace llmc::test {

using nlohmann::json;

namespace {

float roundTo(engine::DType d, float x) {
  switch (d) {
    case engine::DType::kF16: return f16ToFloat(floatToF16(x));
    case engine::DType::kBF16: return bf16ToFloat(floatToBf16(x));
    default: return x;
  }
}

std::string layerName(int l, const std::string& rest) { return "model.layers." + std::to_string(l) + "." + rest; }

// Program under construction: values (width, rows), steps, then a first-fit memory plan.
struct ProgramBuilder {
  struct Val {
    int64_t width;
    std::string rows;
  };
  std::vector<Val> values;
  std::vector<json> steps;
  std::vector<std::vector<int>> stepIn, stepOut;

  int value(int64_t width, const std::string& rows = "all") {
    values.push_back({width, rows});
    return static_cast<int>(values.size()) - 1;
  }
  void step(const std::string& op, std::vector<int> in, std::vector<int> out, json weights = json::object(),
            json attrs = json::object()) {
    json s;
    s["op"] = op;
    s["in"] = in;
    s["out"] = out;
    s["weights"] = weights;
    s["attrs"] = attrs;
    steps.push_back(s);
    stepIn.push_back(in);
    stepOut.push_back(out);
  }
  // Greedy first-fit by liveness: a value lives from its defining step to its last reader.
  json finish(int output, bool reuseInputs) {
    const int n = static_cast<int>(values.size());
    std::vector<int> last(n, -1);
    for (size_t j = 0; j < steps.size(); ++j) {
      for (int v : stepIn[j]) if (v >= 0) last[v] = static_cast<int>(j);
    }
    last[output] = static_cast<int>(steps.size());
    std::vector<int64_t> offset(n, -1);
    std::vector<int> live;
    int64_t arena = 0;
    for (size_t j = 0; j < steps.size(); ++j) {
      // Values dead before this step (or, when reuseInputs, read for the last time by it) free up.
      live.erase(std::remove_if(live.begin(), live.end(),
                                [&](int v) {
                                  return last[v] < static_cast<int>(j) ||
                                         (reuseInputs && last[v] == static_cast<int>(j));
                                }),
                 live.end());
      for (int o : stepOut[j]) {
        std::vector<std::pair<int64_t, int64_t>> busy;
        for (int v : live) busy.emplace_back(offset[v], offset[v] + values[v].width);
        std::sort(busy.begin(), busy.end());
        int64_t at = 0;
        for (auto& b : busy) {
          if (at + values[o].width <= b.first) break;
          at = std::max(at, b.second);
        }
        offset[o] = at;
        arena = std::max(arena, at + values[o].width);
        live.push_back(o);
      }
    }
    json p;
    p["arena_per_token"] = arena;
    json vals = json::array();
    for (int v = 0; v < n; ++v) {
      vals.push_back({{"width", values[v].width}, {"offset", offset[v]}, {"rows", values[v].rows}});
    }
    p["values"] = vals;
    p["steps"] = steps;
    p["output"] = output;
    return p;
  }
};

}  // namespace

TinyLlama makeTinyLlama(const TinyLlamaConfig& cfgIn) {
  TinyLlama m;
  m.cfg = cfgIn;
  TinyLlamaConfig& c = m.cfg;
  if (c.rotaryDim == 0) c.rotaryDim = c.headDim;
  std::mt19937 rng(c.seed);
  auto add = [&](const std::string& name, std::vector<int64_t> shape, float lo, float hi) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::uniform_real_distribution<float> u(lo, hi);
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = roundTo(c.dtype, u(rng));
    m.weights[name] = std::move(v);
    m.shapes[name] = std::move(shape);
  };
  const int H = c.hidden, qd = c.heads * c.headDim, kvd = c.kvHeads * c.headDim;
  auto lin = [&](const std::string& name, int n, int k) {
    float s = 1.7f / std::sqrt(static_cast<float>(k));
    add(name, {n, k}, -s, s);
  };
  add("model.embed_tokens.weight", {c.vocab, H}, -1.0f, 1.0f);
  for (int l = 0; l < c.layers; ++l) {
    add(layerName(l, "input_layernorm.weight"), {H}, 0.8f, 1.2f);
    lin(layerName(l, "self_attn.q_proj.weight"), qd, H);
    lin(layerName(l, "self_attn.k_proj.weight"), kvd, H);
    lin(layerName(l, "self_attn.v_proj.weight"), kvd, H);
    lin(layerName(l, "self_attn.o_proj.weight"), H, qd);
    add(layerName(l, "post_attention_layernorm.weight"), {H}, 0.8f, 1.2f);
    lin(layerName(l, "mlp.gate_proj.weight"), c.inter, H);
    lin(layerName(l, "mlp.up_proj.weight"), c.inter, H);
    lin(layerName(l, "mlp.down_proj.weight"), H, c.inter);
  }
  add("model.norm.weight", {H}, 0.8f, 1.2f);
  if (!c.tieEmbeddings) lin("lm_head.weight", c.vocab, H);
  return tinyLlamaFromWeights(c, std::move(m.weights), std::move(m.shapes));
}

TinyLlama tinyLlamaFromWeights(const TinyLlamaConfig& cfgIn, std::map<std::string, std::vector<float>> weights,
                               std::map<std::string, std::vector<int64_t>> shapes) {
  TinyLlama m;
  m.cfg = cfgIn;
  TinyLlamaConfig& c = m.cfg;
  if (c.rotaryDim == 0) c.rotaryDim = c.headDim;
  m.weights = std::move(weights);
  m.shapes = std::move(shapes);
  const int H = c.hidden, qd = c.heads * c.headDim, kvd = c.kvHeads * c.headDim;
  for (int i = 0; i < c.rotaryDim / 2; ++i) {
    m.invFreq.push_back(static_cast<float>(std::pow(c.theta, -2.0 * i / c.rotaryDim)));
  }
  if (c.fused) {
    // Derived weights, as the compiler's QKV / gate-up fusion would record them: row concatenation.
    for (int l = 0; l < c.layers; ++l) {
      std::vector<float> qkv;
      for (const char* p : {"q_proj", "k_proj", "v_proj"}) {
        const auto& w = m.weights[layerName(l, std::string("self_attn.") + p + ".weight")];
        qkv.insert(qkv.end(), w.begin(), w.end());
      }
      m.weights[layerName(l, "self_attn.qkv_proj.weight")] = qkv;
      m.shapes[layerName(l, "self_attn.qkv_proj.weight")] = {qd + 2 * kvd, H};
      std::vector<float> gu = m.weights[layerName(l, "mlp.gate_proj.weight")];
      const auto& up = m.weights[layerName(l, "mlp.up_proj.weight")];
      gu.insert(gu.end(), up.begin(), up.end());
      m.weights[layerName(l, "mlp.gate_up_proj.weight")] = gu;
      m.shapes[layerName(l, "mlp.gate_up_proj.weight")] = {2 * c.inter, H};
    }
  }
  return m;
}

std::string TinyLlama::metaJson() const {
  const TinyLlamaConfig& c = cfg;
  json model = {{"architecture", "llama"},      {"vocab_size", c.vocab},    {"hidden_size", c.hidden},
                {"num_layers", c.layers},       {"num_heads", c.heads},     {"num_kv_heads", c.kvHeads},
                {"head_dim", c.headDim},        {"max_position", c.maxPos}, {"bos_token_id", 1},
                {"eos_token_ids", c.eos},       {"sliding_window", c.slidingWindow},
                {"dtype", engine::dtypeName(c.dtype)}};
  std::map<std::string, uint64_t> offsets;
  weightsSection(&offsets);
  json ws = json::array();
  for (const auto& [name, off] : offsets) {
    const auto& shape = shapes.at(name);
    uint64_t n = 1;
    for (int64_t d : shape) n *= static_cast<uint64_t>(d);
    ws.push_back({{"name", name},
                  {"dtype", engine::dtypeName(c.dtype)},
                  {"shape", shape},
                  {"offset", off},
                  {"nbytes", n * engine::dtypeBytes(c.dtype)}});
  }
  json meta = {{"model", model}, {"build", {{"producer", "llmc runtime tests"}}}, {"weights", ws},
               {"report", json::object()}};
  return meta.dump();
}

std::string TinyLlama::weightsSection(std::map<std::string, uint64_t>* offsets) const {
  std::string bytes;
  for (const auto& [name, values] : weights) {
    bytes.resize(engine::alignUp(bytes.size()), '\0');
    (*offsets)[name] = bytes.size();
    for (float x : values) {
      if (cfg.dtype == engine::DType::kF32) {
        bytes.append(reinterpret_cast<const char*>(&x), 4);
      } else {
        uint16_t h = cfg.dtype == engine::DType::kF16 ? floatToF16(x) : floatToBf16(x);
        bytes.append(reinterpret_cast<const char*>(&h), 2);
      }
    }
  }
  return bytes;
}

std::string TinyLlama::programJson() const {
  const TinyLlamaConfig& c = cfg;
  const int H = c.hidden, qd = c.heads * c.headDim, kvd = c.kvHeads * c.headDim;
  ProgramBuilder b;
  json attn = {{"num_heads", c.heads}, {"num_kv_heads", c.kvHeads}, {"head_dim", c.headDim},
               {"scale", 1.0 / std::sqrt(static_cast<double>(c.headDim))}, {"sliding_window", c.slidingWindow}};
  json ropeAttrs = {{"head_dim", c.headDim}, {"rotary_dim", c.rotaryDim}, {"inv_freq", invFreq},
                    {"interleaved", c.interleaved}};
  auto W = [](const std::string& n) { return json{{"weight", n}}; };
  auto norm = [&](const std::string& n) { return json{{"eps", c.eps}}; };

  int x = b.value(H);
  b.step("embedding", {-1}, {x}, W("model.embed_tokens.weight"), {{"scale", 1.0}});
  int pendingDelta = -1;  // fused: the residual add is folded into the next add_rms_norm
  for (int l = 0; l < c.layers; ++l) {
    json a = attn;
    a["layer"] = l;
    int h = b.value(H);
    if (c.fused && pendingDelta >= 0) {
      int sum = b.value(H);
      b.step("add_rms_norm", {pendingDelta, x}, {sum, h}, W(layerName(l, "input_layernorm.weight")), norm(""));
      x = sum;
    } else {
      b.step("rms_norm", {x}, {h}, W(layerName(l, "input_layernorm.weight")), norm(""));
    }
    int att = b.value(qd);
    if (c.fused) {
      int qkv = b.value(qd + 2 * kvd);
      b.step("linear", {h}, {qkv}, W(layerName(l, "self_attn.qkv_proj.weight")));
      json qa = a;
      for (auto& [k, v] : ropeAttrs.items()) qa[k] = v;
      b.step("qkv_attention", {qkv}, {att}, json::object(), qa);
    } else {
      int q = b.value(qd), k = b.value(kvd), v = b.value(kvd), qr = b.value(qd), kr = b.value(kvd);
      b.step("linear", {h}, {q}, W(layerName(l, "self_attn.q_proj.weight")));
      b.step("linear", {h}, {k}, W(layerName(l, "self_attn.k_proj.weight")));
      b.step("linear", {h}, {v}, W(layerName(l, "self_attn.v_proj.weight")));
      b.step("rope", {q}, {qr}, json::object(), ropeAttrs);
      b.step("rope", {k}, {kr}, json::object(), ropeAttrs);
      b.step("attention", {qr, kr, v}, {att}, json::object(), a);
    }
    int o = b.value(H);
    b.step("linear", {att}, {o}, W(layerName(l, "self_attn.o_proj.weight")));
    int h2 = b.value(H);
    int mlpIn;
    if (c.fused) {
      int sum = b.value(H);
      b.step("add_rms_norm", {o, x}, {sum, h2}, W(layerName(l, "post_attention_layernorm.weight")), norm(""));
      x = sum;
      int gu = b.value(2 * c.inter);
      b.step("linear", {h2}, {gu}, W(layerName(l, "mlp.gate_up_proj.weight")));
      mlpIn = b.value(c.inter);
      b.step("glu", {gu}, {mlpIn}, json::object(), {{"activation", "silu"}});
    } else {
      int sum = b.value(H);
      b.step("add", {x, o}, {sum});
      x = sum;
      b.step("rms_norm", {x}, {h2}, W(layerName(l, "post_attention_layernorm.weight")), norm(""));
      int g = b.value(c.inter), u = b.value(c.inter), sg = b.value(c.inter);
      b.step("linear", {h2}, {g}, W(layerName(l, "mlp.gate_proj.weight")));
      b.step("linear", {h2}, {u}, W(layerName(l, "mlp.up_proj.weight")));
      b.step("silu", {g}, {sg});
      mlpIn = b.value(c.inter);
      b.step("mul", {sg, u}, {mlpIn});
    }
    int d = b.value(H);
    b.step("linear", {mlpIn}, {d}, W(layerName(l, "mlp.down_proj.weight")));
    if (c.fused) {
      pendingDelta = d;
    } else {
      int sum = b.value(H);
      b.step("add", {x, d}, {sum});
      x = sum;
    }
  }
  int f = b.value(H);
  if (c.fused) {
    int sum = b.value(H);
    b.step("add_rms_norm", {pendingDelta, x}, {sum, f}, W("model.norm.weight"), norm(""));
  } else {
    b.step("rms_norm", {x}, {f}, W("model.norm.weight"), norm(""));
  }
  int last = b.value(H, "last");
  b.step("last_token", {f}, {last});
  int logits = b.value(c.vocab, "last");
  b.step("linear", {last}, {logits}, W(c.tieEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight"));
  return b.finish(logits, c.reuseInputs).dump();
}

Status TinyLlama::write(const std::string& path, const std::string& tokenizerJson,
                        const std::string& tokenizerConfigJson) const {
  EngineFileWriter w("llmc-test");
  LLMC_RETURN_IF_ERROR(w.addSection(engine::kSectionMeta, metaJson()));
  LLMC_RETURN_IF_ERROR(w.addSection(engine::kSectionProgram, programJson()));
  if (!tokenizerJson.empty()) LLMC_RETURN_IF_ERROR(w.addSection(engine::kSectionTokenizer, tokenizerJson));
  if (!tokenizerConfigJson.empty()) {
    LLMC_RETURN_IF_ERROR(w.addSection(engine::kSectionTokenizerConfig, tokenizerConfigJson));
  }
  std::map<std::string, uint64_t> offsets;
  std::string ws = weightsSection(&offsets);
  // Streamed in uneven pieces, as the compiler's writer does.
  LLMC_RETURN_IF_ERROR(w.addStreamedSection(engine::kSectionWeights, ws.size(), [&](SectionSink& sink) -> Status {
    size_t at = 0, piece = 1000;
    while (at < ws.size()) {
      size_t n = std::min(piece, ws.size() - at);
      LLMC_RETURN_IF_ERROR(sink.write(ws.data() + at, n));
      at += n;
      piece = piece * 3 % 7919 + 1;
    }
    return Status::Ok();
  }));
  return w.write(path);
}

Status writeRawEngine(const std::string& path, const std::string& meta, const std::string& program,
                      const std::string& weights) {
  EngineFileWriter w("llmc-test");
  LLMC_RETURN_IF_ERROR(w.addSection(engine::kSectionMeta, meta));
  LLMC_RETURN_IF_ERROR(w.addSection(engine::kSectionProgram, program));
  LLMC_RETURN_IF_ERROR(w.addSection(engine::kSectionWeights, weights));
  return w.write(path);
}

// ---- float64 reference -----------------------------------------------------------------------

namespace {

using Mat = std::vector<std::vector<double>>;  // [rows][cols]

Mat matmulT(const Mat& x, const std::vector<float>& w, int n, int k) {  // x [T,k] * w[n,k]^T
  Mat y(x.size(), std::vector<double>(n, 0.0));
  for (size_t t = 0; t < x.size(); ++t) {
    for (int i = 0; i < n; ++i) {
      double s = 0;
      for (int j = 0; j < k; ++j) s += x[t][j] * static_cast<double>(w[static_cast<size_t>(i) * k + j]);
      y[t][i] = s;
    }
  }
  return y;
}

Mat rms(const Mat& x, const std::vector<float>& w, double eps) {
  Mat y = x;
  for (auto& row : y) {
    double ss = 0;
    for (double v : row) ss += v * v;
    double inv = 1.0 / std::sqrt(ss / row.size() + eps);
    for (size_t i = 0; i < row.size(); ++i) row[i] = row[i] * inv * w[i];
  }
  return y;
}

void ropeRef(Mat& x, int heads, const TinyLlama& m) {
  const auto& c = m.cfg;
  const int half = c.rotaryDim / 2;
  for (size_t t = 0; t < x.size(); ++t) {
    for (int h = 0; h < heads; ++h) {
      double* v = x[t].data() + h * c.headDim;
      for (int i = 0; i < half; ++i) {
        double ang = static_cast<double>(t) * static_cast<double>(m.invFreq[i]);
        int a = c.interleaved ? 2 * i : i, b = c.interleaved ? 2 * i + 1 : i + half;
        double x0 = v[a], x1 = v[b];
        v[a] = x0 * std::cos(ang) - x1 * std::sin(ang);
        v[b] = x1 * std::cos(ang) + x0 * std::sin(ang);
      }
    }
  }
}

}  // namespace

std::vector<std::vector<double>> referenceLogits(const TinyLlama& m, const std::vector<int32_t>& tokens) {
  const auto& c = m.cfg;
  const int H = c.hidden, T = static_cast<int>(tokens.size()), qd = c.heads * c.headDim, kvd = c.kvHeads * c.headDim;
  auto w = [&](const std::string& n) -> const std::vector<float>& { return m.weights.at(n); };
  Mat x(T, std::vector<double>(H));
  const auto& emb = w("model.embed_tokens.weight");
  for (int t = 0; t < T; ++t) {
    for (int i = 0; i < H; ++i) x[t][i] = emb[static_cast<size_t>(tokens[t]) * H + i];
  }
  for (int l = 0; l < c.layers; ++l) {
    Mat h = rms(x, w(layerName(l, "input_layernorm.weight")), c.eps);
    Mat q = matmulT(h, w(layerName(l, "self_attn.q_proj.weight")), qd, H);
    Mat k = matmulT(h, w(layerName(l, "self_attn.k_proj.weight")), kvd, H);
    Mat v = matmulT(h, w(layerName(l, "self_attn.v_proj.weight")), kvd, H);
    ropeRef(q, c.heads, m);
    ropeRef(k, c.kvHeads, m);
    Mat att(T, std::vector<double>(qd, 0.0));
    const double scale = 1.0 / std::sqrt(static_cast<double>(c.headDim));
    for (int t = 0; t < T; ++t) {
      for (int hh = 0; hh < c.heads; ++hh) {
        const int kvh = hh / (c.heads / c.kvHeads);
        const int lo = c.slidingWindow > 0 ? std::max(0, t - c.slidingWindow + 1) : 0;
        std::vector<double> s;
        double mx = -1e300;
        for (int p = lo; p <= t; ++p) {
          double d = 0;
          for (int i = 0; i < c.headDim; ++i) d += q[t][hh * c.headDim + i] * k[p][kvh * c.headDim + i];
          s.push_back(d * scale);
          mx = std::max(mx, d * scale);
        }
        double sum = 0;
        for (double& e : s) sum += (e = std::exp(e - mx));
        for (int p = lo; p <= t; ++p) {
          for (int i = 0; i < c.headDim; ++i) {
            att[t][hh * c.headDim + i] += s[p - lo] / sum * v[p][kvh * c.headDim + i];
          }
        }
      }
    }
    Mat o = matmulT(att, w(layerName(l, "self_attn.o_proj.weight")), H, qd);
    for (int t = 0; t < T; ++t) for (int i = 0; i < H; ++i) x[t][i] += o[t][i];
    Mat h2 = rms(x, w(layerName(l, "post_attention_layernorm.weight")), c.eps);
    Mat g = matmulT(h2, w(layerName(l, "mlp.gate_proj.weight")), c.inter, H);
    Mat u = matmulT(h2, w(layerName(l, "mlp.up_proj.weight")), c.inter, H);
    for (int t = 0; t < T; ++t) {
      for (int i = 0; i < c.inter; ++i) g[t][i] = g[t][i] / (1.0 + std::exp(-g[t][i])) * u[t][i];
    }
    Mat d = matmulT(g, w(layerName(l, "mlp.down_proj.weight")), H, c.inter);
    for (int t = 0; t < T; ++t) for (int i = 0; i < H; ++i) x[t][i] += d[t][i];
  }
  Mat f = rms(x, w("model.norm.weight"), c.eps);
  return matmulT(f, w(c.tieEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight"), c.vocab, H);
}

}  // namespace llmc::test

//===- RaiseGelu.cpp - decomposed GELU -> llm.gelu -------------------------===//
//
// Owner: onnx. llmc-raise-gelu. Matches the two GELUs as products of factors, whatever the
// order and grouping the exporter chose:
//   0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))   -> llm.gelu {approximate = "tanh"}
//   0.5 * x * (1 + erf(x / sqrt(2)))                           -> llm.gelu {approximate = "none"}
// x^3 may be pow(x, 3) or x * x * x; a division by a constant counts as a factor 1/c. torch's
// opset-18 export spells HF's gelu_new / gelu_pytorch_tanh out this way; the importer expands
// ONNX Gelu (20) the same way. Runs before llmc-raise-elementwise, which would take the
// products apart.
//
//===----------------------------------------------------------------------===//

#include "RaisingUtils.h"

#include "llmc/Passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace llmc {
#define GEN_PASS_DEF_RAISEGELU
#include "llmc/Passes/Passes.h.inc"
} // namespace llmc

using namespace mlir;
using namespace llmc;
using namespace llmc::raising;

namespace {

// v without reshapes between token rows of the same width (the same activation).
Value rows(Value v) {
  while (auto r = v.getDefiningOp<llm::ReshapeOp>()) {
    auto in = tensorType(r.getInput()), out = tensorType(v);
    if (!in || !out || in.getRank() == 0 || in.getShape().back() != out.getShape().back() ||
        !(isActivation2D(r.getInput()) || isTokenRows(in)) || !isTokenRows(out))
      break;
    v = r.getInput();
  }
  return v;
}

// A product flattened into its factors: scalar constants multiplied into `scale`, copies of
// `x` (pow(x, n) counts n) in `xCount`, anything else in `others`.
struct Product {
  double scale = 1.0;
  int xCount = 0;
  SmallVector<Value> others;
};

void flatten(Value v, Value x, Product &p, int depth = 0) {
  if (depth > 16) {
    p.others.push_back(v);
    return;
  }
  if (std::optional<double> c = scalarConstant(v)) {
    p.scale *= *c;
    return;
  }
  if (x && rows(v) == x) {
    ++p.xCount;
    return;
  }
  if (auto m = binaryOf(v, "mul")) {
    flatten(m.getLhs(), x, p, depth + 1);
    flatten(m.getRhs(), x, p, depth + 1);
    return;
  }
  if (auto d = binaryOf(v, "div")) {
    if (std::optional<double> c = scalarConstant(d.getRhs()); c && *c != 0.0) {
      flatten(d.getLhs(), x, p, depth + 1);
      p.scale /= *c;
      return;
    }
  }
  if (auto pw = binaryOf(v, "pow")) {
    std::optional<double> n = scalarConstant(pw.getRhs());
    if (x && n && *n >= 1 && *n <= 4 && *n == std::floor(*n) && rows(pw.getLhs()) == x) {
      p.xCount += static_cast<int>(*n);
      return;
    }
  }
  p.others.push_back(v);
}

bool near(double a, double b) { return std::fabs(a - b) <= 1e-6 * std::fabs(b); }

// v = a * c, c * a or a / c with c a scalar constant: the scale c (1/c) and `a`.
std::optional<double> scaled(Value v, Value &a) {
  if (auto m = binaryOf(v, "mul")) {
    for (auto [val, k] : {std::pair(m.getLhs(), m.getRhs()), std::pair(m.getRhs(), m.getLhs())})
      if (std::optional<double> c = scalarConstant(k)) {
        a = val;
        return c;
      }
  } else if (auto d = binaryOf(v, "div")) {
    std::optional<double> c = scalarConstant(d.getRhs());
    if (c && *c != 0.0) {
      a = d.getLhs();
      return 1.0 / *c;
    }
  }
  return std::nullopt;
}

// The approximation ("tanh" / "none") and x when `f` is 1 + tanh(..) or 1 + erf(..) of a GELU.
std::optional<std::pair<StringRef, Value>> matchOnePlus(Value f) {
  auto add = binaryOf(f, "add");
  if (!add)
    return std::nullopt;
  Value u = add.getRhs();
  std::optional<double> one = scalarConstant(add.getLhs());
  if (!one) {
    u = add.getLhs();
    one = scalarConstant(add.getRhs());
  }
  if (!one || *one != 1.0)
    return std::nullopt;
  Value arg;
  if (auto e = unaryOf(u, "erf")) {
    // erf(x / sqrt(2))
    std::optional<double> k = scaled(e.getInput(), arg);
    if (!k || !near(*k, M_SQRT1_2))
      return std::nullopt;
    return std::pair(StringRef("none"), rows(arg));
  }
  auto t = unaryOf(u, "tanh");
  if (!t)
    return std::nullopt;
  // tanh(sqrt(2/pi) * (x + 0.044715 * x^3))
  std::optional<double> k = scaled(t.getInput(), arg);
  if (!k || !near(*k, std::sqrt(2.0 / M_PI)))
    return std::nullopt;
  auto sum = binaryOf(arg, "add");
  if (!sum)
    return std::nullopt;
  for (auto [xv, cube] : {std::pair(sum.getLhs(), sum.getRhs()), std::pair(sum.getRhs(), sum.getLhs())}) {
    Value x = rows(xv);
    Product c;
    flatten(cube, x, c);
    if (c.xCount == 3 && c.others.empty() && near(c.scale, 0.044715))
      return std::pair(StringRef("tanh"), x);
  }
  return std::nullopt;
}

struct RaiseGeluPattern : OpRewritePattern<llm::ElemBinaryOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(llm::ElemBinaryOp mul, PatternRewriter &rewriter) const override {
    if (mul.getFn() != "mul" || !isTokenRows(mul.getType()))
      return rewriter.notifyMatchFailure(mul, "not a mul producing token rows");
    // Find the (1 + tanh|erf) factor first: it names x.
    Product all;
    flatten(mul.getResult(), Value(), all);
    for (Value f : all.others) {
      std::optional<std::pair<StringRef, Value>> m = matchOnePlus(f);
      if (!m)
        continue;
      auto [approx, x] = *m;
      Product p;
      flatten(mul.getResult(), x, p);
      if (p.xCount != 1 || p.others.size() != 1 || p.others[0] != f || !near(p.scale, 0.5))
        continue;
      auto xt = tensorType(x);
      if (!xt || xt.getShape().back() != mul.getType().getShape().back() ||
          !(isActivation2D(x) || isTokenRows(xt)))
        return rewriter.notifyMatchFailure(mul, "GELU input is not token rows of its width");
      Value x2 = as2D(rewriter, x);
      Value y = rewriter.create<llm::GeluOp>(mul.getLoc(), x2, approx);
      rewriter.replaceOp(mul, from2D(rewriter, mul.getLoc(), y, mul.getType()));
      return success();
    }
    return rewriter.notifyMatchFailure(mul, "not 0.5 * x * (1 + tanh|erf(..)) of one x");
  }
};

struct RaiseGeluPass : llmc::impl::RaiseGeluBase<RaiseGeluPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseGeluPattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

//===- WeightMaterializer.cpp - weight symbols -> engine bytes ------------===//
//
// Owned by the compiler (cc). Every weight is seen as a matrix [rows, cols] with rows = dim 0 and
// cols = the product of the other dims (a 1-D [N] weight is [N, 1]). Concat along axis 0 stacks
// rows; along axis 1 it joins each row's flattened tail, which is the same as concatenating
// along dim 1 for any rank. Nodes produce f32 rows; the last stage narrows to the engine dtype.
// Going through f32 is exact for F16/BF16 sources, so every conversion rounds exactly once.
//
//===----------------------------------------------------------------------===//
#include "llmc/Codegen/WeightMaterializer.h"

#include "llmc/runtime/HalfFloat.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

namespace llmc::codegen {
namespace {

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t rowsOf(const std::vector<int64_t> &shape) { return shape.empty() ? 1 : shape[0]; }
int64_t colsOf(const std::vector<int64_t> &shape) {
  int64_t c = 1;
  for (size_t i = 1; i < shape.size(); ++i)
    c *= shape[i];
  return c;
}

// Produces rows of a weight as f32.
class Node {
 public:
  Node(int64_t rows, int64_t cols) : rows_(rows), cols_(cols) {}
  virtual ~Node() = default;
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  // Writes rows [r0, r0 + n) into out (n * cols floats).
  virtual Status read(int64_t r0, int64_t n, float *out) = 0;
  // Source tensor names under this node (for WeightProvider::release).
  virtual void sources(std::vector<std::string> &out) const = 0;

 private:
  int64_t rows_, cols_;
};

class SourceNode final : public Node {
 public:
  explicit SourceNode(TensorView v) : Node(rowsOf(v.shape), colsOf(v.shape)), v_(std::move(v)) {}
  Status read(int64_t r0, int64_t n, float *out) override {
    const uint64_t first = static_cast<uint64_t>(r0) * cols();
    const uint64_t count = static_cast<uint64_t>(n) * cols();
    switch (v_.dtype) {
    case SourceDType::kF32:
      std::memcpy(out, v_.data + first * 4, count * 4);
      break;
    case SourceDType::kF16:
    case SourceDType::kBF16: {
      const uint8_t *p = v_.data + first * 2;
      const bool isF16 = v_.dtype == SourceDType::kF16;
      for (uint64_t i = 0; i < count; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);  // the mapping has no alignment guarantee
        out[i] = isF16 ? f16ToFloat(h) : bf16ToFloat(h);
      }
      break;
    }
    }
    return Status::Ok();
  }
  void sources(std::vector<std::string> &out) const override { out.push_back(v_.name); }

 private:
  TensorView v_;
};

class ConcatNode final : public Node {
 public:
  ConcatNode(std::vector<std::unique_ptr<Node>> parts, int64_t axis, int64_t rows, int64_t cols)
      : Node(rows, cols), parts_(std::move(parts)), axis_(axis) {}
  Status read(int64_t r0, int64_t n, float *out) override {
    if (axis_ == 0) {
      int64_t base = 0;  // first row of the current part
      for (auto &p : parts_) {
        int64_t lo = std::max(r0, base), hi = std::min(r0 + n, base + p->rows());
        if (lo < hi)
          LLMC_RETURN_IF_ERROR(p->read(lo - base, hi - lo, out + (lo - r0) * cols()));
        base += p->rows();
      }
      return Status::Ok();
    }
    // axis 1: each output row is the parts' rows side by side.
    int64_t col0 = 0;
    for (auto &p : parts_) {
      tmp_.resize(static_cast<size_t>(n * p->cols()));
      LLMC_RETURN_IF_ERROR(p->read(r0, n, tmp_.data()));
      for (int64_t r = 0; r < n; ++r)
        std::memcpy(out + r * cols() + col0, tmp_.data() + r * p->cols(), p->cols() * sizeof(float));
      col0 += p->cols();
    }
    return Status::Ok();
  }
  void sources(std::vector<std::string> &out) const override {
    for (auto &p : parts_)
      p->sources(out);
  }

 private:
  std::vector<std::unique_ptr<Node>> parts_;
  int64_t axis_;
  std::vector<float> tmp_;
};

// 2-D transpose. Output row r is input column r, so every output chunk needs every input row:
// the input is read once, whole, on first use (GPT-2-sized matrices; documented in the header).
class TransposeNode final : public Node {
 public:
  explicit TransposeNode(std::unique_ptr<Node> in) : Node(in->cols(), in->rows()), in_(std::move(in)) {}
  Status read(int64_t r0, int64_t n, float *out) override {
    if (full_.empty()) {
      full_.resize(static_cast<size_t>(in_->rows() * in_->cols()));
      LLMC_RETURN_IF_ERROR(in_->read(0, in_->rows(), full_.data()));
    }
    const int64_t inCols = in_->cols(), inRows = in_->rows();
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < inRows; ++c)
        out[r * inRows + c] = full_[c * inCols + (r0 + r)];
    return Status::Ok();
  }
  void sources(std::vector<std::string> &out) const override { in_->sources(out); }

 private:
  std::unique_ptr<Node> in_;
  std::vector<float> full_;
};

// Builds the node tree for `symbol`, checking shapes against the declared ones.
StatusOr<std::unique_ptr<Node>> buildNode(const WeightPlan &plan, const WeightProvider &provider,
                                          const std::string &symbol, int depth) {
  const WeightDef *d = plan.find(symbol);
  if (!d)
    return Internal("weight plan: unknown weight symbol @" + symbol);
  if (depth > 16)
    return Internal("weight plan: @" + symbol + " is defined in terms of itself");
  switch (d->kind) {
  case WeightDef::Kind::kSource: {
    LLMC_ASSIGN_OR_RETURN(TensorView v, provider.tensor(d->source));
    if (v.shape != d->shape)
      return InvalidArgument(v.file + ": tensor '" + d->source + "' has shape " +
                             shapeString(v.shape) + ", the model configuration needs " +
                             shapeString(d->shape));
    return std::unique_ptr<Node>(new SourceNode(std::move(v)));
  }
  case WeightDef::Kind::kConcat: {
    if (d->axis != 0 && d->axis != 1)
      return Internal("weight plan: @" + symbol + ": concat along axis " + std::to_string(d->axis) +
                      " (only 0 and 1 are supported)");
    std::vector<std::unique_ptr<Node>> parts;
    int64_t rows = 0, cols = 0;
    for (const std::string &p : d->operands) {
      LLMC_ASSIGN_OR_RETURN(std::unique_ptr<Node> n, buildNode(plan, provider, p, depth + 1));
      if (d->axis == 0) {
        if (!parts.empty() && n->cols() != cols)
          return Internal("weight plan: @" + symbol + ": parts differ in their trailing dims");
        rows += n->rows();
        cols = n->cols();
      } else {
        if (!parts.empty() && n->rows() != rows)
          return Internal("weight plan: @" + symbol + ": parts differ in dim 0");
        rows = n->rows();
        cols += n->cols();
      }
      parts.push_back(std::move(n));
    }
    if (parts.empty() || rows != rowsOf(d->shape) || cols != colsOf(d->shape))
      return Internal("weight plan: @" + symbol + ": parts do not make the declared shape " +
                      shapeString(d->shape));
    return std::unique_ptr<Node>(new ConcatNode(std::move(parts), d->axis, rows, cols));
  }
  case WeightDef::Kind::kTranspose: {
    if (d->operands.size() != 1 || d->shape.size() != 2)
      return Internal("weight plan: @" + symbol + ": transpose needs one 2-D input");
    LLMC_ASSIGN_OR_RETURN(std::unique_ptr<Node> in,
                          buildNode(plan, provider, d->operands[0], depth + 1));
    if (in->rows() != d->shape[1] || in->cols() != d->shape[0])
      return Internal("weight plan: @" + symbol + ": input shape does not transpose to " +
                      shapeString(d->shape));
    return std::unique_ptr<Node>(new TransposeNode(std::move(in)));
  }
  }
  return Internal("weight plan: bad kind");
}

}  // namespace

Status WeightMaterializer::validate() const {
  for (const std::string &s : plan_.emitted)
    LLMC_RETURN_IF_ERROR(buildNode(plan_, provider_, s, 0).status());
  return Status::Ok();
}

Status WeightMaterializer::write(const std::string &symbol, const ByteSink &sink) const {
  const WeightDef *d = plan_.find(symbol);
  if (!d)
    return Internal("weight plan: unknown weight symbol @" + symbol);
  LLMC_ASSIGN_OR_RETURN(std::unique_ptr<Node> node, buildNode(plan_, provider_, symbol, 0));
  const int64_t cols = node->cols(), rows = node->rows();
  // About 4 MB of f32 per chunk, at least one row.
  const int64_t chunkRows = std::max<int64_t>(1, (int64_t(1) << 20) / std::max<int64_t>(cols, 1));
  std::vector<float> f32(static_cast<size_t>(std::min(chunkRows, rows) * cols));
  std::vector<uint16_t> narrow;
  for (int64_t r0 = 0; r0 < rows; r0 += chunkRows) {
    const int64_t n = std::min(chunkRows, rows - r0);
    const size_t count = static_cast<size_t>(n * cols);
    LLMC_RETURN_IF_ERROR(node->read(r0, n, f32.data()));
    switch (d->dtype) {
    case engine::DType::kF32:
      LLMC_RETURN_IF_ERROR(sink(f32.data(), count * 4));
      break;
    case engine::DType::kF16:
    case engine::DType::kBF16: {
      narrow.resize(count);
      const bool toF16 = d->dtype == engine::DType::kF16;
      for (size_t i = 0; i < count; ++i)
        narrow[i] = toF16 ? floatToF16(f32[i]) : floatToBf16(f32[i]);
      LLMC_RETURN_IF_ERROR(sink(narrow.data(), count * 2));
      break;
    }
    }
  }
  std::vector<std::string> used;
  node->sources(used);
  for (const std::string &s : used)
    provider_.release(s);
  return Status::Ok();
}

}  // namespace llmc::codegen

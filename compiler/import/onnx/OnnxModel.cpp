//===- OnnxModel.cpp - an ONNX ModelProto, validated, with its tensors ----===//
//
// Owner: onnx.
//
//===----------------------------------------------------------------------===//
#include "OnnxModel.h"

#include "llmc/runtime/HalfFloat.h"

#include <climits>
#include <cstring>
#include <set>

namespace llmc::onnx_import {

const char *onnxTypeName(int32_t t) {
  switch (t) {
  case kOnnxFloat: return "float32";
  case kOnnxUint8: return "uint8";
  case kOnnxInt8: return "int8";
  case kOnnxInt32: return "int32";
  case kOnnxInt64: return "int64";
  case kOnnxBool: return "bool";
  case kOnnxFloat16: return "float16";
  case kOnnxDouble: return "float64";
  case kOnnxBFloat16: return "bfloat16";
  case kOnnxUint16: return "uint16";
  case kOnnxInt16: return "int16";
  case kOnnxUint32: return "uint32";
  case kOnnxUint64: return "uint64";
  case 8: return "string";
  default: return "an unsupported element type";
  }
}

size_t onnxTypeBytes(int32_t t) {
  switch (t) {
  case kOnnxFloat: case kOnnxInt32: case kOnnxUint32: return 4;
  case kOnnxInt64: case kOnnxDouble: case kOnnxUint64: return 8;
  case kOnnxFloat16: case kOnnxBFloat16: case kOnnxInt16: case kOnnxUint16: return 2;
  case kOnnxUint8: case kOnnxInt8: case kOnnxBool: return 1;
  default: return 0;
  }
}

bool isOnnxFloatType(int32_t t) {
  return t == kOnnxFloat || t == kOnnxFloat16 || t == kOnnxBFloat16 || t == kOnnxDouble;
}

int64_t InitializerData::numel() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

namespace {

std::string dirOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

// Number of elements a typed (non-raw) field holds for this dtype.
int64_t typedCount(const onnx::TensorProto &t) {
  switch (t.data_type()) {
  case kOnnxFloat: return t.float_data_size();
  case kOnnxDouble: return t.double_data_size();
  case kOnnxInt64: return t.int64_data_size();
  case kOnnxInt32: case kOnnxInt8: case kOnnxUint8: case kOnnxBool: case kOnnxFloat16:
  case kOnnxBFloat16: case kOnnxUint16: case kOnnxInt16: return t.int32_data_size();
  case kOnnxUint32: case kOnnxUint64: return t.uint64_data_size();
  default: return 0;
  }
}

}  // namespace

StatusOr<std::unique_ptr<OnnxModel>> OnnxModel::open(const std::string &path) {
  std::unique_ptr<OnnxModel> m(new OnnxModel());
  m->path_ = path;
  m->dir_ = dirOf(path);
  LLMC_ASSIGN_OR_RETURN(m->file_, MappedFile::open(path));
  if (m->file_->size() > static_cast<uint64_t>(INT_MAX))
    return InvalidArgument(path + ": larger than 2 GB, which a protobuf cannot hold; export it "
                                  "with external data (torch.onnx.export(..., external_data=True))");
  if (m->file_->size() == 0 ||
      !m->model_.ParseFromArray(m->file_->data(), static_cast<int>(m->file_->size())))
    return InvalidArgument(path + ": not an ONNX model (the protobuf does not parse: the file is "
                                  "truncated, corrupted or not a ModelProto)");
  LLMC_RETURN_IF_ERROR(m->validate());
  return m;
}

int64_t OnnxModel::opset(const std::string &domain) const {
  const bool isDefault = domain.empty() || domain == "ai.onnx";
  for (const onnx::OperatorSetIdProto &o : model_.opset_import()) {
    bool d = o.domain().empty() || o.domain() == "ai.onnx";
    if ((isDefault && d) || (!isDefault && o.domain() == domain))
      return o.version();
  }
  return -1;
}

Status OnnxModel::validate() {
  auto bad = [&](const std::string &what) { return InvalidArgument(path_ + ": " + what); };
  // A ModelProto always carries ir_version and a graph; garbage that happens to parse does not.
  if (model_.ir_version() < 3 || !model_.has_graph() || model_.graph().node_size() == 0 ||
      model_.graph().output_size() == 0)
    return bad("not an ONNX model (no ir_version >= 3, no graph, or a graph without nodes or "
               "outputs; the file may be truncated)");
  const int64_t opset = this->opset("");
  if (opset < 0)
    return bad("the model imports no default-domain (ai.onnx) opset");
  if (opset < kMinSupportedOpset || opset > kMaxKnownOpset)
    return Unsupported(path_ + ": default-domain opset " + std::to_string(opset) +
                       " is not supported (llmc knows opsets " +
                       std::to_string(kMinSupportedOpset) + " to " +
                       std::to_string(kMaxKnownOpset) + ")");
  const onnx::GraphProto &g = model_.graph();
  std::set<std::string> defined;
  for (const onnx::TensorProto &t : g.initializer()) {
    LLMC_RETURN_IF_ERROR(indexInitializer(t));
    defined.insert(t.name());
  }
  if (g.sparse_initializer_size())
    return Unsupported(path_ + ": sparse initializers are not supported");
  for (const onnx::ValueInfoProto &v : g.input())
    defined.insert(v.name());
  for (const onnx::NodeProto &n : g.node()) {
    for (const std::string &in : n.input())
      if (!in.empty() && !defined.count(in))
        return bad("node '" + n.name() + "' (" + n.op_type() + ") reads '" + in +
                   "', which is not defined before it (the graph must be topologically sorted)");
    for (const std::string &out : n.output())
      if (!out.empty())
        defined.insert(out);
  }
  for (const onnx::ValueInfoProto &v : g.output())
    if (!defined.count(v.name()))
      return bad("graph output '" + v.name() + "' is not produced by any node");
  return Status::Ok();
}

StatusOr<const MappedFile *> OnnxModel::externalFile(const std::string &location) {
  // Only files inside the model's folder: a model must not make the compiler read elsewhere.
  if (location.empty() || location[0] == '/' || location.find("..") != std::string::npos)
    return InvalidArgument(path_ + ": external data location '" + location +
                           "' must be a relative path inside the model's folder");
  auto it = external_.find(location);
  if (it != external_.end())
    return it->second.get();
  StatusOr<std::unique_ptr<MappedFile>> f = MappedFile::open(dir_ + "/" + location);
  if (!f.ok())
    return f.status().withPrefix(path_ + ": external data");
  const MappedFile *p = f->get();
  external_.emplace(location, std::move(*f));
  return p;
}

Status OnnxModel::indexInitializer(const onnx::TensorProto &t) {
  auto bad = [&](const std::string &what) {
    return InvalidArgument(path_ + ": initializer '" + t.name() + "': " + what);
  };
  if (t.name().empty())
    return bad("has no name");
  if (inits_.count(t.name()))
    return bad("defined twice");
  if (t.has_segment())
    return Unsupported(path_ + ": initializer '" + t.name() + "' is segmented (not supported)");
  InitializerData d;
  d.proto = &t;
  d.dtype = t.data_type();
  d.file = path_;
  for (int64_t dim : t.dims()) {
    if (dim < 0)
      return bad("negative dimension");
    d.shape.push_back(dim);
  }
  const size_t esize = onnxTypeBytes(d.dtype);
  if (esize == 0) {
    // Strings and exotic types may sit in a model as long as nothing llmc converts uses them.
    inits_.emplace(t.name(), std::move(d));
    return Status::Ok();
  }
  const uint64_t want = static_cast<uint64_t>(d.numel()) * esize;
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const onnx::StringStringEntryProto &kv : t.external_data()) {
      if (kv.key() == "location")
        location = kv.value();
      else if (kv.key() == "offset" || kv.key() == "length") {
        char *end = nullptr;
        long long v = std::strtoll(kv.value().c_str(), &end, 10);
        if (kv.value().empty() || *end || v < 0)
          return bad("external data " + kv.key() + " '" + kv.value() + "' is not a number");
        (kv.key() == "offset" ? offset : length) = v;
      }
    }
    LLMC_ASSIGN_OR_RETURN(const MappedFile *f, externalFile(location));
    if (length < 0)
      length = static_cast<int64_t>(want);
    if (static_cast<uint64_t>(length) != want)
      return bad("external data length " + std::to_string(length) + " but shape " +
                 eval::shapeString(d.shape) + " of " + onnxTypeName(d.dtype) + " needs " +
                 std::to_string(want) + " bytes");
    if (static_cast<uint64_t>(offset) + want > f->size())
      return InvalidArgument(f->path() + ": truncated: initializer '" + t.name() + "' needs bytes [" +
                             std::to_string(offset) + ", " + std::to_string(offset + want) +
                             ") but the file has " + std::to_string(f->size()));
    d.bytes = f->data() + offset;
    d.nbytes = want;
    d.file = f->path();
  } else if (t.has_raw_data()) {
    if (t.raw_data().size() != want)
      return bad("raw_data has " + std::to_string(t.raw_data().size()) + " bytes but shape " +
                 eval::shapeString(d.shape) + " of " + onnxTypeName(d.dtype) + " needs " +
                 std::to_string(want));
    d.bytes = reinterpret_cast<const uint8_t *>(t.raw_data().data());
    d.nbytes = want;
  } else {
    if (typedCount(t) != d.numel())
      return bad("holds " + std::to_string(typedCount(t)) + " values but its shape " +
                 eval::shapeString(d.shape) + " needs " + std::to_string(d.numel()));
    d.nbytes = want;
  }
  inits_.emplace(t.name(), std::move(d));
  return Status::Ok();
}

const InitializerData *OnnxModel::initializer(const std::string &name) const {
  auto it = inits_.find(name);
  return it == inits_.end() ? nullptr : &it->second;
}

namespace {
template <typename T>
T loadLE(const uint8_t *p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // mappings and proto strings carry no alignment guarantee
  return v;
}

// Reads element j of a packed little-endian buffer of ONNX type `dt` as double / int64.
double packedF(const uint8_t *p, int32_t dt, int64_t j) {
  switch (dt) {
  case kOnnxFloat: return loadLE<float>(p + 4 * j);
  case kOnnxDouble: return loadLE<double>(p + 8 * j);
  case kOnnxFloat16: return f16ToFloat(loadLE<uint16_t>(p + 2 * j));
  default: return bf16ToFloat(loadLE<uint16_t>(p + 2 * j));
  }
}
int64_t packedI(const uint8_t *p, int32_t dt, int64_t j) {
  switch (dt) {
  case kOnnxInt64: return loadLE<int64_t>(p + 8 * j);
  case kOnnxInt32: return loadLE<int32_t>(p + 4 * j);
  case kOnnxInt8: return static_cast<int8_t>(p[j]);
  case kOnnxInt16: return loadLE<int16_t>(p + 2 * j);
  case kOnnxUint16: return loadLE<uint16_t>(p + 2 * j);
  case kOnnxUint32: return loadLE<uint32_t>(p + 4 * j);
  case kOnnxUint64: return static_cast<int64_t>(loadLE<uint64_t>(p + 8 * j));  // its bit pattern
  default: return p[j];  // uint8, bool
  }
}

StatusOr<eval::Tensor> readAny(const onnx::TensorProto &t, const uint8_t *bytes,
                               const std::vector<int64_t> &shape, const std::string &where) {
  const int32_t dt = t.data_type();
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  if (onnxTypeBytes(dt) == 0)
    return Unsupported(where + ": tensor of " + onnxTypeName(dt) + " is not supported");
  if (!bytes && typedCount(t) != n)
    return InvalidArgument(where + ": tensor holds " + std::to_string(typedCount(t)) +
                           " values, its shape needs " + std::to_string(n));
  if (isOnnxFloatType(dt)) {
    std::vector<double> v(n);
    for (int64_t j = 0; j < n; ++j) {
      if (bytes)
        v[j] = packedF(bytes, dt, j);
      else if (dt == kOnnxFloat)
        v[j] = t.float_data(j);
      else if (dt == kOnnxDouble)
        v[j] = t.double_data(j);
      else
        v[j] = dt == kOnnxFloat16 ? f16ToFloat(static_cast<uint16_t>(t.int32_data(j)))
                                  : bf16ToFloat(static_cast<uint16_t>(t.int32_data(j)));
    }
    return eval::Tensor::floats(shape, std::move(v));
  }
  std::vector<int64_t> v(n);
  for (int64_t j = 0; j < n; ++j)
    v[j] = bytes                                         ? packedI(bytes, dt, j)
           : dt == kOnnxInt64                            ? t.int64_data(j)
           : (dt == kOnnxUint32 || dt == kOnnxUint64)    ? static_cast<int64_t>(t.uint64_data(j))
                                                         : t.int32_data(j);
  if (dt == kOnnxBool)
    for (int64_t &x : v)
      x = x != 0;
  return eval::Tensor::ints(shape, std::move(v), dt == kOnnxBool ? eval::Kind::kBool : eval::Kind::kInt);
}
}  // namespace

StatusOr<eval::Tensor> tensorFromProto(const onnx::TensorProto &t, const std::string &where) {
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    return Unsupported(where + ": external data in a constant attribute is not supported");
  std::vector<int64_t> shape(t.dims().begin(), t.dims().end());
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return InvalidArgument(where + ": negative dimension");
    n *= d;
  }
  const uint8_t *bytes = nullptr;
  if (t.has_raw_data()) {
    if (t.raw_data().size() != static_cast<uint64_t>(n) * onnxTypeBytes(t.data_type()))
      return InvalidArgument(where + ": raw_data size does not match the shape");
    bytes = reinterpret_cast<const uint8_t *>(t.raw_data().data());
  }
  return readAny(t, bytes, shape, where);
}

StatusOr<eval::Tensor> OnnxModel::readTensor(const InitializerData &d) const {
  return readAny(*d.proto, d.bytes, d.shape, path_ + ": initializer '" + d.proto->name() + "'");
}

StatusOr<codegen::TensorView> OnnxModel::tensor(const std::string &name) const {
  const InitializerData *d = initializer(name);
  if (!d)
    return NotFound(path_ + ": no initializer '" + name + "'");
  codegen::TensorView v;
  v.name = name;
  v.file = d->file;
  v.shape = d->shape;
  v.nbytes = d->nbytes;
  switch (d->dtype) {
  case kOnnxFloat: v.dtype = codegen::SourceDType::kF32; break;
  case kOnnxFloat16: v.dtype = codegen::SourceDType::kF16; break;
  case kOnnxBFloat16: v.dtype = codegen::SourceDType::kBF16; break;
  default:
    return Unsupported(path_ + ": initializer '" + name + "' is " + onnxTypeName(d->dtype) +
                       "; weights must be float32, float16 or bfloat16");
  }
  if (d->bytes) {
    v.data = d->bytes;
    return v;
  }
  if (d->dtype == kOnnxFloat) {
    // float_data is a packed array of host floats (little-endian on every supported host).
    v.data = reinterpret_cast<const uint8_t *>(d->proto->float_data().data());
    return v;
  }
  // f16/bf16 in int32_data: one element per int32; packed once into a buffer.
  std::lock_guard<std::mutex> lock(convertedMu_);
  std::vector<uint8_t> &buf = converted_[name];
  if (buf.empty()) {
    buf.resize(d->nbytes);
    for (int64_t j = 0; j < d->numel(); ++j) {
      uint16_t h = static_cast<uint16_t>(d->proto->int32_data(j));
      std::memcpy(buf.data() + 2 * j, &h, 2);
    }
  }
  v.data = buf.data();
  return v;
}

void OnnxModel::release(const std::string &name) const {
  const InitializerData *d = initializer(name);
  if (!d || !d->bytes)
    return;
  for (const auto &[loc, f] : external_)
    if (d->bytes >= f->data() && d->bytes < f->data() + f->size())
      f->dropPages(static_cast<uint64_t>(d->bytes - f->data()), d->nbytes);
}

codegen::SourceDType OnnxModel::predominantDType() const {
  uint64_t f32 = 0, f16 = 0, bf16 = 0;
  for (const auto &[name, d] : inits_) {
    if (d.dtype == kOnnxFloat) f32 += d.nbytes;
    else if (d.dtype == kOnnxFloat16) f16 += d.nbytes;
    else if (d.dtype == kOnnxBFloat16) bf16 += d.nbytes;
  }
  if (f32 >= bf16 && f32 >= f16)
    return codegen::SourceDType::kF32;
  return bf16 >= f16 ? codegen::SourceDType::kBF16 : codegen::SourceDType::kF16;
}

}  // namespace llmc::onnx_import

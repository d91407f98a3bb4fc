// WeightTable.cpp - parses meta.weights and checks every entry against the weights section.
#include <algorithm>

#include "EngineParse.h"
#include "JsonUtil.h"

namespace llmc::detail {

using namespace json_util;

Status parseWeightTable(const json& weights, uint64_t sectionBytes, std::vector<WeightInfo>* out) {
  if (!weights.is_array()) return typeError("meta.weights", "an array");
  std::vector<WeightInfo> table;
  for (size_t i = 0; i < weights.size(); ++i) {
    const std::string where = "meta.weights[" + std::to_string(i) + "]";
    const json& e = weights[i];
    LLMC_RETURN_IF_ERROR(requireObject(e, where));
    WeightInfo w;
    const json* v = member(e, "name");
    if (!v) return missing(where + ".name");
    LLMC_RETURN_IF_ERROR(readString(*v, where + ".name", &w.name));
    const std::string named = "meta.weights '" + w.name + "'";
    std::string dtype;
    if (!(v = member(e, "dtype"))) return missing(named + ".dtype");
    LLMC_RETURN_IF_ERROR(readString(*v, named + ".dtype", &dtype));
    if (!engine::parseDType(dtype, &w.dtype)) {
      return InvalidArgument(named + ": unknown dtype '" + dtype + "' (f32, f16, bf16)");
    }
    if (!(v = member(e, "shape"))) return missing(named + ".shape");
    LLMC_RETURN_IF_ERROR(readIntArray(*v, named + ".shape", &w.shape));
    if (w.shape.empty()) return InvalidArgument(named + ": empty shape");
    for (int64_t d : w.shape) {
      if (d <= 0 || d > (int64_t(1) << 40)) {
        return InvalidArgument(named + ": bad dimension " + std::to_string(d) + " in shape");
      }
    }
    int64_t off = 0, nbytes = 0;
    if (!(v = member(e, "offset"))) return missing(named + ".offset");
    LLMC_RETURN_IF_ERROR(readInt(*v, named + ".offset", &off));
    if (!(v = member(e, "nbytes"))) return missing(named + ".nbytes");
    LLMC_RETURN_IF_ERROR(readInt(*v, named + ".nbytes", &nbytes));
    if (off < 0 || nbytes < 0) return InvalidArgument(named + ": negative offset or nbytes");
    w.offset = static_cast<uint64_t>(off);
    w.nbytes = static_cast<uint64_t>(nbytes);
    if (w.offset % engine::kAlignment != 0) {
      return InvalidArgument(named + ": offset " + std::to_string(w.offset) + " is not 4096-aligned");
    }
    uint64_t expect = static_cast<uint64_t>(w.numel()) * engine::dtypeBytes(w.dtype);
    if (w.nbytes != expect) {
      return InvalidArgument(named + ": nbytes " + std::to_string(w.nbytes) + " but shape and dtype give " +
                             std::to_string(expect));
    }
    if (w.offset > sectionBytes || w.nbytes > sectionBytes - w.offset) {
      return InvalidArgument(named + ": [" + std::to_string(w.offset) + ", +" + std::to_string(w.nbytes) +
                             ") extends past the weights section (" + std::to_string(sectionBytes) +
                             " bytes)");
    }
    for (const WeightInfo& o : table) {
      if (o.name == w.name) return InvalidArgument(named + ": listed twice");
    }
    table.push_back(std::move(w));
  }
  // Overlapping tensors mean a broken writer; catch it here rather than as wrong numbers later.
  std::vector<const WeightInfo*> byOffset;
  for (const WeightInfo& w : table) byOffset.push_back(&w);
  std::sort(byOffset.begin(), byOffset.end(),
            [](const WeightInfo* a, const WeightInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < byOffset.size(); ++i) {
    if (byOffset[i]->offset < byOffset[i - 1]->offset + byOffset[i - 1]->nbytes) {
      return InvalidArgument("meta.weights: '" + byOffset[i - 1]->name + "' and '" + byOffset[i]->name +
                             "' overlap");
    }
  }
  *out = std::move(table);
  return Status::Ok();
}

}  // namespace llmc::detail

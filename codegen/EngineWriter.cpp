//===- EngineWriter.cpp - program + weights -> engine file ----------------===//
//
// Owned by the compiler (cc).
//
//===----------------------------------------------------------------------===//
#include "llmc/Codegen/EngineWriter.h"

#include "llmc/Codegen/WeightMaterializer.h"
#include "llmc/runtime/EngineFileWriter.h"
#include "llmc/runtime/EngineFormat.h"

#include <vector>

namespace llmc::codegen {

using nlohmann::json;

json weightIndex(const WeightPlan &plan, uint64_t *sectionBytes) {
  json index = json::array();
  uint64_t offset = 0, end = 0;
  for (const std::string &sym : plan.emitted) {
    const WeightDef &d = plan.defs.at(sym);
    offset = engine::alignUp(end);
    json e;
    e["name"] = d.tableName();
    e["dtype"] = engine::dtypeName(d.dtype);
    e["shape"] = d.shape;
    e["offset"] = offset;
    e["nbytes"] = d.nbytes();
    index.push_back(std::move(e));
    end = offset + d.nbytes();
  }
  *sectionBytes = end;
  return index;
}

StatusOr<WrittenEngine> writeEngine(const std::string &path, const EngineContents &c,
                                    const WeightProvider &provider) {
  if (!c.weights)
    return Internal("writeEngine: no weight plan");
  const WeightPlan &plan = *c.weights;
  WeightMaterializer materializer(plan, provider);
  // Every source tensor is checked before the output file is created.
  LLMC_RETURN_IF_ERROR(materializer.validate());

  uint64_t weightsSection = 0;
  json meta;
  meta["model"] = c.model;
  meta["build"] = c.build;
  meta["report"] = c.report;
  meta["weights"] = weightIndex(plan, &weightsSection);

  EngineFileWriter writer("llmc 0.1.0");
  auto prefix = [&](Status s) { return s.withPrefix(path); };
  LLMC_RETURN_IF_ERROR(prefix(writer.addSection(engine::kSectionMeta, meta.dump())));
  // A graph engine (docs/graph-program.md) carries its program in an extra section instead.
  if (!c.program.is_null())
    LLMC_RETURN_IF_ERROR(prefix(writer.addSection(engine::kSectionProgram, c.program.dump())));
  if (c.tokenizerJson)
    LLMC_RETURN_IF_ERROR(prefix(writer.addSection(engine::kSectionTokenizer, *c.tokenizerJson)));
  if (c.tokenizerConfigJson)
    LLMC_RETURN_IF_ERROR(
        prefix(writer.addSection(engine::kSectionTokenizerConfig, *c.tokenizerConfigJson)));
  for (const auto &[name, bytes] : c.extraSections)
    LLMC_RETURN_IF_ERROR(prefix(writer.addSection(name, bytes)));

  uint64_t tensorBytes = 0;
  for (const std::string &sym : plan.emitted)
    tensorBytes += plan.defs.at(sym).nbytes();

  LLMC_RETURN_IF_ERROR(prefix(writer.addStreamedSection(
      engine::kSectionWeights, weightsSection, [&](SectionSink &sink) -> Status {
        static const std::vector<char> zeros(engine::kAlignment, 0);
        for (const std::string &sym : plan.emitted) {
          // Pad to the tensor's aligned offset (relative to the section start).
          uint64_t pad = engine::alignUp(sink.written()) - sink.written();
          if (pad)
            LLMC_RETURN_IF_ERROR(sink.write(zeros.data(), pad));
          LLMC_RETURN_IF_ERROR(materializer.write(
              sym, [&](const void *data, size_t n) { return sink.write(data, n); }));
        }
        return Status::Ok();
      })));
  WrittenEngine result;
  result.fileBytes = writer.fileSize();
  result.weightBytes = tensorBytes;
  result.numWeights = plan.emitted.size();
  LLMC_RETURN_IF_ERROR(writer.write(path));
  return result;
}

}  // namespace llmc::codegen

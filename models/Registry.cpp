//===- Registry.cpp - the list of supported model families ----------------===//
//
// Owned by the compiler (cc). An explicit list rather than static self-registration: objects in a
// static library that nothing references are dropped by the linker, which would silently lose a
// family. Adding an architecture adds one line here.
//
//===----------------------------------------------------------------------===//
#include "llmc/Models/ModelFamily.h"

#include <algorithm>

namespace llmc::models {

// Defined in models/<family>/*.cpp.
const ModelFamily &llamaFamily();
const ModelFamily &gpt2Family();
const ModelFamily &gemmaFamily();
const ModelFamily &phi3Family();

static const ModelFamily *const kFamilies[] = {
    &llamaFamily(),
    &gpt2Family(),
    &gemmaFamily(),
    &phi3Family(),
};

const ModelFamily *findFamilyForModelType(const std::string &modelType) {
  for (const ModelFamily *f : kFamilies)
    for (const std::string &t : f->modelTypes())
      if (t == modelType)
        return f;
  return nullptr;
}

std::vector<std::string> supportedModelTypes() {
  std::vector<std::string> types;
  for (const ModelFamily *f : kFamilies)
    for (const std::string &t : f->modelTypes())
      types.push_back(t);
  std::sort(types.begin(), types.end());
  return types;
}

}  // namespace llmc::models

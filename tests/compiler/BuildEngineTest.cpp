//===- BuildEngineTest.cpp - buildEngine on stories260K and bad folders ---===//
//
// Owned by the compiler (cc). Builds the shared stories260K checkpoint (a real trained Llama) and
// checks determinism, the IR dumps, the engine layout against the checkpoint bytes, and that a
// failed build leaves no file.
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"

#include "llmc/Compiler/BuildDriver.h"
#include "llmc/Compiler/Import/HF/Safetensors.h"
#include "llmc/runtime/Engine.h"
#include "llmc/runtime/EngineFormat.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <dirent.h>
#include <sys/stat.h>

using llmc::BuildOptions;
using llmc::StatusCode;
using llmc::test::readFile;
using llmc::test::ScratchDir;
using llmc::test::writeFile;
using nlohmann::json;

namespace {

const std::string kStories = LLMC_SHARED_DIR "/models/stories260K";

bool exists(const std::string &p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

std::vector<std::string> listDir(const std::string &dir) {
  std::vector<std::string> names;
  if (DIR *d = ::opendir(dir.c_str())) {
    while (dirent *e = ::readdir(d))
      if (e->d_name[0] != '.')
        names.push_back(e->d_name);
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Reads the section table of an engine file (independently of the runtime's loader).
struct Section {
  std::string name;
  uint64_t offset, size;
};
std::vector<Section> sections(const std::string &bytes) {
  std::vector<Section> out;
  llmc::engine::EngineHeader h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  for (uint32_t i = 0; i < h.sectionCount; ++i) {
    llmc::engine::SectionEntry e;
    std::memcpy(&e, bytes.data() + sizeof(h) + i * sizeof(e), sizeof(e));
    out.push_back({std::string(e.name, strnlen(e.name, sizeof(e.name))), e.offset, e.size});
  }
  return out;
}
std::string sectionBytes(const std::string &file, const std::string &name) {
  for (const Section &s : sections(file))
    if (s.name == name)
      return file.substr(s.offset, s.size);
  return "";
}

TEST(BuildEngine, Stories260KDeterministic) {
  ScratchDir d;
  BuildOptions o;
  o.inputPath = kStories;
  o.outputPath = d.file("a.engine");
  o.gpuArchs = "none";  // the CPU engine's sections; GPU kernels are checked in the e2e tests
  llmc::BuildSummary summary;
  llmc::Status s = llmc::buildEngine(o, &summary);
  ASSERT_TRUE(s.ok()) << s.message();
  o.outputPath = d.file("b.engine");
  s = llmc::buildEngine(o);
  ASSERT_TRUE(s.ok()) << s.message();
  std::string a = readFile(d.file("a.engine")), b = readFile(d.file("b.engine"));
  ASSERT_GT(a.size(), 4096u);
  EXPECT_TRUE(a == b) << "two builds of the same input differ";
  EXPECT_EQ(a.substr(0, 8), "LLMCENG1");
  EXPECT_EQ(summary.architecture, "llama");
  EXPECT_EQ(summary.dtype, "f32");  // the checkpoint is F32
  // No temporaries left behind.
  EXPECT_EQ(listDir(d.path()), (std::vector<std::string>{"a.engine", "b.engine"}));

  // Sections present, tokenizer verbatim.
  std::vector<std::string> names;
  for (const Section &sec : sections(a))
    names.push_back(sec.name);
  EXPECT_EQ(names, (std::vector<std::string>{"meta", "program", "tokenizer", "tokenizer_config",
                                             "weights"}));
  EXPECT_EQ(sectionBytes(a, "tokenizer"), readFile(kStories + "/tokenizer.json"));
  EXPECT_EQ(sectionBytes(a, "tokenizer_config"), readFile(kStories + "/tokenizer_config.json"));

  json meta = json::parse(sectionBytes(a, "meta"), nullptr, false);
  ASSERT_TRUE(meta.is_object());
  // Values from config.json.
  EXPECT_EQ(meta["model"]["architecture"], "llama");
  EXPECT_EQ(meta["model"]["vocab_size"], 512);
  EXPECT_EQ(meta["model"]["num_layers"], 5);
  EXPECT_EQ(meta["model"]["num_kv_heads"], 4);
  EXPECT_EQ(meta["model"]["head_dim"], 8);
  EXPECT_EQ(meta["model"]["bos_token_id"], 1);
  EXPECT_EQ(meta["model"]["eos_token_ids"], json::array({2}));
  EXPECT_EQ(meta["build"]["source"], "stories260K");
  EXPECT_EQ(sectionBytes(a, "meta").find("/work/"), std::string::npos) << "absolute path in meta";

  // Every weight in the index is the checkpoint's bytes (f32 -> f32 is a copy), or for derived
  // weights the concatenation of the checkpoint tensors, 4096-aligned.
  auto st = llmc::hf::SafetensorsFile::open(kStories + "/model.safetensors");
  ASSERT_TRUE(st.ok());
  std::string ckpt = readFile(kStories + "/model.safetensors");
  auto tensorBytes = [&](const std::string &name) {
    const auto *e = (*st)->find(name);
    return e ? ckpt.substr(e->begin, e->end - e->begin) : std::string("<missing>");
  };
  std::string weights = sectionBytes(a, "weights");
  std::set<std::string> covered;
  for (const json &w : meta["weights"]) {
    uint64_t off = w["offset"], n = w["nbytes"];
    EXPECT_EQ(off % 4096, 0u);
    std::string got = weights.substr(off, n);
    std::string name = w["name"];
    if ((*st)->find(name)) {
      EXPECT_TRUE(got == tensorBytes(name)) << name;
      covered.insert(name);
    } else {
      // A fused weight: its bytes must be the checkpoint tensors of one layer, stacked (axis 0).
      bool matched = false;
      for (int L = 0; L < 5 && !matched; ++L) {
        std::string p = "model.layers." + std::to_string(L) + ".";
        std::string qkv = tensorBytes(p + "self_attn.q_proj.weight") +
                          tensorBytes(p + "self_attn.k_proj.weight") +
                          tensorBytes(p + "self_attn.v_proj.weight");
        std::string gu = tensorBytes(p + "mlp.gate_proj.weight") + tensorBytes(p + "mlp.up_proj.weight");
        if (got == qkv) {
          matched = true;
          covered.insert({p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight",
                          p + "self_attn.v_proj.weight"});
        } else if (got == gu) {
          matched = true;
          covered.insert({p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"});
        }
      }
      EXPECT_TRUE(matched) << "derived weight " << name << " matches no concatenation";
    }
  }
  // Every checkpoint tensor is used (tied model: no lm_head), none written twice as parts.
  EXPECT_EQ(covered.size(), (*st)->entries().size());
  // embed; per layer 2 norms, qkv, o, gate_up, down; final norm
  EXPECT_EQ(meta["weights"].size(), 1 + 5 * 6 + 1u) << meta["weights"].dump();

  json program = json::parse(sectionBytes(a, "program"), nullptr, false);
  ASSERT_TRUE(program.is_object());
  EXPECT_GT(program["arena_per_token"].get<int64_t>(), 0);
  EXPECT_EQ(program["steps"][0]["op"], "embedding");
  EXPECT_EQ(program["steps"][0]["in"], json::array({-1}));
  EXPECT_EQ(meta["report"]["fused"]["qkv_attention"], 5);
  EXPECT_EQ(meta["report"]["fused"]["glu"], 5);
}

// The runtime's loader (which verifies checksums and checks the program against the weight
// table) accepts what the writer produced, for every dtype.
TEST(BuildEngine, RuntimeLoaderAcceptsEngine) {
  for (const char *dtype : {"auto", "f16", "bf16"}) {
    ScratchDir d;
    BuildOptions o;
    o.inputPath = kStories;
    o.outputPath = d.file("m.engine");
    o.dtype = dtype;
    llmc::Status s = llmc::buildEngine(o);
    ASSERT_TRUE(s.ok()) << s.message();
    auto engine = llmc::Engine::load(o.outputPath);
    ASSERT_TRUE(engine.ok()) << dtype << ": " << engine.status().message();
    EXPECT_EQ((*engine)->config().numLayers, 5);
    EXPECT_EQ((*engine)->config().dtype, std::string(dtype) == "auto" ? "f32" : dtype);
  }
}

TEST(BuildEngine, DumpIr) {
  ScratchDir d;
  BuildOptions o;
  o.inputPath = kStories;
  o.outputPath = d.file("m.engine");
  o.dumpIrDir = d.file("ir/nested");
  llmc::Status s = llmc::buildEngine(o);
  ASSERT_TRUE(s.ok()) << s.message();
  std::vector<std::string> files = listDir(o.dumpIrDir);
  ASSERT_GE(files.size(), 3u);
  EXPECT_EQ(files.front(), "00-import.mlir");
  EXPECT_EQ(files[1].substr(0, 3), "01-");
  EXPECT_NE(std::find(files.begin(), files.end(), "03-llmc-fuse-qkv.mlir"), files.end());
  std::string imported = readFile(o.dumpIrDir + "/00-import.mlir");
  EXPECT_NE(imported.find("llm.weight @layers.0.self_attn.q_proj.weight"), std::string::npos);
  EXPECT_NE(imported.find("func.func @forward"), std::string::npos);
  EXPECT_NE(readFile(o.dumpIrDir + "/" + files.back()).find("llm.arena_per_token"), std::string::npos);
}

TEST(BuildEngine, BF16Engine) {
  ScratchDir d;
  BuildOptions o;
  o.inputPath = kStories;
  o.outputPath = d.file("m.engine");
  o.dtype = "bf16";
  llmc::Status s = llmc::buildEngine(o);
  ASSERT_TRUE(s.ok()) << s.message();
  std::string a = readFile(o.outputPath);
  json meta = json::parse(sectionBytes(a, "meta"), nullptr, false);
  EXPECT_EQ(meta["model"]["dtype"], "bf16");
  for (const json &w : meta["weights"])
    EXPECT_EQ(w["dtype"], "bf16");
}

// Copies stories260K's small files into a scratch folder, leaving out `skip`.
void copyStories(const ScratchDir &d, const std::string &skip) {
  for (const char *f : {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"})
    if (skip != f)
      writeFile(d.file(f), readFile(kStories + "/" + f));
}

void expectFailure(const BuildOptions &o, StatusCode code, std::initializer_list<std::string> needles) {
  llmc::Status s = llmc::buildEngine(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), code) << s.message();
  for (const std::string &n : needles)
    EXPECT_NE(s.message().find(n), std::string::npos) << "'" << n << "' not in: " << s.message();
  EXPECT_FALSE(exists(o.outputPath)) << "a failed build left " << o.outputPath;
}

TEST(BuildEngine, MissingSafetensorsFails) {
  ScratchDir d, out;
  copyStories(d, "model.safetensors");
  BuildOptions o;
  o.inputPath = d.path();
  o.outputPath = out.file("m.engine");
  expectFailure(o, StatusCode::kNotFound, {d.path(), "model.safetensors"});
  EXPECT_TRUE(listDir(out.path()).empty());
}

TEST(BuildEngine, OtherFailuresLeaveNoFile) {
  ScratchDir d, out;
  BuildOptions o;
  o.outputPath = out.file("m.engine");

  copyStories(d, "config.json");
  o.inputPath = d.path();
  expectFailure(o, StatusCode::kNotFound, {"config.json"});

  // A checkpoint whose tensor shapes disagree with config.json.
  json cfg = json::parse(readFile(kStories + "/config.json"));
  cfg["intermediate_size"] = 200;
  writeFile(d.file("config.json"), cfg.dump());
  expectFailure(o, StatusCode::kInvalidArgument, {"model.safetensors", "mlp.gate_proj.weight", "[172, 64]", "[200, 64]"});

  // Truncated checkpoint.
  writeFile(d.file("config.json"), readFile(kStories + "/config.json"));
  std::string st = readFile(kStories + "/model.safetensors");
  writeFile(d.file("model.safetensors"), st.substr(0, st.size() - 100));
  expectFailure(o, StatusCode::kInvalidArgument, {"model.safetensors", "truncated"});

  o.inputPath = d.file("model.onnx");
  writeFile(o.inputPath, "not really");
  expectFailure(o, StatusCode::kInvalidArgument, {"model.onnx", "not an ONNX model"});

  o.inputPath = d.file("nope");
  expectFailure(o, StatusCode::kNotFound, {"nope"});

  o.inputPath = kStories;
  o.dtype = "int4";
  expectFailure(o, StatusCode::kInvalidArgument, {"int4"});
  EXPECT_TRUE(listDir(out.path()).empty());
}

}  // namespace

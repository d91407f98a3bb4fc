// TokenizerDriver.cpp - command-line driver for the conformance test (owner: tokenizer).
//
//   llmc_tokenizer_driver TOKENIZER_JSON_OR_DIR REQUESTS.json OUT.json
//
// REQUESTS.json: {"texts": [string...], "decode": [[id...]...]}. OUT.json: {"encode": ids per
// text, "encode_special": ids with special tokens added, "decode"/"decode_skip": text per id list
// (skip_special_tokens false/true), "stream"/"stream_skip": the StreamDecoder's pieces per id list,
// "load_ms", "vocab_size", "bos", "eos"}. conformance.py compares these with HF `tokenizers`.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "llmc/runtime/Tokenizer.h"

using nlohmann::json;

static bool readFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: " << argv[0] << " TOKENIZER_JSON_OR_DIR REQUESTS.json OUT.json\n";
    return 2;
  }
  const std::string source = argv[1];
  struct stat st {};
  const bool isDir = stat(source.c_str(), &st) == 0 && S_ISDIR(st.st_mode);

  auto t0 = std::chrono::steady_clock::now();
  auto load = [&]() -> llmc::StatusOr<std::unique_ptr<llmc::Tokenizer>> {
    if (isDir) return llmc::Tokenizer::fromDirectory(source);
    std::string text;
    if (!readFile(source, &text)) return llmc::NotFound(source + ": cannot be read");
    return llmc::Tokenizer::fromJson(text, "", source);
  };
  auto loaded = load();
  auto t1 = std::chrono::steady_clock::now();
  if (!loaded.ok()) {
    std::cerr << loaded.status().message() << "\n";
    return loaded.status().exitCode();
  }
  const llmc::Tokenizer& tok = **loaded;

  std::string reqText;
  if (!readFile(argv[2], &reqText)) {
    std::cerr << argv[2] << ": cannot be read\n";
    return 2;
  }
  json req = json::parse(reqText, nullptr, false);
  if (req.is_discarded() || !req.is_object()) {
    std::cerr << argv[2] << ": not a JSON object\n";
    return 2;
  }

  json out;
  out["load_ms"] = std::chrono::duration<double, std::milli>(t1 - t0).count();
  out["vocab_size"] = tok.vocabSize();
  out["bos"] = tok.bosId() ? json(*tok.bosId()) : json(nullptr);
  out["eos"] = tok.eosIds();
  json enc = json::array(), encSpecial = json::array();
  auto te0 = std::chrono::steady_clock::now();
  size_t bytes = 0;
  for (const auto& t : req.value("texts", json::array())) {
    const std::string& s = t.get_ref<const std::string&>();
    bytes += s.size();
    enc.push_back(tok.encode(s, false));
    encSpecial.push_back(tok.encode(s, true));
  }
  auto te1 = std::chrono::steady_clock::now();
  out["encode"] = enc;
  out["encode_special"] = encSpecial;
  out["encode_ms"] = std::chrono::duration<double, std::milli>(te1 - te0).count();
  out["encode_bytes"] = bytes * 2;

  json dec = json::array(), decSkip = json::array(), stream = json::array(),
       streamSkip = json::array();
  for (const auto& idsJson : req.value("decode", json::array())) {
    std::vector<int32_t> ids = idsJson.get<std::vector<int32_t>>();
    dec.push_back(tok.decode(ids, false));
    decSkip.push_back(tok.decode(ids, true));
    for (bool skip : {false, true}) {
      llmc::StreamDecoder sd(tok, skip);
      json pieces = json::array();
      for (int32_t id : ids) pieces.push_back(sd.push(id));
      pieces.push_back(sd.finish());
      (skip ? streamSkip : stream).push_back(pieces);
    }
  }
  out["decode"] = dec;
  out["decode_skip"] = decSkip;
  out["stream"] = stream;
  out["stream_skip"] = streamSkip;

  std::ofstream o(argv[3], std::ios::binary);
  o << out.dump(-1, ' ', false, json::error_handler_t::replace);
  return o.good() ? 0 : 1;
}

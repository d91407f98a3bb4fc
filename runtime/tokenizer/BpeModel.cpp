// BpeModel.cpp - BPE vocabulary, merges and the merge loop (owner: tokenizer).
#include "BpeModel.h"

#include <cstdio>
#include <queue>

#include "Utf8.h"

namespace llmc::tok {
StatusOr<std::unique_ptr<BpeModel>> BpeModel::fromJson(const json& j, TokenizerJsonData& data,
                                                       const std::string& where) {
  if (!j.is_object()) return InvalidArgument(where + ": must be an object");
  std::string type;
  LLMC_RETURN_IF_ERROR(getString(j, "type", where, &type, /*required=*/false));
  if (type.empty() && j.contains("merges")) type = "BPE";  // very old files omit the type
  if (type != "BPE") {
    return Unsupported(where + ": unsupported model type '" + type + "' (supported: BPE)");
  }
  const std::string at = where + " (BPE)";
  if (auto d = j.find("dropout"); d != j.end() && d->is_number() && d->get<double>() > 0.0) {
    return Unsupported(at + ": BPE dropout is a training feature and is not supported");
  }
  std::unique_ptr<BpeModel> m(new BpeModel());
  LLMC_RETURN_IF_ERROR(getBool(j, "fuse_unk", at, &m->fuseUnk_));
  LLMC_RETURN_IF_ERROR(getBool(j, "byte_fallback", at, &m->byteFallback_));
  LLMC_RETURN_IF_ERROR(getBool(j, "ignore_merges", at, &m->ignoreMerges_));
  LLMC_RETURN_IF_ERROR(getString(j, "continuing_subword_prefix", at, &m->continuingPrefix_, false));
  LLMC_RETURN_IF_ERROR(getString(j, "end_of_word_suffix", at, &m->endSuffix_, false));

  if (!data.hasVocab) return InvalidArgument(at + ": field 'vocab' must be an object {token: id}");
  m->strings_.reserve(data.vocab.size());
  std::vector<int32_t> ids;
  ids.reserve(data.vocab.size());
  int32_t maxId = -1;
  for (auto& [token, id] : data.vocab) {
    if (id < 0 || id > INT32_MAX - 1) {
      return InvalidArgument(at + ": vocab['" + token + "'] must be a non-negative 32-bit id");
    }
    m->strings_.push_back(std::move(token));
    ids.push_back(static_cast<int32_t>(id));
    maxId = std::max(maxId, ids.back());
  }
  data.vocab.clear();
  data.vocab.shrink_to_fit();
  m->idToIndex_.assign(static_cast<size_t>(maxId + 1), -1);
  m->vocab_.reserve(m->strings_.size());
  for (size_t i = 0; i < m->strings_.size(); ++i) {
    m->vocab_.insert(std::string_view(m->strings_[i]), ids[i]);
    m->idToIndex_[ids[i]] = static_cast<int32_t>(i);
  }

  std::string unk;
  LLMC_RETURN_IF_ERROR(getString(j, "unk_token", at, &unk, /*required=*/false));
  if (!unk.empty()) {
    auto id = m->tokenToId(unk);
    if (!id) return InvalidArgument(at + ": unk_token '" + unk + "' is not in the vocabulary");
    m->unkId_ = *id;
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    auto id = m->tokenToId(name);
    m->byteIds_[b] = id ? *id : -1;
  }

  if (!data.hasMerges) return InvalidArgument(at + ": field 'merges' must be an array");
  m->merges_.reserve(data.merges.size());
  std::string joined;
  int32_t rank = 0;
  for (size_t i = 0; i < data.merges.size(); ++i) {
    const TokenizerJsonData::Merge& mg = data.merges[i];
    if (mg.fromString && mg.first.rfind("#version", 0) == 0) {
      continue;  // merges.txt header carried over by some converters; HF skips it too
    }
    if (mg.malformed) {
      return InvalidArgument(at + ": merges[" + std::to_string(i) + "] '" + mg.first +
                             "' is not two tokens separated by one space");
    }
    auto ida = m->tokenToId(mg.first), idb = m->tokenToId(mg.second);
    // The merged token drops the continuing-subword prefix of its right part.
    size_t cut = (!m->continuingPrefix_.empty() && mg.second.rfind(m->continuingPrefix_, 0) == 0)
                     ? m->continuingPrefix_.size()
                     : 0;
    joined = mg.first;
    joined.append(mg.second, cut, std::string::npos);
    auto idn = m->tokenToId(joined);
    if (!ida || !idb || !idn) {
      const std::string& missing = !ida ? mg.first : !idb ? mg.second : joined;
      return InvalidArgument(at + ": merges[" + std::to_string(i) + "] uses '" + missing +
                             "', which is not in the vocabulary");
    }
    // A repeated pair keeps its last rank, as HF's map insertion does.
    m->merges_.insertOrAssign(pairKey(*ida, *idb), MergeValue{rank++, *idn});
  }
  data.merges.clear();
  data.merges.shrink_to_fit();
  return m;
}

std::optional<int32_t> BpeModel::tokenToId(std::string_view token) const {
  return vocab_.find(token);
}

const std::string* BpeModel::idToToken(int32_t id) const {
  if (id < 0 || id >= idBound() || idToIndex_[id] < 0) return nullptr;
  return &strings_[idToIndex_[id]];
}

void BpeModel::tokenize(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.empty()) return;
  if (ignoreMerges_) {
    // Llama-3: a pre-token that is itself a vocabulary entry is taken whole.
    if (auto id = tokenToId(piece)) {
      out.push_back(*id);
      return;
    }
  }
  const bool cacheable = piece.size() <= kMaxCachedPieceBytes;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cacheMutex_);
    auto it = cache_.find(std::string(piece));
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> ids;
  mergeWord(piece, ids);
  out.insert(out.end(), ids.begin(), ids.end());
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cacheMutex_);
    if (cache_.size() >= kCacheCapacity) cache_.clear();
    cache_.emplace(std::string(piece), std::move(ids));
  }
}

void BpeModel::mergeWord(std::string_view w, std::vector<int32_t>& out) const {
  struct Symbol {
    int32_t id;
    int32_t prev, next;
    uint32_t len;  // bytes of the piece it covers; 0 once merged into its left neighbour
  };
  std::vector<Symbol> symbols;
  symbols.reserve(w.size());
  auto add = [&](int32_t id, uint32_t len) {
    int32_t n = static_cast<int32_t>(symbols.size());
    if (n > 0) symbols.back().next = n;
    symbols.push_back(Symbol{id, n - 1, -1, len});
  };

  // Pending unk symbol: consecutive unknown characters fuse into one when fuse_unk is set.
  std::optional<std::pair<int32_t, uint32_t>> unk;
  std::string key;
  for (size_t i = 0; i < w.size();) {
    size_t n = validSequenceLength(w, i);
    if (n == 0) n = 1;
    const size_t end = i + n;
    std::string_view ch = w.substr(i, n);
    std::string_view lookup = ch;
    if ((!continuingPrefix_.empty() && i > 0) || (!endSuffix_.empty() && end == w.size())) {
      key.clear();
      if (i > 0) key += continuingPrefix_;
      key += ch;
      if (end == w.size()) key += endSuffix_;
      lookup = key;
    }
    if (auto id = tokenToId(lookup)) {
      if (unk) {
        add(unk->first, unk->second);
        unk.reset();
      }
      add(*id, static_cast<uint32_t>(n));
    } else {
      bool done = false;
      if (byteFallback_) {
        bool all = true;
        for (unsigned char c : ch) all = all && byteIds_[c] >= 0;
        if (all) {
          // HF flushes no pending unk here: a fused unk run continues after the bytes.
          for (unsigned char c : ch) add(byteIds_[c], 1);
          done = true;
        }
      }
      if (!done && unkId_) {
        if (unk && fuseUnk_) {
          unk->second += static_cast<uint32_t>(n);
        } else {
          if (unk) add(unk->first, unk->second);
          unk = std::make_pair(*unkId_, static_cast<uint32_t>(n));
        }
      }
    }
    i = end;
  }
  if (unk) add(unk->first, unk->second);

  struct Candidate {
    int32_t rank;
    int32_t pos;
    int32_t newId;
  };
  // Lowest rank first; equal ranks: leftmost first (HF's Merge ordering).
  auto worse = [](const Candidate& x, const Candidate& y) {
    return x.rank != y.rank ? x.rank > y.rank : x.pos > y.pos;
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(worse)> queue(worse);
  auto findMerge = [&](int32_t a, int32_t b) -> const MergeValue* {
    return merges_.find(pairKey(a, b));
  };
  for (size_t i = 0; i + 1 < symbols.size(); ++i) {
    if (auto mv = findMerge(symbols[i].id, symbols[i + 1].id)) {
      queue.push({mv->rank, static_cast<int32_t>(i), mv->newId});
    }
  }
  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    Symbol& cur = symbols[top.pos];
    if (cur.len == 0 || cur.next == -1) continue;
    const int32_t nextPos = cur.next;
    const Symbol right = symbols[nextPos];
    // Stale entry: the pair at this position changed since it was queued.
    const MergeValue* mv = findMerge(cur.id, right.id);
    if (!mv || mv->newId != top.newId) continue;
    cur.id = top.newId;
    cur.len += right.len;
    cur.next = right.next;
    symbols[nextPos].len = 0;
    if (right.next >= 0) symbols[right.next].prev = top.pos;
    if (cur.prev >= 0) {
      if (auto pm = findMerge(symbols[cur.prev].id, cur.id)) {
        queue.push({pm->rank, cur.prev, pm->newId});
      }
    }
    if (cur.next >= 0) {
      if (auto nm = findMerge(cur.id, symbols[cur.next].id)) {
        queue.push({nm->rank, top.pos, nm->newId});
      }
    }
  }
  for (const Symbol& s : symbols) {
    if (s.len > 0) out.push_back(s.id);
  }
}

}  // namespace llmc::tok

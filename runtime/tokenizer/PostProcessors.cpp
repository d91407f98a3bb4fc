// PostProcessors.cpp - tokenizer.json "post_processor" components (owner: tokenizer).
//
// Supported: TemplateProcessing (single-sequence template), ByteLevel (changes offsets only, so no
// ids), RobertaProcessing and BertProcessing (<cls> A <sep>), Sequence. They run only when encode
// is asked to add special tokens.
#include "Components.h"

namespace llmc::tok {
namespace {

class Template : public PostProcessor {
 public:
  // items[i]: the ids of a special-token piece, or (isSequence[i]) the place of the sequence.
  explicit Template(std::vector<std::vector<int32_t>> items, std::vector<bool> isSequence)
      : items_(std::move(items)), isSequence_(std::move(isSequence)) {}
  void process(std::vector<int32_t>& ids) const override {
    std::vector<int32_t> out;
    out.reserve(ids.size() + 4);
    for (size_t i = 0; i < items_.size(); ++i) {
      if (isSequence_[i]) {
        out.insert(out.end(), ids.begin(), ids.end());
      } else {
        out.insert(out.end(), items_[i].begin(), items_[i].end());
      }
    }
    ids.swap(out);
  }
  std::optional<int32_t> leadingId() const override {
    if (!items_.empty() && !isSequence_[0] && !items_[0].empty()) return items_[0][0];
    return std::nullopt;
  }

 private:
  std::vector<std::vector<int32_t>> items_;
  std::vector<bool> isSequence_;
};

class NoIds : public PostProcessor {
 public:
  void process(std::vector<int32_t>&) const override {}
};

class Sequence : public PostProcessor {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PostProcessor>> parts) : parts_(std::move(parts)) {}
  void process(std::vector<int32_t>& ids) const override {
    for (const auto& p : parts_) p->process(ids);
  }
  std::optional<int32_t> leadingId() const override {
    for (const auto& p : parts_) {
      if (auto id = p->leadingId()) return id;
    }
    return std::nullopt;
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> parts_;
};

StatusOr<std::unique_ptr<PostProcessor>> parseTemplate(const json& j, const std::string& at) {
  auto single = j.find("single");
  if (single == j.end() || !single->is_array()) {
    return InvalidArgument(at + ": field 'single' must be an array of template pieces");
  }
  auto specials = j.find("special_tokens");
  std::vector<std::vector<int32_t>> items;
  std::vector<bool> isSequence;
  for (const auto& piece : *single) {
    if (piece.is_object() && piece.contains("Sequence")) {
      items.emplace_back();
      isSequence.push_back(true);
      continue;
    }
    auto st = piece.is_object() ? piece.find("SpecialToken") : piece.end();
    if (!piece.is_object() || st == piece.end() || !st->is_object()) {
      return InvalidArgument(at + ": template pieces must be {\"Sequence\": ...} or "
                                  "{\"SpecialToken\": ...}");
    }
    std::string name;
    LLMC_RETURN_IF_ERROR(getString(*st, "id", at + ".single", &name));
    if (specials == j.end() || !specials->is_object() || !specials->contains(name)) {
      return InvalidArgument(at + ": special token '" + name + "' is not in 'special_tokens'");
    }
    const json& def = (*specials)[name];
    auto ids = def.find("ids");
    if (ids == def.end() || !ids->is_array()) {
      return InvalidArgument(at + ": special_tokens['" + name + "'].ids must be an array");
    }
    std::vector<int32_t> v;
    for (const auto& id : *ids) {
      if (!id.is_number_integer()) {
        return InvalidArgument(at + ": special_tokens['" + name + "'].ids must hold integers");
      }
      v.push_back(id.get<int32_t>());
    }
    items.push_back(std::move(v));
    isSequence.push_back(false);
  }
  return std::unique_ptr<PostProcessor>(new Template(std::move(items), std::move(isSequence)));
}

// Roberta/Bert: "cls": [token, id], "sep": [token, id].
StatusOr<int32_t> pairId(const json& j, const char* key, const std::string& at) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array() || it->size() != 2 || !(*it)[1].is_number_integer()) {
    return InvalidArgument(at + ": field '" + key + "' must be [token, id]");
  }
  return (*it)[1].get<int32_t>();
}

}  // namespace

StatusOr<std::unique_ptr<PostProcessor>> parsePostProcessor(const json& j,
                                                            const std::string& where) {
  std::string type, at;
  LLMC_RETURN_IF_ERROR(getComponentType(j, where, &type, &at));
  using Ptr = std::unique_ptr<PostProcessor>;
  if (type == "TemplateProcessing") return parseTemplate(j, at);
  if (type == "ByteLevel") return Ptr(new NoIds());
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    LLMC_ASSIGN_OR_RETURN(int32_t cls, pairId(j, "cls", at));
    LLMC_ASSIGN_OR_RETURN(int32_t sep, pairId(j, "sep", at));
    return Ptr(new Template({{cls}, {}, {sep}}, {false, true, false}));
  }
  if (type == "Sequence") {
    auto it = j.find("processors");
    if (it == j.end() || !it->is_array()) {
      return InvalidArgument(at + ": field 'processors' must be an array");
    }
    std::vector<Ptr> parts;
    for (size_t i = 0; i < it->size(); ++i) {
      auto p = parsePostProcessor((*it)[i], where + ".processors[" + std::to_string(i) + "]");
      if (!p.ok()) return p.status();
      parts.push_back(std::move(p).value());
    }
    return Ptr(new Sequence(std::move(parts)));
  }
  return Unsupported(where + ": unsupported post_processor type '" + type +
                     "' (supported: TemplateProcessing, ByteLevel, RobertaProcessing, "
                     "BertProcessing, Sequence)");
}

}  // namespace llmc::tok

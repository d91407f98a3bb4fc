// Normalizers.cpp - tokenizer.json "normalizer" components (owner: tokenizer).
//
// Supported: NFC, NFD, NFKC, NFKD (utf8proc), Lowercase, Strip, StripAccents, Replace, Prepend,
// Sequence. HF applies the normalizer to each stretch of text between added tokens separately.
#include <cstdlib>

#include <utf8proc.h>

#include "Components.h"
#include "Replacement.h"
#include "Utf8.h"

namespace llmc::tok {
namespace {

class UnicodeForm : public Normalizer {
 public:
  explicit UnicodeForm(utf8proc_option_t options) : options_(options) {}
  void normalize(std::string& s) const override {
    if (s.empty()) return;
    utf8proc_uint8_t* out = nullptr;
    utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                      static_cast<utf8proc_ssize_t>(s.size()), &out, options_);
    // utf8proc only fails on invalid UTF-8, which the caller has already repaired.
    if (n >= 0) s.assign(reinterpret_cast<char*>(out), static_cast<size_t>(n));
    std::free(out);
  }

 private:
  utf8proc_option_t options_;
};

class Lowercase : public Normalizer {
 public:
  void normalize(std::string& s) const override {
    std::string out;
    out.reserve(s.size());
    forEachCodePoint(s, [&](size_t, size_t, char32_t cp) {
      if (cp == 0x130) {  // 'İ' lowercases to "i̇" in Unicode's full mapping (Rust uses it)
        out += "i\xCC\x87";
        return;
      }
      appendUtf8(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
    });
    s.swap(out);
  }
};

class Strip : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string& s) const override {
    size_t begin = 0, end = s.size();
    bool seenNonSpace = false;
    forEachCodePoint(s, [&](size_t i, size_t len, char32_t cp) {
      if (isWhitespace(cp)) return;
      if (!seenNonSpace) begin = i;
      seenNonSpace = true;
      end = i + len;
    });
    if (!seenNonSpace) {
      if (left_ || right_) s.clear();
      return;
    }
    if (!right_) end = s.size();
    if (!left_) begin = 0;
    s = s.substr(begin, end - begin);
  }

 private:
  bool left_, right_;
};

class StripAccents : public Normalizer {
 public:
  void normalize(std::string& s) const override {
    std::string out;
    out.reserve(s.size());
    forEachCodePoint(s, [&](size_t i, size_t len, char32_t cp) {
      auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
      if (cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC ||
          cat == UTF8PROC_CATEGORY_ME) {
        return;
      }
      out.append(s, i, len);
    });
    s.swap(out);
  }
};

class Replace : public Normalizer {
 public:
  explicit Replace(Replacement r) : r_(std::move(r)) {}
  void normalize(std::string& s) const override { r_.apply(s); }

 private:
  Replacement r_;
};

class Prepend : public Normalizer {
 public:
  explicit Prepend(std::string p) : prepend_(std::move(p)) {}
  void normalize(std::string& s) const override {
    if (!s.empty()) s.insert(0, prepend_);  // HF leaves an empty string empty
  }

 private:
  std::string prepend_;
};

class Sequence : public Normalizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Normalizer>> parts) : parts_(std::move(parts)) {}
  void normalize(std::string& s) const override {
    for (const auto& p : parts_) p->normalize(s);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

}  // namespace

StatusOr<std::unique_ptr<Normalizer>> parseNormalizer(const json& j, const std::string& where) {
  std::string type, at;
  LLMC_RETURN_IF_ERROR(getComponentType(j, where, &type, &at));
  if (type == "NFC") return std::unique_ptr<Normalizer>(new UnicodeForm(
      utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE)));
  if (type == "NFD") return std::unique_ptr<Normalizer>(new UnicodeForm(
      utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE)));
  if (type == "NFKC") return std::unique_ptr<Normalizer>(new UnicodeForm(
      utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT)));
  if (type == "NFKD") return std::unique_ptr<Normalizer>(new UnicodeForm(
      utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT)));
  if (type == "Lowercase") return std::unique_ptr<Normalizer>(new Lowercase());
  if (type == "StripAccents") return std::unique_ptr<Normalizer>(new StripAccents());
  if (type == "Strip") {
    bool left = true, right = true;
    LLMC_RETURN_IF_ERROR(getBool(j, "strip_left", at, &left));
    LLMC_RETURN_IF_ERROR(getBool(j, "strip_right", at, &right));
    return std::unique_ptr<Normalizer>(new Strip(left, right));
  }
  if (type == "Replace") {
    LLMC_ASSIGN_OR_RETURN(Replacement r, Replacement::parse(j, at));
    return std::unique_ptr<Normalizer>(new Replace(std::move(r)));
  }
  if (type == "Prepend") {
    std::string prepend;
    LLMC_RETURN_IF_ERROR(getString(j, "prepend", at, &prepend));
    return std::unique_ptr<Normalizer>(new Prepend(prepend));
  }
  if (type == "Sequence") {
    auto it = j.find("normalizers");
    if (it == j.end() || !it->is_array()) {
      return InvalidArgument(at + ": field 'normalizers' must be an array");
    }
    std::vector<std::unique_ptr<Normalizer>> parts;
    for (size_t i = 0; i < it->size(); ++i) {
      auto p = parseNormalizer((*it)[i], where + ".normalizers[" + std::to_string(i) + "]");
      if (!p.ok()) return p.status();
      parts.push_back(std::move(p).value());
    }
    return std::unique_ptr<Normalizer>(new Sequence(std::move(parts)));
  }
  return Unsupported(where + ": unsupported normalizer type '" + type +
                     "' (supported: NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents, Replace, "
                     "Prepend, Sequence)");
}

}  // namespace llmc::tok

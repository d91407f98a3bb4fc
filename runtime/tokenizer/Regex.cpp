// Regex.cpp - PCRE2 wrapper: compile once (JIT when available), match without re-checking UTF-8.
#include "Regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "Utf8.h"

namespace llmc::tok {
namespace {

// Oniguruma's Unicode \s: White_Space minus nothing, i.e. the characters below. (PCRE2 adds U+180E.)
constexpr const char* kSpaceMembers =
    "\\t\\n\\x{0B}\\f\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}"
    "\\x{202F}\\x{205F}\\x{3000}";

}  // namespace

std::string rewriteWhitespaceClasses(std::string_view p) {
  std::string out;
  bool inClass = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char n = p[i + 1];
      if (n == 's' || n == 'S') {
        bool negate = n == 'S';
        if (inClass && !negate) {
          out += kSpaceMembers;
        } else if (inClass) {
          // [^...\S...] cannot be expressed by inlining; keep PCRE2's \S (differs only at U+180E).
          out += "\\S";
        } else {
          out += negate ? "[^" : "[";
          out += kSpaceMembers;
          out += "]";
        }
        ++i;
        continue;
      }
      out += c;
      out += n;
      ++i;
      continue;
    }
    if (!inClass && c == '[') {
      inClass = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal member, not the end of the class.
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (inClass && c == ']') inClass = false;
    out += c;
  }
  return out;
}

struct Regex::Impl {
  pcre2_code* code = nullptr;
  bool jit = false;
};

Regex::~Regex() {
  if (impl_ && impl_->code) pcre2_code_free(impl_->code);
}

StatusOr<std::unique_ptr<Regex>> Regex::compile(std::string_view pattern) {
  std::string rewritten = rewriteWhitespaceClasses(pattern);
  int errorCode = 0;
  PCRE2_SIZE errorOffset = 0;
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rewritten.data()), rewritten.size(),
                    PCRE2_UTF | PCRE2_UCP, &errorCode, &errorOffset, nullptr);
  if (!code) {
    PCRE2_UCHAR buffer[256];
    pcre2_get_error_message(errorCode, buffer, sizeof(buffer));
    return InvalidArgument("regex '" + std::string(pattern) + "' does not compile (PCRE2, offset " +
                           std::to_string(errorOffset) + "): " + reinterpret_cast<char*>(buffer));
  }
  std::unique_ptr<Regex> re(new Regex());
  re->impl_ = std::make_unique<Impl>();
  re->impl_->code = code;
  re->impl_->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  return re;
}

std::vector<std::pair<size_t, size_t>> Regex::findAll(std::string_view text) const {
  std::vector<std::pair<size_t, size_t>> out;
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
  if (!md) return out;
  auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;
  bool havePrev = false;
  size_t prevEnd = 0;
  while (pos <= text.size()) {
    // The text was validated once by the caller; re-checking on every call would be quadratic.
    int rc = pcre2_match(impl_->code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      // Deep backtracking on a huge piece: retry with the interpreter, which uses the heap.
      rc = pcre2_match(impl_->code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT,
                       md, nullptr);
    }
    if (rc < 0) break;  // no match (or a resource limit: the rest is left unmatched)
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    size_t b = ov[0], e = ov[1];
    if (b == e && havePrev && b == prevEnd) {
      // Skip an empty match adjacent to the previous match; step over one character.
      if (b >= text.size()) break;
      size_t n = validSequenceLength(text, b);
      pos = b + (n ? n : 1);
      continue;
    }
    out.emplace_back(b, e);
    havePrev = true;
    prevEnd = e;
    if (e == b) {
      if (b >= text.size()) break;
      size_t n = validSequenceLength(text, b);
      pos = b + (n ? n : 1);
    } else {
      pos = e;
    }
  }
  pcre2_match_data_free(md);
  return out;
}

}  // namespace llmc::tok

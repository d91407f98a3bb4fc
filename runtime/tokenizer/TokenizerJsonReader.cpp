// TokenizerJsonReader.cpp - one-pass scanner for tokenizer.json's big arrays (owner: tokenizer).
#include "TokenizerJsonReader.h"

#include <cstring>

#include "Utf8.h"

namespace llmc::tok {
namespace {

// Collects the first syntax error without exceptions (the DOM parse only says "discarded").
class ErrorFinder : public nlohmann::json_sax<json> {
 public:
  size_t position = 0;
  std::string message;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t pos, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    position = pos;
    message = ex.what();
    return false;
  }
};

class Scanner {
 public:
  Scanner(std::string_view s, const std::string& where) : s_(s), where_(where) {}

  Status error(const std::string& what) const {
    return InvalidArgument(where_ + ": not valid JSON at byte " + std::to_string(i_) + ": " + what);
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) {
      ++i_;
    }
  }
  bool peek(char c) {
    ws();
    return i_ < s_.size() && s_[i_] == c;
  }
  Status expect(char c) {
    ws();
    if (i_ >= s_.size() || s_[i_] != c) return error(std::string("expected '") + c + "'");
    ++i_;
    return Status::Ok();
  }
  size_t pos() const { return i_; }
  std::string_view slice(size_t b, size_t e) const { return s_.substr(b, e - b); }

  // A JSON string (the opening quote is next), unescaped into `out`.
  Status string(std::string& out) {
    LLMC_RETURN_IF_ERROR(expect('"'));
    out.clear();
    while (true) {
      size_t start = i_;
      while (i_ < s_.size() && s_[i_] != '"' && s_[i_] != '\\' &&
             static_cast<unsigned char>(s_[i_]) >= 0x20) {
        ++i_;
      }
      out.append(s_.data() + start, i_ - start);
      if (i_ >= s_.size()) return error("unterminated string");
      char c = s_[i_];
      if (c == '"') {
        ++i_;
        break;
      }
      if (c != '\\') return error("control character in string");
      if (++i_ >= s_.size()) return error("unterminated escape");
      char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp;
          LLMC_RETURN_IF_ERROR(hex4(&cp));
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (i_ + 1 >= s_.size() || s_[i_] != '\\' || s_[i_ + 1] != 'u') {
              return error("unpaired surrogate in \\u escape");
            }
            i_ += 2;
            LLMC_RETURN_IF_ERROR(hex4(&lo));
            if (lo < 0xDC00 || lo > 0xDFFF) return error("unpaired surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return error("unpaired surrogate in \\u escape");
          }
          appendUtf8(out, cp);
          break;
        }
        default: return error("unknown escape");
      }
    }
    if (!isValidUtf8(out)) return error("string is not valid UTF-8");
    return Status::Ok();
  }

  Status integer(int64_t* v) {
    ws();
    size_t start = i_;
    bool neg = i_ < s_.size() && s_[i_] == '-';
    if (neg) ++i_;
    int64_t x = 0;
    size_t digits = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      if (x > (INT64_MAX - 9) / 10) return error("integer out of range");
      x = x * 10 + (s_[i_++] - '0');
      ++digits;
    }
    if (digits == 0 || (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E'))) {
      i_ = start;
      return error("expected an integer");
    }
    *v = neg ? -x : x;
    return Status::Ok();
  }

  // Skips one value of any kind; its exact syntax is checked later by nlohmann on the slice.
  Status skipValue() {
    ws();
    int depth = 0;
    std::string scratch;
    do {
      ws();
      if (i_ >= s_.size()) return error("unexpected end of input");
      char c = s_[i_];
      if (c == '"') {
        LLMC_RETURN_IF_ERROR(string(scratch));
      } else if (c == '{' || c == '[') {
        ++depth;
        ++i_;
      } else if (c == '}' || c == ']') {
        if (depth == 0) return error("unexpected closing bracket");
        --depth;
        ++i_;
      } else {
        // A scalar, or the commas and colons inside a container.
        ++i_;
        while (i_ < s_.size() && !std::strchr("\"{}[],: \n\r\t", s_[i_])) ++i_;
      }
    } while (depth > 0);
    return Status::Ok();
  }

 private:
  Status hex4(uint32_t* cp) {
    if (i_ + 4 > s_.size()) return error("short \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else return error("bad hex digit in \\u escape");
    }
    *cp = v;
    return Status::Ok();
  }

  std::string_view s_;
  const std::string& where_;
  size_t i_ = 0;
};

Status readVocab(Scanner& sc, TokenizerJsonData* out) {
  LLMC_RETURN_IF_ERROR(sc.expect('{'));
  if (sc.peek('}')) return sc.expect('}');
  std::string key;
  while (true) {
    LLMC_RETURN_IF_ERROR(sc.string(key));
    LLMC_RETURN_IF_ERROR(sc.expect(':'));
    int64_t id;
    LLMC_RETURN_IF_ERROR(sc.integer(&id));
    out->vocab.emplace_back(key, id);
    if (sc.peek(',')) {
      LLMC_RETURN_IF_ERROR(sc.expect(','));
      continue;
    }
    return sc.expect('}');
  }
}

Status readMerges(Scanner& sc, TokenizerJsonData* out) {
  LLMC_RETURN_IF_ERROR(sc.expect('['));
  if (sc.peek(']')) return sc.expect(']');
  std::string text;
  while (true) {
    TokenizerJsonData::Merge m;
    if (sc.peek('[')) {
      LLMC_RETURN_IF_ERROR(sc.expect('['));
      LLMC_RETURN_IF_ERROR(sc.string(m.first));
      LLMC_RETURN_IF_ERROR(sc.expect(','));
      LLMC_RETURN_IF_ERROR(sc.string(m.second));
      LLMC_RETURN_IF_ERROR(sc.expect(']'));
    } else {
      LLMC_RETURN_IF_ERROR(sc.string(text));
      m.fromString = true;
      size_t space = text.find(' ');
      if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos) {
        m.malformed = true;  // HF wants exactly two parts
        m.first = text;
      } else {
        m.first = text.substr(0, space);
        m.second = text.substr(space + 1);
      }
    }
    out->merges.push_back(std::move(m));
    if (sc.peek(',')) {
      LLMC_RETURN_IF_ERROR(sc.expect(','));
      continue;
    }
    return sc.expect(']');
  }
}

// Reads an object member by member; `special(key)` may consume the value itself (returns true),
// otherwise the value is parsed with nlohmann into the resulting object.
template <typename Special>
Status readObject(Scanner& sc, const std::string& where, json* obj, Special special) {
  *obj = json::object();
  LLMC_RETURN_IF_ERROR(sc.expect('{'));
  if (sc.peek('}')) return sc.expect('}');
  std::string key;
  while (true) {
    LLMC_RETURN_IF_ERROR(sc.string(key));
    LLMC_RETURN_IF_ERROR(sc.expect(':'));
    bool consumed = false;
    LLMC_RETURN_IF_ERROR(special(key, &consumed));
    if (!consumed) {
      sc.ws();
      size_t b = sc.pos();
      LLMC_RETURN_IF_ERROR(sc.skipValue());
      json v;
      LLMC_RETURN_IF_ERROR(parseJsonValue(sc.slice(b, sc.pos()), where, b, &v));
      (*obj)[key] = std::move(v);
    }
    if (sc.peek(',')) {
      LLMC_RETURN_IF_ERROR(sc.expect(','));
      continue;
    }
    return sc.expect('}');
  }
}

}  // namespace

Status parseJsonValue(std::string_view text, const std::string& where, size_t offsetBase,
                      json* out) {
  *out = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!out->is_discarded()) return Status::Ok();
  ErrorFinder finder;
  json::sax_parse(text.begin(), text.end(), &finder, nlohmann::detail::input_format_t::json,
                  /*strict=*/true);
  return InvalidArgument(where + ": not valid JSON at byte " +
                         std::to_string(offsetBase + finder.position) + ": " + finder.message);
}

Status readTokenizerJson(std::string_view text, const std::string& where, TokenizerJsonData* out) {
  Scanner sc(text, where);
  sc.ws();
  if (!sc.peek('{')) {
    if (sc.pos() >= text.size()) return sc.error("empty document");
    return sc.error("the top level must be an object");
  }
  auto modelMember = [&](const std::string& key, bool* consumed) -> Status {
    if (key == "vocab" && sc.peek('{')) {
      *consumed = out->hasVocab = true;
      return readVocab(sc, out);
    }
    if (key == "merges" && sc.peek('[')) {
      *consumed = out->hasMerges = true;
      return readMerges(sc, out);
    }
    return Status::Ok();
  };
  LLMC_RETURN_IF_ERROR(readObject(sc, where, &out->root, [&](const std::string& key, bool* consumed) {
    if (key != "model" || !sc.peek('{')) return Status::Ok();
    *consumed = true;
    json model;
    LLMC_RETURN_IF_ERROR(readObject(sc, where, &model, modelMember));
    out->root["model"] = std::move(model);
    return Status::Ok();
  }));
  sc.ws();
  if (sc.pos() != text.size()) return sc.error("unexpected text after the top-level object");
  return Status::Ok();
}

}  // namespace llmc::tok

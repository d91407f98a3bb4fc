// AddedTokens.h - the tokenizer.json "added_tokens" and how they are found in text (owner:
// tokenizer).
//
// HF splits the input on added tokens before anything else: first on the tokens with
// normalized=false (matched in the raw text), then, inside each normalized stretch, on those with
// normalized=true (matched against their normalized spelling). Matching is leftmost-longest;
// single_word, lstrip and rstrip adjust or reject a match as HF's AddedVocabulary does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace llmc::tok {

struct AddedToken {
  std::string content;
  int32_t id = 0;
  bool special = false;
  bool singleWord = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
  // What HF's id_to_token (and so decode) gives for it: the normalizer's output of `content` when
  // `normalized` (HF keeps that form in its id map), else `content`.
  std::string decodeForm;
};

// A stretch of text: an added token (id >= 0) or plain text (id == -1), as byte offsets.
struct TextSegment {
  size_t begin, end;
  int32_t id;
};

class AddedVocabulary {
 public:
  // Tokens with decodeForm set; normalized ones are matched in that form.
  void build(std::vector<AddedToken> tokens);

  // Splits `text` on the tokens of one set (normalized == false or true). Empty text gives one
  // empty plain segment, as HF does.
  std::vector<TextSegment> split(std::string_view text, bool normalizedSet) const;

  const AddedToken* byId(int32_t id) const;
  std::optional<int32_t> idOf(std::string_view content) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  // A byte trie over the spellings of one set; `terminal` holds the index into tokens_ or -1.
  struct Trie {
    struct Node {
      std::vector<std::pair<unsigned char, int32_t>> children;  // sorted by byte
      int32_t terminal = -1;
    };
    std::vector<Node> nodes{Node{}};
    bool firstByte[256] = {};
    void insert(std::string_view s, int32_t token);
    int32_t child(int32_t node, unsigned char b) const;
    // Longest spelling starting at text[pos]: (token index, length), or (-1, 0).
    std::pair<int32_t, size_t> longestAt(std::string_view text, size_t pos) const;
  };

  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, size_t> byId_;
  std::unordered_map<std::string, int32_t> byContent_;
  Trie raw_, normalized_;
};

}  // namespace llmc::tok

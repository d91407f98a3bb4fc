// StopMatcher.h - finds stop strings in streamed text and holds back what might start one.
//
// Text arrives in pieces (one per decoded token). ready() returns the text that can be shown now:
// everything except a tail that could still become a stop string. When a stop string completes,
// the text is cut where it begins (the stop string itself is not part of the output, as in HF and
// vLLM) and stopped() turns true.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llmc {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);

  // Appends text; returns true when a stop string is now complete (then later pushes are ignored).
  bool push(std::string_view piece);
  bool stopped() const { return stopped_; }
  // New text safe to emit since the last call (everything, once stopped or after finish()).
  std::string takeReady();
  // End of generation: the held-back tail becomes ready.
  void finish() { finished_ = true; }
  // All text so far (cut at the stop string when stopped).
  const std::string& text() const { return text_; }

 private:
  std::vector<std::string> stops_;
  std::string text_;
  size_t emitted_ = 0;
  bool stopped_ = false;
  bool finished_ = false;
};

}  // namespace llmc

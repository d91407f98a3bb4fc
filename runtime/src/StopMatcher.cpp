// StopMatcher.cpp - incremental stop-string search with a held-back tail.
#include "llmc/runtime/StopMatcher.h"

#include <algorithm>

namespace llmc {

StopMatcher::StopMatcher(std::vector<std::string> stops) {
  for (std::string& s : stops) {
    if (!s.empty()) stops_.push_back(std::move(s));
  }
}

bool StopMatcher::push(std::string_view piece) {
  if (stopped_) return true;
  const size_t before = text_.size();
  text_.append(piece.data(), piece.size());
  // A match must end inside the new piece; start the search early enough to catch one that began
  // in earlier text. The earliest match wins.
  size_t best = std::string::npos;
  for (const std::string& s : stops_) {
    const size_t from = before >= s.size() - 1 ? before - (s.size() - 1) : 0;
    const size_t at = text_.find(s, from);
    if (at != std::string::npos) best = std::min(best, at);
  }
  if (best != std::string::npos) {
    text_.resize(best);
    emitted_ = std::min(emitted_, text_.size());
    stopped_ = true;
  }
  return stopped_;
}

std::string StopMatcher::takeReady() {
  size_t end = text_.size();
  if (!stopped_ && !finished_) {
    // Hold back the longest tail that is a proper prefix of some stop string.
    size_t hold = 0;
    for (const std::string& s : stops_) {
      for (size_t n = std::min(s.size() - 1, text_.size()); n > hold; --n) {
        if (text_.compare(text_.size() - n, n, s, 0, n) == 0) {
          hold = n;
          break;
        }
      }
    }
    end = text_.size() - hold;
  }
  if (end <= emitted_) return std::string();
  std::string out = text_.substr(emitted_, end - emitted_);
  emitted_ = end;
  return out;
}

}  // namespace llmc

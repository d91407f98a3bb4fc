// StopMatcherTest.cpp - stop strings split over pieces, held-back prefixes, earliest match wins.
#include <gtest/gtest.h>

#include "llmc/runtime/StopMatcher.h"

namespace llmc {
namespace {

// Feeds pieces, collecting ready text after each; returns the collected text.
std::string run(StopMatcher& m, const std::vector<std::string>& pieces) {
  std::string out;
  for (const std::string& p : pieces) {
    m.push(p);
    out += m.takeReady();
  }
  if (!m.stopped()) m.finish();
  out += m.takeReady();
  return out;
}

TEST(StopMatcherTest, NoStops) {
  StopMatcher m({});
  EXPECT_EQ(run(m, {"Hello", " wor", "ld"}), "Hello world");
  EXPECT_FALSE(m.stopped());
}

TEST(StopMatcherTest, StopSplitOverPieces) {
  StopMatcher m({"\n\nUser:"});
  std::vector<std::string> ready;
  for (std::string p : {"Sure.", "\n", "\nUs", "er", ":", " more"}) {
    m.push(p);
    ready.push_back(m.takeReady());
  }
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.text(), "Sure.");
  EXPECT_EQ(ready[0], "Sure.");
  EXPECT_EQ(ready[1], "");  // "\n" could start the stop string: held back
  EXPECT_EQ(ready[2] + ready[3] + ready[4] + ready[5], "");
}

TEST(StopMatcherTest, HeldBackTextIsReleasedWhenItCannotMatch) {
  StopMatcher m({"END"});
  m.push("the EN");
  EXPECT_EQ(m.takeReady(), "the ");
  m.push("D");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.takeReady(), "");
  EXPECT_EQ(m.text(), "the ");
  StopMatcher n({"END"});
  n.push("the EN");
  n.takeReady();
  n.push("try");
  EXPECT_EQ(n.takeReady(), "ENtry");
  n.push("E");
  EXPECT_EQ(n.takeReady(), "");
  n.finish();
  EXPECT_EQ(n.takeReady(), "E");
}

TEST(StopMatcherTest, EarliestOfSeveralAndInsideOnePiece) {
  StopMatcher m({"cd", "b"});
  m.push("abcde");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.text(), "a");
  StopMatcher n({"xyz", "yz"});
  EXPECT_EQ(run(n, {"axy", "zq"}), "a");
}

}  // namespace
}  // namespace llmc

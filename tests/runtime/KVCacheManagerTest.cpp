// KVCacheManagerTest.cpp - block allocation, reference counts, copy-on-write and exhaustion.
#include <gtest/gtest.h>

#include <set>

#include "llmc/runtime/KVCacheManager.h"

namespace llmc {
namespace {

struct CopyLog {
  std::vector<std::pair<int32_t, int32_t>> copies;
  KVCacheManager::CopyBlockFn fn() {
    return [this](int32_t s, int32_t d) {
      copies.emplace_back(s, d);
      return Status::Ok();
    };
  }
};

TEST(KVCacheManagerTest, ReserveCommitRelease) {
  KVCacheManager kv(10, 4);
  CopyLog log;
  auto a = kv.create();
  ASSERT_TRUE(kv.reserve(a, 5, log.fn()).ok());  // 5 tokens: 2 blocks
  EXPECT_EQ(kv.blockTable(a).size(), 2u);
  EXPECT_EQ(kv.length(a), 0);
  ASSERT_TRUE(kv.commit(a, 5).ok());
  EXPECT_EQ(kv.length(a), 5);
  ASSERT_TRUE(kv.reserve(a, 3, log.fn()).ok());  // 8 tokens: still 2 blocks
  EXPECT_EQ(kv.blockTable(a).size(), 2u);
  ASSERT_TRUE(kv.commit(a, 3).ok());
  ASSERT_TRUE(kv.reserve(a, 1, log.fn()).ok());  // 9: a third block
  EXPECT_EQ(kv.blockTable(a).size(), 3u);
  EXPECT_EQ(kv.freeBlocks(), 7);
  EXPECT_EQ(kv.commit(a, 5).code(), StatusCode::kInternal);  // past the reserved blocks
  std::set<int32_t> distinct(kv.blockTable(a).begin(), kv.blockTable(a).end());
  EXPECT_EQ(distinct.size(), 3u);
  ASSERT_TRUE(kv.release(a).ok());
  EXPECT_EQ(kv.freeBlocks(), 10);
  EXPECT_TRUE(log.copies.empty());
  EXPECT_EQ(kv.release(a).code(), StatusCode::kInvalidArgument);
}

TEST(KVCacheManagerTest, ForkSharesAndCopiesOnWrite) {
  KVCacheManager kv(10, 4);
  CopyLog log;
  auto a = kv.create();
  ASSERT_TRUE(kv.reserve(a, 6, log.fn()).ok());
  ASSERT_TRUE(kv.commit(a, 6).ok());
  auto b = kv.fork(a);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(kv.length(*b), 6);
  EXPECT_EQ(kv.blockTable(*b), kv.blockTable(a));
  const auto shared = kv.blockTable(a);
  EXPECT_EQ(kv.refCount(shared[0]), 2);
  EXPECT_EQ(kv.freeBlocks(), 8);
  // b writes position 6 (block 1, shared, partially filled): it gets a private copy.
  auto need = kv.blocksNeeded(*b, 1);
  ASSERT_TRUE(need.ok());
  EXPECT_EQ(*need, 1);
  ASSERT_TRUE(kv.reserve(*b, 1, log.fn()).ok());
  ASSERT_EQ(log.copies.size(), 1u);
  EXPECT_EQ(log.copies[0].first, shared[1]);
  EXPECT_EQ(log.copies[0].second, kv.blockTable(*b)[1]);
  EXPECT_NE(kv.blockTable(*b)[1], shared[1]);
  EXPECT_EQ(kv.blockTable(*b)[0], shared[0]);  // full blocks stay shared
  EXPECT_EQ(kv.refCount(shared[1]), 1);
  // a is now the only owner of its block 1: no copy.
  ASSERT_TRUE(kv.reserve(a, 1, log.fn()).ok());
  EXPECT_EQ(log.copies.size(), 1u);
  ASSERT_TRUE(kv.release(a).ok());
  EXPECT_EQ(kv.refCount(shared[0]), 1);
  ASSERT_TRUE(kv.release(*b).ok());
  EXPECT_EQ(kv.freeBlocks(), 10);
}

TEST(KVCacheManagerTest, ForkAtBlockBoundaryNeedsNoCopy) {
  KVCacheManager kv(10, 4);
  CopyLog log;
  auto a = kv.create();
  ASSERT_TRUE(kv.reserve(a, 8, log.fn()).ok());
  ASSERT_TRUE(kv.commit(a, 8).ok());
  auto b = kv.fork(a);
  ASSERT_TRUE(kv.reserve(*b, 2, log.fn()).ok());
  EXPECT_TRUE(log.copies.empty());
  EXPECT_EQ(kv.blockTable(*b).size(), 3u);
}

TEST(KVCacheManagerTest, ExhaustionChangesNothing) {
  KVCacheManager kv(3, 4);
  CopyLog log;
  auto a = kv.create();
  ASSERT_TRUE(kv.reserve(a, 8, log.fn()).ok());
  auto b = kv.create();
  Status s = kv.reserve(b, 5, log.fn());  // needs 2, 1 free
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("out of blocks"), std::string::npos);
  EXPECT_TRUE(kv.blockTable(b).empty());
  EXPECT_EQ(kv.freeBlocks(), 1);
  // A failing copy leaves the table as it was.
  ASSERT_TRUE(kv.commit(a, 6).ok());
  auto c = kv.fork(a);
  Status bad = kv.reserve(*c, 1, [](int32_t, int32_t) { return Internal("copy failed"); });
  EXPECT_EQ(bad.code(), StatusCode::kInternal);
  EXPECT_EQ(kv.blockTable(*c), kv.blockTable(a));
  EXPECT_EQ(kv.freeBlocks(), 1);
}

}  // namespace
}  // namespace llmc

// Generator's engine against the standard library's std::mt19937_64: the same numbers, the same
// skips, the same textual state (so checkpoints written before the engine was nabla's still load).
#include "nabla/random.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <vector>

#include "nabla/detail/mt19937_64.h"

namespace nabla {
namespace {

using detail::Mt19937_64;

const uint64_t kSeeds[] = {0, 1, 5489, 42, 0xFFFFFFFFFFFFFFFFULL, 0x123456789ABCDEFULL};

TEST(Mt19937_64, DrawsWhatStdMt19937_64Draws) {
  for (uint64_t seed : kSeeds) {
    SCOPED_TRACE(seed);
    std::mt19937_64 want(seed);
    Mt19937_64 got(seed);
    // Past three regenerations of the 312 words, one draw at a time.
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(got(), want()) << "draw " << i;
  }
}

TEST(Mt19937_64, FillAndDiscardMatchOneDrawAtATime) {
  std::mt19937_64 want(7);
  Mt19937_64 got(7);
  // Blocks that start and end inside a regeneration, span one, and are shorter than a vector.
  for (int64_t n : {1, 3, 5, 311, 312, 313, 1, 700, 4, 2}) {
    std::vector<uint64_t> block(static_cast<size_t>(n));
    got.fill(block.data(), n);
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(block[size_t(i)], want()) << "block of " << n;
  }
  for (uint64_t skip : {0ULL, 1ULL, 155ULL, 312ULL, 313ULL, 1000ULL}) {
    got.discard(skip);
    want.discard(skip);
    ASSERT_EQ(got(), want()) << "after discarding " << skip;
  }
}

TEST(Mt19937_64, TextualStateIsStdMt19937_64s) {
  std::mt19937_64 want(11);
  Mt19937_64 got(11);
  for (int draws : {0, 5, 400}) {
    for (int i = 0; i < draws; ++i) got(), want();
    std::ostringstream ours, theirs;
    ours << got;
    theirs << want;
    ASSERT_EQ(ours.str(), theirs.str()) << "after " << draws << " more draws";
  }
  // std's text read back into nabla's engine, and nabla's into std's, go on alike.
  std::stringstream text;
  text << want;
  Mt19937_64 read;
  text >> read;
  ASSERT_FALSE(text.fail());
  EXPECT_EQ(read, got);
  for (int i = 0; i < 500; ++i) ASSERT_EQ(read(), want());
}

TEST(Mt19937_64, MalformedTextLeavesTheEngineUnchanged) {
  Mt19937_64 e(3);
  const Mt19937_64 before = e;
  std::ostringstream good;
  good << e;
  const std::string words = good.str().substr(0, good.str().rfind(' '));
  for (const std::string& bad : {std::string("1 2 3"), words + " 313", words + " -1", words}) {
    std::istringstream in(bad);
    in >> e;
    EXPECT_TRUE(in.fail()) << bad.size() << " characters";
    EXPECT_EQ(e, before);
  }
}

TEST(Generator, FillU64MatchesNextU64) {
  Generator a(9), b(9);
  std::vector<uint64_t> block(1000);
  a.fill_u64(block.data(), 1000);
  for (uint64_t v : block) ASSERT_EQ(v, b.next_u64());
  EXPECT_EQ(a.uniform(), b.uniform());
}

}  // namespace
}  // namespace nabla

#include <gtest/gtest.h>

#include "llvq/golay.hpp"
#include "llvq/leech.hpp"

namespace {
using llvq::leech::Vec;

TEST(Leech, MinimalVectorsOfEachType) {
  Vec a{};  // (±2^8 on an octad, even number of minus signs)
  const uint32_t octad = llvq::golay::codewords_of_weight(8)[0];
  for (int i = 0; i < 24; ++i) a[i] = (octad >> i & 1) ? 2 : 0;
  EXPECT_EQ(llvq::leech::shell_of(a), 2);
  Vec b{};  // (±4, ±4, 0^22)
  b[3] = 4;
  b[17] = -4;
  EXPECT_EQ(llvq::leech::shell_of(b), 2);
  Vec c;  // (-3, 1^23)
  c.fill(1);
  c[0] = -3;
  EXPECT_EQ(llvq::leech::shell_of(c), 2);
  Vec d{};  // (4, 0^23): right norm parity but Σ ≡ 4 mod 8
  d[0] = 4;
  EXPECT_FALSE(llvq::leech::is_member(d));
  Vec e = c;  // mixed parity
  e[5] = 2;
  EXPECT_FALSE(llvq::leech::is_member(e));
}
}  // namespace

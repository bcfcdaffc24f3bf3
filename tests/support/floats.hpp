// Comparing float results bit for bit.
#pragma once

#include <cstring>
#include <vector>

namespace llvq::test {

// Bit-exact equality of two float vectors (NaN-safe, distinguishes -0 from +0).
inline bool bits_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

}  // namespace llvq::test

// Seeded Gaussian samples: the tests' one generator of random weights and inputs, so that a
// seed stands for the same numbers in every test (their thresholds were measured on them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace llvq::test {

// `count` samples of N(0, sigma²) from a 64-bit Mersenne Twister seeded with `seed`.
template <class T = float>
std::vector<T> gaussian(size_t count, uint64_t seed, double sigma = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<T> normal(T(0), static_cast<T>(sigma));
  std::vector<T> v(count);
  for (T& x : v) x = normal(rng);
  return v;
}

}  // namespace llvq::test

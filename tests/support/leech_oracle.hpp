// Independent oracles for the Leech lattice tests: brute force over the 8192 cosets
// h + 2c + 4·(D24 + h·e1) of 4·D24 whose union is J = √8·Λ24, each solved in closed form.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <tuple>

#include "llvq/golay.hpp"
#include "llvq/leech.hpp"

namespace leech_oracle {

using llvq::leech::Vec;

struct Result {
  Vec point{};
  double dist2 = 0;         // squared distance to the best point
  double runner_up = 1e300; // squared distance of the best point of any other coset
};

// Nearest point of J to x: minimum over all cosets of the coset's nearest point.
inline Result brute_force(const double* x) {
  Result r;
  double best = 1e300;
  for (int h = 0; h < 2; ++h)
    for (uint32_t c : llvq::golay::codewords()) {
      Vec p;
      int parity = 0;
      for (int i = 0; i < 24; ++i) {
        const int a = h + 2 * static_cast<int>(c >> i & 1);
        const double k = std::nearbyint((x[i] - a) / 4.0);
        p[i] = static_cast<int32_t>(a + 4 * k);
        parity ^= static_cast<int>(static_cast<int64_t>(k) & 1);
      }
      if (parity != h) {  // re-round the coordinate whose second choice costs least
        int arg = -1;
        double loss = 1e300;
        for (int i = 0; i < 24; ++i) {
          const int alt = x[i] >= p[i] ? p[i] + 4 : p[i] - 4;
          const double l = (x[i] - alt) * (x[i] - alt) - (x[i] - p[i]) * (x[i] - p[i]);
          if (l < loss) loss = l, arg = i;
        }
        p[arg] = x[arg] >= p[arg] ? p[arg] + 4 : p[arg] - 4;
      }
      double d = 0;
      for (int i = 0; i < 24; ++i) d += (x[i] - p[i]) * (x[i] - p[i]);
      if (d < best) {
        r.runner_up = best;
        best = d;
        r.point = p;
      } else if (d < r.runner_up) {
        r.runner_up = d;
      }
    }
  r.dist2 = best;
  return r;
}

// Exact nearest point of scale·J to integer v under the order (|v − p|², v − p
// lexicographically): every coset's best point under that order is found by trying the
// 24 possible re-roundings explicitly.
inline Vec brute_force_exact(const Vec& v, int scale) {
  using Key = std::tuple<int64_t, std::array<int64_t, 24>>;
  auto key_of = [&](const Vec& p) {
    Key k;
    for (int i = 0; i < 24; ++i) {
      const int64_t e = static_cast<int64_t>(v[i]) - p[i];
      std::get<0>(k) += e * e;
      std::get<1>(k)[i] = e;
    }
    return k;
  };
  const int64_t period = 4 * static_cast<int64_t>(scale);
  Vec best_point{};
  Key best_key;
  bool have = false;
  for (int h = 0; h < 2; ++h)
    for (uint32_t c : llvq::golay::codewords()) {
      Vec p;
      std::array<int64_t, 24> other;
      int parity = 0;
      for (int i = 0; i < 24; ++i) {
        const int64_t base = static_cast<int64_t>(scale) * (h + 2 * static_cast<int>(c >> i & 1));
        // the two nearest values of base + period·Z around v_i
        const int64_t k_lo = static_cast<int64_t>(std::floor(static_cast<double>(v[i] - base) / period));
        const int64_t lo = base + period * k_lo, hi = lo + period;
        const int64_t e_lo = v[i] - lo, e_hi = v[i] - hi;
        const bool take_hi = e_hi * e_hi < e_lo * e_lo || (e_hi * e_hi == e_lo * e_lo && e_hi < e_lo);
        p[i] = static_cast<int32_t>(take_hi ? hi : lo);
        other[i] = take_hi ? lo : hi;
        parity ^= static_cast<int>(((take_hi ? k_lo + 1 : k_lo) % 2 + 2) % 2);
      }
      Vec chosen = p;
      if (parity != h) {
        bool first = true;
        Key kbest;
        for (int i = 0; i < 24; ++i) {
          Vec q = p;
          q[i] = static_cast<int32_t>(other[i]);
          const Key k = key_of(q);
          if (first || k < kbest) first = false, kbest = k, chosen = q;
        }
      }
      const Key k = key_of(chosen);
      if (!have || k < best_key) have = true, best_key = k, best_point = chosen;
    }
  return best_point;
}

// A random point of J built from the membership rule, not from the basis.
inline Vec random_lattice_point(std::mt19937_64& rng, int spread) {
  std::uniform_int_distribution<uint32_t> msg(0, 4095);
  std::uniform_int_distribution<int> k(-spread, spread);
  const uint32_t c = llvq::golay::encode(msg(rng));
  const int h = static_cast<int>(rng() & 1);
  Vec p;
  int parity = 0;
  for (int i = 0; i < 24; ++i) {
    const int ki = k(rng);
    p[i] = h + 2 * static_cast<int>(c >> i & 1) + 4 * ki;
    parity ^= ki & 1;
  }
  if (parity != h) p[0] += 4;
  return p;
}

}  // namespace leech_oracle

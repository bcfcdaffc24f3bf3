// The sextet coset layout of the Golay code (golay_cosets.hpp).
#include "lattice/golay_cosets.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>
#include <stdexcept>

#include "llvq/golay.hpp"

namespace llvq::lattice {
namespace {

// Tetrad 0 is positions 0..3; the five octads through it each add one more tetrad.
std::array<std::array<uint8_t, 4>, GolayCosets::kColumns> sextet() {
  std::array<std::array<uint8_t, 4>, GolayCosets::kColumns> t{};
  const auto octads = golay::codewords_with(8, 0xF, 0);
  if (octads.size() != GolayCosets::kColumns - 1) throw std::logic_error("golay_cosets: not a sextet");
  t[0] = {0, 1, 2, 3};
  std::array<uint32_t, GolayCosets::kColumns - 1> rest{};
  for (size_t k = 0; k < rest.size(); ++k) rest[k] = octads[k] & ~0xFu;
  std::sort(rest.begin(), rest.end(), [](uint32_t a, uint32_t b) { return std::countr_zero(a) < std::countr_zero(b); });
  for (size_t k = 0; k < rest.size(); ++k) {
    int n = 0;
    for (uint32_t m = rest[k]; m; m &= m - 1) t[k + 1][n++] = static_cast<uint8_t>(std::countr_zero(m));
  }
  return t;
}

// A codeword's coset key: the canonical pattern of every tetrad and the parity of the
// complemented ones (GolayCosets::pattern's layout).
uint32_t coset_key(uint32_t word, const std::array<std::array<uint8_t, 4>, GolayCosets::kColumns>& tetrad) {
  uint32_t key = 0, flips = 0;
  for (int k = 0; k < GolayCosets::kColumns; ++k) {
    uint32_t bits = 0;
    for (int b = 0; b < 4; ++b) bits |= ((word >> tetrad[k][b]) & 1u) << b;
    if (bits & 1) {
      bits ^= 0xF;
      flips ^= 1;
    }
    key |= (bits >> 1) << (3 * k);
  }
  return key | flips << 31;
}

GolayCosets build() {
  GolayCosets c;
  c.tetrad = sextet();
  const auto& all = golay::codewords();
  // Cosets numbered by their smallest message.
  std::map<uint32_t, int> coset_of_key;
  std::array<std::vector<uint32_t>, GolayCosets::kCosets> members;
  for (uint32_t m = 0; m < 4096; ++m) {
    const uint32_t key = coset_key(all[m], c.tetrad);
    const auto [it, added] = coset_of_key.emplace(key, static_cast<int>(coset_of_key.size()));
    if (added) c.pattern.at(it->second) = key;
    members[it->second].push_back(m);
  }
  if (coset_of_key.size() != GolayCosets::kCosets) throw std::logic_error("golay_cosets: wrong coset count");
  // Within a coset: the messages below 2048 in increasing order, then their complements
  // (message 4095 − m) in reverse, so that item j's complement is item j ^ 31.
  for (int g = 0; g < GolayCosets::kCosets; ++g) {
    std::vector<uint32_t> low;
    for (uint32_t m : members[g])
      if (m < 2048) low.push_back(m);
    if (low.size() != GolayCosets::kCosetSize / 2) throw std::logic_error("golay_cosets: unpaired coset");
    for (int k = 0; k < GolayCosets::kCosetSize / 2; ++k) {
      const int j = g * GolayCosets::kCosetSize + k;
      c.message[j] = static_cast<uint16_t>(low[k]);
      c.message[j ^ 31] = static_cast<uint16_t>(4095 - low[k]);
    }
  }
  for (int j = 0; j < 4096; ++j) c.words[j] = all[c.message[j]];
  for (int slot = 0; slot < 3; ++slot) {
    const auto list = golay::codewords_of_weight(8 + 4 * slot);
    std::vector<std::pair<int, uint16_t>> order;
    for (size_t p = 0; p < list.size(); ++p)
      order.emplace_back(coset_of_key.at(coset_key(list[p], c.tetrad)), static_cast<uint16_t>(p));
    std::sort(order.begin(), order.end());
    for (const auto& [g, p] : order) {
      c.weight_words[slot].push_back(list[p]);
      c.weight_position[slot].push_back(p);
      ++c.weight_start[slot][g + 1];
    }
    for (int g = 0; g < GolayCosets::kCosets; ++g) c.weight_start[slot][g + 1] += c.weight_start[slot][g];
  }
  return c;
}

}  // namespace

const GolayCosets& golay_cosets() {
  static const GolayCosets cosets = build();
  return cosets;
}

double coset_columns(const double* gain, float* column, double& scale) {
  const auto& tetrad = golay_cosets().tetrad;
  double halves = 0;
  scale = 0;
  for (int i = 0; i < 24; ++i) scale += std::abs(gain[i]);
  for (int k = 0; k < GolayCosets::kColumns; ++k) {
    const auto& q = tetrad[k];
    const double half = 0.5 * (gain[q[0]] + gain[q[1]] + gain[q[2]] + gain[q[3]]);
    halves += half;
    // Subset sums over positions 1..3, each pattern from the one without its lowest bit.
    std::array<double, 8> sum{};
    for (int p = 1; p < 8; ++p) sum[p] = sum[p & (p - 1)] + gain[q[1 + std::countr_zero(static_cast<unsigned>(p))]];
    for (int p = 0; p < 8; ++p) column[16 * k + p] = static_cast<float>(sum[p] - half);
  }
  return halves;
}

}  // namespace llvq::lattice

#include "llvq/golay.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>

namespace llvq::golay {
namespace {

// Remainder of a polynomial over GF(2) (bit i = coefficient of x^i) modulo g(x).
uint32_t poly_mod_g(uint32_t p) {
  constexpr int kDegree = 11;
  for (int bit = 31; bit >= kDegree; --bit)
    if (p & (1u << bit)) p ^= kGeneratorPoly << (bit - kDegree);
  return p;
}

uint32_t systematic_codeword(uint32_t message) {
  const uint32_t shifted = message << 11;
  const uint32_t cyclic = shifted | poly_mod_g(shifted);
  const uint32_t parity = static_cast<uint32_t>(std::popcount(cyclic) & 1);
  return cyclic | (parity << 23);
}

struct Tables {
  std::array<uint32_t, 4096> by_message{};
  std::array<std::vector<uint32_t>, 25> by_weight;
  // Octad lookup for S(5,8,24): key = rank of the 5-subset in colex order.
  std::vector<uint16_t> octad_of_five;
  std::array<std::array<uint32_t, 6>, 25> binom{};

  Tables() {
    for (uint32_t m = 0; m < 4096; ++m) {
      by_message[m] = systematic_codeword(m);
      by_weight[std::popcount(by_message[m])].push_back(by_message[m]);
    }
    for (auto& v : by_weight) std::sort(v.begin(), v.end());
    for (int n = 0; n <= 24; ++n) {
      binom[n][0] = 1;
      for (int k = 1; k <= 5; ++k) binom[n][k] = n == 0 ? 0 : binom[n - 1][k - 1] + binom[n - 1][k];
    }
    octad_of_five.assign(binom[24][5], 0xFFFF);
    const auto& octads = by_weight[8];
    for (size_t o = 0; o < octads.size(); ++o) for_each_five_subset(octads[o], static_cast<uint16_t>(o));
  }

  uint32_t colex_rank_of_five(uint32_t five) const {
    uint32_t rank = 0;
    int k = 1;
    for (uint32_t w = five; w; w &= w - 1, ++k) rank += binom[std::countr_zero(w)][k];
    return rank;
  }

  void for_each_five_subset(uint32_t octad, uint16_t index) {
    int pos[8];
    int n = 0;
    for (uint32_t w = octad; w; w &= w - 1) pos[n++] = std::countr_zero(w);
    // 8 choose 5 subsets: choose the 3 left out.
    for (int a = 0; a < 8; ++a)
      for (int b = a + 1; b < 8; ++b)
        for (int c = b + 1; c < 8; ++c) {
          const uint32_t five = octad & ~((1u << pos[a]) | (1u << pos[b]) | (1u << pos[c]));
          octad_of_five[colex_rank_of_five(five)] = index;
        }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

uint32_t encode(uint32_t message) {
  if (message >= 4096) throw std::invalid_argument("golay::encode: message has more than 12 bits");
  return tables().by_message[message];
}

bool is_codeword(uint32_t word) {
  if (word > kWordMask) return false;
  const uint32_t cyclic = word & 0x7FFFFF;
  return poly_mod_g(cyclic) == 0 && (std::popcount(word) & 1) == 0;
}

std::optional<uint32_t> decode(uint32_t word) {
  if (!is_codeword(word)) return std::nullopt;
  return (word >> 11) & 0xFFF;
}

const std::array<uint32_t, 4096>& codewords() { return tables().by_message; }

std::span<const uint32_t> codewords_of_weight(int weight) {
  if (weight < 0 || weight > 24) return {};
  return tables().by_weight[weight];
}

std::optional<uint32_t> index_in_weight_class(uint32_t word) {
  if (!is_codeword(word)) return std::nullopt;
  const auto list = codewords_of_weight(std::popcount(word));
  const auto it = std::lower_bound(list.begin(), list.end(), word);
  return static_cast<uint32_t>(it - list.begin());
}

std::vector<uint32_t> codewords_with(int weight, uint32_t contain, uint32_t avoid) {
  std::vector<uint32_t> out;
  for (uint32_t c : codewords_of_weight(weight))
    if ((c & contain) == contain && (c & avoid) == 0) out.push_back(c);
  return out;
}

uint32_t octad_through(uint32_t five) {
  if (five > kWordMask || std::popcount(five) != 5)
    throw std::invalid_argument("golay::octad_through: need exactly five positions below 24");
  const Tables& t = tables();
  return t.by_weight[8][t.octad_of_five[t.colex_rank_of_five(five)]];
}

}  // namespace llvq::golay

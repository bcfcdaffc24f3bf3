// E8P, the 2-bit codebook of QuIP#: 8 weights in 16 bits.
//
// Base points are vectors of half-integers with an even sum (the odd coset of E8 = D8+½ in
// its standard coordinates) whose absolute-value pattern is one of 256 allowed patterns: the
// 227 patterns of squared norm ≤ 10 and 29 of squared norm 12. A codeword is a base point
// shifted by +¼ or −¼ on every coordinate. Code = pattern index (8 bits) | signs of
// coordinates 0..6 (7 bits; the sign of coordinate 7 follows from the even-sum rule) |
// shift (1 bit).
//
// QuIP# lists a particular set of 29 norm-12 patterns; all 56 patterns of that norm are
// permutations of (½³, (3/2)⁵), and we take the first 29 in lexicographic order. By the
// permutation symmetry of an i.i.d. source the choice barely changes the distortion.
//
// Nearest search is exact: for a fixed shift and pattern the best signs follow the signs of
// the input, and if that breaks the even-sum rule the cheapest single flip repairs it; so
// 2 × 256 patterns are scored instead of 65,536 codewords.
#include <algorithm>
#include <array>
#include <cmath>

#include "codec/codec_impl.hpp"
#include "llvq/error.hpp"

namespace llvq::codec_detail {

namespace {

// Absolute values in units of ½ (odd integers 1, 3, 5, 7).
using Pattern = std::array<int, 8>;

int norm2_doubled(const Pattern& p) {
  int s = 0;
  for (int v : p) s += v * v;
  return s;  // = 4 · squared norm
}

std::vector<Pattern> make_patterns() {
  std::vector<Pattern> low, twelve;
  Pattern p;
  for (int code = 0; code < (1 << 16); ++code) {  // every pattern over {1,3,5,7}⁸
    for (int i = 0; i < 8; ++i) p[i] = 2 * ((code >> (2 * i)) & 3) + 1;
    const int n2 = norm2_doubled(p);
    if (n2 <= 40) low.push_back(p);
    if (n2 == 48 && std::count(p.begin(), p.end(), 3) == 5) twelve.push_back(p);
  }
  std::sort(low.begin(), low.end());
  std::sort(twelve.begin(), twelve.end());
  low.insert(low.end(), twelve.begin(), twelve.begin() + 29);
  return low;
}

class E8pCodec final : public ScaledCodec {
 public:
  E8pCodec(size_t group, double factor) : ScaledCodec(group, factor), patterns_(make_patterns()) {
    check_group();
    for (size_t k = 0; k < patterns_.size(); ++k) {
      int sum = 0;
      for (int v : patterns_[k]) sum += v;
      neg_parity_[k] = (sum / 2) & 1;  // number of minus signs that keeps the sum even
      half_norm2_[k] = norm2_doubled(patterns_[k]) / 4.0;
    }
  }

  std::string name() const override { return "e8p"; }
  std::string spec() const override { return "e8p:factor=" + format_param(rms_factor_) + group_param(); }
  size_t block_dim() const override { return 8; }
  KernelLayout kernel_layout() const override { return E8pLayout{group_}; }
  size_t block_bits() const override { return 16; }
  size_t group() const { return group_; }

  // Codeword of a 16-bit code, in codebook units.
  std::array<double, 8> codeword(uint32_t code) const {
    const Pattern& p = patterns_[code & 255];
    int negatives = 0;
    std::array<double, 8> y;
    for (int i = 0; i < 8; ++i) {
      const bool neg = i < 7 ? (code >> (8 + i)) & 1 : (negatives & 1) != neg_parity_[code & 255];
      negatives += neg;
      const double shift = (code >> 15) & 1 ? -0.25 : 0.25;
      y[i] = (neg ? -p[i] : p[i]) * 0.5 + shift;
    }
    return y;
  }

  // Exact nearest codeword to u (codebook units).
  uint32_t nearest(const double* u) const {
    double best = -INFINITY;
    uint32_t best_code = 0;
    for (int s = 0; s < 2; ++s) {
      const double shift = s ? -0.25 : 0.25;
      std::array<double, 8> mag;
      uint32_t sign_bits = 0, negatives = 0;
      double y2 = 0;
      for (int i = 0; i < 8; ++i) {
        const double y = u[i] - shift;
        y2 += y * y;
        mag[i] = std::abs(y);
        if (y < 0) sign_bits |= 1u << i, ++negatives;
      }
      for (size_t k = 0; k < patterns_.size(); ++k) {
        const Pattern& p = patterns_[k];
        double dot = 0, cheapest = INFINITY;
        int cheapest_at = 0;
        for (int i = 0; i < 8; ++i) {
          const double c = mag[i] * p[i];
          dot += c;
          if (c < cheapest) cheapest = c, cheapest_at = i;
        }
        // −distance = dot − |a|²/4 − |y|² (a in units of ½), before the sign repair
        double score = dot - half_norm2_[k] - y2;
        uint32_t signs = sign_bits;
        if (static_cast<int>(negatives & 1) != neg_parity_[k]) {
          score -= 2 * cheapest;
          signs ^= 1u << cheapest_at;
        }
        if (score > best) best = score, best_code = static_cast<uint32_t>(k) | (signs & 127) << 8 | s << 15;
      }
    }
    return best_code;
  }

  void quantize_block(const RowSide& side, size_t j, const float* x, float* xhat, BitWriter& code) const override {
    code.put(quantize(side, j, x, xhat), 16);
  }
  void quantize_dequantize_block(const RowSide& side, size_t j, const float* x, float* xhat) const override {
    quantize(side, j, x, xhat);
  }
  void decode_block(const RowSide& side, size_t j, BitReader& code, float* xhat) const override {
    dequantize(static_cast<uint32_t>(code.get(16)), side.scale_of_block(j, 8), xhat);
  }

 private:
  uint32_t quantize(const RowSide& side, size_t j, const float* x, float* xhat) const {
    const double scale = side.scale_of_block(j, 8);
    double u[8];
    for (int i = 0; i < 8; ++i) u[i] = scale > 0 ? x[i] / scale : 0.0;
    const uint32_t code = nearest(u);
    dequantize(code, scale, xhat);
    return code;
  }
  void dequantize(uint32_t code, double scale, float* xhat) const {
    const auto y = codeword(code);
    for (int i = 0; i < 8; ++i) xhat[i] = static_cast<float>(y[i] * scale);
  }

  std::vector<Pattern> patterns_;
  std::array<int, 256> neg_parity_{};
  std::array<double, 256> half_norm2_{};
};

}  // namespace

// Exposed for the brute-force test: nearest(u) of the unit-scale codebook.
uint32_t e8p_nearest(const double* u) {
  static const E8pCodec c(0, 1.0);
  return c.nearest(u);
}

std::unique_ptr<Codec> make_e8p(const CodecSpec& spec) {
  const double factor = spec.get_double("factor", 0.965, 0.01, 100.0);
  const int group = spec.get_int("group", 0, 0, 1 << 24);
  return std::make_unique<E8pCodec>(static_cast<size_t>(group), factor);
}

}  // namespace llvq::codec_detail

namespace llvq {

std::array<double, 8> e8p_codeword(uint32_t code) {
  static const codec_detail::E8pCodec c(0, 1.0);
  return c.codeword(code);
}

}  // namespace llvq

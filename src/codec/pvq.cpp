// Pyramid vector quantization (Fischer 1986): the direction of a block of L weights is the
// integer point y of the pyramid S(L,K) = {y ∈ Z^L : Σ|y_i| = K} whose ray is closest to the
// block, the gain is quantized separately (Lloyd–Max on the chi distribution, see gain.hpp).
//
// Points are indexed by Fischer's enumeration with V(l,k) = |S(l,k)| =
// V(l−1,k) + V(l,k−1) + V(l−1,k−1): coordinates are fixed left to right, and all points
// with y_0 = 0 come first, then y_0 = +1, −1, +2, −2, ... . The index needs
// ⌈log₂ V(L,K)⌉ bits; counts up to 128 bits use unsigned __int128, up to 256 bits a small
// fixed-width integer, and larger pyramids are refused.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <stdexcept>

#include "codec/codec_impl.hpp"
#include "codec/gain.hpp"
#include "llvq/error.hpp"

namespace llvq::codec_detail {

namespace {

using u128 = unsigned __int128;

// 256-bit unsigned integer: just what the enumeration needs (add, subtract, compare).
struct U256 {
  std::array<uint64_t, 4> w{};
};
U256 operator+(const U256& a, const U256& b) {
  U256 r;
  uint64_t carry = 0;
  for (int i = 0; i < 4; ++i) {
    const u128 s = static_cast<u128>(a.w[i]) + b.w[i] + carry;
    r.w[i] = static_cast<uint64_t>(s);
    carry = static_cast<uint64_t>(s >> 64);
  }
  if (carry) throw std::overflow_error("pvq: 256-bit count overflow");
  return r;
}
U256 operator-(const U256& a, const U256& b) {
  U256 r;
  uint64_t borrow = 0;
  for (int i = 0; i < 4; ++i) {
    const u128 d = static_cast<u128>(a.w[i]) - b.w[i] - borrow;
    r.w[i] = static_cast<uint64_t>(d);
    borrow = static_cast<uint64_t>(d >> 64) ? 1 : 0;
  }
  return r;
}
bool operator<(const U256& a, const U256& b) {
  for (int i = 3; i >= 0; --i)
    if (a.w[i] != b.w[i]) return a.w[i] < b.w[i];
  return false;
}
U256& operator+=(U256& a, const U256& b) { return a = a + b; }
U256& operator-=(U256& a, const U256& b) { return a = a - b; }

// Uniform access to 64-bit limbs of both integer types.
template <class U>
constexpr int kLimbs = sizeof(U) / 8;
uint64_t limb(const u128& v, int i) { return static_cast<uint64_t>(v >> (64 * i)); }
uint64_t limb(const U256& v, int i) { return v.w[i]; }
void set_limb(u128& v, int i, uint64_t x) { v |= static_cast<u128>(x) << (64 * i); }
void set_limb(U256& v, int i, uint64_t x) { v.w[i] = x; }
template <class U>
U from_u64(uint64_t x) {
  U v{};
  set_limb(v, 0, x);
  return v;
}
template <class U>
int bit_length(const U& v) {
  for (int i = kLimbs<U> - 1; i >= 0; --i)
    if (limb(v, i)) return 64 * i + 64 - std::countl_zero(limb(v, i));
  return 0;
}

// |S(l,k)| for l ≤ L, k ≤ K, with rank/unrank of S(L,K).
template <class U>
class Pyramid {
 public:
  Pyramid(int L, int K) : L_(L), K_(K), v_(static_cast<size_t>((L + 1) * (K + 1))) {
    for (int l = 0; l <= L; ++l)
      for (int k = 0; k <= K; ++k)
        at(l, k) = k == 0 ? from_u64<U>(1) : l == 0 ? U{} : at(l - 1, k) + at(l, k - 1) + at(l - 1, k - 1);
  }
  const U& count(int l, int k) const { return v_[static_cast<size_t>(l * (K_ + 1) + k)]; }
  const U& size() const { return count(L_, K_); }
  // Bits of an index: ⌈log₂ V(L,K)⌉.
  int index_bits() const { return bit_length(size() - from_u64<U>(1)); }

  U rank(const int* y) const {
    U index{};
    int k = K_;
    for (int pos = 0; pos < L_ && k > 0; ++pos) {
      const int l = L_ - pos, a = std::abs(y[pos]);
      if (a == 0) continue;
      index += count(l - 1, k);  // every point with y_pos = 0
      for (int j = 1; j < a; ++j) index += count(l - 1, k - j) + count(l - 1, k - j);  // y_pos = ±j
      if (y[pos] < 0) index += count(l - 1, k - a);
      k -= a;
    }
    return index;
  }

  // Requires index < size().
  void unrank(U index, int* y) const {
    int k = K_;
    for (int pos = 0; pos < L_; ++pos) {
      const int l = L_ - pos;
      y[pos] = 0;
      if (k == 0 || index < count(l - 1, k)) continue;
      index -= count(l - 1, k);
      for (int a = 1; a <= k; ++a) {
        const U& c = count(l - 1, k - a);
        if (index < c) {
          y[pos] = a;
        } else if (index -= c; index < c) {
          y[pos] = -a;
        } else {
          index -= c;
          continue;
        }
        k -= a;
        break;
      }
    }
  }

 private:
  U& at(int l, int k) { return v_[static_cast<size_t>(l * (K_ + 1) + k)]; }
  int L_, K_;
  std::vector<U> v_;
};

// The pyramid point whose ray is nearest to x (greedy pulse allocation after a projection
// onto the pyramid, as in Fischer's and Opus's encoders; not guaranteed optimal).
void search_pyramid(const float* x, int L, int K, int* y) {
  double sum_abs = 0;
  for (int i = 0; i < L; ++i) sum_abs += std::abs(x[i]);
  int used = 0;
  double xy = 0, yy = 0;
  for (int i = 0; i < L; ++i) {
    y[i] = sum_abs > 0 ? static_cast<int>(std::floor(K * std::abs(x[i]) / sum_abs)) : 0;
    used += y[i];
    xy += std::abs(x[i]) * y[i];
    yy += static_cast<double>(y[i]) * y[i];
  }
  for (; used < K; ++used) {
    int best = 0;
    double best_num = -1, best_den = 1;
    for (int i = 0; i < L; ++i) {  // maximise (xy + |x_i|)² / (yy + 2y_i + 1)
      const double num = (xy + std::abs(x[i])) * (xy + std::abs(x[i])), den = yy + 2 * y[i] + 1;
      if (num * best_den > best_num * den) best = i, best_num = num, best_den = den;
    }
    xy += std::abs(x[best]);
    yy += 2 * y[best] + 1;
    ++y[best];
  }
  for (int i = 0; i < L; ++i)
    if (x[i] < 0) y[i] = -y[i];
}

template <class U>
class PvqCodec final : public ScaledCodec {
 public:
  PvqCodec(int L, int K, int gain_bits, size_t group)
      : ScaledCodec(group, 1.0), L_(L), K_(K), gain_bits_(gain_bits), pyramid_(L, K) {
    check_group();
    const double cosine = mean_cosine(L, 2000, [this](const float* x) {
      std::vector<int> y(static_cast<size_t>(L_));
      search_pyramid(x, L_, K_, y.data());
      double xy = 0, xx = 0, yy = 0;
      for (int i = 0; i < L_; ++i) xy += x[i] * y[i], xx += x[i] * x[i], yy += y[i] * y[i];
      return xy / std::sqrt(xx * yy);
    });
    gain_ = shape_gain_levels(L, 1 << gain_bits, cosine);
  }

  std::string name() const override { return "pvq"; }
  std::string spec() const override {
    return "pvq:dim=" + std::to_string(L_) + ",k=" + std::to_string(K_) + ",gain_bits=" + std::to_string(gain_bits_) +
           group_param();
  }
  size_t block_dim() const override { return static_cast<size_t>(L_); }
  size_t block_bits() const override { return static_cast<size_t>(gain_bits_ + pyramid_.index_bits()); }

  void quantize_block(const RowSide& side, size_t j, const float* x, float* xhat, BitWriter& code) const override {
    std::vector<int> y(static_cast<size_t>(L_));
    const int g = quantize(side.scale_of_block(j, block_dim()), x, y.data(), xhat);
    code.put(static_cast<uint64_t>(g), gain_bits_);
    const U index = pyramid_.rank(y.data());
    for (int i = 0, left = pyramid_.index_bits(); left > 0; ++i, left -= 64) code.put(limb(index, i), std::min(64, left));
  }
  void quantize_dequantize_block(const RowSide& side, size_t j, const float* x, float* xhat) const override {
    std::vector<int> y(static_cast<size_t>(L_));
    quantize(side.scale_of_block(j, block_dim()), x, y.data(), xhat);
  }
  void decode_block(const RowSide& side, size_t j, BitReader& code, float* xhat) const override {
    const int g = static_cast<int>(code.get(gain_bits_));
    U index{};
    for (int i = 0, left = pyramid_.index_bits(); left > 0; ++i, left -= 64)
      set_limb(index, i, code.get(std::min(64, left)));
    if (!(index < pyramid_.size())) throw InputError("pvq: corrupt code (pyramid index out of range)");
    std::vector<int> y(static_cast<size_t>(L_));
    pyramid_.unrank(index, y.data());
    reconstruct(side.scale_of_block(j, block_dim()), g, y.data(), xhat);
  }

  const Pyramid<U>& pyramid() const { return pyramid_; }

 private:
  int quantize(double scale, const float* x, int* y, float* xhat) const {
    search_pyramid(x, L_, K_, y);
    double xy = 0, yy = 0;
    for (int i = 0; i < L_; ++i) xy += x[i] * y[i], yy += y[i] * y[i];
    const int g = gain_.index(scale > 0 ? xy / std::sqrt(yy) / scale : 0.0);
    reconstruct(scale, g, y, xhat);
    return g;
  }
  void reconstruct(double scale, int g, const int* y, float* xhat) const {
    double yy = 0;
    for (int i = 0; i < L_; ++i) yy += y[i] * y[i];
    const double f = gain_.levels[static_cast<size_t>(g)] * scale / std::sqrt(yy);
    for (int i = 0; i < L_; ++i) xhat[i] = static_cast<float>(f * y[i]);
  }

  int L_, K_, gain_bits_;
  Pyramid<U> pyramid_;
  ScalarQuantizer gain_;
};

// Index bits of S(L,K), or a value > 256 when the count does not fit 256 bits.
int pyramid_bits(int L, int K) {
  try {
    return Pyramid<U256>(L, K).index_bits();
  } catch (const std::overflow_error&) {
    return 257;
  }
}

}  // namespace

std::unique_ptr<Codec> make_pvq(const CodecSpec& spec) {
  const int L = spec.get_int("dim", 24, 2, 1024);
  const int group = spec.get_int("group", 0, 0, 1 << 24);
  int K = spec.get_int("k", 0, 0, 4096);
  if (K > 0 && spec.has("bpw")) throw InputError("pvq: give either bpw or k, not both");
  const double bpw = spec.get_double("bpw", 2.0, 0.05, 8.0);
  // Measured on Gaussian blocks of 24: the best split gives ⌊bpw⌋ bits to the gain.
  const int gain_bits = spec.get_int("gain_bits", std::clamp(static_cast<int>(bpw), 1, 8), 0, 8);
  if (K == 0) {  // the largest pyramid whose index and gain fit bpw·L bits
    const int budget = static_cast<int>(std::floor(bpw * L + 1e-9)) - gain_bits;
    if (budget > 256)
      throw InputError("pvq: dim=" + std::to_string(L) + " at bpw=" + format_param(bpw) + " asks for " +
                       std::to_string(budget) + " index bits; at most 256 are supported");
    while (pyramid_bits(L, K + 1) <= budget) ++K;
    if (K == 0)
      throw InputError("pvq: bpw=" + format_param(bpw) + " leaves no room for a pyramid with dim=" +
                       std::to_string(L) + " and gain_bits=" + std::to_string(gain_bits));
  }
  const int bits = pyramid_bits(L, K);
  if (bits > 256)
    throw InputError("pvq: S(" + std::to_string(L) + "," + std::to_string(K) +
                     ") needs more than 256 index bits; at most 256 are supported");
  if (bits <= 128) return std::make_unique<PvqCodec<u128>>(L, K, gain_bits, static_cast<size_t>(group));
  return std::make_unique<PvqCodec<U256>>(L, K, gain_bits, static_cast<size_t>(group));
}

// Exhaustive-test access to the enumeration (small pyramids, 128-bit indices).
u128 pvq_count(int L, int K) { return Pyramid<u128>(L, K).size(); }
u128 pvq_rank(int L, int K, const int* y) { return Pyramid<u128>(L, K).rank(y); }
void pvq_unrank(int L, int K, u128 index, int* y) { Pyramid<u128>(L, K).unrank(index, y); }

}  // namespace llvq::codec_detail

#include "llvq/leech_shells.hpp"

#include <algorithm>
#include <functional>

#include "lattice/ball_arrangement.hpp"
#include "llvq/error.hpp"
#include "llvq/golay.hpp"

namespace llvq::shells {
namespace {

using i128 = __int128;

// Power series truncated to degree < n.
using Series = std::vector<i128>;

Series multiply(const Series& a, const Series& b) {
  Series out(a.size(), 0);
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == 0) continue;
    for (size_t j = 0; i + j < out.size(); ++j) out[i + j] += a[i] * b[j];
  }
  return out;
}

// Euler's product ∏(1 − qⁿ) up to degree < n, from the pentagonal number theorem.
Series euler_product(size_t n) {
  Series e(n, 0);
  for (long k = 0;; ++k) {
    const long sign = (k % 2 == 0) ? 1 : -1;
    const long p1 = k * (3 * k - 1) / 2;
    const long p2 = k * (3 * k + 1) / 2;
    if (static_cast<size_t>(p1) >= n) break;
    e[p1] = sign;
    if (k > 0 && static_cast<size_t>(p2) < n) e[p2] = sign;
  }
  return e;
}

// τ(1..n) from Δ = q·∏(1 − qⁿ)^24: τ(m) is the coefficient of q^(m−1) in the product.
const std::vector<i128>& ramanujan_tau() {
  static const std::vector<i128> tau = [] {
    const size_t n = kMaxThetaShell;
    const Series e = euler_product(n);
    const Series e2 = multiply(e, e);
    const Series e3 = multiply(e2, e);
    const Series e6 = multiply(e3, e3);
    const Series e12 = multiply(e6, e6);
    const Series e24 = multiply(e12, e12);
    std::vector<i128> t(n + 1, 0);
    for (size_t m = 1; m <= n; ++m) t[m] = e24[m - 1];
    return t;
  }();
  return tau;
}

i128 sigma11(int m) {
  i128 s = 0;
  for (int d = 1; d <= m; ++d) {
    if (m % d != 0) continue;
    i128 p = 1;
    for (int k = 0; k < 11; ++k) p *= d;
    s += p;
  }
  return s;
}

u128 binomial(int n, int k) {
  if (k < 0 || k > n) return 0;
  u128 r = 1;
  for (int i = 1; i <= k; ++i) r = r * static_cast<u128>(n - k + i) / static_cast<u128>(i);
  return r;
}

// Number of distinct arrangements of `values` over values.size() positions.
u128 multinomial(std::vector<int> values) {
  std::sort(values.begin(), values.end());
  u128 r = 1;
  int remaining = static_cast<int>(values.size());
  for (size_t i = 0; i < values.size();) {
    size_t j = i;
    while (j < values.size() && values[j] == values[i]) ++j;
    const int count = static_cast<int>(j - i);
    r *= binomial(remaining, count);
    remaining -= count;
    i = j;
  }
  return r;
}

bool is_golay_weight(int w) { return !golay::codewords_of_weight(w).empty(); }

u128 even_class_size(const std::array<uint8_t, kDim>& leader) {
  const ball_detail::EvenSplit split = ball_detail::split_even(leader);
  const int w = static_cast<int>(split.on.size());
  if (!is_golay_weight(w)) return 0;
  // Σ|x| ≡ 4 mod 8 asks for an odd number of minus signs on the codeword, and w = 0 has none.
  if (w == 0 && split.minus_parity != 0) return 0;
  const u128 codewords = golay::codewords_of_weight(w).size();
  return codewords * (u128{1} << split.sign_bits) * multinomial(split.on) * multinomial(split.off);
}

u128 odd_class_size(const std::array<uint8_t, kDim>& leader) {
  int plus_minus_one = 0;
  for (int v : leader) plus_minus_one += (v % 8 == 1 || v % 8 == 7);
  if (plus_minus_one % 2 == 0) return 0;
  return u128{4096} * multinomial(std::vector<int>(leader.begin(), leader.end()));
}

// All non-increasing sequences of 24 values of one parity whose squares sum to 16·m.
std::vector<std::array<uint8_t, kDim>> leaders(int m, bool odd) {
  std::vector<std::array<uint8_t, kDim>> out;
  std::array<uint8_t, kDim> cur{};
  const int first = odd ? 1 : 0;
  std::function<void(int, int, int)> place = [&](int pos, int max_value, int remaining) {
    if (pos == kDim) {
      if (remaining == 0) out.push_back(cur);
      return;
    }
    const int left = kDim - pos;
    for (int v = max_value; v >= first; v -= 2) {
      const int sq = v * v;
      if (sq > remaining) continue;
      // The remaining positions need at least first² each and at most v² each.
      if (remaining - sq < (left - 1) * first * first) continue;
      if (remaining > left * sq) break;
      cur[pos] = static_cast<uint8_t>(v);
      place(pos + 1, v, remaining - sq);
    }
  };
  int top = 0;
  while ((top + 1) * (top + 1) <= 16 * m) ++top;
  if ((top % 2 == 1) != odd) --top;
  place(0, top, 16 * m);
  return out;
}

}  // namespace

u128 theta_count(int m) {
  if (m < 0 || m > kMaxThetaShell)
    throw InputError("shell " + std::to_string(m) + " is outside 0.." + std::to_string(kMaxThetaShell));
  if (m == 0) return 1;
  const i128 num = i128{65520} * (sigma11(m) - ramanujan_tau()[m]);
  if (num % 691 != 0) throw std::logic_error("theta series: 65520·(σ11 − τ) not divisible by 691");
  return static_cast<u128>(num / 691);
}

u128 ball_count(int max_shell, bool with_origin) {
  u128 s = with_origin ? 1 : 0;
  for (int m = 2; m <= max_shell; ++m) s += theta_count(m);
  return s;
}

std::string to_decimal(u128 v) {
  if (v == 0) return "0";
  std::string s;
  while (v > 0) {
    s.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::reverse(s.begin(), s.end());
  return s;
}

int ceil_log2(u128 n) {
  int bits = 0;
  while (bits < 128 && (u128{1} << bits) < n) ++bits;
  return bits;
}

u128 class_size(const std::array<uint8_t, kDim>& leader, bool odd) {
  return odd ? odd_class_size(leader) : even_class_size(leader);
}

std::vector<LeechClass> classes_of_shell(int m) {
  if (m < 2 || m > kMaxClassShell)
    throw InputError("classes are available for shells 2.." + std::to_string(kMaxClassShell) + ", not " +
                     std::to_string(m));
  std::vector<LeechClass> out;
  for (bool odd : {false, true}) {
    for (const auto& leader : leaders(m, odd)) {
      const u128 size = class_size(leader, odd);
      if (size == 0) continue;
      LeechClass c;
      c.shell = m;
      c.odd = odd;
      c.leader = leader;
      c.size = size;
      c.weight = odd ? kDim : static_cast<int>(std::count_if(leader.begin(), leader.end(),
                                                             [](int v) { return v % 4 == 2; }));
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace llvq::shells

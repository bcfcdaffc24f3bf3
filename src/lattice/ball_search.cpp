// Exact searches over Λ24(M) (docs/background.md §1 "Search"; design in docs/lattice.md).
//
// Inside one class |v| is fixed, so both metrics need only the class's maximum of <x,v>.
// Every class gets an upper bound (rearrangement of sorted |x| against its sorted values);
// classes are evaluated exactly in decreasing order of bound, and the search stops when the
// next bound cannot beat the best exact value.
//
// Exact maximum of <x,v> over one class, for each Golay codeword c it may use:
//  even, values ≡ 2 mod 4 on c: sorted |x| on c against the ≡2 values, sorted |x| off c
//    against the ≡0 values, signs = sign(x); when the number of minus signs on c has the
//    wrong parity, the smallest product on c (smallest |x| on c × smallest ≡2 value) is
//    negated.
//  odd: v_i = η_i·b(a_i) with η_i = +1 on c, −1 off c, and b(a) = +a for a ≡ 3 mod 4, −a for
//    a ≡ 1 mod 4. Hence <x,v> = Σ (η_i x_i)·b(a_i), maximised by matching the sorted
//    y = η∘x against the sorted signed values b (rearrangement inequality). The Σ ≡ 4 mod 8
//    condition holds for every such point of a valid class.
// Per codeword, "sorted |x| restricted to c" is a bit mask over the global sort order,
// assembled from three byte-indexed tables. A class's sorted values are runs, so its value
// is a few multiples of T_t (sum of the t largest matched entries) at the run boundaries;
// the T_t rows are built once per input for all codewords and shared by every class, and a
// concave bound in one codeword statistic skips codewords that cannot win.
#include <algorithm>
#include <bit>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "llvq/error.hpp"
#include "llvq/golay.hpp"
#include "llvq/leech_ball.hpp"

namespace llvq {
namespace {
using leech::kDim;
constexpr uint32_t kAll = 0xFFFFFF;
constexpr int kChunks = 3;
}  // namespace

struct LeechBall::Context {
  std::array<double, kDim> x{};
  std::array<double, kDim> sorted_abs{};  // |x| in decreasing order
  std::array<uint8_t, kDim> order{};      // positions in that order
  std::array<uint8_t, kDim> rank_of{};    // inverse of order
  std::array<double, kDim + 1> prefix{};  // prefix sums of sorted_abs
  uint32_t neg = 0;
  double sum_x = 0, sum_abs = 0;

  // Even classes: per byte of a codeword, the rank mask of its positions and Σ|x| on them.
  bool even_ready = false;
  std::array<std::array<uint32_t, 256>, kChunks> rank_mask;
  std::array<std::array<double, 256>, kChunks> abs_sum;

  // Odd classes: the 48 values ±x_i in decreasing order; per byte of a codeword, the mask of
  // the entries y_i = η_i x_i picks, and Σ x_i on its positions.
  bool odd_ready = false;
  std::array<double, 2 * kDim> z{};
  std::array<uint8_t, 2 * kDim> z_pos{};
  std::array<bool, 2 * kDim> z_plus{};
  std::array<std::array<uint64_t, 256>, kChunks> pick_mask;
  std::array<std::array<double, 256>, kChunks> x_sum;
  // Σ y = 2·Σ_c x − Σ x for every codeword (by message), and its extremes.
  std::array<double, 4096> sum_y;
  std::array<uint64_t, 4096> pick;  // pick mask of every codeword
  // Rows shared by all odd classes of the search, built on demand: row(t) = sum of the t
  // largest y of every codeword (t ≤ kTopRows), row(kTopRows + u) = sum of its u smallest
  // (u ≤ kBottomRows); a class cut at t > kTopRows uses T_t = Σy − (sum of 24 − t smallest).
  // Per-thread buffers (≈ 0.75 MiB, too large for the stack); `rest` keeps each walk's
  // remaining pick bits so that deeper rows extend it.
  static constexpr int kTopRows = 12, kBottomRows = kDim - 1 - kTopRows;
  int top_rows = 0, bottom_rows = 0;
  double* rows = nullptr;
  uint64_t* top_rest = nullptr;
  uint64_t* bottom_rest = nullptr;
  double sum_y_max = 0, sum_y_min = 0;

  // Even classes of weight 8, 12, 16: Σ_c |x| per codeword of that weight, and extremes.
  std::array<bool, 3> weight_ready{};
  std::array<std::array<double, 2576>, 3> on_abs;
  std::array<std::array<uint32_t, 2576>, 3> on_rank;  // rank mask of every codeword
  std::array<std::array<uint8_t, 2576>, 3> on_neg_parity;  // parity of x's minus signs on it
  // Per weight, built on demand: on_top rows t = 1..w−1 (sum of the t largest |x| on the
  // codeword) and off_top rows t = 1..23−w (same off it), row-major [t − 1][codeword];
  // `rest` keeps each walk's remaining rank bits so that deeper rows extend it.
  std::array<std::array<int, 2>, 3> top_done{};
  std::array<std::array<double*, 2>, 3> side_top{};
  std::array<std::array<uint64_t*, 2>, 3> side_rest{};
  std::array<double, 3> on_abs_max{}, on_abs_min{};

  explicit Context(const float* in) {
    for (int i = 0; i < kDim; ++i) {
      x[i] = in[i];
      sum_x += x[i];
      sum_abs += std::abs(x[i]);
      neg |= uint32_t{x[i] < 0} << i;
      order[i] = static_cast<uint8_t>(i);
    }
    std::sort(order.begin(), order.end(), [&](uint8_t a, uint8_t b) {
      const double fa = std::abs(x[a]), fb = std::abs(x[b]);
      return fa != fb ? fa > fb : a < b;
    });
    for (int r = 0; r < kDim; ++r) {
      rank_of[order[r]] = static_cast<uint8_t>(r);
      sorted_abs[r] = std::abs(x[order[r]]);
      prefix[r + 1] = prefix[r] + sorted_abs[r];
    }
  }

  void prepare_even() {
    if (even_ready) return;
    for (int k = 0; k < kChunks; ++k) {
      rank_mask[k][0] = 0;
      abs_sum[k][0] = 0;
      for (int b = 1; b < 256; ++b) {
        const int pos = 8 * k + std::countr_zero(static_cast<unsigned>(b));
        rank_mask[k][b] = rank_mask[k][b & (b - 1)] | (1u << rank_of[pos]);
        abs_sum[k][b] = abs_sum[k][b & (b - 1)] + std::abs(x[pos]);
      }
    }
    even_ready = true;
  }

  void prepare_odd() {
    if (odd_ready) return;
    std::array<uint8_t, 2 * kDim> idx{};
    for (int e = 0; e < 2 * kDim; ++e) idx[e] = static_cast<uint8_t>(e);
    // Entry 2i is +x_i, entry 2i+1 is −x_i.
    auto value = [&](int e) { return (e & 1) ? -x[e >> 1] : x[e >> 1]; };
    std::sort(idx.begin(), idx.end(), [&](uint8_t a, uint8_t b) {
      const double va = value(a), vb = value(b);
      return va != vb ? va > vb : a < b;
    });
    std::array<uint8_t, 2 * kDim> rank{};
    for (int r = 0; r < 2 * kDim; ++r) {
      z[r] = value(idx[r]);
      z_pos[r] = idx[r] >> 1;
      z_plus[r] = (idx[r] & 1) == 0;
      rank[idx[r]] = static_cast<uint8_t>(r);
    }
    for (int k = 0; k < kChunks; ++k) {
      uint64_t none = 0;  // no position of the chunk in c: every y_i = −x_i
      double minus_sum = 0;
      for (int j = 0; j < 8; ++j) none |= uint64_t{1} << rank[2 * (8 * k + j) + 1];
      pick_mask[k][0] = none;
      x_sum[k][0] = minus_sum;
      for (int b = 1; b < 256; ++b) {
        const int pos = 8 * k + std::countr_zero(static_cast<unsigned>(b));
        pick_mask[k][b] = pick_mask[k][b & (b - 1)] ^ (uint64_t{1} << rank[2 * pos]) ^
                          (uint64_t{1} << rank[2 * pos + 1]);
        x_sum[k][b] = x_sum[k][b & (b - 1)] + x[pos];
      }
    }
    const auto& words = golay::codewords();
    sum_y_max = -std::numeric_limits<double>::infinity();
    sum_y_min = std::numeric_limits<double>::infinity();
    for (size_t m = 0; m < words.size(); ++m) {
      const uint32_t w = words[m];
      sum_y[m] = 2 * (x_sum[0][w & 255] + x_sum[1][(w >> 8) & 255] + x_sum[2][w >> 16]) - sum_x;
      pick[m] = pick_mask[0][w & 255] | pick_mask[1][(w >> 8) & 255] | pick_mask[2][w >> 16];
      sum_y_max = std::max(sum_y_max, sum_y[m]);
      sum_y_min = std::min(sum_y_min, sum_y[m]);
    }
    odd_ready = true;
  }

  const double* row(int r) const { return rows + static_cast<size_t>(r) * 4096; }

#if defined(__AVX512F__) && defined(__AVX512CD__)
  // z[r] for eight ranks r < 48 by register permutes (faster than a gather here).
  struct ZTable {
    __m512d t[6];
    explicit ZTable(const double* z) {
      for (int i = 0; i < 6; ++i) t[i] = _mm512_loadu_pd(z + 8 * i);
    }
    __m512d operator()(__m512i r) const {
      const __m512d a = _mm512_permutex2var_pd(t[0], r, t[1]);
      const __m512d b = _mm512_permutex2var_pd(t[2], r, t[3]);
      const __m512d c = _mm512_permutex2var_pd(t[4], r, t[5]);
      const __mmask8 ge16 = _mm512_cmpge_epi64_mask(r, _mm512_set1_epi64(16));
      const __mmask8 ge32 = _mm512_cmpge_epi64_mask(r, _mm512_set1_epi64(32));
      return _mm512_mask_blend_pd(ge32, _mm512_mask_blend_pd(ge16, a, b), c);
    }
  };
  // sorted_abs[r] for eight ranks r < 24, likewise.
  struct AbsTable {
    __m512d t[3];
    explicit AbsTable(const double* v) {
      for (int i = 0; i < 3; ++i) t[i] = _mm512_loadu_pd(v + 8 * i);
    }
    __m512d operator()(__m512i r) const {
      const __mmask8 ge16 = _mm512_cmpge_epi64_mask(r, _mm512_set1_epi64(16));
      return _mm512_mask_blend_pd(ge16, _mm512_permutex2var_pd(t[0], r, t[1]), _mm512_permutexvar_pd(r, t[2]));
    }
  };
#endif

  // Extends the rows of one walk to `depth`: from the lowest set bits (largest y) or the
  // highest (smallest y) of every pick mask.
  void extend(bool from_top, int depth) {
    prepare_odd();
    int& done = from_top ? top_rows : bottom_rows;
    if (depth <= done) return;
    if (!rows) {
      thread_local std::vector<double> row_buffer((kDim - 1) * 4096);
      thread_local std::vector<uint64_t> rest_buffer(2 * 4096);
      rows = row_buffer.data();
      top_rest = rest_buffer.data();
      bottom_rest = top_rest + 4096;
    }
    uint64_t* rest = from_top ? top_rest : bottom_rest;
    double* base = rows + static_cast<size_t>(from_top ? 0 : kTopRows) * 4096;
#if defined(__AVX512F__) && defined(__AVX512CD__)
    const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi64(1), sixty_three = _mm512_set1_epi64(63);
    const ZTable lookup(z.data());
    for (int msg = 0; msg < 4096; msg += 8) {
      __m512i m = _mm512_loadu_si512((done == 0 ? pick.data() : rest) + msg);
      __m512d acc = done == 0 ? _mm512_setzero_pd() : _mm512_loadu_pd(base + (done - 1) * 4096 + msg);
      for (int t = done; t < depth; ++t) {
        __m512i r;
        if (from_top) {
          r = _mm512_sub_epi64(sixty_three, _mm512_lzcnt_epi64(_mm512_and_si512(m, _mm512_sub_epi64(zero, m))));
          m = _mm512_and_si512(m, _mm512_sub_epi64(m, one));
        } else {
          r = _mm512_sub_epi64(sixty_three, _mm512_lzcnt_epi64(m));
          m = _mm512_xor_si512(m, _mm512_sllv_epi64(one, r));
        }
        acc = _mm512_add_pd(acc, lookup(r));
        _mm512_storeu_pd(base + t * 4096 + msg, acc);
      }
      _mm512_storeu_si512(rest + msg, m);
    }
#else
    for (int msg = 0; msg < 4096; ++msg) {
      uint64_t m = done == 0 ? pick[msg] : rest[msg];
      double acc = done == 0 ? 0.0 : base[(done - 1) * 4096 + msg];
      for (int t = done; t < depth; ++t) {
        const int r = from_top ? std::countr_zero(m) : 63 - std::countl_zero(m);
        m ^= uint64_t{1} << r;
        acc += z[r];
        base[t * 4096 + msg] = acc;
      }
      rest[msg] = m;
    }
#endif
    done = depth;
  }

  // Extends the rows of one side (0: on the codeword, 1: off it) of weight w to `depth`.
  void extend_weight(int w, int side, int depth) {
    prepare_weight(w);
    const int slot = weight_slot(w);
    int& done = top_done[slot][side];
    if (depth <= done) return;
    const size_t count = golay::codewords_of_weight(w).size();
    if (!side_top[slot][0]) {
      constexpr size_t kRows = kDim - 2;  // (w − 1) + (23 − w)
      thread_local std::vector<double> row_buffer((759 + 2576 + 759) * kRows);
      thread_local std::vector<uint64_t> rest_buffer(2 * (759 + 2576 + 759));
      const size_t start = slot == 0 ? 0 : slot == 1 ? 759 : 759 + 2576;
      side_top[slot][0] = row_buffer.data() + start * kRows;
      side_top[slot][1] = side_top[slot][0] + (w - 1) * count;
      side_rest[slot][0] = rest_buffer.data() + 2 * start;
      side_rest[slot][1] = side_rest[slot][0] + count;
    }
    double* out = side_top[slot][side];
    uint64_t* rest = side_rest[slot][side];
    const uint32_t* ranks = on_rank[slot].data();
#if defined(__AVX512F__) && defined(__AVX512CD__)
    const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi64(1), sixty_three = _mm512_set1_epi64(63);
    const __m512i all = _mm512_set1_epi64(kAll);
    const AbsTable lookup(sorted_abs.data());
    for (size_t j = 0; j < count; j += 8) {
      const __mmask8 valid = count - j >= 8 ? 0xFF : static_cast<__mmask8>((1u << (count - j)) - 1);
      __m512i m;
      if (done == 0) {
        const __m512i on = _mm512_cvtepu32_epi64(_mm256_maskz_loadu_epi32(valid, ranks + j));
        m = side == 0 ? on : _mm512_andnot_si512(on, all);
      } else {
        m = _mm512_maskz_loadu_epi64(valid, rest + j);
      }
      __m512d acc = done == 0 ? _mm512_setzero_pd() : _mm512_maskz_loadu_pd(valid, out + (done - 1) * count + j);
      for (int t = done; t < depth; ++t) {
        const __m512i low = _mm512_and_si512(m, _mm512_sub_epi64(zero, m));
        const __m512i r = _mm512_sub_epi64(sixty_three, _mm512_lzcnt_epi64(low));
        acc = _mm512_add_pd(acc, lookup(r));
        _mm512_mask_storeu_pd(out + t * count + j, valid, acc);
        m = _mm512_and_si512(m, _mm512_sub_epi64(m, one));
      }
      _mm512_mask_storeu_epi64(rest + j, valid, m);
    }
#else
    for (size_t j = 0; j < count; ++j) {
      uint64_t m = done == 0 ? (side == 0 ? ranks[j] : ~ranks[j] & kAll) : rest[j];
      double acc = done == 0 ? 0.0 : out[(done - 1) * count + j];
      for (int t = done; t < depth; ++t, m &= m - 1) {
        acc += sorted_abs[std::countr_zero(m)];
        out[t * count + j] = acc;
      }
      rest[j] = m;
    }
#endif
    done = depth;
  }

  static int weight_slot(int w) { return w == 8 ? 0 : w == 12 ? 1 : 2; }

  // Σ_c |x| over the codewords of weight w ∈ {8, 12, 16}.
  void prepare_weight(int w) {
    prepare_even();
    const int slot = weight_slot(w);
    if (weight_ready[slot]) return;
    const auto words = golay::codewords_of_weight(w);
    double hi = -std::numeric_limits<double>::infinity(), lo = std::numeric_limits<double>::infinity();
    for (size_t j = 0; j < words.size(); ++j) {
      const uint32_t c = words[j];
      const double s = abs_sum[0][c & 255] + abs_sum[1][(c >> 8) & 255] + abs_sum[2][c >> 16];
      on_abs[slot][j] = s;
      on_rank[slot][j] = rank_mask[0][c & 255] | rank_mask[1][(c >> 8) & 255] | rank_mask[2][c >> 16];
      on_neg_parity[slot][j] = static_cast<uint8_t>(std::popcount(neg & c) & 1);
      hi = std::max(hi, s);
      lo = std::min(lo, s);
    }
    on_abs_max[slot] = hi;
    on_abs_min[slot] = lo;
    weight_ready[slot] = true;
  }
};

namespace {

// Σ over the deviations of a profile: top[k] pairs with the k-th lowest set bit of `mask`
// (k-th largest value), bottom[k] with the k-th highest set bit (k-th smallest).
template <class Prof, class Mask, class Values>
double deviations(const Prof& p, Mask mask, const Values& values) {
  double s = 0;
  Mask m = mask;
  for (int k = 0; k < p.ntop; ++k) {
    s += p.top[k] * values[std::countr_zero(m)];
    m &= m - 1;
  }
  for (int k = 0; k < p.nbottom; ++k) {
    const int r = static_cast<int>(8 * sizeof(Mask)) - 1 - std::countl_zero(m);
    s += p.bottom[k] * values[r];
    m ^= Mask{1} << r;
  }
  return s;
}

void check_finite(const float* x) {
  for (int i = 0; i < kDim; ++i)
    if (!std::isfinite(x[i])) throw InputError("input coordinate " + std::to_string(i) + " is NaN or infinite");
}

}  // namespace

// A concave piecewise-linear upper bound g(s) on a class's <x,v> over the codewords whose
// codeword statistic is s (odd: Σy; even: Σ_c |x|):
//   g(s) = slope·s + offset + fill(top, top_a·s + top_b) + fill(bot, bot_a·s + bot_b),
// fill(e, P) = max Σ e_k z_k over 0 ≤ z_k ≤ (k-th largest |x|), Σ z_k ≤ P (greedy, e is
// non-increasing). It writes the class's values as slope + deviations: the positive
// deviations (`top`) can only multiply positive parts of the matched entries (total P),
// the negative ones (`bot`, magnitudes) negative parts. s ranges over [s_lo, s_hi].
struct LeechBall::ConcaveBound {
  double slope = 0, offset = 0;
  std::array<double, kDim> top{}, bot{};
  int ntop = 0, nbot = 0;
  double top_a = 0, top_b = 0, bot_a = 0, bot_b = 0;
  const double* sorted_abs = nullptr;
  double s_lo = 0, s_hi = 0;

  double fill(const double* e, int n, double budget) const {
    double g = 0;
    for (int k = 0; k < n && budget > 0; ++k) {
      const double z = std::min(budget, sorted_abs[k]);
      g += e[k] * z;
      budget -= z;
    }
    return g;
  }
  double operator()(double s) const {
    return slope * s + offset + fill(top.data(), ntop, top_a * s + top_b) + fill(bot.data(), nbot, bot_a * s + bot_b);
  }
  // The s-interval outside which g ≤ floor; {+inf, −inf} when g ≤ floor everywhere. g is
  // linear between its breakpoints (where a fill's budget crosses a prefix sum of sorted
  // |x|), so evaluating it there gives the exact maximum and, by interpolation, the edges.
  std::pair<double, double> above(double floor) const {
    std::array<double, 2 * kDim + 4> pts{};
    int n = 0;
    pts[n++] = s_lo;
    pts[n++] = s_hi;
    auto add_breakpoints = [&](double a, double b, int count) {
      if (a == 0) return;
      double budget = 0;
      for (int k = 0; k <= count; ++k) {
        const double s = (budget - b) / a;
        if (s > s_lo && s < s_hi) pts[n++] = s;
        if (k < count) budget += sorted_abs[k];
      }
    };
    add_breakpoints(top_a, top_b, ntop);
    add_breakpoints(bot_a, bot_b, nbot);
    std::sort(pts.begin(), pts.begin() + n);
    std::array<double, 2 * kDim + 4> val{};
    int peak = 0;
    for (int i = 0; i < n; ++i) {
      val[i] = (*this)(pts[i]);
      if (val[i] > val[peak]) peak = i;
    }
    constexpr double kInf = std::numeric_limits<double>::infinity();
    if (!(val[peak] > floor)) return {kInf, -kInf};
    // Linear interpolation inside the segment where g crosses the floor.
    auto cross = [&](int in, int out) {
      return pts[out] + (floor - val[out]) / (val[in] - val[out]) * (pts[in] - pts[out]);
    };
    int l = peak;
    while (l > 0 && val[l - 1] > floor) --l;
    int r = peak;
    while (r + 1 < n && val[r + 1] > floor) ++r;
    const double left = l == 0 ? s_lo : cross(l, l - 1);
    const double right = r == n - 1 ? s_hi : cross(r, r + 1);
    // Rounding in g and in the interpolation is far below this relative margin.
    const double slack = 1e-9 * (1 + std::abs(s_lo) + std::abs(s_hi));
    return {left - slack, right + slack};
  }
};

// Odd: with P = Σ positive y = (A + s)/2 and N = Σ negative |y| = (A − s)/2 (A = Σ|x|,
// s = Σy), <x,v> = mid·s + Σ deviations ≤ mid·s + fill(top deviations, P) +
// fill(|bottom deviations|, N). Even: s = Σ_c |x|, <x,v> ≤ (mid_on − mid_off)·s +
// mid_off·A + (top on- and off-deviations, merged, against the largest |x|); negative
// deviations and the parity cost only lower it.
LeechBall::ConcaveBound LeechBall::codeword_bound(const Class& c, Context& ctx) const {
  ConcaveBound g;
  const double A = ctx.sum_abs;
  g.sorted_abs = ctx.sorted_abs.data();
  if (c.odd) {
    ctx.prepare_odd();
    g.s_lo = ctx.sum_y_min, g.s_hi = ctx.sum_y_max;
    ConcaveBound& v = g;
    v.slope = c.on_profile.mid;
    v.ntop = c.on_profile.ntop;
    std::copy_n(c.on_profile.top.begin(), v.ntop, v.top.begin());
    v.nbot = c.on_profile.nbottom;
    for (int k = 0; k < v.nbot; ++k) v.bot[k] = -c.on_profile.bottom[k];
    v.top_a = 0.5, v.top_b = 0.5 * A;
    v.bot_a = -0.5, v.bot_b = 0.5 * A;
    return g;
  }
  ConcaveBound& v = g;
  v.slope = c.on_profile.mid - c.off_profile.mid;
  v.offset = c.off_profile.mid * A;
  // The on- and off-codeword deviations pair with distinct positions: one merged fill
  // against the largest |x| (budget A never binds) instead of two that could both claim
  // the same large entries.
  std::merge(c.on_profile.top.begin(), c.on_profile.top.begin() + c.on_profile.ntop, c.off_profile.top.begin(),
             c.off_profile.top.begin() + c.off_profile.ntop, v.top.begin(), std::greater<>());
  v.ntop = c.on_profile.ntop + c.off_profile.ntop;
  v.top_a = 0, v.top_b = A;
  if (c.weight == 0 || c.weight == 24) {
    g.s_lo = g.s_hi = c.weight == 0 ? 0.0 : A;
  } else {
    ctx.prepare_weight(c.weight);
    const int slot = Context::weight_slot(c.weight);
    g.s_lo = ctx.on_abs_min[slot], g.s_hi = ctx.on_abs_max[slot];
  }
  return g;
}

namespace {

#if defined(__AVX512F__) && defined(__AVX512CD__)
// Σ deviations of a profile for eight rank masks at once (see deviations()).
template <class Prof>
__m512d deviations_simd(const Prof& p, __m512i m, const double* values, __m512d acc) {
  const __m512i one = _mm512_set1_epi64(1), sixty_three = _mm512_set1_epi64(63), zero = _mm512_setzero_si512();
  for (int k = 0; k < p.ntop; ++k) {
    const __m512i low = _mm512_and_si512(m, _mm512_sub_epi64(zero, m));
    const __m512i r = _mm512_sub_epi64(sixty_three, _mm512_lzcnt_epi64(low));
    acc = _mm512_fmadd_pd(_mm512_set1_pd(p.top[k]), _mm512_i64gather_pd(r, values, 8), acc);
    m = _mm512_and_si512(m, _mm512_sub_epi64(m, one));
  }
  for (int k = 0; k < p.nbottom; ++k) {
    const __m512i r = _mm512_sub_epi64(sixty_three, _mm512_lzcnt_epi64(m));
    acc = _mm512_fmadd_pd(_mm512_set1_pd(p.bottom[k]), _mm512_i64gather_pd(r, values, 8), acc);
    m = _mm512_xor_si512(m, _mm512_sllv_epi64(one, r));
  }
  return acc;
}

// The lanes' best values and indices, reduced to the smallest index among equal maxima
// (the scalar loops' "first strictly better" rule).
double reduce_best(__m512d best_v, __m512i best_idx_v, uint32_t& best_idx) {
  alignas(64) double vals[8];
  alignas(64) int64_t idx[8];
  _mm512_store_pd(vals, best_v);
  _mm512_store_si512(idx, best_idx_v);
  double best = -std::numeric_limits<double>::infinity();
  for (int l = 0; l < 8; ++l) {
    const bool tie = vals[l] == best && vals[l] > -std::numeric_limits<double>::infinity() &&
                     static_cast<uint32_t>(idx[l]) < best_idx;
    if (vals[l] > best || tie) {
      best = vals[l];
      best_idx = static_cast<uint32_t>(idx[l]);
    }
  }
  return best;
}
#endif

#if defined(__AVX512F__) && defined(__AVX512CD__)
// Eight codewords per step; lanes keep their own best (see reduce_best).
double best_odd_simd(const double* const* rows, const double* coef, int nrows, double sum_coef, const double* sum_y,
                     double lo, double hi, uint32_t& best_msg) {
  const __m512d lo_v = _mm512_set1_pd(lo), hi_v = _mm512_set1_pd(hi), sum_v = _mm512_set1_pd(sum_coef);
  const __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
  __m512d best_v = _mm512_set1_pd(-std::numeric_limits<double>::infinity());
  __m512i best_msg_v = _mm512_setzero_si512();
  for (int msg = 0; msg < 4096; msg += 8) {
    const __m512d sy = _mm512_loadu_pd(sum_y + msg);
    const __mmask8 live = _mm512_cmp_pd_mask(sy, lo_v, _CMP_GE_OQ) & _mm512_cmp_pd_mask(sy, hi_v, _CMP_LE_OQ);
    if (!live) continue;
    __m512d ip = _mm512_mul_pd(sum_v, sy);
    for (int k = 0; k < nrows; ++k) ip = _mm512_fmadd_pd(_mm512_set1_pd(coef[k]), _mm512_loadu_pd(rows[k] + msg), ip);
    const __mmask8 better = live & _mm512_cmp_pd_mask(ip, best_v, _CMP_GT_OQ);
    best_v = _mm512_mask_mov_pd(best_v, better, ip);
    best_msg_v = _mm512_mask_mov_epi64(best_msg_v, better, _mm512_add_epi64(lane, _mm512_set1_epi64(msg)));
  }
  return reduce_best(best_v, best_msg_v, best_msg);
}

// Eight codewords of one weight per step, as best_odd_simd; tail lanes are masked.
template <class C>
double best_even_simd(const C& on_c, const C& off_c, double total_abs, double min_on, int minus_parity, size_t count,
                      const double* on_abs, const uint32_t* on_rank, const uint8_t* neg_parity, const double* on_top,
                      const double* off_top, const double* sorted_abs, double lo, double hi, uint32_t& best_j) {
  const __m512d lo_v = _mm512_set1_pd(lo), hi_v = _mm512_set1_pd(hi), total_v = _mm512_set1_pd(total_abs);
  const __m512d on_last = _mm512_set1_pd(on_c.last), off_last = _mm512_set1_pd(off_c.last);
  const __m512d penalty_v = _mm512_set1_pd(2 * min_on);
  const __m512i want = _mm512_set1_epi64(minus_parity);
  const __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
  __m512d best_v = _mm512_set1_pd(-std::numeric_limits<double>::infinity());
  __m512i best_idx_v = _mm512_setzero_si512();
  for (size_t j = 0; j < count; j += 8) {
    const __mmask8 valid = count - j >= 8 ? 0xFF : static_cast<__mmask8>((1u << (count - j)) - 1);
    const __m512d on_sum = _mm512_maskz_loadu_pd(valid, on_abs + j);
    const __mmask8 live = valid & _mm512_cmp_pd_mask(on_sum, lo_v, _CMP_GE_OQ) &
                          _mm512_cmp_pd_mask(on_sum, hi_v, _CMP_LE_OQ);
    if (!live) continue;
    __m512d ip = _mm512_fmadd_pd(on_last, on_sum, _mm512_mul_pd(off_last, _mm512_sub_pd(total_v, on_sum)));
    for (int k = 0; k < on_c.n; ++k)
      ip = _mm512_fmadd_pd(_mm512_set1_pd(on_c.step[k]),
                           _mm512_maskz_loadu_pd(live, on_top + (on_c.cut[k] - 1) * count + j), ip);
    for (int k = 0; k < off_c.n; ++k)
      ip = _mm512_fmadd_pd(_mm512_set1_pd(off_c.step[k]),
                           _mm512_maskz_loadu_pd(live, off_top + (off_c.cut[k] - 1) * count + j), ip);
    // Smallest |x| on the codeword: the highest rank bit.
    const __m512i on = _mm512_cvtepu32_epi64(_mm256_maskz_loadu_epi32(live, on_rank + j));
    const __m512i last = _mm512_sub_epi64(_mm512_set1_epi64(63), _mm512_lzcnt_epi64(on));
    const __m512d smallest = _mm512_mask_i64gather_pd(_mm512_setzero_pd(), live, last, sorted_abs, 8);
    const __m512i par = _mm512_cvtepu8_epi64(_mm_maskz_loadu_epi8(valid, neg_parity + j));
    const __mmask8 wrong = _mm512_cmpneq_epi64_mask(par, want);
    ip = _mm512_mask3_fnmadd_pd(penalty_v, smallest, ip, wrong & live);
    const __mmask8 better = live & _mm512_cmp_pd_mask(ip, best_v, _CMP_GT_OQ);
    best_v = _mm512_mask_mov_pd(best_v, better, ip);
    best_idx_v = _mm512_mask_mov_epi64(best_idx_v, better, _mm512_add_epi64(lane, _mm512_set1_epi64(int64_t(j))));
  }
  return reduce_best(best_v, best_idx_v, best_j);
}
#endif

}  // namespace

double LeechBall::best_even(const Class& c, Context& ctx, double floor, uint32_t& codeword) const {
  ctx.prepare_even();
  const auto words = golay::codewords_of_weight(c.weight);
  const auto [lo, hi] = codeword_bound(c, ctx).above(floor);
  if (c.weight > 0 && c.weight < 24) {
    const int slot = Context::weight_slot(c.weight);
    ctx.extend_weight(c.weight, 0, c.on_cuts.n ? c.on_cuts.cut[c.on_cuts.n - 1] : 0);
    ctx.extend_weight(c.weight, 1, c.off_cuts.n ? c.off_cuts.cut[c.off_cuts.n - 1] : 0);
    const double* on_abs = ctx.on_abs[slot].data();
    const uint32_t* on_rank = ctx.on_rank[slot].data();
    const double* on_top = ctx.side_top[slot][0];
    const double* off_top = ctx.side_top[slot][1];
    const size_t count = words.size();
#if defined(__AVX512F__) && defined(__AVX512CD__)
    uint32_t j = 0;
    const double best = best_even_simd(c.on_cuts, c.off_cuts, ctx.sum_abs, c.min_on, c.minus_parity, count, on_abs,
                                       on_rank, ctx.on_neg_parity[slot].data(), on_top, off_top,
                                       ctx.sorted_abs.data(), lo, hi, j);
    codeword = words[j];
    return best;
#else
    double best = -std::numeric_limits<double>::infinity();
    for (size_t j = 0; j < count; ++j) {
      const double s = on_abs[j];
      if (s < lo || s > hi) continue;  // cannot beat `floor`
      double ip = c.on_cuts.last * s + c.off_cuts.last * (ctx.sum_abs - s);
      for (int k = 0; k < c.on_cuts.n; ++k) ip += c.on_cuts.step[k] * on_top[(c.on_cuts.cut[k] - 1) * count + j];
      for (int k = 0; k < c.off_cuts.n; ++k) ip += c.off_cuts.step[k] * off_top[(c.off_cuts.cut[k] - 1) * count + j];
      if (ctx.on_neg_parity[slot][j] != c.minus_parity)
        ip -= 2 * c.min_on * ctx.sorted_abs[31 - std::countl_zero(on_rank[j])];
      if (ip > best) {
        best = ip;
        codeword = words[j];
      }
    }
    return best;
#endif
  }
  // Weight 0 or 24: the single codeword holds no position or every position (rank mask).
  const uint32_t word = words[0];
  const double on_sum = word ? ctx.sum_abs : 0.0;
  if (on_sum < lo || on_sum > hi) return -std::numeric_limits<double>::infinity();
  const uint32_t on = word ? kAll : 0;
  double ip = (c.on_profile.mid - c.off_profile.mid) * on_sum + c.off_profile.mid * ctx.sum_abs;
  ip += deviations(c.on_profile, on, ctx.sorted_abs);
  ip += deviations(c.off_profile, ~on & kAll, ctx.sorted_abs);
  if (word && (std::popcount(ctx.neg & word) & 1) != c.minus_parity) ip -= 2 * c.min_on * ctx.sorted_abs[kDim - 1];
  codeword = word;
  return ip;
}

double LeechBall::best_odd(const Class& c, Context& ctx, double floor, uint32_t& codeword) const {
  ctx.prepare_odd();
  const auto& words = golay::codewords();
  const auto [lo, hi] = codeword_bound(c, ctx).above(floor);
  if (lo > hi) return -std::numeric_limits<double>::infinity();
  // The class's cuts as rows: T_t directly for t ≤ kTopRows, else Σy − (its 24 − t smallest).
  std::array<const double*, kDim> rows{};
  std::array<double, kDim> coef{};
  double sum_coef = c.on_cuts.last;
  int top_depth = 0, bottom_depth = 0;
  for (int k = 0; k < c.on_cuts.n; ++k) {
    const int t = c.on_cuts.cut[k];
    if (t <= Context::kTopRows) {
      top_depth = std::max(top_depth, t);
    } else {
      bottom_depth = std::max(bottom_depth, kDim - t);
    }
  }
  ctx.extend(true, top_depth);
  ctx.extend(false, bottom_depth);
  for (int k = 0; k < c.on_cuts.n; ++k) {
    const int t = c.on_cuts.cut[k];
    const double step = c.on_cuts.step[k];
    if (t <= Context::kTopRows) {
      rows[k] = ctx.row(t - 1);
      coef[k] = step;
    } else {
      rows[k] = ctx.row(Context::kTopRows + (kDim - t) - 1);
      coef[k] = -step;
      sum_coef += step;
    }
  }
#if defined(__AVX512F__) && defined(__AVX512CD__)
  uint32_t msg = 0;
  const double best = best_odd_simd(rows.data(), coef.data(), c.on_cuts.n, sum_coef, ctx.sum_y.data(), lo, hi, msg);
  codeword = words[msg];
  return best;
#else
  double best = -std::numeric_limits<double>::infinity();
  for (size_t msg = 0; msg < words.size(); ++msg) {
    const double sy = ctx.sum_y[msg];
    if (sy < lo || sy > hi) continue;  // cannot beat `floor`
    double ip = sum_coef * sy;
    for (int k = 0; k < c.on_cuts.n; ++k) ip += coef[k] * rows[k][msg];
    if (ip > best) {
      best = ip;
      codeword = words[msg];
    }
  }
  return best;
#endif
}

leech::Vec LeechBall::point_of(const Class& c, uint32_t word, const Context& ctx) const {
  leech::Vec v{};
  if (c.odd) {
    std::array<int32_t, kDim> b{};
    for (int i = 0; i < kDim; ++i) b[i] = c.leader[i] % 4 == 3 ? c.leader[i] : -c.leader[i];
    std::sort(b.begin(), b.end(), std::greater<>());
    int next = 0;
    for (int r = 0; r < 2 * kDim; ++r) {
      const int pos = ctx.z_pos[r];
      const bool in_c = (word >> pos) & 1;
      if (ctx.z_plus[r] != in_c) continue;  // y_pos is +x_pos on c, −x_pos off c
      v[pos] = in_c ? b[next] : -b[next];
      ++next;
    }
    return v;
  }
  std::array<int32_t, kDim> on{}, off{};
  int n_on = 0, n_off = 0;
  for (int a : c.leader) (a % 4 == 2 ? on[n_on++] : off[n_off++]) = a;
  n_on = n_off = 0;
  int last_on = -1;
  for (int r = 0; r < kDim; ++r) {
    const int pos = ctx.order[r];
    if ((word >> pos) & 1) {
      v[pos] = on[n_on++];
      last_on = pos;
    } else {
      v[pos] = off[n_off++];
    }
  }
  uint32_t neg = ctx.neg;
  if (word && (std::popcount(neg & word) & 1) != c.minus_parity) neg ^= 1u << last_on;
  for (int i = 0; i < kDim; ++i)
    if ((neg >> i) & 1) v[i] = -v[i];
  return v;
}

LeechBall::Result LeechBall::search(const float* x, bool angular, double scale, int lo, int hi) const {
  check_finite(x);
  if (hi < 2 || hi > max_shell_ || lo < 0 || lo > hi)
    throw InputError("search shells " + std::to_string(lo) + ".." + std::to_string(hi) + " not within 0.." +
                     std::to_string(max_shell_) + " (upper end at least 2)");
  if (!angular && !(std::isfinite(scale) && scale > 0))
    throw InputError("scale must be finite and positive");
  Context ctx(x);
  auto objective = [&](const Class& c, double ip) {
    return angular ? ip * c.inv_norm : 2 * scale * ip - c.norm2;
  };
  // Candidates as a max-heap on the bound of the objective.
  std::vector<Candidate> heap;
  const uint32_t first = shell_first_class_[std::max(lo, 2)], last = shell_first_class_[hi + 1];
  heap.reserve(last - first);
  for (uint32_t ci = first; ci < last; ++ci) {
    const Class& c = classes_[ci];
    double bound = 0;
    int start = 0;
    for (int r = 0; r < c.runs; ++r) {
      bound += c.run_value[r] * (ctx.prefix[c.run_end[r]] - ctx.prefix[start]);
      start = c.run_end[r];
    }
    heap.push_back({objective(c, bound), ci});
  }
  auto less = [](const Candidate& a, const Candidate& b) {
    return a.objective != b.objective ? a.objective < b.objective : a.cls > b.cls;
  };
  std::make_heap(heap.begin(), heap.end(), less);
  // The origin (objective 0 in the Euclidean form 2s<x,v> − |v|²) competes when lo = 0.
  const bool origin = !angular && lo == 0;
  double best = origin ? 0.0 : -std::numeric_limits<double>::infinity();
  int64_t best_cls = -1;
  uint32_t best_word = 0;
  // In inner-product units of class c, the value an exact result must beat.
  auto floor_of = [&](const Class& c) {
    if (best == -std::numeric_limits<double>::infinity()) return best;
    return angular ? best / c.inv_norm : (best + c.norm2) / (2 * scale);
  };
  while (!heap.empty() && heap.front().objective > best) {
    std::pop_heap(heap.begin(), heap.end(), less);
    const Candidate cand = heap.back();
    heap.pop_back();
    const Class& c = classes_[cand.cls];
    uint32_t word = 0;
    const double ip = c.odd ? best_odd(c, ctx, floor_of(c), word) : best_even(c, ctx, floor_of(c), word);
    const double obj = objective(c, ip);
    if (obj > best) {
      best = obj;
      best_cls = cand.cls;
      best_word = word;
    }
  }
  Result res{0, leech::Vec{}, 0};
  if (best_cls >= 0) {
    res.point = point_of(classes_[best_cls], best_word, ctx);
    res.index = rank(res.point);
  }
  double dot = 0, dist2 = 0;
  for (int i = 0; i < kDim; ++i) {
    dot += ctx.x[i] * res.point[i];
    const double d = scale * ctx.x[i] - res.point[i];
    dist2 += d * d;
  }
  res.score = angular ? dot / std::sqrt(static_cast<double>(leech::norm2(res.point))) : dist2;
  return res;
}

LeechBall::Result LeechBall::search_angular(const float* x) const { return search(x, true, 1.0, 2, max_shell_); }

LeechBall::Result LeechBall::search_euclidean(const float* x, double scale) const {
  return search(x, false, scale, 0, max_shell_);
}

LeechBall::Result LeechBall::search_angular(const float* x, int min_shell, int max_shell) const {
  return search(x, true, 1.0, min_shell, max_shell);
}

LeechBall::Result LeechBall::search_euclidean(const float* x, double scale, int min_shell, int max_shell) const {
  return search(x, false, scale, min_shell, max_shell);
}

}  // namespace llvq

// Exact searches over Λ24(M) (REFERENCE.md §1 "Search"; design in docs/lattice.md).
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
// assembled from three byte-indexed tables; a class's values are stored as a common mid
// value plus a few deviations, so each codeword costs a handful of operations.
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <string>

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
    odd_ready = true;
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

double LeechBall::best_even(const Class& c, Context& ctx, uint32_t& codeword) const {
  ctx.prepare_even();
  const auto words = golay::codewords_of_weight(c.weight);
  const auto& rm = ctx.rank_mask;
  const auto& as = ctx.abs_sum;
  double best = -std::numeric_limits<double>::infinity();
  for (uint32_t word : words) {
    const uint32_t b0 = word & 255, b1 = (word >> 8) & 255, b2 = word >> 16;
    const uint32_t on = rm[0][b0] | rm[1][b1] | rm[2][b2];
    const double on_sum = as[0][b0] + as[1][b1] + as[2][b2];
    double ip = c.on_profile.mid * on_sum + c.off_profile.mid * (ctx.sum_abs - on_sum);
    ip += deviations(c.on_profile, on, ctx.sorted_abs);
    ip += deviations(c.off_profile, ~on & kAll, ctx.sorted_abs);
    if (word && (std::popcount(ctx.neg & word) & 1) != c.minus_parity)
      ip -= 2 * c.min_on * ctx.sorted_abs[31 - std::countl_zero(on)];
    if (ip > best) {
      best = ip;
      codeword = word;
    }
  }
  return best;
}

double LeechBall::best_odd(const Class& c, Context& ctx, uint32_t& codeword) const {
  ctx.prepare_odd();
  const auto& words = golay::codewords();
  const auto& pm = ctx.pick_mask;
  const auto& xs = ctx.x_sum;
  double best = -std::numeric_limits<double>::infinity();
  for (uint32_t word : words) {
    const uint32_t b0 = word & 255, b1 = (word >> 8) & 255, b2 = word >> 16;
    const uint64_t pick = pm[0][b0] | pm[1][b1] | pm[2][b2];
    // Σ y = Σ_c x − Σ_{not c} x = 2·Σ_c x − Σ x.
    const double sum_y = 2 * (xs[0][b0] + xs[1][b1] + xs[2][b2]) - ctx.sum_x;
    const double ip = c.on_profile.mid * sum_y + deviations(c.on_profile, pick, ctx.z);
    if (ip > best) {
      best = ip;
      codeword = word;
    }
  }
  return best;
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
    heap.push_back({objective(c, bound), ci, 0});
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
  while (!heap.empty() && heap.front().objective > best) {
    std::pop_heap(heap.begin(), heap.end(), less);
    const Candidate cand = heap.back();
    heap.pop_back();
    const Class& c = classes_[cand.cls];
    uint32_t word = 0;
    const double ip = c.odd ? best_odd(c, ctx, word) : best_even(c, ctx, word);
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

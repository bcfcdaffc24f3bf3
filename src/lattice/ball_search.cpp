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
// assembled by table lookups. A class's sorted values are runs, so its value is a few
// multiples of T_t (sum of the t largest matched entries) at the run boundaries; the T_t rows
// are shared by every class. Inside a class only the cosets of a 32-word subcode whose bound
// (linear in the codeword: the dual of the sorted matching) can beat the best point are
// scanned, and rows and statistics are built only for the codewords scanned.
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "lattice/ball_detail.hpp"
#include "lattice/ball_search_context.hpp"
#include "lattice/golay_cosets.hpp"
#include "llvq/error.hpp"
#include "llvq/golay.hpp"
#include "llvq/leech_ball.hpp"

namespace llvq {
namespace {
using leech::kDim;
constexpr uint32_t kAll = 0xFFFFFF;
}  // namespace

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

// Exact double values of single codewords for the scans' float filter (lattice::Scan): the
// same sums in the same order as full-precision rows would hold (cumulative sums along the
// bit walk of the codeword's mask), and the same fused multiply-adds in cut order.

// Sum of the t lowest (from_top) or highest set bits' values of `mask`, t = 1..depth, into
// out[t − 1].
void walk_sums(uint64_t mask, bool from_top, int depth, const double* values, double* out) {
  double acc = 0;
  for (int t = 0; t < depth; ++t) {
    const int r = from_top ? std::countr_zero(mask) : 63 - std::countl_zero(mask);
    acc += values[r];
    mask &= ~(uint64_t{1} << r);
    out[t] = acc;
  }
}

// One class's cuts as rows of walk sums: cut k reads walk `side[k]` at depth `depth[k]`.
struct ExactRows {
  int n = 0;
  std::array<uint8_t, 2 * kDim> side{}, depth{};
  std::array<double, 2 * kDim> coef{};
  std::array<int, 2> max_depth{};
  void add(int walk, int d, double c) {
    side[n] = static_cast<uint8_t>(walk);
    depth[n] = static_cast<uint8_t>(d);
    coef[n++] = c;
    max_depth[walk] = std::max(max_depth[walk], d);
  }
  // ip after the cuts' fused multiply-adds, walks[w][t − 1] holding walk w's sums.
  double apply(double ip, const std::array<std::array<double, kDim>, 2>& walks) const {
    for (int k = 0; k < n; ++k) ip = std::fma(coef[k], walks[side[k]][depth[k] - 1], ip);
    return ip;
  }
};

// Σ of values over the positions of a 24-bit codeword, in the order of the byte tables the
// search used before (sums inside each byte from its highest position down, then
// (byte 0 + byte 1) + byte 2), so that exact values keep their last bits.
double codeword_sum(uint32_t word, const double* values) {
  std::array<double, 3> part{};
  for (int k = 0; k < 3; ++k) {
    for (uint32_t b = (word >> (8 * k)) & 255; b; b &= ~(1u << (31 - std::countl_zero(b))))
      part[k] += values[8 * k + 31 - std::countl_zero(b)];
  }
  return part[0] + part[1] + part[2];
}

// Odd classes: walk 0 = the largest y of the codeword's pick mask, walk 1 = the smallest.
struct OddExact {
  const uint32_t* words;
  const double* x;
  const uint8_t* z_rank;  // rank of +x_i at 2i, of −x_i at 2i + 1
  const double* z;
  double sum_x, lo, hi, sum_coef;
  ExactRows rows;
};

double odd_exact(const void* p, uint32_t j) {
  const auto& e = *static_cast<const OddExact*>(p);
  const uint32_t word = e.words[j];
  const double s = 2 * codeword_sum(word, e.x) - e.sum_x;
  if (!(s >= e.lo && s <= e.hi)) return -std::numeric_limits<double>::infinity();
  uint64_t pick = 0;
  for (int i = 0; i < kDim; ++i) pick |= uint64_t{1} << e.z_rank[2 * i + (((word >> i) & 1) ? 0 : 1)];
  std::array<std::array<double, kDim>, 2> walks;
  walk_sums(pick, true, e.rows.max_depth[0], e.z, walks[0].data());
  walk_sums(pick, false, e.rows.max_depth[1], e.z, walks[1].data());
  return e.rows.apply(e.sum_coef * s, walks);
}

// Even classes of weight 8, 12, 16: walk 0 = the largest |x| on the codeword, walk 1 = off it.
struct EvenExact {
  const uint32_t* words;
  const uint32_t* on_mask;
  const double* abs_x;
  const double* sorted_abs;  // zero-padded to lattice::kTableSize
  uint32_t neg;
  double lo, hi, on_last, off_last, total, penalty, want_parity;
  ExactRows rows;
};

double even_exact(const void* p, uint32_t j) {
  const auto& e = *static_cast<const EvenExact*>(p);
  const double s = codeword_sum(e.words[j], e.abs_x);
  if (!(s >= e.lo && s <= e.hi)) return -std::numeric_limits<double>::infinity();
  const uint32_t on = e.on_mask[j];
  std::array<std::array<double, kDim>, 2> walks;
  walk_sums(on, true, e.rows.max_depth[0], e.sorted_abs, walks[0].data());
  walk_sums(~on & kAll, true, e.rows.max_depth[1], e.sorted_abs, walks[1].data());
  const double off = e.off_last * (e.total - s);
  double ip = e.rows.apply(std::fma(e.on_last, s, off), walks);
  const double wrong = std::abs(static_cast<double>(std::popcount(e.neg & e.words[j]) & 1) - e.want_parity);
  const double smallest = e.sorted_abs[31 - std::countl_zero(on)];
  return std::fma(-e.penalty * wrong, smallest, ip);
}

// Bound on |float filter value − exact value| of a scan whose coefficients sum to `coef_sum`
// in magnitude, every term bounded by `sum_abs` (Σ|x|): a float row (a sum of at most 23
// terms), a float statistic (at most 26 terms), and each of the nrows + 3 roundings of the
// float evaluation err by at most (their term count)·2^−24 of coef_sum·sum_abs; the factor 4
// covers the double side and the rest. search() normalises Σ|x| to [1, 2); a zero input
// (or one outside a range where float keeps that relative accuracy) has every item evaluated
// exactly (margin ∞).
double filter_margin(int nrows, double coef_sum, double sum_abs) {
  if (!(sum_abs >= 1e-15 && sum_abs <= 1e15)) return std::numeric_limits<double>::infinity();
  return (nrows + 8 + 2 * kDim) * 0x1p-22 * coef_sum * sum_abs;
}

// The scans may skip items whose exact value lies below floor − slack: such an item cannot
// beat the best point (the slack covers the rounding of floor_of's conversion).
double scan_floor(double floor, double scale) {
  if (floor == -std::numeric_limits<double>::infinity()) return floor;
  return floor - 1e-12 * (std::abs(floor) + scale);
}

// Coset pruning (docs/lattice.md "Coset pruning"). For a class with values β_1 ≥ … ≥ β_n on
// some slots and any numbers w_j, the class's best matching obeys
//   Σ_j β_j·y_(j) = Σ_j (β_j·y_(j) − w_j) + Σ_j w_j ≤ Σ_i φ(y_i) + Σ_j w_j,
//   φ(y) = max_j (β_j·y − w_j),
// whatever the codeword. y_i is ±x_i (odd) or |x_i| on or off the codeword (even), so the
// right side is linear in the codeword's bits and its maximum over a coset costs a few
// operations per tetrad (golay_cosets.hpp). The w_j come from the rearrangement bound's
// matching: φ is the convex function with slope β between the inputs that matching gives the
// value β, breaking halfway between the inputs of consecutive values.
struct DualFunction {
  int n = 0;
  std::array<double, kDim> slope{}, intercept{};
  double total = 0;  // Σ_j w_j over the slots
  // out[i] = φ(y[i]), i < 24 (piece by piece, so that the loop over i vectorises).
  void evaluate(const double* y, double* out) const {
    for (int i = 0; i < kDim; ++i) out[i] = slope[0] * y[i] - intercept[0];
    for (int s = 1; s < n; ++s)
      for (int i = 0; i < kDim; ++i) out[i] = std::max(out[i], slope[s] * y[i] - intercept[s]);
  }
};

template <class D>
DualFunction dual_function(const D& d, const double* sorted_abs) {
  DualFunction f;
  f.n = d.n;
  f.slope = d.slope;
  for (int s = d.n - 2; s >= 0; --s) {
    const double upper = d.upper_sign[s] * sorted_abs[d.upper_rank[s]];
    const double lower = d.lower_sign[s] * sorted_abs[d.lower_rank[s]];
    const double t = 0.5 * (upper + lower);
    f.intercept[s] = f.intercept[s + 1] + (d.slope[s] - d.slope[s + 1]) * t;
  }
  for (int s = 0; s < d.n; ++s) f.total += d.count[s] * f.intercept[s];
  return f;
}

// An upper bound on a class's <x,v> that is linear in the codeword: base + Σ_{i on it} gain_i.
struct LinearBound {
  std::array<double, kDim> gain{};
  double base = 0;
};

// The cosets whose maximum of `bound` can reach `floor`, as bits of live[g / 32] (float
// kernel; the level is lowered by a margin that covers its rounding), and, when `value` is not
// null, each coset's bound less bound.base and the columns' halves (the float kernel's sum).
void live_cosets(const LinearBound& bound, double floor, const lattice::BallKernels& kernels,
                 std::array<uint32_t, 4>& live, float* value) {
  alignas(64) std::array<float, 16 * lattice::GolayCosets::kColumns> column{};
  double scale = 0;
  const double halves = lattice::coset_columns(bound.gain.data(), column.data(), scale);
  // Each |u| rounds once to float, their sum five times and the fix-up once, each within
  // 2^−24 of Σ|gain|: 2^−16 of it (with the other terms' magnitudes) is far above their sum.
  const double level =
      floor - bound.base - halves - 0x1p-16 * (scale + std::abs(halves) + std::abs(bound.base) + std::abs(floor));
  float level_float = static_cast<float>(level);
  if (static_cast<double>(level_float) > level)
    level_float = std::nextafter(level_float, -std::numeric_limits<float>::infinity());
  kernels.coset_bounds({column.data(), lattice::golay_cosets().pattern.data(), lattice::GolayCosets::kCosets,
                        level_float, live.data(), value});
}

}  // namespace

lattice::ScanBest LeechBall::scan_cosets(const Class& c, Context& ctx, lattice::Scan& job,
                                         std::array<int, 2> depth) const {
  constexpr double kNone = -std::numeric_limits<double>::infinity();
  const auto& cosets = lattice::golay_cosets();
  const int slot = c.odd ? 0 : Context::weight_slot(c.weight);
  job.canonical = c.odd ? cosets.message.data() : cosets.weight_position[slot].data();
  LinearBound bound;
  const double* sorted_abs = ctx.sorted_abs.data();
  if (c.odd) {
    const DualFunction phi = dual_function(c.on_dual, sorted_abs);
    std::array<double, kDim> on, off, minus_x;
    for (int i = 0; i < kDim; ++i) minus_x[i] = -ctx.x[i];
    phi.evaluate(ctx.x.data(), on.data());
    phi.evaluate(minus_x.data(), off.data());
    double base = phi.total;  // a local sum: bound.base in memory would chain store and load
    for (int i = 0; i < kDim; ++i) {
      bound.gain[i] = on[i] - off[i];
      base += off[i];
    }
    bound.base = base;
  } else {
    const DualFunction on = dual_function(c.on_dual, sorted_abs), off = dual_function(c.off_dual, sorted_abs);
    std::array<double, kDim> on_value, off_value;
    on.evaluate(ctx.abs_x.data(), on_value.data());
    off.evaluate(ctx.abs_x.data(), off_value.data());
    double base = on.total + off.total;
    for (int i = 0; i < kDim; ++i) {
      bound.gain[i] = on_value[i] - off_value[i];
      base += off_value[i];
    }
    // Every codeword of the class has weight w, so Σ_{i on it} gain_i = λ·w + Σ_{i on it}
    // (gain_i − λ) for any λ; λ halfway between the w-th and (w+1)-th largest gain makes the
    // cosets' maxima pick about w positions, as the class's codewords do. (Counting instead of
    // sorting: branch-free.)
    constexpr double kInf = std::numeric_limits<double>::infinity();
    std::array<int32_t, kDim> greater{};
    for (int j = 0; j < kDim; ++j)
      for (int i = 0; i < kDim; ++i) greater[i] += bound.gain[j] > bound.gain[i];
    std::array<double, kDim> upper, lower;
    for (int i = 0; i < kDim; ++i) {
      const bool top = greater[i] < c.weight;
      upper[i] = top ? bound.gain[i] : kInf;
      lower[i] = top ? -kInf : bound.gain[i];
    }
    const double above = *std::min_element(upper.begin(), upper.end());
    const double below = *std::max_element(lower.begin(), lower.end());
    // With ties across the w-th place nothing lies below: λ = the w-th largest gain.
    const double lambda = below == -kInf ? above : 0.5 * (above + below);
    for (double& g : bound.gain) g -= lambda;
    bound.base = base + lambda * c.weight;
  }
  // Coset g's items: 32 per coset (odd), or its run of the weight's list (even).
  auto first_item = [&](int g) { return c.odd ? 32 * g : cosets.weight_start[slot][g]; };
  std::array<uint64_t, 4> steps{};
  job.steps = steps.data();
  auto mark = [&](int g) {
    const size_t first = first_item(g), end = first_item(g + 1);
    for (size_t s = first / 16; first < end && s <= (end - 1) / 16; ++s) steps[s / 64] |= uint64_t{1} << (s % 64);
  };
  // The rows of the steps a scan visits, walked before it.
  auto scan = [&](const lattice::Scan& j) {
    if (c.odd) {
      ctx.extend(depth[0], j.steps);
    } else {
      for (int side = 0; side < 2; ++side) ctx.extend_weight(c.weight, side, depth[side], j.steps);
    }
    return ctx.kernels.scan(j);
  };
  // Finite inputs give finite gains; anything else (which no input should produce) prunes
  // nothing rather than everything, as a NaN bound would.
  double gain_sum = bound.base;
  for (double g : bound.gain) gain_sum += g;
  if (!std::isfinite(gain_sum)) job.floor = kNone, bound = LinearBound{};
  std::array<uint32_t, 4> live{};
  if (job.floor == kNone) {
    // No floor yet (the first class of a search): the scan of the coset with the largest bound
    // gives one.
    std::array<float, lattice::GolayCosets::kCosets> value{};
    live_cosets(bound, kNone, ctx.kernels, live, value.data());
    int top = -1;
    for (int g = 0; g < lattice::GolayCosets::kCosets; ++g)
      if (first_item(g + 1) > first_item(g) && (top < 0 || value[g] > value[top])) top = g;
    mark(top);
    const lattice::ScanBest seed = scan(job);
    if (seed.value == kNone) {  // (not reached: a non-empty coset has finite values)
      for (int g = 0; g < lattice::GolayCosets::kCosets; ++g) mark(g);
      return scan(job);
    }
    job.floor = seed.value;
    steps = {};
  }
  live_cosets(bound, job.floor, ctx.kernels, live, nullptr);
  for (int word = 0; word < 4; ++word)
    for (uint32_t bits = live[word]; bits; bits &= bits - 1) mark(32 * word + std::countr_zero(bits));
  return scan(job);
}

double LeechBall::best_even(const Class& c, Context& ctx, double floor, uint32_t& codeword) const {
  if (c.weight > 0 && c.weight < 24) {
    const int slot = Context::weight_slot(c.weight);
    const auto& words = lattice::golay_cosets().weight_words[slot];
    ctx.prepare_weight(c.weight);
    // Every statistic passes (only the padding's NaN fails).
    const double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
    const size_t padded = Context::padded_count(words.size());
    std::array<const float*, 2 * kDim> rows{};
    std::array<double, 2 * kDim> coef{};
    EvenExact exact{words.data(), ctx.on_rank_mask[slot].data(), ctx.abs_x.data(), ctx.abs_table.data(), ctx.neg,
                    lo, hi, c.on_cuts.last, c.off_cuts.last, ctx.sum_abs, 2 * c.min_on, double(c.minus_parity), {}};
    int nrows = 0;
    double coef_sum = std::abs(c.on_cuts.last) + std::abs(c.off_cuts.last) + 2 * c.min_on;
    for (int side = 0; side < 2; ++side) {
      const Cuts& cuts = side == 0 ? c.on_cuts : c.off_cuts;
      for (int k = 0; k < cuts.n; ++k) {
        rows[nrows] = ctx.side_top[slot][side] + (cuts.cut[k] - 1) * padded;
        coef[nrows++] = cuts.step[k];
        exact.rows.add(side, cuts.cut[k], cuts.step[k]);
        coef_sum += std::abs(cuts.step[k]);
      }
    }
    lattice::Scan job{};
    job.stat = ctx.on_abs_float[slot].data();
    job.stat_slack = ctx.on_abs_slack;
    job.rows = rows.data();
    job.coef = coef.data();
    job.nrows = nrows;
    job.count = padded;
    job.lo = lo, job.hi = hi;
    job.even = true;
    job.on_last = exact.on_last, job.off_last = exact.off_last, job.total = exact.total;
    job.penalty = exact.penalty, job.want_parity = exact.want_parity;
    job.smallest = ctx.smallest_on[slot].data();
    job.parity = ctx.neg_parity[slot].data();
    job.floor = scan_floor(floor, coef_sum * ctx.sum_abs);
    job.margin = filter_margin(nrows, coef_sum, ctx.sum_abs);
    job.exact = &even_exact;
    job.exact_ctx = &exact;
    const int on_depth = c.on_cuts.n ? c.on_cuts.cut[c.on_cuts.n - 1] : 0;
    const int off_depth = c.off_cuts.n ? c.off_cuts.cut[c.off_cuts.n - 1] : 0;
    const lattice::ScanBest best = scan_cosets(c, ctx, job, {on_depth, off_depth});
    codeword = words[best.index];
    return best.value;
  }
  // Weight 0 or 24: the single codeword holds no position or every position (rank mask).
  const uint32_t word = golay::codewords_of_weight(c.weight)[0];
  const double on_sum = word ? ctx.sum_abs : 0.0;
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
  const auto& words = lattice::golay_cosets().words;
  const double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
  // The class's cuts as rows: T_t directly for t ≤ kTopRows, else Σy − (its 24 − t smallest).
  std::array<const float*, kDim> rows{};
  OddExact exact{words.data(), ctx.x.data(), ctx.z_rank.data(), ctx.z.data(), ctx.sum_x, lo, hi, c.on_cuts.last, {}};
  int top_depth = 0, bottom_depth = 0;
  for (int k = 0; k < c.on_cuts.n; ++k) {
    const int t = c.on_cuts.cut[k];
    if (t <= Context::kTopRows) {
      top_depth = std::max(top_depth, t);
    } else {
      bottom_depth = std::max(bottom_depth, kDim - t);
    }
  }
  // The float filter reads a bottom cut's row backwards with the opposite sign (see Context).
  std::array<double, kDim> filter_coef{};
  uint64_t reversed = 0;
  double coef_sum = 0;
  for (int k = 0; k < c.on_cuts.n; ++k) {
    const int t = c.on_cuts.cut[k];
    const double step = c.on_cuts.step[k];
    coef_sum += std::abs(step);
    if (t <= Context::kTopRows) {
      rows[k] = ctx.row(t - 1);
      filter_coef[k] = step;
      exact.rows.add(0, t, step);
    } else {
      rows[k] = ctx.row(kDim - t - 1);
      filter_coef[k] = step;
      reversed |= uint64_t{1} << k;
      exact.rows.add(1, kDim - t, -step);
      exact.sum_coef += step;
    }
  }
  coef_sum += std::abs(exact.sum_coef);
  lattice::Scan job{};
  job.reversed = reversed;
  job.stat = ctx.sum_y_float.data();
  job.stat_slack = ctx.sum_y_slack;
  job.rows = rows.data();
  job.coef = filter_coef.data();
  job.nrows = c.on_cuts.n;
  job.count = words.size();
  job.lo = lo, job.hi = hi;
  job.sum_coef = exact.sum_coef;
  job.floor = scan_floor(floor, coef_sum * ctx.sum_abs);
  job.margin = filter_margin(c.on_cuts.n, coef_sum, ctx.sum_abs);
  job.exact = &odd_exact;
  job.exact_ctx = &exact;
  const lattice::ScanBest best = scan_cosets(c, ctx, job, {std::max(top_depth, bottom_depth), 0});
  codeword = words[best.index];
  return best.value;
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
  // The context holds x·2^exponent (see Context); the Euclidean scale takes the inverse power,
  // so scale·x, the optimum and its ties do not change.
  Context ctx(x);
  const double x_scale = std::ldexp(scale, -ctx.exponent);
  // The objective of class ci when its inner product with x is ip (ip = its bound for the order).
  auto objective = [&](uint32_t ci, double ip) {
    const auto [norm2, inv_norm] = bound_norm_[ci];
    return angular ? ip * inv_norm : 2 * x_scale * ip - norm2;
  };
  // Every class's bound on the objective (per-thread buffer: no allocation per search).
  thread_local std::vector<Candidate> candidates;
  const uint32_t first = shell_first_class_[std::max(lo, 2)], last = shell_first_class_[hi + 1];
  candidates.clear();
  for (uint32_t ci = first; ci < last; ++ci) {
    double bound = 0;
    int start = 0;
    for (uint32_t r = bound_first_[ci]; r < bound_first_[ci + 1]; ++r) {
      const auto [end, value] = bound_runs_[r];
      bound += value * (ctx.prefix[end] - ctx.prefix[start]);
      start = end;
    }
    candidates.push_back({objective(ci, bound), ci});
  }
  // Classes are evaluated in decreasing order of bound (ties: smaller class first) until a
  // bound cannot beat the best value.
  auto before = [](const Candidate& a, const Candidate& b) {
    return a.objective != b.objective ? a.objective > b.objective : a.cls < b.cls;
  };
  // The origin (objective 0 in the Euclidean form 2s<x,v> − |v|²) competes when lo = 0.
  const bool origin = !angular && lo == 0;
  double best = origin ? 0.0 : -std::numeric_limits<double>::infinity();
  int64_t best_cls = -1;
  uint32_t best_word = 0;
  // In inner-product units of class c, the value an exact result must beat.
  auto floor_of = [&](const Class& c) {
    if (best == -std::numeric_limits<double>::infinity()) return best;
    return angular ? best / c.inv_norm : (best + c.norm2) / (2 * x_scale);
  };
  auto evaluate = [&](const Candidate& cand) {
    const Class& c = classes_[cand.cls];
    uint32_t word = 0;
    const double ip = c.odd ? best_odd(c, ctx, floor_of(c), word) : best_even(c, ctx, floor_of(c), word);
    const double obj = objective(cand.cls, ip);
    if (obj > best) {
      best = obj;
      best_cls = cand.cls;
      best_word = word;
    }
  };
  // The top class sets a first best value; only the classes whose bound beats it (a few
  // dozen of 383) are sorted, which replaces a heap over all of them.
  const auto top = std::min_element(candidates.begin(), candidates.end(), before);
  if (top->objective > best) {
    const Candidate head = *top;
    evaluate(head);
    const auto rest = std::partition(candidates.begin(), candidates.end(), [&](const Candidate& cand) {
      return cand.cls != head.cls && cand.objective > best;
    });
    std::sort(candidates.begin(), rest, before);
    for (auto it = candidates.begin(); it != rest && it->objective > best; ++it) evaluate(*it);
  }
  Result res{0, leech::Vec{}, 0};
  if (best_cls >= 0) {
    res.point = point_of(classes_[best_cls], best_word, ctx);
    res.index = rank(res.point);
  }
  double dot = 0, dist2 = 0;
  for (int i = 0; i < kDim; ++i) {
    dot += ctx.x[i] * res.point[i];
    const double d = x_scale * ctx.x[i] - res.point[i];
    dist2 += d * d;
  }
  res.score = angular ? std::ldexp(dot, -ctx.exponent) / std::sqrt(static_cast<double>(leech::norm2(res.point))) : dist2;
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

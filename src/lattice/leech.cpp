#include "llvq/leech.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "lattice/coset_kernels.hpp"
#include "llvq/error.hpp"
#include "llvq/golay.hpp"

namespace llvq::leech {

int64_t norm2(const Vec& x) {
  int64_t s = 0;
  for (int32_t v : x) s += static_cast<int64_t>(v) * v;
  return s;
}

bool is_member(const Vec& x) {
  const bool odd = (x[0] & 1) != 0;
  const int marked_residue = odd ? 3 : 2;  // residue mod 4 whose positions form the codeword
  uint32_t mask = 0;
  int64_t sum = 0;
  for (int i = 0; i < kDim; ++i) {
    if (((x[i] & 1) != 0) != odd) return false;
    if ((x[i] & 3) == marked_residue) mask |= 1u << i;  // & 3 is the residue mod 4 in two's complement
    sum += x[i];
  }
  const int64_t sum_mod8 = ((sum % 8) + 8) % 8;
  return golay::is_codeword(mask) && sum_mod8 == (odd ? 4 : 0);
}

int shell_of(const Vec& x) {
  if (!is_member(x)) return -1;
  return static_cast<int>(norm2(x) / 16);
}

// ===========================================================================================
// Nearest point.
//
// J = ∪_c (2c + 4·D24) ∪ (1 + 2c + 4·(D24 + e1)): a point of J is y_i = a_i + 4k_i where the
// residues a_i = h + 2c_i come from a half h ∈ {0, 1} and a Golay codeword c, and the k_i
// satisfy Σk_i ≡ h (mod 2). For one coordinate and one residue the best k and the best k of
// the other parity are adjacent; so a set S of coordinates with fixed residues is summarised
// by a "soft" triple (best cost, parity of Σk at the best, extra cost of the other parity),
// and the triple of a union is (best₁+best₂, parity₁⊕parity₂, min(extra₁, extra₂)).
//
// The 24 coordinates are split by a trio of disjoint octads O1, O2, O3. Complementing a
// codeword on any octad of the trio gives a codeword, so the code is 512 cosets of the
// 8-word subcode ⟨O1, O2, O3⟩ and each coset is a triple of complement classes, one per
// octad. Per half, per octad, per complement class (64 even 8-bit words up to complement),
// the soft triple minimised over the two complementary words is computed once; the decoder
// then scans the 2 × 512 class triples. The minimum over cosets of the closed-form cost is
// the exact maximum-likelihood decision; the winning coset's point is rebuilt at the end.
//
// Costs only need to be totally ordered and compatible with addition (a ≤ b ⇒ a + c ≤
// b + c): a double for float input, and for the exact integer decoder one __int128 holding
// the squared distance above a 72-bit lexicographic tie-break key (see ExactMetric).
// ===========================================================================================
namespace {

// The 24 coordinates with one residue a (values a + 4k): the soft triple of each (the best
// value's cost, the extra cost of the nearest value with the other parity of k, the parity at
// the best) and the two values, in columns as the coset kernels read them.
template <class Cost>
struct ResidueColumns {
  std::array<Cost, kDim> best;
  std::array<Cost, kDim> extra;  // ≥ 0
  std::array<int32_t, kDim> y_best, y_other;
  uint32_t parity;  // bit i: the parity of k at coordinate i's best value
};

// Double input, lattice J.
struct DoubleMetric {
  using Cost = double;
  const double* x;

  void fill(int a, ResidueColumns<Cost>& col) const {
    col.parity = 0;
    for (int i = 0; i < kDim; ++i) {
      const double k = std::floor((x[i] - a) / 4.0 + 0.5);
      const double y = a + 4.0 * k;
      const double e = x[i] - y;  // in [-2, 2)
      const double ae = std::fabs(e);
      col.best[i] = e * e;
      // (4 − |e|)² − e², written so that no compiler's FMA contraction can change it: 8|e| is
      // exact, so the one rounding is the same fused or not (the squares' difference was fused
      // into one FMA under -march=native, and rounded twice without).
      col.extra[i] = 16.0 - 8.0 * ae;
      col.parity |= static_cast<uint32_t>(static_cast<int64_t>(k) & 1) << i;
      col.y_best[i] = static_cast<int32_t>(y);
      col.y_other[i] = e >= 0 ? col.y_best[i] + 4 : col.y_best[i] - 4;
    }
  }
};

// Integer input v, lattice scale·J, exact costs. Order: |v − p|², then v − p
// lexicographically (smaller first). Per coordinate, the candidate values of all residues
// (the two nearest of each residue class mod 4·scale) are the 8 consecutive multiples of
// scale around v_i, scale·(⌊v_i/scale⌋ − 3) … scale·(⌊v_i/scale⌋ + 4), so "v_i − p_i" is ranked
// by a 3-bit digit; the key packs the 24 digits (coordinate 0 most significant, 72 bits) below
// the squared distance. The key is additive over coordinates, as the decomposition requires.
// Candidates are handled as multiples m of scale: one division per coordinate (⌊v_i/scale⌋),
// the rest shifts and additions.
struct ExactMetric {
  using Cost = __int128;

  ExactMetric(const Vec& v_in, int64_t scale_in) : v(v_in), scale(scale_in) {
    for (int i = 0; i < kDim; ++i) floor_v[static_cast<size_t>(i)] = floor_div(v[static_cast<size_t>(i)], scale);
  }

  void fill(int a, ResidueColumns<Cost>& col) const {
    col.parity = 0;
    for (int i = 0; i < kDim; ++i) {
      // ⌊(v_i − scale·a) / (4·scale)⌋ = ⌊(⌊v_i/scale⌋ − a) / 4⌋; >> on a signed value floors.
      const int64_t q = (floor_v[static_cast<size_t>(i)] - a) >> 2;
      const int64_t m_lo = a + 4 * q;  // scale·m_lo: the largest value ≤ v_i of this residue
      const int64_t m_hi = m_lo + 4;   // the smallest value > v_i
      const Cost c_lo = cost_of(i, m_lo), c_hi = cost_of(i, m_hi);
      const bool hi = c_hi < c_lo;
      const auto y_lo = static_cast<int32_t>(scale * m_lo), y_hi = static_cast<int32_t>(scale * m_hi);
      col.best[i] = hi ? c_hi : c_lo;
      col.extra[i] = hi ? c_lo - c_hi : c_hi - c_lo;
      col.y_best[i] = hi ? y_hi : y_lo;
      col.y_other[i] = hi ? y_lo : y_hi;
      col.parity |= static_cast<uint32_t>((q & 1) ^ (hi ? 1 : 0)) << i;
    }
  }

 private:
  static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b < 0 ? 1 : 0); }

  // The key of candidate scale·m: rank 0 for the largest candidate (the smallest v_i − p_i).
  Cost cost_of(int i, int64_t m) const {
    const int64_t e = v[static_cast<size_t>(i)] - scale * m;
    const int64_t rank_of_e = 4 + floor_v[static_cast<size_t>(i)] - m;
    return (static_cast<Cost>(e * e) << 72) + (static_cast<Cost>(rank_of_e) << (3 * (23 - i)));
  }

  const Vec& v;
  int64_t scale;
  std::array<int64_t, kDim> floor_v{};
};

// The trio of octads and the 512 complement-class triples, derived from the Golay code.
//
// A complement class of even 8-bit words is represented by its word with bit 7 clear; these
// 64 words form a 6-dimensional GF(2) space. The classes of each octad are labelled
// 8·x + a (x, a ∈ 0..7) so that the 512 triples are exactly (8x + a, 8x + b, 8x + (a ⊕ b)),
// the Turyn-type structure of the Golay code on a trio. With these labels the decoder's scan
// reads the second octad's classes contiguously and the third's within one block of 8.
struct Trio {
  std::array<std::array<int, 8>, 3> positions;  // coordinates of each octad, increasing
  std::array<uint32_t, 3> octad;
  // Low and high nibble of the representative word of each class label, per octad.
  std::array<std::array<int32_t, 64>, 3> lo_nibble, hi_nibble;
  // A codeword of the coset of triple (8x + a, 8x + b, ...), at index (8x + a)·8 + b.
  std::array<uint32_t, 512> codeword;

  Trio() {
    const auto octads = golay::codewords_of_weight(8);
    octad[0] = octads[0];
    octad[1] = *std::find_if(octads.begin(), octads.end(), [&](uint32_t o) { return (o & octad[0]) == 0; });
    octad[2] = golay::kWordMask & ~(octad[0] | octad[1]);
    if (!golay::is_codeword(octad[2])) throw std::logic_error("leech: octads do not form a trio");
    for (int j = 0; j < 3; ++j) {
      int n = 0;
      for (int i = 0; i < kDim; ++i)
        if (octad[j] >> i & 1) positions[j][n++] = i;
    }
    const std::vector<Triple> triples = class_triples();
    const std::array<Basis6, 3> basis = label_bases(triples);
    std::array<std::array<int, 128>, 3> label_of;
    for (int j = 0; j < 3; ++j) {
      label_of[j].fill(-1);
      for (int label = 0; label < 64; ++label) {
        int w = 0;
        for (int bit = 0; bit < 6; ++bit)
          if (label >> bit & 1) w ^= basis[j][bit];
        if (label_of[j][w] >= 0) throw std::logic_error("leech: class labels are not a basis");
        label_of[j][w] = label;
        lo_nibble[j][label] = w & 15;
        hi_nibble[j][label] = w >> 4;
      }
    }
    std::vector<bool> filled(512, false);
    for (const Triple& t : triples) {
      const int l0 = label_of[0][t.word[0]], l1 = label_of[1][t.word[1]], l2 = label_of[2][t.word[2]];
      if (l0 >> 3 != l1 >> 3 || l0 >> 3 != l2 >> 3 || (l2 & 7) != ((l0 ^ l1) & 7))
        throw std::logic_error("leech: triple does not have the (x+a, x+b, x+a+b) form");
      const int slot = l0 * 8 + (l1 & 7);
      filled[slot] = true;
      codeword[slot] = t.codeword;
    }
    if (std::count(filled.begin(), filled.end(), true) != 512) throw std::logic_error("leech: triples missing");
  }

 private:
  struct Triple {
    std::array<int, 3> word;  // class representatives
    uint32_t codeword;
  };
  // Per octad: bits 0..2 of a label select from entries 0..2 (the "a" part), bits 3..5 from
  // entries 3..5 (the "x" part).
  using Basis6 = std::array<int, 6>;

  static int class_word(int w) { return (w & 0x80) ? w ^ 0xFF : w; }

  int local_word(uint32_t c, int j) const {
    int w = 0;
    for (int l = 0; l < 8; ++l) w |= static_cast<int>(c >> positions[j][l] & 1) << l;
    return w;
  }

  // The 512 distinct class triples of the 4096 codewords.
  std::vector<Triple> class_triples() const {
    std::vector<Triple> triples;
    std::vector<bool> seen(1 << 21, false);
    for (uint32_t c : golay::codewords()) {
      Triple t{{}, c};
      for (int j = 0; j < 3; ++j) t.word[j] = class_word(local_word(c, j));
      const int key = (t.word[0] << 14) | (t.word[1] << 7) | t.word[2];
      if (seen[key]) continue;
      seen[key] = true;
      triples.push_back(t);
    }
    if (triples.size() != 512) throw std::logic_error("leech: expected 512 coset triples");
    return triples;
  }

  // "a" part: triples (α, 0, γ) give α_k and γ_k; the triple (0, β, γ_k) gives β_k.
  // "x" part: any triples whose first word is independent of what was chosen so far.
  static std::array<Basis6, 3> label_bases(const std::vector<Triple>& triples) {
    std::array<Basis6, 3> basis{};
    std::array<bool, 128> span{};
    span[0] = true;
    auto add_to_span = [&](int v) {
      std::array<bool, 128> next = span;
      for (int w = 0; w < 128; ++w)
        if (span[w]) next[w ^ v] = true;
      span = next;
    };
    int k = 0;
    for (const Triple& t : triples)
      if (k < 3 && t.word[1] == 0 && !span[t.word[0]]) {
        basis[0][k] = t.word[0];
        basis[2][k] = t.word[2];
        add_to_span(t.word[0]);
        ++k;
      }
    for (k = 0; k < 3; ++k) {
      const auto it = std::find_if(triples.begin(), triples.end(),
                                   [&](const Triple& t) { return t.word[0] == 0 && t.word[2] == basis[2][k]; });
      if (it == triples.end()) throw std::logic_error("leech: no (0, β, γ) triple");
      basis[1][k] = it->word[1];
    }
    for (const Triple& t : triples)
      if (k < 6 && !span[t.word[0]]) {
        for (int j = 0; j < 3; ++j) basis[j][k] = t.word[j];
        add_to_span(t.word[0]);
        ++k;
      }
    if (k != 6) throw std::logic_error("leech: class space is not 6-dimensional");
    return basis;
  }
};

const Trio& trio() {
  static const Trio t;
  return t;
}

// The 512 coset costs of one half and their minimum.
struct HalfCosts {
  std::array<double, 512> total;
  double minimum;
};

// Calls f(t) for each t < 512 with total[t] ≤ bound, in increasing order.
template <class F>
void for_each_within(const HalfCosts& half, double bound, F&& f) {
  std::array<uint64_t, 8> bits;
  lattice::coset_kernels().within(half.total.data(), bound, bits.data());
  for (int w = 0; w < 8; ++w)
    for (uint64_t b = bits[static_cast<size_t>(w)]; b != 0; b &= b - 1) f(64 * w + std::countr_zero(b));
}

template <class Metric>
class Decoder {
  using Cost = typename Metric::Cost;

 public:
  explicit Decoder(const Metric& m) {
    for (int a = 0; a < 4; ++a) m.fill(a, coord_[a]);
  }

  // The cost of the best point of each of the 512 cosets of half h (coset_kernels.hpp: the
  // double costs on the search's ISA level, every level giving the same bits).
  HalfCosts coset_costs(int h) const {
    static_assert(std::is_same_v<Cost, double>, "the coset costs are double (the exact decoder only rebuilds)");
    const Trio& tr = trio();
    HalfCosts out;
    lattice::CosetCostJob<Cost> job;
    job.h = h;
    job.off = {coord_[h].best.data(), coord_[h].extra.data(), coord_[h].parity};
    job.on = {coord_[h + 2].best.data(), coord_[h + 2].extra.data(), coord_[h + 2].parity};
    job.positions = tr.positions[0].data();
    job.lo_label = tr.lo_nibble[0].data();
    job.hi_label = tr.hi_nibble[0].data();
    job.total = out.total.data();
    out.minimum = lattice::coset_kernels().costs(job);
    return out;
  }

  Vec decode() const {
    int best_half = 0, best_triple = 0;
    Cost best{};
    for (int h = 0; h < 2; ++h) {
      const HalfCosts half = coset_costs(h);
      if (h == 0 || half.minimum < best) {
        best = half.minimum, best_half = h, best_triple = -1;
        for_each_within(half, half.minimum, [&](int t) {  // the first coset at the minimum
          if (best_triple < 0) best_triple = t;
        });
      }
    }
    Vec p;
    rebuild(best_half, trio().codeword[best_triple], p);
    return p;
  }

  // The best point of the coset of `codeword` in half h (its 8 codewords: complements on
  // the trio's octads, each with its closed-form nearest point) and its cost. *unique (when
  // given) tells whether every other point of the coset costs more than the best + margin
  // (see place_point).
  Cost rebuild(int h, uint32_t codeword, Vec& best_point, bool* unique = nullptr, Cost margin = Cost{}) const {
    const auto& oct = trio().octad;
    const ResidueColumns<Cost>& on = coord_[h + 2];
    const ResidueColumns<Cost>& off = coord_[h];
    std::array<uint32_t, 8> word;
    for (uint32_t m = 0; m < 8; ++m)
      word[m] = codeword ^ (m & 1 ? oct[0] : 0) ^ (m & 2 ? oct[1] : 0) ^ (m & 4 ? oct[2] : 0);
    // The 8 codewords' costs side by side, each summed over the coordinates in order, with the
    // least extra cost of a move; only the best codeword's point is built.
    std::array<Cost, 8> total{}, least{};
    for (int i = 0; i < kDim; ++i)
      for (size_t m = 0; m < 8; ++m) {
        const bool bit = (word[m] >> i & 1) != 0;
        const Cost extra = bit ? on.extra[i] : off.extra[i];
        total[m] += bit ? on.best[i] : off.best[i];
        least[m] = i == 0 ? extra : std::min(least[m], extra);
      }
    size_t best = 0;
    std::array<bool, 8> move;
    for (size_t m = 0; m < 8; ++m) {
      const uint32_t odd = (word[m] & coord_[h + 2].parity) | (~word[m] & coord_[h].parity);
      move[m] = std::popcount(odd & 0xFFFFFFu) % 2 != h;
      if (move[m]) total[m] += least[m];
      if (total[m] < total[best]) best = m;
    }
    bool tied = false;
    for (size_t m = 0; m < 8; ++m) tied |= m != best && total[m] - total[best] <= margin;
    bool point_unique = true;
    place_point(h, word[best], move[best], best_point, &point_unique, margin);
    if (unique) *unique = point_unique && !tied;
    return total[best];
  }

  // Closed-form nearest point of h + 2c + 4·(D24 + h·e1): each coordinate rounded to its
  // residue and, when Σk has the wrong parity (`move`, found by rebuild), the coordinate whose
  // move costs least (the first such) moved. *unique is false when another coordinate's move
  // costs at most that least cost + margin (two points of the coset at the same cost, or too
  // close to tell in double; the caller's exact metric must then decide).
  void place_point(int h, uint32_t c, bool move, Vec& p, bool* unique, Cost margin) const {
    const auto extra = [&](int i) { return coord_[h + 2 * static_cast<int>(c >> i & 1)].extra[i]; };
    int cheapest = 0;
    for (int i = 0; i < kDim; ++i) {
      p[i] = coord_[h + 2 * static_cast<int>(c >> i & 1)].y_best[i];
      if (extra(i) < extra(cheapest)) cheapest = i;
    }
    *unique = true;
    if (!move) return;
    p[cheapest] = coord_[h + 2 * static_cast<int>(c >> cheapest & 1)].y_other[cheapest];
    for (int i = 0; i < kDim; ++i)
      if (i != cheapest && extra(i) - extra(cheapest) <= margin) *unique = false;
  }

  std::array<ResidueColumns<Cost>, 4> coord_;  // per residue a ∈ {0..3}
};

constexpr double kMaxAbsCoordinate = 268435456.0;  // 2^28

}  // namespace

Vec nearest_point(const double* x) {
  for (int i = 0; i < kDim; ++i)
    if (!std::isfinite(x[i]) || std::fabs(x[i]) >= kMaxAbsCoordinate)
      throw InputError("leech::nearest_point: coordinate " + std::to_string(i) +
                       " is not finite or too large (|x| must be < 2^28)");
  return Decoder<DoubleMetric>(DoubleMetric{x}).decode();
}

Vec nearest_point(const float* x) {
  std::array<double, kDim> d;
  std::copy(x, x + kDim, d.begin());
  return nearest_point(d.data());
}

namespace {

// The cosets (h << 9 | t) whose double cost is at most `bound`, in order.
int cosets_within(const std::array<HalfCosts, 2>& costs, double bound, std::array<int, 1024>& out) {
  int count = 0;
  for (int h = 0; h < 2; ++h)
    for_each_within(costs[static_cast<size_t>(h)], bound, [&](int t) { out[static_cast<size_t>(count++)] = h << 9 | t; });
  return count;
}

// The exact decoder's answer from the double decoder's costs, without exact costs.
// A power-of-two scale: v / scale is a dyadic rational with few bits, every double cost is the
// exact squared distance, and the cosets at the minimum (`cosets`) hold every closest point.
// Each is rebuilt by the double decoder, which rounds each coordinate as the exact one does (a
// value halfway between two candidates goes up: DoubleMetric's floor(· + ½), ExactMetric's
// smaller v_i − p_i; away from halfway, v_i / scale is at least 1/scale from it, far beyond the
// rounding of the quotient); the exact order among points at one distance is v − p
// lexicographically, so the point with the larger coordinate at the first difference wins.
// Another scale (margin = the slack, at least twice the double costs' error): the squared
// distances |v/scale − p|² are multiples of 1/scale², so while the margin is below half of that
// the cosets within it of the minimum are exactly tied at the minimum, and a point of a coset
// closer than the coset's others by more than the margin is the coset's unique closest point:
// the same choice as for a power of two.
// False when a coset holds two closest points (two codewords of it, or two coordinates for the
// parity move, at the same cost or within the margin), or for inputs so large that the margin
// reaches 1 / (2·scale²): the exact costs then decide.
bool fast_point(const Decoder<DoubleMetric>& fast, const std::array<int, 1024>& cosets, int count, int scale,
                double margin, Vec& point) {
  if (2.0 * margin * scale * scale >= 1.0) return false;
  for (int k = 0; k < count; ++k) {
    const int h = cosets[static_cast<size_t>(k)] >> 9, t = cosets[static_cast<size_t>(k)] & 511;
    Vec p;
    bool unique = false;
    fast.rebuild(h, trio().codeword[t], p, &unique, margin);
    if (!unique) return false;
    if (k == 0 || std::lexicographical_compare(point.begin(), point.end(), p.begin(), p.end())) point = p;
  }
  for (int32_t& e : point) e *= scale;
  return true;
}

}  // namespace

Vec nearest_point_scaled(const Vec& v, int scale) {
  if (scale < 1 || scale > 16) throw InputError("leech::nearest_point_scaled: scale must be in 1..16");
  for (int i = 0; i < kDim; ++i)
    if (std::abs(static_cast<int64_t>(v[i])) >= static_cast<int64_t>(kMaxAbsCoordinate))
      throw InputError("leech::nearest_point_scaled: |v_i| must be < 2^28");
  // The double decoder on v / scale finds the cosets whose cost is within rounding of the
  // minimum. For a power-of-two scale the costs are exact (slack 0) and, unless a coset holds
  // two closest points, the double decoder's rebuilds settle the answer (fast_point); for
  // other scales they do when each coset's closest point is unique by more than the slack (and
  // the slack is below 1 / (2·scale²)). Otherwise
  // those cosets are rebuilt with the exact tie-breaking costs; for other scales rounding may
  // split an exact tie, so every coset within `slack` of the minimum is rebuilt (an extra
  // candidate costs time, never correctness: the exact cost decides).
  std::array<double, kDim> x;
  double x2 = 0;
  for (int i = 0; i < kDim; ++i) x[i] = static_cast<double>(v[i]) / scale, x2 += x[i] * x[i];
  const Decoder<DoubleMetric> fast(DoubleMetric{x.data()});
  const std::array<HalfCosts, 2> costs = {fast.coset_costs(0), fast.coset_costs(1)};
  const double minimum = std::min(costs[0].minimum, costs[1].minimum);
  const bool dyadic = (scale & (scale - 1)) == 0;
  const double slack = dyadic ? 0.0 : 1e-9 * (1.0 + x2);
  std::array<int, 1024> cosets;
  const int count = cosets_within(costs, minimum + slack, cosets);
  Vec best_point{};
  if (fast_point(fast, cosets, count, scale, slack, best_point)) return best_point;
  const Decoder<ExactMetric> exact(ExactMetric{v, scale});
  __int128 best = 0;
  for (int k = 0; k < count; ++k) {
    const int h = cosets[static_cast<size_t>(k)] >> 9, t = cosets[static_cast<size_t>(k)] & 511;
    Vec p;
    const __int128 c = exact.rebuild(h, trio().codeword[t], p);
    if (k == 0 || c < best) best = c, best_point = p;
  }
  return best_point;
}

// ===========================================================================================
// Generator matrix: Hermite normal form of a spanning set of J.
// ===========================================================================================
namespace {

using Row = std::array<int64_t, kDim>;

// J = E ∪ (v0 + E) with E = ⟨2c (c ∈ C24), 4(e_i ± e_j)⟩ the even part and
// v0 = (−3, 1²³) an odd point.
std::vector<Row> spanning_set() {
  std::vector<Row> rows;
  for (int m = 0; m < golay::kDimension; ++m) {
    const uint32_t c = golay::encode(1u << m);
    Row r{};
    for (int i = 0; i < kDim; ++i) r[i] = 2 * static_cast<int64_t>(c >> i & 1);
    rows.push_back(r);
  }
  for (int i = 0; i < kDim; ++i)
    for (int j = i + 1; j < kDim; ++j)
      for (int sign : {1, -1}) {
        Row r{};
        r[i] = 4;
        r[j] = 4 * sign;
        rows.push_back(r);
      }
  Row odd;
  odd.fill(1);
  odd[0] = -3;
  rows.push_back(odd);
  return rows;
}

// Row-style Hermite normal form: Euclid on each column among the rows not yet used, then
// reduction of the entries above each pivot into [0, pivot).
Basis hermite_normal_form(std::vector<Row> rows) {
  Basis b{};
  size_t used = 0;
  for (int col = 0; col < kDim; ++col) {
    for (;;) {
      size_t pivot = rows.size();
      for (size_t r = used; r < rows.size(); ++r)
        if (rows[r][col] != 0 && (pivot == rows.size() || std::abs(rows[r][col]) < std::abs(rows[pivot][col])))
          pivot = r;
      if (pivot == rows.size()) throw std::logic_error("leech: spanning set is not of full rank");
      std::swap(rows[used], rows[pivot]);
      bool reduced = true;
      for (size_t r = used + 1; r < rows.size(); ++r) {
        if (rows[r][col] == 0) continue;
        const int64_t q = rows[r][col] / rows[used][col];
        for (int k = col; k < kDim; ++k) rows[r][k] -= q * rows[used][k];
        if (rows[r][col] != 0) reduced = false;
      }
      if (reduced) break;
    }
    if (rows[used][col] < 0)
      for (int64_t& e : rows[used]) e = -e;
    ++used;
  }
  for (int k = 0; k < kDim; ++k)
    for (int r = 0; r < k; ++r) {
      int64_t q = rows[r][k] / rows[k][k];
      if (rows[r][k] - q * rows[k][k] < 0) --q;  // floor
      for (int c = k; c < kDim; ++c) rows[r][c] -= q * rows[k][c];
    }
  for (int k = 0; k < kDim; ++k)
    for (int c = 0; c < kDim; ++c) b[k][c] = static_cast<int32_t>(rows[k][c]);
  return b;
}

}  // namespace

const Basis& basis() {
  static const Basis b = hermite_normal_form(spanning_set());
  return b;
}

bool basis_coordinates(const Vec& x, Coords& z) {
  const Basis& b = basis();
  Row rest;
  for (int i = 0; i < kDim; ++i) rest[i] = x[i];
  for (int k = 0; k < kDim; ++k) {
    if (rest[k] % b[k][k] != 0) return false;
    z[k] = rest[k] / b[k][k];
    for (int c = k; c < kDim; ++c) rest[c] -= z[k] * b[k][c];
  }
  return true;
}

Vec from_basis_coordinates(const Coords& z) {
  const Basis& b = basis();
  Vec x{};
  for (int c = 0; c < kDim; ++c) {
    __int128 s = 0;
    for (int k = 0; k <= c; ++k) s += static_cast<__int128>(z[k]) * b[k][c];
    if (s > INT32_MAX || s < INT32_MIN) throw InputError("leech::from_basis_coordinates: point out of int32 range");
    x[c] = static_cast<int32_t>(s);
  }
  return x;
}

}  // namespace llvq::leech

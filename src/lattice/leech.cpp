#include "llvq/leech.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <vector>

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
// ===========================================================================================
namespace {

// Order-compatible additive costs: a ≤ b implies a + c ≤ b + c, which is all the
// decomposition above needs.
template <class Cost>
struct Soft {
  Cost best;
  Cost extra;  // cost of the other parity minus best (≥ 0)
  int parity;
};

template <class Cost>
Soft<Cost> join(const Soft<Cost>& a, const Soft<Cost>& b) {
  return {a.best + b.best, std::min(a.extra, b.extra), a.parity ^ b.parity};
}

// Cost of achieving parity `parity` with a soft triple.
template <class Cost>
Cost cost_at(const Soft<Cost>& s, int parity) {
  return s.parity == parity ? s.best : s.best + s.extra;
}

// The soft triple of "either a or b" (two alternative assignments of the same coordinates).
template <class Cost>
Soft<Cost> either(const Soft<Cost>& a, const Soft<Cost>& b) {
  const Cost c0 = std::min(cost_at(a, 0), cost_at(b, 0));
  const Cost c1 = std::min(cost_at(a, 1), cost_at(b, 1));
  if (c1 < c0) return {c1, c0 - c1, 1};
  return {c0, c1 - c0, 0};
}

// Exact cost for integer inputs: squared distance, then the difference vector e = v − p in
// lexicographic order, packed as three base-B numbers of eight digits (digits |e_i| ≤ B/2).
struct ExactCost {
  int64_t norm = 0;
  std::array<int64_t, 3> lex{};

  friend ExactCost operator+(const ExactCost& a, const ExactCost& b) {
    return {a.norm + b.norm, {a.lex[0] + b.lex[0], a.lex[1] + b.lex[1], a.lex[2] + b.lex[2]}};
  }
  friend ExactCost operator-(const ExactCost& a, const ExactCost& b) {
    return {a.norm - b.norm, {a.lex[0] - b.lex[0], a.lex[1] - b.lex[1], a.lex[2] - b.lex[2]}};
  }
  friend auto operator<=>(const ExactCost&, const ExactCost&) = default;
};

// One coordinate with one residue: the nearest admissible value and the nearest value of
// the other parity of k.
struct CoordOption {
  int64_t y_best;
  int64_t y_other;
};

template <class Cost>
struct CoordTable {
  std::array<std::array<Soft<Cost>, kDim>, 4> soft;        // [residue][coordinate]
  std::array<std::array<CoordOption, kDim>, 4> option;
};

// Double input, lattice J.
struct DoubleMetric {
  using Cost = double;
  const double* x;

  void fill(int i, int a, Soft<double>& s, CoordOption& o) const {
    const double k = std::floor((x[i] - a) / 4.0 + 0.5);
    const double y = a + 4.0 * k;
    const double e = x[i] - y;  // in [-2, 2)
    const double ae = std::fabs(e);
    s.best = e * e;
    s.extra = (4.0 - ae) * (4.0 - ae) - e * e;
    s.parity = static_cast<int>(static_cast<int64_t>(k) & 1);
    o.y_best = static_cast<int64_t>(y);
    o.y_other = e >= 0 ? o.y_best + 4 : o.y_best - 4;
  }
};

// Integer input, lattice scale·J, exact costs with the lexicographic tie-break.
struct ExactMetric {
  using Cost = ExactCost;
  const Vec& v;
  int64_t scale;
  std::array<int64_t, 8> digit_weight;  // B^(7 - i % 8)

  ExactMetric(const Vec& v_, int scale_) : v(v_), scale(scale_) {
    const int64_t base = 8 * scale + 1;  // digits e ∈ [-4·scale, 4·scale]
    int64_t w = 1;
    for (int d = 7; d >= 0; --d, w *= base) digit_weight[d] = w;
  }

  ExactCost cost_of(int i, int64_t e) const {
    ExactCost c;
    c.norm = e * e;
    c.lex[i / 8] = e * digit_weight[i % 8];
    return c;
  }

  void fill(int i, int a, Soft<ExactCost>& s, CoordOption& o) const {
    const int64_t period = 4 * scale;
    const int64_t z = v[i] - scale * a;
    int64_t q = z / period;
    if (z % period < 0) --q;  // floor division
    const int64_t y_lo = scale * a + period * q;
    const int64_t y_hi = y_lo + period;
    const ExactCost c_lo = cost_of(i, v[i] - y_lo);
    const ExactCost c_hi = cost_of(i, v[i] - y_hi);
    const int parity_lo = static_cast<int>(q & 1);
    if (c_hi < c_lo) {
      s = {c_hi, c_lo - c_hi, parity_lo ^ 1};
      o = {y_hi, y_lo};
    } else {
      s = {c_lo, c_hi - c_lo, parity_lo};
      o = {y_lo, y_hi};
    }
  }
};

// The trio of octads and the 512 complement-class triples, derived from the Golay code.
struct Trio {
  std::array<std::array<int, 8>, 3> positions;  // coordinates of each octad, increasing
  std::array<uint32_t, 3> octad;
  // Complement classes of even 8-bit words: the 64 representatives with bit 7 clear.
  std::array<uint8_t, 64> class_word;
  struct Triple {
    uint8_t cls[3];
  };
  std::vector<Triple> triples;      // 512
  std::vector<uint32_t> codeword;   // a codeword of each triple's coset

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
    std::array<int, 256> class_of{};
    int n = 0;
    for (int w = 0; w < 128; ++w)
      if (std::popcount(static_cast<unsigned>(w)) % 2 == 0) {
        class_word[n] = static_cast<uint8_t>(w);
        class_of[w] = class_of[w ^ 0xFF] = n++;
      }
    std::vector<bool> seen(64 * 64 * 64, false);
    for (uint32_t c : golay::codewords()) {
      Triple t;
      for (int j = 0; j < 3; ++j) t.cls[j] = static_cast<uint8_t>(class_of[local_word(c, j)]);
      const int key = (t.cls[0] * 64 + t.cls[1]) * 64 + t.cls[2];
      if (seen[key]) continue;
      seen[key] = true;
      triples.push_back(t);
      codeword.push_back(c);
    }
    if (triples.size() != 512) throw std::logic_error("leech: expected 512 coset triples");
  }

  int local_word(uint32_t c, int j) const {
    int w = 0;
    for (int l = 0; l < 8; ++l) w |= static_cast<int>(c >> positions[j][l] & 1) << l;
    return w;
  }
};

const Trio& trio() {
  static const Trio t;
  return t;
}

template <class Metric>
class Decoder {
  using Cost = typename Metric::Cost;

 public:
  explicit Decoder(const Metric& m) : metric_(m) {
    for (int a = 0; a < 4; ++a)
      for (int i = 0; i < kDim; ++i) metric_.fill(i, a, table_.soft[a][i], table_.option[a][i]);
  }

  Vec decode() {
    const Trio& tr = trio();
    int best_half = 0;
    size_t best_triple = 0;
    Cost best{};
    bool have = false;
    for (int h = 0; h < 2; ++h) {
      std::array<std::array<Soft<Cost>, 64>, 3> classes;
      for (int j = 0; j < 3; ++j) class_table(h, j, classes[j]);
      for (size_t t = 0; t < tr.triples.size(); ++t) {
        const auto& cls = tr.triples[t].cls;
        const Soft<Cost> s = join(join(classes[0][cls[0]], classes[1][cls[1]]), classes[2][cls[2]]);
        const Cost c = cost_at(s, h);
        if (!have || c < best) {
          have = true;
          best = c;
          best_half = h;
          best_triple = t;
        }
      }
    }
    return rebuild(best_half, tr.codeword[best_triple]);
  }

 private:
  // Soft triples of the 64 complement classes of octad j for half h.
  void class_table(int h, int j, std::array<Soft<Cost>, 64>& out) const {
    const auto& pos = trio().positions[j];
    std::array<Soft<Cost>, 16> lo, hi;
    nibble_table(h, pos.data(), lo);
    nibble_table(h, pos.data() + 4, hi);
    const auto& words = trio().class_word;
    for (int k = 0; k < 64; ++k) {
      const int w = words[k];
      const int wc = w ^ 0xFF;
      out[k] = either(join(lo[w & 15], hi[w >> 4]), join(lo[wc & 15], hi[wc >> 4]));
    }
  }

  // Soft triples of the 16 bit patterns of four coordinates (bit 1 = codeword position).
  void nibble_table(int h, const int* pos, std::array<Soft<Cost>, 16>& out) const {
    out[0] = table_.soft[h][pos[0]];
    out[1] = table_.soft[h + 2][pos[0]];
    for (int l = 1, size = 2; l < 4; ++l, size *= 2)
      for (int m = size - 1; m >= 0; --m) {
        out[m + size] = join(out[m], table_.soft[h + 2][pos[l]]);
        out[m] = join(out[m], table_.soft[h][pos[l]]);
      }
  }

  // The best point of the winning coset: its 8 codewords (complements on the trio's
  // octads) with the closed-form nearest point of each.
  Vec rebuild(int h, uint32_t codeword) const {
    const auto& oct = trio().octad;
    Vec best_point{};
    Cost best{};
    for (int m = 0; m < 8; ++m) {
      uint32_t c = codeword;
      for (int j = 0; j < 3; ++j)
        if (m >> j & 1) c ^= oct[j];
      Vec p;
      const Cost cost = coset_point(h, c, p);
      if (m == 0 || cost < best) {
        best = cost;
        best_point = p;
      }
    }
    return best_point;
  }

  // Closed-form nearest point of h + 2c + 4·(D24 + h·e1): round each coordinate to its
  // residue, and when Σk has the wrong parity move the coordinate whose move costs least.
  Cost coset_point(int h, uint32_t c, Vec& p) const {
    Cost total{};
    int parity = 0;
    int cheapest = -1;
    for (int i = 0; i < kDim; ++i) {
      const int a = h + 2 * static_cast<int>(c >> i & 1);
      const Soft<Cost>& s = table_.soft[a][i];
      total = total + s.best;
      parity ^= s.parity;
      if (cheapest < 0 || s.extra < table_.soft[h + 2 * static_cast<int>(c >> cheapest & 1)][cheapest].extra)
        cheapest = i;
      p[i] = static_cast<int32_t>(table_.option[a][i].y_best);
    }
    if (parity != h) {
      const int a = h + 2 * static_cast<int>(c >> cheapest & 1);
      total = total + table_.soft[a][cheapest].extra;
      p[cheapest] = static_cast<int32_t>(table_.option[a][cheapest].y_other);
    }
    return total;
  }

  Metric metric_;
  CoordTable<Cost> table_;
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

Vec nearest_point_scaled(const Vec& v, int scale) {
  if (scale < 1 || scale > 16) throw InputError("leech::nearest_point_scaled: scale must be in 1..16");
  for (int i = 0; i < kDim; ++i)
    if (std::abs(static_cast<int64_t>(v[i])) >= static_cast<int64_t>(kMaxAbsCoordinate))
      throw InputError("leech::nearest_point_scaled: |v_i| must be < 2^28");
  return Decoder<ExactMetric>(ExactMetric(v, scale)).decode();
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

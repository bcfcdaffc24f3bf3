// Tables of the octet word (octet_word.hpp) and the exact point ↔ word conversions.
#include "kernels/octet_tables.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>

#include "llvq/bitstream.hpp"
#include "llvq/error.hpp"
#include "llvq/golay.hpp"
#include "llvq/leech_ball.hpp"
#include "llvq/parallel.hpp"

namespace llvq::kernels::octet {
namespace {


constexpr uint32_t kAllSlots = 0xFFFFFF;
// Values of one residue mod 4 whose square fits an octet norm ≤ 16·16: −16, −12, …, 16.
constexpr int kValuesPerSlot = 9;

// Residue mod 4 of canonical slot i of a pattern type: odd → 1 everywhere; even type
// 1 + w/2 → 2 on the first w slots, 0 on the rest.
int residue(int type, int i) {
  if (type == 0) return 1;
  return i < 2 * (type - 1) ? 2 : 0;
}

bool has_residue(int v, int r) { return ((v % 4) + 4) % 4 == r; }

// The smallest value ≥ −⌊√budget⌋ of residue r mod 4 (values below it square past the budget).
int lowest_value(int budget, int r) {
  int top = static_cast<int>(std::sqrt(static_cast<double>(budget)));
  while ((top + 1) * (top + 1) <= budget) ++top;
  while (top * top > budget) --top;
  int v = -top;
  while (!has_residue(v, r)) ++v;
  return v;
}

struct Pattern {
  uint16_t norm;
  int8_t p[8];
};

bool pattern_less(const Pattern& a, const Pattern& b) {
  if (a.norm != b.norm) return a.norm < b.norm;
  return std::lexicographical_compare(a.p, a.p + 8, b.p, b.p + 8);
}

// Every 8-vector of the type with norm ≤ max_norm.
void enumerate(int type, int slot, int budget, Pattern& cur, std::vector<Pattern>& out) {
  if (slot == 8) {
    out.push_back(cur);
    return;
  }
  for (int v = lowest_value(budget, residue(type, slot)); v * v <= budget; v += 4) {
    cur.p[slot] = static_cast<int8_t>(v);
    cur.norm = static_cast<uint16_t>(cur.norm + v * v);
    enumerate(type, slot + 1, budget - v * v, cur, out);
    cur.norm = static_cast<uint16_t>(cur.norm - v * v);
  }
}

int popcount(uint32_t x) { return __builtin_popcount(x); }

std::string cache_key(const LeechLayout& p) {
  std::ostringstream key;
  key << p.family << ' ' << p.max_shell << ' ' << p.gain_bits << ' ' << static_cast<int>(p.kind) << ' '
      << std::hexfloat << p.lattice_scale;
  for (double g : p.gain_levels) key << ' ' << g;
  return key.str();
}

// A pattern coordinate as Arena::patterns stores it: bit 7 carries a bit of the octet's norm/8
// in the tables of a shape–gain code and is the sign bit in a ball code's.
int8_t stored_byte(int8_t value, Kind kind, int norm_bit) {
  if (value < -64 || value > 63) throw std::logic_error("octet tables: a pattern entry outside 7 bits");
  if (kind == Kind::Ball) return value;
  return static_cast<int8_t>((static_cast<uint8_t>(value) & 0x7F) | norm_bit << 7);
}

}  // namespace

const OctetTables& OctetTables::get(const LeechLayout& params) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<OctetTables>> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[cache_key(params)];
  if (!slot) slot = std::make_unique<OctetTables>(params);
  return *slot;
}

OctetTables::OctetTables(const LeechLayout& params)
    : kind_(params.kind == LeechLayout::Kind::Ball ? Kind::Ball : Kind::ShapeGain), arena_(std::make_unique<Arena>()) {
  if (params.gain_bits < 0 || (1 << params.gain_bits) > kMaxGains)
    throw InputError("Leech kernels: unsupported gain bits " + std::to_string(params.gain_bits));
  if (params.max_shell < 0 || params.max_shell >= kMaxShells)
    throw InputError("Leech kernels: unsupported ball Λ24(" + std::to_string(params.max_shell) + ")");
  const int gains = 1 << params.gain_bits;
  if (kind_ == Kind::ShapeGain && params.gain_levels.size() != static_cast<size_t>(gains))
    throw std::logic_error("Leech kernels: gain levels do not match the gain bits");
  lattice_scale_ = params.lattice_scale;
  for (int m = 0; m < kMaxShells; ++m) {
    sqrt_norm_[static_cast<size_t>(m)] = m == 0 ? 1.0 : std::sqrt(16.0 * m);
    for (int g = 0; g < gains; ++g)
      arena_->gemv_factor[m << params.gain_bits | g] =
          kind_ == Kind::Ball ? static_cast<float>(1.0 / params.lattice_scale)
                              : static_cast<float>(params.gain_levels[static_cast<size_t>(g)] / sqrt_norm_[static_cast<size_t>(m)]);
  }
  for (int g = 0; g < gains && kind_ == Kind::ShapeGain; ++g)
    gain_level_[static_cast<size_t>(g)] = params.gain_levels[static_cast<size_t>(g)];
  gain_bits_ = params.gain_bits;
  build_trio();
  build_patterns(16 * params.max_shell);
  build_glue();
  build_layouts(params);
}

// A trio of disjoint octads: the octad through positions 0..4, the first octad (numeric
// order) disjoint from it, and the complement of both. Trio slot 8k + i is the i-th position
// of octad k; natural_ctl_ holds the two byte shuffles that bring a 32-byte register of trio
// order back to natural order (one within each 128-bit lane, one across the lanes, 0x80 =
// zero) for the SIMD decode.
void OctetTables::build_trio() {
  const uint32_t first = golay::octad_through(0x1F);
  uint32_t second = 0;
  for (uint32_t w : golay::codewords_of_weight(8))
    if ((w & first) == 0) {
      second = w;
      break;
    }
  const uint32_t third = ~(first | second) & kAllSlots;
  if (!second || !golay::is_codeword(third)) throw std::logic_error("octet tables: no trio of octads");
  const uint32_t octads[3] = {first, second, third};
  std::array<uint8_t, kDim> slot_of{};
  for (int k = 0, s = 0; k < 3; ++k)
    for (int i = 0; i < kDim; ++i)
      if (octads[k] >> i & 1) {
        trio_[static_cast<size_t>(s)] = static_cast<uint8_t>(i);
        slot_of[static_cast<size_t>(i)] = static_cast<uint8_t>(s++);
      }
  natural_ctl_.fill(0x80);
  for (int i = 0; i < kDim; ++i) {
    const int s = slot_of[static_cast<size_t>(i)];
    const bool same_lane = (s / 16) == (i / 16);
    natural_ctl_[static_cast<size_t>((same_lane ? 0 : 32) + i)] = static_cast<uint8_t>(s % 16);
  }
}

// Each type's table: its 8-vectors of norm ≤ max_norm, sorted by (norm, lexicographic),
// truncated to 2^kEntryBits − 1 entries; and the counts that rank a pattern without the table.
void OctetTables::build_patterns(int max_norm) {
  build_counts(max_norm);
  const size_t slots = size_t{1} << kEntryBits;
  for (int type = 0; type < kTypes; ++type) {
    std::vector<Pattern> all;
    Pattern cur{};
    enumerate(type, 0, max_norm, cur, all);
    std::sort(all.begin(), all.end(), pattern_less);
    const size_t n = std::min(all.size(), slots - 1);
    entries_[static_cast<size_t>(type)] = static_cast<int64_t>(n);
    for (size_t j = 0; j < n; ++j) {
      const size_t e = static_cast<size_t>(type) * slots + j;
      // Octet norms are multiples of 8 (odd squares are 1 mod 8; an even octet holds an even
      // number of entries ≡ 2 mod 4), and ≤ 16·16: a byte holds norm/8.
      if (all[j].norm % 8 != 0 || all[j].norm / 8 > 255) throw std::logic_error("octet tables: unexpected octet norm");
      const auto norm8 = static_cast<uint8_t>(all[j].norm / 8);
      arena_->norm8[e] = norm8;
      for (int i = 0; i < 8; ++i) arena_->patterns[e][i] = stored_byte(all[j].p[i], kind_, norm8 >> i & 1);
    }
  }
}

void OctetTables::build_counts(int max_norm) {
  max_norm_ = max_norm;
  const auto norms = static_cast<size_t>(max_norm) + 1;
  lowest_.resize(4 * norms);
  for (int r = 0; r < 4; ++r)
    for (size_t n = 0; n < norms; ++n)
      lowest_[lowest_at(r, n)] = static_cast<int8_t>(lowest_value(static_cast<int>(n), r));
  below_.assign(static_cast<size_t>(kTypes) * (norms + 1), 0);
  smaller_.assign(static_cast<size_t>(kTypes) * 8 * norms * kValuesPerSlot, 0);
  // fill[i][n]: fillings of slots i..7 with norm n (slot 8: the empty filling).
  std::vector<std::vector<int64_t>> fill(9, std::vector<int64_t>(norms, 0));
  for (int type = 0; type < kTypes; ++type) {
    for (auto& f : fill) std::fill(f.begin(), f.end(), 0);
    fill[8][0] = 1;
    for (int slot = 7; slot >= 0; --slot) {
      std::vector<int64_t>& here = fill[static_cast<size_t>(slot)];
      const std::vector<int64_t>& next = fill[static_cast<size_t>(slot) + 1];
      for (size_t n = 0; n < norms; ++n) {
        uint32_t* prefix = smaller_.data() + smaller_at(type, slot, n);
        int k = 0;
        for (int v = lowest_[lowest_at(residue(type, slot), n)]; static_cast<size_t>(v * v) <= n; v += 4, ++k) {
          here[n] += next[n - static_cast<size_t>(v * v)];
          if (k + 1 < kValuesPerSlot) prefix[k + 1] = static_cast<uint32_t>(here[n]);
        }
        if (here[n] > UINT32_MAX) throw std::logic_error("octet tables: pattern count overflow");
      }
    }
    int64_t* below = below_.data() + static_cast<size_t>(type) * (norms + 1);
    for (size_t n = 0; n < norms; ++n) below[n + 1] = below[n] + fill[0][n];
  }
}

size_t OctetTables::lowest_at(int r, size_t norm) const {
  return static_cast<size_t>(r) * (static_cast<size_t>(max_norm_) + 1) + norm;
}

size_t OctetTables::smaller_at(int type, int slot, size_t rest) const {
  const size_t row = static_cast<size_t>(type) * 8 + static_cast<size_t>(slot);
  return (row * (static_cast<size_t>(max_norm_) + 1) + rest) * kValuesPerSlot;
}

// Glue of every (t, message) and the in-octet permutations: for an even point, octet k's
// canonical pattern lists c_k's slots first (ascending), then the others; perms_[c_k]
// sends each slot to its canonical entry.
void OctetTables::build_glue() {
  for (uint32_t id = 0; id < 256; ++id) {
    int pos = 0;
    for (int on = 1; on >= 0; --on)
      for (int i = 0; i < 8; ++i)
        if (static_cast<int>(id >> i & 1) == on) perms_[8 * id + static_cast<uint32_t>(i)] = static_cast<uint8_t>(pos++);
  }
  glue_.assign(size_t{1} << kGlueBits, 0);
  for (uint32_t msg = 0; msg < 4096; ++msg) {
    const uint32_t c = golay::encode(msg);
    for (uint32_t t = 0; t < 2; ++t) {
      uint64_t& g = glue_[t | msg << 1];
      for (int k = 0; k < 3; ++k) {
        const uint32_t ck = octet_bits(c, k);
        if (popcount(ck) % 2) throw std::logic_error("octet tables: a codeword meets an octad oddly");
        const uint64_t type = t ? 0 : 1 + static_cast<uint64_t>(popcount(ck)) / 2;
        g |= uint64_t{t ? ck : 0} << (kSignShift + 8 * k);
        g |= uint64_t{t ? 0 : ck} << (kPermShift + 8 * k);
        g |= type << (kTypeShift + 3 * k);
        // The one-block GEMV's copy: octet k's entry base, its permutation (t = 0) or its signs
        // (t = 1: slot i takes −p_i where c_k has a one).
        GlueLanes& lanes = arena_->glue_lanes[t | msg << 1];
        (k < 2 ? lanes.base01[k] : lanes.base2) = static_cast<uint32_t>(type << kEntryBits);
        for (uint32_t i = 0; i < 8; ++i) {
          lanes.shuffle[8 * k + i] = static_cast<int8_t>(t ? i : perms_[8 * ck + i]);
          lanes.sign[8 * k + i] = static_cast<int8_t>(t && (ck >> i & 1) ? -1 : 1);
        }
      }
    }
  }
}

// Field layouts (octet_word.hpp): seven width triples (a, b, c) that share the bits left after
// the gain, glue and layout fields, chosen greedily to cover a sample of the ball's points:
// 4,096 uniform over the ball (mostly its top shell) and 4,096 spread evenly over its shells
// (a shape–gain search takes directions from every shell). An octet needs bit_width(j) bits,
// j its table position. Once the sample is covered, the remaining layouts cover it with one
// spare bit per field, then two, …, so that data unlike the sample still finds room. With 56-bit
// words no Gaussian block of llvq-sg or llvq-ss (10^5 measured) needs an escape. Deterministic.
void OctetTables::build_layouts(const LeechLayout& params) {
  const LeechBall& ball = LeechBall::get(params.max_shell);
  word_bytes_ = params.gain_bits + ball.bits() <= 48 ? 7 : 8;
  const int bits = 8 * word_bytes_ - gain_bits_ - kGlueBits - kLayoutBits;
  const int first_shell = std::max(params.min_shell, LeechBall::kMinShell);
  const uint64_t lo = ball.shell_offset(first_shell);
  constexpr int kSample = 4096;
  std::map<std::array<int, 3>, int64_t> needs;  // octets' bit widths → sample points
  std::mt19937_64 rng(0x6f63746574);
  const auto add = [&](uint64_t index) {
    const Octets o = octets_of(ball.unrank(index));
    std::array<int, 3> need{};
    for (int k = 0; k < 3; ++k) {
      if (o.j[k] < 0) return;  // past the tables: an escape under any layout
      need[static_cast<size_t>(k)] = std::bit_width(static_cast<uint64_t>(o.j[k]));
    }
    ++needs[need];
  };
  for (int i = 0; i < kSample; ++i) add(lo + rng() % (ball.size() - lo));
  const int shells = params.max_shell - first_shell + 1;
  for (int i = 0; i < kSample; ++i) {
    const int m = first_shell + i % shells;
    const uint64_t end = m == params.max_shell ? ball.size() : ball.shell_offset(m + 1);
    add(ball.shell_offset(m) + rng() % (end - ball.shell_offset(m)));
  }
  std::vector<std::array<int, 3>> candidates;
  for (int a = 1; a <= kEntryBits; ++a)
    for (int b = 1; b <= kEntryBits; ++b)
      if (const int c = bits - a - b; c >= 1 && c <= kEntryBits) candidates.push_back({a, b, c});
  const auto fits = [](const std::array<int, 3>& need, const std::array<int, 3>& widths, int margin) {
    return need[0] + margin <= widths[0] && need[1] + margin <= widths[1] && need[2] + margin <= widths[2];
  };
  std::vector<std::array<int, 3>> chosen;
  for (int margin = 0; chosen.size() < kLayouts && margin <= kEntryBits;) {
    std::vector<std::pair<std::array<int, 3>, int64_t>> open;  // needs no chosen layout covers yet
    for (const auto& [need, n] : needs)
      if (std::none_of(chosen.begin(), chosen.end(), [&](const auto& c) { return fits(need, c, margin); }))
        open.emplace_back(need, n);
    int64_t best_count = 0;
    const std::array<int, 3>* best = nullptr;
    for (const auto& widths : candidates) {
      int64_t count = 0;
      for (const auto& [need, n] : open)
        if (fits(need, widths, margin)) count += n;
      if (count > best_count) {
        best_count = count;
        best = &widths;
      }
    }
    if (best)
      chosen.push_back(*best);
    else
      ++margin;  // this margin is covered (or cannot be): ask for one more spare bit
  }
  if (chosen.empty()) throw std::logic_error("octet tables: no field layout fits the ball");
  while (chosen.size() < kLayouts) chosen.push_back(chosen.front());  // never reached by word_of
  const int first_field = gain_bits_ + kGlueBits + kLayoutBits;
  for (size_t s = 0; s < kLayouts; ++s) {
    FieldLayout& l = arena_->layouts[s];
    int shift = first_field;
    for (int k = 0; k < 3; ++k) {
      l.width[k] = static_cast<uint8_t>(chosen[s][static_cast<size_t>(k)]);
      l.shift[k] = static_cast<uint8_t>(shift);
      shift += l.width[k];
    }
    const int lead = 64 - 8 * word_bytes_;
    l.packed = uint64_t{l.width[0]} | uint64_t(l.shift[1] + lead) << 8 | uint64_t{l.width[1]} << 16 |
               uint64_t(l.shift[2] + lead) << 24;
  }
  arena_->layouts[kEscapeLayout] = FieldLayout{};
}

uint32_t OctetTables::octet_bits(uint32_t mask, int k) const {
  uint32_t bits = 0;
  for (int i = 0; i < 8; ++i) bits |= (mask >> trio_[static_cast<size_t>(8 * k + i)] & 1u) << i;
  return bits;
}

// The table is sorted by (norm, lexicographic), so p's position is the number of patterns of
// smaller norm plus, slot by slot, those of p's norm that agree with p on the earlier slots
// and hold a smaller value in this one (smaller_, summed over those values at build time). A
// value that is neither of the type's residue nor within the table's norm has no position.
int64_t OctetTables::position(int type, const int8_t* p) const {
  int norm = 0;
  for (int i = 0; i < 8; ++i) {
    if (!has_residue(p[i], residue(type, i))) return -1;
    norm += p[i] * p[i];
  }
  if (norm > max_norm_) return -1;
  int64_t at = below_[static_cast<size_t>(type) * (static_cast<size_t>(max_norm_) + 2) + static_cast<size_t>(norm)];
  auto rest = static_cast<size_t>(norm);
  for (int i = 0; i < 8; ++i) {
    const int k = (p[i] - lowest_[lowest_at(residue(type, i), rest)]) / 4;
    at += smaller_[smaller_at(type, i, rest) + static_cast<size_t>(k)];
    rest -= static_cast<size_t>(p[i] * p[i]);
  }
  return at < entries_[static_cast<size_t>(type)] ? at : -1;
}

OctetTables::Octets OctetTables::octets_of(const leech::Vec& v) const {
  Octets o{};
  o.t = static_cast<uint32_t>(v[0]) & 1;
  uint32_t c = 0;
  for (int i = 0; i < kDim; ++i)
    if ((static_cast<uint32_t>(v[static_cast<size_t>(i)]) & 3) == (o.t ? 3u : 2u)) c |= 1u << i;
  const auto msg = golay::decode(c);
  if (!msg) throw InputError("octet word: not a lattice point");
  o.message = *msg;
  for (int s = 0; s < kDim; ++s) o.u[s] = static_cast<int8_t>(v[trio_[static_cast<size_t>(s)]]);
  for (int k = 0; k < 3; ++k) {
    const int8_t* octet = o.u + 8 * k;
    const uint32_t ck = octet_bits(c, k);
    int8_t p[8];
    int type = 0;
    if (o.t) {
      for (int i = 0; i < 8; ++i) p[i] = static_cast<int8_t>((ck >> i & 1) ? -octet[i] : octet[i]);
    } else {
      type = 1 + popcount(ck) / 2;
      for (int i = 0; i < 8; ++i) p[perms_[8 * ck + static_cast<uint32_t>(i)]] = octet[i];
    }
    o.j[k] = position(type, p);
  }
  return o;
}

uint64_t OctetTables::word_of(const leech::Vec& v, uint32_t gain, std::vector<Escape>& escapes) const {
  return word_of(octets_of(v), gain, escapes);
}

uint64_t OctetTables::word_of(const Octets& o, uint32_t gain, std::vector<Escape>& escapes) const {
  const uint64_t head = gain | uint64_t{o.t | o.message << 1} << gain_bits_;
  const int layout_shift = gain_bits_ + kGlueBits;
  for (uint32_t s = 0; s < kLayouts; ++s) {
    const FieldLayout& l = arena_->layouts[s];
    bool fits = true;
    for (int k = 0; k < 3; ++k) fits = fits && o.j[k] >= 0 && o.j[k] < (int64_t{1} << l.width[k]);
    if (!fits) continue;
    uint64_t word = head | uint64_t{s} << layout_shift;
    for (int k = 0; k < 3; ++k) word |= static_cast<uint64_t>(o.j[k]) << l.shift[k];
    return word;
  }
  const int index_shift = layout_shift + kLayoutBits;
  if (escapes.size() >> (8 * word_bytes_ - index_shift))
    throw InputError("octet word: too many escaped blocks in one matrix");
  Escape e{};
  int64_t norm = 0;
  for (int s = 0; s < kDim; ++s) {
    e.v[s] = o.u[s];
    norm += o.u[s] * o.u[s];
  }
  e.norm = static_cast<uint16_t>(norm);
  const uint64_t word =
      head | uint64_t{kEscapeLayout} << layout_shift | static_cast<uint64_t>(escapes.size()) << index_shift;
  escapes.push_back(e);
  return word;
}

leech::Vec OctetTables::point_of(uint64_t word, const Escape* escapes) const {
  View m = view();
  m.escapes = escapes;
  leech::Vec v{};
  point(m, word, v.data());
  return v;
}

View OctetTables::view() const {
  View m{};
  m.kind = kind_;
  m.gain_bits = gain_bits_;
  m.entry_bits = kEntryBits;
  m.word_bytes = word_bytes_;
  m.arena = arena_.get();
  m.layouts = arena_->layouts;
  m.patterns = arena_->patterns[0];
  m.norm8 = arena_->norm8;
  m.glue = glue_.data();
  m.perms = perms_.data();
  m.glue_lanes = arena_->glue_lanes;
  m.trio = trio_.data();
  m.natural_ctl = natural_ctl_.data();
  m.gemv_factor = arena_->gemv_factor;
  m.gain_level = gain_level_.data();
  m.sqrt_norm = sqrt_norm_.data();
  m.lattice_scale = lattice_scale_;
  return m;
}

CodeReader::CodeReader(const LeechLayout& params)
    : ball_(LeechBall::get(params.max_shell)),
      tables_(OctetTables::get(params)),
      gain_bits_(params.gain_bits),
      min_index_(params.min_shell >= LeechBall::kMinShell ? ball_.shell_offset(params.min_shell) : 0) {}

uint64_t CodeReader::next_word(BitReader& in, std::vector<Escape>& escapes, const std::string& spec, int64_t row,
                               int64_t block) const {
  const Code c = next_code(in, spec, row, block);
  return tables_.word_of(ball_.unrank(c.index), c.gain, escapes);
}

CodeReader::Code CodeReader::next_code(BitReader& in, const std::string& spec, int64_t row, int64_t block) const {
  const auto gain = static_cast<uint32_t>(in.get(gain_bits_));
  const uint64_t index = in.get(ball_.bits());
  if (index >= ball_.size() || index < min_index_)
    throw InputError(spec + ": row " + std::to_string(row) + ", block " + std::to_string(block) + ": ball index " +
                     std::to_string(index) + (index < min_index_ ? " is not a direction" : " is out of range"));
  return {gain, index};
}

void CodeReader::words_of(const std::vector<Code>& codes, std::vector<Escape>& escapes, uint64_t* words) const {
  std::vector<OctetTables::Octets> octets(codes.size());
  parallel_for(codes.size(), 256, [&](size_t i) { octets[i] = tables_.octets_of(ball_.unrank(codes[i].index)); });
  for (size_t i = 0; i < codes.size(); ++i) words[i] = tables_.word_of(octets[i], codes[i].gain, escapes);
}

}  // namespace llvq::kernels::octet

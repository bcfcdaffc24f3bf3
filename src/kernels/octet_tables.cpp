// Tables of the octet word (octet_word.hpp) and the exact point ↔ word conversions.
#include "kernels/octet_tables.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>

#include "llvq/error.hpp"
#include "llvq/golay.hpp"

namespace llvq::kernels::octet {
namespace {


constexpr uint32_t kAllSlots = 0xFFFFFF;

// Residue mod 4 of canonical slot i of a pattern type: odd → 1 everywhere; even type
// 1 + w/2 → 2 on the first w slots, 0 on the rest.
int residue(int type, int i) {
  if (type == 0) return 1;
  return i < 2 * (type - 1) ? 2 : 0;
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
  const int r = residue(type, slot);
  const int top = static_cast<int>(std::sqrt(static_cast<double>(budget)));
  for (int v = -top; v <= top; ++v) {
    if (((v % 4) + 4) % 4 != r || v * v > budget) continue;
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
    : kind_(params.kind == LeechLayout::Kind::Ball ? Kind::Ball : Kind::ShapeGain) {
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
      gemv_factor_[static_cast<size_t>(m << params.gain_bits | g)] =
          kind_ == Kind::Ball ? static_cast<float>(1.0 / params.lattice_scale)
                              : static_cast<float>(params.gain_levels[static_cast<size_t>(g)] / sqrt_norm_[static_cast<size_t>(m)]);
  }
  for (int g = 0; g < gains && kind_ == Kind::ShapeGain; ++g)
    gain_level_[static_cast<size_t>(g)] = params.gain_levels[static_cast<size_t>(g)];
  build_layout(params.gain_bits);
  build_trio();
  build_patterns(16 * params.max_shell);
  build_glue();
  build_octet_ctl();
}

// Field widths: 51 − G bits for the three octets, the widest first (it also carries the
// escape mark, so its table may hold 2^b0 − 1 entries).
void OctetTables::build_layout(int gain_bits) {
  gain_bits_ = gain_bits;
  const int total = 64 - gain_bits - kGlueBits;
  j_bits_[0] = (total + 2) / 3;
  j_bits_[1] = (total - j_bits_[0] + 1) / 2;
  j_bits_[2] = total - j_bits_[0] - j_bits_[1];
  j_shift_[0] = gain_bits + kGlueBits;
  j_shift_[1] = j_shift_[0] + j_bits_[0];
  j_shift_[2] = j_shift_[1] + j_bits_[1];
  entry_bits_ = j_bits_[0];
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
// truncated to 2^entry_bits − 1 entries.
void OctetTables::build_patterns(int max_norm) {
  const size_t slots = size_t{1} << entry_bits_;
  patterns_.assign(kTypes * slots * 8, 0);
  norm8_.assign(kTypes * slots, 0);
  for (int type = 0; type < kTypes; ++type) {
    std::vector<Pattern> all;
    Pattern cur{};
    enumerate(type, 0, max_norm, cur, all);
    std::sort(all.begin(), all.end(), pattern_less);
    const size_t n = std::min(all.size(), slots - 1);
    entries_[static_cast<size_t>(type)] = static_cast<int64_t>(n);
    for (size_t j = 0; j < n; ++j) {
      const size_t e = static_cast<size_t>(type) * slots + j;
      std::copy(all[j].p, all[j].p + 8, patterns_.begin() + static_cast<std::ptrdiff_t>(8 * e));
      // Octet norms are multiples of 8 (odd squares are 1 mod 8; an even octet holds an even
      // number of entries ≡ 2 mod 4), and ≤ 16·16: a byte holds norm/8.
      if (all[j].norm % 8 != 0 || all[j].norm / 8 > 255) throw std::logic_error("octet tables: unexpected octet norm");
      norm8_[e] = static_cast<uint8_t>(all[j].norm / 8);
    }
  }
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
  glue_lanes_.assign(size_t{1} << kGlueBits, GlueLanes{});
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
        GlueLanes& lanes = glue_lanes_[t | msg << 1];
        lanes.entry_base[k] = static_cast<uint32_t>(type << entry_bits_);
        lanes.ctl[k] = static_cast<uint16_t>((t << 8 | ck) * kCtlRowBytes);
      }
    }
  }
}

// Rows of octet_ctl_ (octet_word.hpp): row t << 8 | c applies c's permutation (t = 0) or
// its signs (t = 1).
void OctetTables::build_octet_ctl() {
  octet_ctl_.assign(size_t{kCtlRows} * kCtlRowBytes + 8, 0);
  for (uint32_t row = 0; row < kCtlRows; ++row) {
    const uint32_t t = row >> 8, c = row & 0xFF;
    int8_t* shuffle = octet_ctl_.data() + row * kCtlRowBytes;
    int8_t* sign = shuffle + 8;
    for (uint32_t i = 0; i < 8; ++i) {
      shuffle[i] = static_cast<int8_t>(t ? i : perms_[8 * c + i]);
      sign[i] = static_cast<int8_t>(t && (c >> i & 1) ? -1 : 1);
    }
  }
}

uint32_t OctetTables::octet_bits(uint32_t mask, int k) const {
  uint32_t bits = 0;
  for (int i = 0; i < 8; ++i) bits |= (mask >> trio_[static_cast<size_t>(8 * k + i)] & 1u) << i;
  return bits;
}

int64_t OctetTables::find(int type, const int8_t* p) const {
  Pattern key{};
  int norm = 0;
  for (int i = 0; i < 8; ++i) {
    key.p[i] = p[i];
    norm += p[i] * p[i];
  }
  key.norm = static_cast<uint16_t>(norm);
  const size_t base = static_cast<size_t>(type) << entry_bits_;
  int64_t lo = 0, hi = entries_[static_cast<size_t>(type)];
  while (lo < hi) {  // first entry not less than key
    const int64_t mid = (lo + hi) / 2;
    Pattern e{};
    e.norm = static_cast<uint16_t>(8 * norm8_[base + static_cast<size_t>(mid)]);
    std::copy_n(patterns_.begin() + static_cast<std::ptrdiff_t>(8 * (base + static_cast<size_t>(mid))), 8, e.p);
    if (pattern_less(e, key))
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == entries_[static_cast<size_t>(type)]) return -1;
  const int8_t* hit = patterns_.data() + 8 * (base + static_cast<size_t>(lo));
  return std::equal(hit, hit + 8, p) ? lo : -1;
}

uint64_t OctetTables::word_of(const leech::Vec& v, uint32_t gain, std::vector<Escape>& escapes) const {
  const uint32_t t = static_cast<uint32_t>(v[0]) & 1;
  uint32_t c = 0;
  for (int i = 0; i < kDim; ++i)
    if ((static_cast<uint32_t>(v[static_cast<size_t>(i)]) & 3) == (t ? 3u : 2u)) c |= 1u << i;
  const auto msg = golay::decode(c);
  if (!msg) throw InputError("octet word: not a lattice point");
  int8_t u[kDim];
  for (int s = 0; s < kDim; ++s) u[s] = static_cast<int8_t>(v[trio_[static_cast<size_t>(s)]]);
  const uint64_t head = gain | uint64_t{t | *msg << 1} << gain_bits_;
  uint64_t word = head;
  bool escape = false;
  for (int k = 0; k < 3 && !escape; ++k) {
    const int8_t* octet = u + 8 * k;
    const uint32_t ck = octet_bits(c, k);
    int8_t p[8];
    int type = 0;
    if (t) {
      for (int i = 0; i < 8; ++i) p[i] = static_cast<int8_t>((ck >> i & 1) ? -octet[i] : octet[i]);
    } else {
      type = 1 + popcount(ck) / 2;
      for (int i = 0; i < 8; ++i) p[perms_[8 * ck + static_cast<uint32_t>(i)]] = octet[i];
    }
    const int64_t j = find(type, p);
    const int64_t limit = (int64_t{1} << j_bits_[k]) - (k == 0 ? 1 : 0);
    if (j < 0 || j >= limit)
      escape = true;
    else
      word |= static_cast<uint64_t>(j) << j_shift_[k];
  }
  if (!escape) return word;
  if (escapes.size() >> (j_bits_[1] + j_bits_[2]))
    throw InputError("octet word: too many escaped blocks in one matrix");
  Escape e{};
  int64_t norm = 0;
  for (int s = 0; s < kDim; ++s) {
    e.v[s] = u[s];
    norm += u[s] * u[s];
  }
  e.norm = static_cast<uint16_t>(norm);
  const uint64_t mark = (uint64_t{1} << j_bits_[0]) - 1;
  word = gain | mark << j_shift_[0] | static_cast<uint64_t>(escapes.size()) << j_shift_[1];
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
  m.entry_bits = entry_bits_;
  for (int k = 0; k < 3; ++k) {
    m.j_shift[k] = j_shift_[k];
    m.j_mask[k] = (1u << j_bits_[k]) - 1;
  }
  m.escape_mark = m.j_mask[0];
  m.patterns = patterns_.data();
  m.norm8 = norm8_.data();
  m.glue = glue_.data();
  m.perms = perms_.data();
  m.glue_lanes = glue_lanes_.data();
  m.octet_ctl = octet_ctl_.data();
  m.trio = trio_.data();
  m.natural_ctl = natural_ctl_.data();
  m.gemv_factor = gemv_factor_.data();
  m.gain_level = gain_level_.data();
  m.sqrt_norm = sqrt_norm_.data();
  m.lattice_scale = lattice_scale_;
  return m;
}

}  // namespace llvq::kernels::octet

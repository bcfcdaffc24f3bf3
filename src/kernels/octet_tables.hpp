// Host side of the octet word (octet_word.hpp): the pattern, glue and permutation tables of
// a Leech-ball codec, and the exact conversions between lattice points and octet words.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "llvq/kernel_layout.hpp"
#include "kernels/octet_word.hpp"
#include "llvq/leech.hpp"

namespace llvq {
class BitReader;
class LeechBall;
}  // namespace llvq

namespace llvq::kernels::octet {

class OctetTables {
 public:
  // Tables for the codec's ball Λ24(M) and gain bits, built once per (M, gain bits) and kept
  // for the process (a few MiB: six pattern tables of 2^17 entries at most).
  static const OctetTables& get(const LeechLayout& params);
  explicit OctetTables(const LeechLayout& params);

  // The table half of a View (the matrix fields left empty).
  View view() const;

  // A point cut into its word's parts: t, the Golay message, its coordinates in trio order and
  // each octet's position in its type's table (−1: past the table).
  struct Octets {
    uint32_t t, message;
    int8_t u[kDim];
    int64_t j[3];
  };
  Octets octets_of(const leech::Vec& v) const;

  // The word of lattice point v (which must lie in the ball) with gain index g: the first
  // field layout its octets fit; points that fit none are appended to `escapes` and the word
  // points at them.
  uint64_t word_of(const leech::Vec& v, uint32_t gain, std::vector<Escape>& escapes) const;
  uint64_t word_of(const Octets& o, uint32_t gain, std::vector<Escape>& escapes) const;
  // The lattice point of a word (the inverse of word_of).
  leech::Vec point_of(uint64_t word, const Escape* escapes) const;

  int entry_bits() const { return kEntryBits; }
  // Bytes per stored word: 7 when the codec's minimal code has at most 48 bits, else 8.
  int word_bytes() const { return word_bytes_; }
  // Entries per type (the rest of each type's 2^entry_bits slots is unused).
  int64_t entries(int type) const { return entries_[static_cast<size_t>(type)]; }
  const std::array<uint8_t, kDim>& trio() const { return trio_; }
  // Position of the 8 pattern values p among the entries of `type` (computed from counts, not
  // searched), or −1 when p is not one of them.
  int64_t position(int type, const int8_t* p) const;

 private:
  void build_trio();
  void build_patterns(int max_norm);
  void build_counts(int max_norm);
  size_t lowest_at(int residue, size_t norm) const;          // index into lowest_
  size_t smaller_at(int type, int slot, size_t rest) const;  // index of k = 0 in smaller_
  void build_glue();
  void build_layouts(const LeechLayout& params);
  // Octet k's slots of a 24-bit mask (bit i = trio slot 8k + i).
  uint32_t octet_bits(uint32_t mask, int k) const;

  Kind kind_;
  int gain_bits_ = 0;
  int word_bytes_ = 8;
  std::unique_ptr<Arena> arena_;
  std::array<uint8_t, kDim> trio_{};
  std::array<uint8_t, 2 * 32> natural_ctl_{};
  std::array<int64_t, kTypes> entries_{};
  // What position() adds up, for N = the tables' largest octet norm: below_[type·(N + 2) + n]
  // patterns of the type have norm < n; with `rest` the norm of slots i..7 and v_0 < v_1 < …
  // the values of slot i's residue that fit in it, smaller_[((type·8 + i)·(N + 1) + rest)·9 + k]
  // fillings of slots i..7 of norm `rest` start with v_0 … v_(k−1); lowest_[r·(N + 1) + rest]
  // is v_0 for residue r.
  int max_norm_ = 0;
  std::vector<int64_t> below_;
  std::vector<uint32_t> smaller_;
  std::vector<int8_t> lowest_;
  std::vector<uint64_t> glue_;
  std::array<uint8_t, 256 * 8> perms_{};
  std::array<double, kMaxGains> gain_level_{};
  std::array<double, kMaxShells> sqrt_norm_{};
  double lattice_scale_ = 1.0;
};

// Reads a codec's block codes (gain index, then ball index) and cuts each into its word,
// validating every index as the codec's decode does: the one front end of the CPU pack
// (kernels/leech_pack.cpp) and the GPU layout (kernels/cuda/layout.cpp).
class CodeReader {
 public:
  explicit CodeReader(const LeechLayout& params);
  // The next block's word (escapes appended as word_of appends them). InputError naming the
  // codec `spec`, `row` and `block` for an index outside the ball or, for a codec of
  // directions, below its first shell.
  uint64_t next_word(BitReader& in, std::vector<Escape>& escapes, const std::string& spec, int64_t row,
                     int64_t block) const;

  // next_word in two steps, for many blocks at once: the codes read (and validated) in order,
  // then their words. words_of converts the points on all cores — the unrank and the octets'
  // table positions are most of a model's load time — and assembles the words in order, so
  // words and escapes are those next_word gives block by block.
  struct Code {
    uint32_t gain;
    uint64_t index;
  };
  Code next_code(BitReader& in, const std::string& spec, int64_t row, int64_t block) const;
  void words_of(const std::vector<Code>& codes, std::vector<Escape>& escapes, uint64_t* words) const;

 private:
  const LeechBall& ball_;
  const OctetTables& tables_;
  int gain_bits_;
  uint64_t min_index_;  // the first index of the codec's first shell
};

}  // namespace llvq::kernels::octet

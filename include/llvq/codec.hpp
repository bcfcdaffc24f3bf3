// Block quantizers of weight vectors behind one interface.
//
// A weight matrix is coded row by row. A row of n weights (n a multiple of block_dim()) is
// cut into n / block_dim() blocks; its code is the row's side information (scales) followed
// by the fixed-width codes of its blocks, back to back. Every block of every codec has the
// same number of code bits, so block j of a row sits at a known bit offset and rows and
// blocks can be coded in parallel.
//
// Sequential (GPTQ-style) use: fit_side() from the row's weights, write_side(), then
// quantize_block(j) for j = 0, 1, ... where block j's input may already carry error feedback
// from blocks < j; the concatenated codes decode to exactly the blocks quantize_block
// returned.
//
// Codecs are named by spec strings NAME[:key=value,...] (e.g. "scalar:bpw=2,kind=lloyd").
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "llvq/bitstream.hpp"
#include "llvq/kernel_layout.hpp"

namespace llvq {

// A parsed spec string. Typed getters validate ranges; check_all_used() rejects keys that no
// getter asked for, so a typo in a parameter name is an error rather than silently ignored.
class CodecSpec {
 public:
  static CodecSpec parse(const std::string& text);

  const std::string& name() const { return name_; }
  bool has(const std::string& key) const { return params_.count(key) != 0; }
  int get_int(const std::string& key, int fallback, int lo, int hi) const;
  double get_double(const std::string& key, double fallback, double lo, double hi) const;
  std::string get_choice(const std::string& key, const std::string& fallback,
                         const std::vector<std::string>& allowed) const;
  void check_all_used() const;

 private:
  const std::string* lookup(const std::string& key) const;

  std::string name_;
  std::map<std::string, std::string> params_;
  mutable std::set<std::string> used_;
};

// Side information of one row: one dequantized scale per group of weights (a single group
// when the codec scales per row). Only representable values are stored here, so encoder and
// decoder use the same numbers.
struct RowSide {
  size_t group = 0;           // weights per scale
  std::vector<float> scales;  // one per group
  float scale_of_block(size_t j, size_t block_dim) const { return scales[j * block_dim / group]; }
};

class Codec {
 public:
  virtual ~Codec() = default;

  virtual std::string name() const = 0;
  // Canonical spec with every parameter explicit: make_codec(spec()) rebuilds this codec.
  virtual std::string spec() const = 0;
  virtual size_t block_dim() const = 0;
  // Code bits of one block (the same for every block).
  virtual size_t block_bits() const = 0;
  // Side-information bits of a row of n weights.
  virtual size_t side_bits(size_t n) const = 0;
  // Throws InputError when a row of n weights cannot be coded by this codec.
  virtual void check_row_length(size_t n) const;
  // The layout of the block code for the decode kernels (llvq/kernel_layout.hpp);
  // std::monostate for a codec without kernels.
  virtual KernelLayout kernel_layout() const { return {}; }

  size_t blocks_per_row(size_t n) const { return n / block_dim(); }
  size_t row_bits(size_t n) const { return blocks_per_row(n) * block_bits() + side_bits(n); }
  // Exact rate of a row of n weights, side information included.
  double bits_per_weight(size_t n) const;

  // --- sequential use, one row ---
  virtual RowSide fit_side(const float* w, size_t n) const = 0;
  virtual void write_side(const RowSide& side, BitWriter& out) const = 0;
  virtual RowSide read_side(BitReader& in, size_t n) const = 0;
  // Quantizes block j of a row: appends block_bits() bits to `code` and writes the
  // dequantized block to `xhat` (block_dim() floats).
  virtual void quantize_block(const RowSide& side, size_t j, const float* x, float* xhat,
                              BitWriter& code) const = 0;
  virtual void decode_block(const RowSide& side, size_t j, BitReader& code, float* xhat) const = 0;
  // Dequantized block without its code (same result as quantize_block).
  virtual void quantize_dequantize_block(const RowSide& side, size_t j, const float* x, float* xhat) const;
  // Codecs whose block decodes to factor·v with v an integer vector (the Leech codes: v is a
  // lattice point): block j as v and factor (the row's scale included), decode_block giving
  // float(factor·v_i) up to the rounding of the factor's own product. False when the codec is
  // not of that form or an entry of v lies outside int8 (nothing is then guaranteed about v).
  virtual bool decode_block_integers(const RowSide& side, size_t j, BitReader& code, int8_t* v,
                                     double& factor) const;

  // --- whole rows ---
  void decode_row(BitReader& in, size_t n, float* w) const;
  // `rows` rows of n weights, packed back to back (rows·row_bits(n) bits), on all cores.
  std::vector<uint8_t> encode_rows(const float* w, size_t rows, size_t n) const;
  void decode_rows(const uint8_t* data, size_t size_bytes, size_t rows, size_t n, float* w) const;
  // The same rows as integers and one factor per block (decode_block_integers), on all cores:
  // v [rows·n], factors [rows·n / block_dim()]. False when some block has no such form.
  bool decode_rows_integers(const uint8_t* data, size_t size_bytes, size_t rows, size_t n, int8_t* v,
                            float* factors) const;
  // Quantize-dequantize of many rows on all cores (no packing).
  void quantize_dequantize_rows(const float* w, size_t rows, size_t n, float* out) const;

 private:
  size_t block_grain() const;
  template <class Body>
  void for_each_coded_block(const uint8_t* data, size_t size_bytes, size_t rows, size_t n, Body&& body) const;
};

// The smallest row length n in [at_least, at_most] (rounded up to whole blocks) that the
// codec accepts (check_row_length: its block and, for grouped scales, whole groups).
// Throws InputError when there is none.
size_t smallest_row_length(const Codec& codec, size_t at_least, size_t at_most);

// Builds a codec from its spec string; throws InputError on an unknown name or bad parameters.
std::unique_ptr<Codec> make_codec(const std::string& spec);
// The same, built once per spec and process and shared: codecs are immutable after
// construction, and some precompute design tables when built (scalar Lloyd–Max levels,
// optimal uniform steps). Thread-safe.
std::shared_ptr<const Codec> shared_codec(const std::string& spec);
// Names of every registered codec with a one-line description.
std::vector<std::pair<std::string, std::string>> codec_catalog();

}  // namespace llvq

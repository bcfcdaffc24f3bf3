// Shared pieces of the codec implementations (private to src/codec).
#pragma once

#include <array>
#include <cmath>
#include <memory>
#include <string>

#include "llvq/codec.hpp"

namespace llvq::codec_detail {

// Scales are stored as bfloat16 (16 bits): the 8-bit exponent covers any weight magnitude,
// and the 0.4% worst-case relative error of the mantissa changes the MSE of a fitted scale
// by a negligible second-order amount.
uint16_t scale_to_bf16(float scale);  // round to nearest even; throws on non-finite (kScaleBits bits)

// Base of the codecs whose side information is one scale per group of `group` weights
// (group 0 = one scale per row). The scale is RMS(group) × rms_factor, the factor chosen per
// codec so that a unit-variance Gaussian lands on the codebook's best operating point.
class ScaledCodec : public Codec {
 public:
  ScaledCodec(size_t group, double rms_factor) : group_(group), rms_factor_(rms_factor) {}

  size_t side_bits(size_t n) const override;
  void check_row_length(size_t n) const override;
  RowSide fit_side(const float* w, size_t n) const override;
  void write_side(const RowSide& side, BitWriter& out) const override;
  RowSide read_side(BitReader& in, size_t n) const override;

 protected:
  // Validates the group against the block size; call from the derived constructor.
  void check_group() const;
  std::string group_param() const;  // ",group=G" or "" for per-row scales
  size_t group_ = 0;
  double rms_factor_ = 1.0;

 private:
  size_t effective_group(size_t n) const { return group_ ? group_ : n; }
};

std::unique_ptr<Codec> make_scalar(const CodecSpec& spec);
std::unique_ptr<Codec> make_e8p(const CodecSpec& spec);
std::unique_ptr<Codec> make_pvq(const CodecSpec& spec);
std::unique_ptr<Codec> make_llvq_sg(const CodecSpec& spec);
std::unique_ptr<Codec> make_llvq_ss(const CodecSpec& spec);
std::unique_ptr<Codec> make_l24sq(const CodecSpec& spec);

// The nearest unit-scale E8P codeword (its codebook is llvq::e8p_codeword), exposed for the
// brute-force test.
uint32_t e8p_nearest(const double* u);

// Fischer enumeration of the pyramid S(L,K), exposed for the exhaustive test.
unsigned __int128 pvq_count(int L, int K);
unsigned __int128 pvq_rank(int L, int K, const int* y);
void pvq_unrank(int L, int K, unsigned __int128 index, int* y);

// Formats a double parameter so that parsing it back yields the same double.
std::string format_param(double v);

// A lattice point's entries as int8 (Codec::decode_block_integers); false when one does not fit.
template <class IntArray>
bool to_int8(const IntArray& v, int8_t* out) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] < -128 || v[i] > 127) return false;
    out[i] = static_cast<int8_t>(v[i]);
  }
  return true;
}

}  // namespace llvq::codec_detail

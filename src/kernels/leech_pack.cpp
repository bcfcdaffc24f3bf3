// The Leech kernel family: PackedMatrix of split words (leech_block.hpp), the scalar
// reference kernels and the dispatch to the SIMD ones.
#include <cmath>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "codec/codec_impl.hpp"
#include "kernels/kernels_impl.hpp"
#include "kernels/leech_kernels.hpp"
#include "kernels/leech_tables.hpp"
#include "llvq/bitstream.hpp"
#include "llvq/error.hpp"

namespace llvq::kernels {

namespace leech {

void decode_rows_scalar(const MatrixView& m, int64_t r0, int64_t r1, float* out) {
  for (int64_t r = r0; r < r1; ++r) {
    const uint64_t* words = m.words + r * m.blocks;
    const float* scales = m.scales + r * m.groups;
    for (int64_t g = 0, j = 0; g < m.groups; ++g)  // groups outside: no division per block
      for (const int64_t end = j + m.blocks_per_group; j < end; ++j, out += kDim)
        decode_block(*m.tables, words[j], scales[g], out);
  }
}

void gemv_rows_scalar(const MatrixView& m, const float* x, int64_t r0, int64_t r1, float* y) {
  for (int64_t r = r0; r < r1; ++r) {
    const uint64_t* words = m.words + r * m.blocks;
    const float* scales = m.scales + r * m.groups;
    float acc = 0;
    for (int64_t g = 0, j = 0; g < m.groups; ++g)
      for (const int64_t end = j + m.blocks_per_group; j < end; ++j)
        acc += dot_block(*m.tables, words[j], scales[g], x + kDim * j);
    y[r - r0] = acc;
  }
}

}  // namespace leech

namespace {

using codec_detail::LeechParams;

// Tables per codec spec, built once (a few hundred kB each).
const leech::BlockTables& tables_for(const Codec& codec, const LeechParams& params) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<leech::BlockTables>> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[codec.spec()];
  if (!slot) slot = leech::make_block_tables(params);
  return *slot;
}

class LeechPacked final : public PackedMatrix {
 public:
  LeechPacked(const Codec& codec, const LeechParams& params, const uint8_t* codes, size_t size, int64_t rows,
              int64_t cols)
      : PackedMatrix(rows, cols), spec_(codec.spec()), t_(tables_for(codec, params)) {
    blocks_ = cols / leech::kDim;
    const int64_t group = params.group ? static_cast<int64_t>(params.group) : cols;
    groups_ = cols / group;
    blocks_per_group_ = group / leech::kDim;
    words_.resize(static_cast<size_t>(rows * blocks_));
    scales_.resize(static_cast<size_t>(rows * groups_));
    raw_scales_.resize(scales_.size());
    BitReader in(codes, size);
    for (int64_t r = 0; r < rows; ++r) read_row(in, r);
  }

  std::string codec_spec() const override { return spec_; }
  uint64_t bytes() const override { return 8 * words_.size() + 4 * scales_.size(); }

  void decode_rows(int64_t r0, int64_t r1, float* out, Isa isa) const override {
    check_rows(r0, r1);
    switch (isa) {
      case Isa::Scalar: return leech::decode_rows_scalar(view(), r0, r1, out);
      case Isa::Avx2: return leech::decode_rows_avx2(view(), r0, r1, out);
      case Isa::Avx512: return leech::decode_rows_avx512(view(), r0, r1, out);
    }
  }
  void gemv_rows(const float* x, int64_t r0, int64_t r1, float* y, Isa isa) const override {
    check_rows(r0, r1);
    switch (isa) {
      case Isa::Scalar: return leech::gemv_rows_scalar(view(), x, r0, r1, y);
      case Isa::Avx2: return leech::gemv_rows_avx2(view(), x, r0, r1, y);
      case Isa::Avx512: return leech::gemv_rows_avx512(view(), x, r0, r1, y);
    }
  }

  std::vector<uint8_t> to_codes() const override {
    BitWriter out;
    for (int64_t r = 0; r < rows(); ++r) {
      for (int64_t g = 0; g < groups_; ++g) out.put(raw_scales_[static_cast<size_t>(r * groups_ + g)], codec_detail::kScaleBits);
      for (int64_t j = 0; j < blocks_; ++j) {
        const uint64_t word = words_[static_cast<size_t>(r * blocks_ + j)];
        out.put(leech::gain_of(t_, word), t_.gain_bits);
        out.put(leech::leech_join(t_, word), t_.ball_bits);
      }
    }
    return out.bytes();
  }

 private:
  leech::MatrixView view() const { return {&t_, words_.data(), scales_.data(), blocks_, groups_, blocks_per_group_}; }

  void check_rows(int64_t r0, int64_t r1) const {
    if (r0 < 0 || r1 > rows() || r0 > r1)
      throw InputError("rows [" + std::to_string(r0) + ", " + std::to_string(r1) + ") outside the matrix");
  }

  // One row of the minimal bitstream: scales, then (gain, ball index) per block; every code
  // is validated before it is split.
  void read_row(BitReader& in, int64_t r) {
    for (int64_t g = 0; g < groups_; ++g) {
      const auto raw = static_cast<uint16_t>(in.get(codec_detail::kScaleBits));
      const float s = codec_detail::bf16_to_scale(raw);
      if (!std::isfinite(s) || s < 0) throw InputError(spec_ + ": row " + std::to_string(r) + ": corrupt scale");
      raw_scales_[static_cast<size_t>(r * groups_ + g)] = raw;
      scales_[static_cast<size_t>(r * groups_ + g)] = s;
    }
    for (int64_t j = 0; j < blocks_; ++j) {
      const auto gain = static_cast<uint32_t>(in.get(t_.gain_bits));
      const uint64_t index = in.get(t_.ball_bits);
      if (index >= t_.ball_size || index < t_.min_index)
        throw InputError(spec_ + ": row " + std::to_string(r) + ", block " + std::to_string(j) + ": ball index " +
                         std::to_string(index) + (index < t_.min_index ? " is not a direction" : " is out of range"));
      words_[static_cast<size_t>(r * blocks_ + j)] = leech::leech_split(t_, gain, index);
    }
  }

  std::string spec_;
  const leech::BlockTables& t_;
  int64_t blocks_ = 0, groups_ = 0, blocks_per_group_ = 0;
  std::vector<uint64_t> words_;
  std::vector<float> scales_;
  std::vector<uint16_t> raw_scales_;
};

}  // namespace

namespace detail {

bool leech_handles(const Codec& codec) {
  const auto params = codec_detail::leech_params(codec);
  if (!params) return false;
  try {
    tables_for(codec, *params);
  } catch (const InputError&) {
    return false;
  }
  return true;
}

std::unique_ptr<PackedMatrix> pack_leech(const Codec& codec, const uint8_t* codes, size_t size, int64_t rows,
                                         int64_t cols) {
  const auto params = codec_detail::leech_params(codec);
  if (!params) throw InputError("no Leech kernels for codec " + codec.spec());
  return std::make_unique<LeechPacked>(codec, *params, codes, size, rows, cols);
}

}  // namespace detail
}  // namespace llvq::kernels

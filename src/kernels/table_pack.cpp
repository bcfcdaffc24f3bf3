// The table kernel family: packed layouts of the E8P and scalar codecs (src/kernels/
// table_simd.hpp describes them) and their conversion from and back to the codec bitstream.
#include <array>
#include <cmath>

#include "kernels/kernels_impl.hpp"
#include "kernels/table_simd.hpp"
#include "llvq/bitstream.hpp"
#include "llvq/codec.hpp"
#include "llvq/error.hpp"

namespace llvq::kernels::detail {

namespace {

constexpr int kScaleBits = 16;

// Reads one bf16 scale with the codec's validity rule (finite, not negative).
uint16_t read_scale(BitReader& in, const std::string& spec) {
  const auto bits = static_cast<uint16_t>(in.get(kScaleBits));
  const float s = bf16_bits_to_float(bits);
  if (!std::isfinite(s) || s < 0) throw InputError(spec + ": corrupt scale in packed data");
  return bits;
}

// 4× the unit codeword of every E8P code (table_simd.hpp), from the codec's own decoder.
// Every E8P codec has the same codebook (only scales differ), so one table serves all.
const int8_t* e8p_codeword_table() {
  static const std::vector<int8_t> table = [] {
    std::vector<int8_t> t(65536 * 8);
    for (uint32_t code = 0; code < 65536; ++code) {
      const std::array<double, 8> y = e8p_codeword(code);
      for (int i = 0; i < 8; ++i) t[8 * code + i] = static_cast<int8_t>(std::lround(4 * y[i]));
    }
    return t;
  }();
  return table.data();
}

class E8pMatrix final : public PackedMatrix {
 public:
  E8pMatrix(const Codec& codec, const uint8_t* data, size_t size, int64_t rows, int64_t cols)
      : PackedMatrix(rows, cols), spec_(codec.spec()) {
    const size_t group = std::get<E8pLayout>(codec.kernel_layout()).group;
    blocks_ = cols / 8;
    group_blocks_ = group ? static_cast<int64_t>(group) / 8 : blocks_;
    groups_ = blocks_ / group_blocks_;
    codes_.resize(static_cast<size_t>(rows * blocks_));
    scales_.resize(static_cast<size_t>(rows * groups_));
    BitReader in(data, size);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t g = 0; g < groups_; ++g) scales_[r * groups_ + g] = read_scale(in, spec_);
      for (int64_t b = 0; b < blocks_; ++b) codes_[r * blocks_ + b] = static_cast<uint16_t>(in.get(16));
    }
  }

  std::string codec_spec() const override { return spec_; }
  uint64_t bytes() const override { return 2 * (codes_.size() + scales_.size()); }

  void decode_rows(int64_t r0, int64_t r1, float* out, Isa isa) const override {
    for_isa(isa, e8p_decode_ref, e8p_decode_avx2, e8p_decode_avx512)(view(), r0, r1, out);
  }
  void gemv_rows(const float* x, int64_t r0, int64_t r1, float* y, Isa isa) const override {
    for_isa(isa, e8p_gemv_ref, e8p_gemv_avx2, e8p_gemv_avx512)(view(), x, r0, r1, y);
  }
  std::vector<uint8_t> to_codes() const override {
    BitWriter out;
    for (int64_t r = 0; r < rows(); ++r) {
      for (int64_t g = 0; g < groups_; ++g) out.put(scales_[r * groups_ + g], kScaleBits);
      for (int64_t b = 0; b < blocks_; ++b) out.put(codes_[r * blocks_ + b], 16);
    }
    return out.bytes();
  }

 private:
  E8pView view() const {
    return E8pView{codes_.data(), scales_.data(), blocks_, groups_, group_blocks_, codewords_};
  }

  std::string spec_;
  int64_t blocks_ = 0, groups_ = 0, group_blocks_ = 0;
  std::vector<uint16_t> codes_, scales_;
  const int8_t* codewords_ = e8p_codeword_table();
};

// Plane widths, low bits first, that add up to `bits`.
std::vector<int> plane_widths(int bits) {
  if (bits == 8) return {8};
  std::vector<int> widths;
  for (int k : {4, 2, 1})
    if (bits & k) widths.push_back(k);
  return widths;
}

// Extra bytes after the last row: the SIMD kernels load 16 bytes from any field they read.
constexpr size_t kTailGuard = 16;

class ScalarMatrix final : public PackedMatrix {
 public:
  ScalarMatrix(const Codec& codec, const uint8_t* data, size_t size, int64_t rows, int64_t cols)
      : PackedMatrix(rows, cols), spec_(codec.spec()) {
    const ScalarLayout p = std::get<ScalarLayout>(codec.kernel_layout());
    bits_ = p.bits;
    levels_ = p.levels;
    for (double l : levels_) unit_levels_.push_back(static_cast<float>(l));
    group_ = p.group ? static_cast<int64_t>(p.group) : cols;
    groups_ = cols / group_;
    const std::vector<int> widths = plane_widths(bits_);
    planes_ = static_cast<int>(widths.size());
    int shift = 0;
    for (int p_i = 0; p_i < planes_; ++p_i) {
      plane_bits_[p_i] = widths[p_i];
      plane_shift_[p_i] = shift;
      plane_offset_[p_i] = row_bytes_;
      shift += widths[p_i];
      row_bytes_ += (cols * widths[p_i] + 63) / 64 * 8;
    }
    codes_.assign(static_cast<size_t>(rows * row_bytes_) + kTailGuard, 0);
    scales_.resize(static_cast<size_t>(rows * groups_));
    BitReader in(data, size);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t g = 0; g < groups_; ++g) scales_[r * groups_ + g] = read_scale(in, spec_);
      uint8_t* row = codes_.data() + r * row_bytes_;
      for (int64_t c = 0; c < cols; ++c) {
        const auto code = static_cast<uint32_t>(in.get(bits_));  // every value is a valid level
        for (int q = 0; q < planes_; ++q) {
          const int k = plane_bits_[q];
          const uint32_t field = (code >> plane_shift_[q]) & ((1u << k) - 1);
          row[plane_offset_[q] + c * k / 8] |= static_cast<uint8_t>(field << (c * k % 8));
        }
      }
    }
  }

  std::string codec_spec() const override { return spec_; }
  uint64_t bytes() const override { return codes_.size() + 2 * scales_.size(); }

  void decode_rows(int64_t r0, int64_t r1, float* out, Isa isa) const override {
    for_isa(isa, sq_decode_ref, sq_decode_avx2, sq_decode_avx512)(view(), r0, r1, out);
  }
  void gemv_rows(const float* x, int64_t r0, int64_t r1, float* y, Isa isa) const override {
    for_isa(isa, sq_gemv_ref, sq_gemv_avx2, sq_gemv_avx512)(view(), x, r0, r1, y);
  }
  std::vector<uint8_t> to_codes() const override {
    BitWriter out;
    const ScalarView v = view();
    for (int64_t r = 0; r < rows(); ++r) {
      for (int64_t g = 0; g < groups_; ++g) out.put(scales_[r * groups_ + g], kScaleBits);
      for (int64_t c = 0; c < cols(); ++c) out.put(sq_code_at(v, r, c), bits_);
    }
    return out.bytes();
  }

 private:
  ScalarView view() const {
    ScalarView v{};
    v.codes = codes_.data();
    v.row_bytes = row_bytes_;
    v.planes = planes_;
    for (int q = 0; q < 3; ++q) {
      v.plane_bits[q] = plane_bits_[q];
      v.plane_shift[q] = plane_shift_[q];
      v.plane_offset[q] = plane_offset_[q];
    }
    v.scales = scales_.data();
    v.cols = cols();
    v.groups = groups_;
    v.group = group_;
    v.bits = bits_;
    v.levels = levels_.data();
    v.unit_levels = unit_levels_.data();
    return v;
  }

  std::string spec_;
  int bits_ = 0, planes_ = 0;
  int plane_bits_[3] = {}, plane_shift_[3] = {};
  int64_t plane_offset_[3] = {};
  int64_t row_bytes_ = 0, group_ = 0, groups_ = 0;
  std::vector<uint8_t> codes_;
  std::vector<uint16_t> scales_;
  std::vector<double> levels_;
  std::vector<float> unit_levels_;
};

}  // namespace

bool table_handles(const Codec& codec) {
  const KernelLayout layout = codec.kernel_layout();
  return std::holds_alternative<E8pLayout>(layout) || std::holds_alternative<ScalarLayout>(layout);
}

std::unique_ptr<PackedMatrix> pack_table(const Codec& codec, const uint8_t* codes, size_t size, int64_t rows,
                                         int64_t cols) {
  const KernelLayout layout = codec.kernel_layout();
  if (std::holds_alternative<E8pLayout>(layout)) return std::make_unique<E8pMatrix>(codec, codes, size, rows, cols);
  if (std::holds_alternative<ScalarLayout>(layout)) return std::make_unique<ScalarMatrix>(codec, codes, size, rows, cols);
  throw InputError("no table kernels for codec " + codec.spec());
}

}  // namespace llvq::kernels::detail

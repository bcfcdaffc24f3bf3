// The Leech kernel family: PackedMatrix of octet words (octet_word.hpp), the scalar
// reference kernels and the dispatch to the SIMD ones.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>
#include <vector>

#include "llvq/codec.hpp"
#include "kernels/kernels_impl.hpp"
#include "kernels/octet_tables.hpp"
#include "llvq/bitstream.hpp"
#include "llvq/cpu.hpp"
#include "llvq/error.hpp"
#include "llvq/leech_ball.hpp"

namespace llvq::kernels {

namespace octet {

void decode_rows_scalar(const View& m, int64_t r0, int64_t r1, float* out) {
  for (int64_t r = r0; r < r1; ++r) {
    const uint16_t* scales = m.scales + r * m.groups;
    for (int64_t g = 0, j = 0; g < m.groups; ++g)  // groups outside: no division per block
      for (const int64_t end = j + m.blocks_per_group; j < end; ++j, out += kDim)
        decode_block(m, word_at(m, r * m.blocks + j), scale_of(scales[g]), out);
  }
}

void gemm_rows_scalar(const View& m, const float* x, int64_t ldx, int64_t tokens, int64_t r0, int64_t r1, float* y,
                      int64_t ldy) {
  for (int64_t t = 0; t < tokens; ++t) gemv_rows_scalar(m, x + t * ldx, r0, r1, y + t * ldy);
}

void gemv_rows_scalar(const View& m, const float* x, int64_t r0, int64_t r1, float* y) {
  for (int64_t r = r0; r < r1; ++r) {
    const uint16_t* scales = m.scales + r * m.groups;
    float acc = 0;
    for (int64_t g = 0, j = 0; g < m.groups; ++g)
      for (const int64_t end = j + m.blocks_per_group; j < end; ++j)
        acc += dot_block(m, word_at(m, r * m.blocks + j), scale_of(scales[g]), x + kDim * j);
    y[r - r0] = acc;
  }
}

namespace {
std::atomic<WideGemv> g_wide_gemv{WideGemv::Auto};
}  // namespace

void set_wide_gemv(WideGemv mode) { g_wide_gemv.store(mode); }
WideGemvScope::WideGemvScope(WideGemv mode) { set_wide_gemv(mode); }
WideGemvScope::~WideGemvScope() { set_wide_gemv(WideGemv::Auto); }

float* thread_scratch(size_t n, int slot) {
  static thread_local std::vector<float> buffers[2];
  std::vector<float>& b = buffers[slot];
  if (b.size() < n) b.resize(n);
  return b.data();
}

bool use_wide_gemv() {
  static const bool fast = cpu_gathers_fast();
  const WideGemv mode = g_wide_gemv.load(std::memory_order_relaxed);
  return mode == WideGemv::Auto ? fast : mode == WideGemv::On;
}

}  // namespace octet

namespace {


class LeechPacked final : public PackedMatrix {
 public:
  LeechPacked(const Codec& codec, const LeechLayout& params, const uint8_t* codes, size_t size, int64_t rows,
              int64_t cols)
      : PackedMatrix(rows, cols),
        spec_(codec.spec()),
        ball_(LeechBall::get(params.max_shell)),
        tables_(octet::OctetTables::get(params)),
        gain_bits_(params.gain_bits),
        reader_(params) {
    blocks_ = cols / octet::kDim;
    const int64_t group = params.group ? static_cast<int64_t>(params.group) : cols;
    groups_ = cols / group;
    blocks_per_group_ = group / octet::kDim;
    word_bytes_ = tables_.word_bytes();
    // The padding words after the last also cover the AVX-512 GEMV's 64-byte loads.
    words_.resize(static_cast<size_t>(octet::kWordsBefore + (rows * blocks_ + octet::kWordsAhead + 8) * word_bytes_));
    scales_.resize(static_cast<size_t>(rows * groups_));
    read_rows(codes, size);
  }

  std::string codec_spec() const override { return spec_; }
  uint64_t bytes() const override {
    return words_.size() + 2 * scales_.size() + sizeof(octet::Escape) * escapes_.size();
  }

  void decode_rows(int64_t r0, int64_t r1, float* out, Isa isa) const override {
    check_rows(r0, r1);
    detail::for_isa(isa, octet::decode_rows_scalar, octet::decode_rows_avx2, octet::decode_rows_avx512)(view(), r0, r1,
                                                                                                        out);
  }
  void gemv_rows(const float* x, int64_t r0, int64_t r1, float* y, Isa isa) const override {
    check_rows(r0, r1);
    detail::for_isa(isa, octet::gemv_rows_scalar, octet::gemv_rows_avx2, octet::gemv_rows_avx512)(view(), x, r0, r1, y);
  }
  void gemm_rows(const float* x, int64_t ldx, int64_t tokens, int64_t r0, int64_t r1, float* y, int64_t ldy,
                 Isa isa) const override {
    check_rows(r0, r1);
    if (tokens == 1) return gemv_rows(x, r0, r1, y, isa);  // the AVX-512 level's own kernel where it has one
    detail::for_isa(isa, octet::gemm_rows_scalar, octet::gemm_rows_avx2, octet::gemm_rows_avx2)(view(), x, ldx, tokens,
                                                                                              r0, r1, y, ldy);
  }
  int64_t fused_tokens() const override { return 8; }

  std::vector<uint8_t> to_codes() const override {
    BitWriter out;
    const octet::View m = view();
    for (int64_t r = 0; r < rows(); ++r) {
      for (int64_t g = 0; g < groups_; ++g) out.put(scales_[static_cast<size_t>(r * groups_ + g)], kScaleBits);
      for (int64_t j = 0; j < blocks_; ++j) {
        const uint64_t word = octet::word_at(m, r * blocks_ + j);
        out.put(octet::gain_of(m, word), gain_bits_);
        out.put(ball_.rank(tables_.point_of(word, escapes_.data())), ball_.bits());
      }
    }
    return out.bytes();
  }

 private:
  octet::View view() const {
    octet::View m = tables_.view();
    m.words = words_.data() + octet::kWordsBefore;
    m.scales = scales_.data();
    m.escapes = escapes_.data();
    m.blocks = blocks_;
    m.groups = groups_;
    m.blocks_per_group = blocks_per_group_;
    return m;
  }

  void check_rows(int64_t r0, int64_t r1) const {
    if (r0 < 0 || r1 > rows() || r0 > r1)
      throw InputError("rows [" + std::to_string(r0) + ", " + std::to_string(r1) + ") outside the matrix");
  }

  // The minimal bitstream, row by row: scales, then (gain, ball index) per block; every code
  // is validated before it is converted. Rows go in chunks whose codes are read first and then
  // converted together (CodeReader::words_of, on all cores).
  void read_rows(const uint8_t* codes, size_t size) {
    constexpr int64_t kChunkRows = 64;
    BitReader in(codes, size);
    std::vector<octet::CodeReader::Code> chunk;
    std::vector<uint64_t> words;
    for (int64_t r0 = 0; r0 < rows(); r0 += kChunkRows) {
      const int64_t r1 = std::min(rows(), r0 + kChunkRows);
      chunk.clear();
      for (int64_t r = r0; r < r1; ++r) {
        read_scales(in, r);
        for (int64_t j = 0; j < blocks_; ++j) chunk.push_back(reader_.next_code(in, spec_, r, j));
      }
      words.resize(chunk.size());
      reader_.words_of(chunk, escapes_, words.data());
      for (size_t i = 0; i < words.size(); ++i) store_word(r0 * blocks_ + static_cast<int64_t>(i), words[i]);
    }
  }

  void read_scales(BitReader& in, int64_t r) {
    for (int64_t g = 0; g < groups_; ++g) {
      const auto raw = static_cast<uint16_t>(in.get(kScaleBits));
      const float s = bf16_to_scale(raw);
      if (!std::isfinite(s) || s < 0) throw InputError(spec_ + ": row " + std::to_string(r) + ": corrupt scale");
      scales_[static_cast<size_t>(r * groups_ + g)] = raw;
    }
  }

  // Word i's word_bytes low bytes (little-endian), back to back.
  void store_word(int64_t i, uint64_t word) {
    uint8_t* at = words_.data() + octet::kWordsBefore + i * word_bytes_;
    for (int b = 0; b < word_bytes_; ++b) at[b] = static_cast<uint8_t>(word >> (8 * b));
  }

  std::string spec_;
  const LeechBall& ball_;
  const octet::OctetTables& tables_;
  int gain_bits_;
  octet::CodeReader reader_;
  int64_t blocks_ = 0, groups_ = 0, blocks_per_group_ = 0;
  int word_bytes_ = 8;
  std::vector<uint8_t> words_;    // kWordsBefore bytes of padding, then the words, then padding
  std::vector<uint16_t> scales_;  // bfloat16, as in the file
  std::vector<octet::Escape> escapes_;
};

}  // namespace

namespace detail {

bool leech_handles(const Codec& codec) {
  const KernelLayout layout = codec.kernel_layout();
  const auto* params = std::get_if<LeechLayout>(&layout);
  if (!params) return false;
  try {
    octet::OctetTables::get(*params);
  } catch (const InputError&) {
    return false;
  }
  return true;
}

std::unique_ptr<PackedMatrix> pack_leech(const Codec& codec, const uint8_t* codes, size_t size, int64_t rows,
                                         int64_t cols) {
  const KernelLayout layout = codec.kernel_layout();
  const auto* params = std::get_if<LeechLayout>(&layout);
  if (!params) throw InputError("no Leech kernels for codec " + codec.spec());
  return std::make_unique<LeechPacked>(codec, *params, codes, size, rows, cols);
}

}  // namespace detail
}  // namespace llvq::kernels

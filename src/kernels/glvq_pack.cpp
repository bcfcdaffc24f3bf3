// The GLVQ kernels' packed matrix (glvq_kernels.hpp): validation and repacking of the
// group-major codes into rows, the way back (to_codes), the scalar reference kernels and the
// linear GEMV's input transform.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/glvq_kernels.hpp"
#include "kernels/kernels_impl.hpp"
#include "llvq/bitstream.hpp"
#include "llvq/error.hpp"

namespace llvq::kernels {
namespace glvq {
namespace {

double expand_ref(double y, const Group& grp) {
  if (!grp.expand) return y;
  return grp.scale * std::copysign(std::expm1(std::log1p(grp.mu) * std::abs(y)) / grp.mu, y);
}

// Row r of the matrix, decoded in double as GlvqTensor::dequantize does, rounded to float.
void decode_row_ref(const View& v, int64_t r, float* out) {
  const int d = v.dim;
  const uint8_t* row = v.codes + r * v.row_bytes;
  const double rs = v.row_scale ? static_cast<double>(v.row_scale[r]) : 1.0;
  std::vector<double> q(static_cast<size_t>(d));
  for (int gi = 0; gi < v.groups; ++gi) {
    const Group& grp = v.group[gi];
    float* o = out + grp.col0;
    if (grp.bits == 0) {
      std::fill(o, o + grp.width, 0.0f);
      continue;
    }
    for (int k = 0; k < grp.width; k += d) {
      for (int j = 0; j < d; ++j)
        q[static_cast<size_t>(j)] = code_at(row + grp.row_offset, grp.bits, k + j) - static_cast<double>(grp.center);
      for (int i = 0; i < d; ++i) {
        double y = 0;
        for (int j = 0; j < d; ++j) y += static_cast<double>(grp.g_cols[j * d + i]) * q[static_cast<size_t>(j)];
        o[k + i] = static_cast<float>(rs * expand_ref(y, grp));
      }
    }
  }
}

}  // namespace

void decode_rows_ref(const View& v, int64_t r0, int64_t r1, float* out) {
  for (int64_t r = r0; r < r1; ++r) decode_row_ref(v, r, out + (r - r0) * v.cols);
}

void gemv_rows_ref(const View& v, const float* x, int64_t r0, int64_t r1, float* y) {
  std::vector<float> w(static_cast<size_t>(v.cols));
  for (int64_t r = r0; r < r1; ++r) {
    decode_row_ref(v, r, w.data());
    double s = 0;
    for (int64_t c = 0; c < v.cols; ++c) s += static_cast<double>(w[static_cast<size_t>(c)]) * x[c];
    y[r - r0] = static_cast<float>(s);
  }
}

void set_unpack_shifts(Group& grp) {
  const int b = grp.bits, base = 4 * b % 8;
  grp.hi_byte8 = 4 * b / 8;
  for (int i = 0; i < 4; ++i) {
    grp.shift8[i] = i * b;
    grp.shift8[4 + i] = 32 - base - i * b;
  }
  for (int i = 0; i < 8; ++i) grp.shift16[i] = i * b;
}

LinearInput prepare_linear(const View& v, const float* x, int lanes, const int* lane_column, int max_bits) {
  static thread_local std::vector<float> xp, block;
  static thread_local std::vector<int64_t> offset;
  const int d = v.dim;
  offset.resize(static_cast<size_t>(v.groups));
  int64_t size = 0;
  for (int gi = 0; gi < v.groups; ++gi) {
    offset[static_cast<size_t>(gi)] = size;
    size += (v.group[gi].width + lanes - 1) / lanes * lanes;
  }
  xp.assign(static_cast<size_t>(size), 0.0f);
  double bias = 0;
  block.resize(static_cast<size_t>(v.group[0].width + lanes));  // group 0 is the widest
  for (int gi = 0; gi < v.groups; ++gi) {
    const Group& grp = v.group[gi];
    if (grp.bits == 0) continue;
    // x'_j = Σ_i G_ij·x_i for each block of the group, in column order.
    std::fill(block.begin(), block.end(), 0.0f);
    double sum = 0;
    for (int k = 0; k < grp.width; k += d) {
      const float* xb = x + grp.col0 + k;
      float* xo = block.data() + k;
      for (int i = 0; i < d; ++i)
        for (int j = 0; j < d; ++j) xo[j] += grp.g_cols[j * d + i] * xb[i];
      for (int j = 0; j < d; ++j) sum += xo[j];
    }
    bias += grp.center * sum;
    float* dst = xp.data() + offset[static_cast<size_t>(gi)];
    const bool permuted = grp.bits <= max_bits;
    for (int c0 = 0; c0 < grp.width; c0 += lanes)
      for (int l = 0; l < lanes; ++l) dst[c0 + l] = block[static_cast<size_t>(c0 + (permuted ? lane_column[l] : l))];
  }
  return LinearInput{xp.data(), offset.data(), bias};
}

}  // namespace glvq

namespace {

using glvq::Group;
using glvq::View;

// The largest chunk tables a group gets (the widest codes at D = 24 and 32 decode by G·z).
constexpr int64_t kMaxTableBytes = 16 << 10;
// With companding, a block's chunk exponents |a·y_t| must sum below this, so that no partial
// product of the e^(a·y_t) leaves float's normal range (e^±87); else the group computes G·z.
constexpr double kMaxExponentSum = 80;

// Codes per chunk: 2 where those tables fit kMaxTableBytes, else 1, else 0 (no tables). Only
// companding groups of D = 8 have tables: a linear group decodes as fast by G·z (8 lane
// permutes and FMAs per block against 4 table reads, each with its index arithmetic), and at
// D = 24 or 32 a block reads D/k table rows of D floats, more work than G·z and the expansion.
int chunk_codes(int dim, int bits, bool expand) {
  if (bits == 0 || !expand || dim != 8) return 0;
  for (int k : {2, 1}) {
    const int64_t bytes = int64_t{dim / k} * (int64_t{1} << (k * bits)) * dim * static_cast<int64_t>(sizeof(float));
    if (bytes <= kMaxTableBytes) return k;
  }
  return 0;
}

// The chunk tables of one companding group (glvq_kernels.hpp, Group::table) from G (row-major,
// double), or an empty vector when a product of them could leave float's range.
std::vector<float> chunk_tables(const Group& grp, const double* g, int dim) {
  const int k = grp.chunk_codes, field = k * grp.bits, chunks = dim / k;
  const int64_t values = int64_t{1} << field;
  const double center = grp.center;  // (2^b − 1)/2, exact in float
  const double a = std::log1p(grp.mu);
  std::vector<float> table(static_cast<size_t>(chunks * values * dim));
  std::vector<double> largest(static_cast<size_t>(dim), 0.0);  // per output, Σ_t max |a·y_t|
  for (int t = 0; t < chunks; ++t) {
    std::vector<double> chunk_max(static_cast<size_t>(dim), 0.0);
    for (int64_t v = 0; v < values; ++v)
      for (int i = 0; i < dim; ++i) {
        double y = 0;
        for (int j = 0; j < k; ++j)
          y += g[i * dim + t * k + j] * (static_cast<double>(v >> (j * grp.bits) & ((1 << grp.bits) - 1)) - center);
        chunk_max[static_cast<size_t>(i)] = std::max(chunk_max[static_cast<size_t>(i)], std::abs(a * y));
        table[static_cast<size_t>((t * values + v) * dim + i)] = static_cast<float>(std::exp(a * y));
      }
    for (int i = 0; i < dim; ++i) largest[static_cast<size_t>(i)] += chunk_max[static_cast<size_t>(i)];
  }
  if (*std::max_element(largest.begin(), largest.end()) > kMaxExponentSum) return {};
  return table;
}

class GlvqMatrix final : public PackedMatrix {
 public:
  explicit GlvqMatrix(const GroupedLatticeCodes& in) : PackedMatrix(in.rows, in.cols), spec_(in.spec), dim_(in.dim) {
    validate(in);
    const int64_t groups = (in.cols + in.group_width - 1) / in.group_width;
    const size_t dd = static_cast<size_t>(dim_) * static_cast<size_t>(dim_);
    g_cols_.resize(in.g.size());
    g_offset_.resize(static_cast<size_t>(groups * dim_));
    groups_.resize(static_cast<size_t>(groups));
    int64_t row_bits = 0;
    for (int64_t gi = 0; gi < groups; ++gi) {
      Group& grp = groups_[static_cast<size_t>(gi)];
      grp.col0 = gi * in.group_width;
      grp.width = static_cast<int>(std::min(in.group_width, in.cols - grp.col0));
      grp.bits = in.bits[static_cast<size_t>(gi)];
      grp.row_offset = row_bits / 8;
      row_bits += int64_t{grp.width} * grp.bits;
      grp.center = static_cast<float>(0.5 * (std::ldexp(1.0, grp.bits) - 1));
      glvq::set_unpack_shifts(grp);
      grp.expand = !in.mu.empty();
      if (grp.expand) {
        grp.mu = in.mu[static_cast<size_t>(gi)];
        grp.scale = in.scale[static_cast<size_t>(gi)];
        grp.log1p_mu = static_cast<float>(std::log1p(grp.mu));
        grp.scale_over_mu = static_cast<float>(grp.scale / grp.mu);
      }
      const size_t base = static_cast<size_t>(gi) * dd;
      for (int i = 0; i < dim_; ++i) {
        double row_sum = 0;
        for (int j = 0; j < dim_; ++j) {
          const float e = static_cast<float>(in.g[base + static_cast<size_t>(i * dim_ + j)]);
          g_cols_[base + static_cast<size_t>(j * dim_ + i)] = e;
          row_sum += e;
        }
        g_offset_[static_cast<size_t>(gi * dim_ + i)] = static_cast<float>(static_cast<double>(grp.center) * row_sum);
      }
    }
    std::vector<size_t> table_offset(static_cast<size_t>(groups));
    for (int64_t gi = 0; gi < groups; ++gi) {
      Group& grp = groups_[static_cast<size_t>(gi)];
      grp.chunk_codes = chunk_codes(dim_, grp.bits, grp.expand);
      if (!grp.chunk_codes) continue;
      const std::vector<float> t = chunk_tables(grp, in.g.data() + static_cast<size_t>(gi) * dd, dim_);
      if (t.empty()) grp.chunk_codes = 0;
      table_offset[static_cast<size_t>(gi)] = tables_.size();
      tables_.insert(tables_.end(), t.begin(), t.end());
    }
    row_bytes_ = row_bits / 8;
    row_scale_.assign(in.row_scale.begin(), in.row_scale.end());
    repack(in);
    for (int64_t gi = 0; gi < groups; ++gi) {
      Group& grp = groups_[static_cast<size_t>(gi)];
      const size_t base = static_cast<size_t>(gi) * dd;
      grp.g_cols = g_cols_.data() + base;
      grp.g_offset = g_offset_.data() + gi * dim_;
      if (grp.chunk_codes) grp.table = tables_.data() + table_offset[static_cast<size_t>(gi)];
    }
    view_.rows = rows();
    view_.cols = cols();
    view_.dim = dim_;
    view_.groups = static_cast<int>(groups);
    view_.group = groups_.data();
    view_.codes = codes_.data();
    view_.row_bytes = row_bytes_;
    view_.row_scale = row_scale_.empty() ? nullptr : row_scale_.data();
    view_.linear = in.mu.empty();
  }

  std::string codec_spec() const override { return spec_; }

  uint64_t bytes() const override {
    return static_cast<uint64_t>(rows() * row_bytes_) +
           sizeof(float) * (g_cols_.size() + g_offset_.size() + row_scale_.size() + tables_.size());
  }

  void decode_rows(int64_t r0, int64_t r1, float* out, Isa isa) const override {
    detail::for_isa(isa, glvq::decode_rows_ref, glvq::decode_rows_avx2, glvq::decode_rows_avx512)(view_, r0, r1, out);
  }

  void gemv_rows(const float* x, int64_t r0, int64_t r1, float* y, Isa isa) const override {
    detail::for_isa(isa, glvq::gemv_rows_ref, glvq::gemv_rows_avx2, glvq::gemv_rows_avx512)(view_, x, r0, r1, y);
  }

  // GLVQ's own code stream: group by group, the group's rows back to back.
  std::vector<uint8_t> to_codes() const override {
    BitWriter out;
    for (const Group& grp : groups_)
      for (int64_t r = 0; r < rows(); ++r)
        append_codes(codes_.data(), codes_.size(), (r * row_bytes_ + grp.row_offset) * 8, grp, out);
    return out.bytes();
  }

 private:
  void validate(const GroupedLatticeCodes& in) const {
    auto fail = [&](const std::string& m) { throw InputError("pack_grouped_lattice (" + in.spec + "): " + m); };
    if (in.rows <= 0 || in.cols <= 0) fail("shape must be positive");
    if (in.dim != 8 && in.dim != 24 && in.dim != 32) fail("dim must be 8, 24 or 32");
    if (in.cols % in.dim != 0) fail("cols must be a multiple of dim");
    if (in.group_width <= 0 || in.group_width % in.dim != 0) fail("group width must be a positive multiple of dim");
    const int64_t groups = (in.cols + in.group_width - 1) / in.group_width;
    if (in.g.size() != static_cast<size_t>(groups * in.dim * in.dim)) fail("G must hold groups·dim² entries");
    for (double e : in.g)
      if (!std::isfinite(static_cast<float>(e))) fail("G has an entry that is not a finite float");
    if (in.mu.size() != in.scale.size() || (!in.mu.empty() && in.mu.size() != static_cast<size_t>(groups)))
      fail("μ and scale must both be empty or hold one value per group");
    for (size_t k = 0; k < in.mu.size(); ++k)
      if (!(std::isfinite(in.mu[k]) && in.mu[k] > 0 && std::isfinite(in.scale[k]) && in.scale[k] > 0))
        fail("μ and scale must be finite and > 0");
    if (in.bits.size() != static_cast<size_t>(groups)) fail("one bit width per group expected");
    int64_t bits = 0;
    for (int64_t gi = 0; gi < groups; ++gi) {
      if (in.bits[static_cast<size_t>(gi)] > glvq::kMaxBits) fail("bit width above " + std::to_string(glvq::kMaxBits));
      bits += in.rows * std::min(in.group_width, in.cols - gi * in.group_width) * in.bits[static_cast<size_t>(gi)];
    }
    if (in.codes.size() != static_cast<size_t>((bits + 7) / 8))
      fail(std::to_string(in.codes.size()) + " code bytes, expected " + std::to_string((bits + 7) / 8));
    if (!in.row_scale.empty() && in.row_scale.size() != static_cast<size_t>(in.rows))
      fail("one row scale per row expected");
    for (double s : in.row_scale)
      if (!(std::isfinite(static_cast<float>(s)) && static_cast<float>(s) > 0))
        fail("row scales must be finite floats > 0");
  }

  // Appends the group's codes of one row, which start at `bit` of data, to out.
  static void append_codes(const uint8_t* data, size_t size, int64_t bit, const Group& grp, BitWriter& out) {
    const auto begin = static_cast<size_t>(bit);
    BitReader in(data, size, begin, begin + static_cast<size_t>(grp.width) * static_cast<size_t>(grp.bits));
    for (int i = 0; i < grp.width; ++i) out.put(in.get(grp.bits), grp.bits);
  }

  // Group-major stream → rows (to_codes' inverse); padding after the last row for the
  // unpack's over-reads.
  void repack(const GroupedLatticeCodes& in) {
    std::vector<int64_t> group_start;  // bit of each group's codes in the group-major stream
    int64_t bit = 0;
    for (const Group& grp : groups_) {
      group_start.push_back(bit);
      bit += rows() * grp.width * grp.bits;
    }
    BitWriter out;
    for (int64_t r = 0; r < rows(); ++r)
      for (size_t gi = 0; gi < groups_.size(); ++gi) {
        const Group& grp = groups_[gi];
        append_codes(in.codes.data(), in.codes.size(), group_start[gi] + r * grp.width * grp.bits, grp, out);
      }
    codes_ = out.bytes();
    codes_.resize(static_cast<size_t>(rows() * row_bytes_ + glvq::kCodePadding), 0);
  }

  std::string spec_;
  int dim_;
  int64_t row_bytes_ = 0;
  std::vector<float> g_cols_, g_offset_, row_scale_, tables_;
  std::vector<Group> groups_;
  std::vector<uint8_t> codes_;
  View view_;
};

}  // namespace

std::unique_ptr<PackedMatrix> pack_grouped_lattice(const GroupedLatticeCodes& codes) {
  return std::make_unique<GlvqMatrix>(codes);
}

}  // namespace llvq::kernels

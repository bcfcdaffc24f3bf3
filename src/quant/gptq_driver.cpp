// The row codecs' quantizer: GPTQ (or RTN) over each candidate row layout with the codec's own
// block rounding, the best layout per true bit kept.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "llvq/bitstream.hpp"
#include "llvq/codec.hpp"
#include "llvq/error.hpp"
#include "llvq/parallel.hpp"
#include "llvq/quantize.hpp"
#include "llvq/report.hpp"
#include "quant/pipeline_detail.hpp"

namespace llvq::quant_detail {
namespace {

// Per-row coding state while GPTQ walks the columns: the side information fitted when the
// row's body (or tail) starts, and the row's bit stream.
struct RowCoder {
  RowSide body_side, tail_side;
  BitWriter body_bits, tail_bits;
};

std::vector<float> to_float(const double* x, size_t n) {
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(x[i]);
  return out;
}

std::vector<uint8_t> concat_rows(std::vector<RowCoder>& coders, bool tail) {
  BitWriter all;
  for (auto& c : coders) all.append(tail ? c.tail_bits : c.body_bits);
  return all.bytes();
}

// Copies `nbits` bits from `in` to `out` in chunks the reader accepts.
void copy_bits(BitReader& in, BitWriter& out, size_t nbits) {
  for (; nbits > 0;) {
    const int chunk = static_cast<int>(std::min<size_t>(nbits, 32));
    out.put(in.get(chunk), chunk);
    nbits -= static_cast<size_t>(chunk);
  }
}

// Replaces the side information at the start of a row's stream, keeping its block codes.
void rewrite_side(const Codec& codec, size_t n, const RowSide& side, BitWriter& row) {
  const auto bytes = row.bytes();
  BitReader in(bytes.data(), bytes.size(), 0, row.size_bits());
  BitWriter out;
  codec.write_side(side, out);
  BitWriter skipped;
  copy_bits(in, skipped, codec.side_bits(n));
  copy_bits(in, out, row.size_bits() - codec.side_bits(n));
  row = std::move(out);
}

// The side information the codec would store for `side` (its scales rounded to the
// codec's stored precision), via a write/read round trip.
RowSide representable(const Codec& codec, size_t n, const RowSide& side) {
  BitWriter w;
  codec.write_side(side, w);
  const auto bytes = w.bytes();
  BitReader in(bytes.data(), bytes.size(), 0, w.size_bits());
  return codec.read_side(in, n);
}

// A codec group's scale times its solved factor, where that is a scale (finite and
// positive); else the codec's own. The least-squares factor comes out ≤ 0 for rows whose codes
// anticorrelate with their weights in the Hessian's metric: seen on SmolLM2's blk.11.ffn_down,
// whose input Hessian is nearly rank one (one massive activation channel), so a row with
// almost no weight on that channel is measured by the Hessian's tiny remainder alone.
float solved_scale(float scale, double factor) {
  const float solved = scale * static_cast<float>(factor);  // float product, as before the check
  return std::isfinite(solved) && solved > 0 ? solved : scale;
}

// Spherical GPTQ's final step without extra bits: per row, the scale of every codec group
// (body and tail) is re-solved in the Hessian metric and folded into the codec's own
// stored scales. Returns false (nothing changed) when a codec keeps no scales.
bool fold_solved_scales(std::vector<RowCoder>& coders, const RowLayout& l, const RowMatrixD& w,
                        const RowMatrixD& q, const Eigen::MatrixXd& h, double lambda) {
  const RowSide& body0 = coders.front().body_side;
  if (body0.scales.empty() || (l.tail && coders.front().tail_side.scales.empty())) return false;
  std::vector<Eigen::Index> bounds;
  for (Eigen::Index c = 0; c < l.body_cols; c += static_cast<Eigen::Index>(body0.group)) bounds.push_back(c);
  const size_t n_body = bounds.size();
  if (l.tail) {
    const size_t g = coders.front().tail_side.group;
    for (Eigen::Index c = l.body_cols; c < l.body_cols + l.tail_cols; c += static_cast<Eigen::Index>(g)) bounds.push_back(c);
  }
  bounds.push_back(l.body_cols + l.tail_cols);
  const RowMatrixD s = solve_partition_scales(w, q, h, bounds, lambda);
  parallel_for(coders.size(), 8, [&](size_t r) {
    RowCoder& rc = coders[r];
    const auto ri = static_cast<Eigen::Index>(r);
    RowSide body = rc.body_side;
    for (size_t g = 0; g < body.scales.size(); ++g)
      body.scales[g] = solved_scale(body.scales[g], s(ri, static_cast<Eigen::Index>(g)));
    rc.body_side = representable(*l.body, static_cast<size_t>(l.body_cols), body);
    rewrite_side(*l.body, static_cast<size_t>(l.body_cols), rc.body_side, rc.body_bits);
    if (l.tail) {
      RowSide tail = rc.tail_side;
      for (size_t g = 0; g < tail.scales.size(); ++g)
        tail.scales[g] = solved_scale(tail.scales[g], s(ri, static_cast<Eigen::Index>(n_body + g)));
      rc.tail_side = representable(*l.tail, static_cast<size_t>(l.tail_cols), tail);
      rewrite_side(*l.tail, static_cast<size_t>(l.tail_cols), rc.tail_side, rc.tail_bits);
    }
  });
  return true;
}

struct LayoutRun {
  std::shared_ptr<const QuantizedTensor> tensor;
  double weighted_error = 0;
};

// Finite weights whose magnitude overflows the code's scale format (bf16 scales up to ~3.4e38,
// products with the codebook beyond float) decode to Inf or NaN: an error, never a NaN model.
void require_finite_result(const RowMatrixD& w, const RowMatrixD& dequantized, const std::string& codec) {
  // Finite in double is not enough: the layer runs in float.
  if (!(dequantized.array().abs() <= static_cast<double>(std::numeric_limits<float>::max())).all())
    throw InputError("quantizing with " + codec + " gives non-finite weights: the largest |weight| " +
                     strfmt("%g", w.cwiseAbs().maxCoeff()) + " overflows the code's scale format");
}

// Round to nearest: every block rounded on the original weights, in column order along each
// row — what GPTQ does with an identity Hessian, whose error feedback is zero — without the
// n×n factorisation, which costs seconds on 4096-wide layers.
void round_in_order(const RowMatrixD& w, const std::vector<size_t>& blocks, const BlockRounder& rounder) {
  const size_t widest = *std::max_element(blocks.begin(), blocks.end());
  parallel_for(static_cast<size_t>(w.rows()), 4, [&](size_t r) {
    std::vector<float> out(widest);
    size_t col0 = 0;
    for (const size_t width : blocks) {
      rounder(r, col0, width, w.row(static_cast<Eigen::Index>(r)).data(), out.data());
      col0 += width;
    }
  });
}

// ‖ΔW‖²_F / ‖W‖²_F over the real columns: relative_weighted_error for the identity metric of
// the layer's inputs, which gives the layout's zero padding no weight (as pad_hessian does).
double relative_error(const RowMatrixD& w, const RowMatrixD& q, const RowLayout& l, int64_t cols) {
  const double den = w.squaredNorm();
  RowMatrixD d = w - q;
  const int64_t body_real = std::min(cols, l.body_cols);
  d.middleCols(body_real, l.body_cols - body_real).setZero();
  return den > 0 ? d.squaredNorm() / den : 0.0;
}

// `h_rot` empty: no Hessian, the identity metric.
LayoutRun run_layout(const RowMatrixD& w_rot, const Eigen::MatrixXd& h_rot, const RowLayout& l,
                     const TensorQuantOptions& o) {
  const int64_t cols = w_rot.cols();
  const RowMatrixD w = pad_weight(w_rot, l, cols);
  const bool identity = h_rot.size() == 0;
  const Eigen::MatrixXd h = identity ? Eigen::MatrixXd() : pad_hessian(h_rot, l, cols);
  const auto rows = w.rows();
  std::vector<RowCoder> coders(static_cast<size_t>(rows));
  const bool spherical = o.rounding == Rounding::SphericalGptq;

  const BlockRounder rounder = [&](size_t row, size_t col0, size_t width, const double* current, float* out) {
    RowCoder& rc = coders[row];
    const bool in_tail = static_cast<int64_t>(col0) >= l.body_cols;
    const Codec& codec = in_tail ? *l.tail : *l.body;
    const size_t start = in_tail ? static_cast<size_t>(l.body_cols) : 0;
    const size_t len = static_cast<size_t>(in_tail ? l.tail_cols : l.body_cols);
    RowSide& side = in_tail ? rc.tail_side : rc.body_side;
    BitWriter& bits = in_tail ? rc.tail_bits : rc.body_bits;
    if (col0 == start) {  // the segment starts: fit its side information on the current weights
      const auto seg = to_float(current + start, len);
      side = codec.fit_side(seg.data(), len);
      codec.write_side(side, bits);
    }
    const auto x = to_float(current + col0, width);
    codec.quantize_block(side, (col0 - start) / width, x.data(), out, bits);
    if (spherical) {  // Spherical GPTQ: keep the block's norm for the error feedback
      double nx = 0, nq = 0;
      for (size_t i = 0; i < width; ++i) {
        nx += double(x[i]) * x[i];
        nq += double(out[i]) * out[i];
      }
      if (nq > 0) {
        const double s = std::sqrt(nx / nq);
        for (size_t i = 0; i < width; ++i) out[i] = static_cast<float>(out[i] * s);
      }
    }
  };

  GptqOptions go;
  go.damp = o.damp;
  go.blocks.assign(static_cast<size_t>(l.body_cols) / l.body->block_dim(), l.body->block_dim());
  if (l.tail) go.blocks.insert(go.blocks.end(), static_cast<size_t>(l.tail_cols) / l.tail->block_dim(), l.tail->block_dim());
  if (identity || o.rounding == Rounding::Rtn) {
    round_in_order(w, go.blocks, rounder);
  } else {
    gptq_quantize(w, h, go, rounder);
  }

  TensorHeader header;
  header.rows = rows;
  header.cols = cols;
  header.codec = l.body->spec();
  header.body_cols = l.body_cols;
  header.tail_codec = l.tail ? l.tail->spec() : "";
  header.tail_cols = l.tail_cols;
  header.hadamard = o.hadamard;
  header.hadamard_seed = o.hadamard_seed;
  std::vector<uint8_t> body_codes, tail_codes;
  RowMatrixD dequantized;  // in the rotated, padded basis
  auto store_codes = [&] {
    body_codes = concat_rows(coders, false);
    if (l.tail) tail_codes = concat_rows(coders, true);
    dequantized = decode_codes(header, body_codes, tail_codes, *l.body, l.tail.get());
  };
  store_codes();
  if (spherical &&
      fold_solved_scales(coders, l, w, dequantized, identity ? Eigen::MatrixXd::Identity(w.cols(), w.cols()) : h,
                         o.scale_damp))
    store_codes();
  require_finite_result(w, dequantized, header.codec);
  LayoutRun run;
  run.weighted_error = identity ? relative_error(w, dequantized, l, cols) : relative_weighted_error(w, dequantized, h);
  run.tensor = make_row_tensor(std::move(header), std::move(body_codes), std::move(tail_codes));
  return run;
}

}  // namespace

TensorQuantResult quantize_rows(const RowMatrixD& w, const Eigen::MatrixXd& h, const TensorQuantOptions& o) {
  TensorQuantResult best;
  double best_merit = INFINITY;
  for (const RowLayout& l : candidate_layouts(shared_codec(o.codec), w.cols(), o.tail)) {
    LayoutRun run = run_layout(w, h, l, o);
    // Quality per true bit: under D(R) ∝ 2^(−2R) one extra bit per weight is worth a factor 4
    // in error, so layouts of different rates compare through error · 4^bpw.
    const double merit = run.weighted_error * std::pow(4.0, run.tensor->bits_per_weight());
    if (merit < best_merit) {
      best_merit = merit;
      best.tensor = std::move(run.tensor);
      best.weighted_error = run.weighted_error;
      best.layout = l.name;
    }
  }
  return best;
}

}  // namespace llvq::quant_detail

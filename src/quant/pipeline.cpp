#include <Eigen/Dense>
#include <chrono>
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "llvq/bitstream.hpp"
#include "llvq/codec.hpp"
#include "llvq/error.hpp"
#include "llvq/hadamard.hpp"
#include "llvq/quantize.hpp"
#include "llvq/report.hpp"

namespace llvq {

std::string to_string(Rounding r) {
  switch (r) {
    case Rounding::Rtn: return "rtn";
    case Rounding::Gptq: return "gptq";
    case Rounding::SphericalGptq: return "spherical-gptq";
  }
  return "?";
}
std::string to_string(HadamardMode h) {
  switch (h) {
    case HadamardMode::None: return "none";
    case HadamardMode::In: return "in";
    case HadamardMode::InOut: return "inout";
  }
  return "?";
}
std::string to_string(TailMode t) {
  switch (t) {
    case TailMode::Auto: return "auto";
    case TailMode::Pad: return "pad";
    case TailMode::Codec: return "codec";
  }
  return "?";
}

Rounding parse_rounding(const std::string& s) {
  for (Rounding r : {Rounding::Rtn, Rounding::Gptq, Rounding::SphericalGptq})
    if (to_string(r) == s) return r;
  throw InputError("unknown rounding '" + s + "' (rtn, gptq, spherical-gptq)");
}
HadamardMode parse_hadamard(const std::string& s) {
  for (HadamardMode h : {HadamardMode::None, HadamardMode::In, HadamardMode::InOut})
    if (to_string(h) == s) return h;
  throw InputError("unknown Hadamard mode '" + s + "' (none, in, inout)");
}
TailMode parse_tail(const std::string& s) {
  for (TailMode t : {TailMode::Auto, TailMode::Pad, TailMode::Codec})
    if (to_string(t) == s) return t;
  throw InputError("unknown tail mode '" + s + "' (auto, pad, codec)");
}

namespace {

// How a row of `cols` weights is split between the body codec and an optional tail codec.
struct RowLayout {
  std::shared_ptr<const Codec> body, tail;
  int64_t body_cols = 0, tail_cols = 0;
  std::string name;
};

// The tail codec of the same rate as the body: E8P (2 bits per weight only) for tails that
// are a multiple of 8, a per-row Lloyd–Max scalar quantizer otherwise. The body's nominal
// rate is its whole number of code bits per weight (side information is below one bit).
std::string tail_spec(int64_t tail_cols, double body_bpw) {
  const int rate = std::clamp(static_cast<int>(std::floor(body_bpw + 1e-9)), 1, 8);
  if (tail_cols % 8 == 0 && rate == 2) return "e8p";
  return "scalar:bpw=" + std::to_string(rate) + ",kind=lloyd,group=0";
}

// The smallest row length the codec accepts: its block, or a multiple of it when the codec
// also needs whole scale groups (searched up to 64 blocks).
int64_t row_unit(const Codec& codec) {
  return static_cast<int64_t>(smallest_row_length(codec, codec.block_dim(), 64 * codec.block_dim()));
}

std::vector<RowLayout> candidate_layouts(const std::shared_ptr<const Codec>& codec, int64_t cols, TailMode mode) {
  const int64_t b = row_unit(*codec);
  const int64_t rem = cols % b;
  if (rem == 0) return {RowLayout{codec, nullptr, cols, 0, "exact"}};
  std::vector<RowLayout> out;
  if (mode != TailMode::Codec || cols < b) out.push_back({codec, nullptr, cols - rem + b, 0, "pad"});
  if (mode != TailMode::Pad && cols >= b) {
    const int64_t body = cols - rem;
    auto tail = shared_codec(tail_spec(rem, codec->bits_per_weight(static_cast<size_t>(body))));
    if (rem % row_unit(*tail) == 0) out.push_back({codec, tail, body, rem, "tail:" + tail->spec()});
  }
  if (out.empty()) throw InputError("no layout fits a row of " + std::to_string(cols) + " weights");
  return out;
}

// Applies Q to every row of w (w ← w·Qᵀ) and, for InOut, P to every column.
void rotate_weight(RowMatrixD& w, HadamardMode mode, uint64_t seed, bool inverse) {
  if (mode == HadamardMode::None) return;
  const auto rows = w.rows(), cols = w.cols();
  const RandomizedHadamard qin(static_cast<size_t>(cols), seed);
  std::unique_ptr<RandomizedHadamard> qout;
  if (mode == HadamardMode::InOut) qout = std::make_unique<RandomizedHadamard>(static_cast<size_t>(rows), seed + 1);
  std::vector<float> buf;
  auto apply = [&](const RandomizedHadamard& q, std::vector<float>& v) {
    inverse ? q.apply_transpose(v.data()) : q.apply(v.data());
  };
  for (Eigen::Index r = 0; r < rows; ++r) {
    buf.assign(w.row(r).data(), w.row(r).data() + cols);
    apply(qin, buf);
    for (Eigen::Index c = 0; c < cols; ++c) w(r, c) = buf[static_cast<size_t>(c)];
  }
  if (qout) {
    buf.resize(static_cast<size_t>(rows));
    for (Eigen::Index c = 0; c < cols; ++c) {
      for (Eigen::Index r = 0; r < rows; ++r) buf[static_cast<size_t>(r)] = static_cast<float>(w(r, c));
      apply(*qout, buf);
      for (Eigen::Index r = 0; r < rows; ++r) w(r, c) = buf[static_cast<size_t>(r)];
    }
  }
}

// H ← Q·H·Qᵀ for the input transform Q (the Hessian of the rotated inputs Q·x).
Eigen::MatrixXd rotate_hessian(const Eigen::MatrixXd& h, uint64_t seed) {
  RowMatrixD tmp = h;
  rotate_weight(tmp, HadamardMode::In, seed, false);  // rows: H·Qᵀ
  Eigen::MatrixXd t = tmp.transpose();
  RowMatrixD tt = t;
  rotate_weight(tt, HadamardMode::In, seed, false);  // (Q·H·Qᵀ)ᵀ, symmetric
  return tt;
}

// W and H widened with zero columns where the layout pads the body.
RowMatrixD pad_weight(const RowMatrixD& w, const RowLayout& l, int64_t cols) {
  RowMatrixD out = RowMatrixD::Zero(w.rows(), l.body_cols + l.tail_cols);
  const int64_t body_real = std::min(cols, l.body_cols);
  out.leftCols(body_real) = w.leftCols(body_real);
  if (l.tail_cols) out.rightCols(l.tail_cols) = w.rightCols(l.tail_cols);
  return out;
}

Eigen::MatrixXd pad_hessian(const Eigen::MatrixXd& h, const RowLayout& l, int64_t cols) {
  const int64_t n = l.body_cols + l.tail_cols;
  std::vector<int64_t> src(static_cast<size_t>(n), -1);  // padded column → original column
  const int64_t body_real = std::min(cols, l.body_cols);
  for (int64_t c = 0; c < body_real; ++c) src[static_cast<size_t>(c)] = c;
  for (int64_t c = 0; c < l.tail_cols; ++c) src[static_cast<size_t>(l.body_cols + c)] = body_real + c;
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(n, n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      if (src[static_cast<size_t>(i)] >= 0 && src[static_cast<size_t>(j)] >= 0)
        out(i, j) = h(src[static_cast<size_t>(i)], src[static_cast<size_t>(j)]);
  return out;
}

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
#pragma omp parallel for schedule(dynamic, 8)
  for (size_t r = 0; r < coders.size(); ++r) {
    RowCoder& rc = coders[r];
    const auto ri = static_cast<Eigen::Index>(r);
    RowSide body = rc.body_side;
    for (size_t g = 0; g < body.scales.size(); ++g) body.scales[g] *= static_cast<float>(s(ri, static_cast<Eigen::Index>(g)));
    rc.body_side = representable(*l.body, static_cast<size_t>(l.body_cols), body);
    rewrite_side(*l.body, static_cast<size_t>(l.body_cols), rc.body_side, rc.body_bits);
    if (l.tail) {
      RowSide tail = rc.tail_side;
      for (size_t g = 0; g < tail.scales.size(); ++g)
        tail.scales[g] *= static_cast<float>(s(ri, static_cast<Eigen::Index>(n_body + g)));
      rc.tail_side = representable(*l.tail, static_cast<size_t>(l.tail_cols), tail);
      rewrite_side(*l.tail, static_cast<size_t>(l.tail_cols), rc.tail_side, rc.tail_bits);
    }
  }
  return true;
}

struct LayoutRun {
  QuantizedTensor tensor;
  RowMatrixD dequantized;  // in the rotated, padded basis
  double weighted_error = 0;
};

// Decodes the stored codes into the padded, rotated basis (without scales).
RowMatrixD decode_codes(const QuantizedTensor& t, const Codec& body, const Codec* tail) {
  const auto rows = static_cast<size_t>(t.rows);
  std::vector<float> b(rows * static_cast<size_t>(t.body_cols));
  body.decode_rows(t.body_codes.data(), t.body_codes.size(), rows, static_cast<size_t>(t.body_cols), b.data());
  RowMatrixD out(t.rows, t.body_cols + t.tail_cols);
  for (int64_t r = 0; r < t.rows; ++r)
    for (int64_t c = 0; c < t.body_cols; ++c) out(r, c) = b[static_cast<size_t>(r * t.body_cols + c)];
  if (tail) {
    std::vector<float> tb(rows * static_cast<size_t>(t.tail_cols));
    tail->decode_rows(t.tail_codes.data(), t.tail_codes.size(), rows, static_cast<size_t>(t.tail_cols), tb.data());
    for (int64_t r = 0; r < t.rows; ++r)
      for (int64_t c = 0; c < t.tail_cols; ++c) out(r, t.body_cols + c) = tb[static_cast<size_t>(r * t.tail_cols + c)];
  }
  return out;
}

// Finite weights whose magnitude overflows the code's scale format (bf16 scales up to ~3.4e38,
// products with the codebook beyond float) decode to Inf or NaN: an error, never a NaN model.
void require_finite_result(const RowMatrixD& w, const RowMatrixD& dequantized, const std::string& codec) {
  // Finite in double is not enough: the layer runs in float.
  if (!(dequantized.array().abs() <= static_cast<double>(std::numeric_limits<float>::max())).all())
    throw InputError("quantizing with " + codec + " gives non-finite weights: the largest |weight| " +
                     strfmt("%g", w.cwiseAbs().maxCoeff()) + " overflows the code's scale format");
}

LayoutRun run_layout(const RowMatrixD& w_rot, const Eigen::MatrixXd& h_rot, int64_t cols, const RowLayout& l,
                     const TensorQuantOptions& o) {
  const RowMatrixD w = pad_weight(w_rot, l, cols);
  const Eigen::MatrixXd h = pad_hessian(h_rot, l, cols);
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
  const Eigen::MatrixXd h_used = o.rounding == Rounding::Rtn ? Eigen::MatrixXd::Identity(h.rows(), h.cols()) : h;
  gptq_quantize(w, h_used, go, rounder);

  LayoutRun run;
  QuantizedTensor& t = run.tensor;
  t.rows = rows;
  t.cols = cols;
  t.codec = l.body->spec();
  t.body_cols = l.body_cols;
  t.tail_codec = l.tail ? l.tail->spec() : "";
  t.tail_cols = l.tail_cols;
  t.hadamard = o.hadamard;
  t.hadamard_seed = o.hadamard_seed;
  auto store_codes = [&] {
    t.body_codes = concat_rows(coders, false);
    if (l.tail) t.tail_codes = concat_rows(coders, true);
    run.dequantized = decode_codes(t, *l.body, l.tail.get());
  };
  store_codes();
  if (spherical && fold_solved_scales(coders, l, w, run.dequantized, h, o.scale_damp)) store_codes();
  require_finite_result(w, run.dequantized, t.codec);
  run.weighted_error = relative_weighted_error(w, run.dequantized, h);
  return run;
}

// GLVQ's learning is its Hessian-aware step and it pads rows itself: options that would ask
// for something else are refused rather than silently ignored.
void check_glvq_options(const TensorQuantOptions& o) {
  if (o.rounding != Rounding::Gptq)
    throw InputError("glvq: rounding '" + to_string(o.rounding) +
                     "' does not apply (GLVQ learns its generation matrices in the Hessian metric instead of "
                     "GPTQ; leave the rounding at its default, gptq)");
  if (o.tail == TailMode::Codec)
    throw InputError("glvq: tail mode 'codec' does not apply (GLVQ pads rows to a multiple of dim)");
}

// GLVQ on the rotated tensor and Hessian. The report's errors use the full Hessian, as the
// per-row codecs' weighted_error does.
TensorQuantResult quantize_glvq(const RowMatrixD& w_rot, const Eigen::MatrixXd& h_rot, const TensorQuantOptions& o) {
  const GlvqConfig cfg = GlvqConfig::parse(o.codec);
  GlvqReport report;
  GlvqTensor g = glvq_quantize(w_rot, h_rot, cfg, &report);
  TensorQuantResult res;
  QuantizedTensor& t = res.tensor;
  t.rows = w_rot.rows();
  t.cols = w_rot.cols();
  t.codec = cfg.spec();
  t.body_cols = (t.cols + cfg.dim - 1) / cfg.dim * cfg.dim;
  t.hadamard = o.hadamard;
  t.hadamard_seed = o.hadamard_seed;
  t.glvq = std::move(g);
  res.weighted_error = report.weighted_error_final;
  res.weighted_error_init = report.weighted_error_init;
  res.layout = t.body_cols == t.cols ? "exact" : "pad";
  return res;
}

// The GLVQ form's checks: the shared fields describe a padded body without a tail, and the
// GLVQ tensor passes everything its deserialiser checks.
template <class Fail>
void validate_glvq(const QuantizedTensor& t, const Fail& fail) {
  const GlvqTensor& g = *t.glvq;
  std::string spec;
  try {
    spec = GlvqConfig::parse(t.codec).spec();
  } catch (const InputError& e) {
    fail(e.what());
  }
  if (spec != g.config.spec()) fail("codec '" + t.codec + "' differs from the GLVQ tensor's " + g.config.spec());
  if (g.rows != t.rows || g.cols != t.cols) fail("GLVQ tensor shape differs from the layer's");
  if (t.body_cols != (t.cols + g.config.dim - 1) / g.config.dim * g.config.dim || t.tail_cols != 0 ||
      !t.tail_codec.empty())
    fail("column layout (body " + std::to_string(t.body_cols) + ", tail " + std::to_string(t.tail_cols) +
         ") is not GLVQ's padding of " + std::to_string(t.cols) + " columns");
  if (!t.body_codes.empty() || !t.tail_codes.empty()) fail("GLVQ layer with row codes");
  try {
    GlvqTensor::from_blobs(t.codec, t.rows, t.cols, g.to_blobs());
  } catch (const InputError& e) {
    fail(e.what());
  }
}

void check_finite(const float* w, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(w[i])) throw InputError("weight " + std::to_string(i) + " is NaN or Inf");
}

}  // namespace

bool is_glvq_spec(const std::string& spec) { return spec == "glvq" || spec.rfind("glvq:", 0) == 0; }

std::string canonical_codec_spec(const std::string& spec) {
  return is_glvq_spec(spec) ? GlvqConfig::parse(spec).spec() : shared_codec(spec)->spec();
}

void check_options(const TensorQuantOptions& o) {
  canonical_codec_spec(o.codec);
  if (is_glvq_spec(o.codec)) check_glvq_options(o);
}

uint64_t QuantizedTensor::payload_bits() const {
  if (glvq) return glvq->payload_bits();
  const auto body = shared_codec(codec);
  uint64_t bits = static_cast<uint64_t>(rows) * body->row_bits(static_cast<size_t>(body_cols));
  if (!tail_codec.empty()) bits += static_cast<uint64_t>(rows) * shared_codec(tail_codec)->row_bits(static_cast<size_t>(tail_cols));
  return bits;
}

uint64_t QuantizedTensor::blocks() const {
  if (glvq) return static_cast<uint64_t>(rows * body_cols) / static_cast<uint64_t>(glvq->config.dim);
  uint64_t n = static_cast<uint64_t>(rows * body_cols) / shared_codec(codec)->block_dim();
  if (!tail_codec.empty()) n += static_cast<uint64_t>(rows * tail_cols) / shared_codec(tail_codec)->block_dim();
  return n;
}

double QuantizedTensor::bits_per_weight() const {
  return static_cast<double>(payload_bits()) / (static_cast<double>(rows) * static_cast<double>(cols));
}

void QuantizedTensor::validate(const std::string& what) const {
  auto fail = [&](const std::string& m) { throw InputError(what + ": " + m); };
  if (rows <= 0 || cols <= 0) fail("shape must be positive");
  if (is_glvq_spec(codec) != is_glvq()) fail("codec '" + codec + "' does not match the stored form");
  if (is_glvq()) return validate_glvq(*this, fail);
  const auto body = shared_codec(codec);
  const int64_t block = row_unit(*body);
  // The body holds every column but the tail, plus less than one block of zero padding.
  if (tail_cols < 0 || tail_cols >= block || body_cols < cols - tail_cols || body_cols - (cols - tail_cols) >= block)
    fail("column layout (body " + std::to_string(body_cols) + ", tail " + std::to_string(tail_cols) +
         ") does not fit " + std::to_string(cols) + " columns");
  body->check_row_length(static_cast<size_t>(body_cols));
  const uint64_t body_bytes = (static_cast<uint64_t>(rows) * body->row_bits(static_cast<size_t>(body_cols)) + 7) / 8;
  if (body_codes.size() != body_bytes) fail("body codes have " + std::to_string(body_codes.size()) + " bytes, expected " + std::to_string(body_bytes));
  if (tail_codec.empty() != (tail_cols == 0)) fail("tail codec and tail width disagree");
  if (!tail_codec.empty()) {
    const auto tail = shared_codec(tail_codec);
    tail->check_row_length(static_cast<size_t>(tail_cols));
    const uint64_t tail_bytes = (static_cast<uint64_t>(rows) * tail->row_bits(static_cast<size_t>(tail_cols)) + 7) / 8;
    if (tail_codes.size() != tail_bytes) fail("tail codes have the wrong size");
  } else if (!tail_codes.empty()) {
    fail("tail codes without a tail codec");
  }
}

std::vector<float> QuantizedTensor::dequantize() const {
  RowMatrixD w(rows, cols);
  if (glvq) {
    const std::vector<float> g = glvq->dequantize();  // already without the padding
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) w(r, c) = g[static_cast<size_t>(r * cols + c)];
  } else {
    const auto body = shared_codec(codec);
    const auto tail = tail_codec.empty() ? nullptr : shared_codec(tail_codec);
    RowMatrixD q = decode_codes(*this, *body, tail.get());
    // Drop the padding: it sits at the end of the body.
    const int64_t body_real = cols - tail_cols;
    w.leftCols(body_real) = q.leftCols(body_real);
    if (tail_cols) w.rightCols(tail_cols) = q.rightCols(tail_cols);
  }
  rotate_weight(w, hadamard, hadamard_seed, true);
  std::vector<float> out(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out[static_cast<size_t>(r * cols + c)] = static_cast<float>(w(r, c));
  return out;
}

TensorQuantResult quantize_tensor(const float* w_in, int64_t rows, int64_t cols, const Eigen::MatrixXd& h_in,
                                  const TensorQuantOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (rows <= 0 || cols <= 0) throw InputError("tensor shape must be positive");
  check_finite(w_in, static_cast<size_t>(rows * cols));
  Eigen::MatrixXd h = h_in.size() ? h_in : Eigen::MatrixXd::Identity(cols, cols);
  if (h.rows() != cols || h.cols() != cols)
    throw InputError("Hessian is " + std::to_string(h.rows()) + "x" + std::to_string(h.cols()) + ", layer has " +
                     std::to_string(cols) + " inputs");
  check_options(o);
  const bool glvq = is_glvq_spec(o.codec);
  const std::shared_ptr<const Codec> codec = glvq ? nullptr : shared_codec(o.codec);

  RowMatrixD w(rows, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) w(r, c) = w_in[r * cols + c];
  rotate_weight(w, o.hadamard, o.hadamard_seed, false);
  if (o.hadamard != HadamardMode::None) h = rotate_hessian(h, o.hadamard_seed);

  TensorQuantResult best;
  if (glvq) {
    best = quantize_glvq(w, h, o);
    best.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return best;
  }
  double best_merit = INFINITY;
  for (const RowLayout& l : candidate_layouts(codec, cols, o.tail)) {
    LayoutRun run = run_layout(w, h, cols, l, o);
    // Quality per true bit: under D(R) ∝ 2^(−2R) one extra bit per weight is worth a factor 4
    // in error, so layouts of different rates compare through error · 4^bpw.
    const double merit = run.weighted_error * std::pow(4.0, run.tensor.bits_per_weight());
    if (merit < best_merit) {
      best_merit = merit;
      best.tensor = std::move(run.tensor);
      best.weighted_error = run.weighted_error;
      best.layout = l.name;
    }
  }
  best.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return best;
}

}  // namespace llvq

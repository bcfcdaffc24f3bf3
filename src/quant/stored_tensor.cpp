// QuantizedTensor: exact rate, validation of a stored form, and dequantization.
#include "llvq/error.hpp"
#include "llvq/glvq.hpp"
#include "llvq/quantize.hpp"
#include "quant/pipeline_detail.hpp"

namespace llvq {
namespace quant_detail {

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

// The GLVQ form's checks: the shared fields describe a padded body without a tail, and the
// GLVQ tensor passes everything its deserialiser checks.
void validate_glvq(const QuantizedTensor& t, const ValidationFailure& fail) {
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

}  // namespace quant_detail

using namespace quant_detail;

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

}  // namespace llvq

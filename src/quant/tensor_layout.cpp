// Row layouts: a codec's body over whole blocks (or scale groups), padded with zero columns or
// followed by a tail codec of the same rate.
#include <algorithm>
#include <cmath>

#include "llvq/error.hpp"
#include "quant/pipeline_detail.hpp"

namespace llvq::quant_detail {
namespace {

// The tail codec of the same rate as the body: E8P (2 bits per weight only) for tails that
// are a multiple of 8, a per-row Lloyd–Max scalar quantizer otherwise. The body's nominal
// rate is its whole number of code bits per weight (side information is below one bit).
std::string tail_spec(int64_t tail_cols, double body_bpw) {
  const int rate = std::clamp(static_cast<int>(std::floor(body_bpw + 1e-9)), 1, 8);
  if (tail_cols % 8 == 0 && rate == 2) return "e8p";
  return "scalar:bpw=" + std::to_string(rate) + ",kind=lloyd,group=0";
}

}  // namespace

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

}  // namespace llvq::quant_detail

// The randomized Hadamard transforms of the pipeline, on weights and on Hessians.
#include <memory>
#include <vector>

#include "llvq/hadamard.hpp"
#include "quant/pipeline_detail.hpp"

namespace llvq::quant_detail {

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

}  // namespace llvq::quant_detail

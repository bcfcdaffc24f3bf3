#include "llvq/gptq.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Dense>
#include <vector>

#include "llvq/error.hpp"

namespace llvq {
namespace {

void check_shapes(const RowMatrixD& w, const Eigen::MatrixXd& h, const GptqOptions& o) {
  if (h.rows() != w.cols() || h.cols() != w.cols())
    throw InputError("GPTQ: Hessian is " + std::to_string(h.rows()) + "x" + std::to_string(h.cols()) +
                     " but the weight has " + std::to_string(w.cols()) + " columns");
  if (o.block == 0 || w.cols() % static_cast<Eigen::Index>(o.block) != 0)
    throw InputError("GPTQ: column count " + std::to_string(w.cols()) + " is not a multiple of the block " +
                     std::to_string(o.block));
  if (o.lazy == 0 || o.lazy % o.block != 0) throw InputError("GPTQ: lazy batch must be a multiple of the block");
  if (!(o.damp >= 0.0)) throw InputError("GPTQ: damping must be non-negative");
  if (!w.allFinite() || !h.allFinite()) throw InputError("GPTQ: weight or Hessian has NaN/Inf");
}

// Upper Cholesky factor U of the damped H⁻¹ (H⁻¹ = UᵀU); zero-diagonal columns of H are
// replaced by identity rows so the factorisation exists (their weights are zeroed).
Eigen::MatrixXd inverse_hessian_factor(Eigen::MatrixXd h, double damp, std::vector<bool>& dead) {
  const Eigen::Index n = h.rows();
  dead.assign(static_cast<size_t>(n), false);
  for (Eigen::Index i = 0; i < n; ++i)
    if (h(i, i) <= 0.0) {
      dead[static_cast<size_t>(i)] = true;
      h.row(i).setZero();
      h.col(i).setZero();
      h(i, i) = 1.0;
    }
  const double lambda = damp * h.diagonal().mean();
  h.diagonal().array() += lambda;
  Eigen::LLT<Eigen::MatrixXd> llt(h);
  if (llt.info() != Eigen::Success) throw InputError("GPTQ: Hessian is not positive definite; increase damping");
  const Eigen::MatrixXd hinv = llt.solve(Eigen::MatrixXd::Identity(n, n));
  Eigen::LLT<Eigen::MatrixXd> llt_inv(hinv);
  if (llt_inv.info() != Eigen::Success) throw InputError("GPTQ: inverse Hessian is not positive definite");
  return llt_inv.matrixU();
}

}  // namespace

GptqResult gptq_quantize(const RowMatrixD& w_in, const Eigen::MatrixXd& h, const GptqOptions& o,
                         const BlockRounder& rounder) {
  check_shapes(w_in, h, o);
  const Eigen::Index rows = w_in.rows(), cols = w_in.cols();
  const auto block = static_cast<Eigen::Index>(o.block);
  std::vector<bool> dead;
  const Eigen::MatrixXd u = inverse_hessian_factor(h, o.damp, dead);
  RowMatrixD w = w_in;
  GptqResult result;
  for (Eigen::Index c = 0; c < cols; ++c)
    if (dead[static_cast<size_t>(c)]) {
      w.col(c).setZero();
      ++result.dead_columns;
    }
  result.quantized.resize(rows, cols);
  RowMatrixD err(rows, cols);

  for (Eigen::Index b0 = 0; b0 < cols; b0 += static_cast<Eigen::Index>(o.lazy)) {
    const Eigen::Index b1 = std::min(cols, b0 + static_cast<Eigen::Index>(o.lazy));
#pragma omp parallel for schedule(dynamic, 4)
    for (Eigen::Index r = 0; r < rows; ++r) {
      std::vector<float> q(o.block);
      for (Eigen::Index j0 = b0; j0 < b1; j0 += block) {
        const Eigen::Index j1 = j0 + block;
        rounder(static_cast<size_t>(r), static_cast<size_t>(j0), o.block, w.row(r).data(), q.data());
        Eigen::RowVectorXd diff(block);
        for (Eigen::Index k = 0; k < block; ++k) {
          result.quantized(r, j0 + k) = q[static_cast<size_t>(k)];
          diff[k] = w(r, j0 + k) - q[static_cast<size_t>(k)];
        }
        // e·U_BB = diff  →  U_BBᵀ·eᵀ = diffᵀ (a lower-triangular solve).
        const Eigen::RowVectorXd e =
            u.block(j0, j0, block, block).triangularView<Eigen::Upper>().transpose().solve(diff.transpose()).transpose();
        err.block(r, j0, 1, block) = e;
        if (j1 < b1) w.block(r, j1, 1, b1 - j1).noalias() -= e * u.block(j0, j1, block, b1 - j1);
      }
    }
    if (b1 < cols) w.rightCols(cols - b1).noalias() -= err.middleCols(b0, b1 - b0) * u.block(b0, b1, b1 - b0, cols - b1);
  }
  return result;
}

double relative_weighted_error(const RowMatrixD& w, const RowMatrixD& q, const Eigen::MatrixXd& h) {
  const RowMatrixD d = w - q;
  const double num = (d * h).cwiseProduct(d).sum();
  const double den = (w * h).cwiseProduct(w).sum();
  return den > 0 ? num / den : 0.0;
}

}  // namespace llvq

#include "llvq/gptq.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Dense>
#include <vector>

#include "llvq/error.hpp"
#include "llvq/parallel.hpp"

namespace llvq {
namespace {

void check_shapes(const RowMatrixD& w, const Eigen::MatrixXd& h, const GptqOptions& o) {
  if (h.rows() != w.cols() || h.cols() != w.cols())
    throw InputError("GPTQ: Hessian is " + std::to_string(h.rows()) + "x" + std::to_string(h.cols()) +
                     " but the weight has " + std::to_string(w.cols()) + " columns");
  if (o.lazy == 0) throw InputError("GPTQ: lazy batch must be positive");
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

// Column index where each block starts, plus the column count at the end.
std::vector<Eigen::Index> block_starts(Eigen::Index cols, const GptqOptions& o) {
  std::vector<Eigen::Index> starts{0};
  if (o.blocks.empty()) {
    if (o.block == 0 || cols % static_cast<Eigen::Index>(o.block) != 0)
      throw InputError("GPTQ: column count " + std::to_string(cols) + " is not a multiple of the block " +
                       std::to_string(o.block));
    for (Eigen::Index c = static_cast<Eigen::Index>(o.block); c <= cols; c += static_cast<Eigen::Index>(o.block))
      starts.push_back(c);
    return starts;
  }
  for (size_t width : o.blocks) {
    if (width == 0) throw InputError("GPTQ: block of width 0");
    starts.push_back(starts.back() + static_cast<Eigen::Index>(width));
  }
  if (starts.back() != cols)
    throw InputError("GPTQ: block widths sum to " + std::to_string(starts.back()) + ", not the column count " +
                     std::to_string(cols));
  return starts;
}

// Lazy batches as ranges of block indices [first, last), each spanning ≥ `lazy` columns
// (or the rest of the row).
std::vector<std::pair<size_t, size_t>> lazy_batches(const std::vector<Eigen::Index>& starts, size_t lazy) {
  std::vector<std::pair<size_t, size_t>> batches;
  const size_t n_blocks = starts.size() - 1;
  for (size_t first = 0; first < n_blocks;) {
    size_t last = first + 1;
    while (last < n_blocks && starts[last] - starts[first] < static_cast<Eigen::Index>(lazy)) ++last;
    batches.emplace_back(first, last);
    first = last;
  }
  return batches;
}

}  // namespace

GptqResult gptq_quantize(const RowMatrixD& w_in, const Eigen::MatrixXd& h, const GptqOptions& o,
                         const BlockRounder& rounder) {
  check_shapes(w_in, h, o);
  const Eigen::Index rows = w_in.rows(), cols = w_in.cols();
  const std::vector<Eigen::Index> starts = block_starts(cols, o);
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

  size_t widest = 0;
  for (size_t k = 0; k + 1 < starts.size(); ++k) widest = std::max(widest, size_t(starts[k + 1] - starts[k]));
  for (const auto& [first, last] : lazy_batches(starts, o.lazy)) {
    const Eigen::Index b0 = starts[first], b1 = starts[last];
    // The rounder runs a codec, which throws on weights it cannot code.
    parallel_for(static_cast<size_t>(rows), 4, [&](size_t row) {
      const auto r = static_cast<Eigen::Index>(row);
      std::vector<float> q(widest);
      for (size_t k = first; k < last; ++k) {
        const Eigen::Index j0 = starts[k], j1 = starts[k + 1], width = j1 - j0;
        rounder(static_cast<size_t>(r), static_cast<size_t>(j0), static_cast<size_t>(width), w.row(r).data(), q.data());
        Eigen::RowVectorXd diff(width);
        for (Eigen::Index i = 0; i < width; ++i) {
          result.quantized(r, j0 + i) = q[static_cast<size_t>(i)];
          diff[i] = w(r, j0 + i) - q[static_cast<size_t>(i)];
        }
        // e·U_BB = diff  →  U_BBᵀ·eᵀ = diffᵀ (a lower-triangular solve).
        const Eigen::RowVectorXd e =
            u.block(j0, j0, width, width).triangularView<Eigen::Upper>().transpose().solve(diff.transpose()).transpose();
        err.block(r, j0, 1, width) = e;
        if (j1 < b1) w.block(r, j1, 1, b1 - j1).noalias() -= e * u.block(j0, j1, width, b1 - j1);
      }
    });
    if (b1 < cols) w.rightCols(cols - b1).noalias() -= err.middleCols(b0, b1 - b0) * u.block(b0, b1, b1 - b0, cols - b1);
  }
  return result;
}

RowMatrixD solve_partition_scales(const RowMatrixD& w, const RowMatrixD& q, const Eigen::MatrixXd& h,
                                  const std::vector<Eigen::Index>& bounds, double lambda) {
  const Eigen::Index cols = w.cols();
  if (bounds.size() < 2 || bounds.front() != 0 || bounds.back() != cols)
    throw InputError("scale solve: groups must cover the " + std::to_string(cols) + " columns");
  for (size_t i = 0; i + 1 < bounds.size(); ++i)
    if (bounds[i + 1] <= bounds[i]) throw InputError("scale solve: empty or unordered group");
  if (q.rows() != w.rows() || q.cols() != cols || h.rows() != cols || h.cols() != cols)
    throw InputError("scale solve: shape mismatch");
  const auto n_groups = static_cast<Eigen::Index>(bounds.size() - 1);
  auto len = [&](Eigen::Index g) { return bounds[static_cast<size_t>(g) + 1] - bounds[static_cast<size_t>(g)]; };
  auto at = [&](Eigen::Index g) { return bounds[static_cast<size_t>(g)]; };
  RowMatrixD scales(w.rows(), n_groups);
#pragma omp parallel for schedule(dynamic, 8)
  for (Eigen::Index r = 0; r < w.rows(); ++r) {
    const Eigen::RowVectorXd wh = w.row(r) * h;
    Eigen::MatrixXd a(n_groups, n_groups);
    Eigen::VectorXd b(n_groups);
    for (Eigen::Index i = 0; i < n_groups; ++i) {
      b[i] = wh.segment(at(i), len(i)).dot(q.row(r).segment(at(i), len(i)));
      for (Eigen::Index j = 0; j < n_groups; ++j)  // q_i·H·q_jᵀ restricted to the two groups
        a(i, j) = q.row(r).segment(at(i), len(i)) * h.block(at(i), at(j), len(i), len(j)) *
                  q.row(r).segment(at(j), len(j)).transpose();
    }
    const Eigen::VectorXd d = a.diagonal();
    a.diagonal() += lambda * d;
    b += lambda * d;
    // Groups whose quantized values are all zero keep scale 1 (nothing to scale).
    for (Eigen::Index i = 0; i < n_groups; ++i)
      if (d[i] <= 0) {
        a.row(i).setZero();
        a.col(i).setZero();
        a(i, i) = 1;
        b[i] = 1;
      }
    scales.row(r) = a.ldlt().solve(b).transpose();
  }
  return scales;
}

RowMatrixD solve_group_scales(const RowMatrixD& w, const RowMatrixD& q, const Eigen::MatrixXd& h, size_t group,
                              double lambda) {
  if (group == 0 || w.cols() % static_cast<Eigen::Index>(group) != 0)
    throw InputError("scale solve: group " + std::to_string(group) + " does not divide " + std::to_string(w.cols()));
  std::vector<Eigen::Index> bounds;
  for (Eigen::Index c = 0; c <= w.cols(); c += static_cast<Eigen::Index>(group)) bounds.push_back(c);
  return solve_partition_scales(w, q, h, bounds, lambda);
}

double relative_weighted_error(const RowMatrixD& w, const RowMatrixD& q, const Eigen::MatrixXd& h) {
  const RowMatrixD d = w - q;
  const double num = (d * h).cwiseProduct(d).sum();
  const double den = (w * h).cwiseProduct(w).sum();
  return den > 0 ? num / den : 0.0;
}

}  // namespace llvq

// Internals of GLVQ shared by its source files and its tests: group layout, companding,
// the lattice coders, and the per-group objective with its hand-written gradient.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <vector>

#include "llvq/glvq.hpp"

namespace llvq::glvq_detail {

// fp16 round trip (IEEE binary16, round to nearest even; out of range → ±inf).
uint16_t to_fp16(double v);
double from_fp16(uint16_t h);
inline double round_fp16(double v) { return from_fp16(to_fp16(v)); }

inline constexpr double kMuMin = 10.0;
inline constexpr double kMuMax = 255.0;

// Column groups of a tensor. The width is padded with zero columns to a multiple of D; every
// group is `group_width` wide except possibly the last (still a multiple of D).
struct Layout {
  int64_t rows = 0, cols = 0, padded_cols = 0;
  int dim = 0, group_width = 0, groups = 0;
  static Layout make(const GlvqConfig& cfg, int64_t rows, int64_t cols);
  int64_t col0(int g) const { return int64_t{g} * group_width; }
  int width(int g) const;
};

// Smallest and largest bit width a group may get with this decoder.
int min_group_bits(const GlvqConfig& cfg);
int max_group_bits(const GlvqConfig& cfg);

// μ-law on t = x/scale: F(x) = sign(t)·ln(1+μ|t|)/ln(1+μ); mu == 0 means no companding
// (F = identity, scale ignored).
double compand(double x, double mu, double scale);
double expand(double y, double mu, double scale);

// The codebook of one group in lattice coordinates (the decoded point is G·q).
//   babai: q ∈ (Z^D + ½)∩box, z = clamp(round(a + c)), c = (2^b − 1)/2, q = z − c.
//   leech: q ∈ J = √8·Λ24 inside the Voronoi region of 2^b·J, z = basis coordinates mod 2^b.
// encode: a (D values) → code integers z (each < 2^bits) and the point q; pass[i] = 1 where
// the straight-through gradient passes (not clamped / not overloaded).
struct Coder {
  bool leech = false;
  int dim = 0;
  static Coder make(const GlvqConfig& cfg);
  void encode(const double* a, int bits, uint32_t* z, double* q, uint8_t* pass) const;
  void decode(const uint32_t* z, int bits, double* q) const;
  // Multiplier of the Cholesky factor of the companded covariance that makes a good first G.
  double initial_step(int bits) const;
};

// Minimiser of a unimodal f on [lo, hi] by golden-section search.
double golden_section(const std::function<double(double)>& f, double lo, double hi, int iterations);

// Step of the MSE-optimal uniform quantizer with `levels` levels for a unit Gaussian.
double gaussian_uniform_step(int levels);

struct GroupParams {
  Eigen::MatrixXd g;  // D×D
  double mu = 0;      // 0: no companding
  double scale = 1;
};

// One group's data: its padded weights and the matching diagonal block of H.
struct GroupData {
  RowMatrixD w;       // rows × width
  Eigen::MatrixXd h;  // width × width
};

// The straight-through surrogate frozen at one point: q(a) = q0 + (a − a0) where pass, q0
// elsewhere. Its exact gradient is the straight-through gradient at that point, which makes
// the hand-written gradient checkable by finite differences.
struct Frozen {
  Eigen::MatrixXd a0, q0;  // D × n
  std::vector<uint8_t> pass;
};

struct Gradient {
  Eigen::MatrixXd g;    // ∂/∂G
  double log_mu = 0;     // ∂/∂ln μ (0 without companding)
  double log_scale = 0;  // ∂/∂ln scale (0 without companding)
};

// Objective of a group: tr(E·H·Eᵀ) with E = Ŵ − W, plus penalty·‖G − G0‖² when g0 is given.
struct Objective {
  const GroupData* data = nullptr;
  const Coder* coder = nullptr;
  int bits = 0;
  const Eigen::MatrixXd* g0 = nullptr;
  double penalty = 0;  // absolute weight of ‖G − G0‖²_F
};

// Value of the objective at p; with grad, the straight-through gradient; with frozen_in, the
// surrogate replaces rounding; with frozen_out, the point's rounding state is recorded.
double evaluate(const Objective& obj, const GroupParams& p, Gradient* grad = nullptr,
                const Frozen* frozen_in = nullptr, Frozen* frozen_out = nullptr);

// Codes of all vectors of a group (rows × width/D vectors of D integers, row by row) and the
// decoded group (rows × width).
std::vector<uint32_t> encode_group(const RowMatrixD& w, const GroupParams& p, int bits, const Coder& coder);
RowMatrixD decode_group(const std::vector<uint32_t>& z, int64_t rows, int width, const GroupParams& p, int bits,
                        const Coder& coder);

}  // namespace llvq::glvq_detail

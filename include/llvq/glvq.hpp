// GLVQ: grouped lattice vector quantization with learned generation matrices (docs/background.md §2,
// docs/glvq.md). A tensor-level quantizer: the columns of a weight matrix are cut into groups;
// every group owns a D×D generation matrix G, a μ-law companding parameter and a bit width,
// shared by all rows. A D-vector w of one row inside a group is coded as the lattice point
// z = Q(G⁻¹·F(w)) and decoded as ŵ = F⁻¹(G·z).
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "llvq/gptq.hpp"

namespace llvq {

struct GlvqConfig {
  int dim = 8;            // D: 8, 24 or 32
  int group = 128;        // columns per group (D must divide it); clamped to the tensor width
  int bits = 2;           // B: average bits per coordinate, 1..8
  bool learn = true;      // gradient learning of G and μ
  int iterations = 200;   // budget; early stop on no improvement
  double penalty = 1e-3;  // weight of ‖G − G0‖²/‖G0‖², relative to the group's initial loss
  double learning_rate = 5e-3;  // Adam step on G relative to mean|diag G0|; 10× that on ln μ, ln scale
  bool salience = true;   // B−1/B/B+1 allocation
  bool companding = true;
  std::string decoder = "babai";  // or "leech" (D = 24 only): exact nearest point of G·Λ24
  uint64_t seed = 0;
  // Extensions beyond the paper (docs/glvq.md), off by default so the faithful form stays:
  bool row_scale = false;  // one fp16 scale per row (output channel) in front of the groups
  bool feedback = false;   // GPTQ error feedback over the learned, then frozen, group parameters
  // First G: "covariance" (the paper's: Cholesky factor of the group's companded covariance)
  // or "hessian" (that of the covariance in the metric of the group's mean diagonal block of H,
  // mapped back; docs/glvq.md "Initialisation").
  std::string init = "covariance";

  // "glvq:dim=8,group=128,bits=2[,learn=0,...]" (keys: dim group bits learn iterations
  // penalty lr salience companding decoder seed row_scale feedback init); InputError on
  // unknown keys or bad values.
  static GlvqConfig parse(const std::string& spec);
  // The canonical spec: every key of the paper's form, doubles in shortest round-trip form,
  // then row_scale, feedback and init only when not at their defaults (so specs stored before
  // they existed are still canonical); parse(spec()) == *this.
  std::string spec() const;
  // InputError unless every field is in range (parse calls it; glvq_quantize too).
  void validate() const;
  bool operator==(const GlvqConfig&) const = default;
};

struct GlvqTensor {  // everything needed to dequantize; serialisable bit-exactly
  GlvqConfig config;
  int64_t rows = 0, cols = 0;
  std::vector<uint16_t> g_fp16;      // per group D×D (row-major), fp16 bits
  std::vector<uint16_t> mu_fp16;     // per group μ ∈ [10, 255] (empty without companding)
  std::vector<uint16_t> scale_fp16;  // per group learned input scale s of F (empty without companding)
  std::vector<uint8_t> group_bits;   // per group (B−1, B, B+1)
  std::vector<uint8_t> codes;        // packed code integers, LSB first, group by group
  std::vector<uint16_t> row_scale_fp16;  // per row, > 0 (empty without row_scale)

  // Exact: code bits plus side information (G, μ, scale in fp16, 8 bits per group width,
  // 16 bits per row with row_scale); padding columns cost code bits, they carry no weights.
  uint64_t payload_bits() const;
  double bits_per_weight() const;  // payload_bits() / (rows·cols)
  std::vector<float> dequantize() const;  // [rows, cols] row-major
  // Named byte blobs (the pipeline stores each as a GGUF I8 tensor) + config.spec().
  std::vector<std::pair<std::string, std::vector<uint8_t>>> to_blobs() const;
  // Validates everything (spec, shapes, sizes, μ bounds, finite values, positive row scales,
  // bit widths, padding bits); InputError on corrupt data.
  static GlvqTensor from_blobs(const std::string& spec, int64_t rows, int64_t cols,
                               const std::vector<std::pair<std::string, std::vector<uint8_t>>>& blobs);
};

struct GlvqReport {
  double weighted_error_init = 0;   // relative_weighted_error with the initial G, μ (fp16)
  double weighted_error_final = 0;  // same, with the learned ones (= init when learn is off)
  int iterations = 0;               // gradient steps taken, summed over groups
  double seconds = 0;
};

// Quantizes w [rows, cols] (rows = outputs) with the calibration Hessian h [cols, cols]
// (H = XᵀX/N). InputError on shape mismatch, non-finite input or a bad config.
GlvqTensor glvq_quantize(const RowMatrixD& w, const Eigen::MatrixXd& h, const GlvqConfig& cfg,
                         GlvqReport* report = nullptr);

}  // namespace llvq

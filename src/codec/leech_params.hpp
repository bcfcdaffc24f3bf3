// Parameters of the Leech-ball codecs that decode kernels need (src/kernels/leech_*): which
// shells the block index covers, the gain quantizer, the lattice scale and the scale group.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "llvq/codec.hpp"

namespace llvq::codec_detail {

struct LeechParams {
  // ShapeGain: block = gain index (gain_bits) | ball index, xhat = σ·level[g]·v/|v| (llvq-sg,
  // l24sq). Ball: block = ball index, xhat = σ·v/lattice_scale (llvq-ss at 2 bits per weight).
  enum class Kind { ShapeGain, Ball };
  Kind kind = Kind::ShapeGain;
  std::string family;          // "llvq-sg", "l24sq" or "llvq-ss"
  int min_shell = 0;           // smallest shell a code may hold (0: the origin is allowed)
  int max_shell = 0;           // M of the ball Λ24(M)
  int gain_bits = 0;
  std::vector<double> gain_levels;  // 2^gain_bits levels (ShapeGain)
  double lattice_scale = 1.0;       // s (Ball)
  size_t group = 0;                 // weights per scale, 0 = one per row
};

// The parameters when `codec` is llvq-sg, l24sq or the ball variant of llvq-ss; nullopt for
// any other codec (the Voronoi llvq-ss variants included).
std::optional<LeechParams> leech_params(const Codec& codec);
// The llvq-ss part of leech_params (defined in llvq_ss.cpp).
std::optional<LeechParams> ball_shaping_params(const Codec& codec);

}  // namespace llvq::codec_detail

// llvq-ss: LLVQ spherical shaping. A block u = x/σ (σ = RMS of the row or group) is coded as
// a lattice point near s·u and decodes to σ·v/s, s being the lattice scale for unit
// variance. At 2 bits per weight the codebook is the ball Λ24(M) (origin and shells 2..M,
// M = 13 fills 48 bits) with an exact Euclidean search; at 3 and 4 bits per weight it is the
// Voronoi code J/2^r·J with 72 or 96 bits (r = 3, 4), which is near-spherical too.
#include <cmath>

#include "codec/codec_impl.hpp"
#include "llvq/error.hpp"
#include "llvq/leech_ball.hpp"
#include "llvq/voronoi_code.hpp"

namespace llvq::codec_detail {

namespace {

// Measured with `llvq rd --codec llvq-ss:shells=13,scale=S` on Gaussian blocks (docs/codecs.md).
constexpr double kBall13Scale = 2.9;

template <class Lattice>
class SphericalShaping : public ScaledCodec {
 public:
  SphericalShaping(double lattice_scale, size_t group) : ScaledCodec(group, 1.0), s_(lattice_scale) {
    check_group();
  }
  size_t block_dim() const override { return 24; }

  void quantize_block(const RowSide& side, size_t j, const float* x, float* xhat, BitWriter& code) const override {
    leech::Vec v;
    const auto index = quantize(side.scale_of_block(j, 24), x, v);
    put_index(index, code);
    reconstruct(side.scale_of_block(j, 24), v, xhat);
  }
  void quantize_dequantize_block(const RowSide& side, size_t j, const float* x, float* xhat) const override {
    leech::Vec v;
    quantize(side.scale_of_block(j, 24), x, v);
    reconstruct(side.scale_of_block(j, 24), v, xhat);
  }
  void decode_block(const RowSide& side, size_t j, BitReader& code, float* xhat) const override {
    reconstruct(side.scale_of_block(j, 24), point_of(code), xhat);
  }
  bool decode_block_integers(const RowSide& side, size_t j, BitReader& code, int8_t* v, double& factor) const override {
    factor = side.scale_of_block(j, 24) / s_;
    return to_int8(point_of(code), v);
  }

 protected:
  virtual typename Lattice::Index quantize(double scale, const float* x, leech::Vec& v) const = 0;
  virtual void put_index(typename Lattice::Index index, BitWriter& code) const = 0;
  virtual leech::Vec point_of(BitReader& code) const = 0;
  static void to_unit(double scale, const float* x, float* u) {
    for (int i = 0; i < 24; ++i) u[i] = scale > 0 ? static_cast<float>(x[i] / scale) : 0.0f;
  }
  void reconstruct(double scale, const leech::Vec& v, float* xhat) const {
    for (int i = 0; i < 24; ++i) xhat[i] = static_cast<float>(scale * v[i] / s_);
  }
  double s_;
};

struct BallLattice {
  using Index = uint64_t;
};

class BallShaping final : public SphericalShaping<BallLattice> {
 public:
  BallShaping(int M, double lattice_scale, size_t group)
      : SphericalShaping(lattice_scale, group), ball_(LeechBall::get(M)) {}
  std::string name() const override { return "llvq-ss"; }
  std::string spec() const override {
    return "llvq-ss:shells=" + std::to_string(ball_.max_shell()) + ",scale=" + format_param(s_) + group_param();
  }
  size_t block_bits() const override { return static_cast<size_t>(ball_.bits()); }
  KernelLayout kernel_layout() const override {
    LeechLayout l;
    l.kind = LeechLayout::Kind::Ball;
    l.family = name();
    l.max_shell = ball_.max_shell();
    l.lattice_scale = s_;
    l.group = group_;
    return l;
  }

 private:
  uint64_t quantize(double scale, const float* x, leech::Vec& v) const override {
    float u[24];
    to_unit(scale, x, u);
    const LeechBall::Result r = ball_.search_euclidean(u, s_);
    v = r.point;
    return r.index;
  }
  void put_index(uint64_t index, BitWriter& code) const override { code.put(index, ball_.bits()); }
  leech::Vec point_of(BitReader& code) const override { return ball_.unrank(code.get(ball_.bits())); }

  const LeechBall& ball_;
};

class VoronoiShaping final : public SphericalShaping<VoronoiCode> {
 public:
  VoronoiShaping(int bits, double lattice_scale, size_t group)
      : SphericalShaping(lattice_scale, group), code_(bits) {
    if (s_ == 0) s_ = code_.default_gaussian_scale();
  }
  std::string name() const override { return "llvq-ss"; }
  std::string spec() const override {
    return "llvq-ss:bpw=" + std::to_string(code_.bits() / 24) + ",scale=" + format_param(s_) + group_param();
  }
  size_t block_bits() const override { return static_cast<size_t>(code_.bits()); }

 private:
  VoronoiCode::Index quantize(double scale, const float* x, leech::Vec& v) const override {
    float u[24];
    to_unit(scale, x, u);
    return code_.encode(u, s_, &v);
  }
  void put_index(VoronoiCode::Index index, BitWriter& code) const override {
    code.put(static_cast<uint64_t>(index), 64);
    code.put(static_cast<uint64_t>(index >> 64), code_.bits() - 64);
  }
  leech::Vec point_of(BitReader& code) const override {
    VoronoiCode::Index index = code.get(64);
    index |= static_cast<VoronoiCode::Index>(code.get(code_.bits() - 64)) << 64;
    return code_.unrank(index);
  }

  VoronoiCode code_;
};

}  // namespace

std::unique_ptr<Codec> make_llvq_ss(const CodecSpec& spec) {
  const int group = spec.get_int("group", 0, 0, 1 << 24);
  const int M = spec.get_int("shells", 0, 0, LeechBall::kMaxShell);
  if (M != 0 && spec.has("bpw")) throw InputError("llvq-ss: give either bpw (2, 3, 4) or shells, not both");
  const int bpw = spec.get_int("bpw", 2, 2, 4);
  if (M == 0 && bpw > 2) {
    const double s = spec.get_double("scale", 0.0, 1e-3, 1e3);
    return std::make_unique<VoronoiShaping>(24 * bpw, s, static_cast<size_t>(group));
  }
  if (M == 1) throw InputError("llvq-ss: shells must be between 2 and " + std::to_string(LeechBall::kMaxShell));
  const int shells = M ? M : 13;
  const double s = spec.get_double("scale", kBall13Scale * std::sqrt(shells / 13.0), 1e-3, 1e3);
  return std::make_unique<BallShaping>(shells, s, static_cast<size_t>(group));
}

}  // namespace llvq::codec_detail

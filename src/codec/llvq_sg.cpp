// llvq-sg: LLVQ shape–gain. At 2 bits per weight the direction is the angular nearest point
// of the union of shells 2..M, the gain takes 0, 1, 2 or 4 bits; M is the largest ball whose
// index fits the bits left by the gain: at 48 bits per block M = 13, 12, 11, 10 for 0, 1, 2,
// 4 gain bits (docs/background.md §1). At 3 and 4 bits per weight the direction comes from
// a codebook too large for the exact search, found by a radius scan: the ball Λ24(45) with 7
// gain levels, and the Voronoi code J/14J with 24 (docs/voronoi.md, "shape–gain codes").
#include "codec/leech_shape_gain.hpp"
#include "llvq/leech_ball_index.hpp"
#include "llvq/leech_shells.hpp"
#include "llvq/voronoi_code.hpp"

namespace llvq::codec_detail {

namespace {

int ball_bits(int M) { return shells::ceil_log2(shells::ball_count(M, true)); }

class LlvqShapeGain final : public LeechShapeGain {
 public:
  using LeechShapeGain::LeechShapeGain;
  std::string name() const override { return "llvq-sg"; }
  std::string spec() const override {
    return "llvq-sg:shells=" + std::to_string(max_shell()) + ",gain_bits=" + std::to_string(gain_bits()) +
           group_param();
  }
};

// The direction codebooks of the 3- and 4-bit codes, behind one face: size (index 0, the
// origin, is no direction), the radius-scan search, unrank, and their spec parameter.
struct VoronoiDirections {
  VoronoiCode code;
  explicit VoronoiDirections(int modulus) : code(VoronoiCode::with_modulus(modulus)) {}
  VoronoiCode::Index size() const { return code.size(); }
  leech::Direction search(const float* x) const { return code.search_direction(x); }
  leech::Vec unrank(VoronoiCode::Index i) const { return code.unrank(i); }
  std::string param() const { return "modulus=" + std::to_string(code.modulus()); }
};

struct BallDirections {
  const LeechBallIndex& ball;
  explicit BallDirections(int max_shell) : ball(LeechBallIndex::get(max_shell)) {}
  LeechBallIndex::Index size() const { return ball.size(); }
  leech::Direction search(const float* x) const { return ball.search_direction(x); }
  leech::Vec unrank(LeechBallIndex::Index i) const { return ball.unrank(i); }
  std::string param() const { return "shells=" + std::to_string(ball.max_shell()); }
};

// Block code = gain index · N + direction index, in ⌈log₂(levels · N)⌉ bits, N the size of
// the direction codebook. The row scale σ is its RMS; a block u = x/σ takes the direction v
// of the codebook's search and the gain level nearest to ⟨u,v̂⟩, and decodes to
// σ·level·v̂, as in LeechShapeGain.
template <class Directions>
class ScanShapeGain final : public ScaledCodec {
 public:
  using Index = unsigned __int128;
  ScanShapeGain(int codebook, int gain_levels, size_t group) : ScaledCodec(group, 1.0), book_(codebook) {
    check_group();
    gain_ = shape_gain_levels(24, gain_levels, design_cosine());
    bits_ = static_cast<size_t>(shells::ceil_log2(book_.size() * static_cast<Index>(gain_levels)));
  }
  std::string name() const override { return "llvq-sg"; }
  std::string spec() const override {
    return "llvq-sg:" + book_.param() + ",gain_levels=" + std::to_string(gain_.levels.size()) + group_param();
  }
  size_t block_dim() const override { return 24; }
  size_t block_bits() const override { return bits_; }

  void quantize_block(const RowSide& side, size_t j, const float* x, float* xhat, BitWriter& code) const override {
    const Index index = quantize(side.scale_of_block(j, 24), x, xhat);
    code.put(static_cast<uint64_t>(index), low_bits());
    if (bits_ > 64) code.put(static_cast<uint64_t>(index >> 64), static_cast<int>(bits_ - 64));
  }
  void quantize_dequantize_block(const RowSide& side, size_t j, const float* x, float* xhat) const override {
    quantize(side.scale_of_block(j, 24), x, xhat);
  }
  void decode_block(const RowSide& side, size_t j, BitReader& code, float* xhat) const override {
    Index index = code.get(low_bits());
    if (bits_ > 64) index |= static_cast<Index>(code.get(static_cast<int>(bits_ - 64))) << 64;
    const Index levels = gain_.levels.size(), n = book_.size();
    if (index >= levels * n) throw InputError("llvq-sg: corrupt code (beyond the codebook)");
    if (index % n == 0) throw InputError("llvq-sg: corrupt code (not a direction)");
    reconstruct(side.scale_of_block(j, 24), static_cast<int>(index / n), book_.unrank(index % n), xhat);
  }
  bool decode_block_integers(const RowSide& side, size_t j, BitReader& code, int8_t* v, double& factor) const override {
    Index index = code.get(low_bits());
    if (bits_ > 64) index |= static_cast<Index>(code.get(static_cast<int>(bits_ - 64))) << 64;
    const Index levels = gain_.levels.size(), n = book_.size();
    if (index >= levels * n || index % n == 0) throw InputError("llvq-sg: corrupt code (not a gain and direction)");
    const leech::Vec point = book_.unrank(index % n);
    // shape_gain_block's factor.
    factor = side.scale_of_block(j, 24) * gain_.levels[static_cast<size_t>(index / n)] /
             std::sqrt(static_cast<double>(leech::norm2(point)));
    return to_int8(point, v);
  }

 private:
  int low_bits() const { return static_cast<int>(std::min<size_t>(bits_, 64)); }
  double design_cosine() const {
    return cached_design_cosine(book_.param(), [this](const float* x) { return book_.search(x).cosine; });
  }

  Index quantize(double scale, const float* x, float* xhat) const {
    float u[24];
    double uu = 0;
    for (int i = 0; i < 24; ++i) {
      u[i] = scale > 0 ? static_cast<float>(x[i] / scale) : 0.0f;
      uu += static_cast<double>(u[i]) * u[i];
    }
    const leech::Direction d = book_.search(u);
    const int g = gain_.index(d.cosine * std::sqrt(uu));  // ⟨u, v̂⟩
    reconstruct(scale, g, d.point, xhat);
    return static_cast<Index>(g) * book_.size() + d.index;
  }
  void reconstruct(double scale, int g, const leech::Vec& v, float* xhat) const {
    shape_gain_block(scale * gain_.levels[static_cast<size_t>(g)], v, xhat);
  }

  Directions book_;
  ScalarQuantizer gain_;
  size_t bits_ = 0;
};

// bpw=3: directions from the ball Λ24(45) with 7 gain levels (7·|Λ24(45)| < 2^72); bpw=4:
// from J/14J with 24 levels (24·14^24 < 2^96). The measured best splits (docs/voronoi.md).
struct ScanPreset {
  bool ball;
  int codebook, gain_levels;
};
ScanPreset scan_preset(int bpw) { return bpw == 3 ? ScanPreset{true, 45, 7} : ScanPreset{false, 14, 24}; }

// More levels than this buy nothing measurable (24 is the most either preset fits) and make
// the Lloyd–Max design slow.
constexpr int kMaxGainLevels = 256;

std::unique_ptr<Codec> make_scan_shape_gain(const CodecSpec& spec, size_t group) {
  if (spec.has("gain_bits"))
    throw InputError("llvq-sg: gain_bits belongs to the 2-bit code; 3 and 4 bits per weight take gain_levels");
  const int given = spec.has("modulus") + spec.has("shells") + spec.has("bpw");
  if (given != 1) throw InputError("llvq-sg: give exactly one of bpw, shells and modulus");
  if (spec.has("bpw")) {
    if (spec.has("gain_levels"))
      throw InputError("llvq-sg: bpw=3 and bpw=4 fix the gain levels; give shells or modulus with gain_levels");
    const ScanPreset p = scan_preset(spec.get_int("bpw", 3, 3, 4));
    if (p.ball) return std::make_unique<ScanShapeGain<BallDirections>>(p.codebook, p.gain_levels, group);
    return std::make_unique<ScanShapeGain<VoronoiDirections>>(p.codebook, p.gain_levels, group);
  }
  if (!spec.has("gain_levels"))
    throw InputError("llvq-sg: shells above " + std::to_string(LeechBall::kMaxShell) +
                     " or modulus need gain_levels (the 2-bit code's exact search covers shells ≤ " +
                     std::to_string(LeechBall::kMaxShell) + ")");
  const int levels = spec.get_int("gain_levels", 0, 1, kMaxGainLevels);
  if (spec.has("shells"))
    return std::make_unique<ScanShapeGain<BallDirections>>(spec.get_int("shells", 0, 5, LeechBallIndex::kMaxShell),
                                                           levels, group);
  return std::make_unique<ScanShapeGain<VoronoiDirections>>(spec.get_int("modulus", 0, 4, 16), levels, group);
}

}  // namespace

std::unique_ptr<Codec> make_llvq_sg(const CodecSpec& spec) {
  const int group = spec.get_int("group", 0, 0, 1 << 24);
  const bool large_ball =
      spec.has("shells") && spec.get_int("shells", 0, 0, LeechBallIndex::kMaxShell) > LeechBall::kMaxShell;
  const bool high_rate = spec.has("bpw") && spec.get_int("bpw", 2, 1, 4) >= 3;
  if (spec.has("modulus") || spec.has("gain_levels") || large_ball || high_rate)
    return make_scan_shape_gain(spec, static_cast<size_t>(group));
  const int gain_bits = spec.get_int("gain_bits", 1, 0, 4);
  if (gain_bits == 3) throw InputError("llvq-sg: gain_bits must be 0, 1, 2 or 4");
  int M = spec.get_int("shells", 0, 0, LeechBall::kMaxShell);
  if (M != 0 && spec.has("bpw")) throw InputError("llvq-sg: give either bpw or shells, not both");
  if (M == 0) {
    const int bpw = spec.get_int("bpw", 2, 1, 2);
    const int budget = 24 * bpw - gain_bits;
    for (int m = LeechBall::kMinShell; m <= LeechBall::kMaxShell && ball_bits(m) <= budget; ++m) M = m;
    if (M == 0) throw InputError("llvq-sg: no ball of directions fits bpw=" + std::to_string(bpw));
  } else if (M < LeechBall::kMinShell) {
    throw InputError("llvq-sg: shells must be between 2 and " + std::to_string(LeechBall::kMaxShell));
  }
  return std::make_unique<LlvqShapeGain>(LeechBall::kMinShell, M, gain_bits, static_cast<size_t>(group));
}

}  // namespace llvq::codec_detail

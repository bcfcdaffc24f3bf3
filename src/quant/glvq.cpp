// GLVQ configuration, tensor layout, serialisation and dequantization.
#include <Eigen/LU>
#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>

#include "llvq/error.hpp"
#include "llvq/half.hpp"
#include "quant/glvq_detail.hpp"

namespace llvq {
namespace {

// ---- spec parsing --------------------------------------------------------------------------

std::string double_text(double v) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

template <typename T>
T parse_number(const std::string& key, const std::string& text) {
  T value{};
  const auto res = std::from_chars(text.data(), text.data() + text.size(), value);
  if (res.ec != std::errc() || res.ptr != text.data() + text.size())
    throw InputError("glvq: bad value '" + text + "' for " + key);
  return value;
}

bool parse_flag(const std::string& key, const std::string& text) {
  if (text == "1" || text == "true") return true;
  if (text == "0" || text == "false") return false;
  throw InputError("glvq: " + key + " must be 0 or 1, got '" + text + "'");
}

// ---- byte streams --------------------------------------------------------------------------

void put_u16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v & 0xff));
  out.push_back(static_cast<uint8_t>(v >> 8));
}

std::vector<uint16_t> get_u16s(const std::vector<uint8_t>& in) {
  std::vector<uint16_t> out(in.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint16_t>(in[2 * i] | (in[2 * i + 1] << 8));
  return out;
}

class BitReader {
 public:
  explicit BitReader(const std::vector<uint8_t>& bytes) : bytes_(bytes) {}
  uint32_t read(int bits) {
    uint32_t v = 0;
    for (int i = 0; i < bits; ++i, ++pos_) v |= uint32_t{(bytes_[pos_ >> 3] >> (pos_ & 7)) & 1u} << i;
    return v;
  }

 private:
  const std::vector<uint8_t>& bytes_;
  size_t pos_ = 0;
};

int64_t code_bits(const glvq_detail::Layout& layout, const std::vector<uint8_t>& group_bits) {
  int64_t total = 0;
  for (int g = 0; g < layout.groups; ++g) total += layout.rows * layout.width(g) * group_bits[g];
  return total;
}

const std::vector<uint8_t>& find_blob(const std::vector<std::pair<std::string, std::vector<uint8_t>>>& blobs,
                                      const std::string& name, size_t expected_size) {
  const std::vector<uint8_t>* found = nullptr;
  for (const auto& [key, bytes] : blobs)
    if (key == name) {
      if (found) throw InputError("glvq: blob '" + name + "' appears twice");
      found = &bytes;
    }
  if (!found) throw InputError("glvq: blob '" + name + "' is missing");
  if (found->size() != expected_size)
    throw InputError("glvq: blob '" + name + "' has " + std::to_string(found->size()) + " bytes, expected " +
                     std::to_string(expected_size));
  return *found;
}

}  // namespace

namespace glvq_detail {

uint16_t to_fp16(double v) { return float_to_fp16(static_cast<float>(v)); }
double from_fp16(uint16_t h) { return fp16_to_float(h); }

Layout Layout::make(const GlvqConfig& cfg, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0)
    throw InputError("glvq: tensor shape " + std::to_string(rows) + "×" + std::to_string(cols) + " is empty");
  Layout l;
  l.rows = rows;
  l.cols = cols;
  l.dim = cfg.dim;
  l.padded_cols = (cols + cfg.dim - 1) / cfg.dim * cfg.dim;
  l.group_width = static_cast<int>(std::min<int64_t>(cfg.group, l.padded_cols));
  l.groups = static_cast<int>((l.padded_cols + l.group_width - 1) / l.group_width);
  return l;
}

int Layout::width(int g) const { return static_cast<int>(std::min<int64_t>(group_width, padded_cols - col0(g))); }

int min_group_bits(const GlvqConfig& cfg) { return cfg.decoder == "leech" ? 1 : 0; }
int max_group_bits(const GlvqConfig& cfg) { return cfg.decoder == "leech" ? 4 : 9; }

double compand(double x, double mu, double scale) {
  if (mu == 0) return x;
  const double t = x / scale;
  return std::copysign(std::log1p(mu * std::abs(t)) / std::log1p(mu), t);
}

double expand(double y, double mu, double scale) {
  if (mu == 0) return y;
  return scale * std::copysign(std::expm1(std::log1p(mu) * std::abs(y)) / mu, y);
}

std::vector<uint32_t> encode_group(const RowMatrixD& w, const GroupParams& p, int bits, const Coder& coder) {
  const int d = coder.dim;
  const Eigen::Index n = w.size() / d;
  std::vector<uint32_t> z(static_cast<size_t>(w.size()));
  if (bits == 0) return z;
  const Eigen::MatrixXd ginv = p.g.inverse();
  Eigen::VectorXd u(d), a(d), q(d);
  std::vector<uint8_t> pass(d);
  for (Eigen::Index k = 0; k < n; ++k) {
    for (int i = 0; i < d; ++i) u(i) = compand(w.data()[k * d + i], p.mu, p.scale);
    a.noalias() = ginv * u;
    coder.encode(a.data(), bits, &z[static_cast<size_t>(k * d)], q.data(), pass.data());
  }
  return z;
}

RowMatrixD decode_group(const std::vector<uint32_t>& z, int64_t rows, int width, const GroupParams& p, int bits,
                        const Coder& coder) {
  const int d = coder.dim;
  RowMatrixD out = RowMatrixD::Zero(rows, width);
  if (bits == 0) return out;  // a zero-bit group decodes to zeros
  Eigen::VectorXd q(d), v(d);
  const Eigen::Index n = out.size() / d;
  for (Eigen::Index k = 0; k < n; ++k) {
    coder.decode(&z[static_cast<size_t>(k * d)], bits, q.data());
    v.noalias() = p.g * q;
    for (int i = 0; i < d; ++i) out.data()[k * d + i] = expand(v(i), p.mu, p.scale);
  }
  return out;
}

}  // namespace glvq_detail

// ---- GlvqConfig ----------------------------------------------------------------------------

void GlvqConfig::validate() const {
  if (dim != 8 && dim != 24 && dim != 32) throw InputError("glvq: dim must be 8, 24 or 32, got " + std::to_string(dim));
  if (group <= 0 || group % dim != 0)
    throw InputError("glvq: group (" + std::to_string(group) + ") must be a positive multiple of dim (" +
                     std::to_string(dim) + ")");
  if (bits < 1 || bits > 8) throw InputError("glvq: bits must be in 1..8, got " + std::to_string(bits));
  if (iterations < 0 || iterations > 1000000)
    throw InputError("glvq: iterations must be in 0..1000000, got " + std::to_string(iterations));
  if (!std::isfinite(penalty) || penalty < 0) throw InputError("glvq: penalty must be finite and ≥ 0");
  if (!std::isfinite(learning_rate) || learning_rate <= 0 || learning_rate > 1)
    throw InputError("glvq: lr must be in (0, 1]");
  if (decoder != "babai" && decoder != "leech")
    throw InputError("glvq: decoder must be 'babai' or 'leech', got '" + decoder + "'");
  if (init != "covariance" && init != "hessian")
    throw InputError("glvq: init must be 'covariance' or 'hessian', got '" + init + "'");
  if (decoder == "leech") {
    if (dim != 24) throw InputError("glvq: decoder=leech needs dim=24");
    if (bits > 4) throw InputError("glvq: decoder=leech supports bits 1..4 (Voronoi code of 2^bits·Λ24)");
  }
}

GlvqConfig GlvqConfig::parse(const std::string& spec) {
  const std::string prefix = "glvq";
  if (spec.compare(0, prefix.size(), prefix) != 0 || (spec.size() > prefix.size() && spec[prefix.size()] != ':'))
    throw InputError("glvq: spec must start with 'glvq:', got '" + spec + "'");
  GlvqConfig cfg;
  std::set<std::string> seen;
  size_t pos = prefix.size() + 1;
  while (pos <= spec.size() && spec.size() > prefix.size() + 1) {
    const size_t end = std::min(spec.find(',', pos), spec.size());
    const std::string item = spec.substr(pos, end - pos);
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) throw InputError("glvq: expected key=value, got '" + item + "'");
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    if (!seen.insert(key).second) throw InputError("glvq: key '" + key + "' given twice");
    if (key == "dim") cfg.dim = parse_number<int>(key, value);
    else if (key == "group") cfg.group = parse_number<int>(key, value);
    else if (key == "bits") cfg.bits = parse_number<int>(key, value);
    else if (key == "learn") cfg.learn = parse_flag(key, value);
    else if (key == "iterations") cfg.iterations = parse_number<int>(key, value);
    else if (key == "penalty") cfg.penalty = parse_number<double>(key, value);
    else if (key == "lr") cfg.learning_rate = parse_number<double>(key, value);
    else if (key == "salience") cfg.salience = parse_flag(key, value);
    else if (key == "companding") cfg.companding = parse_flag(key, value);
    else if (key == "decoder") cfg.decoder = value;
    else if (key == "seed") cfg.seed = parse_number<uint64_t>(key, value);
    else if (key == "row_scale") cfg.row_scale = parse_flag(key, value);
    else if (key == "feedback") cfg.feedback = parse_flag(key, value);
    else if (key == "init") cfg.init = value;
    else throw InputError("glvq: unknown key '" + key + "'");
    pos = end + 1;
  }
  cfg.validate();
  return cfg;
}

std::string GlvqConfig::spec() const {
  return "glvq:dim=" + std::to_string(dim) + ",group=" + std::to_string(group) + ",bits=" + std::to_string(bits) +
         ",learn=" + (learn ? "1" : "0") + ",iterations=" + std::to_string(iterations) +
         ",penalty=" + double_text(penalty) + ",lr=" + double_text(learning_rate) +
         ",salience=" + (salience ? "1" : "0") + ",companding=" + (companding ? "1" : "0") + ",decoder=" + decoder +
         ",seed=" + std::to_string(seed) + (row_scale ? ",row_scale=1" : "") + (feedback ? ",feedback=1" : "") +
         (init != "covariance" ? ",init=" + init : "");
}

// ---- GlvqTensor ----------------------------------------------------------------------------

uint64_t GlvqTensor::payload_bits() const {
  const auto layout = glvq_detail::Layout::make(config, rows, cols);
  const int64_t side_per_group = 16 * int64_t{config.dim} * config.dim + 8 + (config.companding ? 32 : 0);
  const int64_t side_per_row = config.row_scale ? 16 : 0;
  return static_cast<uint64_t>(code_bits(layout, group_bits) + side_per_group * layout.groups + side_per_row * rows);
}

double GlvqTensor::bits_per_weight() const {
  return static_cast<double>(payload_bits()) / (static_cast<double>(rows) * static_cast<double>(cols));
}

std::vector<float> GlvqTensor::dequantize() const {
  using namespace glvq_detail;
  const auto layout = Layout::make(config, rows, cols);
  const Coder coder = Coder::make(config);
  const int d = config.dim;
  std::vector<float> out(static_cast<size_t>(rows * cols));
  BitReader reader(codes);
  for (int g = 0; g < layout.groups; ++g) {
    GroupParams p;
    p.g.resize(d, d);
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j) p.g(i, j) = from_fp16(g_fp16[static_cast<size_t>(g) * d * d + i * d + j]);
    if (config.companding) {
      p.mu = from_fp16(mu_fp16[g]);
      p.scale = from_fp16(scale_fp16[g]);
    }
    const int width = layout.width(g);
    std::vector<uint32_t> z(static_cast<size_t>(rows * width));
    for (auto& v : z) v = reader.read(group_bits[g]);
    const RowMatrixD block = decode_group(z, rows, width, p, group_bits[g], coder);
    const int64_t c0 = layout.col0(g);
    const int64_t real = std::min<int64_t>(width, cols - c0);
    for (int64_t r = 0; r < rows; ++r) {
      const double row_scale = config.row_scale ? from_fp16(row_scale_fp16[static_cast<size_t>(r)]) : 1.0;
      for (int64_t j = 0; j < real; ++j)
        out[static_cast<size_t>(r * cols + c0 + j)] = static_cast<float>(row_scale * block(r, j));
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::vector<uint8_t>>> GlvqTensor::to_blobs() const {
  std::vector<std::pair<std::string, std::vector<uint8_t>>> blobs;
  std::vector<uint8_t> g;
  for (uint16_t v : g_fp16) put_u16(g, v);
  blobs.emplace_back("g", std::move(g));
  if (config.companding) {
    std::vector<uint8_t> mu, scale;
    for (uint16_t v : mu_fp16) put_u16(mu, v);
    for (uint16_t v : scale_fp16) put_u16(scale, v);
    blobs.emplace_back("mu", std::move(mu));
    blobs.emplace_back("scale", std::move(scale));
  }
  blobs.emplace_back("bits", group_bits);
  blobs.emplace_back("codes", codes);
  if (config.row_scale) {
    std::vector<uint8_t> row_scale;
    for (uint16_t v : row_scale_fp16) put_u16(row_scale, v);
    blobs.emplace_back("row_scale", std::move(row_scale));
  }
  return blobs;
}

namespace {

// Largest |q| of a group's codebook at `bits`: the box corner √D·(2^b − 1)/2 (Babai), or the
// covering radius 4·2^b of 2^b·J (J = √8·Λ24 has covering radius 4), which bounds the points of
// its Voronoi cell (Leech).
double max_point_norm(const GlvqConfig& cfg, int bits) {
  const double levels = std::ldexp(1.0, bits);
  return cfg.decoder == "leech" ? 4 * levels : std::sqrt(double(cfg.dim)) * (levels - 1) / 2;
}

// A companded weight is r·s·expm1(ln(1+μ)·|y|)/μ with |y_i| ≤ ‖G_i‖·|q|: a group whose bound
// overflows float is refused, so that no weight of a loaded file decodes to ±inf. (A learned G
// keeps |y| near 1, tens of binades below the bound; only a damaged or crafted file reaches it.)
void check_companding_bounds(const GlvqTensor& t, const glvq_detail::Layout& layout) {
  using glvq_detail::from_fp16;
  double row_scale = 1;
  for (uint16_t v : t.row_scale_fp16) row_scale = std::max(row_scale, from_fp16(v));
  const int d = t.config.dim;
  for (int g = 0; g < layout.groups; ++g) {
    double g_norm = 0;  // the largest row norm of G_g
    for (int i = 0; i < d; ++i) {
      double sq = 0;
      for (int j = 0; j < d; ++j) sq += std::pow(from_fp16(t.g_fp16[(static_cast<size_t>(g) * d + i) * d + j]), 2);
      g_norm = std::max(g_norm, std::sqrt(sq));
    }
    const double mu = from_fp16(t.mu_fp16[static_cast<size_t>(g)]), s = from_fp16(t.scale_fp16[static_cast<size_t>(g)]);
    const double y = g_norm * max_point_norm(t.config, t.group_bits[static_cast<size_t>(g)]);
    const double bound = row_scale * s * std::expm1(std::log1p(mu) * y) / mu;
    if (!(bound <= std::numeric_limits<float>::max()))
      throw InputError("glvq: group " + std::to_string(g) + " can decode to weights beyond float range (|G| row norm " +
                       double_text(g_norm) + ", μ " + double_text(mu) + ", scale " + double_text(s) + ")");
  }
}

}  // namespace

GlvqTensor GlvqTensor::from_blobs(const std::string& spec, int64_t rows, int64_t cols,
                                  const std::vector<std::pair<std::string, std::vector<uint8_t>>>& blobs) {
  using namespace glvq_detail;
  GlvqTensor t;
  t.config = GlvqConfig::parse(spec);
  t.rows = rows;
  t.cols = cols;
  const auto layout = Layout::make(t.config, rows, cols);
  const size_t groups = static_cast<size_t>(layout.groups);
  const size_t d2 = static_cast<size_t>(t.config.dim) * t.config.dim;
  const size_t known = (t.config.companding ? 5 : 3) + (t.config.row_scale ? 1 : 0);
  if (blobs.size() != known) throw InputError("glvq: expected " + std::to_string(known) + " blobs, got " + std::to_string(blobs.size()));

  t.g_fp16 = get_u16s(find_blob(blobs, "g", groups * d2 * 2));
  for (uint16_t v : t.g_fp16)
    if (!std::isfinite(from_fp16(v))) throw InputError("glvq: generation matrix holds a non-finite value");
  if (t.config.companding) {
    t.mu_fp16 = get_u16s(find_blob(blobs, "mu", groups * 2));
    t.scale_fp16 = get_u16s(find_blob(blobs, "scale", groups * 2));
    for (uint16_t v : t.mu_fp16) {
      const double mu = from_fp16(v);
      if (!(mu >= kMuMin && mu <= kMuMax)) throw InputError("glvq: μ out of [10, 255]: " + double_text(mu));
    }
    for (uint16_t v : t.scale_fp16) {
      const double s = from_fp16(v);
      if (!(std::isfinite(s) && s > 0)) throw InputError("glvq: companding scale must be finite and > 0");
    }
  }
  t.group_bits = find_blob(blobs, "bits", groups);
  const int lo = std::max(min_group_bits(t.config), t.config.bits - 1);
  const int hi = std::min(max_group_bits(t.config), t.config.bits + 1);
  int64_t excess = 0;  // Σ (b_g − B)·width_g: zero when the average is B
  for (size_t g = 0; g < groups; ++g) {
    const int b = t.group_bits[g];
    if (b < lo || b > hi || (!t.config.salience && b != t.config.bits))
      throw InputError("glvq: group " + std::to_string(g) + " has " + std::to_string(b) + " bits, outside the allocation");
    excess += int64_t{b - t.config.bits} * layout.width(static_cast<int>(g));
  }
  if (excess != 0) throw InputError("glvq: group bit widths do not average to bits=" + std::to_string(t.config.bits));
  if (t.config.row_scale) {
    t.row_scale_fp16 = get_u16s(find_blob(blobs, "row_scale", static_cast<size_t>(rows) * 2));
    for (size_t r = 0; r < t.row_scale_fp16.size(); ++r) {
      const double s = from_fp16(t.row_scale_fp16[r]);
      if (!(std::isfinite(s) && s > 0))
        throw InputError("glvq: row " + std::to_string(r) + " has scale " + double_text(s) + ", must be finite and > 0");
    }
  }
  const int64_t nbits = code_bits(layout, t.group_bits);
  t.codes = find_blob(blobs, "codes", static_cast<size_t>((nbits + 7) / 8));
  if (nbits % 8 != 0 && (t.codes.back() >> (nbits % 8)) != 0)
    throw InputError("glvq: padding bits after the last code are not zero");
  if (t.config.companding) check_companding_bounds(t, layout);
  return t;
}

}  // namespace llvq

// The measurements behind `llvq rd` and `llvq bench codec` (rd_measure.hpp).
#include "rd_measure.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "llvq/calibration.hpp"
#include "llvq/error.hpp"
#include "llvq/glvq.hpp"
#include "llvq/model_io.hpp"
#include "llvq/report.hpp"

namespace llvq::cli {

namespace {

using Clock = std::chrono::steady_clock;

// MSE, SQNR, retention, the Shannon MSE at the measured rate and the throughputs of a run
// whose rate and block count are already in `r`.
void set_distortion(RdResult& r, const std::vector<float>& w, const std::vector<float>& back, double t_encode,
                    double t_decode, size_t decodes) {
  double err = 0, power = 0;
#pragma omp parallel for reduction(+ : err, power)
  for (int64_t i = 0; i < static_cast<int64_t>(w.size()); ++i) {
    const double e = static_cast<double>(w[i]) - back[i];
    err += e * e;
    power += static_cast<double>(w[i]) * w[i];
  }
  r.mse = err / static_cast<double>(w.size());
  power /= static_cast<double>(w.size());
  r.sqnr_bits = 0.5 * std::log2(power / r.mse);
  r.retention = r.sqnr_bits / r.bpw;
  r.shannon_mse = power * std::exp2(-2 * r.bpw);  // D(R) of a Gaussian of the same variance
  r.encode_blocks_per_s = static_cast<double>(r.blocks) / t_encode;
  r.decode_blocks_per_s = static_cast<double>(r.blocks * decodes) / t_decode;
  r.threads = omp_get_max_threads();
}

}  // namespace

Source Source::from_model(const std::string& text) {
  const std::string rest = text.substr(6);
  // PATH[:TENSOR]: the tensor name is whatever follows the last ':' when PATH alone is not a
  // file but the part before that ':' is.
  std::string path = rest, tensor;
  std::error_code ec;
  if (const size_t colon = rest.rfind(':');
      colon != std::string::npos && !std::filesystem::exists(rest, ec) && std::filesystem::exists(rest.substr(0, colon), ec)) {
    path = rest.substr(0, colon);
    tensor = rest.substr(colon + 1);
  }
  LlamaModel m = load_model(path);
  Source s;
  s.kind = kModel;
  s.label = text;
  s.weights = std::make_shared<std::vector<float>>();
  for (const LinearSlot& slot : linear_slots(m)) {
    if (!tensor.empty() && slot.name != tensor) continue;
    const Linear& lin = **slot.slot;
    const std::vector<float> w = lin.dense_weight();
    const auto cols = static_cast<size_t>(lin.in_features());
    for (size_t r = 0; r < w.size() / cols; ++r) {
      double sum2 = 0;
      for (size_t c = 0; c < cols; ++c) sum2 += double(w[r * cols + c]) * w[r * cols + c];
      const double inv = sum2 > 0 ? std::sqrt(static_cast<double>(cols) / sum2) : 0.0;
      for (size_t c = 0; c < cols; ++c) s.weights->push_back(static_cast<float>(w[r * cols + c] * inv));
    }
  }
  if (s.weights->empty())
    throw InputError("source '" + text + "': no linear layer" + (tensor.empty() ? "" : " named " + tensor) + " in " + path);
  return s;
}

Source Source::parse(const std::string& text) {
  Source s;
  s.label = text;
  if (text == "gaussian") return s;
  if (text == "laplace") {
    s.kind = kLaplace;
    return s;
  }
  if (text.rfind("student", 0) == 0) {
    s.kind = kStudent;
    if (text != "student") {
      if (text.rfind("student:nu=", 0) != 0) throw InputError("source '" + text + "': expected student:nu=V");
      char* end = nullptr;
      s.nu = std::strtod(text.c_str() + 11, &end);
      if (*end != '\0' || !(s.nu > 2) || !std::isfinite(s.nu))
        throw InputError("source '" + text + "': nu must be a number > 2 (finite variance)");
    }
    return s;
  }
  if (text.rfind("model:", 0) == 0) return from_model(text);
  throw InputError("unknown source '" + text + "' (gaussian, laplace, student:nu=V, model:PATH[:TENSOR])");
}

void Source::fill_row(uint64_t seed, size_t row, float* out, size_t n) const {
  if (kind == kModel) {
    const std::vector<float>& v = *weights;
    for (size_t i = 0; i < n; ++i) out[i] = v[(row * n + i) % v.size()];
    return;
  }
  std::seed_seq seq{seed, static_cast<uint64_t>(row), uint64_t{0x6c6c7671}};
  std::mt19937_64 rng(seq);
  std::normal_distribution<double> normal;
  std::exponential_distribution<double> expo(1.0);
  std::chi_squared_distribution<double> chi2(nu);
  for (size_t i = 0; i < n; ++i) {
    double v = 0;
    switch (kind) {
      case kGaussian: v = normal(rng); break;
      case kLaplace: v = (rng() & 1 ? 1 : -1) * expo(rng) / std::sqrt(2.0); break;
      case kStudent: v = normal(rng) / std::sqrt(chi2(rng) / nu) * std::sqrt((nu - 2) / nu); break;
      case kModel: break;
    }
    out[i] = static_cast<float>(v);
  }
}

RdResult measure(const Codec& codec, const Source& source, size_t blocks, uint64_t seed, size_t row_wanted) {
  if (blocks == 0) throw InputError("--blocks must be positive");
  const size_t n = smallest_row_length(codec, row_wanted, 64 * row_wanted + 64 * codec.block_dim());
  const size_t rows = (blocks * codec.block_dim() + n - 1) / n;
  std::vector<float> w(rows * n), back(rows * n);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < static_cast<int64_t>(rows); ++r) source.fill_row(seed, static_cast<size_t>(r), &w[r * n], n);

  auto t0 = Clock::now();
  const auto packed = codec.encode_rows(w.data(), rows, n);
  const double t_encode = seconds_since(t0);
  // Decoding is much faster than encoding: repeat it until the timing is meaningful.
  t0 = Clock::now();
  size_t decodes = 0;
  double t_decode = 0;
  do {
    codec.decode_rows(packed.data(), packed.size(), rows, n, back.data());
    ++decodes;
    t_decode = seconds_since(t0);
  } while (t_decode < 0.25);

  RdResult r;
  r.codec = codec.spec();
  r.row = n;
  r.blocks = rows * codec.blocks_per_row(n);
  r.bpw = codec.bits_per_weight(n);
  set_distortion(r, w, back, t_encode, t_decode, decodes);
  return r;
}

// GLVQ is a tensor-level quantizer: the run is one [rows, row] matrix (row rounded up to a
// multiple of D) quantized with H = I, so its objective is the plain MSE, and with learning
// off whatever the spec says: an i.i.d. source gives G nothing to learn. bpw includes G, μ, s.
RdResult measure_glvq(const std::string& spec, const Source& source, size_t blocks, uint64_t seed, size_t row_wanted) {
  if (blocks == 0) throw InputError("--blocks must be positive");
  GlvqConfig cfg = GlvqConfig::parse(spec);
  cfg.learn = false;
  const size_t d = static_cast<size_t>(cfg.dim);
  const size_t n = (std::max(row_wanted, d) + d - 1) / d * d;
  const size_t rows = (blocks * d + n - 1) / n;
  std::vector<float> w(rows * n), back;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < static_cast<int64_t>(rows); ++r) source.fill_row(seed, static_cast<size_t>(r), &w[r * n], n);
  const RowMatrixD wm = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
                            w.data(), static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(n))
                            .cast<double>();

  auto t0 = Clock::now();
  const GlvqTensor t = glvq_quantize(wm, Eigen::MatrixXd::Identity(wm.cols(), wm.cols()), cfg);
  const double t_encode = seconds_since(t0);
  t0 = Clock::now();
  size_t decodes = 0;
  double t_decode = 0;
  do {
    back = t.dequantize();
    ++decodes;
    t_decode = seconds_since(t0);
  } while (t_decode < 0.25);

  RdResult r;
  r.codec = cfg.spec();
  r.row = n;
  r.blocks = rows * n / d;
  r.bpw = t.bits_per_weight();
  set_distortion(r, w, back, t_encode, t_decode, decodes);
  return r;
}

}  // namespace llvq::cli

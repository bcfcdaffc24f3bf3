// The measurements behind `llvq rd`, `llvq bench codec` and llvq.rd (llvq/rd.hpp).
#include "llvq/rd.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "llvq/calibration.hpp"
#include "llvq/error.hpp"
#include "llvq/model_io.hpp"
#include "llvq/report.hpp"
#include "quant/rd_detail.hpp"
#include "quant/tensor_kind.hpp"

namespace llvq {

namespace quant_detail {

void set_distortion(RdResult& r, const std::vector<float>& w, const std::vector<float>& back, double t_encode,
                    double t_decode, size_t decodes) {
  // Sums over fixed chunks, added in chunk order: the same bits on any number of threads (an
  // OpenMP reduction adds the threads' partial sums in the order they finish).
  constexpr size_t kChunk = 4096;
  const size_t chunks = (w.size() + kChunk - 1) / kChunk;
  std::vector<double> chunk_err(chunks), chunk_power(chunks);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < static_cast<int64_t>(chunks); ++c) {
    const size_t begin = static_cast<size_t>(c) * kChunk, end = std::min(w.size(), begin + kChunk);
    double e2 = 0, p2 = 0;
    for (size_t i = begin; i < end; ++i) {
      const double e = static_cast<double>(w[i]) - back[i];
      e2 += e * e;
      p2 += static_cast<double>(w[i]) * w[i];
    }
    chunk_err[c] = e2;
    chunk_power[c] = p2;
  }
  double err = 0, power = 0;
  for (size_t c = 0; c < chunks; ++c) {
    err += chunk_err[c];
    power += chunk_power[c];
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

namespace {

// The n values of row `row` of the run.
void fill_row(const RdSource& source, uint64_t seed, size_t row, float* out, size_t n) {
  if (source.kind == RdSource::kModel) {
    const std::vector<float>& v = *source.weights;
    for (size_t i = 0; i < n; ++i) out[i] = v[(row * n + i) % v.size()];
    return;
  }
  std::seed_seq seq{seed, static_cast<uint64_t>(row), uint64_t{0x6c6c7671}};
  std::mt19937_64 rng(seq);
  std::normal_distribution<double> normal;
  std::exponential_distribution<double> expo(1.0);
  const double nu = source.nu;
  std::chi_squared_distribution<double> chi2(nu);
  for (size_t i = 0; i < n; ++i) {
    double v = 0;
    switch (source.kind) {
      case RdSource::kGaussian: v = normal(rng); break;
      case RdSource::kLaplace: v = (rng() & 1 ? 1 : -1) * expo(rng) / std::sqrt(2.0); break;
      case RdSource::kStudent: v = normal(rng) / std::sqrt(chi2(rng) / nu) * std::sqrt((nu - 2) / nu); break;
      case RdSource::kModel: break;
    }
    out[i] = static_cast<float>(v);
  }
}

}  // namespace

std::vector<float> source_rows(const RdSource& source, uint64_t seed, size_t rows, size_t n) {
  std::vector<float> w(rows * n);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < static_cast<int64_t>(rows); ++r) fill_row(source, seed, static_cast<size_t>(r), &w[r * n], n);
  return w;
}

void check_size(size_t blocks, size_t row_wanted) {
  if (blocks < 1 || blocks > (size_t{1} << 30)) throw InputError("blocks must be in 1..2^30, got " + std::to_string(blocks));
  if (row_wanted < 1 || row_wanted > (size_t{1} << 20))
    throw InputError("row must be in 1..2^20, got " + std::to_string(row_wanted));
}

}  // namespace quant_detail

using namespace quant_detail;

namespace {

using Clock = std::chrono::steady_clock;

// "model:PATH[:TENSOR]" (RdSource::parse).
RdSource model_source(const std::string& text) {
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
  RdSource s;
  s.kind = RdSource::kModel;
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

}  // namespace

RdSource RdSource::parse(const std::string& text) {
  RdSource s;
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
  if (text.rfind("model:", 0) == 0) return model_source(text);
  throw InputError("unknown source '" + text + "' (gaussian, laplace, student:nu=V, model:PATH[:TENSOR])");
}

RdResult measure_rd(const Codec& codec, const RdSource& source, size_t blocks, uint64_t seed, size_t row_wanted) {
  check_size(blocks, row_wanted);
  const size_t n = smallest_row_length(codec, row_wanted, 64 * row_wanted + 64 * codec.block_dim());
  const size_t rows = (blocks * codec.block_dim() + n - 1) / n;
  const std::vector<float> w = source_rows(source, seed, rows, n);
  std::vector<float> back(rows * n);

  auto t0 = Clock::now();
  const auto packed = codec.encode_rows(w.data(), rows, n);
  const double t_encode = seconds_since(t0);
  size_t decodes = 0;
  const double t_decode = time_decodes([&] { codec.decode_rows(packed.data(), packed.size(), rows, n, back.data()); }, decodes);

  RdResult r;
  r.codec = codec.spec();
  r.row = n;
  r.blocks = rows * codec.blocks_per_row(n);
  r.bpw = codec.bits_per_weight(n);
  set_distortion(r, w, back, t_encode, t_decode, decodes);
  return r;
}

RdResult measure_rd(const std::string& spec, const RdSource& source, size_t blocks, uint64_t seed, size_t row_wanted) {
  return tensor_kind(spec).measure_rd(spec, source, blocks, seed, row_wanted);
}

nlohmann::json RdResult::json() const {
  return {{"codec", codec},
          {"bpw", bpw},
          {"mse", mse},
          {"sqnr_bits", sqnr_bits},
          {"retention", retention},
          {"shannon_mse", shannon_mse},
          {"encode_blocks_per_s", encode_blocks_per_s},
          {"decode_blocks_per_s", decode_blocks_per_s},
          {"encode_blocks_per_s_per_core", encode_blocks_per_s / threads},
          {"decode_blocks_per_s_per_core", decode_blocks_per_s / threads},
          {"threads", threads},
          {"blocks", blocks},
          {"row", row}};
}

nlohmann::json RdTableRow::json() const {
  nlohmann::json j = {{"method", method}, {"paper_mse", std::isnan(paper_mse) ? nlohmann::json() : nlohmann::json(paper_mse)}};
  if (result)
    j.update(result->json());
  else
    j["error"] = error;
  return j;
}

std::vector<RdTableRow> measure_rd_table(const RdSource& source, size_t blocks, uint64_t seed, size_t row_wanted) {
  check_size(blocks, row_wanted);  // a bad size fails the call, not every row
  // The paper's Gaussian 2-bpw table and the codec spec that measures each row.
  const struct {
    const char* method;
    const char* spec;
    double paper_mse;
  } paper[] = {
      {"uniform scalar", "scalar:bpw=2,kind=uniform", 0.15},
      {"Lloyd-Max scalar", "scalar:bpw=2,kind=lloyd", 0.1175},
      {"QuIP# E8P", "e8p", 0.0907},
      {"LLVQ spherical shaping L24(13)", "llvq-ss:bpw=2", 0.084},
      {"LLVQ shape-gain L24(13) + 0 gain bits", "llvq-sg:bpw=2,gain_bits=0", 0.085},
      {"LLVQ shape-gain L24(12) + 1 gain bit", "llvq-sg:bpw=2,gain_bits=1", 0.078},
      {"LLVQ shape-gain L24(11) + 2 gain bits", "llvq-sg:bpw=2,gain_bits=2", 0.080},
      {"LLVQ shape-gain L24(10) + 4 gain bits", "llvq-sg:bpw=2,gain_bits=4", 0.085},
      {"PVQ (ours, no paper figure)", "pvq:bpw=2", NAN},
  };
  std::vector<RdTableRow> rows;
  for (const auto& p : paper) {
    RdTableRow& row = rows.emplace_back();
    row.method = p.method;
    row.spec = p.spec;
    row.paper_mse = p.paper_mse;
    try {
      row.result = measure_rd(*make_codec(p.spec), source, blocks, seed, row_wanted);
    } catch (const InputError& e) {  // a codec not available in this build: say so, keep going
      row.error = e.what();
    }
  }
  return rows;
}

}  // namespace llvq

// GLVQ tensors: the whole matrix in GLVQ's tensor-level form (llvq/glvq.hpp), in the rotated
// basis, padded to a multiple of D, without a tail; stored as the I8 tensors N.llvq_glvq_<blob>.
#include <Eigen/Core>
#include <algorithm>

#include "llvq/error.hpp"
#include "llvq/gguf.hpp"
#include "llvq/glvq.hpp"
#include "llvq/kernels.hpp"
#include "quant/glvq_detail.hpp"
#include "quant/pipeline_detail.hpp"
#include "quant/rd_detail.hpp"
#include "quant/tensor_kind.hpp"

namespace llvq::quant_detail {
namespace {

// GLVQ blob B of tensor N is stored as the I8 tensor "N.llvq_glvq_B".
std::string blob_prefix(const std::string& name) { return name + ".llvq_glvq_"; }

int64_t padded_width(int64_t cols, int dim) { return (cols + dim - 1) / dim * dim; }

// The tensor as the GLVQ kernels take it (fp16 side information widened exactly to double).
kernels::GroupedLatticeCodes kernel_codes(const GlvqTensor& t) {
  const auto layout = glvq_detail::Layout::make(t.config, t.rows, t.cols);
  auto widen = [](const std::vector<uint16_t>& h) {
    std::vector<double> out(h.size());
    std::transform(h.begin(), h.end(), out.begin(), glvq_detail::from_fp16);
    return out;
  };
  kernels::GroupedLatticeCodes k;
  k.spec = t.config.spec();
  k.rows = t.rows;
  k.cols = layout.padded_cols;
  k.dim = t.config.dim;
  k.group_width = layout.group_width;
  k.g = widen(t.g_fp16);
  k.mu = widen(t.mu_fp16);
  k.scale = widen(t.scale_fp16);
  k.bits = t.group_bits;
  k.codes = t.codes;
  k.row_scale = widen(t.row_scale_fp16);
  return k;
}

class GlvqStoredTensor final : public QuantizedTensor {
 public:
  GlvqStoredTensor(TensorHeader header, GlvqTensor glvq) : QuantizedTensor(std::move(header)), glvq_(std::move(glvq)) {}

  uint64_t payload_bits() const override { return glvq_.payload_bits(); }

  uint64_t blocks() const override {
    return static_cast<uint64_t>(header().rows * header().body_cols) / static_cast<uint64_t>(glvq_.config.dim);
  }

  // The header describes a padded body without a tail, and the GLVQ tensor passes everything
  // its deserialiser checks.
  void validate(const std::string& what) const override {
    const TensorHeader& h = header();
    auto fail = [&](const std::string& m) { throw InputError(what + ": " + m); };
    if (h.rows <= 0 || h.cols <= 0) fail("shape must be positive");
    std::string spec;
    try {
      spec = GlvqConfig::parse(h.codec).spec();
    } catch (const InputError& e) {
      fail(e.what());
    }
    if (spec != glvq_.config.spec())
      fail("codec '" + h.codec + "' differs from the GLVQ tensor's " + glvq_.config.spec());
    if (glvq_.rows != h.rows || glvq_.cols != h.cols) fail("GLVQ tensor shape differs from the layer's");
    if (h.body_cols != padded_width(h.cols, glvq_.config.dim) || h.tail_cols != 0 || !h.tail_codec.empty())
      fail("column layout (body " + std::to_string(h.body_cols) + ", tail " + std::to_string(h.tail_cols) +
           ") is not GLVQ's padding of " + std::to_string(h.cols) + " columns");
    try {
      GlvqTensor::from_blobs(h.codec, h.rows, h.cols, glvq_.to_blobs());
    } catch (const InputError& e) {
      fail(e.what());
    }
  }

  CodeBlobs code_blobs() const override { return glvq_.to_blobs(); }

  void write_codes(gguf::Writer& w, const std::string& name) const override {
    for (const auto& [blob, bytes] : glvq_.to_blobs())
      w.add_tensor(blob_prefix(name) + blob, {bytes.size()}, gguf::TensorType::I8, bytes);
  }

  // The Babai codebook runs from its codes (the G·z GEMV of kernels::pack_grouped_lattice); the
  // Leech decoder's layers run on the dequantized weights.
  std::vector<std::unique_ptr<kernels::PackedMatrix>> pack_for_kernels() const override {
    std::vector<std::unique_ptr<kernels::PackedMatrix>> parts;
    if (glvq_.config.decoder == "babai") parts.push_back(kernels::pack_grouped_lattice(kernel_codes(glvq_)));
    return parts;
  }

 private:
  RowMatrixD decode() const override {
    const std::vector<float> g = glvq_.dequantize();  // already without the padding
    return Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
               g.data(), header().rows, header().cols)
        .cast<double>();
  }

  GlvqTensor glvq_;
};

std::shared_ptr<const QuantizedTensor> stored(TensorHeader header, GlvqTensor glvq) {
  return std::make_shared<GlvqStoredTensor>(std::move(header), std::move(glvq));
}

class GlvqKind final : public TensorKind {
 public:
  bool accepts(const std::string& spec) const override { return spec == "glvq" || spec.rfind("glvq:", 0) == 0; }
  std::string name() const override { return "GLVQ"; }
  std::string canonical_spec(const std::string& spec) const override { return GlvqConfig::parse(spec).spec(); }

  // GLVQ's learning is its Hessian-aware step and it pads rows itself: options that would ask
  // for something else are refused rather than silently ignored.
  bool takes_rounding() const override { return false; }
  std::string rounding_label(Rounding) const override { return "glvq"; }
  void check_options(const TensorQuantOptions& o) const override {
    if (o.rounding != Rounding::Gptq)
      throw InputError("glvq: rounding '" + to_string(o.rounding) +
                       "' does not apply (GLVQ learns its generation matrices in the Hessian metric instead of "
                       "GPTQ; leave the rounding at its default, gptq)");
    if (o.tail == TailMode::Codec)
      throw InputError("glvq: tail mode 'codec' does not apply (GLVQ pads rows to a multiple of dim)");
  }

  // The report's errors use the full Hessian, as the row codecs' weighted_error does.
  TensorQuantResult quantize(const RowMatrixD& w, const Eigen::MatrixXd& h,
                             const TensorQuantOptions& o) const override {
    const GlvqConfig cfg = GlvqConfig::parse(o.codec);
    GlvqReport report;
    const Eigen::MatrixXd uncalibrated = h.size() ? Eigen::MatrixXd() : identity_metric(w.cols(), o);
    GlvqTensor g = glvq_quantize(w, h.size() ? h : uncalibrated, cfg, &report);
    TensorHeader header;
    header.rows = w.rows();
    header.cols = w.cols();
    header.codec = cfg.spec();
    header.body_cols = padded_width(header.cols, cfg.dim);
    header.hadamard = o.hadamard;
    header.hadamard_seed = o.hadamard_seed;
    TensorQuantResult res;
    res.layout = header.padding() ? "pad" : "exact";
    res.tensor = stored(std::move(header), std::move(g));
    res.weighted_error = report.weighted_error_final;
    res.weighted_error_init = report.weighted_error_init;
    return res;
  }

  std::shared_ptr<const QuantizedTensor> from_blobs(TensorHeader header, CodeBlobs blobs) const override {
    GlvqTensor g = GlvqTensor::from_blobs(header.codec, header.rows, header.cols, blobs);
    return stored(std::move(header), std::move(g));
  }

  bool present_in(const gguf::File& f, const std::string& name) const override {
    return f.find_tensor(blob_prefix(name) + "g") != nullptr;
  }

  // Every tensor of the file under the blob prefix of `name`; which blobs must be there (and
  // nothing else) is GlvqTensor::from_blobs' to check.
  std::shared_ptr<const QuantizedTensor> read_gguf(const gguf::File& f, const std::string& name, TensorHeader header,
                                                   const std::string& what) const override {
    try {
      const std::string prefix = blob_prefix(name);
      CodeBlobs blobs;
      for (const gguf::TensorInfo& t : f.tensors())
        if (t.name.rfind(prefix, 0) == 0) blobs.emplace_back(t.name.substr(prefix.size()), read_blob(f, t.name));
      return from_blobs(std::move(header), std::move(blobs));
    } catch (const InputError& e) {
      throw InputError(what + ": " + e.what());
    }
  }

  // The run is one [rows, row] matrix (row rounded up to a multiple of D) quantized with H = I,
  // so its objective is the plain MSE, and with learning off whatever the spec says: an i.i.d.
  // source gives G nothing to learn. bpw includes G, μ, s.
  RdResult measure_rd(const std::string& spec, const RdSource& source, size_t blocks, uint64_t seed,
                      size_t row_wanted) const override {
    check_size(blocks, row_wanted);
    GlvqConfig cfg = GlvqConfig::parse(spec);
    cfg.learn = false;
    const size_t d = static_cast<size_t>(cfg.dim);
    const size_t n = (std::max(row_wanted, d) + d - 1) / d * d;
    const size_t rows = (blocks * d + n - 1) / n;
    const std::vector<float> w = source_rows(source, seed, rows, n);
    std::vector<float> back;
    const RowMatrixD wm = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
                              w.data(), static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(n))
                              .cast<double>();

    const auto t0 = std::chrono::steady_clock::now();
    const GlvqTensor t = glvq_quantize(wm, Eigen::MatrixXd::Identity(wm.cols(), wm.cols()), cfg);
    const double t_encode = seconds_since(t0);
    size_t decodes = 0;
    const double t_decode = time_decodes([&] { back = t.dequantize(); }, decodes);

    RdResult r;
    r.codec = cfg.spec();
    r.row = n;
    r.blocks = rows * n / d;
    r.bpw = t.bits_per_weight();
    set_distortion(r, w, back, t_encode, t_decode, decodes);
    return r;
  }

 private:
  // Without calibration GLVQ learns in the identity metric, rotated as a calibration Hessian
  // is: Q·I·Qᵀ is the identity up to the transform's float rounding, which GLVQ's results have
  // always included.
  static Eigen::MatrixXd identity_metric(Eigen::Index cols, const TensorQuantOptions& o) {
    const Eigen::MatrixXd identity = Eigen::MatrixXd::Identity(cols, cols);
    return o.hadamard == HadamardMode::None ? identity : rotate_hessian(identity, o.hadamard_seed);
  }
};

}  // namespace

const TensorKind& glvq_kind() {
  static const GlvqKind kind;
  return kind;
}

}  // namespace llvq::quant_detail

// Row-codec tensors: every row coded by a row codec over the body (zero padding included) and,
// optionally, by a smaller codec over a tail. Their quantizer is GPTQ over the candidate row
// layouts (gptq_driver.cpp).
#include "llvq/codec.hpp"
#include "llvq/error.hpp"
#include "llvq/gguf.hpp"
#include "quant/pipeline_detail.hpp"
#include "quant/tensor_kind.hpp"

namespace llvq::quant_detail {

RowMatrixD decode_codes(const TensorHeader& h, const std::vector<uint8_t>& body_codes,
                        const std::vector<uint8_t>& tail_codes, const Codec& body, const Codec* tail) {
  const auto rows = static_cast<size_t>(h.rows);
  std::vector<float> b(rows * static_cast<size_t>(h.body_cols));
  body.decode_rows(body_codes.data(), body_codes.size(), rows, static_cast<size_t>(h.body_cols), b.data());
  RowMatrixD out(h.rows, h.body_cols + h.tail_cols);
  for (int64_t r = 0; r < h.rows; ++r)
    for (int64_t c = 0; c < h.body_cols; ++c) out(r, c) = b[static_cast<size_t>(r * h.body_cols + c)];
  if (tail) {
    std::vector<float> tb(rows * static_cast<size_t>(h.tail_cols));
    tail->decode_rows(tail_codes.data(), tail_codes.size(), rows, static_cast<size_t>(h.tail_cols), tb.data());
    for (int64_t r = 0; r < h.rows; ++r)
      for (int64_t c = 0; c < h.tail_cols; ++c) out(r, h.body_cols + c) = tb[static_cast<size_t>(r * h.tail_cols + c)];
  }
  return out;
}

namespace {

// The part's codes in their kernels' layout; for a codec without kernels whose blocks are
// scaled lattice points (the 3- and 4-bit Leech codes), the points decoded once as integer
// blocks; null when neither applies (the layer then runs on dequantized fp32 weights).
std::unique_ptr<kernels::PackedMatrix> pack_part(const std::string& spec, const std::vector<uint8_t>& codes,
                                                 int64_t rows, int64_t cols) {
  const auto codec = shared_codec(spec);
  if (kernels::has_kernels(*codec)) return kernels::pack(*codec, codes.data(), codes.size(), rows, cols);
  return kernels::pack_integer_blocks(*codec, codes.data(), codes.size(), rows, cols);
}

class RowCodecTensor final : public QuantizedTensor {
 public:
  RowCodecTensor(TensorHeader header, std::vector<uint8_t> body_codes, std::vector<uint8_t> tail_codes)
      : QuantizedTensor(std::move(header)), body_codes_(std::move(body_codes)), tail_codes_(std::move(tail_codes)) {}

  uint64_t payload_bits() const override {
    const TensorHeader& h = header();
    uint64_t bits = static_cast<uint64_t>(h.rows) * shared_codec(h.codec)->row_bits(static_cast<size_t>(h.body_cols));
    if (!h.tail_codec.empty())
      bits += static_cast<uint64_t>(h.rows) * shared_codec(h.tail_codec)->row_bits(static_cast<size_t>(h.tail_cols));
    return bits;
  }

  uint64_t blocks() const override {
    const TensorHeader& h = header();
    uint64_t n = static_cast<uint64_t>(h.rows * h.body_cols) / shared_codec(h.codec)->block_dim();
    if (!h.tail_codec.empty())
      n += static_cast<uint64_t>(h.rows * h.tail_cols) / shared_codec(h.tail_codec)->block_dim();
    return n;
  }

  void validate(const std::string& what) const override {
    const TensorHeader& h = header();
    auto fail = [&](const std::string& m) { throw InputError(what + ": " + m); };
    if (h.rows <= 0 || h.cols <= 0) fail("shape must be positive");
    const auto body = shared_codec(h.codec);
    const int64_t block = row_unit(*body);
    // The body holds every column but the tail, plus less than one block of zero padding.
    if (h.tail_cols < 0 || h.tail_cols >= block || h.body_cols < h.cols - h.tail_cols ||
        h.body_cols - (h.cols - h.tail_cols) >= block)
      fail("column layout (body " + std::to_string(h.body_cols) + ", tail " + std::to_string(h.tail_cols) +
           ") does not fit " + std::to_string(h.cols) + " columns");
    body->check_row_length(static_cast<size_t>(h.body_cols));
    const uint64_t body_bytes =
        (static_cast<uint64_t>(h.rows) * body->row_bits(static_cast<size_t>(h.body_cols)) + 7) / 8;
    if (body_codes_.size() != body_bytes)
      fail("body codes have " + std::to_string(body_codes_.size()) + " bytes, expected " + std::to_string(body_bytes));
    if (h.tail_codec.empty() != (h.tail_cols == 0)) fail("tail codec and tail width disagree");
    if (!h.tail_codec.empty()) {
      const auto tail = shared_codec(h.tail_codec);
      tail->check_row_length(static_cast<size_t>(h.tail_cols));
      const uint64_t tail_bytes =
          (static_cast<uint64_t>(h.rows) * tail->row_bits(static_cast<size_t>(h.tail_cols)) + 7) / 8;
      if (tail_codes_.size() != tail_bytes) fail("tail codes have the wrong size");
    } else if (!tail_codes_.empty()) {
      fail("tail codes without a tail codec");
    }
  }

  CodeBlobs code_blobs() const override { return {{"body", body_codes_}, {"tail", tail_codes_}}; }

  void write_codes(gguf::Writer& w, const std::string& name) const override {
    w.add_tensor(name + ".llvq_body", {body_codes_.size()}, gguf::TensorType::I8, body_codes_);
    if (!tail_codes_.empty())
      w.add_tensor(name + ".llvq_tail", {tail_codes_.size()}, gguf::TensorType::I8, tail_codes_);
  }

  std::vector<std::unique_ptr<kernels::PackedMatrix>> pack_for_kernels() const override {
    const TensorHeader& h = header();
    // Both parts run on kernels or neither does.
    if (h.body_cols <= 0) return {};
    std::vector<std::unique_ptr<kernels::PackedMatrix>> parts;
    parts.push_back(pack_part(h.codec, body_codes_, h.rows, h.body_cols));
    if (!parts.back()) return {};
    if (!h.tail_codec.empty()) {
      parts.push_back(pack_part(h.tail_codec, tail_codes_, h.rows, h.tail_cols));
      if (!parts.back()) return {};
    }
    return parts;
  }

 private:
  RowMatrixD decode() const override {
    const TensorHeader& h = header();
    const auto body = shared_codec(h.codec);
    const auto tail = h.tail_codec.empty() ? nullptr : shared_codec(h.tail_codec);
    const RowMatrixD q = decode_codes(h, body_codes_, tail_codes_, *body, tail.get());
    // Drop the padding: it sits at the end of the body.
    RowMatrixD w(h.rows, h.cols);
    const int64_t body_real = h.cols - h.tail_cols;
    w.leftCols(body_real) = q.leftCols(body_real);
    if (h.tail_cols) w.rightCols(h.tail_cols) = q.rightCols(h.tail_cols);
    return w;
  }

  std::vector<uint8_t> body_codes_, tail_codes_;  // rows back to back, Codec::encode_rows
};

class RowCodecKind final : public TensorKind {
 public:
  bool accepts(const std::string&) const override { return true; }
  std::string name() const override { return "row codec"; }
  std::string canonical_spec(const std::string& spec) const override { return shared_codec(spec)->spec(); }

  bool takes_rounding() const override { return true; }
  std::string rounding_label(Rounding rounding) const override { return to_string(rounding); }
  void check_options(const TensorQuantOptions&) const override {}

  TensorQuantResult quantize(const RowMatrixD& w, const Eigen::MatrixXd& h,
                             const TensorQuantOptions& options) const override {
    return quantize_rows(w, h, options);
  }

  std::shared_ptr<const QuantizedTensor> from_blobs(TensorHeader header, CodeBlobs blobs) const override {
    std::vector<uint8_t> body, tail;
    for (auto& [name, bytes] : blobs) {
      if (name != "body" && name != "tail")
        throw InputError("a row-codec tensor's codes are the blobs body and tail, not '" + name + "'");
      (name == "body" ? body : tail) = std::move(bytes);
    }
    return make_row_tensor(std::move(header), std::move(body), std::move(tail));
  }

  bool present_in(const gguf::File& f, const std::string& name) const override {
    return f.find_tensor(name + ".llvq_body") != nullptr;
  }

  std::shared_ptr<const QuantizedTensor> read_gguf(const gguf::File& f, const std::string& name, TensorHeader header,
                                                   const std::string&) const override {
    std::vector<uint8_t> body = read_blob(f, name + ".llvq_body"), tail;
    if (!header.tail_codec.empty()) tail = read_blob(f, name + ".llvq_tail");
    return make_row_tensor(std::move(header), std::move(body), std::move(tail));
  }

  RdResult measure_rd(const std::string& spec, const RdSource& source, size_t blocks, uint64_t seed,
                      size_t row_wanted) const override {
    return llvq::measure_rd(*make_codec(spec), source, blocks, seed, row_wanted);
  }
};

}  // namespace

std::shared_ptr<const QuantizedTensor> make_row_tensor(TensorHeader header, std::vector<uint8_t> body_codes,
                                                       std::vector<uint8_t> tail_codes) {
  return std::make_shared<RowCodecTensor>(std::move(header), std::move(body_codes), std::move(tail_codes));
}

const TensorKind& row_codec_kind() {
  static const RowCodecKind kind;
  return kind;
}

}  // namespace llvq::quant_detail

// QuantizedTensor: what every kind shares (rate per weight, dequantization through the
// rotation), and the choice of a kind by codec spec.
#include <array>
#include <stdexcept>

#include "llvq/error.hpp"
#include "llvq/quantize.hpp"
#include "quant/pipeline_detail.hpp"
#include "quant/tensor_kind.hpp"

namespace llvq {
namespace quant_detail {

namespace {

// The row codecs' kind accepts every spec (the codec registry judges it), so it comes last.
std::array<const TensorKind*, 2> kinds() { return {&glvq_kind(), &row_codec_kind()}; }

}  // namespace

const TensorKind& tensor_kind(const std::string& spec) {
  for (const TensorKind* kind : kinds())
    if (kind->accepts(spec)) return *kind;
  throw std::logic_error("no stored-tensor kind accepts '" + spec + "'");
}

bool stored_in(const gguf::File& f, const std::string& name) {
  for (const TensorKind* kind : kinds())
    if (kind->present_in(f, name)) return true;
  return false;
}

std::vector<uint8_t> read_blob(const gguf::File& f, const std::string& name) {
  const gguf::TensorInfo& t = f.tensor(name);
  if (t.type != gguf::TensorType::I8 || t.ne.size() != 1)
    throw InputError(f.name() + ": tensor '" + name + "' must be a 1-D I8 tensor of packed codes");
  const auto d = f.data(t);
  return {d.begin(), d.end()};
}

}  // namespace quant_detail

using namespace quant_detail;

double QuantizedTensor::bits_per_weight() const {
  return static_cast<double>(payload_bits()) / (static_cast<double>(header_.rows) * static_cast<double>(header_.cols));
}

std::vector<float> QuantizedTensor::dequantize() const {
  const TensorHeader& h = header_;
  RowMatrixD w = decode();
  rotate_weight(w, h.hadamard, h.hadamard_seed, true);
  std::vector<float> out(static_cast<size_t>(h.rows * h.cols));
  for (int64_t r = 0; r < h.rows; ++r)
    for (int64_t c = 0; c < h.cols; ++c) out[static_cast<size_t>(r * h.cols + c)] = static_cast<float>(w(r, c));
  return out;
}

std::shared_ptr<const QuantizedTensor> make_quantized_tensor(TensorHeader header, CodeBlobs blobs,
                                                             const std::string& what) {
  std::shared_ptr<const QuantizedTensor> t;
  try {
    t = tensor_kind(header.codec).from_blobs(std::move(header), std::move(blobs));
  } catch (const InputError& e) {
    throw InputError(what + ": " + e.what());
  }
  t->validate(what);
  return t;
}

}  // namespace llvq

// Quantized layers inside a Llama model, whole-model quantization with calibration, and the
// compressed GGUF representation of a quantized layer.
//
// Stored form of a quantized matrix N (e.g. "blk.0.attn_q.weight") in GGUF, in place of the
// F32/F16 tensor N (see docs/quantize.md):
//   tensors  N.llvq_body   I8 [bytes]  body codes, rows back to back (bit-packed)
//            N.llvq_tail   I8 [bytes]  tail codes (only when the row has a tail)
//            N.llvq_glvq_{g,mu,scale,bits,codes}  I8  GLVQ's tensor-level form (codec glvq:...,
//                                                    instead of llvq_body / llvq_tail)
//   keys     llvq.t.N.shape (u64 [rows, cols]), llvq.t.N.codec, llvq.t.N.body_cols,
//            llvq.t.N.tail_codec, llvq.t.N.tail_cols, llvq.t.N.hadamard,
//            llvq.t.N.hadamard_seed, llvq.t.N.bpw
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "llvq/model.hpp"
#include "llvq/model_io.hpp"
#include "llvq/quantize.hpp"
#include "llvq/report.hpp"

namespace llvq {

class RandomizedHadamard;

namespace gguf {
class File;
class Writer;
}  // namespace gguf

// A linear layer stored in quantized form. When the codecs have kernels (llvq/kernels.hpp),
// the weights stay compressed in memory: batch-1 forward runs the fused decode + GEMV kernels,
// longer batches (prefill windows) decode the matrix into a scratch buffer and run a GEMM.
// Other tensors (and Execution::Dense) dequantize once at construction.
class QuantizedLinear final : public Linear {
 public:
  enum class Execution { Kernels, Dense };
  explicit QuantizedLinear(std::shared_ptr<const QuantizedTensor> tensor, Execution execution = Execution::Kernels);
  ~QuantizedLinear() override;
  int64_t in_features() const override { return tensor_->header().cols; }
  int64_t out_features() const override { return tensor_->header().rows; }
  void forward(const float* x, float* y, int64_t n_tokens) const override;
  std::vector<float> dense_weight() const override { return tensor_->dequantize(); }
  double bits_per_weight() const override { return tensor_->bits_per_weight(); }
  const std::shared_ptr<const QuantizedTensor>& tensor() const { return tensor_; }
  // Whether forward() runs on the compressed codes (false: dequantized fp32 weights).
  bool uses_kernels() const { return !parts_.empty(); }
  // Bytes the weights occupy in memory for forward(): the kernels' packed layouts, or the
  // dequantized fp32 matrix.
  uint64_t resident_bytes() const;

  void write_gguf(gguf::Writer& w, const std::string& name) const;
  // Reads the quantized tensor `name` of shape [out, in]; InputError on any inconsistency.
  static std::shared_ptr<QuantizedLinear> read_gguf(const gguf::File& f, const std::string& name, int64_t out,
                                                    int64_t in);
  // Whether the file stores `name` in quantized form.
  static bool present_in(const gguf::File& f, const std::string& name);

 private:
  // Inputs in the coded basis: rotated by the input transform, zero padding inserted after
  // the body's real columns ([n_tokens, body_cols + tail_cols]).
  std::vector<float> coded_inputs(const float* x, int64_t n_tokens) const;
  void forward_fused(const float* xc, float* y, int64_t n_tokens) const;
  void forward_decoded(const float* xc, float* y, int64_t n_tokens) const;
  // Batches up to this many tokens run the fused kernels, longer ones (prefill windows) decode
  // bands of rows and multiply: the smallest PackedMatrix::fused_tokens of the parts.
  int64_t fused_tokens() const;

  std::shared_ptr<const QuantizedTensor> tensor_;
  // The coded basis in the kernels' layout, left to right (QuantizedTensor::pack_for_kernels);
  // empty when the layer runs on dense_.
  std::vector<std::unique_ptr<kernels::PackedMatrix>> parts_;
  std::unique_ptr<RandomizedHadamard> in_rotation_, out_rotation_;
  std::unique_ptr<DenseLinear> dense_;  // codecs without kernels
};

// QuantizedLinear's form in GGUF files, for the model layer's readers and writers: what
// load_model, llama_from_gguf and save_gguf use when no CompressedLayerIo is given.
const CompressedLayerIo& quantized_layer_io();

// One rule of a per-tensor recipe: the linear layers whose GGUF name matches `pattern` get
// `codec` (a codec spec, or "keep" to leave them dense). A pattern with `*` or `?` is a glob
// over the whole name ("blk.1?.ffn_*"); any other pattern matches names that contain it
// ("ffn_down" matches "blk.3.ffn_down.weight").
struct TensorRule {
  std::string pattern;
  std::string codec;
  static TensorRule parse(const std::string& rule);  // "PATTERN=SPEC" or "PATTERN=keep"
  bool matches(const std::string& tensor_name) const;
};
inline constexpr const char* kKeepCodec = "keep";

struct ModelQuantOptions {
  TensorQuantOptions tensor;  // codec, rounding, Hadamard mode, tail mode, damping
  std::vector<TensorRule> rules;  // the first matching rule chooses a tensor's codec; else tensor.codec
  // A codec for the token embedding (empty: it stays dense). It is rounded to nearest without
  // rotation (a lookup decodes one row; its "inputs" are one-hot), and a tied classifier then
  // runs from the same codes.
  std::string embedding_codec;
  uint64_t seed = 0;          // Hadamard seeds derive from it (one per distinct layer input)
  int calib_ctx = 512;        // tokens per calibration window (clamped to the model's seq_len)
  bool progress = true;       // per-layer lines on stderr, with an ETA on a terminal
  // When set: ("calibration", windows done, windows, "") during calibration, then
  // ("quantize", tensors done, tensors, tensor name) after each linear layer.
  ProgressCallback on_progress;
};

struct TensorReport {
  std::string name;
  int64_t rows = 0, cols = 0;
  std::string layout;
  double bpw = 0;
  double weighted_error = 0;
  double seconds = 0;
  uint64_t blocks = 0;  // codec blocks coded (QuantizedTensor::blocks)
};

struct ModelQuantReport {
  std::vector<TensorReport> tensors;  // the quantized ones
  std::vector<std::string> kept;      // linear layers a "keep" rule left dense
  std::optional<TensorReport> embedding;  // when the embedding was compressed (not in bpw)
  double bpw = 0;               // exact, over all quantized (linear) weights
  uint64_t quantized_weights = 0;
  uint64_t payload_bits = 0;
  double calib_seconds = 0;
  double quant_seconds = 0;     // quantization of the tensors, calibration excluded
  uint64_t blocks = 0;          // codec blocks coded over all quantized tensors
  double seconds = 0;           // calibration + quantization
  int64_t calib_tokens = 0;
};

// InputError for a bad spec or an option a codec does not take, for every codec the
// configuration uses (options.tensor.codec and each rule's, "keep" excepted): what a command
// checks before any work.
void check_options(const ModelQuantOptions& options);

// The codec spec (or kKeepCodec) that `options` chooses for the linear layer `tensor_name`.
std::string codec_for_tensor(const ModelQuantOptions& options, const std::string& tensor_name);

// Quantizes every linear layer of `model` in place, each with the codec codec_for_tensor
// chooses (embeddings, norms and the classifier stay dense). Calibration runs the fp32 model over `calib_tokens` in windows of calib_ctx;
// an empty token list means no calibration (identity Hessians: RTN-like rounding).
ModelQuantReport quantize_model(LlamaModel& model, const std::vector<int32_t>& calib_tokens,
                                const ModelQuantOptions& options);

// Hadamard seed of a layer input: shared by the layers that read the same input.
uint64_t hadamard_seed_for(uint64_t seed, const std::string& input_name);

}  // namespace llvq

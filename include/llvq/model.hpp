// The one in-memory representation of a Llama-architecture model, whatever file it came
// from (llama2.c checkpoint, GGUF, safetensors). Weights are fp32, row-major; a linear
// layer's weight has shape [out_features, in_features]. Every linear layer is reached
// through the `Linear` interface so that compressed layers plug in without touching the
// model code.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llvq {

// y[n, out] = x[n, in] · Wᵀ for n tokens (row-major activations).
class Linear {
 public:
  virtual ~Linear() = default;
  virtual int64_t in_features() const = 0;
  virtual int64_t out_features() const = 0;
  virtual void forward(const float* x, float* y, int64_t n_tokens) const = 0;
  // The effective fp32 weight [out, in] (for checks, conversion and re-quantization).
  virtual std::vector<float> dense_weight() const = 0;
  // Bits per weight of the stored form (32 for fp32).
  virtual double bits_per_weight() const = 0;
};

class DenseLinear final : public Linear {
 public:
  DenseLinear(int64_t out_features, int64_t in_features, std::vector<float> weight);
  int64_t in_features() const override { return in_; }
  int64_t out_features() const override { return out_; }
  void forward(const float* x, float* y, int64_t n_tokens) const override;
  std::vector<float> dense_weight() const override { return w_; }
  double bits_per_weight() const override { return 32.0; }
  const std::vector<float>& weight() const { return w_; }
  // The same weight as GGUF Q8_0 blocks (bytes [offset, offset + out·in/32·34) of `image`,
  // which must dequantize to weight()): one-token forwards then run the Q8_0 GEMV, reading
  // 8.5 bits a weight instead of 32 (results within float rounding of the fp32 GEMV); several
  // tokens keep the fp32 GEMM. InputError when the shape is not whole blocks or the bytes run
  // past the image.
  void use_q8_0(std::shared_ptr<const std::vector<uint8_t>> image, size_t offset);
  bool has_q8_0() const { return q8_0_ != nullptr; }

 private:
  int64_t out_, in_;
  std::vector<float> w_;
  std::shared_ptr<const std::vector<uint8_t>> q8_0_image_;
  const uint8_t* q8_0_ = nullptr;
};

// How RoPE pairs the dimensions of a head. Loaders convert weights so that `Interleaved`
// (pairs (2i, 2i+1): llama2.c, Meta, GGUF "llama") is what real files use; `HalfSplit`
// (pairs (i, i + d/2): HF/NeoX) is there for models stored in that convention.
enum class RopeStyle { Interleaved, HalfSplit };

struct LlamaConfig {
  int dim = 0;
  int hidden_dim = 0;
  int n_layers = 0;
  int n_heads = 0;
  int n_kv_heads = 0;
  int vocab_size = 0;
  int seq_len = 0;
  float norm_eps = 1e-5f;
  float rope_theta = 10000.0f;
  RopeStyle rope_style = RopeStyle::Interleaved;
  bool tied_embeddings = true;
  int head_dim() const { return n_heads > 0 ? dim / n_heads : 0; }
  int kv_dim() const { return n_heads > 0 ? dim * n_kv_heads / n_heads : 0; }
};

// Tokenizer vocabulary as stored in llama2.c tokenizer.bin or GGUF `tokenizer.ggml.*`.
struct TokenizerData {
  std::string model = "llama";  // "llama" (SentencePiece BPE by scores) or "gpt2" (byte-level BPE merges)
  std::vector<std::string> tokens;
  std::vector<float> scores;       // empty when the source has none
  std::vector<int32_t> token_types;  // GGUF token types (1 normal, 2 unknown, 3 control, 6 byte); may be empty
  std::vector<std::string> merges;   // "a b" pairs, gpt2 only
  std::string pre;                   // gpt2: GGUF tokenizer.ggml.pre, the pre-tokenizer's name ("" = GPT-2's)
  std::string chat_template;         // GGUF tokenizer.chat_template (a Jinja template; may be empty)
  int bos_id = 1;
  int eos_id = 2;
  int unk_id = 0;
  bool add_bos = true;
  bool add_space_prefix = true;
  int max_token_length = 0;
};

// A 2-D weight exactly as a GGUF source stored it (ggml type id and bytes, which stay in the
// loaded file's image), so that tensors written back unchanged keep their source type.
struct SourceTensor {
  uint32_t ggml_type = 0;
  std::shared_ptr<const std::vector<uint8_t>> image;  // the whole source file
  size_t offset = 0, size = 0;                        // this tensor's bytes in `image`
};

struct LlamaLayer {
  std::vector<float> attn_norm;  // [dim]
  std::vector<float> ffn_norm;   // [dim]
  std::shared_ptr<Linear> wq, wk, wv, wo;  // [dim,dim], [kv_dim,dim], [kv_dim,dim], [dim,dim]
  std::shared_ptr<Linear> w1, w2, w3;      // gate [hidden,dim], down [dim,hidden], up [hidden,dim]
};

struct LlamaModel {
  LlamaConfig config;
  std::vector<float> tok_embeddings;  // [vocab, dim]
  // The embedding's compressed form when it is stored compressed (tok_embeddings then holds
  // its decoded values, and a tied classifier runs from these codes); null when dense.
  std::shared_ptr<Linear> compressed_embedding;
  std::vector<LlamaLayer> layers;
  std::vector<float> final_norm;  // [dim]
  std::shared_ptr<Linear> output;  // classifier [vocab, dim]; a copy of the embedding when tied
  std::optional<TokenizerData> tokenizer;  // when the file carries one (GGUF)
  std::map<std::string, std::string> metadata;  // free-form provenance (source file, format, ...)
  // Stored forms of the GGUF source's non-F32 2-D weights, by GGUF tensor name.
  std::map<std::string, SourceTensor> source_tensors;
};

}  // namespace llvq

#include <algorithm>
#include <cmath>

#include "llvq/error.hpp"
#include "llvq/llama.hpp"

namespace llvq {

namespace {

// n values uniform in [-a, a] with a = 0.02·√3 (standard deviation 0.02), from a
// SplitMix64 stream: fast enough to fill a billion-parameter benchmark model.
std::vector<float> random_weights(size_t n, uint64_t seed) {
  std::vector<float> w(n);
  const float a = 0.02f * std::sqrt(3.0f);
  uint64_t state = seed;
  for (float& x : w) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const float u = static_cast<float>(z >> 40) * (1.0f / 16777216.0f);  // [0, 1)
    x = (2.0f * u - 1.0f) * a;
  }
  return w;
}

}  // namespace

LlamaModel random_llama(const LlamaConfig& config, uint64_t seed) {
  const LlamaConfig& c = config;
  if (c.dim <= 0 || c.hidden_dim <= 0 || c.n_layers <= 0 || c.n_heads <= 0 || c.n_kv_heads <= 0 || c.vocab_size <= 0)
    throw InputError("random model: every dimension must be positive");
  LlamaModel m;
  m.config = c;
  m.config.tied_embeddings = true;
  uint64_t stream = seed * 1000003ull;
  auto linear = [&](int64_t out, int64_t in) {
    return std::make_shared<DenseLinear>(out, in, random_weights(static_cast<size_t>(out * in), ++stream));
  };
  m.tok_embeddings = random_weights(static_cast<size_t>(c.vocab_size) * c.dim, ++stream);
  m.layers.resize(c.n_layers);
  for (LlamaLayer& L : m.layers) {
    L.attn_norm.assign(c.dim, 1.0f);
    L.ffn_norm.assign(c.dim, 1.0f);
    L.wq = linear(c.dim, c.dim);
    L.wk = linear(c.kv_dim(), c.dim);
    L.wv = linear(c.kv_dim(), c.dim);
    L.wo = linear(c.dim, c.dim);
    L.w1 = linear(c.hidden_dim, c.dim);
    L.w2 = linear(c.dim, c.hidden_dim);
    L.w3 = linear(c.hidden_dim, c.dim);
  }
  m.final_norm.assign(c.dim, 1.0f);
  m.output = std::make_shared<DenseLinear>(c.vocab_size, c.dim, m.tok_embeddings);
  m.metadata["source"] = "random_llama(seed " + std::to_string(seed) + ")";
  return m;
}

LlamaConfig llama_shape(int dim, int layers, int vocab, int seq_len, int hidden, int heads, int kv_heads) {
  if (dim <= 0 || layers <= 0 || vocab <= 0 || seq_len <= 0 || hidden < 0 || heads < 0 || kv_heads < 0)
    throw InputError("model shape: dim, layers, vocab and context must be positive (hidden, heads ≥ 0)");
  LlamaConfig c;
  c.dim = dim;
  c.n_layers = layers;
  c.hidden_dim = hidden > 0 ? hidden : (8 * dim / 3 + 255) / 256 * 256;
  c.n_heads = heads > 0 ? heads : std::max(1, dim / 64);
  c.n_kv_heads = kv_heads > 0 ? kv_heads : (c.n_heads % 8 == 0 ? c.n_heads / 8 : c.n_heads);
  c.vocab_size = vocab;
  c.seq_len = seq_len;
  return c;
}

}  // namespace llvq

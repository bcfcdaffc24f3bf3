#include <Eigen/Core>
#include <algorithm>
#include <cmath>

#include "llvq/error.hpp"
#include "llvq/llama.hpp"

namespace llvq {

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using StridedMap = Eigen::Map<RowMat, 0, Eigen::OuterStride<>>;
using ConstStridedMap = Eigen::Map<const RowMat, 0, Eigen::OuterStride<>>;

// Query rows per attention work item: small enough to spread a window over the cores,
// large enough that each item's score block is a real matrix product.
constexpr int kAttentionBlock = 64;

// out[t] = x[t] / rms(x[t]) * gain, for n rows of `dim`.
void rmsnorm(const float* x, const std::vector<float>& gain, float* out, int n, int dim, float eps) {
#pragma omp parallel for if (n > 16)
  for (int t = 0; t < n; ++t) {
    const float* xr = x + static_cast<size_t>(t) * dim;
    float* o = out + static_cast<size_t>(t) * dim;
    float ss = 0.0f;
    for (int i = 0; i < dim; ++i) ss += xr[i] * xr[i];
    const float scale = 1.0f / std::sqrt(ss / static_cast<float>(dim) + eps);
    for (int i = 0; i < dim; ++i) o[i] = xr[i] * scale * gain[i];
  }
}

void add_into(float* x, const float* y, size_t n) {
#pragma omp parallel for simd if (n > 65536)
  for (size_t i = 0; i < n; ++i) x[i] += y[i];
}

// SwiGLU: gate = silu(gate) * up, in place.
void swiglu(float* gate, const float* up, size_t n) {
#pragma omp parallel for simd if (n > 65536)
  for (size_t i = 0; i < n; ++i) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void check_linear(const std::shared_ptr<Linear>& l, int64_t out, int64_t in, const std::string& what) {
  if (!l) throw InputError("model: missing linear layer " + what);
  if (l->out_features() != out || l->in_features() != in)
    throw InputError("model: " + what + " has shape [" + std::to_string(l->out_features()) + ", " +
                     std::to_string(l->in_features()) + "], expected [" + std::to_string(out) + ", " +
                     std::to_string(in) + "]");
}

void check_vector(const std::vector<float>& v, size_t n, const std::string& what) {
  if (v.size() != n)
    throw InputError("model: " + what + " has " + std::to_string(v.size()) + " values, expected " + std::to_string(n));
}

}  // namespace

LlamaRunner::LlamaRunner(const LlamaModel& model, int max_positions) : model_(model) {
  check_model();
  const LlamaConfig& c = model_.config;
  capacity_ = max_positions > 0 ? max_positions : c.seq_len;
  if (capacity_ <= 0) throw InputError("model: no context length (seq_len 0) and none requested");
  kv_dim_ = c.kv_dim();
  const size_t cache = static_cast<size_t>(c.n_layers) * capacity_ * kv_dim_;
  k_cache_.assign(cache, 0.0f);
  v_cache_.assign(cache, 0.0f);

  // Rotation angles pos · theta^(-2i/head_dim), computed in double once.
  const int half = c.head_dim() / 2;
  rope_cos_.resize(static_cast<size_t>(capacity_) * half);
  rope_sin_.resize(rope_cos_.size());
  for (int p = 0; p < capacity_; ++p)
    for (int i = 0; i < half; ++i) {
      const double angle = p * std::pow(static_cast<double>(c.rope_theta), -2.0 * i / c.head_dim());
      rope_cos_[static_cast<size_t>(p) * half + i] = static_cast<float>(std::cos(angle));
      rope_sin_[static_cast<size_t>(p) * half + i] = static_cast<float>(std::sin(angle));
    }
}

void LlamaRunner::check_model() const {
  const LlamaConfig& c = model_.config;
  if (c.dim <= 0 || c.hidden_dim <= 0 || c.n_layers <= 0 || c.n_heads <= 0 || c.n_kv_heads <= 0 || c.vocab_size <= 0)
    throw InputError("model: non-positive dimension in the configuration");
  if (c.dim % c.n_heads != 0 || c.n_heads % c.n_kv_heads != 0 || c.head_dim() % 2 != 0)
    throw InputError("model: dim " + std::to_string(c.dim) + ", " + std::to_string(c.n_heads) + " heads and " +
                     std::to_string(c.n_kv_heads) + " KV heads do not give an even head size shared by whole groups");
  if (!(c.rope_theta > 0.0f) || !(c.norm_eps >= 0.0f)) throw InputError("model: bad rope_theta or norm_eps");
  const size_t dim = static_cast<size_t>(c.dim);
  check_vector(model_.tok_embeddings, static_cast<size_t>(c.vocab_size) * dim, "token embedding");
  check_vector(model_.final_norm, dim, "final norm");
  if (model_.layers.size() != static_cast<size_t>(c.n_layers))
    throw InputError("model: " + std::to_string(model_.layers.size()) + " layers, configuration says " +
                     std::to_string(c.n_layers));
  for (size_t l = 0; l < model_.layers.size(); ++l) {
    const LlamaLayer& L = model_.layers[l];
    const std::string p = "layer " + std::to_string(l) + " ";
    check_vector(L.attn_norm, dim, p + "attention norm");
    check_vector(L.ffn_norm, dim, p + "ffn norm");
    check_linear(L.wq, c.dim, c.dim, p + "wq");
    check_linear(L.wk, c.kv_dim(), c.dim, p + "wk");
    check_linear(L.wv, c.kv_dim(), c.dim, p + "wv");
    check_linear(L.wo, c.dim, c.dim, p + "wo");
    check_linear(L.w1, c.hidden_dim, c.dim, p + "w1");
    check_linear(L.w2, c.dim, c.hidden_dim, p + "w2");
    check_linear(L.w3, c.hidden_dim, c.dim, p + "w3");
  }
  check_linear(model_.output, c.vocab_size, c.dim, "output");
}

// Rotates each head's dimension pairs of n_tokens rows (starting at position pos_) by
// their angles. Interleaved pairs (2i, 2i+1); HalfSplit pairs (i, i + head_dim/2).
void LlamaRunner::rope(float* x, int n_tokens, int n_heads) const {
  const int hd = config().head_dim();
  const int half = hd / 2;
  const bool interleaved = config().rope_style == RopeStyle::Interleaved;
  const int stride = n_heads * hd;
#pragma omp parallel for if (n_tokens > 16)
  for (int t = 0; t < n_tokens; ++t) {
    const float* cs = rope_cos_.data() + static_cast<size_t>(pos_ + t) * half;
    const float* sn = rope_sin_.data() + static_cast<size_t>(pos_ + t) * half;
    for (int h = 0; h < n_heads; ++h) {
      float* v = x + static_cast<size_t>(t) * stride + h * hd;
      for (int i = 0; i < half; ++i) {
        float& a = interleaved ? v[2 * i] : v[i];
        float& b = interleaved ? v[2 * i + 1] : v[i + half];
        const float a0 = a, b0 = b;
        a = a0 * cs[i] - b0 * sn[i];
        b = a0 * sn[i] + b0 * cs[i];
      }
    }
  }
}

// Causal grouped-query attention of n_tokens queries (positions pos_ ...) over the cache.
// Work items are (head, block of query rows); each is a pair of small matrix products.
void LlamaRunner::attention(int layer, const float* q, float* out, int n_tokens) const {
  const LlamaConfig& c = config();
  const int hd = c.head_dim();
  const int group = c.n_heads / c.n_kv_heads;
  const int blocks = (n_tokens + kAttentionBlock - 1) / kAttentionBlock;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const float* keys = k_cache_.data() + static_cast<size_t>(layer) * capacity_ * kv_dim_;
  const float* values = v_cache_.data() + static_cast<size_t>(layer) * capacity_ * kv_dim_;
  // Tiny problems (single-token decoding of small models) are not worth waking threads.
  const double work = static_cast<double>(c.n_heads) * n_tokens * (pos_ + n_tokens) * hd;
#pragma omp parallel if (work > 1e5)
  {
    RowMat scores;
#pragma omp for collapse(2) schedule(dynamic)
    for (int h = 0; h < c.n_heads; ++h) {
      for (int b = 0; b < blocks; ++b) {
        const int t0 = b * kAttentionBlock;
        const int rows = std::min(kAttentionBlock, n_tokens - t0);
        const int n_keys = pos_ + t0 + rows;  // causal: the last row sees every key up to itself
        const int kvh = h / group;
        ConstStridedMap Q(q + static_cast<size_t>(t0) * c.dim + h * hd, rows, hd, Eigen::OuterStride<>(c.dim));
        ConstStridedMap K(keys + kvh * hd, n_keys, hd, Eigen::OuterStride<>(kv_dim_));
        ConstStridedMap V(values + kvh * hd, n_keys, hd, Eigen::OuterStride<>(kv_dim_));
        StridedMap O(out + static_cast<size_t>(t0) * c.dim + h * hd, rows, hd, Eigen::OuterStride<>(c.dim));
        scores.noalias() = (Q * K.transpose()) * scale;
        for (int r = 0; r < rows; ++r) {
          const int visible = pos_ + t0 + r + 1;
          float* s = scores.row(r).data();
          const float top = *std::max_element(s, s + visible);
          float sum = 0.0f;
          for (int j = 0; j < visible; ++j) sum += (s[j] = std::exp(s[j] - top));
          const float inv = 1.0f / sum;
          for (int j = 0; j < visible; ++j) s[j] *= inv;
          std::fill(s + visible, s + n_keys, 0.0f);
        }
        O.noalias() = scores * V;
      }
    }
  }
}

std::vector<float> LlamaRunner::forward_window(std::span<const int32_t> tokens) {
  reset();
  return append(tokens, true);
}

std::vector<float> LlamaRunner::forward_window(std::span<const int32_t> tokens, int first_row, int rows) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (first_row < 0 || rows < 1 || first_row + static_cast<int64_t>(rows) > n)
    throw InputError("forward: logit rows " + std::to_string(first_row) + " + " + std::to_string(rows) +
                     " outside a window of " + std::to_string(n) + " tokens");
  reset();
  return run(tokens, first_row, rows);
}

std::vector<float> LlamaRunner::append(std::span<const int32_t> tokens, bool all_logits) {
  const int n = static_cast<int>(tokens.size());
  return run(tokens, all_logits ? 0 : std::max(n - 1, 0), all_logits ? n : 1);
}

std::vector<float> LlamaRunner::run(std::span<const int32_t> tokens, int first_row, int rows) {
  const LlamaConfig& c = config();
  const int n = static_cast<int>(tokens.size());
  if (n == 0) throw InputError("forward: no tokens");
  if (pos_ + n > capacity_)
    throw InputError("forward: " + std::to_string(pos_ + n) + " positions exceed the context of " +
                     std::to_string(capacity_));
  const size_t dim = static_cast<size_t>(c.dim);
  const size_t hidden = static_cast<size_t>(c.hidden_dim);

  std::vector<float> x(n * dim), xb(n * dim), q(n * dim), att(n * dim), proj(n * dim);
  std::vector<float> gate(n * hidden), up(n * hidden);
  for (int t = 0; t < n; ++t) {
    const int32_t tok = tokens[t];
    if (tok < 0 || tok >= c.vocab_size)
      throw InputError("forward: token id " + std::to_string(tok) + " outside the vocabulary of " +
                       std::to_string(c.vocab_size));
    std::copy_n(model_.tok_embeddings.begin() + tok * dim, dim, x.begin() + t * dim);
  }

  for (int l = 0; l < c.n_layers; ++l) {
    const LlamaLayer& L = model_.layers[l];
    rmsnorm(x.data(), L.attn_norm, xb.data(), n, c.dim, c.norm_eps);
    L.wq->forward(xb.data(), q.data(), n);
    // Keys and values of consecutive positions are contiguous in the cache: write in place.
    L.wk->forward(xb.data(), k_cache(l, pos_), n);
    L.wv->forward(xb.data(), v_cache(l, pos_), n);
    rope(q.data(), n, c.n_heads);
    rope(k_cache(l, pos_), n, c.n_kv_heads);
    attention(l, q.data(), att.data(), n);
    L.wo->forward(att.data(), proj.data(), n);
    add_into(x.data(), proj.data(), x.size());

    rmsnorm(x.data(), L.ffn_norm, xb.data(), n, c.dim, c.norm_eps);
    L.w1->forward(xb.data(), gate.data(), n);
    L.w3->forward(xb.data(), up.data(), n);
    swiglu(gate.data(), up.data(), gate.size());
    L.w2->forward(gate.data(), proj.data(), n);
    add_into(x.data(), proj.data(), x.size());
  }
  pos_ += n;

  rmsnorm(x.data() + first_row * dim, model_.final_norm, xb.data(), rows, c.dim, c.norm_eps);
  std::vector<float> logits(static_cast<size_t>(rows) * c.vocab_size);
  model_.output->forward(xb.data(), logits.data(), rows);
  return logits;
}

double forward_flops(const LlamaConfig& c, int64_t n_tokens) {
  const double d = c.dim, h = c.hidden_dim, kv = c.kv_dim();
  const double linear_per_token = c.n_layers * (2.0 * d * d + 2.0 * d * kv + 3.0 * d * h) + c.vocab_size * d;
  // Token t attends to t + 1 keys: scores and mixing are d multiply-adds per key each.
  const double keys = static_cast<double>(n_tokens) * (n_tokens + 1) / 2.0;
  return 2.0 * (linear_per_token * n_tokens + c.n_layers * 2.0 * d * keys);
}

}  // namespace llvq

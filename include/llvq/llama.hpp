// The Llama forward pass on the CPU, fp32 activations and accumulation.
//
// One code path serves both uses: `append` pushes a run of tokens through the model at the
// next free positions of the KV cache. A whole perplexity window goes through in one call
// (every projection is a matrix–matrix product over all its tokens: batched prefill);
// generation calls it with one token at a time. Every projection goes through
// `Linear::forward`, so compressed layers plug in without changes here.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "llvq/model.hpp"

namespace llvq {

class LlamaRunner {
 public:
  // Checks the model's shapes (InputError when inconsistent) and sizes the KV cache for
  // `max_positions` tokens (0: the model's seq_len).
  explicit LlamaRunner(const LlamaModel& model, int max_positions = 0);

  // Logits [tokens.size(), vocab] (row-major) of a window whose first token sits at
  // position 0; the KV cache is reset first.
  std::vector<float> forward_window(std::span<const int32_t> tokens);
  // The same for the `rows` rows from `first_row` on only ([rows, vocab]): the classifier, a
  // large share of a small model's work, runs on those rows alone (a perplexity protocol that
  // scores half of each window needs half of them).
  std::vector<float> forward_window(std::span<const int32_t> tokens, int first_row, int rows);

  // Runs `tokens` at positions position() ... position() + size - 1, keeping their keys
  // and values. Returns the logits of every token ([size, vocab]) or, when
  // `all_logits` is false, of the last one only ([vocab]).
  std::vector<float> append(std::span<const int32_t> tokens, bool all_logits);

  void reset() { pos_ = 0; }
  int position() const { return pos_; }
  int capacity() const { return capacity_; }
  const LlamaConfig& config() const { return model_.config; }

 private:
  void check_model() const;
  // Runs `tokens` as append() does; logits of rows first_row .. first_row + rows − 1 of them.
  std::vector<float> run(std::span<const int32_t> tokens, int first_row, int rows);
  void rope(float* x, int n_tokens, int n_heads) const;
  void attention(int layer, const float* q, float* out, int n_tokens) const;
  float* k_cache(int layer, int pos) { return k_cache_.data() + (static_cast<size_t>(layer) * capacity_ + pos) * kv_dim_; }
  float* v_cache(int layer, int pos) { return v_cache_.data() + (static_cast<size_t>(layer) * capacity_ + pos) * kv_dim_; }

  const LlamaModel& model_;
  int capacity_ = 0;
  int pos_ = 0;
  int kv_dim_ = 0;
  std::vector<float> k_cache_, v_cache_;  // [layer][position][kv_dim]
  std::vector<float> rope_cos_, rope_sin_;  // [position][head_dim / 2]
};

// Floating-point operations of one forward pass over a window of n tokens from position 0
// (2 per multiply-add: linear layers, classifier, causal attention scores and mixing).
double forward_flops(const LlamaConfig& config, int64_t n_tokens);

// A Llama of the given shape with random weights (uniform, standard deviation 0.02; norm
// gains 1; tied classifier), for benchmarks and tests. Deterministic in `seed`.
LlamaModel random_llama(const LlamaConfig& config, uint64_t seed);

// A Llama shape for synthetic benchmarks. Zero picks Llama's defaults: MLP width 8/3·dim
// rounded up to a multiple of 256 (2048 → 5632), heads of 64 dimensions, and grouped KV heads
// (heads / 8) when the head count allows it. InputError on non-positive sizes.
LlamaConfig llama_shape(int dim, int layers, int vocab, int seq_len, int hidden = 0, int heads = 0, int kv_heads = 0);

}  // namespace llvq

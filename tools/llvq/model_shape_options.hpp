// The shape options of the synthetic-Llama benchmarks (`bench forward`, `bench run`).
#pragma once

#include <CLI/CLI.hpp>

#include "llvq/llama.hpp"

namespace llvq::cli {

struct ModelShapeArgs {
  int dim = 2048, layers = 8, hidden = 0, heads = 0, kv_heads = 0, vocab = 32000;

  void add_to(CLI::App& sub) {
    sub.add_option("--dim", dim, "Model width")->capture_default_str();
    sub.add_option("--layers", layers, "Number of layers")->capture_default_str();
    sub.add_option("--hidden", hidden, "MLP width (0: 8/3 dim rounded up to 256)");
    sub.add_option("--heads", heads, "Attention heads (0: dim / 64)");
    sub.add_option("--kv-heads", kv_heads, "KV heads (0: heads / 8 when divisible, else heads)");
    sub.add_option("--vocab", vocab, "Vocabulary size")->capture_default_str();
  }
  LlamaConfig config(int seq_len) const { return llama_shape(dim, layers, vocab, seq_len, hidden, heads, kv_heads); }
};

}  // namespace llvq::cli

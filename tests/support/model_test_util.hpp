// Helpers shared by the model-file tests: paths of the real data, whole-model bit-exact
// comparison, expected errors; with files.hpp (temporary directories) and process.hpp
// (running commands).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "files.hpp"
#include "floats.hpp"
#include "process.hpp"
#include "test_data.hpp"
#include "llvq/error.hpp"
#include "llvq/gguf.hpp"
#include "llvq/llama.hpp"
#include "llvq/model.hpp"
#include "llvq/quantized_model.hpp"

namespace llvq::test {

// The shape of a small random Llama (2 layers, width 48, 72 tokens), for model tests that
// need no data; a test may change a field.
inline LlamaConfig small_llama_config() {
  LlamaConfig c;
  c.dim = 48;
  c.hidden_dim = 96;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.vocab_size = 72;
  c.seq_len = 32;
  return c;
}

inline LlamaModel small_random_llama() { return random_llama(small_llama_config(), 11); }

// Compresses only the token embedding of `m` with `codec` (the linear layers are kept).
inline ModelQuantReport quantize_embedding_only(LlamaModel& m, const std::string& codec) {
  ModelQuantOptions o;
  o.tensor.codec = kKeepCodec;
  o.embedding_codec = codec;
  o.progress = false;
  return quantize_model(m, {}, o);
}

// Runs tests/make_safetensors.py (NumPy) to export the llama2.c checkpoint `model` (callers
// pass stories_bin(), which also tells tests/CMakeLists.txt that they need the shared data)
// in HF layout into `dir`, with the script's options `args`.
inline void make_safetensors_fixture(const std::string& model, const std::string& dir, const std::string& args) {
  const std::string cmd =
      std::string(LLVQ_PYTHON) + " " + LLVQ_TESTS_DIR + "/make_safetensors.py '" + model + "' '" + dir + "' " + args;
  const CommandResult r = run_command(cmd);
  ASSERT_EQ(r.status, 0) << cmd << "\n" << r.out;
}

// The Python that cross-checks our GGUF files with llama.cpp's reader (the PyPI package
// "gguf"): $LLVQ_GGUF_PYTHON, else LLVQ_PYTHON.
inline std::string gguf_python() { return env_or("LLVQ_GGUF_PYTHON", LLVQ_PYTHON); }
inline bool has_gguf_package(const std::string& python) {
  return run_command(python + " -c 'import gguf'").status == 0;
}

// The bytes of tensor `name` in a GGUF file.
inline std::vector<uint8_t> gguf_tensor_bytes(const gguf::File& f, const std::string& name) {
  const auto span = f.data(f.tensor(name));
  return {span.begin(), span.end()};
}

inline void expect_same_config(const LlamaConfig& a, const LlamaConfig& b) {
  EXPECT_EQ(a.dim, b.dim);
  EXPECT_EQ(a.hidden_dim, b.hidden_dim);
  EXPECT_EQ(a.n_layers, b.n_layers);
  EXPECT_EQ(a.n_heads, b.n_heads);
  EXPECT_EQ(a.n_kv_heads, b.n_kv_heads);
  EXPECT_EQ(a.vocab_size, b.vocab_size);
  EXPECT_EQ(a.seq_len, b.seq_len);
  EXPECT_EQ(a.norm_eps, b.norm_eps);
  EXPECT_EQ(a.rope_theta, b.rope_theta);
  EXPECT_EQ(a.rope_style, b.rope_style);
  EXPECT_EQ(a.tied_embeddings, b.tied_embeddings);
}

inline void expect_linear_equal(const std::shared_ptr<Linear>& a, const std::shared_ptr<Linear>& b,
                                const std::string& what) {
  ASSERT_TRUE(a && b) << what;
  EXPECT_EQ(a->out_features(), b->out_features()) << what;
  EXPECT_EQ(a->in_features(), b->in_features()) << what;
  EXPECT_TRUE(bits_equal(a->dense_weight(), b->dense_weight())) << what;
}

// Every weight bit-exactly equal, and the same hyper-parameters.
inline void expect_models_equal(const LlamaModel& a, const LlamaModel& b) {
  expect_same_config(a.config, b.config);
  EXPECT_TRUE(bits_equal(a.tok_embeddings, b.tok_embeddings)) << "tok_embeddings";
  EXPECT_TRUE(bits_equal(a.final_norm, b.final_norm)) << "final_norm";
  expect_linear_equal(a.output, b.output, "output");
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t l = 0; l < a.layers.size(); ++l) {
    const auto &x = a.layers[l], &y = b.layers[l];
    const std::string at = " of layer " + std::to_string(l);
    EXPECT_TRUE(bits_equal(x.attn_norm, y.attn_norm)) << "attn_norm" << at;
    EXPECT_TRUE(bits_equal(x.ffn_norm, y.ffn_norm)) << "ffn_norm" << at;
    expect_linear_equal(x.wq, y.wq, "wq" + at);
    expect_linear_equal(x.wk, y.wk, "wk" + at);
    expect_linear_equal(x.wv, y.wv, "wv" + at);
    expect_linear_equal(x.wo, y.wo, "wo" + at);
    expect_linear_equal(x.w1, y.w1, "w1" + at);
    expect_linear_equal(x.w2, y.w2, "w2" + at);
    expect_linear_equal(x.w3, y.w3, "w3" + at);
  }
}

// Expects `fn` to throw llvq::InputError whose message contains every one of `parts`.
template <class Fn>
void expect_input_error(Fn fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "no exception thrown";
  } catch (const InputError& e) {
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what() << " lacks " << p;
  }
}

}  // namespace llvq::test

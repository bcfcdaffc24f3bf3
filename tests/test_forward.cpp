// Forward-pass tests: logits against the independent NumPy reference (real stories260K and
// a synthetic model with an untied classifier, a large rope theta and half-split RoPE),
// batched prefill against token-by-token decoding, RoPE conventions against each other
// through the Hugging Face row permutation, and the batched Linear calls.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "eval_test_util.hpp"
#include "llvq/error.hpp"
#include "llvq/llama.hpp"
#include "llvq/model_io.hpp"
#include "llvq/tokenizer.hpp"

namespace llvq {
namespace {

// max |a - b| / max |b|: the error relative to the logits' scale.
double relative_error(const std::vector<float>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    diff = std::max(diff, std::abs(a[i] - b[i]));
    scale = std::max(scale, std::abs(b[i]));
  }
  return diff / scale;
}

std::vector<double> reference_logits(const std::string& model, const std::vector<int32_t>& tokens,
                                     const std::string& extra = "") {
  std::string list;
  for (const int32_t t : tokens) {
    if (!list.empty()) list += ',';
    list += std::to_string(t);
  }
  const auto j = evaltest::run_reference("logits --model " + model + " --tokens " + list + " " + extra);
  std::vector<double> flat;
  for (const auto& row : j.at("logits"))
    for (const auto& v : row) flat.push_back(v.get<double>());
  return flat;
}

const LlamaModel& stories() {
  static const LlamaModel model = load_model(evaltest::stories_model());
  return model;
}

std::vector<int32_t> stories_prompt() {
  const Tokenizer tok(load_llama2c_tokenizer(evaltest::stories_tokenizer()));
  return tok.encode("Once upon a time, there was a little girl named Lily. She loved to play outside.", true, false);
}

TEST(Forward, Stories260KLogitsMatchNumpyReference) {
  const auto tokens = stories_prompt();
  LlamaRunner runner(stories());
  const std::vector<float> logits = runner.forward_window(tokens);
  EXPECT_LT(relative_error(logits, reference_logits(evaltest::stories_model(), tokens)), 1e-4);
}

TEST(Forward, IncrementalDecodingMatchesBatchedPrefill) {
  // 150 tokens cross the attention's 64-row blocks; chunks of uneven size start mid-block.
  std::vector<int32_t> tokens = stories_prompt();
  while (tokens.size() < 150) tokens.push_back(static_cast<int32_t>(3 + (tokens.size() * 37) % 500));
  LlamaRunner runner(stories());
  const std::vector<float> all = runner.forward_window(tokens);
  const size_t vocab = stories().config.vocab_size;

  runner.reset();
  std::vector<float> stepped;
  for (size_t i = 0; i < tokens.size();) {
    const size_t chunk = std::min<size_t>(i < 20 ? 1 : 37, tokens.size() - i);
    const auto part = runner.append(std::span(tokens).subspan(i, chunk), true);
    stepped.insert(stepped.end(), part.begin(), part.end());
    i += chunk;
  }
  EXPECT_EQ(runner.position(), 150);
  ASSERT_EQ(stepped.size(), all.size());
  EXPECT_LT(relative_error(stepped, std::vector<double>(all.begin(), all.end())), 1e-5);

  runner.reset();
  const auto last = runner.append(tokens, false);
  ASSERT_EQ(last.size(), vocab);
  EXPECT_LT(relative_error(last, std::vector<double>(all.end() - vocab, all.end())), 1e-6);
}

// The classifier on a window's middle rows only (the llama.cpp protocol scores the second
// half): the same logits as those rows of the whole window, and bad row ranges rejected.
TEST(Forward, LogitRowsOfAWindowMatchTheWholeWindow) {
  std::vector<int32_t> tokens = stories_prompt();
  while (tokens.size() < 100) tokens.push_back(static_cast<int32_t>(3 + (tokens.size() * 37) % 500));
  LlamaRunner runner(stories());
  const std::vector<float> all = runner.forward_window(tokens);
  const size_t vocab = stories().config.vocab_size;
  for (const auto& [first, rows] : {std::pair{0, 100}, std::pair{50, 49}, std::pair{99, 1}, std::pair{13, 7}}) {
    SCOPED_TRACE(std::to_string(first) + " + " + std::to_string(rows));
    const std::vector<float> part = runner.forward_window(tokens, first, rows);
    ASSERT_EQ(part.size(), rows * vocab);
    const auto begin = all.begin() + first * static_cast<ptrdiff_t>(vocab);
    EXPECT_LT(relative_error(part, std::vector<double>(begin, begin + rows * static_cast<ptrdiff_t>(vocab))), 1e-6);
  }
  EXPECT_THROW(runner.forward_window(tokens, 0, 0), InputError);
  EXPECT_THROW(runner.forward_window(tokens, -1, 5), InputError);
  EXPECT_THROW(runner.forward_window(tokens, 90, 11), InputError);
}

// A random llama2.c model: weights N(0, 0.1²) (norm gains around 1), optionally untied.
struct SyntheticModel {
  LlamaConfig config;
  std::vector<std::vector<float>> arrays;  // in llama2.c file order
};

SyntheticModel random_model(uint32_t seed, bool untied) {
  SyntheticModel m;
  LlamaConfig& c = m.config;
  c.dim = 48, c.hidden_dim = 80, c.n_layers = 2, c.n_heads = 4, c.n_kv_heads = 2, c.vocab_size = 37, c.seq_len = 64;
  c.tied_embeddings = !untied;
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.1f);
  auto random = [&](size_t n, float mean) {
    std::vector<float> v(n);
    for (float& x : v) x = mean + normal(rng);
    return v;
  };
  const size_t d = c.dim, h = c.hidden_dim, L = c.n_layers, kv = c.kv_dim(), V = c.vocab_size;
  m.arrays = {random(V * d, 0), random(L * d, 1),      random(L * d * d, 0), random(L * kv * d, 0),
              random(L * kv * d, 0), random(L * d * d, 0), random(L * d, 1), random(L * h * d, 0),
              random(L * d * h, 0), random(L * h * d, 0), random(d, 1)};
  if (untied) m.arrays.push_back(random(V * d, 0));
  return m;
}

void write_llama2c(const SyntheticModel& m, const std::string& path) {
  const LlamaConfig& c = m.config;
  std::ofstream out(path, std::ios::binary);
  const int32_t header[7] = {c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads,
                             c.tied_embeddings ? c.vocab_size : -c.vocab_size, c.seq_len};
  out.write(reinterpret_cast<const char*>(header), sizeof header);
  auto put = [&](const std::vector<float>& v) {
    out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
  };
  for (size_t i = 0; i < 11; ++i) put(m.arrays[i]);
  const std::vector<float> rope_table(static_cast<size_t>(c.seq_len) * c.head_dim() / 2, 0.0f);
  put(rope_table);
  put(rope_table);
  if (!c.tied_embeddings) put(m.arrays[11]);
}

// Layer l's slice of a stacked [L, rows, cols] array as a dense layer.
std::shared_ptr<Linear> slice(const std::vector<float>& stacked, int l, int64_t rows, int64_t cols) {
  const auto begin = stacked.begin() + l * rows * cols;
  return std::make_shared<DenseLinear>(rows, cols, std::vector<float>(begin, begin + rows * cols));
}

LlamaModel to_model(const SyntheticModel& m) {
  LlamaModel model;
  model.config = m.config;
  const LlamaConfig& c = m.config;
  const auto& a = m.arrays;
  model.tok_embeddings = a[0];
  for (int l = 0; l < c.n_layers; ++l) {
    LlamaLayer L;
    L.attn_norm.assign(a[1].begin() + l * c.dim, a[1].begin() + (l + 1) * c.dim);
    L.ffn_norm.assign(a[6].begin() + l * c.dim, a[6].begin() + (l + 1) * c.dim);
    L.wq = slice(a[2], l, c.dim, c.dim);
    L.wk = slice(a[3], l, c.kv_dim(), c.dim);
    L.wv = slice(a[4], l, c.kv_dim(), c.dim);
    L.wo = slice(a[5], l, c.dim, c.dim);
    L.w1 = slice(a[7], l, c.hidden_dim, c.dim);
    L.w2 = slice(a[8], l, c.dim, c.hidden_dim);
    L.w3 = slice(a[9], l, c.hidden_dim, c.dim);
    model.layers.push_back(std::move(L));
  }
  model.final_norm = a[10];
  model.output = std::make_shared<DenseLinear>(c.vocab_size, c.dim, c.tied_embeddings ? a[0] : a[11]);
  return model;
}

TEST(Forward, UntiedHalfSplitLargeThetaMatchesNumpyReference) {
  SyntheticModel m = random_model(11, true);
  m.config.rope_theta = 500000.0f;
  m.config.rope_style = RopeStyle::HalfSplit;
  llvq::test::TempDir dir("fwd");
  write_llama2c(m, dir.file("model.bin"));
  const LlamaModel model = to_model(m);
  const std::vector<int32_t> tokens = {1, 5, 9, 33, 2, 17, 17, 4, 36, 0, 12, 8, 21, 30, 3, 6, 7, 19, 25, 11};
  LlamaRunner runner(model);
  const auto ours = runner.forward_window(tokens);
  const auto ref = reference_logits(dir.file("model.bin"), tokens, "--rope-theta 500000 --rope-style halfsplit");
  EXPECT_LT(relative_error(ours, ref), 1e-4);
  // The reference is sensitive to what is tested: the tied classifier gives other logits.
  write_llama2c(random_model(11, false), dir.file("tied.bin"));
  EXPECT_GT(relative_error(ours, reference_logits(dir.file("tied.bin"), tokens,
                                                  "--rope-theta 500000 --rope-style halfsplit")),
            1e-2);
}

// HF stores q/k rows of each head as (all first halves, all second halves) of the pairs
// Meta interleaves; the half-split RoPE on permuted rows must equal the interleaved one.
std::shared_ptr<Linear> permute_to_half_split(const Linear& w, int n_heads, int head_dim) {
  const std::vector<float> src = w.dense_weight();
  std::vector<float> dst(src.size());
  const int64_t in = w.in_features();
  for (int h = 0; h < n_heads; ++h)
    for (int i = 0; i < head_dim / 2; ++i)
      for (int half = 0; half < 2; ++half) {
        const int64_t from = static_cast<int64_t>(h) * head_dim + 2 * i + half;
        const int64_t to = static_cast<int64_t>(h) * head_dim + i + half * head_dim / 2;
        std::copy_n(src.begin() + from * in, in, dst.begin() + to * in);
      }
  return std::make_shared<DenseLinear>(w.out_features(), in, std::move(dst));
}

TEST(Forward, HalfSplitRopeOnPermutedRowsEqualsInterleaved) {
  const LlamaModel& base = stories();
  LlamaModel hf = base;
  hf.config.rope_style = RopeStyle::HalfSplit;
  for (auto& L : hf.layers) {
    L.wq = permute_to_half_split(*L.wq, base.config.n_heads, base.config.head_dim());
    L.wk = permute_to_half_split(*L.wk, base.config.n_kv_heads, base.config.head_dim());
  }
  const auto tokens = stories_prompt();
  LlamaRunner a(base), b(hf);
  const auto la = a.forward_window(tokens);
  const auto lb = b.forward_window(tokens);
  EXPECT_LT(relative_error(lb, std::vector<double>(la.begin(), la.end())), 1e-5);
  // Without the permutation the conventions disagree (the test can fail).
  LlamaModel wrong = base;
  wrong.config.rope_style = RopeStyle::HalfSplit;
  LlamaRunner c(wrong);
  EXPECT_GT(relative_error(c.forward_window(tokens), std::vector<double>(la.begin(), la.end())), 1e-3);
}

// Records how each projection is called, delegating to the dense layer.
class RecordingLinear final : public Linear {
 public:
  RecordingLinear(std::shared_ptr<Linear> inner, std::vector<int64_t>* calls) : inner_(std::move(inner)), calls_(calls) {}
  int64_t in_features() const override { return inner_->in_features(); }
  int64_t out_features() const override { return inner_->out_features(); }
  void forward(const float* x, float* y, int64_t n) const override {
    calls_->push_back(n);
    inner_->forward(x, y, n);
  }
  std::vector<float> dense_weight() const override { return inner_->dense_weight(); }
  double bits_per_weight() const override { return inner_->bits_per_weight(); }

 private:
  std::shared_ptr<Linear> inner_;
  std::vector<int64_t>* calls_;
};

TEST(Forward, EveryProjectionRunsOncePerWindowThroughLinear) {
  LlamaModel model = stories();
  std::vector<int64_t> calls;
  for (auto& L : model.layers)
    for (auto* w : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w1, &L.w2, &L.w3}) *w = std::make_shared<RecordingLinear>(*w, &calls);
  model.output = std::make_shared<RecordingLinear>(model.output, &calls);
  const auto tokens = stories_prompt();
  LlamaRunner runner(model);
  const auto logits = runner.forward_window(tokens);
  // 7 projections per layer plus the classifier, each one matrix product over the window.
  EXPECT_EQ(calls, std::vector<int64_t>(7 * model.config.n_layers + 1, static_cast<int64_t>(tokens.size())));
  LlamaRunner plain(stories());
  EXPECT_EQ(plain.forward_window(tokens), logits);
}

TEST(Forward, BadModelsAndTokensAreRejected) {
  LlamaModel broken = stories();
  broken.layers[2].w2 = broken.layers[2].w1;  // wrong shape
  EXPECT_THROW(LlamaRunner{broken}, InputError);
  broken = stories();
  broken.final_norm.pop_back();
  EXPECT_THROW(LlamaRunner{broken}, InputError);
  broken = stories();
  broken.config.n_kv_heads = 3;  // 8 heads do not split into groups of 3
  EXPECT_THROW(LlamaRunner{broken}, InputError);

  LlamaRunner runner(stories(), 16);
  EXPECT_THROW(runner.forward_window(std::vector<int32_t>{1, 512}), InputError);
  EXPECT_THROW(runner.forward_window(std::vector<int32_t>{1, -4}), InputError);
  EXPECT_THROW(runner.forward_window(std::vector<int32_t>(17, 5)), InputError);
  EXPECT_THROW(runner.forward_window(std::vector<int32_t>{}), InputError);
  EXPECT_NO_THROW(runner.forward_window(std::vector<int32_t>(16, 5)));
}

TEST(Forward, FlopCountOfATinyConfigByHand) {
  LlamaConfig c;
  c.dim = 4, c.hidden_dim = 6, c.n_layers = 1, c.n_heads = 2, c.n_kv_heads = 1, c.vocab_size = 10;
  // Per token: q,o 2·16, k,v 2·8, MLP 3·24, classifier 40 = 160 multiply-adds; 3 tokens;
  // attention: 1+2+3 keys × 2 × dim 4 = 48 multiply-adds.
  EXPECT_DOUBLE_EQ(forward_flops(c, 3), 2.0 * (160 * 3 + 48));
}

}  // namespace
}  // namespace llvq

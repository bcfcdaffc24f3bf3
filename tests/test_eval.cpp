// Perplexity, KL and generation tests: stories260K perplexity against the NumPy reference,
// both protocols against a direct computation from forward logits, KL files against exact
// KL, greedy generation against per-step argmax (the CLI: cli/test_eval_cli.cpp).
#include <gtest/gtest.h>

#include <cmath>

#include "eval_test_util.hpp"
#include "llvq/error.hpp"
#include "llvq/eval.hpp"
#include "llvq/llama.hpp"
#include "llvq/model_io.hpp"
#include "llvq/tokenizer.hpp"

namespace llvq {
namespace {

using evaltest::data_path;

const LlamaModel& stories() {
  static const LlamaModel model = load_model(evaltest::stories_model());
  return model;
}

const std::vector<int32_t>& tinystories_tokens() {
  static const std::vector<int32_t> tokens = [] {
    const Tokenizer tok(load_llama2c_tokenizer(evaltest::stories_tokenizer()));
    return tok.encode(llvq::test::read_text(data_path("text/tinystories_val.txt")), true, false);
  }();
  return tokens;
}

std::span<const int32_t> first_tokens(size_t n) { return std::span(tinystories_tokens()).first(n); }

// log p(target) from raw logits, in double.
double log_prob(std::span<const float> logits, int32_t target) {
  double top = -INFINITY;
  for (const float z : logits) top = std::max(top, static_cast<double>(z));
  double sum = 0;
  for (const float z : logits) sum += std::exp(z - top);
  return logits[target] - top - std::log(sum);
}

TEST(Perplexity, Stories260KWindowsCtx512MatchesNumpyReferenceSlow) {
  PerplexityOptions opt;
  opt.ctx = 512;
  const PerplexityResult r = evaluate_perplexity(stories(), first_tokens(30000), opt);
  const auto ref = evaltest::run_reference("nll --model " + evaltest::stories_model() + " --tokenizer " +
                                           evaltest::stories_tokenizer() + " --text-file " +
                                           data_path("text/tinystories_val.txt") + " --ctx 512 --max-tokens 30000");
  EXPECT_EQ(r.windows, 58);
  EXPECT_EQ(r.tokens, 58 * 511);
  EXPECT_EQ(r.tokens, ref.at("tokens").get<int64_t>());
  EXPECT_NEAR(r.ppl, ref.at("ppl").get<double>(), 1e-4 * ref.at("ppl").get<double>());
  EXPECT_NEAR(r.nll, ref.at("nll").get<double>(), 1e-5);
  EXPECT_NEAR(r.ppl, std::exp(r.nll), 1e-12 * r.ppl);
  std::printf("stories260K, windows protocol, ctx 512, 30000 tokens: ppl %.4f +- %.4f (reference %.4f)\n", r.ppl,
              r.ppl_stderr, ref.at("ppl").get<double>());
}

// Both protocols against the definition, computed from forward logits directly.
void check_protocol(PplProtocol protocol) {
  const int ctx = 64;
  const auto tokens = first_tokens(64 * 3 + 20);  // three windows and a dropped tail
  PerplexityOptions opt;
  opt.ctx = ctx;
  opt.protocol = protocol;
  const PerplexityResult r = evaluate_perplexity(stories(), tokens, opt);

  LlamaRunner runner(stories(), ctx);
  const int vocab = stories().config.vocab_size;
  const int first = protocol == PplProtocol::Windows ? 1 : ctx / 2 + 1;  // first scored position
  double sum = 0, sum2 = 0;
  int64_t n = 0;
  for (int w = 0; w < 3; ++w) {
    std::vector<int32_t> window(tokens.begin() + w * ctx, tokens.begin() + (w + 1) * ctx);
    if (protocol == PplProtocol::LlamaCpp) window[0] = 1;
    const auto logits = runner.forward_window(window);
    for (int p = first; p < ctx; ++p) {
      const double nll = -log_prob(std::span(logits).subspan(static_cast<size_t>(p - 1) * vocab, vocab), window[p]);
      sum += nll, sum2 += nll * nll, ++n;
    }
  }
  EXPECT_EQ(r.windows, 3);
  EXPECT_EQ(r.tokens, protocol == PplProtocol::Windows ? 3 * 63 : 3 * 31);
  EXPECT_EQ(r.tokens, n);
  EXPECT_NEAR(r.nll, sum / n, 1e-6);
  const double sd = std::sqrt((sum2 / n - (sum / n) * (sum / n)) / (n - 1));
  EXPECT_NEAR(r.nll_stderr, sd, 1e-6);
  EXPECT_NEAR(r.ppl_stderr, r.ppl * sd, 1e-5);
}

TEST(Perplexity, WindowsProtocolScoresEveryPredictedToken) { check_protocol(PplProtocol::Windows); }
TEST(Perplexity, LlamaCppProtocolScoresSecondHalfAfterBos) { check_protocol(PplProtocol::LlamaCpp); }

TEST(Perplexity, LlamaCppProtocolDiffersFromWindows) {
  PerplexityOptions opt;
  opt.ctx = 128;
  const auto a = evaluate_perplexity(stories(), first_tokens(1000), opt);
  opt.protocol = PplProtocol::LlamaCpp;
  const auto b = evaluate_perplexity(stories(), first_tokens(1000), opt);
  EXPECT_EQ(a.windows, b.windows);
  EXPECT_LT(b.nll, a.nll);  // second halves see more context: lower loss
}

TEST(Perplexity, BadSettingsAreRejected) {
  PerplexityOptions opt;
  opt.ctx = 512;
  EXPECT_THROW(evaluate_perplexity(stories(), first_tokens(511), opt), InputError);
  opt.ctx = 1;
  EXPECT_THROW(evaluate_perplexity(stories(), first_tokens(100), opt), InputError);
  opt.ctx = 2;
  opt.protocol = PplProtocol::LlamaCpp;
  EXPECT_THROW(evaluate_perplexity(stories(), first_tokens(100), opt), InputError);
  EXPECT_THROW(parse_ppl_protocol("sliding"), InputError);
  EXPECT_EQ(parse_ppl_protocol("llamacpp"), PplProtocol::LlamaCpp);
}

// stories260K with every w2 scaled: close to the original, but not equal.
LlamaModel perturbed_stories() {
  LlamaModel m = stories();
  for (auto& L : m.layers) {
    auto w = L.w2->dense_weight();
    for (size_t i = 0; i < w.size(); ++i) w[i] *= 1.0f + 0.3f * static_cast<float>((i * 2654435761u) % 1000) / 1000.0f;
    L.w2 = std::make_shared<DenseLinear>(L.w2->out_features(), L.w2->in_features(), std::move(w));
  }
  return m;
}

TEST(Perplexity, KlAgainstSavedReferenceMatchesExactKl) {
  llvq::test::TempDir dir("kl");
  const int ctx = 128;
  const auto tokens = first_tokens(3 * ctx);
  PerplexityOptions opt;
  opt.ctx = ctx;
  opt.kl_base_out = dir.file("base.kl");
  const PerplexityResult base = evaluate_perplexity(stories(), tokens, opt);
  EXPECT_FALSE(base.kl);

  opt.kl_base_out.clear();
  opt.kl_reference = dir.file("base.kl");
  const PerplexityResult same = evaluate_perplexity(stories(), tokens, opt);
  ASSERT_TRUE(same.kl);
  EXPECT_LT(same.kl->mean_kl, 1e-6);
  EXPECT_EQ(same.kl->top1_agreement, 1.0);
  EXPECT_EQ(same.nll, base.nll);

  const LlamaModel other = perturbed_stories();
  const PerplexityResult diff = evaluate_perplexity(other, tokens, opt);
  ASSERT_TRUE(diff.kl);
  // Exact KL and agreement from both models' logits.
  LlamaRunner ra(stories(), ctx), rb(other, ctx);
  const int vocab = stories().config.vocab_size;
  double kl_sum = 0;
  int64_t agree = 0, n = 0;
  for (int w = 0; w < 3; ++w) {
    const auto window = tokens.subspan(w * ctx, ctx);
    const auto la = ra.forward_window(window), lb = rb.forward_window(window);
    for (int p = 0; p + 1 < ctx; ++p) {
      const auto a = std::span(la).subspan(static_cast<size_t>(p) * vocab, vocab);
      const auto b = std::span(lb).subspan(static_cast<size_t>(p) * vocab, vocab);
      const double za = log_prob(a, 0) - a[0], zb = log_prob(b, 0) - b[0];  // -log-sum-exp of each row
      double kl = 0;
      for (int v = 0; v < vocab; ++v) kl += std::exp(a[v] + za) * ((a[v] + za) - (b[v] + zb));
      kl_sum += kl;
      agree += std::max_element(a.begin(), a.end()) - a.begin() == std::max_element(b.begin(), b.end()) - b.begin();
      ++n;
    }
  }
  EXPECT_GT(kl_sum / n, 1e-3);
  EXPECT_NEAR(diff.kl->mean_kl, kl_sum / n, 1e-3 * kl_sum / n + 1e-6);
  EXPECT_DOUBLE_EQ(diff.kl->top1_agreement, static_cast<double>(agree) / n);
  EXPECT_LT(diff.kl->top1_agreement, 1.0);
}

TEST(Perplexity, KlReferenceFromAnotherRunIsRejected) {
  llvq::test::TempDir dir("klbad");
  PerplexityOptions opt;
  opt.ctx = 64;
  opt.kl_base_out = dir.file("base.kl");
  evaluate_perplexity(stories(), first_tokens(128), opt);
  opt.kl_base_out.clear();
  opt.kl_reference = dir.file("base.kl");
  // Another text with the same length.
  EXPECT_THROW(evaluate_perplexity(stories(), first_tokens(300).subspan(150, 128), opt), InputError);
  opt.ctx = 32;  // other settings
  EXPECT_THROW(evaluate_perplexity(stories(), first_tokens(128), opt), InputError);
  opt.ctx = 64;
  opt.protocol = PplProtocol::LlamaCpp;
  EXPECT_THROW(evaluate_perplexity(stories(), first_tokens(128), opt), InputError);
  opt.protocol = PplProtocol::Windows;
  const std::string bytes = llvq::test::read_text(dir.file("base.kl"));
  llvq::test::write_text(dir.file("cut.kl"), bytes.substr(0, bytes.size() - 100));
  opt.kl_reference = dir.file("cut.kl");
  EXPECT_THROW(evaluate_perplexity(stories(), first_tokens(128), opt), InputError);
  llvq::test::write_text(dir.file("junk.kl"), "not a KL file at all, just text");
  opt.kl_reference = dir.file("junk.kl");
  EXPECT_THROW(evaluate_perplexity(stories(), first_tokens(128), opt), InputError);
  opt.kl_reference = dir.file("missing.kl");
  EXPECT_THROW(evaluate_perplexity(stories(), first_tokens(128), opt), InputError);
}

TEST(Generate, GreedyFollowsArgmaxOfTheForwardPass) {
  const std::vector<int32_t> prompt(first_tokens(12).begin(), first_tokens(12).end());
  GenerateOptions opt;
  opt.max_new_tokens = 15;
  opt.temperature = 0.0f;
  std::vector<int32_t> streamed;
  const GenerateResult r = generate(stories(), prompt, -1, opt, [&](int32_t t) { streamed.push_back(t); });
  ASSERT_EQ(r.tokens.size(), 15u);
  EXPECT_EQ(streamed, r.tokens);
  std::vector<int32_t> seq = prompt;
  LlamaRunner runner(stories());
  const int vocab = stories().config.vocab_size;
  for (const int32_t t : r.tokens) {
    const auto logits = runner.forward_window(seq);
    const auto last = std::span(logits).last(vocab);
    EXPECT_EQ(t, std::max_element(last.begin(), last.end()) - last.begin());
    seq.push_back(t);
  }
}

TEST(Generate, SamplingIsDeterministicInTheSeedAndStopsAtEos) {
  const std::vector<int32_t> prompt = {1};
  GenerateOptions opt;
  opt.max_new_tokens = 40;
  opt.temperature = 1.0f;
  const auto a = generate(stories(), prompt, -1, opt), b = generate(stories(), prompt, -1, opt);
  EXPECT_EQ(a.tokens, b.tokens);
  opt.seed = 43;
  EXPECT_NE(generate(stories(), prompt, -1, opt).tokens, a.tokens);
  // With the 5th sampled token declared EOS, generation stops before it.
  opt.seed = 42;
  const auto c = generate(stories(), prompt, a.tokens[4], opt);
  EXPECT_TRUE(c.stopped_at_eos);
  EXPECT_LE(c.tokens.size(), 4u);
}

}  // namespace
}  // namespace llvq

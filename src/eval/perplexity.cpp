#include <omp.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "eval/kl_file.hpp"
#include "llvq/error.hpp"
#include "llvq/eval.hpp"
#include "llvq/llama.hpp"
#include "llvq/report.hpp"

namespace llvq {

std::string to_string(PplProtocol p) { return p == PplProtocol::Windows ? "windows" : "llamacpp"; }

PplProtocol parse_ppl_protocol(const std::string& name) {
  if (name == "windows") return PplProtocol::Windows;
  if (name == "llamacpp") return PplProtocol::LlamaCpp;
  throw InputError("unknown perplexity protocol \"" + name + "\" (windows or llamacpp)");
}

namespace {

// Mean and standard error of the mean of a stream of values, accumulated in double.
struct RunningStats {
  double sum = 0, sum2 = 0, max = 0;
  int64_t n = 0;
  void add(double x) {
    sum += x, sum2 += x * x, max = std::max(max, x), ++n;
  }
  double mean() const { return n > 0 ? sum / n : 0.0; }
  double stderr_of_mean() const {
    if (n < 2) return 0.0;
    const double var = std::max(0.0, sum2 / n - mean() * mean());
    return std::sqrt(var / static_cast<double>(n - 1));
  }
};

// Log-softmax of one row of logits, in place (the sums in double).
void log_softmax(std::span<float> row) {
  const float top = *std::max_element(row.begin(), row.end());
  double sum = 0;
  for (const float z : row) sum += std::exp(static_cast<double>(z - top));
  const float lse = static_cast<float>(top + std::log(sum));
  for (float& z : row) z -= lse;
}

uint32_t argmax(std::span<const float> row) {
  return static_cast<uint32_t>(std::max_element(row.begin(), row.end()) - row.begin());
}

// KL(p || q) for log-probability rows.
double kl_divergence(std::span<const float> log_p, std::span<const float> log_q) {
  double kl = 0;
  for (size_t v = 0; v < log_p.size(); ++v) kl += std::exp(static_cast<double>(log_p[v])) * (log_p[v] - log_q[v]);
  return std::max(0.0, kl);
}

// Above this many FLOPs per window, a window is worth all threads (see evaluate_perplexity).
constexpr double kWindowParallelFlops = 2e9;

// Per-window results: NLL of each scored token, and KL rows (written or compared).
struct WindowScores {
  std::vector<double> nll, kl;
  std::vector<char> agree;
  std::vector<detail::KlRow> kl_rows;  // read before scoring (compare) or filled (save)
};

// Runs one window and scores logit rows first .. first + rows - 1 (row p predicts token
// p + 1). The row loop is parallel unless the caller already is (nested regions are
// inactive), as it is when it scores windows side by side.
void score_window(LlamaRunner& runner, std::span<const int32_t> window, int first, bool save, bool compare,
                  WindowScores& out) {
  const int vocab = runner.config().vocab_size;
  const int rows = static_cast<int>(window.size()) - 1 - first;
  // Only the scored rows go through the classifier (the last row predicts nothing).
  std::vector<float> logits = runner.forward_window(window, first, rows);
  out.nll.resize(rows);
  out.kl.resize(compare ? rows : 0);
  out.agree.resize(compare ? rows : 0);
#pragma omp parallel
  {
    std::vector<float> base(compare ? vocab : 0);
#pragma omp for schedule(static)
    for (int r = 0; r < rows; ++r) {
      const std::span<float> lp(logits.data() + static_cast<size_t>(r) * vocab, vocab);
      log_softmax(lp);
      out.nll[r] = -static_cast<double>(lp[window[first + r + 1]]);
      if (save) out.kl_rows[r] = detail::quantize_log_probs(lp, argmax(lp));
      if (compare) {
        detail::dequantize_log_probs(out.kl_rows[r], base);
        out.kl[r] = kl_divergence(base, lp);
        out.agree[r] = argmax(lp) == out.kl_rows[r].argmax;
      }
    }
  }
}

}  // namespace

PerplexityResult evaluate_perplexity(const LlamaModel& model, std::span<const int32_t> tokens,
                                     const PerplexityOptions& options) {
  const int ctx = options.ctx;
  const int first = options.protocol == PplProtocol::Windows ? 0 : ctx / 2;  // first logit row scored
  if (ctx < 2 || ctx - 1 - first < 1) throw InputError("perplexity: --ctx " + std::to_string(ctx) + " is too small");
  const int64_t windows = static_cast<int64_t>(tokens.size()) / ctx;
  if (windows == 0)
    throw InputError("perplexity: the text has " + std::to_string(tokens.size()) +
                     " tokens, fewer than one window of " + std::to_string(ctx));
  if (!options.kl_base_out.empty() && !options.kl_reference.empty())
    throw InputError("perplexity: save a KL reference or compare against one, not both at once");
  const int rows = ctx - 1 - first;
  const int vocab = model.config.vocab_size;

  detail::KlHeader header;
  header.vocab = static_cast<uint32_t>(vocab);
  header.ctx = static_cast<uint32_t>(ctx);
  header.protocol = options.protocol == PplProtocol::Windows ? 0 : 1;
  header.windows = static_cast<uint64_t>(windows);
  header.scored = static_cast<uint64_t>(windows) * rows;
  header.token_hash = detail::hash_tokens(tokens.first(static_cast<size_t>(windows) * ctx));
  std::unique_ptr<detail::KlWriter> writer;
  std::unique_ptr<detail::KlReader> reader;
  if (!options.kl_base_out.empty()) writer = std::make_unique<detail::KlWriter>(options.kl_base_out, header, options.kl_base_force);
  if (!options.kl_reference.empty()) reader = std::make_unique<detail::KlReader>(options.kl_reference, header);

  // Small models run whole windows on separate threads (one runner each): their matrix
  // products are too small to split well. Large models split every product instead.
  const bool window_parallel = forward_flops(model.config, ctx) < kWindowParallelFlops;
  const int batch = window_parallel ? std::max(1, omp_get_max_threads()) : 1;
  std::vector<LlamaRunner> runners;
  for (int i = 0; i < batch; ++i) runners.emplace_back(model, ctx);
  std::vector<WindowScores> scores(batch);
  for (auto& s : scores) s.kl_rows.resize(reader || writer ? rows : 0);

  RunningStats nll, kl;
  int64_t agree = 0;
  Progress progress("perplexity", static_cast<size_t>(windows), options.progress, options.on_progress);
  for (int64_t w0 = 0; w0 < windows; w0 += batch) {
    const int n = static_cast<int>(std::min<int64_t>(batch, windows - w0));
    if (reader)
      for (int i = 0; i < n; ++i)
        for (auto& r : scores[i].kl_rows) reader->read(r);
#pragma omp parallel for schedule(static, 1) if (n > 1)
    for (int i = 0; i < n; ++i) {
      std::vector<int32_t> window(tokens.begin() + (w0 + i) * ctx, tokens.begin() + (w0 + i + 1) * ctx);
      if (options.protocol == PplProtocol::LlamaCpp && options.bos_id >= 0) window[0] = options.bos_id;
      score_window(runners[i], window, first, writer != nullptr, reader != nullptr, scores[i]);
    }
    // In window order, so that the sums and the file do not depend on the thread count.
    for (int i = 0; i < n; ++i) {
      for (const double x : scores[i].nll) {
        if (!std::isfinite(x))
          throw InputError("the model's log-probabilities are not finite in window " + std::to_string(w0 + i) +
                           " (tokens " + std::to_string((w0 + i) * ctx) + ".." + std::to_string((w0 + i + 1) * ctx - 1) +
                           "): no perplexity can be reported (non-finite weights or activations)");
        nll.add(x);
      }
      for (size_t r = 0; r < scores[i].kl.size(); ++r) kl.add(scores[i].kl[r]), agree += scores[i].agree[r];
      if (writer)
        for (const auto& row : scores[i].kl_rows) writer->write(row);
    }
    progress.update(static_cast<size_t>(w0 + n), strfmt("ppl %.4f", std::exp(nll.mean())));
  }
  progress.finish();
  if (writer) writer->close();

  PerplexityResult res;
  res.protocol = options.protocol;
  res.ctx = ctx;
  res.windows = windows;
  res.tokens = nll.n;
  res.nll = nll.mean();
  res.nll_stderr = nll.stderr_of_mean();
  res.ppl = std::exp(res.nll);
  res.ppl_stderr = res.ppl * res.nll_stderr;
  res.seconds = progress.elapsed_seconds();
  res.tokens_per_second = static_cast<double>(windows) * ctx / std::max(res.seconds, 1e-9);
  if (reader) res.kl = KlResult{kl.mean(), kl.stderr_of_mean(), kl.max, static_cast<double>(agree) / kl.n};
  return res;
}

}  // namespace llvq

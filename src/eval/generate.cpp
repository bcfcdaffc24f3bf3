#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "llvq/error.hpp"
#include "llvq/eval.hpp"
#include "llvq/llama.hpp"
#include "llvq/report.hpp"

namespace llvq {

namespace {

// Inverse-CDF draw from softmax(logits / temperature); argmax when temperature is 0.
int32_t sample(const std::vector<float>& logits, float temperature, std::mt19937_64& rng) {
  const auto top = std::max_element(logits.begin(), logits.end());
  if (temperature <= 0.0f) return static_cast<int32_t>(top - logits.begin());
  std::vector<double> p(logits.size());
  double sum = 0;
  for (size_t v = 0; v < p.size(); ++v) sum += p[v] = std::exp((logits[v] - *top) / static_cast<double>(temperature));
  const double u = std::uniform_real_distribution<double>(0.0, sum)(rng);
  double acc = 0;
  for (size_t v = 0; v < p.size(); ++v)
    if ((acc += p[v]) > u) return static_cast<int32_t>(v);
  return static_cast<int32_t>(top - logits.begin());  // rounding left u beyond the sum
}

}  // namespace

GenerateResult generate(const LlamaModel& model, std::span<const int32_t> prompt, int32_t eos_id,
                        const GenerateOptions& options, const std::function<void(int32_t)>& on_token) {
  if (prompt.empty()) throw InputError("generate: empty prompt (it needs at least the BOS token)");
  if (options.max_new_tokens < 0) throw InputError("generate: negative number of tokens");
  if (!(options.temperature >= 0.0f)) throw InputError("generate: temperature must be >= 0");
  LlamaRunner runner(model);
  if (static_cast<int>(prompt.size()) > runner.capacity())
    throw InputError("generate: the prompt has " + std::to_string(prompt.size()) + " tokens, more than the context of " +
                     std::to_string(runner.capacity()));
  GenerateResult res;
  res.prompt_tokens = static_cast<int>(prompt.size());
  std::mt19937_64 rng(options.seed);

  auto t0 = std::chrono::steady_clock::now();
  std::vector<float> logits = runner.append(prompt, false);
  res.prefill_seconds = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < options.max_new_tokens; ++i) {
    const int32_t next = sample(logits, options.temperature, rng);
    if (next == eos_id) {
      res.stopped_at_eos = true;
      break;
    }
    res.tokens.push_back(next);
    if (on_token) on_token(next);
    if (i + 1 == options.max_new_tokens) break;
    if (runner.position() == runner.capacity()) {
      res.stopped_at_context = true;
      break;
    }
    logits = runner.append(std::span(&next, 1), false);
  }
  res.decode_seconds = seconds_since(t0);
  return res;
}

}  // namespace llvq

// Perplexity under the two published protocols, and KL divergence against a saved
// reference run (how llama.cpp users compare quantizations).
//
//  - Windows (GPTQ / QuIP# / QTIP / AQLM): the text is tokenized once with one BOS, cut
//    into non-overlapping windows of ctx tokens (the tail that does not fill a window is
//    dropped), and every token a window predicts (positions 1 .. ctx-1) is scored.
//  - LlamaCpp (llama.cpp's perplexity tool): the same chunks, but the first token of each
//    is replaced by BOS and only the second half is scored (positions ctx/2+1 .. ctx-1).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "llvq/model.hpp"
#include "llvq/report.hpp"

namespace llvq {

enum class PplProtocol { Windows, LlamaCpp };

std::string to_string(PplProtocol p);
PplProtocol parse_ppl_protocol(const std::string& name);  // "windows" / "llamacpp"; InputError otherwise

struct PerplexityOptions {
  int ctx = 512;
  PplProtocol protocol = PplProtocol::Windows;
  int32_t bos_id = 1;          // LlamaCpp puts it at the start of every chunk; -1: the model takes no BOS
  bool progress = false;       // progress line with ETA on stderr
  ProgressCallback on_progress;  // when set: ("perplexity", windows done, windows, detail)
  std::string kl_base_out;     // when set: save the reference log-probabilities there
  bool kl_base_force = false;  // replace an existing kl_base_out file (llvq::OutputPolicy)
  std::string kl_reference;    // when set: compare against a file saved by kl_base_out
};

struct KlResult {
  double mean_kl = 0;         // mean over scored tokens of KL(reference || model), nats
  double kl_stderr = 0;       // standard error of that mean
  double max_kl = 0;
  double top1_agreement = 0;  // fraction of scored tokens with the same argmax
};

struct PerplexityResult {
  PplProtocol protocol = PplProtocol::Windows;
  int ctx = 0;
  int64_t windows = 0;
  int64_t tokens = 0;       // scored (predicted) tokens
  double nll = 0;           // mean negative log-likelihood, nats
  double nll_stderr = 0;
  double ppl = 0;           // exp(nll)
  double ppl_stderr = 0;    // ppl · nll_stderr (first-order propagation)
  double seconds = 0;       // forward passes and scoring
  double tokens_per_second = 0;  // tokens run through the model (windows · ctx) per second
  std::optional<KlResult> kl;
};

// Evaluates `tokens` (the whole text, already tokenized with one leading BOS).
// Throws InputError when there is not a single full window, or a KL file does not belong
// to this text, protocol or vocabulary.
PerplexityResult evaluate_perplexity(const LlamaModel& model, std::span<const int32_t> tokens,
                                     const PerplexityOptions& options);

struct GenerateOptions {
  int max_new_tokens = 128;
  float temperature = 0.8f;  // 0: greedy (argmax)
  uint64_t seed = 42;
};

struct GenerateResult {
  std::vector<int32_t> tokens;  // the generated tokens (prompt excluded; a final EOS excluded)
  int prompt_tokens = 0;
  double prefill_seconds = 0;
  double decode_seconds = 0;
  bool stopped_at_eos = false;
  bool stopped_at_context = false;
};

// Prefills `prompt` in one batch, then samples one token at a time from
// softmax(logits / temperature) with a seeded generator, calling `on_token` for each new
// token. Stops after max_new_tokens, at `eos_id`, or when the context is full.
GenerateResult generate(const LlamaModel& model, std::span<const int32_t> prompt, int32_t eos_id,
                        const GenerateOptions& options, const std::function<void(int32_t)>& on_token = {});

}  // namespace llvq

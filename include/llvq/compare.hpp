// `llvq compare`: one model quantized with several configurations through one pipeline, each
// scored by perplexity (both protocols, llvq/eval.hpp) on held-out texts and by KL divergence
// and top-1 agreement against the fp32 model. The CLI and the Python bindings both run it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llvq/model.hpp"
#include "llvq/quantize_run.hpp"
#include "llvq/report.hpp"
#include "llvq/tokenizer.hpp"

namespace llvq {

// The non-empty items of `s` between the separators `sep` ("a;;b" → {"a", "b"}): compare's
// lists given as one value (`--codecs` split at ';', `--rounding` at ',', a recipe row at ' ').
std::vector<std::string> split_list(const std::string& s, char sep);

struct CompareOptions {
  QuantRecipe shared;  // Hadamard, tail, damping, seed, calib_ctx, calibrated; not codec, rounding, rules
  std::vector<std::string> codecs;     // one run per codec and rounding (GLVQ: one run, its own learning)
  std::vector<std::string> roundings;  // "rtn", "gptq", "spherical-gptq"
  // Rows of per-tensor rules separated by spaces ("ffn_down=llvq-sg *=keep"), one run per
  // rounding; tensors no rule matches stay dense.
  std::vector<std::string> recipes;
  int ctx = 512;                  // evaluation window (clamped to the model's seq_len)
  bool progress = false;          // "[i/n] codec, rounding" on stderr before each run
  ProgressCallback on_progress;   // when set: ("compare", runs done, runs, codec) after each run
};

// The runs of `options` in order (codecs × roundings, then recipes × roundings), each
// checked: InputError for a bad spec, rule or option, or when there is none, before any work.
std::vector<QuantRecipe> compare_runs(const CompareOptions& options);

struct EvalText {
  std::string name;
  std::vector<int32_t> tokens;  // with a leading BOS when the model takes one
};

// The evaluation texts of compare: the calibration text's second half (held out from
// calibration; when `calib_path` is given), then every text of `paths` whole; each capped at
// `max_tokens` tokens (0: all). InputError when there is none.
std::vector<EvalText> compare_eval_texts(const Tokenizer& tokenizer, const std::string& calib_path,
                                         const std::vector<std::string>& paths, int max_tokens);

struct CompareScores {
  std::vector<double> ppl_windows, ppl_llamacpp;  // per evaluation text
  double kl = 0, top1 = 1;                        // on the first text (windows protocol)
};

struct CompareRow {
  std::string codec, rounding;  // the fp32 model: "fp32", "-"
  double bpw = 32, seconds = 0;
  CompareScores scores;
};

struct CompareResult {
  int ctx = 0;
  size_t calib_tokens = 0;
  std::vector<std::pair<std::string, size_t>> eval_texts;  // name, tokens
  CompareRow base;                                          // the fp32 model
  std::vector<CompareRow> rows;                             // one per run
};

// Scores `model` (left unchanged) and a quantized copy per run of `options` on `texts`.
// `bos_id`: the BOS the llama.cpp protocol puts at each chunk's start (-1: none).
CompareResult compare_configurations(const LlamaModel& model, const std::vector<int32_t>& calib_tokens,
                                     const std::vector<EvalText>& texts, int32_t bos_id, const CompareOptions& options);

// The result as `llvq compare --json` prints it: ctx, calib_tokens, eval_sets [{name, tokens}],
// rows [{codec, rounding, bpw, seconds, kl, top1, ppl_windows, ppl_llamacpp,
// delta_ppl_windows, delta_ppl_llamacpp}] with the fp32 row first.
std::string compare_json(const CompareResult& result);

}  // namespace llvq

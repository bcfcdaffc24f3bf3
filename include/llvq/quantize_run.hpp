// What every front end (the CLI's `quantize` and `compare`, the Python bindings) does around
// quantize_model, in one place so that they agree: the options from their text form, the RTN
// fallback without calibration, the calibration tokens of a text file, and the provenance
// keys llvq.* a compressed file records.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llvq/model.hpp"
#include "llvq/quantized_model.hpp"
#include "llvq/tokenizer.hpp"

namespace llvq {

// A quantization configuration as the front ends take it: `llvq quantize`'s options, the
// keyword arguments of llvq.quantize.
struct QuantRecipe {
  std::string codec = "llvq-sg";   // the tensors no rule matches (kKeepCodec: they stay dense)
  std::vector<std::string> rules;  // "PATTERN=SPEC" or "PATTERN=keep"; the first match wins
  std::string rounding = "gptq", hadamard = "in", tail = "auto";
  double damp = 0.01;
  uint64_t seed = 0;
  int calib_ctx = 512;
  std::string embedding_codec;  // empty: the embedding stays dense
  bool calibrated = true;       // whether calibration activations will be given
};

// The codecs of `recipe` (its codec, then each rule's, each once) that are rounded with RTN
// because there is no calibration: GPTQ and Spherical GPTQ need calibration activations; GLVQ
// learns without them and "keep" is not quantized. Empty when calibrated. What a front end
// warns about.
std::vector<std::string> codecs_rounded_without_calibration(const QuantRecipe& recipe);

// The options of `recipe`, checked before any work: InputError for a bad spec, rule, rounding,
// mode, value, or an option a codec does not take. Without calibration the rounding is RTN
// when a per-row codec needs calibration and no codec is GLVQ (GLVQ keeps its own step).
// progress is off; the caller sets it.
ModelQuantOptions resolve_options(const QuantRecipe& recipe);

// The calibration tokens of the text file `path`: its first `limit` tokens, at most its first
// half (the second half is held out for evaluation by compare). InputError when fewer than 2.
std::vector<int32_t> calibration_tokens(const Tokenizer& tokenizer, const std::string& path, int limit);

// "PATTERN=SPEC PATTERN=SPEC ...": the rules as the output records them.
std::string rules_label(const std::vector<TensorRule>& rules);

// The rounding the output records: "glvq" for a GLVQ codec (its learning is its own
// Hessian-aware step), else the rounding's name.
std::string rounding_label(const std::string& codec, Rounding rounding);

// Records the provenance keys llvq.codec, llvq.rules, llvq.embedding_codec, llvq.rounding,
// llvq.hadamard, llvq.tail, llvq.seed, llvq.damp, llvq.calib and llvq.calib_tokens in
// model.metadata (saved with the model). `calib_name`: what the calibration was ("none",
// the text's file name).
void record_provenance(LlamaModel& model, const ModelQuantOptions& options, const std::string& calib_name,
                       int64_t calib_tokens);

}  // namespace llvq

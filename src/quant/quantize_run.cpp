// The front ends' shared steps around quantize_model (llvq/quantize_run.hpp).
#include "llvq/quantize_run.hpp"

#include <algorithm>
#include <cmath>

#include "llvq/codec_container.hpp"
#include "llvq/error.hpp"
#include "llvq/report.hpp"
#include "quant/tensor_kind.hpp"

namespace llvq {
namespace {

std::vector<TensorRule> parse_rules(const std::vector<std::string>& rules) {
  std::vector<TensorRule> parsed;
  for (const std::string& r : rules) parsed.push_back(TensorRule::parse(r));
  return parsed;
}

// The distinct codecs of a configuration: `codec` for the tensors no rule matches, then each
// rule's.
std::vector<std::string> codecs_of(const std::string& codec, const std::vector<TensorRule>& rules) {
  std::vector<std::string> codecs{codec};
  for (const TensorRule& r : rules)
    if (std::find(codecs.begin(), codecs.end(), r.codec) == codecs.end()) codecs.push_back(r.codec);
  return codecs;
}

// GPTQ without calibration activations is RTN (a quantizer that takes no rounding, GLVQ,
// learns without them).
bool rounds_without_calibration(const QuantRecipe& recipe, const std::string& codec, Rounding r) {
  return !recipe.calibrated && r != Rounding::Rtn && codec != kKeepCodec && takes_rounding(codec);
}

bool has_own_rounding(const std::string& codec) { return codec != kKeepCodec && !takes_rounding(codec); }

std::vector<std::string> uncalibrated(const QuantRecipe& recipe, const std::vector<std::string>& codecs, Rounding r) {
  std::vector<std::string> out;
  for (const std::string& c : codecs)
    if (rounds_without_calibration(recipe, c, r)) out.push_back(c);
  return out;
}

}  // namespace

std::vector<std::string> codecs_rounded_without_calibration(const QuantRecipe& recipe) {
  return uncalibrated(recipe, codecs_of(recipe.codec, parse_rules(recipe.rules)), parse_rounding(recipe.rounding));
}

ModelQuantOptions resolve_options(const QuantRecipe& recipe) {
  ModelQuantOptions o;
  o.tensor.codec = recipe.codec;
  o.tensor.rounding = parse_rounding(recipe.rounding);
  o.tensor.hadamard = parse_hadamard(recipe.hadamard);
  o.tensor.tail = parse_tail(recipe.tail);
  if (!std::isfinite(recipe.damp) || recipe.damp < 0) throw InputError("damp must be finite and >= 0");
  o.tensor.damp = recipe.damp;
  o.seed = recipe.seed;
  if (recipe.calib_ctx < 2) throw InputError("calib_ctx must be at least 2");
  o.calib_ctx = recipe.calib_ctx;
  o.rules = parse_rules(recipe.rules);
  o.progress = false;
  const std::vector<std::string> codecs = codecs_of(recipe.codec, o.rules);
  // What is done: without calibration text the per-row codecs are rounded with RTN (GLVQ,
  // which learns without it, keeps its own step).
  if (!uncalibrated(recipe, codecs, o.tensor.rounding).empty() &&
      std::none_of(codecs.begin(), codecs.end(), has_own_rounding))
    o.tensor.rounding = Rounding::Rtn;
  check_options(o);  // a bad spec or an option a codec does not take fails before any work
  if (!recipe.embedding_codec.empty()) {
    o.embedding_codec = canonical_codec_spec(recipe.embedding_codec);
    // The embedding may be rounded to nearest (untied, or without calibration), which a
    // quantizer with its own rounding refuses.
    if (const quant_detail::TensorKind& kind = quant_detail::tensor_kind(o.embedding_codec); !kind.takes_rounding())
      throw InputError("embedding codec " + recipe.embedding_codec + ": " + kind.name() +
                       " is not available for the embedding");
  }
  return o;
}

std::vector<int32_t> calibration_tokens(const Tokenizer& tokenizer, const std::string& path, int limit) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  std::vector<int32_t> t = tokenizer.encode(std::string(bytes.begin(), bytes.end()), tokenizer.adds_bos(), false);
  const size_t n = std::min(static_cast<size_t>(std::max(limit, 0)), t.size() / 2);
  if (n < 2) throw InputError(path + ": calibration text is too short");
  t.resize(n);
  return t;
}

std::string rules_label(const std::vector<TensorRule>& rules) {
  std::string s;
  for (const TensorRule& r : rules) s += (s.empty() ? "" : " ") + r.pattern + "=" + r.codec;
  return s;
}

std::string rounding_label(const std::string& codec, Rounding rounding) {
  return quant_detail::tensor_kind(codec).rounding_label(rounding);
}

void record_provenance(LlamaModel& m, const ModelQuantOptions& o, const std::string& calib_name, int64_t calib_tokens) {
  m.metadata["llvq.codec"] = o.tensor.codec == kKeepCodec ? kKeepCodec : canonical_codec_spec(o.tensor.codec);
  if (!o.rules.empty()) m.metadata["llvq.rules"] = rules_label(o.rules);
  if (!o.embedding_codec.empty()) m.metadata["llvq.embedding_codec"] = o.embedding_codec;
  m.metadata["llvq.rounding"] = rounding_label(o.tensor.codec, o.tensor.rounding);
  m.metadata["llvq.hadamard"] = to_string(o.tensor.hadamard);
  m.metadata["llvq.tail"] = to_string(o.tensor.tail);
  m.metadata["llvq.seed"] = std::to_string(o.seed);
  m.metadata["llvq.damp"] = strfmt("%g", o.tensor.damp);
  m.metadata["llvq.calib"] = calib_name;
  m.metadata["llvq.calib_tokens"] = std::to_string(calib_tokens);
}

}  // namespace llvq

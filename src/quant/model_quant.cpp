#include <fnmatch.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <algorithm>
#include <cstdio>
#include <map>

#include "llvq/calibration.hpp"
#include "llvq/error.hpp"
#include "llvq/llama.hpp"
#include "llvq/quantized_model.hpp"
#include "llvq/report.hpp"

namespace llvq {
namespace {

// Whether the embedding is rounded on a Hessian: when it is also the classifier (tied), its
// error reaches the logits through the classifier's input, whose Hessian the calibration
// gives. An untied embedding is only a lookup table, whose rows' errors have no input metric:
// RTN is its rounding.
bool embedding_uses_hessian(const LlamaModel& model, const ModelQuantOptions& o) {
  return !o.embedding_codec.empty() && model.config.tied_embeddings && o.tensor.rounding != Rounding::Rtn;
}

// H for every distinct layer input, from the fp32 model run over the calibration windows;
// with `classifier`, the classifier's too (under kClassifierInput).
// The Hessians of the inputs of the layers `wanted` accepts (and of the classifier's input with
// `classifier`), by input name.
std::map<std::string, Eigen::MatrixXd> calibrate(LlamaModel& model, const std::vector<int32_t>& tokens, int ctx_option,
                                                 const SlotFilter& wanted, bool classifier, bool progress,
                                                 const ProgressCallback& on_progress) {
  std::map<std::string, Eigen::MatrixXd> out;
  if (tokens.empty()) return out;
  const int ctx = std::max(1, std::min(ctx_option, model.config.seq_len));
  const size_t windows = std::max<size_t>(1, tokens.size() / static_cast<size_t>(ctx));
  HessianCapture capture(model, classifier, wanted);
  LlamaRunner runner(model, ctx);
  Progress bar("calibration", windows, progress, on_progress);
  for (size_t w = 0; w < windows; ++w) {
    const size_t begin = w * static_cast<size_t>(ctx);
    const size_t len = std::min(static_cast<size_t>(ctx), tokens.size() - begin);
    // Only the layers' inputs matter: the classifier runs for the last token alone, unless
    // its own input is wanted (every token's; the logits are discarded).
    runner.reset();
    runner.append(std::span<const int32_t>(tokens.data() + begin, len), classifier);
    bar.update(w + 1);
  }
  bar.finish();
  for (const LinearSlot& s : linear_slots(model))
    if (wanted(s) && !out.count(s.input)) out[s.input] = capture.input(s.input).hessian();
  if (classifier) out[kClassifierInput] = capture.input(kClassifierInput).hessian();
  return out;
}

// `err_init`: GLVQ's error before learning (NaN for the per-row codecs), shown beside the
// final one so the gain of learning is visible per layer.
void print_tensor_line(size_t i, size_t n, const TensorReport& r, const std::string& codec, double err_init,
                       double eta) {
  const bool tty = isatty(STDERR_FILENO) != 0;
  const std::string init = std::isnan(err_init) ? "" : strfmt(" (init %.5f)", err_init);
  std::fprintf(stderr, "[%zu/%zu] %-26s %5lldx%-5lld %-24s %-22s %.4f bpw  err %.5f%s  %.2fs%s\n", i, n,
               r.name.c_str(), static_cast<long long>(r.rows), static_cast<long long>(r.cols), codec.c_str(),
               r.layout.c_str(), r.bpw, r.weighted_error, init.c_str(), r.seconds,
               tty ? strfmt("  ETA %.0fs", eta).c_str() : "");
}

// The embedding through `options.embedding_codec`, the layout the pipeline picks for its
// width: with the classifier's input Hessian `h` (a tied embedding), the run's rounding and
// rotation, as a linear layer; without it (empty), RTN and no rotation.
TensorReport quantize_embedding(LlamaModel& model, const ModelQuantOptions& o, const Eigen::MatrixXd& h) {
  const LlamaConfig& c = model.config;
  TensorQuantOptions to = o.tensor;
  to.codec = o.embedding_codec;
  if (h.size() == 0) {
    to.rounding = Rounding::Rtn;
    to.hadamard = HadamardMode::None;
  } else {
    to.hadamard_seed = hadamard_seed_for(o.seed, kClassifierInput);
  }
  TensorQuantResult res;
  try {
    res = quantize_tensor(model.tok_embeddings.data(), c.vocab_size, c.dim, h, to);
  } catch (const InputError& e) {
    throw InputError(std::string("token_embd.weight: ") + e.what());
  }
  const TensorReport r{"token_embd.weight", c.vocab_size, c.dim, res.layout, res.tensor->bits_per_weight(),
                       res.weighted_error, res.seconds, res.tensor->blocks()};
  auto q = std::make_shared<QuantizedLinear>(std::move(res.tensor));
  model.tok_embeddings = q->dense_weight();
  model.compressed_embedding = q;
  if (c.tied_embeddings) model.output = q;
  if (o.progress)
    std::fprintf(stderr, "[embedding] %-22s %5lldx%-5lld %-24s %-22s %.4f bpw  err %.5f  %.2fs\n", r.name.c_str(),
                 static_cast<long long>(r.rows), static_cast<long long>(r.cols), to.codec.c_str(), r.layout.c_str(),
                 r.bpw, r.weighted_error, r.seconds);
  return r;
}

}  // namespace

TensorRule TensorRule::parse(const std::string& rule) {
  const size_t eq = rule.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == rule.size())
    throw InputError("rule '" + rule + "' is not PATTERN=CODEC (e.g. 'ffn_down=llvq-sg' or '*=keep')");
  TensorRule r{rule.substr(0, eq), rule.substr(eq + 1)};
  if (r.codec != kKeepCodec) r.codec = canonical_codec_spec(r.codec);
  return r;
}

bool TensorRule::matches(const std::string& tensor_name) const {
  const bool glob = pattern.find_first_of("*?[") != std::string::npos;
  return ::fnmatch((glob ? pattern : "*" + pattern + "*").c_str(), tensor_name.c_str(), 0) == 0;
}

void check_options(const ModelQuantOptions& o) {
  auto check = [&](const std::string& codec) {
    if (codec == kKeepCodec) return;
    TensorQuantOptions t = o.tensor;
    t.codec = codec;
    check_options(t);
  };
  check(o.tensor.codec);
  for (const TensorRule& r : o.rules) check(r.codec);
}

std::string codec_for_tensor(const ModelQuantOptions& o, const std::string& tensor_name) {
  for (const TensorRule& r : o.rules)
    if (r.matches(tensor_name)) return r.codec;
  return o.tensor.codec;
}

uint64_t hadamard_seed_for(uint64_t seed, const std::string& input_name) {
  uint64_t h = 1469598103934665603ull ^ seed;  // FNV-1a over the name, keyed by the seed
  for (unsigned char c : input_name) h = (h ^ c) * 1099511628211ull;
  return h;
}

ModelQuantReport quantize_model(LlamaModel& model, const std::vector<int32_t>& calib_tokens,
                                const ModelQuantOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  ModelQuantReport rep;
  rep.calib_tokens = static_cast<int64_t>(calib_tokens.size());
  const auto slots = linear_slots(model);
  const SlotFilter quantized = [&](const LinearSlot& s) { return codec_for_tensor(o, s.name) != kKeepCodec; };
  const bool quantizes_any = std::any_of(slots.begin(), slots.end(), quantized);
  const bool embedding_h = embedding_uses_hessian(model, o);
  // Round-to-nearest ignores the Hessian, so it needs no calibration pass.
  const auto hessians = o.tensor.rounding == Rounding::Rtn || !(quantizes_any || embedding_h)
                            ? std::map<std::string, Eigen::MatrixXd>{}
                            : calibrate(model, calib_tokens, o.calib_ctx, quantized, embedding_h, o.progress,
                                        o.on_progress);
  rep.calib_seconds = seconds_since(t0);

  const auto tq = std::chrono::steady_clock::now();
  for (size_t i = 0; i < slots.size(); ++i) {
    const LinearSlot& s = slots[i];
    const Linear& lin = **s.slot;
    TensorQuantOptions to = o.tensor;
    to.codec = codec_for_tensor(o, s.name);
    if (to.codec == kKeepCodec) {
      if (o.progress) std::fprintf(stderr, "[%zu/%zu] %-26s kept dense\n", i + 1, slots.size(), s.name.c_str());
      rep.kept.push_back(s.name);
      if (o.on_progress) o.on_progress("quantize", i + 1, slots.size(), s.name);
      continue;
    }
    const std::vector<float> w = lin.dense_weight();
    to.hadamard_seed = hadamard_seed_for(o.seed, s.input);
    const auto it = hessians.find(s.input);
    TensorQuantResult res;
    try {
      res = quantize_tensor(w.data(), lin.out_features(), lin.in_features(),
                            it == hessians.end() ? Eigen::MatrixXd() : it->second, to);
    } catch (const InputError& e) {
      throw InputError(s.name + ": " + e.what());
    }
    TensorReport r{s.name, lin.out_features(), lin.in_features(), res.layout, res.tensor->bits_per_weight(),
                   res.weighted_error, res.seconds, res.tensor->blocks()};
    rep.payload_bits += res.tensor->payload_bits();
    rep.blocks += r.blocks;
    rep.quantized_weights += static_cast<uint64_t>(r.rows * r.cols);
    const std::string codec = res.tensor->header().codec;
    const double err_init = res.weighted_error_init;
    *s.slot = std::make_shared<QuantizedLinear>(std::move(res.tensor));
    if (o.progress) {
      const double per = seconds_since(tq) / static_cast<double>(i + 1);
      print_tensor_line(i + 1, slots.size(), r, codec, err_init, per * static_cast<double>(slots.size() - i - 1));
    }
    rep.tensors.push_back(std::move(r));
    if (o.on_progress) o.on_progress("quantize", i + 1, slots.size(), s.name);
  }
  rep.quant_seconds = seconds_since(tq);
  if (!o.embedding_codec.empty()) {
    const auto h = hessians.find(kClassifierInput);
    rep.embedding = quantize_embedding(model, o, h == hessians.end() ? Eigen::MatrixXd() : h->second);
  }
  rep.bpw = rep.quantized_weights ? static_cast<double>(rep.payload_bits) / static_cast<double>(rep.quantized_weights) : 0;
  rep.seconds = seconds_since(t0);
  return rep;
}

}  // namespace llvq

// `llvq quantize` and `llvq compare`: the quantization pipeline on real models.
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.hpp"
#include "llvq/output_file.hpp"
#include "llvq/codec_container.hpp"
#include "llvq/error.hpp"
#include "llvq/eval.hpp"
#include "llvq/model_io.hpp"
#include "llvq/quantized_model.hpp"
#include "llvq/report.hpp"
#include "llvq/tokenizer.hpp"

namespace llvq::cli {
namespace {

namespace fs = std::filesystem;

struct PipelineArgs {
  std::string model, tokenizer, calib;
  std::string rounding = "gptq", hadamard = "in", tail = "auto";
  int calib_tokens = 16384, calib_ctx = 512, threads = 0;
  double damp = 0.01;
  uint64_t seed = 0;
  std::vector<std::string> rules;  // quantize's per-tensor recipe (--rule)
};

void add_pipeline_options(CLI::App* sub, PipelineArgs& a) {
  sub->add_option("--model", a.model, "Input model (llama2.c .bin, GGUF, safetensors directory)")->required();
  sub->add_option("--tokenizer", a.tokenizer, "Tokenizer (llama2.c tokenizer.bin) when the model has none");
  sub->add_option("--calib", a.calib, "Calibration text (its first half when --calib-tokens exceeds it)");
  sub->add_option("--calib-tokens", a.calib_tokens, "Calibration tokens")->check(CLI::Range(1, 1 << 28));
  sub->add_option("--calib-ctx", a.calib_ctx, "Tokens per calibration window")->check(CLI::Range(2, 1 << 20));
  sub->add_option("--hadamard", a.hadamard, "Incoherence processing: none, in, inout");
  sub->add_option("--tail", a.tail, "Rows not a multiple of the block: auto, pad, codec");
  sub->add_option("--damp", a.damp, "GPTQ damping (fraction of the mean Hessian diagonal)")->check(CLI::Range(0.0, 10.0));
  sub->add_option("--seed", a.seed, "Seed of the randomized Hadamard transforms");
  sub->add_option("--threads", a.threads, "Worker threads (0: all cores)")->check(threads_validator())->capture_default_str();
}

std::string read_text(const std::string& path) {
  const auto bytes = read_file_bytes(path);
  return {bytes.begin(), bytes.end()};
}

struct Loaded {
  LlamaModel model;
  std::optional<Tokenizer> tokenizer;  // absent only when nothing needs to tokenize text
};

Loaded load_with_tokenizer(const PipelineArgs& a) {
  LlamaModel m = load_model(a.model);
  // Without calibration text the tokenizer is optional: the output then carries none.
  if (a.calib.empty() && a.tokenizer.empty() && !m.tokenizer) {
    try {
      Tokenizer tok = tokenizer_for_model(m, a.model, a.tokenizer);
      m.tokenizer = tok.data();
      return {std::move(m), std::move(tok)};
    } catch (const InputError&) {
      return {std::move(m), std::nullopt};
    }
  }
  Tokenizer tok = tokenizer_for_model(m, a.model, a.tokenizer);
  if (!m.tokenizer) m.tokenizer = tok.data();  // the compressed file carries its tokenizer
  return {std::move(m), std::move(tok)};
}

// Calibration tokens: the first `limit` tokens of the text, at most its first half (the
// second half is held out for evaluation by `compare`).
std::vector<int32_t> calibration_tokens(const std::optional<Tokenizer>& tok, const std::string& path, int limit) {
  if (path.empty()) return {};
  std::vector<int32_t> t = tok->encode(read_text(path), tok->adds_bos(), false);
  const size_t n = std::min(static_cast<size_t>(limit), t.size() / 2);
  if (n < 2) throw InputError(path + ": calibration text is too short");
  t.resize(n);
  return t;
}

// GPTQ without calibration activations is RTN (GLVQ learns without them).
bool rounds_without_calibration(const PipelineArgs& a, const std::string& codec, Rounding r) {
  return a.calib.empty() && r != Rounding::Rtn && !is_glvq_spec(codec) && codec != kKeepCodec;
}

// The distinct codecs a configuration uses: `codec` for the tensors no rule matches, then
// each rule's.
std::vector<std::string> codecs_of(const std::string& codec, const std::vector<TensorRule>& rules) {
  std::vector<std::string> codecs{codec};
  for (const TensorRule& r : rules)
    if (std::find(codecs.begin(), codecs.end(), r.codec) == codecs.end()) codecs.push_back(r.codec);
  return codecs;
}

// Said once per codec of a configuration, where the command validates its configurations.
void warn_without_calibration(const PipelineArgs& a, const std::string& codec, const std::vector<TensorRule>& rules,
                              const std::string& rounding) {
  for (const std::string& c : codecs_of(codec, rules))
    if (rounds_without_calibration(a, c, parse_rounding(rounding)))
      std::fprintf(stderr,
                   "llvq: warning: %s rounding needs calibration text (--calib); without it %s is rounded with "
                   "RTN, and the output records rounding=rtn\n",
                   rounding.c_str(), c.c_str());
}

// `codec` is the codec of the tensors no rule matches (kKeepCodec: they stay dense).
ModelQuantOptions quant_options(const PipelineArgs& a, const std::string& codec, const std::string& rounding,
                                const std::vector<std::string>& rules) {
  ModelQuantOptions o;
  o.tensor.codec = codec;
  o.tensor.rounding = parse_rounding(rounding);
  o.tensor.hadamard = parse_hadamard(a.hadamard);
  o.tensor.tail = parse_tail(a.tail);
  o.tensor.damp = a.damp;
  o.seed = a.seed;
  o.calib_ctx = a.calib_ctx;
  for (const auto& r : rules) o.rules.push_back(TensorRule::parse(r));
  const std::vector<std::string> codecs = codecs_of(codec, o.rules);
  // What is done: without calibration text the per-row codecs are rounded with RTN (GLVQ,
  // which learns without it, keeps its own step).
  if (std::any_of(codecs.begin(), codecs.end(),
                  [&](const std::string& c) { return rounds_without_calibration(a, c, o.tensor.rounding); }) &&
      std::none_of(codecs.begin(), codecs.end(), is_glvq_spec))
    o.tensor.rounding = Rounding::Rtn;
  check_options(o);  // a bad spec or an option a codec does not take fails before any work
  return o;
}

// GLVQ's Hessian-aware step is its own learning, not one of the pipeline's roundings.
std::string rounding_label(const std::string& codec, Rounding r) { return is_glvq_spec(codec) ? "glvq" : to_string(r); }

std::string rules_label(const std::vector<TensorRule>& rules) {
  std::string s;
  for (const auto& r : rules) s += (s.empty() ? "" : " ") + r.pattern + "=" + r.codec;
  return s;
}

void record_provenance(LlamaModel& m, const ModelQuantOptions& o, const PipelineArgs& a, const ModelQuantReport& r) {
  m.metadata["llvq.codec"] = o.tensor.codec == kKeepCodec ? kKeepCodec : canonical_codec_spec(o.tensor.codec);
  if (!o.rules.empty()) m.metadata["llvq.rules"] = rules_label(o.rules);
  if (!o.embedding_codec.empty()) m.metadata["llvq.embedding_codec"] = o.embedding_codec;
  m.metadata["llvq.rounding"] = rounding_label(o.tensor.codec, o.tensor.rounding);
  m.metadata["llvq.hadamard"] = to_string(o.tensor.hadamard);
  m.metadata["llvq.tail"] = to_string(o.tensor.tail);
  m.metadata["llvq.seed"] = std::to_string(o.seed);
  m.metadata["llvq.damp"] = strfmt("%g", o.tensor.damp);
  m.metadata["llvq.calib"] = a.calib.empty() ? "none" : fs::path(a.calib).filename().string();
  m.metadata["llvq.calib_tokens"] = std::to_string(r.calib_tokens);
}

// Every file the pipeline commands read, which no output may replace.
std::vector<std::string> pipeline_inputs(const PipelineArgs& a) { return {a.model, a.tokenizer, a.calib}; }

uint64_t file_size_or_zero(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    uint64_t total = 0;
    for (const auto& e : fs::recursive_directory_iterator(path, ec))
      if (e.is_regular_file(ec)) total += e.file_size(ec);
    return total;
  }
  const auto s = fs::file_size(path, ec);
  return ec ? 0 : s;
}

struct QuantizeArgs {
  std::string out, codec = "llvq-sg", dense_type = "source", embedding_codec;
  bool force = false, json = false;
};

void run_quantize(const PipelineArgs& a, const QuantizeArgs& q) {
  use_threads(a.threads);
  const std::string& out = q.out;
  const bool force = q.force, json = q.json;
  check_output(out, {.force = force, .inputs = pipeline_inputs(a)});
  ModelQuantOptions o = quant_options(a, q.codec, a.rounding, a.rules);
  if (!q.embedding_codec.empty()) {
    o.embedding_codec = canonical_codec_spec(q.embedding_codec);
    if (is_glvq_spec(o.embedding_codec)) throw InputError("--embedding-codec: GLVQ is not available for the embedding");
  }
  const WeightType dense_type = parse_weight_type(q.dense_type);
  warn_without_calibration(a, q.codec, o.rules, a.rounding);
  Loaded l = load_with_tokenizer(a);
  const auto calib = calibration_tokens(l.tokenizer, a.calib, a.calib_tokens);
  ModelQuantOptions run = o;
  run.progress = true;
  const ModelQuantReport r = quantize_model(l.model, calib, run);
  record_provenance(l.model, o, a, r);
  GgufSaveOptions so;
  so.overwrite = force;
  so.weight_type = dense_type;
  save_gguf(l.model, out, so);
  const uint64_t before = file_size_or_zero(a.model), after = file_size_or_zero(out);
  if (json) {
    nlohmann::json j;
    j["bpw"] = r.bpw;
    j["seconds"] = r.seconds;
    j["calib_seconds"] = r.calib_seconds;
    j["calib_tokens"] = r.calib_tokens;
    j["quant_seconds"] = r.quant_seconds;
    j["blocks"] = r.blocks;
    j["blocks_per_s"] = r.quant_seconds > 0 ? static_cast<double>(r.blocks) / r.quant_seconds : 0.0;
    j["size_bytes"] = after;
    j["input_size_bytes"] = before;
    j["codec"] = l.model.metadata["llvq.codec"];
    j["rules"] = rules_label(o.rules);
    j["kept"] = r.kept;
    j["dense_type"] = to_string(dense_type);
    if (r.embedding) j["embedding"] = {{"codec", o.embedding_codec}, {"bpw", r.embedding->bpw}, {"layout", r.embedding->layout}};
    j["rounding"] = a.rounding;
    j["hadamard"] = a.hadamard;
    j["seconds_per_weight"] = r.quantized_weights ? r.seconds / static_cast<double>(r.quantized_weights) : 0.0;
    nlohmann::json ts = nlohmann::json::array();
    for (const auto& t : r.tensors)
      ts.push_back({{"name", t.name}, {"rows", t.rows}, {"cols", t.cols}, {"layout", t.layout}, {"bpw", t.bpw},
                    {"weighted_error", t.weighted_error}, {"seconds", t.seconds}, {"blocks", t.blocks}});
    j["tensors"] = ts;
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  Table t({"model", "size before", "size after", "quantized weights", "bpw (exact)", "calibration s", "quantization s",
           "blocks/s", "total s"});
  t.add_row({fs::path(out).filename().string(), strfmt("%llu B", (unsigned long long)before),
             strfmt("%llu B", (unsigned long long)after), std::to_string(r.quantized_weights), strfmt("%.6f", r.bpw),
             strfmt("%.2f", r.calib_seconds), strfmt("%.2f", r.quant_seconds),
             strfmt("%.0f", r.quant_seconds > 0 ? static_cast<double>(r.blocks) / r.quant_seconds : 0.0),
             strfmt("%.2f", r.seconds)});
  std::printf("%s", t.to_string().c_str());
}

// ---- llvq compare ----

struct EvalSet {
  std::string name;
  std::vector<int32_t> tokens;  // with a leading BOS when the model takes one
};

struct CompareArgs {
  std::string codecs = "llvq-sg;llvq-ss;e8p;scalar:bpw=2,kind=lloyd,group=32";
  std::string roundings = "gptq";
  std::vector<std::string> eval_texts;
  std::vector<std::string> recipes;  // rows of per-tensor rules, "RULE RULE ..."
  bool codecs_given = false;         // --codecs on the command line (else, with recipes, none)
  int ctx = 512, eval_tokens = 0;
  std::string markdown, plot;
  bool json = false, force = false;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t end = s.find(sep, start);
    const std::string item = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!item.empty()) out.push_back(item);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

std::vector<int32_t> capped(std::vector<int32_t> t, int cap) {
  if (cap > 0 && t.size() > static_cast<size_t>(cap)) t.resize(static_cast<size_t>(cap));
  return t;
}

// The calibration text's second half (held out from calibration), then every other text whole.
std::vector<EvalSet> eval_sets(const Tokenizer& tok, const PipelineArgs& a, const CompareArgs& c) {
  std::vector<EvalSet> sets;
  if (!a.calib.empty()) {
    const std::vector<int32_t> all = tok.encode(read_text(a.calib), tok.adds_bos(), false);
    std::vector<int32_t> held;
    if (tok.adds_bos()) held.push_back(tok.bos_id());
    held.insert(held.end(), all.begin() + static_cast<ptrdiff_t>(all.size() / 2), all.end());
    sets.push_back({fs::path(a.calib).filename().string() + " (2nd half)", capped(std::move(held), c.eval_tokens)});
  }
  for (const auto& p : c.eval_texts)
    sets.push_back({fs::path(p).filename().string(), capped(tok.encode(read_text(p), tok.adds_bos(), false), c.eval_tokens)});
  if (sets.empty()) throw InputError("compare needs --calib or at least one --eval-text");
  return sets;
}

struct Scores {
  std::vector<double> ppl_windows, ppl_llamacpp;  // per eval set
  double kl = 0, top1 = 1;
};

Scores score(const LlamaModel& m, const std::vector<EvalSet>& sets, const CompareArgs& c, const std::string& kl_file,
             bool is_base, int32_t bos) {
  Scores s;
  for (size_t i = 0; i < sets.size(); ++i)
    for (PplProtocol p : {PplProtocol::Windows, PplProtocol::LlamaCpp}) {
      PerplexityOptions o;
      o.ctx = std::min(c.ctx, m.config.seq_len);
      o.protocol = p;
      o.bos_id = bos;
      const bool kl_run = i == 0 && p == PplProtocol::Windows;
      if (kl_run) (is_base ? o.kl_base_out : o.kl_reference) = kl_file;
      o.kl_base_force = true;  // compare's own temporary file (mkstemp made it)
      const PerplexityResult r = evaluate_perplexity(m, sets[i].tokens, o);
      (p == PplProtocol::Windows ? s.ppl_windows : s.ppl_llamacpp).push_back(r.ppl);
      if (kl_run && r.kl) {
        s.kl = r.kl->mean_kl;
        s.top1 = r.kl->top1_agreement;
      }
    }
  return s;
}

struct CompareRow {
  std::string codec, rounding;
  double bpw = 32, seconds = 0;
  Scores scores;
};

// The ΔPPL-vs-bpw plot: gnuplot draws into the output's temporary file (write_output's
// policy), its data goes through a private temporary file.
void write_plot(const std::string& png, const OutputPolicy& policy, const std::vector<CompareRow>& rows,
                const Scores& base, const std::string& set) {
  char dat[] = "/tmp/llvq-plot-XXXXXX";
  const int fd = mkstemp(dat);
  if (fd < 0) throw InputError(png + ": cannot create a temporary data file for gnuplot");
  close(fd);
  {
    std::ofstream f(dat);
    for (const auto& r : rows)
      f << r.bpw << ' ' << r.scores.ppl_windows[0] - base.ppl_windows[0] << " \"" << r.codec << ' ' << r.rounding << "\"\n";
  }
  int rc = 0;
  try {
    produce_output(png, policy, [&](const std::string& tmp) {
      const std::string script = strfmt(
          "set terminal pngcairo size 1000,650 noenhanced; set output '%s'; set title 'LLVQ compare: PPL increase on %s (windows protocol)';"
          "set xlabel 'bits per weight (exact)'; set ylabel 'delta PPL vs fp32'; set logscale y; set grid;"
          "plot '%s' using 1:2 with points pt 7 ps 1.5 notitle, '' using 1:2:3 with labels offset 0,1 font ',8' notitle",
          tmp.c_str(), set.c_str(), dat);
      rc = std::system(("gnuplot -e \"" + script + "\"").c_str());
      if (rc != 0) throw InputError("gnuplot failed to draw " + png + " (is gnuplot installed?)");
    });
  } catch (...) {
    std::remove(dat);
    throw;
  }
  std::remove(dat);
}

void run_compare(const PipelineArgs& a, const CompareArgs& c) {
  use_threads(a.threads);
  struct Config {
    std::string spec, rounding;
    std::vector<std::string> rules;  // a recipe row: spec is kKeepCodec, the rules choose
  };
  std::vector<Config> configs;
  const bool only_recipes = !c.recipes.empty() && !c.codecs_given;
  for (const auto& spec : only_recipes ? std::vector<std::string>{} : split(c.codecs, ';')) {
    // GLVQ takes no rounding (its learning is its Hessian-aware step): one run per spec.
    const auto roundings = is_glvq_spec(spec) ? std::vector<std::string>{"gptq"} : split(c.roundings, ',');
    for (const auto& r : roundings) configs.push_back({spec, r, {}});
  }
  for (const auto& recipe : c.recipes)
    for (const auto& r : split(c.roundings, ',')) configs.push_back({kKeepCodec, r, split(recipe, ' ')});
  for (const Config& k : configs) {
    const ModelQuantOptions o = quant_options(a, k.spec, k.rounding, k.rules);  // validate before the long run
    warn_without_calibration(a, k.spec, o.rules, k.rounding);
  }
  if (configs.empty()) throw InputError("compare: no codec given");
  OutputPolicy outputs{.force = c.force, .inputs = pipeline_inputs(a)};
  outputs.inputs.insert(outputs.inputs.end(), c.eval_texts.begin(), c.eval_texts.end());
  for (const std::string* out : {&c.markdown, &c.plot})
    if (!out->empty()) check_output(*out, outputs);  // before the long run
  Loaded l = load_with_tokenizer(a);
  const auto calib = calibration_tokens(l.tokenizer, a.calib, a.calib_tokens);
  if (!l.tokenizer) throw InputError(a.model + ": compare needs a tokenizer to read the texts (pass --tokenizer PATH)");
  const auto sets = eval_sets(*l.tokenizer, a, c);
  char kl_path[] = "/tmp/llvq-kl-XXXXXX";
  const int fd = mkstemp(kl_path);
  if (fd < 0) throw InputError("compare: cannot create a temporary file for the KL reference");
  close(fd);
  const int32_t bos = l.tokenizer->adds_bos() ? l.tokenizer->bos_id() : -1;
  const Scores base = score(l.model, sets, c, kl_path, true, bos);
  std::vector<CompareRow> rows;
  for (size_t i = 0; i < configs.size(); ++i) {
    const Config& k = configs[i];
    ModelQuantOptions o = quant_options(a, k.spec, k.rounding, k.rules);
    const std::string label = o.rules.empty() ? canonical_codec_spec(k.spec) : rules_label(o.rules);
    std::fprintf(stderr, "[%zu/%zu] %s, %s\n", i + 1, configs.size(), label.c_str(), k.rounding.c_str());
    LlamaModel m = l.model;  // the quantizer replaces this copy's layers, not the base model's
    o.progress = false;
    const ModelQuantReport r = quantize_model(m, calib, o);
    rows.push_back({label, rounding_label(k.spec, o.tensor.rounding), r.bpw, r.seconds,
                    score(m, sets, c, kl_path, false, bos)});
  }
  std::remove(kl_path);

  std::vector<std::string> header{"codec", "rounding", "bpw"};
  for (const auto& s : sets) {
    header.push_back("PPL " + s.name + " windows");
    header.push_back("ΔPPL");
    header.push_back("PPL llamacpp");
    header.push_back("ΔPPL");
  }
  for (const std::string h : {"KL vs fp32", "top-1", "quant s"}) header.push_back(h);
  Table t(header);
  auto add = [&](const std::string& codec, const std::string& rounding, double bpw, const Scores& s, double secs) {
    std::vector<std::string> row{codec, rounding, strfmt("%.4f", bpw)};
    for (size_t k = 0; k < sets.size(); ++k) {
      row.push_back(strfmt("%.4f", s.ppl_windows[k]));
      row.push_back(strfmt("%+.4f", s.ppl_windows[k] - base.ppl_windows[k]));
      row.push_back(strfmt("%.4f", s.ppl_llamacpp[k]));
      row.push_back(strfmt("%+.4f", s.ppl_llamacpp[k] - base.ppl_llamacpp[k]));
    }
    row.push_back(strfmt("%.5f", s.kl));
    row.push_back(strfmt("%.4f", s.top1));
    row.push_back(secs > 0 ? strfmt("%.2f", secs) : "-");
    t.add_row(row);
  };
  add("fp32", "-", 32.0, base, 0);
  for (const auto& r : rows) add(r.codec, r.rounding, r.bpw, r.scores, r.seconds);
  if (!c.markdown.empty()) write_output(c.markdown, outputs, [&](std::ostream& f) { f << t.to_markdown(); });
  if (!c.plot.empty()) write_plot(c.plot, outputs, rows, base, sets[0].name);
  if (c.json) {
    nlohmann::json j;
    j["ctx"] = c.ctx;
    j["calib_tokens"] = calib.size();
    j["eval_sets"] = nlohmann::json::array();
    for (const auto& s : sets) j["eval_sets"].push_back({{"name", s.name}, {"tokens", s.tokens.size()}});
    auto to_json = [&](const std::string& codec, const std::string& rounding, double bpw, const Scores& s, double secs) {
      nlohmann::json r{{"codec", codec}, {"rounding", rounding}, {"bpw", bpw}, {"seconds", secs}, {"kl", s.kl}, {"top1", s.top1}};
      r["ppl_windows"] = s.ppl_windows;
      r["ppl_llamacpp"] = s.ppl_llamacpp;
      std::vector<double> dw, dl;
      for (size_t k = 0; k < sets.size(); ++k) {
        dw.push_back(s.ppl_windows[k] - base.ppl_windows[k]);
        dl.push_back(s.ppl_llamacpp[k] - base.ppl_llamacpp[k]);
      }
      r["delta_ppl_windows"] = dw;
      r["delta_ppl_llamacpp"] = dl;
      return r;
    };
    j["rows"] = nlohmann::json::array();
    j["rows"].push_back(to_json("fp32", "-", 32.0, base, 0));
    for (const auto& r : rows) j["rows"].push_back(to_json(r.codec, r.rounding, r.bpw, r.scores, r.seconds));
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("%s", t.to_string().c_str());
  }
}

}  // namespace

void register_quant_commands(CLI::App& app, CLI::App& /*bench*/) {
  auto* q = app.add_subcommand("quantize", "Quantize a model's linear layers into a compressed GGUF file");
  q->option_defaults()->always_capture_default();  // --help shows every default
  auto a = std::make_shared<PipelineArgs>();
  auto qa = std::make_shared<QuantizeArgs>();
  add_pipeline_options(q, *a);
  q->add_option("--out", qa->out, "Output GGUF file (written under a temporary name, renamed at the end)")->required();
  q->add_option("--codec", qa->codec,
                "Codec spec, e.g. llvq-sg, llvq-ss:bpw=3, e8p, scalar:bpw=2,group=32, glvq:dim=8,group=128,bits=2; "
                "'keep' leaves the layers no --rule matches dense");
  q->add_option("--rule", a->rules,
                "Per-tensor recipe PATTERN=CODEC|keep, repeatable; the first match wins, else --codec "
                "(e.g. --rule ffn_down=llvq-sg --rule 'attn_v=llvq-ss:bpw=3' --rule '*=keep')");
  q->add_option("--dense-type", qa->dense_type,
                "Storage of the 2-D weights left dense (embedding, kept layers): source (their source GGUF type "
                "when unchanged, else f32), f32, f16, bf16, q8_0")
      ->check(CLI::IsMember({"source", "f32", "f16", "bf16", "q8_0"}));
  q->add_option("--embedding-codec", qa->embedding_codec,
                "Compress the token embedding too with this codec (RTN, no rotation); a tied classifier then "
                "runs from its codes. Default: it stays dense (--dense-type)");
  q->add_option("--rounding", a->rounding, "rtn, gptq or spherical-gptq (glvq: gptq only, standing for its own learning)");
  q->add_flag("--force", qa->force, "Replace OUT if it exists");
  q->add_flag("--json", qa->json, "Print the summary as JSON");
  q->callback([=] { run_quantize(*a, *qa); });

  auto* cmp = app.add_subcommand("compare", "Quantize with several codecs through one pipeline and tabulate PPL, KL and time");
  cmp->option_defaults()->always_capture_default();  // --help shows every default
  auto ca = std::make_shared<PipelineArgs>();
  auto cc = std::make_shared<CompareArgs>();
  add_pipeline_options(cmp, *ca);
  cmp->add_option("--codecs", cc->codecs, "Codec specs separated by ';' (glvq:... specs included)");
  cmp->add_option("--rounding", cc->roundings,
                  "Roundings separated by ',' (rtn, gptq, spherical-gptq); glvq specs run once with their own learning");
  cmp->add_option("--recipe", cc->recipes,
                  "A row of per-tensor rules separated by spaces, repeatable (e.g. 'ffn_down=llvq-sg *=keep'); "
                  "tensors no rule matches stay dense; bpw counts the quantized tensors; without --codecs only "
                  "the recipes run");
  cmp->add_option("--eval-text", cc->eval_texts, "Further evaluation texts (the calibration text's 2nd half is always used)");
  cmp->add_option("--ctx", cc->ctx, "Evaluation window")->check(CLI::Range(2, 1 << 20));
  cmp->add_option("--eval-tokens", cc->eval_tokens, "Cap on tokens per evaluation text (0: all)")->check(CLI::Range(0, 1 << 30));
  cmp->add_option("--markdown", cc->markdown, "Also write the table as markdown to this file");
  cmp->add_option("--plot", cc->plot, "Also draw ΔPPL against bits per weight (PNG, gnuplot)");
  cmp->add_flag("--json", cc->json, "Print JSON instead of the table");
  cmp->add_flag("--force", cc->force, "Let --markdown / --plot replace existing files (never an input)");
  cmp->callback([=] {
    cc->codecs_given = cmp->count("--codecs") > 0;
    run_compare(*ca, *cc);
  });
}

}  // namespace llvq::cli

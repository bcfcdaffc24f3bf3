// `llvq quantize` and `llvq compare`: the quantization pipeline on real models.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.hpp"
#include "llvq/output_file.hpp"
#include "llvq/compare.hpp"
#include "llvq/error.hpp"
#include "llvq/model_io.hpp"
#include "llvq/quantized_model.hpp"
#include "llvq/quantize_run.hpp"
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

void add_pipeline_options(CLI::App* sub, PipelineArgs& pipeline) {
  sub->add_option("--model", pipeline.model, "Input model (llama2.c .bin, GGUF, safetensors directory)")->required();
  sub->add_option("--tokenizer", pipeline.tokenizer, "Tokenizer (llama2.c tokenizer.bin) when the model has none");
  sub->add_option("--calib", pipeline.calib, "Calibration text (its first half when --calib-tokens exceeds it)");
  sub->add_option("--calib-tokens", pipeline.calib_tokens, "Calibration tokens")->check(CLI::Range(1, 1 << 28));
  sub->add_option("--calib-ctx", pipeline.calib_ctx, "Tokens per calibration window")->check(CLI::Range(2, 1 << 20));
  sub->add_option("--hadamard", pipeline.hadamard, "Incoherence processing: none, in, inout");
  sub->add_option("--tail", pipeline.tail, "Rows not a multiple of the block: auto, pad, codec");
  sub->add_option("--damp", pipeline.damp, "GPTQ damping (fraction of the mean Hessian diagonal)")
      ->check(CLI::Range(0.0, 10.0));
  sub->add_option("--seed", pipeline.seed, "Seed of the randomized Hadamard transforms");
  sub->add_option("--threads", pipeline.threads, "Worker threads (0: all cores)")
      ->check(threads_validator())
      ->capture_default_str();
}

struct Loaded {
  LlamaModel model;
  std::optional<Tokenizer> tokenizer;  // absent only when nothing needs to tokenize text
};

Loaded load_with_tokenizer(const PipelineArgs& pipeline) {
  LlamaModel m = load_model(pipeline.model);
  // Without calibration text the tokenizer is optional: the output then carries none.
  if (pipeline.calib.empty() && pipeline.tokenizer.empty() && !m.tokenizer) {
    try {
      Tokenizer tok = tokenizer_for_model(m, pipeline.model, pipeline.tokenizer);
      m.tokenizer = tok.data();
      return {std::move(m), std::move(tok)};
    } catch (const InputError&) {
      return {std::move(m), std::nullopt};
    }
  }
  Tokenizer tok = tokenizer_for_model(m, pipeline.model, pipeline.tokenizer);
  if (!m.tokenizer) m.tokenizer = tok.data();  // the compressed file carries its tokenizer
  return {std::move(m), std::move(tok)};
}

// --calib-tokens of --calib (none without it; load_with_tokenizer then has a tokenizer).
std::vector<int32_t> calib_tokens_of(const Loaded& loaded, const PipelineArgs& pipeline) {
  return pipeline.calib.empty() ? std::vector<int32_t>{}
                                : calibration_tokens(*loaded.tokenizer, pipeline.calib, pipeline.calib_tokens);
}

// The pipeline options of a configuration; `codec` is the codec of the tensors no rule
// matches (kKeepCodec: they stay dense).
QuantRecipe recipe_of(const PipelineArgs& pipeline, const std::string& codec, const std::string& rounding,
                      const std::vector<std::string>& rules) {
  QuantRecipe r;
  r.codec = codec;
  r.rules = rules;
  r.rounding = rounding;
  r.hadamard = pipeline.hadamard;
  r.tail = pipeline.tail;
  r.damp = pipeline.damp;
  r.seed = pipeline.seed;
  r.calib_ctx = pipeline.calib_ctx;
  r.calibrated = !pipeline.calib.empty();
  return r;
}

// Said once per codec of a configuration, where the command validates its configurations.
void warn_without_calibration(const QuantRecipe& r) {
  for (const std::string& c : codecs_rounded_without_calibration(r))
    std::fprintf(stderr,
                 "llvq: warning: %s rounding needs calibration text (--calib); without it %s is rounded with "
                 "RTN, and the output records rounding=rtn\n",
                 r.rounding.c_str(), c.c_str());
}

std::string calib_name(const PipelineArgs& pipeline) {
  return pipeline.calib.empty() ? "none" : fs::path(pipeline.calib).filename().string();
}

// Every file the pipeline commands read, which no output may replace.
std::vector<std::string> pipeline_inputs(const PipelineArgs& pipeline) {
  return {pipeline.model, pipeline.tokenizer, pipeline.calib};
}

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

void run_quantize(const PipelineArgs& pipeline, const QuantizeArgs& quantize_args) {
  use_threads(pipeline.threads);
  const std::string& out = quantize_args.out;
  const bool force = quantize_args.force, json = quantize_args.json;
  check_output(out, {.force = force, .inputs = pipeline_inputs(pipeline)});
  QuantRecipe recipe = recipe_of(pipeline, quantize_args.codec, pipeline.rounding, pipeline.rules);
  recipe.embedding_codec = quantize_args.embedding_codec;
  const ModelQuantOptions options = resolve_options(recipe);
  const WeightType dense_type = parse_weight_type(quantize_args.dense_type);
  warn_without_calibration(recipe);
  Loaded loaded = load_with_tokenizer(pipeline);
  const auto calib = calib_tokens_of(loaded, pipeline);
  ModelQuantOptions run = options;
  run.progress = true;
  const ModelQuantReport r = quantize_model(loaded.model, calib, run);
  record_provenance(loaded.model, options, calib_name(pipeline), r.calib_tokens);
  GgufSaveOptions so;
  so.overwrite = force;
  so.weight_type = dense_type;
  save_gguf(loaded.model, out, so);
  const uint64_t before = file_size_or_zero(pipeline.model), after = file_size_or_zero(out);
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
    j["codec"] = loaded.model.metadata["llvq.codec"];
    j["rules"] = rules_label(options.rules);
    j["kept"] = r.kept;
    j["dense_type"] = to_string(dense_type);
    if (r.embedding)
      j["embedding"] = {{"codec", options.embedding_codec}, {"bpw", r.embedding->bpw}, {"layout", r.embedding->layout}};
    j["rounding"] = pipeline.rounding;
    j["hadamard"] = pipeline.hadamard;
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

// --codecs and --rounding split at ';' and ','; without --codecs, recipes run alone.
CompareOptions compare_options(const PipelineArgs& pipeline, const CompareArgs& compare_args) {
  CompareOptions options;
  options.shared = recipe_of(pipeline, "", "", {});
  const bool only_recipes = !compare_args.recipes.empty() && !compare_args.codecs_given;
  if (!only_recipes) options.codecs = split_list(compare_args.codecs, ';');
  options.roundings = split_list(compare_args.roundings, ',');
  options.recipes = compare_args.recipes;
  options.ctx = compare_args.ctx;
  options.progress = true;
  return options;
}

// The ΔPPL-vs-bpw plot: gnuplot draws into the output's temporary file (write_output's
// policy), its data goes through a private temporary file.
void write_plot(const std::string& png, const OutputPolicy& policy, const CompareResult& result) {
  char dat[] = "/tmp/llvq-plot-XXXXXX";
  const int fd = mkstemp(dat);
  if (fd < 0) throw InputError(png + ": cannot create a temporary data file for gnuplot");
  close(fd);
  {
    std::ofstream f(dat);
    for (const auto& r : result.rows)
      f << r.bpw << ' ' << r.scores.ppl_windows[0] - result.base.scores.ppl_windows[0] << " \"" << r.codec << ' '
        << r.rounding << "\"\n";
  }
  int rc = 0;
  try {
    produce_output(png, policy, [&](const std::string& tmp) {
      const std::string script = strfmt(
          "set terminal pngcairo size 1000,650 noenhanced; set output '%s'; set title 'LLVQ compare: PPL increase on %s (windows protocol)';"
          "set xlabel 'bits per weight (exact)'; set ylabel 'delta PPL vs fp32'; set logscale y; set grid;"
          "plot '%s' using 1:2 with points pt 7 ps 1.5 notitle, '' using 1:2:3 with labels offset 0,1 font ',8' notitle",
          tmp.c_str(), result.eval_texts[0].first.c_str(), dat);
      rc = std::system(("gnuplot -e \"" + script + "\"").c_str());
      if (rc != 0) throw InputError("gnuplot failed to draw " + png + " (is gnuplot installed?)");
    });
  } catch (...) {
    std::remove(dat);
    throw;
  }
  std::remove(dat);
}

Table compare_table(const CompareResult& result) {
  std::vector<std::string> header{"codec", "rounding", "bpw"};
  for (const auto& [name, tokens] : result.eval_texts) {
    header.push_back("PPL " + name + " windows");
    header.push_back("ΔPPL");
    header.push_back("PPL llamacpp");
    header.push_back("ΔPPL");
  }
  for (const std::string h : {"KL vs fp32", "top-1", "quant s"}) header.push_back(h);
  Table t(header);
  const CompareScores& base = result.base.scores;
  auto add = [&](const CompareRow& r) {
    const CompareScores& s = r.scores;
    std::vector<std::string> row{r.codec, r.rounding, strfmt("%.4f", r.bpw)};
    for (size_t k = 0; k < result.eval_texts.size(); ++k) {
      row.push_back(strfmt("%.4f", s.ppl_windows[k]));
      row.push_back(strfmt("%+.4f", s.ppl_windows[k] - base.ppl_windows[k]));
      row.push_back(strfmt("%.4f", s.ppl_llamacpp[k]));
      row.push_back(strfmt("%+.4f", s.ppl_llamacpp[k] - base.ppl_llamacpp[k]));
    }
    row.push_back(strfmt("%.5f", s.kl));
    row.push_back(strfmt("%.4f", s.top1));
    row.push_back(r.seconds > 0 ? strfmt("%.2f", r.seconds) : "-");
    t.add_row(row);
  };
  add(result.base);
  for (const auto& r : result.rows) add(r);
  return t;
}

void run_compare(const PipelineArgs& pipeline, const CompareArgs& compare_args) {
  use_threads(pipeline.threads);
  const CompareOptions options = compare_options(pipeline, compare_args);
  for (const QuantRecipe& run : compare_runs(options)) warn_without_calibration(run);  // validated before the long run
  OutputPolicy outputs{.force = compare_args.force, .inputs = pipeline_inputs(pipeline)};
  outputs.inputs.insert(outputs.inputs.end(), compare_args.eval_texts.begin(), compare_args.eval_texts.end());
  for (const std::string* out : {&compare_args.markdown, &compare_args.plot})
    if (!out->empty()) check_output(*out, outputs);  // before the long run
  Loaded loaded = load_with_tokenizer(pipeline);
  const auto calib = calib_tokens_of(loaded, pipeline);
  if (!loaded.tokenizer)
    throw InputError(pipeline.model + ": compare needs a tokenizer to read the texts (pass --tokenizer PATH)");
  const auto texts =
      compare_eval_texts(*loaded.tokenizer, pipeline.calib, compare_args.eval_texts, compare_args.eval_tokens);
  const int32_t bos = loaded.tokenizer->adds_bos() ? loaded.tokenizer->bos_id() : -1;
  const CompareResult result = compare_configurations(loaded.model, calib, texts, bos, options);
  const Table t = compare_table(result);
  if (!compare_args.markdown.empty())
    write_output(compare_args.markdown, outputs, [&](std::ostream& f) { f << t.to_markdown(); });
  if (!compare_args.plot.empty()) write_plot(compare_args.plot, outputs, result);
  if (compare_args.json)
    std::printf("%s\n", compare_json(result).c_str());
  else
    std::printf("%s", t.to_string().c_str());
}

}  // namespace

void register_quant_commands(CLI::App& app, CLI::App& /*bench*/) {
  auto* q = app.add_subcommand("quantize", "Quantize a model's linear layers into a compressed GGUF file");
  q->option_defaults()->always_capture_default();  // --help shows every default
  auto quantize_pipeline = std::make_shared<PipelineArgs>();
  auto quantize_args = std::make_shared<QuantizeArgs>();
  add_pipeline_options(q, *quantize_pipeline);
  q->add_option("--out", quantize_args->out, "Output GGUF file (written under a temporary name, renamed at the end)")
      ->required();
  q->add_option("--codec", quantize_args->codec,
                "Codec spec, e.g. llvq-sg, llvq-ss:bpw=3, e8p, scalar:bpw=2,group=32, glvq:dim=8,group=128,bits=2; "
                "'keep' leaves the layers no --rule matches dense");
  q->add_option("--rule", quantize_pipeline->rules,
                "Per-tensor recipe PATTERN=CODEC|keep, repeatable; the first match wins, else --codec "
                "(e.g. --rule ffn_down=llvq-sg --rule 'attn_v=llvq-ss:bpw=3' --rule '*=keep')");
  q->add_option("--dense-type", quantize_args->dense_type,
                "Storage of the 2-D weights left dense (embedding, kept layers): source (their source GGUF type "
                "when unchanged, else f32), f32, f16, bf16, q8_0")
      ->check(CLI::IsMember({"source", "f32", "f16", "bf16", "q8_0"}));
  q->add_option("--embedding-codec", quantize_args->embedding_codec,
                "Compress the token embedding too with this codec; a tied classifier then runs from its codes, "
                "and the embedding is rounded like a linear layer on the classifier's input Hessian (--rounding, "
                "--hadamard); an untied one is RTN, no rotation. Default: it stays dense (--dense-type)");
  q->add_option("--rounding", quantize_pipeline->rounding, "rtn, gptq or spherical-gptq (glvq: gptq only, "
                "standing for its own learning)");
  q->add_flag("--force", quantize_args->force, "Replace OUT if it exists");
  q->add_flag("--json", quantize_args->json, "Print the summary as JSON");
  q->callback([=] { run_quantize(*quantize_pipeline, *quantize_args); });

  auto* cmp = app.add_subcommand("compare", "Quantize with several codecs through one pipeline and tabulate PPL, KL and time");
  cmp->option_defaults()->always_capture_default();  // --help shows every default
  auto compare_pipeline = std::make_shared<PipelineArgs>();
  auto compare_args = std::make_shared<CompareArgs>();
  add_pipeline_options(cmp, *compare_pipeline);
  cmp->add_option("--codecs", compare_args->codecs, "Codec specs separated by ';' (glvq:... specs included)");
  cmp->add_option("--rounding", compare_args->roundings,
                  "Roundings separated by ',' (rtn, gptq, spherical-gptq); glvq specs run once with their own learning");
  cmp->add_option("--recipe", compare_args->recipes,
                  "A row of per-tensor rules separated by spaces, repeatable (e.g. 'ffn_down=llvq-sg *=keep'); "
                  "tensors no rule matches stay dense; bpw counts the quantized tensors; without --codecs only "
                  "the recipes run");
  cmp->add_option("--eval-text", compare_args->eval_texts,
                  "Further evaluation texts (the calibration text's 2nd half is always used)");
  cmp->add_option("--ctx", compare_args->ctx, "Evaluation window")->check(CLI::Range(2, 1 << 20));
  cmp->add_option("--eval-tokens", compare_args->eval_tokens, "Cap on tokens per evaluation text (0: all)")
      ->check(CLI::Range(0, 1 << 30));
  cmp->add_option("--markdown", compare_args->markdown, "Also write the table as markdown to this file");
  cmp->add_option("--plot", compare_args->plot, "Also draw ΔPPL against bits per weight (PNG, gnuplot)");
  cmp->add_flag("--json", compare_args->json, "Print JSON instead of the table");
  cmp->add_flag("--force", compare_args->force, "Let --markdown / --plot replace existing files (never an input)");
  cmp->callback([=] {
    compare_args->codecs_given = cmp->count("--codecs") > 0;
    run_compare(*compare_pipeline, *compare_args);
  });
}

}  // namespace llvq::cli

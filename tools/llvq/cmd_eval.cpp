// llvq eval (perplexity, KL), llvq run (generation), llvq bench forward.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.hpp"
#include "model_shape_options.hpp"
#include "llvq/chat.hpp"
#include "llvq/codec_container.hpp"
#include "llvq/output_file.hpp"
#include "llvq/error.hpp"
#include "llvq/eval.hpp"
#include "llvq/llama.hpp"
#include "llvq/model_io.hpp"
#include "llvq/report.hpp"
#include "llvq/tokenizer.hpp"

namespace llvq::cli {

namespace {

// A regular file's bytes (directories and devices are refused by read_file_bytes).
std::string read_text_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw InputError("cannot open text file " + path);
  const auto bytes = read_file_bytes(path);
  return {bytes.begin(), bytes.end()};
}

std::string file_name(const std::string& path) { return std::filesystem::path(path).filename().string(); }

// ---------------------------------------------------------------- eval

struct EvalArgs {
  std::string model, tokenizer, text, protocol = "windows", kl_base, kl;
  int ctx = 512, threads = 0;
  int64_t max_tokens = 0;
  bool json = false, force = false;
};

void run_eval(const EvalArgs& args) {
  const PplProtocol protocol = parse_ppl_protocol(args.protocol);
  if (args.ctx < 2) throw InputError("--ctx must be at least 2");
  if (args.max_tokens < 0) throw InputError("--max-tokens must be >= 0");
  use_threads(args.threads);
  // The KL file may not replace the model, the text or anything else read, nor an existing
  // file without --force; checked before the evaluation starts.
  if (!args.kl_base.empty())
    check_output(args.kl_base, {.force = args.force, .inputs = {args.model, args.text, args.tokenizer, args.kl}});
  const LlamaModel model = load_model(args.model);
  const Tokenizer tok = tokenizer_for_model(model, args.model, args.tokenizer);
  const std::string text = read_text_file(args.text);

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<int32_t> tokens = tok.encode(text, tok.adds_bos(), false);
  const double tokenize_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const size_t text_tokens = tokens.size();
  if (args.max_tokens > 0 && tokens.size() > static_cast<size_t>(args.max_tokens)) tokens.resize(args.max_tokens);
  if (model.config.seq_len > 0 && args.ctx > model.config.seq_len)
    std::fprintf(stderr, "llvq: warning: --ctx %d exceeds the model's training context of %d\n", args.ctx,
                 model.config.seq_len);

  PerplexityOptions opt;
  opt.ctx = args.ctx;
  opt.protocol = protocol;
  opt.bos_id = tok.adds_bos() ? tok.bos_id() : -1;
  opt.progress = isatty(STDERR_FILENO) != 0;
  opt.kl_base_out = args.kl_base;
  opt.kl_base_force = args.force;
  opt.kl_reference = args.kl;
  const PerplexityResult r = evaluate_perplexity(model, tokens, opt);

  if (args.json) {
    nlohmann::json j = {{"ppl", r.ppl},
                        {"ppl_stderr", r.ppl_stderr},
                        {"nll", r.nll},
                        {"nll_stderr", r.nll_stderr},
                        {"tokens", r.tokens},
                        {"windows", r.windows},
                        {"protocol", to_string(r.protocol)},
                        {"ctx", r.ctx},
                        {"text_tokens", text_tokens},
                        {"seconds", r.seconds},
                        {"tokens_per_second", r.tokens_per_second},
                        {"tokenize_seconds", tokenize_seconds},
                        {"model", args.model},
                        {"text", args.text}};
    if (r.kl) {
      j["kl"] = r.kl->mean_kl;
      j["kl_stderr"] = r.kl->kl_stderr;
      j["kl_max"] = r.kl->max_kl;
      j["top1_agreement"] = r.kl->top1_agreement;
    }
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("%s on %s: %s protocol, ctx %d\n", file_name(args.model).c_str(), file_name(args.text).c_str(),
              to_string(r.protocol).c_str(), r.ctx);
  std::printf("  tokens scored  %lld (%lld windows; %zu of the text's %zu tokens used)\n",
              static_cast<long long>(r.tokens), static_cast<long long>(r.windows), tokens.size(), text_tokens);
  std::printf("  perplexity     %.4f ± %.4f\n", r.ppl, r.ppl_stderr);
  std::printf("  mean NLL       %.5f ± %.5f nats\n", r.nll, r.nll_stderr);
  std::printf("  throughput     %.0f tokens/s (%.2f s; tokenizing %.2f s)\n", r.tokens_per_second, r.seconds,
              tokenize_seconds);
  if (r.kl)
    std::printf("  KL divergence  %.6f ± %.6f nats (max %.4f), top-1 agreement %.2f%%\n", r.kl->mean_kl,
                r.kl->kl_stderr, r.kl->max_kl, 100.0 * r.kl->top1_agreement);
  if (!args.kl_base.empty()) std::printf("  saved reference log-probabilities to %s\n", args.kl_base.c_str());
}

void add_eval(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* sub = app.add_subcommand("eval", "Perplexity of a model on a text (and KL divergence against a reference run)");
  sub->add_option("--model", args->model, "Model file (llama2.c .bin, GGUF, safetensors directory)")->required();
  sub->add_option("--tokenizer", args->tokenizer,
                  "llama2.c tokenizer.bin (default: the model's own, or tok<vocab>.bin / tokenizer.bin beside it)");
  sub->add_option("--text", args->text, "Text file to score (e.g. wiki.test.raw)")->required();
  sub->add_option("--ctx", args->ctx, "Window (chunk) length in tokens")->capture_default_str();
  sub->add_option("--protocol", args->protocol,
                  "windows: GPTQ/QuIP# non-overlapping windows, all predicted tokens scored; llamacpp: BOS per "
                  "chunk, second half scored")
      ->capture_default_str();
  sub->add_option("--max-tokens", args->max_tokens, "Use only the first N tokens of the tokenized text (0: all)");
  sub->add_option("--kl-base", args->kl_base, "Save this (reference) model's log-probabilities to FILE");
  sub->add_option("--kl", args->kl, "Report KL divergence and top-1 agreement against a --kl-base FILE");
  sub->add_flag("--force", args->force, "Let --kl-base replace an existing file (never an input)");
  sub->add_option("--threads", args->threads, "OpenMP threads (0: all cores)")
      ->check(threads_validator())
      ->capture_default_str();
  sub->add_flag("--json", args->json, "Print the result as JSON");
  sub->callback([args] { run_eval(*args); });
}

// ---------------------------------------------------------------- tokenize

struct TokenizeArgs {
  std::string model, tokenizer, prompt, file;
  bool no_bos = false, parse_special = false, ids = false, json = false;
};

// Token ids of a prompt or a file, as `eval` and `run` tokenize them (the model's own BOS
// policy). --ids prints them as llama.cpp's llama-tokenize --ids does, for direct diffs.
void run_tokenize(const TokenizeArgs& args) {
  if (args.prompt.empty() == args.file.empty()) throw InputError("tokenize: give exactly one of --prompt or --file");
  const LlamaModel model = load_model(args.model);
  const Tokenizer tok = tokenizer_for_model(model, args.model, args.tokenizer);
  const std::string text = args.file.empty() ? args.prompt : read_text_file(args.file);
  const std::vector<int32_t> ids = tok.encode(text, tok.adds_bos() && !args.no_bos, false, args.parse_special);
  if (args.json) {
    nlohmann::json j{{"ids", ids}, {"count", ids.size()}, {"bos", tok.adds_bos() && !args.no_bos}};
    std::printf("%s\n", j.dump().c_str());
  } else if (args.ids) {
    std::string line = "[";
    for (size_t i = 0; i < ids.size(); ++i) line += (i ? ", " : "") + std::to_string(ids[i]);
    std::printf("%s]\n", line.c_str());
  } else {
    for (const int32_t id : ids) std::printf("%6d -> '%s'\n", id, tok.decode(id).c_str());
  }
}

void add_tokenize(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* sub = app.add_subcommand("tokenize", "Print the token ids of a prompt or a text file");
  sub->add_option("--model", args->model, "Model file whose tokenizer to use")->required();
  sub->add_option("--tokenizer", args->tokenizer, "llama2.c tokenizer.bin when the model has none");
  sub->add_option("--prompt,-p", args->prompt, "Text to tokenize");
  sub->add_option("--file,-f", args->file, "File to tokenize (read verbatim)");
  sub->add_flag("--no-bos", args->no_bos, "Do not add BOS even when the model takes one");
  sub->add_flag("--parse-special", args->parse_special,
                "Turn the text of control tokens (\"<|im_start|>\") into those tokens, as chat prompts need "
                "(llama-tokenize's default; perplexity runs do not)");
  sub->add_flag("--ids", args->ids, "Print only the ids, as a list");
  sub->add_flag("--json", args->json, "Print {ids, count, bos} as JSON");
  sub->callback([args] { run_tokenize(*args); });
}

// ---------------------------------------------------------------- run

struct RunArgs {
  std::string model, tokenizer, prompt, system;
  bool chat = false;
  int n = 128;
  float temp = 0.8f;
  uint64_t seed = 42;
  int threads = 0;
  bool json = false;
};

std::string chat_prompt(const RunArgs& args, const Tokenizer& tok) {
  std::vector<ChatMessage> messages;
  if (!args.system.empty()) messages.push_back({"system", args.system});
  messages.push_back({"user", args.prompt});
  return render_chat(tok.data().chat_template, messages, true);
}

void run_generate(const RunArgs& args) {
  // Before anything is printed: a bad value must not end up glued to the echoed prompt.
  if (!std::isfinite(args.temp) || args.temp < 0 || args.temp > 100)
    throw InputError("--temp " + std::to_string(args.temp) + ": expected a number in [0, 100]");
  use_threads(args.threads);
  const LlamaModel model = load_model(args.model);
  const Tokenizer tok = tokenizer_for_model(model, args.model, args.tokenizer);
  // --chat: the prompt is the user's message in the model's chat template; only the answer is shown.
  const std::vector<int32_t> prompt = args.chat ? tok.encode(chat_prompt(args, tok), tok.adds_bos(), false, true)
                                                : tok.encode(args.prompt, tok.adds_bos(), false);
  GenerateOptions opt;
  opt.max_new_tokens = args.n;
  opt.temperature = args.temp;
  opt.seed = args.seed;

  // The text is printed as it grows; decoding the whole sequence each time keeps the
  // SentencePiece leading-space rule and multi-token characters right.
  std::vector<int32_t> shown;
  if (!args.chat) shown.assign(prompt.begin(), prompt.end());
  size_t printed = 0;
  auto show = [&] {
    const std::string text = tok.decode(shown);
    if (!args.json && text.size() > printed) std::fwrite(text.data() + printed, 1, text.size() - printed, stdout);
    std::fflush(stdout);
    printed = text.size();
  };
  show();
  const GenerateResult r = generate(model, prompt, tok.eos_id(), opt, [&](int32_t t) {
    shown.push_back(t);
    show();
  });
  const double prefill_tps = r.prompt_tokens / std::max(r.prefill_seconds, 1e-9);
  const double decode_tps = static_cast<double>(r.tokens.size()) / std::max(r.decode_seconds, 1e-9);
  const char* stop = r.stopped_at_eos ? "eos" : r.stopped_at_context ? "context" : "length";
  if (args.json) {
    const nlohmann::json j = {{"prompt", args.prompt},
                              {"text", tok.decode(r.tokens)},
                              {"prompt_tokens", r.prompt_tokens},
                              {"generated_tokens", r.tokens.size()},
                              {"prefill_tokens_per_second", prefill_tps},
                              {"tokens_per_second", decode_tps},
                              {"temp", args.temp},
                              {"seed", args.seed},
                              {"stop", stop}};
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("\n");
  std::fflush(stdout);
  std::fprintf(stderr, "generated %zu tokens at %.1f tokens/s (prompt: %d tokens at %.1f tokens/s; stop: %s)\n",
               r.tokens.size(), decode_tps, r.prompt_tokens, prefill_tps, stop);
}

void add_run(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* sub = app.add_subcommand("run", "Generate text from a prompt");
  sub->add_option("--model", args->model, "Model file (llama2.c .bin, GGUF, safetensors directory)")->required();
  sub->add_option("--tokenizer", args->tokenizer,
                  "llama2.c tokenizer.bin (default: the model's own, or tok<vocab>.bin / tokenizer.bin beside it)");
  sub->add_option("--prompt", args->prompt, "Prompt text (may be empty: generation starts from BOS)")->required();
  sub->add_flag("--chat", args->chat,
                "The prompt is a user message: apply the model's chat template (tokenizer.chat_template) and "
                "print only the answer");
  sub->add_option("--system", args->system, "With --chat: the system message (default: the template's own, if any)");
  sub->add_option("-n,--tokens", args->n, "Number of tokens to generate")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  sub->add_option("--temp", args->temp, "Sampling temperature (0: greedy)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  sub->add_option("--seed", args->seed, "Seed of the sampler")->capture_default_str();
  sub->add_option("--threads", args->threads, "OpenMP threads (0: all cores)")
      ->check(threads_validator())
      ->capture_default_str();
  sub->add_flag("--json", args->json, "Print the result as JSON instead of streaming the text");
  sub->callback([args] { run_generate(*args); });
}

// ---------------------------------------------------------------- bench forward

struct BenchArgs {
  ModelShapeArgs shape{.layers = 4};
  int ctx = 512, reps = 3;
  uint64_t seed = 1;
  bool json = false;
};

// Best wall time of `reps` runs of f (after one warm-up run).
template <class F>
double best_time(int reps, F&& f) {
  f();
  double best = 1e300;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

LlamaConfig bench_config(const BenchArgs& args) {
  if (args.reps < 1) throw InputError("bench forward: --reps must be positive");
  return args.shape.config(args.ctx);
}

void run_bench_forward(const BenchArgs& args) {
  const LlamaConfig c = bench_config(args);
  const LlamaModel model = random_llama(c, args.seed);
  LlamaRunner runner(model, args.ctx);
  std::vector<int32_t> tokens(args.ctx);
  for (int i = 0; i < args.ctx; ++i) tokens[i] = static_cast<int32_t>((args.seed + 7919ull * i) % c.vocab_size);
  const double t_forward = best_time(args.reps, [&] { runner.forward_window(tokens); });
  const double flops = forward_flops(c, args.ctx);

  // The plain GEMM: the model's widest projection shape, [ctx x dim] · [dim x hidden].
  const DenseLinear& gate = dynamic_cast<const DenseLinear&>(*model.layers[0].w1);
  std::vector<float> x(static_cast<size_t>(args.ctx) * c.dim, 0.5f), y(static_cast<size_t>(args.ctx) * c.hidden_dim);
  const double t_gemm = best_time(args.reps, [&] { gate.forward(x.data(), y.data(), args.ctx); });
  const double gemm_flops = 2.0 * args.ctx * c.dim * static_cast<double>(c.hidden_dim);

  const double fwd_rate = flops / t_forward / 1e9, gemm_rate = gemm_flops / t_gemm / 1e9;
  if (args.json) {
    const nlohmann::json j = {{"dim", c.dim},          {"hidden", c.hidden_dim},     {"layers", c.n_layers},
                              {"heads", c.n_heads},    {"kv_heads", c.n_kv_heads},   {"vocab", c.vocab_size},
                              {"ctx", args.ctx},       {"reps", args.reps},          {"forward_seconds", t_forward},
                              {"forward_gflop", flops / 1e9}, {"forward_gflop_per_s", fwd_rate},
                              {"forward_tokens_per_s", args.ctx / t_forward},
                              {"gemm_seconds", t_gemm}, {"gemm_gflop_per_s", gemm_rate},
                              {"fraction_of_gemm", fwd_rate / gemm_rate}};
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("synthetic Llama: dim %d, hidden %d, %d layers, %d heads (%d KV), vocab %d, fp32; best of %d\n", c.dim,
              c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size, args.reps);
  Table t({"what", "ms", "GFLOP", "GFLOP/s", "of GEMM"});
  t.add_row({strfmt("forward, window of %d tokens", args.ctx), strfmt("%.1f", t_forward * 1e3),
             strfmt("%.2f", flops / 1e9), strfmt("%.1f", fwd_rate), strfmt("%.0f%%", 100.0 * fwd_rate / gemm_rate)});
  t.add_row({strfmt("GEMM [%dx%d]x[%dx%d]", args.ctx, c.dim, c.dim, c.hidden_dim), strfmt("%.1f", t_gemm * 1e3),
             strfmt("%.2f", gemm_flops / 1e9), strfmt("%.1f", gemm_rate), "100%"});
  std::printf("%s", t.to_string().c_str());
  std::printf("forward: %.0f tokens/s\n", args.ctx / t_forward);
}

void add_bench_forward(CLI::App& bench) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* sub = bench.add_subcommand("forward", "Forward-pass GFLOP/s on a synthetic fp32 Llama vs a plain GEMM");
  args->shape.add_to(*sub);
  sub->add_option("--ctx", args->ctx, "Window length in tokens")->capture_default_str();
  sub->add_option("--reps", args->reps, "Timed repetitions (the best is reported)")->capture_default_str();
  sub->add_option("--seed", args->seed, "Seed of the random weights")->capture_default_str();
  sub->add_flag("--json", args->json, "Print the result as JSON");
  sub->callback([args] { run_bench_forward(*args); });
}

}  // namespace

void register_eval_commands(CLI::App& app, CLI::App& bench) {
  add_eval(app);
  add_tokenize(app);
  add_run(app);
  add_bench_forward(bench);
}

}  // namespace llvq::cli

// `llvq bench run`: generation speed of a synthetic Llama at fp32 and with its linear layers
// compressed (fused decode + GEMV kernels), measured in the same run.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "commands.hpp"
#include "model_shape_options.hpp"
#include "llvq/bitstream.hpp"
#include "llvq/calibration.hpp"
#include "llvq/codec.hpp"
#include "llvq/error.hpp"
#include "llvq/kernels.hpp"
#include "llvq/llama.hpp"
#include "llvq/quantized_model.hpp"
#include "llvq/report.hpp"

namespace llvq::cli {
namespace {

struct RunBenchArgs {
  ModelShapeArgs shape;
  int prompt = 16, tokens = 32, threads = 0, pool_rows = 16;
  std::vector<std::string> codecs = {"llvq-sg"};
  uint64_t seed = 1;
  bool json = false;
};

LlamaConfig run_config(const RunBenchArgs& args) {
  if (args.prompt < 1 || args.tokens < 1 || args.threads < 0 || args.pool_rows < 1)
    throw InputError("bench run: --prompt, --tokens and --pool-rows must be ≥ 1, --threads ≥ 0");
  return args.shape.config(args.prompt + args.tokens);
}

// A quantized [rows, cols] matrix with realistic codes at the cost of a few rows: a pool of
// Gaussian rows is encoded (the lattice search is slow) and its codes are tiled over all rows.
// Rows are zero-padded to the codec's block; the input Hadamard transform is on, as in
// `llvq quantize`, so its cost is part of every forward.
std::shared_ptr<const QuantizedTensor> synthetic_tensor(const Codec& codec, int64_t rows, int64_t cols, int pool_rows,
                                                        uint64_t seed) {
  TensorHeader h;
  h.rows = rows;
  h.cols = cols;
  h.codec = codec.spec();
  h.body_cols = static_cast<int64_t>(smallest_row_length(codec, static_cast<size_t>(cols), static_cast<size_t>(cols) + 4096));
  h.hadamard = HadamardMode::In;
  h.hadamard_seed = seed;
  const auto width = static_cast<size_t>(h.body_cols);
  const int64_t pool = std::min<int64_t>(pool_rows, rows);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> w(static_cast<size_t>(pool) * width, 0.0f);
  for (int64_t r = 0; r < pool; ++r)
    for (int64_t c = 0; c < cols; ++c) w[static_cast<size_t>(r) * width + static_cast<size_t>(c)] = normal(rng);
  const std::vector<uint8_t> pool_codes = codec.encode_rows(w.data(), static_cast<size_t>(pool), width);
  const size_t row_bits = codec.row_bits(width);
  BitWriter out;
  for (int64_t r = 0; r < rows; ++r) {
    const size_t begin = static_cast<size_t>(r % pool) * row_bits;
    BitReader in(pool_codes.data(), pool_codes.size(), begin, begin + row_bits);
    for (size_t left = row_bits; left > 0;) {
      const int take = static_cast<int>(std::min<size_t>(left, 56));
      out.put(in.get(take), take);
      left -= static_cast<size_t>(take);
    }
  }
  return make_quantized_tensor(std::move(h), {{"body", out.bytes()}},
                               "bench run: synthetic " + codec.spec() + " tensor");
}

// The fp32 model with every linear layer replaced by its own compressed copy.
LlamaModel compressed_copy(const LlamaModel& fp32, const Codec& codec, const RunBenchArgs& args) {
  LlamaModel m = fp32;
  std::map<std::pair<int64_t, int64_t>, std::shared_ptr<const QuantizedTensor>> by_shape;
  for (const LinearSlot& s : linear_slots(m)) {
    const Linear& l = **s.slot;
    const auto shape = std::make_pair(l.out_features(), l.in_features());
    auto it = by_shape.find(shape);
    if (it == by_shape.end())
      it = by_shape.emplace(shape, synthetic_tensor(codec, shape.first, shape.second, args.pool_rows, args.seed)).first;
    *s.slot = std::make_shared<QuantizedLinear>(it->second);  // packs the shared codes for itself
    if (!static_cast<const QuantizedLinear&>(**s.slot).uses_kernels())
      throw InputError("bench run: codec " + codec.spec() + " has no kernels");
  }
  return m;
}

struct RunTiming {
  double prefill_seconds = 0, generate_seconds = 0;
};

// Prefill of `prompt` tokens (decode + GEMM), then `tokens` single-token steps (fused GEMV).
RunTiming time_generation(const LlamaModel& model, const RunBenchArgs& args) {
  LlamaRunner runner(model, args.prompt + args.tokens);
  std::vector<int32_t> prompt(static_cast<size_t>(args.prompt));
  for (int i = 0; i < args.prompt; ++i)
    prompt[i] = static_cast<int32_t>((args.seed + 7919ull * i) % model.config.vocab_size);
  using clock = std::chrono::steady_clock;
  RunTiming t;
  auto t0 = clock::now();
  runner.append(prompt, false);
  t.prefill_seconds = std::chrono::duration<double>(clock::now() - t0).count();
  t0 = clock::now();
  for (int i = 0; i < args.tokens; ++i) {
    const std::vector<int32_t> one = {static_cast<int32_t>((args.seed + 104729ull * i) % model.config.vocab_size)};
    runner.append(one, false);
  }
  t.generate_seconds = std::chrono::duration<double>(clock::now() - t0).count();
  return t;
}

struct RunRow {
  std::string model;
  double bpw = 0;              // stored form
  uint64_t resident_bytes = 0;  // in memory while running
  RunTiming timing;
};

// The linear layers' stored bits per weight (exact, side information included) and the bytes
// they occupy in memory while running (the kernels' layouts may spend more than the file).
RunRow linear_size(LlamaModel& m, const std::string& name, const RunTiming& timing) {
  double bits = 0, weights = 0;
  uint64_t bytes = 0;
  for (const LinearSlot& s : linear_slots(m)) {
    const Linear& l = **s.slot;
    const auto n = static_cast<double>(l.out_features() * l.in_features());
    bits += l.bits_per_weight() * n;
    weights += n;
    const auto* q = dynamic_cast<const QuantizedLinear*>(&l);
    bytes += q ? q->resident_bytes() : static_cast<uint64_t>(n) * sizeof(float);
  }
  return {name, bits / weights, bytes, timing};
}

void run_bench_run(const RunBenchArgs& args) {
  const LlamaConfig c = run_config(args);
  if (args.threads > 0) omp_set_num_threads(args.threads);
  const int threads = omp_get_max_threads();
  std::vector<std::unique_ptr<Codec>> codecs;
  for (const std::string& spec : args.codecs) codecs.push_back(make_codec(spec));

  std::fprintf(stderr, "bench run: building the fp32 model (dim %d, %d layers)...\n", c.dim, c.n_layers);
  LlamaModel fp32 = random_llama(c, args.seed);
  std::vector<RunRow> rows;
  rows.push_back(linear_size(fp32, "fp32", time_generation(fp32, args)));
  for (const auto& codec : codecs) {
    std::fprintf(stderr, "bench run: encoding %s layers...\n", codec->spec().c_str());
    LlamaModel q = compressed_copy(fp32, *codec, args);
    rows.push_back(linear_size(q, codec->spec(), time_generation(q, args)));
  }
  const double fp32_tps = args.tokens / rows.front().timing.generate_seconds;
  const double linear_weights = static_cast<double>(rows.front().resident_bytes) / sizeof(float);

  if (args.json) {
    nlohmann::json j = {{"dim", c.dim},       {"hidden", c.hidden_dim}, {"layers", c.n_layers},
                        {"heads", c.n_heads}, {"kv_heads", c.n_kv_heads}, {"vocab", c.vocab_size},
                        {"prompt", args.prompt}, {"tokens", args.tokens},     {"threads", threads},
                        {"isa", kernels::to_string(kernels::active_isa())}, {"rows", nlohmann::json::array()}};
    for (const RunRow& r : rows) {
      const double tps = args.tokens / r.timing.generate_seconds;
      j["rows"].push_back({{"model", r.model},
                           {"bpw", r.bpw},
                           {"resident_bytes", r.resident_bytes},
                           {"resident_bpw", 8.0 * static_cast<double>(r.resident_bytes) / linear_weights},
                           {"tokens_per_s", tps},
                           {"seconds_per_token", r.timing.generate_seconds / args.tokens},
                           {"speedup_vs_fp32", tps / fp32_tps},
                           {"prefill_tokens_per_s", args.prompt / r.timing.prefill_seconds}});
    }
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("synthetic Llama: dim %d, hidden %d, %d layers, %d heads (%d KV), vocab %d; %d threads, %s kernels\n",
              c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size, threads,
              kernels::to_string(kernels::active_isa()).c_str());
  std::printf("prefill %d tokens, then %d generated tokens one at a time (classifier and embeddings fp32)\n",
              args.prompt, args.tokens);
  Table t({"linear layers", "bpw (file)", "MiB in memory", "tokens/s", "ms/token", "vs fp32", "prefill tok/s"});
  for (const RunRow& r : rows) {
    const double tps = args.tokens / r.timing.generate_seconds;
    t.add_row({r.model, strfmt("%.3f", r.bpw), strfmt("%.1f", static_cast<double>(r.resident_bytes) / 1048576.0), strfmt("%.2f", tps),
               strfmt("%.1f", 1e3 * r.timing.generate_seconds / args.tokens), strfmt("%.2fx", tps / fp32_tps),
               strfmt("%.1f", args.prompt / r.timing.prefill_seconds)});
  }
  std::printf("%s", t.to_string().c_str());
}

}  // namespace

void register_inference_commands(CLI::App&, CLI::App& bench) {
  auto args = std::make_shared<RunBenchArgs>();
  CLI::App* sub = bench.add_subcommand(
      "run", "Generation tokens/s of a synthetic Llama at fp32 and with compressed linear layers (fused kernels)");
  args->shape.add_to(*sub);
  sub->add_option("--codec", args->codecs, "Codec spec of the compressed layers (repeatable)")->capture_default_str();
  sub->add_option("--prompt", args->prompt, "Prompt tokens (prefill)")->capture_default_str();
  sub->add_option("--tokens", args->tokens, "Generated tokens (timed one at a time)")->capture_default_str();
  sub->add_option("--threads", args->threads, "OpenMP threads (0: all)")
      ->check(threads_validator())
      ->capture_default_str();
  sub->add_option("--pool-rows", args->pool_rows, "Distinct encoded rows tiled over each matrix")
      ->capture_default_str();
  sub->add_option("--seed", args->seed, "Seed of the weights and codes")->capture_default_str();
  sub->add_flag("--json", args->json, "Print the result as JSON");
  sub->callback([args] { run_bench_run(*args); });
}

}  // namespace llvq::cli

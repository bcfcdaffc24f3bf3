// Model file commands: `llvq convert` (any supported input → GGUF), `llvq inspect`
// (metadata and tensor list of a file), and `llvq bench model-io` (load/save throughput).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "llvq/output_file.hpp"
#include "llvq/error.hpp"
#include "llvq/gguf.hpp"
#include "llvq/llama.hpp"
#include "llvq/model_io.hpp"
#include "llvq/model_tools.hpp"
#include "llvq/report.hpp"
#include "llvq/safetensors.hpp"

namespace llvq::cli {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Non-UTF-8 token pieces exist (byte tokens of some vocabularies): replace, never throw.
void print_json(const json& j) { std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n"; }

std::string shape_string(const std::vector<uint64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

// ------------------------------------------------------------------------- convert

struct ConvertArgs {
  std::string input, output;
  ConvertOptions options;
  bool json = false;
};

void run_convert(const ConvertArgs& args) {
  const json summary = convert_model(args.input, args.output, args.options);
  if (args.json) {
    print_json(summary);
    return;
  }
  const std::string type = summary["type"], format = summary["input_format"];
  const int decompressed = summary["decompressed_layers"];
  std::cout << strfmt("%s (%s) -> %s: %s, %llu parameters, %s, %llu bytes (load %.3f s, save %.3f s)\n",
                      args.input.c_str(), format.c_str(), args.output.c_str(), type.c_str(),
                      static_cast<unsigned long long>(summary["parameters"]),
                      summary["tokenizer"] ? "with tokenizer" : "no tokenizer",
                      static_cast<unsigned long long>(summary["output_bytes"]), double(summary["load_seconds"]),
                      double(summary["save_seconds"]));
  if (decompressed)
    std::cout << strfmt("decompressed %d compressed layers to %s (provenance kept in llvq.* keys)\n", decompressed,
                        type.c_str());
}

// ------------------------------------------------------------------------- inspect

void inspect_gguf(const std::string& path, size_t max_items) {
  const gguf::File f = gguf::File::read(path);
  std::cout << strfmt("%s: GGUF v%u, alignment %llu, data at byte %llu, %zu keys, %zu tensors\n", path.c_str(),
                      f.version(), static_cast<unsigned long long>(f.alignment()),
                      static_cast<unsigned long long>(f.data_offset()), f.metadata().size(), f.tensors().size());
  Table kv({"key", "type", "value"});
  for (const auto& e : f.metadata()) kv.add_row({e.key, gguf::to_string(e.value.type()), e.value.to_display(max_items)});
  std::cout << kv.to_string() << "\n";
  Table tt({"tensor", "type", "ne", "offset", "bytes"});
  for (const auto& t : f.tensors())
    tt.add_row({t.name, gguf::to_string(t.type), shape_string(t.ne), std::to_string(t.offset), std::to_string(t.n_bytes())});
  std::cout << tt.to_string();
}

void inspect_safetensors_file(const std::string& path) {
  const safetensors::File f = safetensors::File::read(path);
  std::cout << strfmt("%s: safetensors, %zu tensors\n", path.c_str(), f.tensors().size());
  for (const auto& [k, v] : f.metadata()) std::cout << "  " << k << " = " << v << "\n";
  Table tt({"tensor", "dtype", "shape", "begin", "end"});
  for (const auto& t : f.tensors())
    tt.add_row({t.name, safetensors::to_string(t.dtype), shape_string(t.shape), std::to_string(t.begin), std::to_string(t.end)});
  std::cout << tt.to_string();
}

// Formats without a file-level structure worth listing (llama2.c, safetensors directories)
// are shown as the loaded model.
void inspect_model(const std::string& path) {
  const LlamaModel m = load_model(path);
  const LlamaConfig& c = m.config;
  std::cout << strfmt("%s: %s, %llu parameters\n", path.c_str(), m.metadata.at("format").c_str(),
                      static_cast<unsigned long long>(model_parameters(m)));
  Table t({"field", "value"});
  const json fields = config_json(c);  // kept alive: items() only refers to it
  for (const auto& [k, v] : fields.items()) t.add_row({k, v.dump()});
  std::cout << t.to_string();
}

// --verify: loads the whole model, which checks every compressed tensor's checksum and codes
// and every dense tensor for non-finite values; an error names the first bad tensor.
void verify_model(const std::string& path, bool as_json) {
  const LlamaModel model = load_model(path);
  int compressed = 0, checked = 0;
  if (detect_model_format(path) == ModelFormat::Gguf) {
    const gguf::File f = gguf::File::read(path);
    for (const auto& kv : f.metadata()) {
      compressed += kv.key.rfind("llvq.t.", 0) == 0 && kv.key.ends_with(".codec");
      checked += kv.key.rfind("llvq.t.", 0) == 0 && kv.key.ends_with(".crc32");
    }
  }
  if (as_json) {
    print_json({{"file", path}, {"ok", true}, {"compressed_tensors", compressed}, {"checksummed_tensors", checked},
                {"parameters", model_parameters(model)}});
    return;
  }
  std::cout << strfmt("%s: OK — %llu parameters, all finite; %d compressed tensors, %d with checksums, all match\n",
                      path.c_str(), static_cast<unsigned long long>(model_parameters(model)), compressed, checked);
  if (checked < compressed) std::cout << "  (tensors without a checksum were written before llvq stored them)\n";
}

void run_inspect(const std::string& path, bool as_json, bool all) {
  const size_t max_items = all ? SIZE_MAX : 8;
  if (as_json) {
    print_json(inspect_json(path, max_items));
    return;
  }
  switch (inspect_view(path)) {
    case InspectView::Gguf: inspect_gguf(path, max_items); break;
    case InspectView::SafetensorsFile: inspect_safetensors_file(path); break;
    case InspectView::Model: inspect_model(path); break;
  }
}

// ------------------------------------------------------------------------- bench

struct BenchArgs {
  std::string model;
  int repeat = 5;
  bool synthetic = false;
  bool json = false;
};

// The --synthetic model: GQA Llama of about 67 M parameters (268 MB in fp32), big enough
// that file throughput rather than per-call overhead is measured.
LlamaConfig synthetic_config() {
  LlamaConfig c;
  c.dim = 768;
  c.hidden_dim = 2048;
  c.n_layers = 6;
  c.n_heads = 12;
  c.n_kv_heads = 4;
  c.vocab_size = 32000;
  c.seq_len = 2048;
  return c;
}

struct Timing {
  double wall = 0, cpu = 0;  // seconds; cpu = process CPU time (user + system), all threads
};

// Medians of wall and CPU time over `repeat` runs of `fn`. CPU time is reported as well
// because wall time on a shared machine includes waiting for a core.
template <class Fn>
Timing median_timing(int repeat, Fn fn) {
  std::vector<double> wall, cpu;
  for (int i = 0; i < repeat; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    fn();
    cpu.push_back(static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC);
    wall.push_back(seconds_since(t0));
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

void run_bench(const BenchArgs& args) {
  if (args.repeat < 1) throw InputError("--repeat must be at least 1");
  const bool synthetic = args.synthetic || args.model.empty();
  const LlamaModel model = synthetic ? random_llama(synthetic_config(), 1) : load_model(args.model);
  const std::string label = synthetic ? "synthetic 768x2048x6, vocab 32000" : args.model;
  const fs::path dir = fs::temp_directory_path() / ("llvq_bench_model_io_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  struct Row {
    std::string step;
    uint64_t bytes;
    Timing t;
  };
  std::vector<Row> rows;
  try {
    if (!synthetic)
      rows.push_back({"load " + model.metadata.at("format"), fs::file_size(args.model),
                      median_timing(args.repeat, [&] { load_model(args.model); })});
    for (const auto& [name, type] : {std::pair{"f32", WeightType::F32}, std::pair{"f16", WeightType::F16}}) {
      const std::string out = (dir / (std::string(name) + ".gguf")).string();
      const Timing save = median_timing(args.repeat, [&] {
        save_gguf(model, out, {.weight_type = type, .overwrite = true});
      });
      rows.push_back({std::string("save gguf ") + name, fs::file_size(out), save});
      rows.push_back(
          {std::string("load gguf ") + name, fs::file_size(out), median_timing(args.repeat, [&] { load_model(out); })});
    }
  } catch (...) {
    fs::remove_all(dir);
    throw;
  }
  fs::remove_all(dir);
  if (args.json) {
    json out = json::array();
    for (const auto& r : rows)
      out.push_back({{"step", r.step}, {"bytes", r.bytes}, {"wall_seconds", r.t.wall}, {"cpu_seconds", r.t.cpu},
                     {"mb_per_s", r.bytes / r.t.wall / 1e6}});
    print_json({{"model", label}, {"repeat", args.repeat}, {"results", out}});
    return;
  }
  Table t({"step", "file MB", "wall ms", "cpu ms", "MB/s (wall)"});
  for (const auto& r : rows)
    t.add_row({r.step, strfmt("%.3f", r.bytes / 1e6), strfmt("%.3f", r.t.wall * 1e3), strfmt("%.3f", r.t.cpu * 1e3),
               strfmt("%.0f", r.bytes / r.t.wall / 1e6)});
  std::cout << "model " << label << ", median of " << args.repeat << " runs\n" << t.to_string();
}

}  // namespace

void register_model_commands(CLI::App& app, CLI::App& bench) {
  auto convert_args = std::make_shared<ConvertArgs>();
  CLI::App* c = app.add_subcommand("convert", "Convert a model (llama2.c .bin, GGUF, safetensors) to an F32/F16 GGUF file");
  c->add_option("input", convert_args->input,
                "Input model: llama2.c .bin, .gguf, .safetensors file, index.json, or HF directory")
      ->required();
  c->add_option("output", convert_args->output, "Output GGUF file (must end in .gguf)")->required();
  c->add_option("--type", convert_args->options.type,
                "Storage type of the 2-D weights (norms stay f32); source: each weight's GGUF source type")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0", "source"}));
  c->add_option("--tokenizer", convert_args->options.tokenizer,
                "llama2.c tokenizer.bin to store in tokenizer.ggml.* keys");
  c->add_option("--format", convert_args->options.format, "Input format: auto, llama2c, gguf, safetensors");
  c->add_flag("--force", convert_args->options.force, "Replace an existing output file (never the input)");
  c->add_flag("--json", convert_args->json, "Print the summary as JSON");
  c->callback([convert_args] { run_convert(*convert_args); });

  auto path = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto all = std::make_shared<bool>(false);
  auto verify = std::make_shared<bool>(false);
  CLI::App* i = app.add_subcommand("inspect", "Print the metadata and tensor list of a model file");
  i->add_option("file", *path, "GGUF, safetensors, llama2.c checkpoint or HF directory")->required();
  i->add_flag("--json", *as_json, "Print as JSON");
  i->add_flag("--all", *all, "Print arrays in full instead of their first 8 items");
  i->add_flag("--verify", *verify,
              "Load the whole model instead: check every compressed tensor's checksum and every weight for NaN/Inf");
  i->callback([path, as_json, all, verify] { *verify ? verify_model(*path, *as_json) : run_inspect(*path, *as_json, *all); });

  auto args = std::make_shared<BenchArgs>();
  CLI::App* bm = bench.add_subcommand("model-io", "Load and save throughput of model files (GGUF F32/F16)");
  bm->add_option("--model", args->model, "Model to load and re-save (default: the --synthetic model)");
  bm->add_option("--repeat", args->repeat, "Runs per step; the median is reported");
  bm->add_flag("--synthetic", args->synthetic, "Use a random 67 M-parameter Llama instead of --model");
  bm->add_flag("--json", args->json, "Print as JSON");
  bm->callback([args] { run_bench(*args); });
}

}  // namespace llvq::cli

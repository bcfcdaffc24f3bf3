// `llvq codec encode|decode|list` (raw float32 weights through a codec container) and
// `llvq bench codec` (encode/decode throughput).
#include <omp.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "llvq/codec.hpp"
#include "llvq/codec_container.hpp"
#include "llvq/error.hpp"
#include "llvq/output_file.hpp"
#include "llvq/rd.hpp"
#include "llvq/report.hpp"

namespace llvq::cli {

namespace {

std::vector<float> read_f32(const std::string& path) {
  const auto bytes = read_file_bytes(path);
  if (bytes.size() % 4 != 0) throw InputError(path + ": size is not a multiple of 4 bytes (raw float32 expected)");
  std::vector<float> w(bytes.size() / 4);
  std::memcpy(w.data(), bytes.data(), bytes.size());
  return w;
}

void write_f32(const std::string& path, const OutputPolicy& policy, const std::vector<float>& w) {
  write_output(path, policy, [&](std::ostream& out) {
    out.write(reinterpret_cast<const char*>(w.data()), static_cast<std::streamsize>(4 * w.size()));
  });
}

void register_codec_io(CLI::App& app) {
  CLI::App* codec = app.add_subcommand("codec", "Encode raw float32 weights with a codec, decode them back");
  codec->require_subcommand(1);

  auto* enc = codec->add_subcommand("encode", "Encode a raw little-endian float32 file into a codec container");
  static std::string spec, in, out;
  static size_t row = 0;
  static bool json = false;
  enc->add_option("--codec", spec, "Codec spec NAME[:key=value,...] (see `llvq codec list`)")->required();
  enc->add_flag("--json", json, "Print the summary as JSON");
  enc->add_option("--row", row, "Weights per row (side information is per row/group); default: the whole file");
  enc->add_option("IN", in, "Input: raw float32, length a multiple of the block size")->required();
  enc->add_option("OUT", out, "Output container (.llvq)")->required();
  static bool force = false;
  enc->add_flag("--force", force, "Replace OUT if it exists (never IN)");
  enc->callback([] {
    const auto codec = make_codec(spec);
    check_output(out, {.force = force, .inputs = {in}});
    const auto w = read_f32(in);
    if (w.empty()) throw InputError(in + ": empty input");
    const size_t n = row ? row : w.size();
    codec->check_row_length(n);
    const auto bytes = serialize_container(encode_container(*codec, w.data(), w.size(), n));
    write_output(out, {.force = force, .inputs = {in}}, [&](std::ostream& f) {
      f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    });
    const double container_bpw = 8.0 * static_cast<double>(bytes.size()) / static_cast<double>(w.size());
    if (json) {
      std::cout << nlohmann::json{{"codec", codec->spec()},     {"weights", w.size()},
                                  {"row", n},                   {"bytes", bytes.size()},
                                  {"container_bpw", container_bpw}, {"bpw", codec->bits_per_weight(n)}}
                       .dump(2)
                << "\n";
    } else {
      std::printf("%s: %zu weights, %zu bytes, %.4f bits per weight (container), %.4f (codes)\n",
                  codec->spec().c_str(), w.size(), bytes.size(), container_bpw, codec->bits_per_weight(n));
    }
  });

  auto* dec = codec->add_subcommand("decode", "Decode a codec container back to raw float32");
  static std::string din, dout;
  dec->add_option("IN", din, "Codec container written by `llvq codec encode`")->required();
  dec->add_option("OUT", dout, "Output: raw little-endian float32")->required();
  static bool dforce = false, djson = false;
  dec->add_flag("--force", dforce, "Replace OUT if it exists (never IN)");
  dec->add_flag("--json", djson, "Print the summary as JSON");
  dec->callback([] {
    const OutputPolicy policy{.force = dforce, .inputs = {din}};
    check_output(dout, policy);
    const auto c = parse_container(read_file_bytes(din));
    const auto w = decode_container(c);
    write_f32(dout, policy, w);
    if (djson)
      std::cout << nlohmann::json{{"codec", c.spec}, {"weights", w.size()}, {"row", c.row_length}, {"output", dout}}.dump(2)
                << "\n";
    else
      std::printf("%s: %zu weights decoded to %s\n", c.spec.c_str(), w.size(), dout.c_str());
  });

  auto* list = codec->add_subcommand("list", "List the codecs and their parameters");
  static bool ljson = false;
  list->add_flag("--json", ljson, "Print as JSON: [{name, description}]");
  list->callback([] {
    if (ljson) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& [name, description] : codec_catalog()) j.push_back({{"name", name}, {"description", description}});
      std::cout << j.dump(2) << "\n";
      return;
    }
    for (const auto& [name, description] : codec_catalog()) std::printf("%-8s  %s\n", name.c_str(), description.c_str());
  });
}

void register_bench(CLI::App& bench) {
  CLI::App* b = bench.add_subcommand("codec", "Encode/decode throughput of codecs, one thread and all threads");
  static std::vector<std::string> specs = {"scalar:bpw=2", "e8p", "pvq:bpw=2", "llvq-sg:bpw=2", "llvq-ss:bpw=2",
                                           "l24sq"};
  static size_t blocks = 20000;
  static bool json = false;
  b->add_option("--codec", specs, "Codec specs to time (repeatable)")->capture_default_str();
  b->add_option("--blocks", blocks, "Blocks per measurement")->capture_default_str();
  b->add_flag("--json", json, "Print JSON");
  b->callback([] {
    const RdSource gaussian = RdSource::parse("gaussian");
    nlohmann::json out = nlohmann::json::array();
    Table t({"codec", "threads", "enc blocks/s", "enc blocks/s/core", "dec blocks/s", "dec blocks/s/core"});
    const int all = omp_get_max_threads();
    for (const auto& spec : specs) {
      std::unique_ptr<Codec> codec;
      try {
        codec = make_codec(spec);
      } catch (const InputError& e) {
        std::fprintf(stderr, "llvq bench codec: skipping %s: %s\n", spec.c_str(), e.what());
        continue;
      }
      for (int threads : {1, all}) {
        omp_set_num_threads(threads);
        const RdResult r = measure_rd(*codec, gaussian, blocks, 1, 4096);
        out.push_back(r.json());
        t.add_row({r.codec, std::to_string(threads), strfmt("%.0f", r.encode_blocks_per_s),
                   strfmt("%.0f", r.encode_blocks_per_s / threads), strfmt("%.0f", r.decode_blocks_per_s),
                   strfmt("%.0f", r.decode_blocks_per_s / threads)});
        if (all == 1) break;
      }
      omp_set_num_threads(all);
    }
    std::cout << (json ? out.dump(2) + "\n" : t.to_string());
  });
}

}  // namespace

void register_codec_commands(CLI::App& app, CLI::App& bench) {
  register_codec_io(app);
  register_bench(bench);
}

}  // namespace llvq::cli

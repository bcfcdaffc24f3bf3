// Format detection and the load_model entry point.
#include <array>
#include <cmath>
#include <filesystem>
#include <span>
#include <fstream>

#include "io_util.hpp"
#include "llvq/model_io.hpp"

namespace llvq {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The first up-to-9 bytes of the file: enough for every magic we recognise.
std::vector<uint8_t> file_prefix(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open file");
  std::vector<uint8_t> head(9);
  in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  return head;
}

}  // namespace

std::string to_string(ModelFormat f) {
  switch (f) {
    case ModelFormat::Auto: return "auto";
    case ModelFormat::Llama2c: return "llama2c";
    case ModelFormat::Gguf: return "gguf";
    case ModelFormat::Safetensors: return "safetensors";
  }
  return "unknown";
}

ModelFormat detect_model_format(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw InputError(path + ": no such file or directory");
  if (std::filesystem::is_directory(path, ec)) return ModelFormat::Safetensors;
  if (ends_with(path, ".safetensors") || ends_with(path, ".safetensors.index.json")) return ModelFormat::Safetensors;
  const std::vector<uint8_t> head = file_prefix(path);
  if (head.size() >= 4 && std::equal(head.begin(), head.begin() + 4, "GGUF")) return ModelFormat::Gguf;
  if (head.size() >= 4 && head[0] == 0x32 && head[1] == 0x34 && head[2] == 0x6b && head[3] == 0x61)
    return ModelFormat::Llama2c;  // "ak42" version-1 magic, stored little-endian
  if (head.size() == 9 && head[8] == '{') return ModelFormat::Safetensors;  // u64 header length, then JSON
  if (ends_with(path, ".bin")) return ModelFormat::Llama2c;
  throw InputError(path + ": unknown model format (expected GGUF, a llama2.c .bin checkpoint, "
                   "or safetensors with config.json)");
}

namespace {

LlamaModel load_any(const std::string& path, ModelFormat format, const CompressedLayerIo& io) {
  switch (format) {
    case ModelFormat::Llama2c: return load_llama2c(path);
    case ModelFormat::Gguf: return load_gguf_model(path, io);
    case ModelFormat::Safetensors: return load_safetensors_model(path);
    case ModelFormat::Auto: break;
  }
  throw InputError(path + ": no model format given");
}

void require_finite(std::span<const float> v, const std::string& path, const std::string& name) {
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      throw InputError(path + ": tensor " + name + " holds " + (std::isnan(v[i]) ? "NaN" : "an infinity") +
                       " at index " + std::to_string(i) + " (of " + std::to_string(v.size()) + ")");
}

// Dense layers are checked; compressed ones check their scales when they are packed.
void require_finite(const Linear* l, const std::string& path, const std::string& name) {
  if (const auto* d = dynamic_cast<const DenseLinear*>(l)) require_finite(d->weight(), path, name);
}

}  // namespace

void require_finite_weights(const LlamaModel& m, const std::string& path) {
  require_finite(m.tok_embeddings, path, "token_embd");
  require_finite(m.final_norm, path, "output_norm");
  require_finite(m.output.get(), path, "output");
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const LlamaLayer& l = m.layers[i];
    const std::string p = "blk." + std::to_string(i) + ".";
    require_finite(l.attn_norm, path, p + "attn_norm");
    require_finite(l.ffn_norm, path, p + "ffn_norm");
    const std::pair<const Linear*, const char*> linears[] = {{l.wq.get(), "attn_q"},  {l.wk.get(), "attn_k"},
                                                            {l.wv.get(), "attn_v"},  {l.wo.get(), "attn_output"},
                                                            {l.w1.get(), "ffn_gate"}, {l.w2.get(), "ffn_down"},
                                                            {l.w3.get(), "ffn_up"}};
    for (const auto& [linear, name] : linears) require_finite(linear, path, p + name);
  }
}

LlamaModel load_model(const std::string& path, const LoadOptions& options, const CompressedLayerIo& io) {
  LlamaModel m =
      load_any(path, options.format == ModelFormat::Auto ? detect_model_format(path) : options.format, io);
  require_finite_weights(m, path);
  return m;
}

}  // namespace llvq

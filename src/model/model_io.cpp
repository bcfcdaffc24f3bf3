// Format detection and the load_model entry point.
#include <array>
#include <filesystem>
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

LlamaModel load_model(const std::string& path, const LoadOptions& options) {
  const ModelFormat format = options.format == ModelFormat::Auto ? detect_model_format(path) : options.format;
  switch (format) {
    case ModelFormat::Llama2c: return load_llama2c(path);
    case ModelFormat::Gguf: return load_gguf_model(path);
    case ModelFormat::Safetensors: return load_safetensors_model(path);
    case ModelFormat::Auto: break;
  }
  throw InputError(path + ": no model format given");
}

}  // namespace llvq

// safetensors files, and Hugging Face Llama checkpoints built from them (config.json plus
// one file or shards listed in model.safetensors.index.json).
#include "llvq/safetensors.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "io_util.hpp"
#include "llvq/error.hpp"
#include "llvq/half.hpp"
#include "llvq/model_io.hpp"
#include "rope_permutation.hpp"

namespace llvq {
namespace safetensors {
namespace {

using nlohmann::json;

// safetensors' own reader refuses headers above 100 MB; so do we, before allocating.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct DTypeName {
  DType dtype;
  const char* name;
  uint64_t bytes;
};
constexpr DTypeName kDTypes[] = {
    {DType::BOOL, "BOOL", 1}, {DType::U8, "U8", 1},     {DType::I8, "I8", 1},   {DType::F8_E5M2, "F8_E5M2", 1},
    {DType::F8_E4M3, "F8_E4M3", 1}, {DType::I16, "I16", 2}, {DType::U16, "U16", 2}, {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2}, {DType::I32, "I32", 4},   {DType::U32, "U32", 4}, {DType::F32, "F32", 4},
    {DType::F64, "F64", 8},   {DType::I64, "I64", 8},   {DType::U64, "U64", 8},
};

// nlohmann keeps the last of duplicated object keys silently; this parse callback
// rejects them instead, tracking the keys seen in every open object.
json parse_json_strict(const std::string& text, const std::string& what) {
  std::vector<std::set<std::string>> open_objects;
  auto callback = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) open_objects.emplace_back();
    else if (event == json::parse_event_t::object_end && !open_objects.empty()) open_objects.pop_back();
    else if (event == json::parse_event_t::key && !open_objects.empty() &&
             !open_objects.back().insert(parsed.get<std::string>()).second)
      throw InputError(what + ": duplicated key \"" + parsed.get<std::string>() + "\"");
    return true;
  };
  try {
    return json::parse(text, callback);
  } catch (const json::exception& e) {
    throw InputError(what + ": invalid JSON: " + e.what());
  }
}

uint64_t json_uint(const json& j, const std::string& what) {
  if (!j.is_number_unsigned()) throw InputError(what + " must be a non-negative integer");
  return j.get<uint64_t>();
}

}  // namespace

std::string to_string(DType d) {
  for (const auto& t : kDTypes)
    if (t.dtype == d) return t.name;
  return "?";
}

uint64_t dtype_bytes(DType d) {
  for (const auto& t : kDTypes)
    if (t.dtype == d) return t.bytes;
  return 0;
}

uint64_t TensorInfo::n_elements() const {
  uint64_t n = 1;
  for (uint64_t d : shape) n = io::checked_mul(n, d, "tensor '" + name + "'", "element count");
  return n;
}

void File::parse_header(const std::string& text, uint64_t buffer_size) {
  const json header = parse_json_strict(text, name_ + ": header");
  if (!header.is_object()) throw InputError(name_ + ": header is not a JSON object");
  for (const auto& [key, entry] : header.items()) {
    const std::string field = name_ + ": tensor '" + key + "'";
    if (key == "__metadata__") {
      if (!entry.is_object()) throw InputError(name_ + ": __metadata__ is not an object");
      for (const auto& [mk, mv] : entry.items()) {
        if (!mv.is_string()) throw InputError(name_ + ": __metadata__ value of \"" + mk + "\" is not a string");
        metadata_[mk] = mv.get<std::string>();
      }
      continue;
    }
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
      throw InputError(field + ": needs dtype, shape and data_offsets");
    TensorInfo t;
    t.name = key;
    const json& dtype = entry["dtype"];
    const auto it = std::find_if(std::begin(kDTypes), std::end(kDTypes),
                                 [&](const DTypeName& d) { return dtype.is_string() && dtype.get<std::string>() == d.name; });
    if (it == std::end(kDTypes)) throw InputError(field + ": unknown dtype " + dtype.dump());
    t.dtype = it->dtype;
    if (!entry["shape"].is_array()) throw InputError(field + ": shape is not an array");
    for (const auto& d : entry["shape"]) t.shape.push_back(json_uint(d, field + ": shape entry"));
    const json& offsets = entry["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2) throw InputError(field + ": data_offsets is not [begin, end]");
    t.begin = json_uint(offsets[0], field + ": data_offsets[0]");
    t.end = json_uint(offsets[1], field + ": data_offsets[1]");
    if (t.begin > t.end || t.end > buffer_size)
      throw InputError(field + ": data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                       "] leave the buffer of " + std::to_string(buffer_size) + " bytes");
    const uint64_t want = io::checked_mul(t.n_elements(), dtype_bytes(t.dtype), field, "byte size");
    if (t.end - t.begin != want)
      throw InputError(field + ": data_offsets span " + std::to_string(t.end - t.begin) + " bytes but shape and dtype need " +
                       std::to_string(want));
    tensors_.push_back(std::move(t));
  }
  std::sort(tensors_.begin(), tensors_.end(), [](const TensorInfo& a, const TensorInfo& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < tensors_.size(); ++i)
    if (tensors_[i].begin < tensors_[i - 1].end)
      throw InputError(name_ + ": tensor '" + tensors_[i].name + "' overlaps tensor '" + tensors_[i - 1].name + "'");
}

File File::parse(std::vector<uint8_t> bytes, const std::string& name) {
  File f;
  f.name_ = name;
  f.image_ = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  io::Cursor in(*f.image_, name);
  const uint64_t n = in.read<uint64_t>("header length");
  if (n > kMaxHeaderBytes) in.fail("header length " + std::to_string(n) + " is implausibly large");
  auto header = in.take(n, "JSON header");
  f.buffer_offset_ = 8 + n;
  f.parse_header(std::string(header.begin(), header.end()), in.remaining());
  return f;
}

File File::read(const std::string& path) {
  File f;
  f.name_ = path;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open file");
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) throw InputError(path + ": cannot determine the file size");
  uint64_t n = 0;
  if (size < 8 || !in.read(reinterpret_cast<char*>(&n), 8))
    throw InputError(path + ": truncated: no 8-byte header length");
  if (n > kMaxHeaderBytes || n > size - 8)
    throw InputError(path + ": header length " + std::to_string(n) + " exceeds the file size " + std::to_string(size));
  std::string header(n, '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(n))) throw InputError(path + ": read error in the header");
  f.buffer_offset_ = 8 + n;
  f.parse_header(header, size - 8 - n);
  return f;
}

const TensorInfo* File::find(const std::string& tensor) const {
  for (const auto& t : tensors_)
    if (t.name == tensor) return &t;
  return nullptr;
}

const TensorInfo& File::tensor(const std::string& tensor) const {
  if (const TensorInfo* t = find(tensor)) return *t;
  throw InputError(name_ + ": missing tensor '" + tensor + "'");
}

std::vector<uint8_t> File::bytes(const TensorInfo& t) const {
  const uint64_t at = buffer_offset_ + t.begin, n = t.end - t.begin;
  if (image_) return std::vector<uint8_t>(image_->begin() + static_cast<std::ptrdiff_t>(at),
                                          image_->begin() + static_cast<std::ptrdiff_t>(at + n));
  std::ifstream in(name_, std::ios::binary);
  std::vector<uint8_t> out(n);
  in.seekg(static_cast<std::streamoff>(at));
  if (!in || !in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(n)))
    throw InputError(name_ + ": cannot read the data of tensor '" + t.name + "' (file changed or truncated?)");
  return out;
}

std::vector<float> File::to_f32(const TensorInfo& t) const {
  const std::vector<uint8_t> raw = bytes(t);
  const uint64_t n = t.n_elements();
  std::vector<float> out(n);
  auto half = [&](uint64_t i) { return static_cast<uint16_t>(raw[2 * i] | (raw[2 * i + 1] << 8)); };
  switch (t.dtype) {
    case DType::F32: std::memcpy(out.data(), raw.data(), raw.size()); break;
    case DType::F16: for (uint64_t i = 0; i < n; ++i) out[i] = fp16_to_float(half(i)); break;
    case DType::BF16: for (uint64_t i = 0; i < n; ++i) out[i] = bf16_to_float(half(i)); break;
    default:
      throw InputError(name_ + ": tensor '" + t.name + "' has dtype " + to_string(t.dtype) +
                       " (only F32, F16 and BF16 are supported)");
  }
  return out;
}

}  // namespace safetensors

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json read_json_file(const fs::path& path) {
  const std::vector<uint8_t> bytes = io::read_file_bytes(path.string());
  try {
    return json::parse(bytes.begin(), bytes.end());
  } catch (const json::exception& e) {
    throw InputError(path.string() + ": invalid JSON: " + e.what());
  }
}

int config_int(const json& cfg, const std::string& key, const std::string& file, std::optional<int> fallback = {}) {
  if (!cfg.contains(key) || cfg[key].is_null()) {
    if (fallback) return *fallback;
    throw InputError(file + ": missing \"" + key + "\"");
  }
  const json& v = cfg[key];
  if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > INT_MAX)
    throw InputError(file + ": \"" + key + "\" = " + v.dump() + " must be a positive integer");
  return static_cast<int>(v.get<int64_t>());
}

float config_float(const json& cfg, const std::string& key, const std::string& file, float fallback) {
  if (!cfg.contains(key) || cfg[key].is_null()) return fallback;
  if (!cfg[key].is_number()) throw InputError(file + ": \"" + key + "\" = " + cfg[key].dump() + " is not a number");
  return cfg[key].get<float>();
}

LlamaConfig read_hf_config(const fs::path& path) {
  const std::string file = path.string();
  const json cfg = read_json_file(path);
  if (!cfg.is_object()) throw InputError(file + ": not a JSON object");
  if (cfg.contains("model_type") && cfg["model_type"] != "llama")
    throw InputError(file + ": model_type " + cfg["model_type"].dump() + " is not supported (only \"llama\")");
  if (cfg.contains("rope_scaling") && !cfg["rope_scaling"].is_null())
    throw InputError(file + ": rope_scaling is not supported (only plain RoPE)");
  LlamaConfig c;
  c.dim = config_int(cfg, "hidden_size", file);
  c.hidden_dim = config_int(cfg, "intermediate_size", file);
  c.n_layers = config_int(cfg, "num_hidden_layers", file);
  c.n_heads = config_int(cfg, "num_attention_heads", file);
  c.n_kv_heads = config_int(cfg, "num_key_value_heads", file, c.n_heads);
  c.vocab_size = config_int(cfg, "vocab_size", file);
  c.seq_len = config_int(cfg, "max_position_embeddings", file);
  c.norm_eps = config_float(cfg, "rms_norm_eps", file, 1e-6f);  // HF LlamaConfig's default
  c.rope_theta = config_float(cfg, "rope_theta", file, 10000.0f);
  c.tied_embeddings = cfg.value("tie_word_embeddings", false);
  c.rope_style = RopeStyle::Interleaved;
  if (c.n_kv_heads > c.n_heads || c.n_heads % c.n_kv_heads != 0)
    throw InputError(file + ": num_key_value_heads = " + std::to_string(c.n_kv_heads) +
                     " does not divide num_attention_heads = " + std::to_string(c.n_heads));
  if (c.dim % c.n_heads != 0 || c.head_dim() % 2 != 0 ||
      config_int(cfg, "head_dim", file, c.dim / c.n_heads) != c.dim / c.n_heads)
    throw InputError(file + ": hidden_size = " + std::to_string(c.dim) +
                     " is not num_attention_heads × an even head_dim");
  io::require_kv_dim_fits(c, file);
  return c;
}

// Which files hold the weights: the named file, the shards of an index, or what a
// directory contains.
std::vector<fs::path> shard_files(const fs::path& input, const fs::path& dir) {
  fs::path index;
  if (fs::is_directory(input)) {
    if (fs::exists(dir / "model.safetensors.index.json")) index = dir / "model.safetensors.index.json";
    else if (fs::exists(dir / "model.safetensors")) return {dir / "model.safetensors"};
    else throw InputError(input.string() + ": no model.safetensors or model.safetensors.index.json in the directory");
  } else if (input.string().ends_with(".json")) {
    index = input;
  } else {
    return {input};
  }
  const json idx = read_json_file(index);
  if (!idx.is_object() || !idx.contains("weight_map") || !idx["weight_map"].is_object())
    throw InputError(index.string() + ": no \"weight_map\" object");
  std::vector<fs::path> files;
  for (const auto& [tensor, file] : idx["weight_map"].items()) {
    if (!file.is_string()) throw InputError(index.string() + ": weight_map entry of '" + tensor + "' is not a file name");
    const fs::path shard = dir / file.get<std::string>();
    if (fs::path(file.get<std::string>()).has_parent_path())
      throw InputError(index.string() + ": shard name " + file.dump() + " must be a plain file name");
    if (std::find(files.begin(), files.end(), shard) == files.end()) files.push_back(shard);
  }
  if (files.empty()) throw InputError(index.string() + ": weight_map is empty");
  return files;
}

// All tensors of all shards by name; a name in two shards is an error.
class TensorSet {
 public:
  explicit TensorSet(const std::vector<fs::path>& files) {
    for (const auto& path : files) {
      files_.push_back(safetensors::File::read(path.string()));
      for (const auto& t : files_.back().tensors())
        if (!where_.emplace(t.name, files_.size() - 1).second)
          throw InputError(path.string() + ": tensor '" + t.name + "' is also in " + files_[where_[t.name]].name());
    }
  }
  bool has(const std::string& name) const { return where_.count(name) != 0; }
  // The tensor as fp32 after checking its shape.
  std::vector<float> get(const std::string& name, std::vector<uint64_t> shape) const {
    const auto it = where_.find(name);
    if (it == where_.end()) throw InputError(files_.front().name() + ": missing tensor '" + name + "'");
    const safetensors::File& f = files_[it->second];
    const safetensors::TensorInfo& t = f.tensor(name);
    if (t.shape != shape) {
      auto str = [](const std::vector<uint64_t>& s) {
        std::string r = "[";
        for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
        return r + "]";
      };
      throw InputError(f.name() + ": tensor '" + name + "' has shape " + str(t.shape) + ", expected " + str(shape) +
                       " from config.json");
    }
    return f.to_f32(t);
  }

 private:
  std::vector<safetensors::File> files_;
  std::map<std::string, size_t> where_;
};

std::shared_ptr<Linear> hf_linear(const TensorSet& ts, const std::string& name, int out, int in,
                                  int rope_heads = 0) {
  std::vector<float> w = ts.get(name, {static_cast<uint64_t>(out), static_cast<uint64_t>(in)});
  if (rope_heads > 0) w = rope::half_split_to_interleaved(w, rope_heads, in);
  return std::make_shared<DenseLinear>(out, in, std::move(w));
}

}  // namespace

LlamaModel load_safetensors_model(const std::string& path) {
  const fs::path input(path);
  std::error_code ec;
  if (!fs::exists(input, ec)) throw InputError(path + ": no such file or directory");
  const fs::path dir = fs::is_directory(input) ? input : input.parent_path().empty() ? fs::path(".") : input.parent_path();
  const std::vector<fs::path> files = shard_files(input, dir);
  LlamaModel m;
  m.config = read_hf_config(dir / "config.json");
  LlamaConfig& c = m.config;
  const TensorSet ts(files);
  const auto dim = static_cast<uint64_t>(c.dim);
  m.tok_embeddings = ts.get("model.embed_tokens.weight", {static_cast<uint64_t>(c.vocab_size), dim});
  m.layers.resize(static_cast<size_t>(c.n_layers));
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    LlamaLayer& L = m.layers[static_cast<size_t>(l)];
    L.attn_norm = ts.get(p + "input_layernorm.weight", {dim});
    L.ffn_norm = ts.get(p + "post_attention_layernorm.weight", {dim});
    // HF stores q/k rows half-split per head; LlamaModel is interleaved.
    L.wq = hf_linear(ts, p + "self_attn.q_proj.weight", c.dim, c.dim, c.n_heads);
    L.wk = hf_linear(ts, p + "self_attn.k_proj.weight", c.kv_dim(), c.dim, c.n_kv_heads);
    L.wv = hf_linear(ts, p + "self_attn.v_proj.weight", c.kv_dim(), c.dim);
    L.wo = hf_linear(ts, p + "self_attn.o_proj.weight", c.dim, c.dim);
    L.w1 = hf_linear(ts, p + "mlp.gate_proj.weight", c.hidden_dim, c.dim);
    L.w2 = hf_linear(ts, p + "mlp.down_proj.weight", c.dim, c.hidden_dim);
    L.w3 = hf_linear(ts, p + "mlp.up_proj.weight", c.hidden_dim, c.dim);
  }
  m.final_norm = ts.get("model.norm.weight", {dim});
  // An explicit lm_head wins (some tied checkpoints store it anyway); without one the
  // config must say the classifier is the embedding, as transformers requires.
  if (ts.has("lm_head.weight")) {
    c.tied_embeddings = false;
    m.output = hf_linear(ts, "lm_head.weight", c.vocab_size, c.dim);
  } else if (c.tied_embeddings) {
    m.output = std::make_shared<DenseLinear>(c.vocab_size, c.dim, m.tok_embeddings);
  } else {
    throw InputError(path + ": no lm_head.weight tensor, and config.json does not set tie_word_embeddings");
  }
  m.metadata["format"] = "safetensors";
  m.metadata["source"] = path;
  return m;
}

}  // namespace llvq

// `llvq inspect` and `llvq convert` as library functions (llvq/model_tools.hpp).
#include "llvq/model_tools.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>

#include "llvq/calibration.hpp"
#include "llvq/error.hpp"
#include "llvq/gguf.hpp"
#include "llvq/output_file.hpp"
#include "llvq/report.hpp"
#include "llvq/safetensors.hpp"
#include "llvq/tokenizer.hpp"

namespace llvq {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

json value_json(const gguf::Value& v, size_t max_items) {
  return std::visit(
      [&](const auto& x) -> json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, gguf::Array>) {
          json arr = json::array();
          for (size_t i = 0; i < x.items.size() && i < max_items; ++i) arr.push_back(value_json(x.items[i], max_items));
          return {{"element_type", gguf::to_string(x.element_type)}, {"length", x.items.size()}, {"items", arr}};
        } else if constexpr (std::is_floating_point_v<T>) {
          return std::isfinite(x) ? json(x) : json(std::to_string(x));  // JSON has no inf/nan
        } else {
          return json(x);
        }
      },
      v.storage());
}

json gguf_json(const std::string& path, size_t max_items) {
  const gguf::File f = gguf::File::read(path);
  json meta = json::array(), tensors = json::array();
  for (const auto& kv : f.metadata())
    meta.push_back({{"key", kv.key}, {"type", gguf::to_string(kv.value.type())}, {"value", value_json(kv.value, max_items)}});
  for (const auto& t : f.tensors())
    tensors.push_back({{"name", t.name}, {"type", gguf::to_string(t.type)}, {"ne", t.ne}, {"offset", t.offset},
                       {"bytes", t.n_bytes()}});
  return {{"file", path}, {"format", "gguf"}, {"version", f.version()}, {"alignment", f.alignment()},
          {"data_offset", f.data_offset()}, {"metadata", meta}, {"tensors", tensors}};
}

json safetensors_json(const std::string& path) {
  const safetensors::File f = safetensors::File::read(path);
  json tensors = json::array();
  for (const auto& t : f.tensors())
    tensors.push_back({{"name", t.name}, {"dtype", safetensors::to_string(t.dtype)}, {"shape", t.shape},
                       {"data_offsets", {t.begin, t.end}}});
  return {{"file", path}, {"format", "safetensors"}, {"metadata", f.metadata()}, {"tensors", tensors}};
}

json loaded_model_json(const std::string& path) {
  const LlamaModel m = load_model(path);
  return {{"file", path}, {"format", m.metadata.at("format")}, {"parameters", model_parameters(m)},
          {"config", config_json(m.config)}, {"tokenizer", m.tokenizer.has_value()}};
}

// A compressed model is converted for real: every compressed layer becomes its dequantized
// fp32 weights (stored as the output's type), and the file records where they came from next
// to the quantization's own provenance keys. Returns the number of layers decompressed.
int decompress_layers(LlamaModel& model, const std::string& input) {
  int count = 0;
  const auto densify = [&](std::shared_ptr<Linear>& l) {
    if (!l || dynamic_cast<const DenseLinear*>(l.get())) return;
    l = std::make_shared<DenseLinear>(l->out_features(), l->in_features(), l->dense_weight());
    ++count;
  };
  if (model.compressed_embedding) {  // tok_embeddings already holds its decoded values
    if (model.output == model.compressed_embedding)
      model.output = std::make_shared<DenseLinear>(model.config.vocab_size, model.config.dim, model.tok_embeddings);
    model.compressed_embedding.reset();
    ++count;
  }
  for (const LinearSlot& s : linear_slots(model)) densify(*s.slot);
  densify(model.output);
  if (count) model.metadata["llvq.decompressed_from"] = fs::path(input).filename().string();
  return count;
}

// The tokenizer file replaces the model's own; its vocabulary must be the model's.
void replace_tokenizer(LlamaModel& model, const std::string& path) {
  TokenizerData tok = load_llama2c_tokenizer(path);
  if (static_cast<int>(tok.tokens.size()) != model.config.vocab_size)
    throw InputError(path + ": " + std::to_string(tok.tokens.size()) + " tokens, but the model's vocabulary is " +
                     std::to_string(model.config.vocab_size));
  model.tokenizer = std::move(tok);
}

}  // namespace

uint64_t model_parameters(const LlamaModel& m) {
  uint64_t n = m.tok_embeddings.size() + m.final_norm.size();
  auto lin = [](const std::shared_ptr<Linear>& l) { return static_cast<uint64_t>(l->in_features() * l->out_features()); };
  for (const auto& l : m.layers)
    n += l.attn_norm.size() + l.ffn_norm.size() + lin(l.wq) + lin(l.wk) + lin(l.wv) + lin(l.wo) + lin(l.w1) +
         lin(l.w2) + lin(l.w3);
  if (!m.config.tied_embeddings) n += lin(m.output);
  return n;
}

json config_json(const LlamaConfig& c) {
  return {{"dim", c.dim},           {"hidden_dim", c.hidden_dim}, {"n_layers", c.n_layers},
          {"n_heads", c.n_heads},   {"n_kv_heads", c.n_kv_heads}, {"vocab_size", c.vocab_size},
          {"seq_len", c.seq_len},   {"norm_eps", c.norm_eps},     {"rope_theta", c.rope_theta},
          {"tied_embeddings", c.tied_embeddings}};
}

ModelFormat parse_model_format(const std::string& s) {
  for (ModelFormat f : {ModelFormat::Auto, ModelFormat::Llama2c, ModelFormat::Gguf, ModelFormat::Safetensors})
    if (to_string(f) == s) return f;
  throw InputError("format " + s + ": expected auto, llama2c, gguf or safetensors");
}

InspectView inspect_view(const std::string& path) {
  const ModelFormat f = detect_model_format(path);
  if (f == ModelFormat::Gguf) return InspectView::Gguf;
  if (f == ModelFormat::Safetensors && !fs::is_directory(path) && path.ends_with(".safetensors"))
    return InspectView::SafetensorsFile;
  return InspectView::Model;
}

json inspect_json(const std::string& path, size_t max_items) {
  switch (inspect_view(path)) {
    case InspectView::Gguf: return gguf_json(path, max_items);
    case InspectView::SafetensorsFile: return safetensors_json(path);
    case InspectView::Model: break;
  }
  return loaded_model_json(path);
}

json convert_model(const std::string& input, const std::string& output, const ConvertOptions& o) {
  if (!output.ends_with(".gguf")) throw InputError(output + ": the output file name must end in .gguf");
  GgufSaveOptions save;
  save.weight_type = parse_weight_type(o.type);
  save.overwrite = o.force;
  const ModelFormat format = parse_model_format(o.format);
  check_output(output, {.force = o.force, .inputs = {input, o.tokenizer}});  // before loading
  const auto t0 = std::chrono::steady_clock::now();
  LlamaModel model = load_model(input, {.format = format});
  if (!o.tokenizer.empty()) replace_tokenizer(model, o.tokenizer);
  const int decompressed = decompress_layers(model, input);
  const double load_s = seconds_since(t0);
  const auto t1 = std::chrono::steady_clock::now();
  save_gguf(model, output, save);
  const double save_s = seconds_since(t1);
  return {{"input", input},
          {"input_format", model.metadata["format"]},
          {"output", output},
          {"type", o.type},
          {"parameters", model_parameters(model)},
          {"tokenizer", model.tokenizer.has_value()},
          {"decompressed_layers", decompressed},
          {"output_bytes", fs::file_size(output)},
          {"load_seconds", load_s},
          {"save_seconds", save_s},
          {"config", config_json(model.config)}};
}

}  // namespace llvq

// Llama models to and from GGUF: the llama.cpp key set and tensor names. GGUF "llama"
// stores q/k in Meta's interleaved RoPE order, the order LlamaModel uses, so weights move
// across unchanged; ne[0] is the innermost dimension, so an [out, in] matrix has ne {in, out}.
#include <climits>
#include <cstring>
#include <optional>
#include <filesystem>

#include "io_util.hpp"
#include "llvq/error.hpp"
#include "llvq/gguf.hpp"
#include "llvq/model_io.hpp"
#include "rope_permutation.hpp"

namespace llvq {
namespace {

using gguf::File;
using gguf::Value;

// llama_ftype of a file whose 2-D weights are all `t`; none for Source (mixed types: the
// key is optional and llama.cpp then infers the type from the tensors).
std::optional<uint32_t> llama_file_type(WeightType t) {
  switch (t) {
    case WeightType::F32: return 0;    // LLAMA_FTYPE_ALL_F32
    case WeightType::F16: return 1;    // LLAMA_FTYPE_MOSTLY_F16
    case WeightType::Q8_0: return 7;   // LLAMA_FTYPE_MOSTLY_Q8_0
    case WeightType::BF16: return 32;  // LLAMA_FTYPE_MOSTLY_BF16
    case WeightType::Source: return std::nullopt;
  }
  return std::nullopt;
}

// The source's stored form of `name` when it still holds exactly `values`.
const SourceTensor* unchanged_source(const LlamaModel& m, const std::string& name, const std::vector<float>& values) {
  const auto it = m.source_tensors.find(name);
  if (it == m.source_tensors.end()) return nullptr;
  const SourceTensor& st = it->second;
  std::vector<float> decoded(values.size());
  try {
    gguf::dequantize(static_cast<gguf::TensorType>(st.ggml_type), {st.image->data() + st.offset, st.size},
                     values.size(), decoded.data());
  } catch (const InputError&) {
    return nullptr;  // a size or type that no longer matches: the values changed shape
  }
  return std::memcmp(decoded.data(), values.data(), values.size() * sizeof(float)) == 0 ? &st : nullptr;
}

// One dense 2-D weight in the storage `type` asks for.
void add_matrix(gguf::Writer& w, const LlamaModel& m, const std::string& name, std::vector<uint64_t> ne,
                const std::vector<float>& v, WeightType type) {
  switch (type) {
    case WeightType::Source:
      if (const SourceTensor* st = unchanged_source(m, name, v)) {
        const uint8_t* p = st->image->data() + st->offset;
        w.add_tensor(name, std::move(ne), static_cast<gguf::TensorType>(st->ggml_type), {p, p + st->size});
      } else {
        w.add_f32(name, std::move(ne), v);
      }
      return;
    case WeightType::F16: return w.add_f16(name, std::move(ne), v);
    case WeightType::BF16: return w.add_bf16(name, std::move(ne), v);
    case WeightType::Q8_0:  // rows that are not whole Q8_0 blocks: F16, as llama-quantize falls back too
      return ne[0] % gguf::block_size(gguf::TensorType::Q8_0) == 0 ? w.add_q8_0(name, std::move(ne), v)
                                                                    : w.add_f16(name, std::move(ne), v);
    case WeightType::F32: return w.add_f32(name, std::move(ne), v);
  }
}

int positive_int(const File& f, const std::string& key) {
  const Value& v = f.get(key);
  if (v.type() == gguf::ValueType::ARRAY)
    throw InputError(f.name() + ": " + key + " is an array (per-layer values are not supported)");
  const uint64_t x = v.as_uint(f.name() + ": " + key);
  if (x == 0 || x > static_cast<uint64_t>(INT_MAX))
    throw InputError(f.name() + ": " + key + " = " + std::to_string(x) + " is out of range");
  return static_cast<int>(x);
}

float float_or(const File& f, const std::string& key, float fallback) {
  const Value* v = f.find(key);
  return v ? static_cast<float>(v->as_double(f.name() + ": " + key)) : fallback;
}

std::string shape_string(const std::vector<uint64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

LlamaConfig read_config(const File& f) {
  const std::string arch = f.get("general.architecture").as_string(f.name() + ": general.architecture");
  if (arch != "llama")
    throw InputError(f.name() + ": general.architecture = '" + arch + "' is not supported (only 'llama')");
  LlamaConfig c;
  c.dim = positive_int(f, "llama.embedding_length");
  c.hidden_dim = positive_int(f, "llama.feed_forward_length");
  c.n_layers = positive_int(f, "llama.block_count");
  c.n_heads = positive_int(f, "llama.attention.head_count");
  c.n_kv_heads = f.find("llama.attention.head_count_kv") ? positive_int(f, "llama.attention.head_count_kv") : c.n_heads;
  c.seq_len = positive_int(f, "llama.context_length");
  c.rope_theta = float_or(f, "llama.rope.freq_base", 10000.0f);
  c.norm_eps = float_or(f, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
  c.rope_style = RopeStyle::Interleaved;
  if (c.n_kv_heads > c.n_heads || c.n_heads % c.n_kv_heads != 0)
    throw InputError(f.name() + ": llama.attention.head_count_kv = " + std::to_string(c.n_kv_heads) +
                     " does not divide llama.attention.head_count = " + std::to_string(c.n_heads));
  if (c.dim % c.n_heads != 0 || c.head_dim() % 2 != 0)
    throw InputError(f.name() + ": llama.embedding_length = " + std::to_string(c.dim) +
                     " is not llama.attention.head_count × an even head size");
  io::require_kv_dim_fits(c, f.name());
  if (f.find("llama.rope.dimension_count") && positive_int(f, "llama.rope.dimension_count") != c.head_dim())
    throw InputError(f.name() + ": llama.rope.dimension_count differs from the head size " +
                     std::to_string(c.head_dim()) + " (partial rotary embeddings are not supported)");
  if (!f.find_tensor("token_embd.weight")) {
    c.vocab_size = positive_int(f, "llama.vocab_size");  // a compressed embedding has no plain tensor
  } else {
    const gguf::TensorInfo& embd = f.tensor("token_embd.weight");
    if (embd.ne.size() != 2 || embd.ne[1] > static_cast<uint64_t>(INT_MAX))
      throw InputError(f.name() + ": tensor 'token_embd.weight' has shape " + shape_string(embd.ne) +
                       ", expected [embedding_length, vocab]");
    c.vocab_size = f.find("llama.vocab_size") ? positive_int(f, "llama.vocab_size") : static_cast<int>(embd.ne[1]);
  }
  c.tied_embeddings = f.find_tensor("output.weight") == nullptr;
  return c;
}

// The tensor as fp32, after checking its shape against what the config implies.
std::vector<float> tensor_f32(const File& f, const std::string& name, std::vector<uint64_t> expected) {
  const gguf::TensorInfo& t = f.tensor(name);
  if (t.ne != expected)
    throw InputError(f.name() + ": tensor '" + name + "' has shape " + shape_string(t.ne) + ", expected " +
                     shape_string(expected) + " from the llama.* hyper-parameters");
  return f.to_f32(t);
}

// Keeps the stored form of a non-F32 weight (see LlamaModel::source_tensors).
void keep_source(LlamaModel& m, const File& f, const std::string& name) {
  const gguf::TensorInfo& t = f.tensor(name);
  if (t.type == gguf::TensorType::F32) return;
  m.source_tensors[name] = {static_cast<uint32_t>(t.type), f.image(), f.data_offset() + t.offset, t.n_bytes()};
}

// A dense layer whose source is Q8_0 runs its one-token products from those bytes (the fp32
// weights were dequantized from them).
void use_q8_0_source(const LlamaModel& m, const std::string& name, DenseLinear& dense) {
  const auto it = m.source_tensors.find(name);
  if (it != m.source_tensors.end() && it->second.ggml_type == static_cast<uint32_t>(gguf::TensorType::Q8_0))
    dense.use_q8_0(it->second.image, it->second.offset);
}

std::shared_ptr<Linear> linear(LlamaModel& m, const File& f, const CompressedLayerIo& io, const std::string& name,
                               int out, int in) {
  if (auto compressed = io.read(f, name, out, in)) return compressed;
  auto dense = std::make_shared<DenseLinear>(out, in, tensor_f32(f, name, {static_cast<uint64_t>(in), static_cast<uint64_t>(out)}));
  keep_source(m, f, name);
  use_q8_0_source(m, name, *dense);
  return dense;
}

template <class T>
std::vector<T> typed_array(const File& f, const std::string& key, gguf::ValueType want, size_t n) {
  const gguf::Array& a = f.get(key).as_array(f.name() + ": " + key);
  if (a.element_type != want)
    throw InputError(f.name() + ": " + key + " is an array of " + gguf::to_string(a.element_type) + ", expected " +
                     gguf::to_string(want));
  if (a.items.size() != n)
    throw InputError(f.name() + ": " + key + " has " + std::to_string(a.items.size()) + " entries, expected " +
                     std::to_string(n) + " (one per token)");
  std::vector<T> out;
  out.reserve(n);
  for (const auto& v : a.items) out.push_back(std::get<T>(v.storage()));
  return out;
}

int token_id_or(const File& f, const std::string& key, int fallback, size_t n_tokens) {
  const Value* v = f.find(key);
  if (!v) return fallback;
  const uint64_t id = v->as_uint(f.name() + ": " + key);
  if (id >= n_tokens)
    throw InputError(f.name() + ": " + key + " = " + std::to_string(id) + " is not a token id (vocabulary of " +
                     std::to_string(n_tokens) + ")");
  return static_cast<int>(id);
}

TokenizerData read_tokenizer(const File& f, int vocab_size) {
  TokenizerData t;
  t.model = f.get("tokenizer.ggml.model").as_string(f.name() + ": tokenizer.ggml.model");
  const gguf::Array& tokens = f.get("tokenizer.ggml.tokens").as_array(f.name() + ": tokenizer.ggml.tokens");
  if (tokens.element_type != gguf::ValueType::STRING)
    throw InputError(f.name() + ": tokenizer.ggml.tokens is not an array of strings");
  for (const auto& v : tokens.items) t.tokens.push_back(std::get<std::string>(v.storage()));
  const size_t n = t.tokens.size();
  if (n != static_cast<size_t>(vocab_size))
    throw InputError(f.name() + ": tokenizer.ggml.tokens has " + std::to_string(n) + " tokens but the model's vocabulary is " +
                     std::to_string(vocab_size));
  if (f.find("tokenizer.ggml.scores")) t.scores = typed_array<float>(f, "tokenizer.ggml.scores", gguf::ValueType::FLOAT32, n);
  if (f.find("tokenizer.ggml.token_type"))
    t.token_types = typed_array<int32_t>(f, "tokenizer.ggml.token_type", gguf::ValueType::INT32, n);
  if (const Value* merges = f.find("tokenizer.ggml.merges")) {
    const gguf::Array& a = merges->as_array(f.name() + ": tokenizer.ggml.merges");
    if (a.element_type != gguf::ValueType::STRING)
      throw InputError(f.name() + ": tokenizer.ggml.merges is not an array of strings");
    for (const auto& v : a.items) t.merges.push_back(std::get<std::string>(v.storage()));
  }
  if (const Value* v = f.find("tokenizer.ggml.pre")) t.pre = v->as_string(f.name() + ": tokenizer.ggml.pre");
  if (const Value* v = f.find("tokenizer.chat_template"))
    t.chat_template = v->as_string(f.name() + ": tokenizer.chat_template");
  t.bos_id = token_id_or(f, "tokenizer.ggml.bos_token_id", t.bos_id, n);
  t.eos_id = token_id_or(f, "tokenizer.ggml.eos_token_id", t.eos_id, n);
  t.unk_id = token_id_or(f, "tokenizer.ggml.unknown_token_id", t.unk_id, n);
  if (const Value* v = f.find("tokenizer.ggml.add_bos_token")) t.add_bos = v->as_bool(f.name() + ": tokenizer.ggml.add_bos_token");
  if (const Value* v = f.find("tokenizer.ggml.add_space_prefix"))
    t.add_space_prefix = v->as_bool(f.name() + ": tokenizer.ggml.add_space_prefix");
  for (const auto& tok : t.tokens) t.max_token_length = std::max(t.max_token_length, static_cast<int>(tok.size()));
  return t;
}

void write_tokenizer(gguf::Writer& w, const TokenizerData& t) {
  w.set("tokenizer.ggml.model", Value(t.model));
  w.set("tokenizer.ggml.tokens", Value::strings(t.tokens));
  if (!t.scores.empty()) w.set("tokenizer.ggml.scores", Value::floats(t.scores));
  if (!t.token_types.empty()) w.set("tokenizer.ggml.token_type", Value::int32s(t.token_types));
  if (!t.merges.empty()) w.set("tokenizer.ggml.merges", Value::strings(t.merges));
  if (!t.pre.empty()) w.set("tokenizer.ggml.pre", Value(t.pre));
  if (!t.chat_template.empty()) w.set("tokenizer.chat_template", Value(t.chat_template));
  w.set("tokenizer.ggml.bos_token_id", Value(static_cast<uint32_t>(t.bos_id)));
  w.set("tokenizer.ggml.eos_token_id", Value(static_cast<uint32_t>(t.eos_id)));
  w.set("tokenizer.ggml.unknown_token_id", Value(static_cast<uint32_t>(t.unk_id)));
  w.set("tokenizer.ggml.add_bos_token", Value(t.add_bos));
  w.set("tokenizer.ggml.add_space_prefix", Value(t.add_space_prefix));
}

void write_config(gguf::Writer& w, const LlamaConfig& c, const std::string& name, std::optional<uint32_t> file_type) {
  auto u32 = [](int x) { return Value(static_cast<uint32_t>(x)); };
  w.set("general.architecture", Value("llama"));
  w.set("general.name", Value(name));
  if (file_type) w.set("general.file_type", Value(*file_type));
  w.set("llama.context_length", u32(c.seq_len));
  w.set("llama.embedding_length", u32(c.dim));
  w.set("llama.block_count", u32(c.n_layers));
  w.set("llama.feed_forward_length", u32(c.hidden_dim));
  w.set("llama.attention.head_count", u32(c.n_heads));
  w.set("llama.attention.head_count_kv", u32(c.n_kv_heads));
  w.set("llama.rope.dimension_count", u32(c.head_dim()));
  w.set("llama.rope.freq_base", Value(c.rope_theta));
  w.set("llama.attention.layer_norm_rms_epsilon", Value(c.norm_eps));
  w.set("llama.vocab_size", u32(c.vocab_size));
}

std::string model_name(const LlamaModel& m) {
  if (auto it = m.metadata.find("name"); it != m.metadata.end()) return it->second;
  if (auto it = m.metadata.find("source"); it != m.metadata.end())
    return std::filesystem::path(it->second).filename().replace_extension().string();
  return "llama";
}

void refuse_to_clobber(const LlamaModel& m, const std::string& path, bool overwrite) {
  std::error_code ec;
  if (auto it = m.metadata.find("source"); it != m.metadata.end() && std::filesystem::exists(path, ec) &&
                                            std::filesystem::equivalent(it->second, path, ec))
    throw InputError(path + ": refusing to overwrite the file the model was read from");
  if (std::filesystem::exists(path, ec) && !overwrite)
    throw InputError(path + ": output file exists (pass --force / overwrite to replace it)");
}

// A model assembled in code (not by a loader) may be incomplete; say so instead of crashing.
void require_complete(const LlamaModel& m, const std::string& path) {
  const LlamaConfig& c = m.config;
  if (c.n_layers <= 0 || m.layers.size() != static_cast<size_t>(c.n_layers) || !m.output)
    throw InputError(path + ": model has " + std::to_string(m.layers.size()) + " layers for n_layers = " +
                     std::to_string(c.n_layers) + (m.output ? "" : " and no classifier"));
  for (const LlamaLayer& L : m.layers)
    for (const auto* lin : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w1, &L.w2, &L.w3})
      if (!*lin) throw InputError(path + ": model has a layer without all its linear layers");
}

}  // namespace

std::string to_string(WeightType t) {
  switch (t) {
    case WeightType::F32: return "f32";
    case WeightType::F16: return "f16";
    case WeightType::BF16: return "bf16";
    case WeightType::Q8_0: return "q8_0";
    case WeightType::Source: return "source";
  }
  return "?";
}

WeightType parse_weight_type(const std::string& s) {
  for (WeightType t : {WeightType::F32, WeightType::F16, WeightType::BF16, WeightType::Q8_0, WeightType::Source})
    if (to_string(t) == s) return t;
  throw InputError("weight type '" + s + "' is not one of f32, f16, bf16, q8_0, source");
}

LlamaModel llama_from_gguf(const File& f, const CompressedLayerIo& io) {
  LlamaModel m;
  m.config = read_config(f);
  const LlamaConfig& c = m.config;
  const auto dim = static_cast<uint64_t>(c.dim);
  if (auto embedding = io.read(f, "token_embd.weight", c.vocab_size, c.dim)) {
    m.compressed_embedding = std::move(embedding);
    m.tok_embeddings = m.compressed_embedding->dense_weight();
  } else {
    m.tok_embeddings = tensor_f32(f, "token_embd.weight", {dim, static_cast<uint64_t>(c.vocab_size)});
    keep_source(m, f, "token_embd.weight");
  }
  m.layers.resize(static_cast<size_t>(c.n_layers));
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    LlamaLayer& L = m.layers[static_cast<size_t>(l)];
    L.attn_norm = tensor_f32(f, p + "attn_norm.weight", {dim});
    L.ffn_norm = tensor_f32(f, p + "ffn_norm.weight", {dim});
    L.wq = linear(m, f, io, p + "attn_q.weight", c.dim, c.dim);
    L.wk = linear(m, f, io, p + "attn_k.weight", c.kv_dim(), c.dim);
    L.wv = linear(m, f, io, p + "attn_v.weight", c.kv_dim(), c.dim);
    L.wo = linear(m, f, io, p + "attn_output.weight", c.dim, c.dim);
    L.w1 = linear(m, f, io, p + "ffn_gate.weight", c.hidden_dim, c.dim);
    L.w2 = linear(m, f, io, p + "ffn_down.weight", c.dim, c.hidden_dim);
    L.w3 = linear(m, f, io, p + "ffn_up.weight", c.hidden_dim, c.dim);
  }
  m.final_norm = tensor_f32(f, "output_norm.weight", {dim});
  if (c.tied_embeddings && m.compressed_embedding) {
    m.output = m.compressed_embedding;
  } else if (c.tied_embeddings) {
    auto classifier = std::make_shared<DenseLinear>(c.vocab_size, c.dim, m.tok_embeddings);
    use_q8_0_source(m, "token_embd.weight", *classifier);
    m.output = std::move(classifier);
  } else
    m.output = linear(m, f, io, "output.weight", c.vocab_size, c.dim);
  if (f.find("tokenizer.ggml.model")) m.tokenizer = read_tokenizer(f, c.vocab_size);
  m.metadata["format"] = "gguf-v" + std::to_string(f.version());
  if (const Value* name = f.find("general.name"); name && name->type() == gguf::ValueType::STRING)
    m.metadata["name"] = name->as_string("general.name");
  // The provenance a quantization recorded (llvq.codec, llvq.rounding, ...): kept, so that a
  // file written from this model (convert) still says where its weights came from.
  for (const auto& kv : f.metadata())
    if (kv.key.rfind("llvq.", 0) == 0 && kv.key.rfind("llvq.t.", 0) != 0 && kv.value.type() == gguf::ValueType::STRING)
      m.metadata[kv.key] = kv.value.as_string(kv.key);
  return m;
}

LlamaModel load_gguf_model(const std::string& path, const CompressedLayerIo& io) {
  LlamaModel m = llama_from_gguf(File::read(path), io);
  m.metadata["source"] = path;
  return m;
}

void save_gguf(const LlamaModel& model, const std::string& path, const GgufSaveOptions& options,
               const CompressedLayerIo& io) {
  refuse_to_clobber(model, path, options.overwrite);
  require_complete(model, path);
  const LlamaConfig& c = model.config;
  gguf::Writer w;
  if (options.alignment != 32) w.set_alignment(options.alignment);
  write_config(w, c, model_name(model), llama_file_type(options.weight_type));
  if (model.tokenizer) write_tokenizer(w, *model.tokenizer);

  auto u = [](int x) { return static_cast<uint64_t>(x); };
  auto matrix = [&](const std::string& name, const std::vector<float>& v, int out, int in) {
    if (v.size() != u(out) * u(in))
      throw InputError(path + ": " + name + " has " + std::to_string(v.size()) + " values, the config needs " +
                       std::to_string(u(out) * u(in)));
    add_matrix(w, model, name, {u(in), u(out)}, v, options.weight_type);
  };
  auto vec = [&](const std::string& name, const std::vector<float>& v) { w.add_f32(name, {v.size()}, v); };
  // Compressed layers are stored in their own form (io.write), dense ones in
  // options.weight_type.
  uint64_t quantized_bits = 0, quantized_weights = 0;
  auto layer = [&](const std::string& name, const std::shared_ptr<Linear>& lin, int out, int in, auto dense) {
    if (const std::optional<uint64_t> bits = io.write(w, *lin, name)) {
      if (c.rope_style == RopeStyle::HalfSplit)
        throw InputError(path + ": quantized models must use interleaved RoPE order");
      quantized_bits += *bits;
      quantized_weights += u(out) * u(in);
    } else {
      matrix(name, dense(), out, in);
    }
  };
  // GGUF "llama" wants interleaved q/k rows; models kept in half-split order are converted.
  auto rope_rows = [&](const std::shared_ptr<Linear>& lin, int heads) {
    std::vector<float> wt = lin->dense_weight();
    return c.rope_style == RopeStyle::HalfSplit ? rope::half_split_to_interleaved(wt, heads, c.dim) : wt;
  };

  // A compressed embedding is not counted in llvq.bpw (the linear layers' rate).
  if (!model.compressed_embedding || !io.write(w, *model.compressed_embedding, "token_embd.weight"))
    matrix("token_embd.weight", model.tok_embeddings, c.vocab_size, c.dim);
  for (int l = 0; l < c.n_layers; ++l) {
    const LlamaLayer& L = model.layers[static_cast<size_t>(l)];
    const std::string p = "blk." + std::to_string(l) + ".";
    vec(p + "attn_norm.weight", L.attn_norm);
    layer(p + "attn_q.weight", L.wq, c.dim, c.dim, [&] { return rope_rows(L.wq, c.n_heads); });
    layer(p + "attn_k.weight", L.wk, c.kv_dim(), c.dim, [&] { return rope_rows(L.wk, c.n_kv_heads); });
    layer(p + "attn_v.weight", L.wv, c.kv_dim(), c.dim, [&] { return L.wv->dense_weight(); });
    layer(p + "attn_output.weight", L.wo, c.dim, c.dim, [&] { return L.wo->dense_weight(); });
    vec(p + "ffn_norm.weight", L.ffn_norm);
    layer(p + "ffn_gate.weight", L.w1, c.hidden_dim, c.dim, [&] { return L.w1->dense_weight(); });
    layer(p + "ffn_down.weight", L.w2, c.dim, c.hidden_dim, [&] { return L.w2->dense_weight(); });
    layer(p + "ffn_up.weight", L.w3, c.hidden_dim, c.dim, [&] { return L.w3->dense_weight(); });
  }
  vec("output_norm.weight", model.final_norm);
  if (!c.tied_embeddings) layer("output.weight", model.output, c.vocab_size, c.dim, [&] { return model.output->dense_weight(); });
  if (quantized_weights) {
    // The exact rate of the quantized layers.
    w.set("llvq.version", Value(uint32_t{1}));
    w.set("llvq.bpw", Value(static_cast<double>(quantized_bits) / static_cast<double>(quantized_weights)));
    w.set("llvq.quantized_weights", Value(quantized_weights));
  }
  // The provenance the pipeline recorded (kept by a decompressing convert too).
  for (const auto& [k, v] : model.metadata)
    if (k.rfind("llvq.", 0) == 0 && k != "llvq.version" && k != "llvq.bpw" && k != "llvq.quantized_weights")
      w.set(k, Value(v));
  w.write(path);
}

}  // namespace llvq

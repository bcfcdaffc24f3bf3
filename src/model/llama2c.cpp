// llama2.c checkpoints. Version 0 (Karpathy's legacy export): seven int32 hyper-parameters,
// then fp32 arrays grouped by kind across layers, two unused RoPE tables, and the
// classifier when a negative vocab_size says it is not shared. Version 1: a 256-byte header
// ("ak42" magic, version, the seven int32, a shared-classifier byte), then the norms first,
// the embedding, the matrices, and the classifier when not shared; no RoPE tables.
#include <array>
#include <cstring>

#include "io_util.hpp"
#include "llvq/model_io.hpp"

namespace llvq {
namespace {

constexpr uint32_t kLlama2cMagic = 0x616b3432;  // "ak42" read as a little-endian uint32
constexpr uint64_t kVersion1HeaderBytes = 256;

struct Llama2cHeader {
  int version = 0;
  LlamaConfig config;
  bool shared_classifier = true;
  uint64_t header_bytes = 0;
};

void require_positive(int value, const char* field, const std::string& name) {
  if (value <= 0)
    throw InputError(name + ": llama2.c header field " + field + " = " + std::to_string(value) + " must be positive");
}

Llama2cHeader read_header(io::Cursor& in, const std::string& name) {
  Llama2cHeader h;
  if (in.size() >= 4 && in.read<uint32_t>("magic") == kLlama2cMagic) {
    h.version = in.read<int32_t>("version");
    if (h.version != 1)
      throw InputError(name + ": llama2.c header field version = " + std::to_string(h.version) +
                       " is not supported (only versions 0 and 1 hold fp32 weights)");
  } else {
    in.seek(0, "header");
  }
  std::array<int32_t, 7> p{};
  const char* fields[7] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
  for (int i = 0; i < 7; ++i) p[i] = in.read<int32_t>(std::string("header field ") + fields[i]);
  LlamaConfig& c = h.config;
  c.dim = p[0];
  c.hidden_dim = p[1];
  c.n_layers = p[2];
  c.n_heads = p[3];
  c.n_kv_heads = p[4];
  c.seq_len = p[6];
  if (h.version == 0) {
    // Version 0 marks an unshared classifier with a negative vocab_size.
    if (p[5] == INT32_MIN)
      throw InputError(name + ": llama2.c header field vocab_size = " + std::to_string(p[5]) + " is out of range");
    h.shared_classifier = p[5] > 0;
    c.vocab_size = p[5] < 0 ? -p[5] : p[5];
    h.header_bytes = 28;
  } else {
    c.vocab_size = p[5];
    const uint8_t shared = in.read<uint8_t>("header field shared_classifier");
    if (shared > 1) throw InputError(name + ": llama2.c header field shared_classifier = " + std::to_string(shared) + " is not 0 or 1");
    h.shared_classifier = shared == 1;
    h.header_bytes = kVersion1HeaderBytes;
  }
  for (int i = 0; i < 7; ++i) require_positive(i == 5 ? c.vocab_size : p[i], fields[i], name);
  if (c.n_kv_heads > c.n_heads || c.n_heads % c.n_kv_heads != 0)
    throw InputError(name + ": llama2.c header field n_kv_heads = " + std::to_string(c.n_kv_heads) +
                     " must divide n_heads = " + std::to_string(c.n_heads));
  if (c.dim % c.n_heads != 0 || (c.dim / c.n_heads) % 2 != 0)
    throw InputError(name + ": llama2.c header field dim = " + std::to_string(c.dim) +
                     " must be n_heads × an even head size (n_heads = " + std::to_string(c.n_heads) + ")");
  io::require_kv_dim_fits(c, name);
  c.tied_embeddings = h.shared_classifier;
  c.rope_style = RopeStyle::Interleaved;
  c.rope_theta = 10000.0f;  // llama2.c hard-codes both
  c.norm_eps = 1e-5f;
  return h;
}

// Sizes (in floats) of the arrays of the checkpoint, for the size check and the reads.
struct Sizes {
  uint64_t dim, kv_dim, hidden, layers, vocab, embedding, rope_table;
};

Sizes sizes_of(const LlamaConfig& c) {
  Sizes s{};
  s.dim = static_cast<uint64_t>(c.dim);
  s.kv_dim = static_cast<uint64_t>(c.kv_dim());
  s.hidden = static_cast<uint64_t>(c.hidden_dim);
  s.layers = static_cast<uint64_t>(c.n_layers);
  s.vocab = static_cast<uint64_t>(c.vocab_size);
  s.embedding = s.vocab * s.dim;
  s.rope_table = static_cast<uint64_t>(c.seq_len) * static_cast<uint64_t>(c.head_dim() / 2);
  return s;
}

uint64_t expected_floats(const Llama2cHeader& h, const std::string& name) {
  const Sizes s = sizes_of(h.config);
  auto mul = [&](uint64_t a, uint64_t b) { return io::checked_mul(a, b, name, "llama2.c weight size"); };
  const uint64_t per_layer = 2 * s.dim + mul(s.dim, s.dim) * 2 + mul(s.kv_dim, s.dim) * 2 + mul(s.hidden, s.dim) * 3;
  uint64_t total = mul(per_layer, s.layers);
  total = io::checked_add(total, s.embedding + s.dim, name, "llama2.c weight size");
  if (h.version == 0) total = io::checked_add(total, 2 * s.rope_table, name, "llama2.c weight size");
  if (!h.shared_classifier) total = io::checked_add(total, s.embedding, name, "llama2.c weight size");
  return total;
}

std::vector<float> read_floats(io::Cursor& in, uint64_t n, const std::string& field) {
  auto bytes = in.take(n * sizeof(float), field);
  std::vector<float> v(n);
  std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

// Reads `layers` consecutive [rows, cols] matrices and hands each to `store`.
template <class Store>
void read_per_layer(io::Cursor& in, uint64_t layers, uint64_t rows, uint64_t cols, const std::string& field,
                    Store store) {
  for (uint64_t l = 0; l < layers; ++l)
    store(l, read_floats(in, rows * cols, field + "[" + std::to_string(l) + "]"));
}

std::shared_ptr<Linear> dense(uint64_t out, uint64_t in, std::vector<float> w) {
  return std::make_shared<DenseLinear>(static_cast<int64_t>(out), static_cast<int64_t>(in), std::move(w));
}

void read_matrices(io::Cursor& in, const Sizes& s, LlamaModel& m) {
  auto& L = m.layers;
  read_per_layer(in, s.layers, s.dim, s.dim, "wq", [&](uint64_t l, auto w) { L[l].wq = dense(s.dim, s.dim, std::move(w)); });
  read_per_layer(in, s.layers, s.kv_dim, s.dim, "wk", [&](uint64_t l, auto w) { L[l].wk = dense(s.kv_dim, s.dim, std::move(w)); });
  read_per_layer(in, s.layers, s.kv_dim, s.dim, "wv", [&](uint64_t l, auto w) { L[l].wv = dense(s.kv_dim, s.dim, std::move(w)); });
  read_per_layer(in, s.layers, s.dim, s.dim, "wo", [&](uint64_t l, auto w) { L[l].wo = dense(s.dim, s.dim, std::move(w)); });
}

void read_ffn(io::Cursor& in, const Sizes& s, LlamaModel& m) {
  auto& L = m.layers;
  read_per_layer(in, s.layers, s.hidden, s.dim, "w1", [&](uint64_t l, auto w) { L[l].w1 = dense(s.hidden, s.dim, std::move(w)); });
  read_per_layer(in, s.layers, s.dim, s.hidden, "w2", [&](uint64_t l, auto w) { L[l].w2 = dense(s.dim, s.hidden, std::move(w)); });
  read_per_layer(in, s.layers, s.hidden, s.dim, "w3", [&](uint64_t l, auto w) { L[l].w3 = dense(s.hidden, s.dim, std::move(w)); });
}

void read_norms(io::Cursor& in, const Sizes& s, LlamaModel& m, bool attention) {
  read_per_layer(in, s.layers, 1, s.dim, attention ? "rms_att" : "rms_ffn", [&](uint64_t l, auto w) {
    (attention ? m.layers[l].attn_norm : m.layers[l].ffn_norm) = std::move(w);
  });
}

}  // namespace

LlamaModel parse_llama2c(std::span<const uint8_t> bytes, const std::string& name) {
  io::Cursor in(bytes, name);
  const Llama2cHeader h = read_header(in, name);
  const uint64_t want = io::checked_add(h.header_bytes, io::checked_mul(expected_floats(h, name), 4, name, "size"),
                                        name, "size");
  if (want != bytes.size())
    throw InputError(name + ": file size " + std::to_string(bytes.size()) + " bytes does not match the " +
                     std::to_string(want) + " bytes implied by the llama2.c header (version " +
                     std::to_string(h.version) + ", dim " + std::to_string(h.config.dim) + ", n_layers " +
                     std::to_string(h.config.n_layers) + ", vocab " + std::to_string(h.config.vocab_size) + ")");
  in.seek(h.header_bytes, "weights");
  LlamaModel m;
  m.config = h.config;
  m.layers.resize(static_cast<size_t>(h.config.n_layers));
  const Sizes s = sizes_of(h.config);
  if (h.version == 0) {
    m.tok_embeddings = read_floats(in, s.embedding, "token_embedding");
    read_norms(in, s, m, true);
    read_matrices(in, s, m);
    read_norms(in, s, m, false);
    read_ffn(in, s, m);
    m.final_norm = read_floats(in, s.dim, "rms_final");
    in.take(2 * s.rope_table * sizeof(float), "legacy RoPE tables");
  } else {
    read_norms(in, s, m, true);
    read_norms(in, s, m, false);
    m.final_norm = read_floats(in, s.dim, "rms_final");
    m.tok_embeddings = read_floats(in, s.embedding, "token_embedding");
    read_matrices(in, s, m);
    read_ffn(in, s, m);
  }
  auto classifier = h.shared_classifier ? m.tok_embeddings : read_floats(in, s.embedding, "wcls");
  m.output = dense(s.vocab, s.dim, std::move(classifier));
  m.metadata["format"] = "llama2c-v" + std::to_string(h.version);
  return m;
}

LlamaModel load_llama2c(const std::string& path) {
  LlamaModel m = parse_llama2c(io::read_file_bytes(path), path);
  m.metadata["source"] = path;
  return m;
}

}  // namespace llvq

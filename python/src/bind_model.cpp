// llvq._core: whole models — load any supported file, tokenize, run the forward pass,
// quantize, save compressed GGUF, evaluate perplexity / KL, generate. The same library calls
// as the CLI's `eval`, `run`, `tokenize`, `quantize`, `compare`, `inspect` and `convert`
// commands.
#include <nanobind/stl/map.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bind_quant.hpp"
#include "bindings.hpp"
#include "common.hpp"
#include "llvq/calibration.hpp"
#include "llvq/chat.hpp"
#include "llvq/compare.hpp"
#include "llvq/error.hpp"
#include "llvq/eval.hpp"
#include "llvq/llama.hpp"
#include "llvq/model_io.hpp"
#include "llvq/model_tools.hpp"
#include "llvq/output_file.hpp"
#include "llvq/quantize_run.hpp"
#include "llvq/tokenizer.hpp"

namespace llvq::py {
namespace {

struct PyModel {
  std::shared_ptr<LlamaModel> model;
  std::shared_ptr<const Tokenizer> tokenizer;  // null when the model has none
  std::string path;                            // the file it was loaded from

  const Tokenizer& tok() const {
    if (!tokenizer) throw InputError(path + ": the model has no tokenizer (pass tokenizer=PATH to load_model)");
    return *tokenizer;
  }
};

// As the CLI loads a model: the tokenizer named, else the file's own, else tok<vocab>.bin /
// tokenizer.bin beside it; a model without any loads too, without a tokenizer. The model
// then carries the tokenizer, so a file saved from it has one.
PyModel load(const std::string& path, const std::string& tokenizer_path) {
  nb::gil_scoped_release release;
  PyModel p{std::make_shared<LlamaModel>(load_model(path)), nullptr, path};
  try {
    p.tokenizer = std::make_shared<const Tokenizer>(tokenizer_for_model(*p.model, path, tokenizer_path));
    if (!p.model->tokenizer) p.model->tokenizer = p.tokenizer->data();
  } catch (const InputError&) {
    if (!tokenizer_path.empty() || p.model->tokenizer) throw;
  }
  return p;
}

nb::dict config(const PyModel& p) {
  const LlamaConfig& c = p.model->config;
  nb::dict d;
  d["dim"] = c.dim;
  d["hidden_dim"] = c.hidden_dim;
  d["n_layers"] = c.n_layers;
  d["n_heads"] = c.n_heads;
  d["n_kv_heads"] = c.n_kv_heads;
  d["head_dim"] = c.head_dim();
  d["vocab_size"] = c.vocab_size;
  d["seq_len"] = c.seq_len;
  d["norm_eps"] = c.norm_eps;
  d["rope_theta"] = c.rope_theta;
  d["rope_style"] = c.rope_style == RopeStyle::Interleaved ? "interleaved" : "half_split";
  d["tied_embeddings"] = c.tied_embeddings;
  return d;
}

std::vector<std::string> linear_names(const PyModel& p) {
  std::vector<std::string> names;
  for (const LinearSlot& s : linear_slots(*p.model)) names.push_back(s.name);
  return names;
}

// The linear layer `name` (GGUF naming): a QuantizedTensor when it is stored compressed,
// else its fp32 weight [out, in].
nb::object linear(const PyModel& p, const std::string& name) {
  for (const LinearSlot& s : linear_slots(*p.model)) {
    if (s.name != name) continue;
    if (auto q = std::dynamic_pointer_cast<QuantizedLinear>(*s.slot))
      return nb::cast(PyQuantized{q, "", std::numeric_limits<double>::quiet_NaN(), 0});
    const Linear& lin = **s.slot;
    const auto shape = {static_cast<size_t>(lin.out_features()), static_cast<size_t>(lin.in_features())};
    return nb::cast(to_numpy(lin.dense_weight(), shape));
  }
  throw InputError("no linear layer named '" + name + "' (see linear_names())");
}

std::string text_of(const nb::object& text) {
  if (nb::isinstance<nb::bytes>(text)) {
    const auto b = nb::cast<nb::bytes>(text);
    return {b.c_str(), b.size()};
  }
  if (nb::isinstance<nb::str>(text)) return nb::cast<std::string>(text);
  throw InputError("text must be str or bytes");
}

nb::ndarray<nb::numpy, int32_t> tokenize(const PyModel& p, const nb::object& text, bool bos, bool parse_special) {
  const std::string s = text_of(text);
  std::vector<int32_t> ids;
  {
    nb::gil_scoped_release release;
    ids = p.tok().encode(s, bos, false, parse_special);
  }
  const size_t n = ids.size();
  return to_numpy(std::move(ids), {n});
}

View<int32_t> token_view(const PyModel& p, const AnyArray& tokens) {
  const View<int32_t> v = view<int32_t>(tokens, "tokens", 1);
  const int vocab = p.model->config.vocab_size;
  for (size_t i = 0; i < v.size(); ++i)
    if (v.data[i] < 0 || v.data[i] >= vocab)
      throw InputError("tokens[" + std::to_string(i) + "] = " + std::to_string(v.data[i]) + " is not in 0.." +
                       std::to_string(vocab - 1));
  return v;
}

nb::bytes detokenize(const PyModel& p, const AnyArray& tokens) {
  const View<int32_t> v = token_view(p, tokens);
  const std::string s = p.tok().decode(std::span<const int32_t>(v.data, v.size()));
  return nb::bytes(s.data(), s.size());
}

nb::ndarray<nb::numpy, float> logits(const PyModel& p, const AnyArray& tokens) {
  const View<int32_t> v = token_view(p, tokens);
  if (v.size() == 0) throw InputError("tokens: empty");
  const int64_t n = v.shape[0];
  std::vector<float> out;
  {
    nb::gil_scoped_release release;
    LlamaRunner runner(*p.model, static_cast<int>(n));
    out = runner.forward_window(std::span<const int32_t>(v.data, v.size()));
  }
  return to_numpy(std::move(out), {static_cast<size_t>(n), static_cast<size_t>(p.model->config.vocab_size)});
}

nb::dict tensor_report(const TensorReport& t) {
  nb::dict d;
  d["name"] = t.name;
  d["rows"] = t.rows;
  d["cols"] = t.cols;
  d["layout"] = t.layout;
  d["bpw"] = t.bpw;
  d["weighted_error"] = t.weighted_error;
  d["seconds"] = t.seconds;
  d["blocks"] = t.blocks;
  return d;
}

nb::dict quant_report(const ModelQuantReport& r) {
  nb::dict d;
  nb::list tensors;
  for (const TensorReport& t : r.tensors) tensors.append(tensor_report(t));
  d["tensors"] = tensors;
  d["kept"] = r.kept;
  d["embedding"] = r.embedding ? nb::object(tensor_report(*r.embedding)) : nb::none();
  d["bpw"] = r.bpw;
  d["quantized_weights"] = r.quantized_weights;
  d["payload_bits"] = r.payload_bits;
  d["calib_tokens"] = r.calib_tokens;
  d["calib_seconds"] = r.calib_seconds;
  d["quant_seconds"] = r.quant_seconds;
  d["blocks"] = r.blocks;
  d["seconds"] = r.seconds;
  return d;
}

// Quantizes a copy of the model (the loaded one stays as it is) as `llvq quantize` does: the
// options resolved by the library (the RTN fallback without calibration included), the
// provenance keys recorded. `calib_name`: what the output records as llvq.calib.
nb::tuple quantize(const PyModel& p, const AnyArray& calib, const QuantRecipe& recipe, const std::string& calib_name,
                   bool verbose, const nb::object& progress) {
  const View<int32_t> tokens = token_view(p, calib);
  ModelQuantOptions o = resolve_options(recipe);
  o.progress = verbose;
  o.on_progress = progress_callback(progress);
  PyModel out{std::make_shared<LlamaModel>(*p.model), p.tokenizer, p.path};
  ModelQuantReport r;
  {
    nb::gil_scoped_release release;
    r = quantize_model(*out.model, std::vector<int32_t>(tokens.data, tokens.data + tokens.size()), o);
  }
  record_provenance(*out.model, o, calib_name, r.calib_tokens);
  return nb::make_tuple(nb::cast(std::move(out)), quant_report(r));
}

nb::ndarray<nb::numpy, int32_t> calib_tokens(const PyModel& p, const std::string& path, int limit) {
  std::vector<int32_t> t;
  {
    nb::gil_scoped_release release;
    t = calibration_tokens(p.tok(), path, limit);
  }
  const size_t n = t.size();
  return to_numpy(std::move(t), {n});
}

// `llvq compare` on this model: the JSON text of `llvq compare --json`.
std::string compare(const PyModel& p, const CompareOptions& options, const std::string& calib_path, int calib_limit,
                    const std::vector<std::string>& eval_texts, int eval_tokens, const nb::object& progress) {
  if (options.ctx < 2) throw InputError("ctx must be at least 2");
  if (eval_tokens < 0) throw InputError("eval_tokens must be >= 0");
  compare_runs(options);  // a bad configuration fails before any work
  CompareOptions o = options;
  o.on_progress = progress_callback(progress);
  nb::gil_scoped_release release;
  const Tokenizer& tok = p.tok();
  const std::vector<int32_t> calib = calib_path.empty() ? std::vector<int32_t>{} : calibration_tokens(tok, calib_path, calib_limit);
  const std::vector<EvalText> texts = compare_eval_texts(tok, calib_path, eval_texts, eval_tokens);
  const int32_t bos = tok.adds_bos() ? tok.bos_id() : -1;
  return compare_json(compare_configurations(*p.model, calib, texts, bos, o));
}

void set_metadata(PyModel& p, const std::string& key, const std::string& value) { p.model->metadata[key] = value; }

void save(const PyModel& p, const std::string& path, const std::string& dense_type, bool force,
          const std::vector<std::string>& inputs) {
  GgufSaveOptions so;
  so.weight_type = parse_weight_type(dense_type);
  so.overwrite = force;
  check_output(path, {.force = force, .inputs = inputs});
  nb::gil_scoped_release release;
  save_gguf(*p.model, path, so);
}

nb::dict perplexity(const PyModel& p, const AnyArray& tokens, int ctx, const std::string& protocol,
                    const std::string& kl_base, const std::string& kl, bool force, bool verbose,
                    const nb::object& progress) {
  const View<int32_t> v = token_view(p, tokens);
  if (ctx < 2) throw InputError("ctx must be at least 2");
  PerplexityOptions o;
  o.ctx = ctx;
  o.protocol = parse_ppl_protocol(protocol);
  o.bos_id = p.tokenizer && p.tokenizer->adds_bos() ? p.tokenizer->bos_id() : -1;
  o.progress = verbose;
  o.on_progress = progress_callback(progress);
  o.kl_base_out = kl_base;
  o.kl_base_force = force;
  o.kl_reference = kl;
  PerplexityResult r;
  {
    nb::gil_scoped_release release;
    r = evaluate_perplexity(*p.model, std::span<const int32_t>(v.data, v.size()), o);
  }
  nb::dict d;
  d["ppl"] = r.ppl;
  d["ppl_stderr"] = r.ppl_stderr;
  d["nll"] = r.nll;
  d["nll_stderr"] = r.nll_stderr;
  d["tokens"] = r.tokens;
  d["windows"] = r.windows;
  d["protocol"] = to_string(r.protocol);
  d["ctx"] = r.ctx;
  d["seconds"] = r.seconds;
  d["tokens_per_second"] = r.tokens_per_second;
  if (r.kl) {
    d["kl"] = r.kl->mean_kl;
    d["kl_stderr"] = r.kl->kl_stderr;
    d["kl_max"] = r.kl->max_kl;
    d["top1_agreement"] = r.kl->top1_agreement;
  }
  return d;
}

nb::dict generate_tokens(const PyModel& p, const AnyArray& prompt, int max_new_tokens, float temperature,
                         uint64_t seed, const nb::object& on_token) {
  const View<int32_t> v = token_view(p, prompt);
  if (max_new_tokens < 0) throw InputError("max_new_tokens must be >= 0");
  if (!std::isfinite(temperature) || temperature < 0 || temperature > 100)
    throw InputError("temperature must be a number in [0, 100]");
  GenerateOptions o;
  o.max_new_tokens = max_new_tokens;
  o.temperature = temperature;
  o.seed = seed;
  const nb::object* fn = &on_token;
  std::function<void(int32_t)> cb;
  if (!on_token.is_none())
    cb = [fn](int32_t t) {
      nb::gil_scoped_acquire gil;
      (*fn)(t);
    };
  const int32_t eos = p.tokenizer ? p.tokenizer->eos_id() : -1;
  GenerateResult r;
  {
    nb::gil_scoped_release release;
    r = generate(*p.model, std::span<const int32_t>(v.data, v.size()), eos, o, cb);
  }
  nb::dict d;
  const size_t n = r.tokens.size();
  d["tokens"] = to_numpy(std::move(r.tokens), {n});
  d["prompt_tokens"] = r.prompt_tokens;
  d["prefill_seconds"] = r.prefill_seconds;
  d["decode_seconds"] = r.decode_seconds;
  d["stop"] = r.stopped_at_eos ? "eos" : r.stopped_at_context ? "context" : "length";
  return d;
}

std::string chat_text(const PyModel& p, const std::vector<std::pair<std::string, std::string>>& messages) {
  std::vector<ChatMessage> m;
  for (const auto& [role, content] : messages) m.push_back({role, content});
  return render_chat(p.tok().data().chat_template, m, true);
}

// The option structs of quantize, compare and convert, filled field by field by the Python
// layer (python/llvq/models.py), and the checks on them.
void bind_recipe(nb::module_& m) {
  nb::class_<QuantRecipe>(m, "QuantRecipe")
      .def(nb::init<>())
      .def_rw("codec", &QuantRecipe::codec)
      .def_rw("rules", &QuantRecipe::rules)
      .def_rw("rounding", &QuantRecipe::rounding)
      .def_rw("hadamard", &QuantRecipe::hadamard)
      .def_rw("tail", &QuantRecipe::tail)
      .def_rw("damp", &QuantRecipe::damp)
      .def_rw("seed", &QuantRecipe::seed)
      .def_rw("calib_ctx", &QuantRecipe::calib_ctx)
      .def_rw("embedding_codec", &QuantRecipe::embedding_codec)
      .def_rw("calibrated", &QuantRecipe::calibrated);
  m.def("check_recipe", [](const QuantRecipe& r) { resolve_options(r); }, nb::arg("recipe"));
  m.def("codecs_rounded_without_calibration", &codecs_rounded_without_calibration, nb::arg("recipe"));
  nb::class_<CompareOptions>(m, "CompareOptions")
      .def(nb::init<>())
      .def_rw("shared", &CompareOptions::shared)
      .def_rw("codecs", &CompareOptions::codecs)
      .def_rw("roundings", &CompareOptions::roundings)
      .def_rw("recipes", &CompareOptions::recipes)
      .def_rw("ctx", &CompareOptions::ctx);
  m.def("compare_runs", &compare_runs, nb::arg("options"));
  nb::class_<ConvertOptions>(m, "ConvertOptions")
      .def(nb::init<>())
      .def_rw("type", &ConvertOptions::type)
      .def_rw("tokenizer", &ConvertOptions::tokenizer)
      .def_rw("format", &ConvertOptions::format)
      .def_rw("force", &ConvertOptions::force);
}

}  // namespace

void bind_model(nb::module_& m) {
  nb::class_<PyModel>(m, "Model")
      .def_ro("path", &PyModel::path)
      .def_prop_ro("config", &config)
      .def_prop_ro("metadata", [](const PyModel& p) { return p.model->metadata; })
      .def_prop_ro("has_tokenizer", [](const PyModel& p) { return p.tokenizer != nullptr; })
      .def_prop_ro("bos_id", [](const PyModel& p) { return p.tok().bos_id(); })
      .def_prop_ro("eos_id", [](const PyModel& p) { return p.tok().eos_id(); })
      .def_prop_ro("adds_bos", [](const PyModel& p) { return p.tok().adds_bos(); })
      .def("set_metadata", &set_metadata, nb::arg("key"), nb::arg("value"))
      .def("linear_names", &linear_names)
      .def("linear", &linear, nb::arg("name"))
      .def("tokenize", &tokenize, nb::arg("text"), nb::arg("bos"), nb::arg("parse_special"))
      .def("detokenize", &detokenize, nb::arg("tokens"))
      .def("logits", &logits, nb::arg("tokens"))
      .def("quantize", &quantize, nb::arg("calib"), nb::arg("recipe"), nb::arg("calib_name"), nb::arg("verbose"),
           nb::arg("progress").none())
      .def("calibration_tokens", &calib_tokens, nb::arg("path"), nb::arg("limit"))
      .def("compare", &compare, nb::arg("options"), nb::arg("calib"), nb::arg("calib_tokens"), nb::arg("eval_texts"),
           nb::arg("eval_tokens"), nb::arg("progress").none())
      .def("save", &save, nb::arg("path"), nb::arg("dense_type"), nb::arg("force"), nb::arg("inputs"))
      .def("perplexity", &perplexity, nb::arg("tokens"), nb::arg("ctx"), nb::arg("protocol"), nb::arg("kl_base"),
           nb::arg("kl"), nb::arg("force"), nb::arg("verbose"), nb::arg("progress").none())
      .def("generate", &generate_tokens, nb::arg("prompt"), nb::arg("max_new_tokens"), nb::arg("temperature"),
           nb::arg("seed"), nb::arg("on_token").none())
      .def("chat_text", &chat_text, nb::arg("messages"));
  m.def("load_model", &load, nb::arg("path"), nb::arg("tokenizer"));
  bind_recipe(m);
  m.def(
      "inspect",
      [](const std::string& path, size_t max_items) {
        nb::gil_scoped_release release;
        return inspect_json(path, max_items).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      },
      nb::arg("path"), nb::arg("max_items"));
  m.def(
      "convert",
      [](const std::string& input, const std::string& output, const ConvertOptions& options) {
        nb::gil_scoped_release release;
        return convert_model(input, output, options).dump();
      },
      nb::arg("input"), nb::arg("output"), nb::arg("options"));
  m.def(
      "check_output",
      [](const std::string& path, bool force, const std::vector<std::string>& inputs) {
        check_output(path, {.force = force, .inputs = inputs});
      },
      nb::arg("path"), nb::arg("force"), nb::arg("inputs"));
  m.def("canonical_codec_spec", &canonical_codec_spec, nb::arg("spec"));
}

}  // namespace llvq::py

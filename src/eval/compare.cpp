// `llvq compare` as a library function (llvq/compare.hpp).
#include "llvq/compare.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "llvq/codec_container.hpp"
#include "llvq/error.hpp"
#include "llvq/eval.hpp"

namespace llvq {
namespace {

namespace fs = std::filesystem;

std::vector<int32_t> capped(std::vector<int32_t> t, int cap) {
  if (cap > 0 && t.size() > static_cast<size_t>(cap)) t.resize(static_cast<size_t>(cap));
  return t;
}

std::vector<int32_t> text_tokens(const Tokenizer& tok, const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  return tok.encode(std::string(bytes.begin(), bytes.end()), tok.adds_bos(), false);
}

// A temporary file for the fp32 model's log-probabilities, removed with this object.
class KlReferenceFile {
 public:
  KlReferenceFile() {
    const int fd = mkstemp(path_);
    if (fd < 0) throw InputError("compare: cannot create a temporary file for the KL reference");
    close(fd);
  }
  ~KlReferenceFile() { std::remove(path_); }
  KlReferenceFile(const KlReferenceFile&) = delete;
  KlReferenceFile& operator=(const KlReferenceFile&) = delete;
  const char* path() const { return path_; }

 private:
  char path_[32] = "/tmp/llvq-kl-XXXXXX";
};

// Both protocols on every text; on the first text's windows run the fp32 model saves the KL
// reference and a quantized one is compared with it.
CompareScores score(const LlamaModel& m, const std::vector<EvalText>& texts, int ctx, const std::string& kl_file,
                    bool is_base, int32_t bos) {
  CompareScores s;
  for (size_t i = 0; i < texts.size(); ++i)
    for (PplProtocol p : {PplProtocol::Windows, PplProtocol::LlamaCpp}) {
      PerplexityOptions o;
      o.ctx = std::min(ctx, m.config.seq_len);
      o.protocol = p;
      o.bos_id = bos;
      const bool kl_run = i == 0 && p == PplProtocol::Windows;
      if (kl_run) (is_base ? o.kl_base_out : o.kl_reference) = kl_file;
      o.kl_base_force = true;  // compare's own temporary file (mkstemp made it)
      const PerplexityResult r = evaluate_perplexity(m, texts[i].tokens, o);
      (p == PplProtocol::Windows ? s.ppl_windows : s.ppl_llamacpp).push_back(r.ppl);
      if (kl_run && r.kl) {
        s.kl = r.kl->mean_kl;
        s.top1 = r.kl->top1_agreement;
      }
    }
  return s;
}

// The codec column of a run: the canonical spec, or the rules of a recipe row.
std::string run_label(const QuantRecipe& run, const ModelQuantOptions& o) {
  return o.rules.empty() ? canonical_codec_spec(run.codec) : rules_label(o.rules);
}

}  // namespace

std::vector<std::string> split_list(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t end = s.find(sep, start);
    const std::string item = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!item.empty()) out.push_back(item);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

std::vector<QuantRecipe> compare_runs(const CompareOptions& options) {
  std::vector<QuantRecipe> runs;
  auto add = [&](const std::string& codec, const std::string& rounding, const std::vector<std::string>& rules) {
    QuantRecipe r = options.shared;
    r.codec = codec;
    r.rounding = rounding;
    r.rules = rules;
    resolve_options(r);  // validate before the long run
    runs.push_back(std::move(r));
  };
  for (const std::string& spec : options.codecs) {
    // A quantizer that takes no rounding (GLVQ: its learning is its Hessian-aware step) runs
    // once per spec, with the option at its default.
    const auto roundings =
        takes_rounding(spec) ? options.roundings : std::vector<std::string>{to_string(TensorQuantOptions{}.rounding)};
    for (const std::string& r : roundings) add(spec, r, {});
  }
  for (const std::string& recipe : options.recipes)
    for (const std::string& r : options.roundings) add(kKeepCodec, r, split_list(recipe, ' '));
  if (runs.empty()) throw InputError("compare: no codec given");
  return runs;
}

std::vector<EvalText> compare_eval_texts(const Tokenizer& tok, const std::string& calib_path,
                                         const std::vector<std::string>& paths, int max_tokens) {
  std::vector<EvalText> texts;
  if (!calib_path.empty()) {
    const std::vector<int32_t> all = text_tokens(tok, calib_path);
    std::vector<int32_t> held;
    if (tok.adds_bos()) held.push_back(tok.bos_id());
    held.insert(held.end(), all.begin() + static_cast<ptrdiff_t>(all.size() / 2), all.end());
    texts.push_back({fs::path(calib_path).filename().string() + " (2nd half)", capped(std::move(held), max_tokens)});
  }
  for (const std::string& p : paths)
    texts.push_back({fs::path(p).filename().string(), capped(text_tokens(tok, p), max_tokens)});
  if (texts.empty()) throw InputError("compare needs a calibration text or at least one evaluation text");
  return texts;
}

CompareResult compare_configurations(const LlamaModel& model, const std::vector<int32_t>& calib_tokens,
                                     const std::vector<EvalText>& texts, int32_t bos_id, const CompareOptions& options) {
  const std::vector<QuantRecipe> runs = compare_runs(options);
  CompareResult result;
  result.ctx = options.ctx;
  result.calib_tokens = calib_tokens.size();
  for (const EvalText& t : texts) result.eval_texts.emplace_back(t.name, t.tokens.size());
  const KlReferenceFile kl;
  result.base = {"fp32", "-", 32.0, 0, score(model, texts, options.ctx, kl.path(), true, bos_id)};
  for (size_t i = 0; i < runs.size(); ++i) {
    const ModelQuantOptions o = resolve_options(runs[i]);
    const std::string label = run_label(runs[i], o);
    if (options.progress) std::fprintf(stderr, "[%zu/%zu] %s, %s\n", i + 1, runs.size(), label.c_str(), runs[i].rounding.c_str());
    LlamaModel m = model;  // the quantizer replaces this copy's layers, not the base model's
    const ModelQuantReport r = quantize_model(m, calib_tokens, o);
    result.rows.push_back({label, rounding_label(runs[i].codec, o.tensor.rounding), r.bpw, r.seconds,
                           score(m, texts, options.ctx, kl.path(), false, bos_id)});
    if (options.on_progress) options.on_progress("compare", i + 1, runs.size(), label);
  }
  return result;
}

std::string compare_json(const CompareResult& result) {
  nlohmann::json j;
  j["ctx"] = result.ctx;
  j["calib_tokens"] = result.calib_tokens;
  j["eval_sets"] = nlohmann::json::array();
  for (const auto& [name, tokens] : result.eval_texts) j["eval_sets"].push_back({{"name", name}, {"tokens", tokens}});
  const CompareScores& base = result.base.scores;
  auto row_json = [&](const CompareRow& row) {
    const CompareScores& s = row.scores;
    nlohmann::json r{{"codec", row.codec}, {"rounding", row.rounding}, {"bpw", row.bpw},
                     {"seconds", row.seconds}, {"kl", s.kl}, {"top1", s.top1}};
    r["ppl_windows"] = s.ppl_windows;
    r["ppl_llamacpp"] = s.ppl_llamacpp;
    std::vector<double> dw, dl;
    for (size_t k = 0; k < s.ppl_windows.size(); ++k) {
      dw.push_back(s.ppl_windows[k] - base.ppl_windows[k]);
      dl.push_back(s.ppl_llamacpp[k] - base.ppl_llamacpp[k]);
    }
    r["delta_ppl_windows"] = dw;
    r["delta_ppl_llamacpp"] = dl;
    return r;
  };
  j["rows"] = nlohmann::json::array();
  j["rows"].push_back(row_json(result.base));
  for (const CompareRow& row : result.rows) j["rows"].push_back(row_json(row));
  return j.dump(2);
}

}  // namespace llvq

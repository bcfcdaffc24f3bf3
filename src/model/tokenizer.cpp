#include "llvq/tokenizer.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "llvq/error.hpp"
#include "llvq/output_file.hpp"
#include "model/tokenizer_bpe.hpp"
#include "model/tokenizer_utf8.hpp"

namespace llvq {

namespace {

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // U+2581 '▁', SentencePiece's space

// "<0xXX>" -> XX, or -1 when the piece is not a byte token.
int parse_byte_piece(std::string_view piece) {
  if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return -1;
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int hi = hex(piece[3]), lo = hex(piece[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, from.size(), from) == 0) {
      out += to;
      i += from.size();
    } else {
      out += s[i++];
    }
  }
  return out;
}

}  // namespace

Tokenizer::Tokenizer(TokenizerData data) : data_(std::move(data)) {
  check_data();
  gpt2_ = data_.model == "gpt2";
  pre_tokenizer_ = detail::pre_tokenizer_of(data_.pre);
  byte_ids_.fill(-1);
  const bool typed = !data_.token_types.empty();
  for (int32_t id = 0; id < vocab_size(); ++id) {
    const std::string& piece = data_.tokens[id];
    const int32_t type = typed ? data_.token_types[id] : kTokenNormal;
    const int byte = gpt2_ ? -1 : parse_byte_piece(piece);
    // Without types, byte-shaped pieces and the special ids are still not text.
    if (!gpt2_ && byte >= 0 && (type == kTokenByte || !typed)) {
      if (byte_ids_[byte] < 0) byte_ids_[byte] = id;
      continue;
    }
    const bool special = id == data_.bos_id || id == data_.eos_id || id == data_.unk_id;
    if ((type == kTokenNormal && !(special && !typed)) || type == kTokenUserDefined)
      piece_ids_.emplace(piece, id);  // emplace keeps the lowest id of a duplicated piece
  }
  for (int32_t id = 0; typed && id < vocab_size(); ++id) {
    const int32_t type = data_.token_types[id];
    if ((type == kTokenControl || type == kTokenUserDefined || type == kTokenUnknown) && !data_.tokens[id].empty())
      specials_.push_back(id);
  }
  std::stable_sort(specials_.begin(), specials_.end(),
                   [&](int32_t a, int32_t b) { return data_.tokens[a].size() > data_.tokens[b].size(); });
  if (gpt2_) {
    for (size_t rank = 0; rank < data_.merges.size(); ++rank) merge_ranks_.emplace(data_.merges[rank], rank);
    byte_chars_ = detail::gpt2_byte_chars();
    for (int b = 0; b < 256; ++b) char_bytes_[detail::decode_utf8(byte_chars_[b], 0).first] = static_cast<uint8_t>(b);
  }
}

void Tokenizer::check_data() const {
  const int n = vocab_size();
  if (data_.model != "llama" && data_.model != "gpt2")
    throw InputError("tokenizer: unsupported model \"" + data_.model + "\" (supported: llama, gpt2)");
  if (n == 0) throw InputError("tokenizer: empty vocabulary");
  if (!data_.scores.empty() && static_cast<int>(data_.scores.size()) != n)
    throw InputError("tokenizer: " + std::to_string(data_.scores.size()) + " scores for " + std::to_string(n) +
                     " tokens");
  if (!data_.token_types.empty() && static_cast<int>(data_.token_types.size()) != n)
    throw InputError("tokenizer: " + std::to_string(data_.token_types.size()) + " token types for " +
                     std::to_string(n) + " tokens");
  if (data_.model == "llama" && data_.scores.empty())
    throw InputError("tokenizer: a \"llama\" (SentencePiece) tokenizer needs scores");
  for (const auto& [name, id] : {std::pair{"bos", data_.bos_id}, {"eos", data_.eos_id}, {"unk", data_.unk_id}})
    if (id < -1 || id >= n)
      throw InputError(std::string("tokenizer: ") + name + " id " + std::to_string(id) + " outside the vocabulary of " +
                       std::to_string(n));
}

int32_t Tokenizer::unknown_id() const {
  if (data_.unk_id < 0) throw InputError("tokenizer: text holds a character the vocabulary cannot express and there is no unknown token");
  return data_.unk_id;
}

int32_t Tokenizer::find_piece(std::string_view piece) const {
  const auto it = piece_ids_.find(piece);
  return it == piece_ids_.end() ? -1 : it->second;
}

// The text cut at every occurrence of a special token's text, longest tokens first (llama.cpp's
// order). Control and unknown tokens count only with `parse_special`.
std::vector<Tokenizer::Fragment> Tokenizer::split_specials(std::string_view text, bool parse_special) const {
  std::vector<Fragment> parts{{text, -1}};
  for (const int32_t id : specials_) {
    if (!parse_special && data_.token_types[id] != kTokenUserDefined) continue;
    const std::string& piece = data_.tokens[id];
    std::vector<Fragment> next;
    for (const Fragment& f : parts) {
      if (f.special >= 0) {
        next.push_back(f);
        continue;
      }
      size_t from = 0;
      for (size_t at; (at = f.text.find(piece, from)) != std::string_view::npos; from = at + piece.size()) {
        if (at > from) next.push_back({f.text.substr(from, at - from), -1});
        next.push_back({{}, id});
      }
      if (from < f.text.size()) next.push_back({f.text.substr(from), -1});
    }
    parts = std::move(next);
  }
  return parts;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool bos, bool eos, bool parse_special) const {
  std::vector<int32_t> out;
  if (bos) {
    if (data_.bos_id < 0) throw InputError("tokenizer: no BOS token");
    out.push_back(data_.bos_id);
  }
  // SentencePiece text is encoded whole (its dummy prefix belongs to the start of the text)
  // unless special tokens are to be parsed.
  const auto fragments = gpt2_ || parse_special ? split_specials(text, parse_special) : std::vector<Fragment>{{text, -1}};
  for (const Fragment& f : fragments) {
    if (f.special >= 0) {
      out.push_back(f.special);
      continue;
    }
    const std::vector<int32_t> body = gpt2_ ? encode_gpt2(f.text) : encode_llama(f.text);
    out.insert(out.end(), body.begin(), body.end());
  }
  if (eos) {
    if (data_.eos_id < 0) throw InputError("tokenizer: no EOS token");
    out.push_back(data_.eos_id);
  }
  return out;
}

// llama2.c's encode: a dummy-space prefix, one symbol per UTF-8 code point (bytes of code
// points missing from the vocabulary fall back to byte tokens, which never merge), then
// greedy merges of the pair whose union has the highest score. Symbols are grouped on the
// raw text, as llama2.c does (a stray continuation byte joins the character before it,
// even a space); lookups see spaces as SentencePiece's marker.
std::vector<int32_t> Tokenizer::encode_llama(std::string_view text) const {
  if (text.empty()) return {};
  std::string raw(data_.add_space_prefix ? 1 : 0, ' ');
  raw.append(text);
  const std::string_view view(raw);
  std::string key;
  auto lookup = [&](size_t start, size_t len) {
    key.clear();
    for (const char c : view.substr(start, len)) {
      if (c == ' ')
        key.append(kSpaceMarker);
      else
        key.push_back(c);
    }
    return find_piece(key);
  };

  std::vector<detail::BpeSymbol> symbols;
  std::vector<int32_t> fallback_ids(raw.size(), -1);  // byte token of each unmergeable symbol
  for (size_t i = 0; i < raw.size();) {
    const size_t len = detail::utf8_sequence_length(raw, i);
    if (lookup(i, len) >= 0) {
      symbols.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(len), true});
    } else {
      for (size_t b = i; b < i + len; ++b) {
        const int32_t id = byte_ids_[static_cast<uint8_t>(raw[b])];
        fallback_ids[b] = id >= 0 ? id : unknown_id();
        symbols.push_back({static_cast<uint32_t>(b), 1, false});
      }
    }
    i += len;
  }

  const auto merged = detail::bpe_merge(symbols, [&](const detail::BpeSymbol& l, const detail::BpeSymbol& r) {
    const int32_t id = lookup(l.start, l.len + r.len);
    return id < 0 ? std::nullopt : std::optional<double>(data_.scores[id]);
  });

  std::vector<int32_t> ids;
  ids.reserve(merged.size());
  for (const auto& s : merged) ids.push_back(s.mergeable ? lookup(s.start, s.len) : fallback_ids[s.start]);
  return ids;
}

std::string Tokenizer::decode(int32_t token) const {
  if (token < 0 || token >= vocab_size())
    throw InputError("tokenizer: token id " + std::to_string(token) + " outside the vocabulary of " +
                     std::to_string(vocab_size()));
  const std::string& piece = data_.tokens[token];
  const int32_t type = data_.token_types.empty() ? kTokenNormal : data_.token_types[token];
  if (type == kTokenControl || (data_.token_types.empty() && (token == data_.bos_id || token == data_.eos_id)))
    return {};
  if (gpt2_) {
    std::string bytes;
    for (size_t i = 0; i < piece.size();) {
      const auto [cp, len] = detail::decode_utf8(piece, i);
      const auto it = char_bytes_.find(cp);
      if (it != char_bytes_.end())
        bytes += static_cast<char>(it->second);
      else
        bytes.append(piece, i, len);  // not byte-level (a special token's text): as is
      i += len;
    }
    return bytes;
  }
  if (const int byte = parse_byte_piece(piece); byte >= 0) return std::string(1, static_cast<char>(byte));
  return replace_all(piece, kSpaceMarker, " ");
}

std::string Tokenizer::decode(std::span<const int32_t> tokens) const {
  std::string out;
  bool first_text = true;
  for (const int32_t t : tokens) {
    std::string piece = decode(t);
    if (piece.empty()) continue;
    // SentencePiece drops the space its dummy prefix put before the first piece.
    if (first_text && !gpt2_ && data_.add_space_prefix && piece[0] == ' ') piece.erase(0, 1);
    first_text = false;
    out += piece;
  }
  return out;
}

TokenizerData load_llama2c_tokenizer(const std::string& path) {
  check_input_file(path);  // /dev/zero or a FIFO would be read forever
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw InputError("cannot open tokenizer file " + path);
  std::vector<char> bytes;
  char buf[65536];
  for (size_t got; (got = std::fread(buf, 1, sizeof buf, f)) > 0;) bytes.insert(bytes.end(), buf, buf + got);
  std::fclose(f);

  size_t pos = 0;
  auto read = [&](void* dst, size_t n, const char* what) {
    if (bytes.size() - pos < n)
      throw InputError("tokenizer file " + path + " is truncated (reading " + what + " at byte " +
                       std::to_string(pos) + ")");
    std::memcpy(dst, bytes.data() + pos, n);
    pos += n;
  };
  TokenizerData data;
  data.model = "llama";
  data.add_space_prefix = true;  // llama2.c always adds the dummy prefix
  data.bos_id = data.eos_id = data.unk_id = -1;
  uint32_t max_len = 0;
  read(&max_len, 4, "max_token_length");
  if (max_len == 0 || max_len > 4096)
    throw InputError("tokenizer file " + path + ": implausible max_token_length " + std::to_string(max_len) +
                     " (not a llama2.c tokenizer.bin?)");
  data.max_token_length = static_cast<int>(max_len);
  while (pos < bytes.size()) {
    float score = 0;
    int32_t len = 0;
    read(&score, 4, "score");
    read(&len, 4, "token length");
    if (len < 0 || static_cast<uint32_t>(len) > max_len)
      throw InputError("tokenizer file " + path + ": token " + std::to_string(data.tokens.size()) + " has length " +
                       std::to_string(len) + " (max_token_length " + std::to_string(max_len) + ")");
    std::string piece(static_cast<size_t>(len), '\0');
    read(piece.data(), piece.size(), "token bytes");
    const int32_t id = static_cast<int32_t>(data.tokens.size());
    int32_t type = kTokenNormal;
    // llama2.c's exporter writes BOS/EOS as "\n<s>\n" / "\n</s>\n" and spaces as ' '.
    if (piece == "\n<s>\n" || piece == "<s>") {
      piece = "<s>", type = kTokenControl, data.bos_id = id;
    } else if (piece == "\n</s>\n" || piece == "</s>") {
      piece = "</s>", type = kTokenControl, data.eos_id = id;
    } else if (piece == "<unk>") {
      type = kTokenUnknown, data.unk_id = id;
    } else if (parse_byte_piece(piece) >= 0) {
      type = kTokenByte;
    } else {
      piece = replace_all(piece, " ", kSpaceMarker);
    }
    data.tokens.push_back(std::move(piece));
    data.scores.push_back(score);
    data.token_types.push_back(type);
  }
  if (data.tokens.empty()) throw InputError("tokenizer file " + path + " holds no tokens");
  if (data.bos_id < 0 || data.eos_id < 0)
    throw InputError("tokenizer file " + path + " has no BOS/EOS tokens (not a llama2.c tokenizer.bin?)");
  return data;
}

}  // namespace llvq

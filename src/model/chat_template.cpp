// Chat prompts by template family (see llvq/chat.hpp).
#include "llvq/chat.hpp"

#include "llvq/error.hpp"

namespace llvq {
namespace {

constexpr const char* kImStart = "<|im_start|>";
constexpr const char* kImEnd = "<|im_end|>";

std::string render_chatml(const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
  std::string out;
  for (const ChatMessage& m : messages) out += kImStart + m.role + "\n" + m.content + kImEnd + "\n";
  if (add_generation_prompt) out += std::string(kImStart) + "assistant\n";
  return out;
}

// BOS (<|begin_of_text|>) comes from the tokenizer, as for any prompt of the model.
std::string render_llama3(const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
  std::string out;
  for (const ChatMessage& m : messages)
    out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + m.content + "<|eot_id|>";
  if (add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

// [INST] turns; a system message goes inside the first one between <<SYS>> markers.
std::string render_llama2(const std::vector<ChatMessage>& messages) {
  std::string out, system;
  for (const ChatMessage& m : messages) {
    if (m.role == "system") {
      system = "<<SYS>>\n" + m.content + "\n<</SYS>>\n\n";
    } else if (m.role == "user") {
      out += "[INST] " + system + m.content + " [/INST]";
      system.clear();
    } else {
      out += " " + m.content + " </s><s>";
    }
  }
  return out;
}

}  // namespace

ChatFormat detect_chat_format(const std::string& t) {
  if (t.empty()) throw InputError("the model file carries no chat template (tokenizer.chat_template)");
  if (t.find(kImStart) != std::string::npos) return ChatFormat::ChatMl;
  if (t.find("<|start_header_id|>") != std::string::npos) return ChatFormat::Llama3;
  if (t.find("[INST]") != std::string::npos) return ChatFormat::Llama2;
  throw InputError("the model's chat template is not one of the families LLVQ renders (ChatML, Llama 3, Llama 2)");
}

std::string default_system_message(const std::string& t) {
  const std::string open = std::string(kImStart) + "system\n";
  const size_t at = t.find(open);
  if (at == std::string::npos) return "";
  const size_t begin = at + open.size(), end = t.find(kImEnd, begin);
  if (end == std::string::npos) return "";
  const std::string text = t.substr(begin, end - begin);
  // A literal message only: a Jinja expression there is the user's system message, not a default.
  return text.find_first_of("{}'\"+") == std::string::npos ? text : "";
}

std::string render_chat(const std::string& chat_template, std::vector<ChatMessage> messages, bool add_generation_prompt) {
  for (const ChatMessage& m : messages)
    if (m.role != "system" && m.role != "user" && m.role != "assistant")
      throw InputError("chat: role '" + m.role + "' is not system, user or assistant");
  const ChatFormat format = detect_chat_format(chat_template);
  if (format == ChatFormat::ChatMl && (messages.empty() || messages.front().role != "system"))
    if (const std::string sys = default_system_message(chat_template); !sys.empty())
      messages.insert(messages.begin(), {"system", sys});
  switch (format) {
    case ChatFormat::ChatMl: return render_chatml(messages, add_generation_prompt);
    case ChatFormat::Llama3: return render_llama3(messages, add_generation_prompt);
    case ChatFormat::Llama2: return render_llama2(messages);
  }
  return "";
}

}  // namespace llvq

// Chat prompts from the chat template a model file carries (GGUF tokenizer.chat_template).
// The template is Jinja; like llama.cpp, LLVQ does not run Jinja but recognises the template's
// family by its markers and renders that family's format (ChatML, Llama 3, Llama 2).
#pragma once

#include <string>
#include <vector>

namespace llvq {

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

enum class ChatFormat { ChatMl, Llama3, Llama2 };

// The family of `chat_template`; InputError when it is empty or not one of the three.
ChatFormat detect_chat_format(const std::string& chat_template);

// The system message a ChatML template inserts when the conversation has none (SmolLM2's
// "You are a helpful AI assistant named SmolLM, ..."), or "" when it inserts none.
std::string default_system_message(const std::string& chat_template);

// The prompt text for `messages`, ending with the assistant's turn header when
// `add_generation_prompt`. Its special-token texts are meant to be tokenized with
// Tokenizer::encode(..., parse_special = true).
std::string render_chat(const std::string& chat_template, std::vector<ChatMessage> messages, bool add_generation_prompt);

}  // namespace llvq

// The scripted model: a deterministic stand-in for an LLM, for the simulator, the tests and the
// offline demo. It reads the latest user message as a plan — "list the files" asks for `ls`,
// each `backticked command` asks for `bash`, and `tool:NAME {json}` for any tool with that
// input (`tool:view {"file_path":"notes.txt"}`) — requests one tool per turn in that order, then
// answers with what the tools returned — or, offered a response tool, calls it with arguments
// made from its schema. Same conversation, same reply: no clock, no randomness.
#pragma once

#include <string>
#include <vector>

#include "runtime/llm.h"

namespace reliant::agent {

// The tool calls the scripted model makes for `user_text`, in order (name, input).
std::vector<llm::Block> scripted_plan(const std::string& user_text);

// The model's reply to the conversation so far: the next planned tool call, or the final answer.
llm::Response scripted_reply(const llm::Request& request);

// The Llm port over scripted_reply, answering at once; the answer's text streams in a few
// deltas (word groups), as a real model's would.
class ScriptedLlm final : public llm::Llm {
 public:
  Task<Result<llm::Response>> complete(llm::Request request, llm::TextSink on_text) override;
};

}  // namespace reliant::agent

// The simulated provider's faults around the scripted model (sim_llm.h).
#include "sim/sim_llm.h"

#include <algorithm>
#include <string_view>

#include "core/agent/scripted_model.h"
#include "runtime/sleep.h"

namespace reliant::sim {
namespace {

constexpr std::string_view kMadeUp = "malformed_";

bool made_up(const llm::Block& block) {
  return (block.kind == llm::Block::Kind::tool_call ||
          block.kind == llm::Block::Kind::tool_result) &&
         block.tool_call_id.starts_with(kMadeUp);
}

// The conversation without the calls this provider made up, nor their results.
llm::Request without_made_up_calls(const llm::Request& request) {
  llm::Request clean = request;
  clean.earlier = nullptr;
  clean.messages.clear();
  for (const llm::Message* message : request.conversation()) {
    llm::Message kept{message->role, {}};
    std::copy_if(message->content.begin(), message->content.end(), std::back_inserter(kept.content),
                 [](const llm::Block& b) { return !made_up(b); });
    if (!kept.content.empty()) clean.messages.push_back(std::move(kept));
  }
  return clean;
}

}  // namespace

Task<Result<llm::Response>> SimLlm::complete(llm::Request request, llm::TextSink on_text) {
  Random& random = model_.random_;
  const LlmFaults faults = model_.faults_;
  LlmStats& stats = model_.stats_;
  ++stats.calls;
  if (random.chance(faults.error)) {
    ++stats.errors;
    co_await sleep(executor_, random.between(milliseconds(50), seconds(2)));
    co_return fail(ErrorCode::unavailable, "the model is overloaded (simulated 529)");
  }
  Duration delay = Duration::zero();
  if (random.chance(faults.slow)) {
    ++stats.slow;
    delay = random.between(faults.slow_min, faults.slow_max);
  }
  const bool malform = random.chance(faults.malformed);
  const std::uint64_t which = random.next();

  // The scripted model's answer and its deltas (split where it splits them, between words);
  // a slow stream spreads its delay over them.
  std::vector<std::string> deltas;
  agent::ScriptedLlm scripted;
  Task<Result<llm::Response>> answering =
      scripted.complete(without_made_up_calls(request),
                        [&deltas](std::string_view delta) { deltas.emplace_back(delta); });
  Result<llm::Response> answered = co_await answering;
  if (!answered) co_return answered;
  llm::Response response = std::move(*answered);
  const Duration pause = deltas.empty() ? delay : delay / static_cast<long>(deltas.size());
  if (deltas.empty() && delay > Duration::zero()) co_await sleep(executor_, delay);
  for (const auto& delta : deltas) {
    if (pause > Duration::zero()) co_await sleep(executor_, pause);
    if (on_text) on_text(delta);
  }
  const bool calls_tools =
      std::any_of(response.content.begin(), response.content.end(),
                  [](const llm::Block& b) { return b.kind == llm::Block::Kind::tool_call; });
  if (malform && calls_tools) {
    ++stats.malformed;
    llm::Block call;
    call.kind = llm::Block::Kind::tool_call;
    call.tool_call_id = std::string(kMadeUp) + std::to_string(which % 1000000);
    if (which % 2 == 0) {
      call.tool_name = "no_such_tool";  // a tool nobody offered
      call.input = {{"anything", true}};
    } else {
      call.tool_name = "bash";  // an offered tool, with input of the wrong shape
      call.input = {{"command", 42}, {"timeout", "soon"}};
    }
    response.content.push_back(std::move(call));
  }
  co_return response;
}

}  // namespace reliant::sim

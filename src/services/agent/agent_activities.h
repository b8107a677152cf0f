// The agent workflow's activities (core/agent/agent_workflow.h): `llm_turn` asks the model,
// `tool_call` runs one tool on the user's daemon, `chat_finish` records the outcome. Each writes
// its message and its updates in one transaction under an id derived from the run and step, so
// a retried attempt returns what the first one stored — the user sees each step once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/agent/model_catalog.h"
#include "runtime/bus.h"
#include "runtime/llm.h"
#include "runtime/store.h"
#include "services/routing/daemon_router.h"
#include "services/worker/activity.h"

namespace reliant::agent {

// A model the deployment can call, for `model: {tags, providers}`; one without tags serves any.
struct AgentDeps {
  AgentDeps(Store& store, Bus* bus, llm::Llm& llm, routing::DaemonRouter& router,
            std::string default_model = "scripted", std::vector<llm::ToolSpec> tools = {})
      : store(store),
        bus(bus),
        llm(llm),
        router(router),
        default_model(std::move(default_model)),
        tools(std::move(tools)) {}

  Store& store;
  Bus* bus = nullptr;  // announcements and previews; null: none (the store still has them)
  llm::Llm& llm;
  routing::DaemonRouter& router;
  std::string default_model = "scripted";
  std::vector<llm::ToolSpec> tools;  // what the model may call
  // The models nodes choose from (core/agent/model_catalog.h); null: default_model alone, which
  // stands in for any tags and passes any name to the provider.
  std::shared_ptr<const ModelCatalog> catalog;
  std::string queue = "reliant";  // the engine namespace child runs start in
};

// The daemon's built-in tools as the model sees them.
std::vector<llm::ToolSpec> builtin_tool_specs();

// The chat agent's steps and the workflow nodes' activities (node_activities.h).
void register_agent_activities(engine::ActivityRegistry& registry, const AgentDeps& deps);

// The message an activity step writes: "m-<run>-<seq>".
std::string step_message_id(const std::string& run_id, std::int64_t scheduled_seq);

// The message a workflow node's `save_message:` writes, known before it is written, so the
// text a call_llm node streams names the message that will hold it: "m-<run>-n<digest of key>".
// A node runs at most once per loop iteration, and its key names the iteration.
std::string node_message_id(const std::string& run_id, std::string_view node_key);

}  // namespace reliant::agent

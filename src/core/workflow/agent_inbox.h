// A run's inbox: what reaches an agent from the agents around it — the ends of the sub-agents it
// spawned (their summaries) and the messages its parent agent or its sub-agents sent it. All of
// it arrives as history (a spawn's start in the tools node's result, an end as the child's
// kChildEndedSignal, a message as kAgentMessageSignal), so the inbox is a pure function of the
// history: an `inbox` node is answered from it by the engine workflow, at the same point on a
// replay as in the run, and holds no worker while it waits.
//
// An `inbox` node with `wait: false` answers at once with what arrived since the last one; with
// `wait: true` it waits until something arrives, or answers at once, empty, when no sub-agent of
// the run is running (nothing would ever arrive but a message).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/cel/value.h"

namespace reliant::workflow {

// A spawned child run's parent_key: this + the preset it runs, so that its end is told apart
// from a `workflow` node's child (whose key is a node's) and names its preset.
inline constexpr std::string_view kSpawnKeyPrefix = "spawn/";
// A message to an agent from its parent or a sub-agent (spawn_send): payload {from, text}; or
// from its user (POST /api/v1/runs/{id}/message), `from` kFromTheUser.
inline constexpr std::string_view kAgentMessageSignal = "agent_message";
inline constexpr std::string_view kFromTheUser = "user";
// The field of a tools node's output that lists the sub-agents its calls started:
// [{agent_id, preset, title}].
inline constexpr std::string_view kSpawnedField = "spawned";
// The most reports one inbox answer holds (the rest wait for the next) and the most text of one
// report, so that a burst of sub-agents cannot make one message without bound.
inline constexpr std::size_t kInboxReportsMax = 32;
inline constexpr std::size_t kInboxReportBytesMax = 16 * 1024;

// What the history says reached the run.
struct InboxEvent {
  enum class Kind { started, ended, message };
  Kind kind = Kind::started;
  std::string agent_id;  // started, ended: the sub-agent; message: who sent it
  std::string preset;
  std::string title;
  std::string status;  // ended: completed, failed or cancelled
  std::string text;    // ended: the sub-agent's answer or error; message: its text
};

// The sub-agents a tools node's result says it started (kSpawnedField).
std::vector<InboxEvent> spawn_starts(const nlohmann::json& activity_result);
// A kChildEndedSignal's payload as a sub-agent's end, or nullopt when its key is not a spawn's.
std::optional<InboxEvent> spawn_end(const nlohmann::json& payload);
// A kAgentMessageSignal's payload as a message, or nullopt when it is malformed.
std::optional<InboxEvent> agent_message(const nlohmann::json& payload);

// The line a report is shown as to the model: "[researcher] …" for an end (Reliant's form), a
// stop or failure said so, "[message from …] …" for a message.
std::string report_text(const InboxEvent& event);
// Whether a user message is a report as report_text writes it (the scripted model answers
// reports instead of reading them as a plan).
bool is_report_text(std::string_view text);

class AgentInbox {
 public:
  void add(InboxEvent event);
  std::size_t running() const;
  bool has_reports() const { return !reports_.empty(); }
  // An inbox node's answer, taking what it reports: {text, reports: [{kind, agent_id, preset,
  // title, status, text}], running}.
  cel::Value take();

 private:
  std::string title_of(const std::string& agent_id) const;

  std::map<std::string, std::string> started_;  // agent id → title
  std::set<std::string> ended_;
  std::vector<InboxEvent> reports_;  // not yet taken, in arrival order
};

}  // namespace reliant::workflow

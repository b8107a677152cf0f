// A run's inbox (agent_inbox.h): sub-agents' starts, ends and messages, read from the history.
#include "core/workflow/agent_inbox.h"

#include <algorithm>

#include "base/json_parse.h"

namespace reliant::workflow {
namespace {

using Json = nlohmann::json;

// At most `bytes_max` bytes of `text`, cut at a character's start, "…" marking the cut.
std::string bounded(std::string text, std::size_t bytes_max) {
  if (text.size() <= bytes_max) return text;
  std::size_t end = bytes_max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text + "…";
}

// What a finished sub-agent said: its answer (the agent workflow's `answer`, else its
// `response_text`), whatever its outputs are named otherwise.
std::string answer_of(const Json& result) {
  const Json outputs = result.is_object() ? result.value("outputs", Json()) : Json();
  if (!outputs.is_object()) return outputs.is_null() ? "" : outputs.dump();
  for (const char* name : {"answer", "response_text"}) {
    if (auto text = text_field(outputs, name); !text.empty()) return text;
  }
  return outputs.empty() ? "" : outputs.dump();
}

}  // namespace

std::vector<InboxEvent> spawn_starts(const Json& activity_result) {
  std::vector<InboxEvent> starts;
  if (!activity_result.is_object()) return starts;
  const auto spawned = activity_result.find(std::string(kSpawnedField));
  if (spawned == activity_result.end() || !spawned->is_array()) return starts;
  for (const auto& entry : *spawned) {
    if (!entry.is_object()) continue;
    InboxEvent event;
    event.kind = InboxEvent::Kind::started;
    event.agent_id = text_field(entry, "agent_id");
    event.preset = text_field(entry, "preset");
    event.title = text_field(entry, "title");
    if (!event.agent_id.empty()) starts.push_back(std::move(event));
  }
  return starts;
}

std::optional<InboxEvent> spawn_end(const Json& payload) {
  if (!payload.is_object()) return std::nullopt;
  const std::string key = text_field(payload, "key");
  if (!key.starts_with(kSpawnKeyPrefix)) return std::nullopt;
  InboxEvent event;
  event.kind = InboxEvent::Kind::ended;
  event.agent_id = text_field(payload, "run_id");
  event.preset = key.substr(kSpawnKeyPrefix.size());
  event.status = text_field(payload, "status");
  event.text = event.status == "completed" ? answer_of(payload.value("result", Json()))
                                           : text_field(payload, "error");
  if (event.agent_id.empty()) return std::nullopt;
  return event;
}

std::optional<InboxEvent> agent_message(const Json& payload) {
  if (!payload.is_object()) return std::nullopt;
  InboxEvent event;
  event.kind = InboxEvent::Kind::message;
  event.agent_id = text_field(payload, "from");
  event.preset = text_field(payload, "preset");
  event.text = text_field(payload, "text");
  if (event.agent_id.empty()) return std::nullopt;
  return event;
}

std::string report_text(const InboxEvent& event) {
  const std::string who = event.preset.empty() ? "agent" : event.preset;
  const std::string text = bounded(event.text, kInboxReportBytesMax);
  switch (event.kind) {
    case InboxEvent::Kind::message:
      if (event.agent_id == kFromTheUser) return "[message from the user] " + text;
      return "[message from " +
             (event.agent_id == "parent" ? std::string("your parent agent")
                                         : who + " " + event.agent_id) +
             "] " + text;
    case InboxEvent::Kind::ended:
      if (event.status == "completed") {
        return "[" + who + "] " +
               (text.empty() ? std::string("(finished without an answer)") : text);
      }
      if (event.status == "cancelled") {
        return "[" + who + "] agent " + event.agent_id + " was stopped" +
               (text.empty() ? "." : ": " + text);
      }
      return "[" + who + "] agent " + event.agent_id + " failed: " + text;
    case InboxEvent::Kind::started:
      break;
  }
  return "";
}

bool is_report_text(std::string_view text) {
  if (!text.starts_with('[')) return false;
  const auto close = text.find(']');
  return close != std::string_view::npos && close > 1 && close < 120 &&
         text.substr(1, close - 1).find('\n') == std::string_view::npos;
}

void AgentInbox::add(InboxEvent event) {
  switch (event.kind) {
    case InboxEvent::Kind::started:
      started_.emplace(event.agent_id, event.title);
      return;  // a start is nothing to tell: the model made the call itself
    case InboxEvent::Kind::ended:
      // A sub-agent ends once: a second end (a duplicate signal) tells nothing new.
      if (!ended_.insert(event.agent_id).second) return;
      break;
    case InboxEvent::Kind::message:
      break;
  }
  reports_.push_back(std::move(event));
}

std::size_t AgentInbox::running() const {
  // Ends may arrive before their starts (the child ended while its tools node still ran).
  return static_cast<std::size_t>(
      std::count_if(started_.begin(), started_.end(),
                    [&](const auto& entry) { return !ended_.contains(entry.first); }));
}

std::string AgentInbox::title_of(const std::string& agent_id) const {
  const auto found = started_.find(agent_id);
  return found == started_.end() ? std::string() : found->second;
}

cel::Value AgentInbox::take() {
  const std::size_t count = std::min(reports_.size(), kInboxReportsMax);
  Json reports = Json::array();
  std::string text;
  for (std::size_t i = 0; i < count; ++i) {
    const InboxEvent& event = reports_[i];
    const char* kind = event.kind == InboxEvent::Kind::message ? "message" : "ended";
    reports.push_back({{"kind", kind},
                       {"agent_id", event.agent_id},
                       {"preset", event.preset},
                       {"title", title_of(event.agent_id)},
                       {"status", event.status},
                       {"text", bounded(event.text, kInboxReportBytesMax)}});
    text += (i == 0 ? "" : "\n\n") + report_text(event);
  }
  reports_.erase(reports_.begin(), reports_.begin() + static_cast<std::ptrdiff_t>(count));
  return cel::from_json(Json{{"text", std::move(text)},
                             {"reports", std::move(reports)},
                             {"running", static_cast<std::int64_t>(running())}});
}

}  // namespace reliant::workflow

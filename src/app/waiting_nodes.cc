// Waiting nodes for the CLI (waiting_nodes.h).
#include "app/waiting_nodes.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "base/terminal_text.h"

namespace reliant {

using Json = nlohmann::json;

std::string waiting_node_line(const std::string& run_id, const Json& event) {
  const std::string key = event.value("key", "");
  const Json args = event.value("args", Json::object());
  const std::string title = args.value("title", args.value("question", ""));
  const std::string verb = event.value("type", "") == "ask_question" ? "answer " + run_id + " VALUE"
                                                                     : "approve|deny " + run_id;
  return "  waiting " + key + " (" + event.value("type", "") + ")" +
         (title.empty() ? "" : ": " + title) + "\n    → reliant run " + verb + " --node " + key;
}

bool print_new_waiting_nodes(const ApiClient& client, const std::string& run_id,
                             std::set<std::string>& shown, std::int64_t patience_ms) {
  constexpr std::int64_t kPollMs = 100;
  for (std::int64_t waited_ms = 0; waited_ms <= patience_ms; waited_ms += kPollMs) {
    auto page = client.call("GET", "/api/v1/runs/" + run_id + "/events?since_seq=0");
    if (!page) return false;
    bool printed = false;
    for (const auto& event : page->value("events", Json::array())) {
      if (event.value("kind", "") != "node_waiting") continue;
      if (!shown.insert(event.value("key", "")).second) continue;
      std::printf("%s\n", strip_terminal_controls(waiting_node_line(run_id, event)).c_str());
      printed = true;
    }
    if (printed) {
      std::fflush(stdout);
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
  }
  return false;
}

}  // namespace reliant

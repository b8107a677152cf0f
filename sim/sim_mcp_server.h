// SimMcpServer: a scripted MCP server for the simulator's host (SimHost::on_interactive) — it
// speaks newline-delimited JSON-RPC on stdin/stdout like a stdio server, in virtual time, with
// the misbehaviours a client must survive switched on per server: pages of tools, a call that
// never answers, progress, a tool list that changes, malformed lines, a flood of output, a crash
// after so many calls, an unknown protocol version.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/time.h"
#include "sim/sim_host.h"

namespace reliant::sim {

struct SimMcpServerOptions {
  std::string name = "sim-mcp";
  std::string protocol_version = "2025-06-18";  // what it answers with
  // Tools: "echo" (returns its `text`), "add" (a + b), "slow" (answers after `slow_delay`),
  // "hang" (never answers), "progress" (three progress notifications, then done), "fail"
  // (isError), "image" (an image block), plus `extra_tools` more called tool_N.
  std::size_t extra_tools = 0;
  std::size_t page_size = 0;  // tools/list page size; 0: one page
  Duration reply_delay = milliseconds(2);
  Duration slow_delay = seconds(5);
  // Misbehaviour.
  bool malformed_before_each_reply = false;  // a line of garbage before every answer
  std::size_t crash_after_calls = 0;         // exits 1 on this tools/call (0: never)
  std::size_t flood_bytes = 0;               // on a call to "flood": this many bytes, no newline
  bool list_changed_after_first_call = false;  // adds tool "late" and says so
  // Asked at every tools/call: true crashes the server there (exit 1), as crash_after_calls does.
  std::function<bool()> crash_now;
  // Set: the method of every notification the server hears, with its requestId when it has one
  // ("notifications/cancelled 7"), for tests.
  std::shared_ptr<std::vector<std::string>> notifications_heard;
};

class SimMcpServer final : public SimInteractive {
 public:
  explicit SimMcpServer(SimMcpServerOptions options) : options_(std::move(options)) {}

  void on_input(std::string_view data, SimProcessIo& io) override;

  // A factory for SimHost::on_interactive, every start a fresh process with these options.
  static SimInteractiveFactory factory(SimMcpServerOptions options);

 private:
  void handle(const nlohmann::json& message, SimProcessIo& io);
  void reply(SimProcessIo& io, const nlohmann::json& message, Duration after);
  nlohmann::json tools() const;

  SimMcpServerOptions options_;
  std::string partial_;
  std::size_t calls_ = 0;
  bool late_tool_ = false;
};

}  // namespace reliant::sim

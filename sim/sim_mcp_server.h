// SimMcpServer: a scripted MCP server for the simulator's host (SimHost::on_interactive) — it
// speaks newline-delimited JSON-RPC on stdin/stdout like a stdio server, in virtual time, with
// the misbehaviours a client must survive switched on per server: pages of tools, a call that
// never answers, progress, a tool list that changes (once, or in a burst of notifications),
// malformed lines, an answer nested too deep, a large result, a flood of output, a crash after
// so many calls, an unknown protocol version, a handshake never answered.
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
  // (isError), "image" (an image block), plus `extra_tools` more called tool_N. Answered but not
  // listed (so that the list stays what scenarios were pinned with): "big" (`big_bytes` of
  // text), "deep" (structured content nested `deep_levels` deep), "churn" (`list_changed_burst`
  // list_changed notifications, then done).
  std::size_t extra_tools = 0;
  std::size_t page_size = 0;  // tools/list page size; 0: one page
  Duration reply_delay = milliseconds(2);
  Duration slow_delay = seconds(5);
  // Misbehaviour.
  bool malformed_before_each_reply = false;    // a line of garbage before every answer
  std::size_t crash_after_calls = 0;           // exits 1 on this tools/call (0: never)
  std::size_t flood_bytes = 0;                 // on a call to "flood": this many bytes, no newline
  bool list_changed_after_first_call = false;  // adds tool "late" and says so
  bool never_initialize = false;  // initialize is never answered (a server stuck at start)
  std::size_t big_bytes = 1 << 20;
  std::size_t deep_levels = 200;
  std::size_t list_changed_burst = 100;
  // Asked at every tools/call: true crashes the server there (exit 1), as crash_after_calls does.
  std::function<bool()> crash_now;
  // Set: the method of every notification the server hears, with its requestId when it has one
  // ("notifications/cancelled 7"), for tests.
  std::shared_ptr<std::vector<std::string>> notifications_heard;
  // Set: the method of every request the server hears ("tools/list"), for tests.
  std::shared_ptr<std::vector<std::string>> requests_heard;
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

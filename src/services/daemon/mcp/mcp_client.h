// McpClient: the client side of one MCP session (modelcontextprotocol.io, 2025-06-18, also
// speaking 2025-03-26 and 2024-11-05 to older servers): the initialize handshake and version
// negotiation, tools/list across its pages, tools/call with a timeout per call, progress and
// cancellation notifications, tools/list_changed, and the server's own pings. A server that
// sends malformed JSON-RPC is told nothing and counted; a malformed answer that still names its
// call (one nested too deep, say) fails that call at once, and a call that times out says what
// malformed messages came meanwhile.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "base/time.h"
#include "core/mcp/jsonrpc.h"
#include "runtime/executor.h"
#include "runtime/future.h"
#include "runtime/task.h"
#include "services/daemon/mcp/mcp_transport.h"

namespace reliant::mcp {

// The protocol versions this client speaks, newest first.
inline constexpr const char* kProtocolVersions[] = {"2025-06-18", "2025-03-26", "2024-11-05"};

struct McpTool {
  std::string name;
  std::string title;
  std::string description;
  Json input_schema = Json{{"type", "object"}};
  Json annotations;  // readOnlyHint, destructiveHint …, null when absent
};

// A tool call's result as the model reads it: content blocks flattened to text (an image or
// audio block says what it is and how big; a resource gives its text or its address).
struct McpCallResult {
  bool is_error = false;
  std::string text;
  Json content = Json::array();  // the blocks as the server sent them
  Json structured;               // structuredContent, null when absent
};

struct McpServerInfo {
  std::string protocol_version;
  std::string name;
  std::string version;
  Json capabilities = Json::object();
  std::string instructions;
};

struct McpClientOptions {
  Duration initialize_timeout = seconds(30);
  Duration request_timeout = seconds(60);  // tools/list and other requests
  std::size_t list_pages_max = 100;        // a server paging forever is cut off here
  std::string client_name = "reliant";
  std::string client_version = "0.1.0";
  // Set: the client declares the elicitation capability and answers a server's
  // elicitation/create with what this returns ({action, content}); unset, such requests are
  // refused (a daemon has nobody to ask).
  std::function<Json(const Json& params)> on_elicitation;
};

class McpClient {
 public:
  McpClient(Executor& executor, std::unique_ptr<McpTransport> transport,
            McpClientOptions options = {});
  ~McpClient();
  McpClient(const McpClient&) = delete;
  McpClient& operator=(const McpClient&) = delete;

  // Opens the transport and runs the handshake. Fails with `unavailable` when the server
  // cannot be reached or goes away, `failed_precondition` when it speaks no version we know.
  Task<Result<McpServerInfo>> connect();
  Task<Result<std::vector<McpTool>>> list_tools();
  // `on_progress(progress, total, message)` hears the server's progress notifications for this
  // call. On timeout the server is told the call is cancelled.
  using OnProgress = std::function<void(double, std::optional<double>, const std::string&)>;
  Task<Result<McpCallResult>> call_tool(std::string name, Json arguments, Duration timeout,
                                        OnProgress on_progress = nullptr);
  // Ends the session; pending calls fail with `cancelled`.
  void close();

  bool connected() const { return connected_; }
  const McpServerInfo& server() const { return server_; }
  // Called when the server says its tools changed, and when the connection ends (with why).
  void on_tools_changed(std::function<void()> changed) { tools_changed_ = std::move(changed); }
  void on_closed(std::function<void(const Error&)> closed) { closed_ = std::move(closed); }
  std::uint64_t malformed_messages() const { return malformed_; }

 private:
  Task<Result<Json>> call(std::string method, Json params, Duration timeout,
                          std::optional<std::int64_t>* id_out = nullptr);
  void receive(std::string text);
  void transport_closed(const Error& why);
  void fail_pending(const Error& why);

  Executor& executor_;
  std::unique_ptr<McpTransport> transport_;
  McpClientOptions options_;
  McpServerInfo server_;
  bool connected_ = false;
  bool open_ = false;
  std::int64_t next_id_ = 1;
  std::map<std::int64_t, Promise<Result<Json>>> pending_;
  std::map<std::string, OnProgress> progress_;  // by progress token
  std::function<void()> tools_changed_;
  std::function<void(const Error&)> closed_;
  std::uint64_t malformed_ = 0;
  std::string last_malformed_;  // why the last one was refused
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The text a model reads for a call's content blocks.
std::string content_text(const Json& content);

}  // namespace reliant::mcp

// McpTransport: how an MCP client reaches its server — one JSON-RPC message per send, each
// received message handed over whole. StdioTransport runs the server as a process on the Host
// and speaks newline-delimited JSON over its stdin and stdout (MCP's stdio transport).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "runtime/executor.h"
#include "runtime/host.h"
#include "runtime/scope.h"
#include "runtime/task.h"

namespace reliant::mcp {

class McpTransport {
 public:
  using OnMessage = std::function<void(std::string)>;
  using OnClosed = std::function<void(const Error&)>;
  virtual ~McpTransport() = default;
  // Connects; what arrives goes to `on_message`, and the end of the connection (with why, once)
  // to `on_closed`, on the executor — never after the transport is destroyed.
  virtual Result<void> open(OnMessage on_message, OnClosed on_closed) = 0;
  // Fails when the connection has ended or the server is not reading.
  virtual Result<void> send(std::string message) = 0;
  // Ends the connection (the process is killed); on_closed is not called for it.
  virtual void close() = 0;
};

// What every transport keeps: the client's callbacks, whether it is open, and the scope its
// tasks live in. closed() tells the client once, and lets the tasks go on a later turn — never
// from inside the task that noticed the end. A derived transport destroys scope_ first in its
// destructor (its tasks use its own members).
class TransportBase : public McpTransport {
 protected:
  explicit TransportBase(Executor& executor) : executor_(executor) {}
  ~TransportBase() override { *alive_ = false; }
  // open()'s common part: fails when open already, else keeps the callbacks and a fresh scope.
  Result<void> begin(OnMessage on_message, OnClosed on_closed);
  // The connection ended by itself: the client hears why (once).
  void closed(Error why);
  // close()'s common part: the client hears nothing more.
  void forget_client();

  Executor& executor_;
  OnMessage on_message_;
  OnClosed on_closed_;
  bool open_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // false once destroyed
  std::unique_ptr<Scope> scope_;
};

struct StdioServer {
  std::string command;  // run by the shell, as given (arguments quoted by the caller)
  std::map<std::string, std::string> env;
  std::string working_dir;  // empty: the host's
  // Where the server's stderr goes (its log): a file the shell appends to; empty: discarded.
  std::string log_path;
};

class StdioTransport final : public TransportBase {
 public:
  StdioTransport(Executor& executor, Host& host, StdioServer server);
  ~StdioTransport() override;

  Result<void> open(OnMessage on_message, OnClosed on_closed) override;
  Result<void> send(std::string message) override;
  void close() override;

 private:
  Task<void> serve();
  void take_output(std::string_view chunk);
  void ended(Error why);

  Host& host_;
  StdioServer server_;
  std::shared_ptr<ProcessInput> input_;
  std::string partial_;  // a line not yet ended
};

// `words` quoted for /bin/sh, joined by spaces.
std::string shell_command(const std::vector<std::string>& words);

}  // namespace reliant::mcp

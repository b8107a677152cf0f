// The daemon's typed methods: one table, keyed by full gRPC method name
// ("/reliant.api.v1.FileSystemService/ListDirectory"), of handlers that take the method's
// request message and give its response. A DaemonCommand whose `method` is set is answered
// here; the daemon announces the table's names in its Register (protocol 1), so a server
// refuses a call for a method a daemon lacks as `unimplemented` before sending it. Adding an
// operation is one proto rpc and one `add` line beside its handler; `add` checks at start-up
// that the method exists and that the handler's types are its request and response.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "protocol/codec.h"
#include "reliant/daemon/v1/daemon.pb.h"
#include "runtime/task.h"
#include "services/daemon/tools/tool.h"

namespace reliant::daemon {

// The protocol this build's daemon speaks (Register.protocol_version): 1 adds typed calls.
inline constexpr std::uint32_t kDaemonProtocolVersion = 1;

// What a method may reach: the daemon's files, processes and terminals (through the Host, so
// confined to its workspace roots) and its MCP servers (null where it runs none).
struct MethodContext {
  ToolContext& tools;
  mcp::McpServers* mcp = nullptr;
};

class DaemonMethods {
 public:
  // Bytes in, bytes out: a request that does not decode is `invalid_argument`.
  using Handler = std::function<Task<Result<std::string>>(std::string, MethodContext&)>;

  template <class Request, class Response>
  void add(std::string method, Task<Result<Response>> (*handler)(Request, MethodContext&)) {
    check(method, Request::descriptor(), Response::descriptor());
    handlers_.emplace(std::move(method), [handler](std::string bytes, MethodContext& context) {
      return call<Request, Response>(handler, std::move(bytes), context);
    });
  }

  const Handler* find(std::string_view method) const;
  std::vector<std::string> names() const;  // sorted

 private:
  template <class Request, class Response>
  static Task<Result<std::string>> call(Task<Result<Response>> (*handler)(Request, MethodContext&),
                                        std::string bytes, MethodContext& context) {
    Result<Request> request = protocol::decode<Request>(bytes);
    if (!request) co_return fail(request.error());
    Task<Result<Response>> answering = handler(std::move(*request), context);
    Result<Response> response = co_await answering;
    if (!response) co_return fail(response.error());
    co_return protocol::encode(*response);
  }
  // Asserts that `method` is a method of a linked proto with these types, added once.
  void check(const std::string& method, const google::protobuf::Descriptor* request,
             const google::protobuf::Descriptor* response) const;

  std::map<std::string, Handler, std::less<>> handlers_;
};

// Every typed method this daemon answers (built once).
const DaemonMethods& daemon_methods();
// Whether a typed method only reads (its name begins List, Get, Search or Follow): what a
// daemon with the read-only permission profile answers.
bool method_only_reads(std::string_view method);
// A request's wait_ms as a Duration; invalid_argument when negative. A longer wait than an hour
// is an hour (the callee caps it further): in nanoseconds a huge number of milliseconds would
// overflow and wait not at all.
Result<Duration> requested_wait(std::int64_t wait_ms);

// The handlers, by service (file_methods.cc, process_methods.cc, terminal_methods.cc,
// mcp_methods.cc).
void add_file_methods(DaemonMethods& methods);
void add_process_methods(DaemonMethods& methods);
void add_terminal_methods(DaemonMethods& methods);
void add_mcp_methods(DaemonMethods& methods);

// Answers a typed call: `response` when ok, else error_code and error_message.
Task<v1::DaemonCommandResult> answer_daemon_call(v1::DaemonCommand command, MethodContext& context);

}  // namespace reliant::daemon

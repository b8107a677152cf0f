// StdioTransport: an MCP server as a process, newline-delimited JSON both ways.
#include "services/daemon/mcp/mcp_transport.h"

#include <utility>

#include "core/mcp/jsonrpc.h"

namespace reliant::mcp {

std::string shell_command(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& word : words) {
    if (!out.empty()) out += ' ';
    out += '\'';
    for (char c : word) {
      if (c == '\'') {
        out += "'\\''";
      } else {
        out += c;
      }
    }
    out += '\'';
  }
  return out;
}

Result<void> TransportBase::begin(OnMessage on_message, OnClosed on_closed) {
  if (open_) return fail(ErrorCode::failed_precondition, "the transport is already open");
  on_message_ = std::move(on_message);
  on_closed_ = std::move(on_closed);
  open_ = true;
  scope_ = std::make_unique<Scope>(executor_);
  return {};
}

void TransportBase::closed(Error why) {
  if (!open_) return;
  open_ = false;
  OnClosed tell = std::move(on_closed_);
  on_message_ = nullptr;
  // The tasks are ending, or one of them is running this: they go on a later turn.
  executor_.post([this, alive = alive_] {
    if (*alive && !open_) scope_.reset();
  });
  if (tell) tell(why);
}

void TransportBase::forget_client() {
  open_ = false;
  on_closed_ = nullptr;
  on_message_ = nullptr;
}

StdioTransport::StdioTransport(Executor& executor, Host& host, StdioServer server)
    : TransportBase(executor), host_(host), server_(std::move(server)) {}

StdioTransport::~StdioTransport() { close(); }

Result<void> StdioTransport::open(OnMessage on_message, OnClosed on_closed) {
  if (!open_ && server_.command.empty()) {
    return fail(ErrorCode::invalid_argument, "the server has no command");
  }
  if (auto begun = begin(std::move(on_message), std::move(on_closed)); !begun) return begun;
  input_ = std::make_shared<ProcessInput>();
  partial_.clear();
  scope_->spawn(serve());
  return {};
}

Task<void> StdioTransport::serve() {
  ProcessSpec spec;
  // exec: the server is the shell's process itself, so a kill of the group reaches it and its
  // exit is the run's; stderr is its log, never mixed into the messages on stdout.
  spec.command = "exec " + server_.command + " 2>" +
                 (server_.log_path.empty() ? std::string("/dev/null")
                                           : ">" + shell_command({server_.log_path}));
  spec.working_dir = server_.working_dir;
  spec.env = server_.env;
  spec.input = input_;
  spec.collect_output = false;
  spec.separate_stderr = true;
  spec.output_limit_bytes = 64 * 1024;  // of stderr kept in memory, should the shell complain
  spec.on_output = [this](std::string_view chunk) { take_output(chunk); };
  Task<Result<ProcessOutcome>> running = host_.run(std::move(spec));
  Result<ProcessOutcome> outcome = co_await running;
  if (!outcome) {
    ended(Error{outcome.error().code, "cannot start the server: " + outcome.error().message});
  } else {
    std::string why = "the server exited with code " + std::to_string(outcome->exit_code);
    if (!outcome->error_output.empty()) why += ": " + outcome->error_output.substr(0, 512);
    ended(Error{ErrorCode::unavailable, why});
  }
}

void StdioTransport::take_output(std::string_view chunk) {
  if (!open_) return;
  // Lines are messages; a line that never ends is a server gone wrong, bounded here.
  for (;;) {
    const auto end = chunk.find('\n');
    if (end == std::string_view::npos) {
      partial_.append(chunk);
      if (partial_.size() > kMessageBytesMax) {
        ended(
            Error{ErrorCode::resource_exhausted,
                  "the server sent a message over " + std::to_string(kMessageBytesMax) + " bytes"});
      }
      return;
    }
    partial_.append(chunk.substr(0, end));
    chunk.remove_prefix(end + 1);
    std::string line = std::exchange(partial_, std::string());
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && on_message_) on_message_(std::move(line));
    if (!open_) return;  // the message closed us
  }
}

Result<void> StdioTransport::send(std::string message) {
  if (!open_ || !input_) return fail(ErrorCode::unavailable, "the server is not connected");
  message += '\n';
  return input_->write(std::move(message));
}

void StdioTransport::ended(Error why) {
  if (!open_) return;
  if (input_) input_->end();
  closed(std::move(why));  // the kill (the scope) goes on a later turn
}

void StdioTransport::close() {
  if (open_ && input_) input_->end();
  forget_client();
  scope_.reset();  // kills the process
}

}  // namespace reliant::mcp

// Tool execution with timeouts, cancellation and at-most-once answers.
#include "services/daemon/tool_runner.h"

#include "base/assert.h"
#include "base/base64url.h"
#include "base/json_parse.h"
#include "base/utf8.h"
#include "services/daemon/command_answers.h"
#include "services/daemon/daemon_methods.h"
#include "services/daemon/mcp/mcp_servers.h"
#include "services/daemon/tools/background_processes.h"

namespace reliant::daemon {

// One request in progress: its task lives in its own Scope, so cancelling it (a cancel or the
// timeout) is destroying that Scope — which kills a running process.
struct ToolRunner::Running {
  explicit Running(Executor& executor) : scope(executor) {}
  Scope scope;                              // destroyed with the entry: stops the tool
  const std::string* request_id = nullptr;  // the entry's key in running_
  Duration timeout_after{};
  TimerId timeout = 0;
};

v1::ToolResponse error_response(const std::string& request_id, std::string_view code,
                                std::string message) {
  v1::ToolResponse response;
  response.set_request_id(request_id);
  response.set_success(false);
  response.set_is_error(true);
  response.set_error_code(std::string(code));
  response.set_content(message);
  response.set_error_message(std::move(message));
  return response;
}

namespace {

// reload_config: the MCP configuration read again (changed servers restart, unchanged ones keep
// running); the servers' statuses after.
v1::DaemonCommandResult reload_config(const v1::DaemonCommand& command, mcp::McpServers* servers) {
  v1::DaemonCommandResult result;
  result.set_command_id(command.command_id());
  const Result<void> reloaded =
      servers == nullptr
          ? Result<void>(fail(ErrorCode::failed_precondition, "this daemon runs no MCP servers"))
          : servers->reload();
  result.set_ok(reloaded.has_value());
  if (!reloaded) result.set_error_message(reloaded.error().message);
  Json listed = Json::array();
  if (servers != nullptr) {
    for (const auto& view : servers->list()) {
      listed.push_back({{"name", view.name},
                        {"status", std::string(mcp::to_string(view.status))},
                        {"error", view.error}});
    }
  }
  result.set_output_json(listed.dump(-1, ' ', false, Json::error_handler_t::replace));
  return result;
}

}  // namespace

Task<v1::DaemonCommandResult> answer_daemon_command(v1::DaemonCommand command,
                                                    const ToolRunner& runner, Json identity) {
  if (!command.method().empty()) {
    MethodContext context{runner.context(), runner.tools().mcp()};
    Task<v1::DaemonCommandResult> calling = answer_daemon_call(std::move(command), context);
    co_return co_await calling;
  }
  v1::DaemonCommandResult result;
  result.set_command_id(command.command_id());
  if (command.command() == "status") {
    identity["running_tools"] = runner.running();
    identity["cached_results"] = runner.cached();
    identity["tools"] = runner.tools().names();
    result.set_ok(true);
    result.set_output_json(identity.dump());
  } else if (command.command() == "list_tools") {
    result.set_ok(true);
    result.set_output_json(Json(runner.tools().names()).dump());
  } else if (command.command() == "tool_specs") {
    Json specs = Json::array();
    if (mcp::McpServers* servers = runner.tools().mcp()) {
      Task<std::vector<mcp::ExposedTool>> listing = servers->tools();
      for (const auto& tool : co_await listing) {
        specs.push_back({{"name", tool.name},
                         {"description", tool.description},
                         {"input_schema", tool.input_schema},
                         {"tags", tool.tags},
                         {"read_only", tool.read_only}});
      }
      // Servers still starting are named, so that the answer is not kept as if whole (an older
      // worker skips these entries: they have no name).
      for (const auto& name : servers->starting()) specs.push_back({{"starting", name}});
    }
    result.set_ok(true);
    result.set_output_json(specs.dump(-1, ' ', false, Json::error_handler_t::replace));
  } else if (command.command() == "reload_config") {
    result = reload_config(command, runner.tools().mcp());
  } else {
    result.set_ok(false);
    result.set_error_message(
        "unknown daemon command \"" + command.command() +
        "\" (known: status, list_tools, tool_specs, reload_config; the daemon's services are "
        "typed calls)");
  }
  co_return result;
}

namespace {

// A running tool's output on its way to clients: how much went, and an incomplete UTF-8 sequence
// at the end of the last piece, which waits for the next (a chunk is a protobuf string).
struct StreamedOutput {
  std::uint64_t offset = 0;
  std::string carry;
  const std::string* request_id = nullptr;  // whose output it is
};

// `piece` after what `stream` carried, as whole valid characters: a sequence cut short at the end
// is carried over, a byte that cannot start one becomes U+FFFD.
std::string whole_characters(StreamedOutput& stream, std::string_view piece) {
  std::string text = std::move(stream.carry);
  text.append(piece);
  stream.carry.clear();
  std::string out;
  out.reserve(text.size());
  for (std::size_t at = 0; at < text.size();) {
    std::uint32_t code_point = 0;
    const int length = decode_utf8(text, at, code_point);
    if (length > 0) {
      out.append(text, at, static_cast<std::size_t>(length));
      at += static_cast<std::size_t>(length);
      continue;
    }
    const auto lead = static_cast<unsigned char>(text[at]);
    const std::size_t needed = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    if (lead >= 0xC2 && lead <= 0xF4 && text.size() - at < needed) {
      stream.carry = text.substr(at);  // the rest of it is in the next piece
      break;
    }
    append_utf8(0xFFFD, out);
    ++at;
  }
  return out;
}

// `text` cut back to its last whole character (after a cut at a byte count).
std::string whole_characters_only(std::string text) {
  StreamedOutput ignored;
  return whole_characters(ignored, text);
}

}  // namespace

ToolRunner::ToolRunner(Executor& executor, ToolSet& tools, ToolContext& context,
                       RequestJournal& journal, std::size_t cache_entries, Duration default_timeout,
                       Answer answer, Started started)
    : executor_(executor),
      tools_(tools),
      context_(context),
      journal_(journal),
      default_timeout_(default_timeout),
      answer_(std::move(answer)),
      started_(std::move(started)),
      cache_(cache_entries) {}

ToolRunner::~ToolRunner() {
  for (auto& [id, running] : running_) executor_.cancel(running->timeout);
  running_.clear();
  finished_.clear();
}

void ToolRunner::set_identity(std::string daemon_id, std::string user_id) {
  daemon_id_ = std::move(daemon_id);
  user_id_ = std::move(user_id);
}

void ToolRunner::start(v1::ToolRequest request) {
  finished_.clear();
  if (const auto* done = cache_.find(request.request_id()); done != nullptr) {
    answer_(*done);  // a redelivery: the first result, never a second run
    return;
  }
  if (running_.count(request.request_id()) != 0) return;  // its result is on the way
  if (journal_.contains(request.request_id())) {
    // Started by an earlier run of this daemon, which died before answering: it may have run.
    v1::ToolResponse lost = error_response(
        request.request_id(), "daemon_lost",
        "an earlier run of this daemon started this request and stopped before answering; it "
        "may or may not have run");
    lost.set_daemon_id(daemon_id_);
    lost.set_user_id(user_id_);
    cache_.put(lost.request_id(), lost);
    answer_(lost);
    return;
  }
  journal_.add(request.request_id());
  auto [at, added] = running_.emplace(request.request_id(), std::make_unique<Running>(executor_));
  RELIANT_ASSERT(added);
  Running& running = *at->second;
  running.request_id = &at->first;
  running.timeout_after =
      request.timeout_ms() > 0 ? milliseconds(request.timeout_ms()) : default_timeout_;
  // The entry is where it was until finish() cancels this timer: two pointers, which
  // std::function keeps without an allocation.
  running.timeout = executor_.after(running.timeout_after, [this, entry = &running] {
    finish(*entry->request_id,
           error_response(*entry->request_id, tool_error::timeout,
                          "the tool did not finish within " +
                              std::to_string(to_ms(entry->timeout_after)) + " ms and was stopped"),
           true);
  });
  if (started_) started_(request);
  running.scope.spawn(run(std::move(request)));
}

bool ToolRunner::cancel(const std::string& request_id, const std::string& reason) {
  if (running_.count(request_id) == 0) return false;
  finish(request_id,
         error_response(request_id, tool_error::cancelled,
                        "cancelled" + (reason.empty() ? std::string() : ": " + reason)),
         true);
  return true;
}

std::size_t ToolRunner::cancel_all(const std::string& reason) {
  std::vector<std::string> ids;
  ids.reserve(running_.size());
  for (const auto& [id, run] : running_) ids.push_back(id);
  for (const auto& id : ids) (void)cancel(id, reason);
  return ids.size();
}

Task<void> ToolRunner::run(v1::ToolRequest request) {
  // The request's own context: the shared one, plus where its output goes while it runs. What
  // the listener needs lives in this frame, which outlives the tool's task (destroyed first, it
  // kills a running process): the callback holds two pointers, which std::function keeps
  // without an allocation, as most tools print nothing.
  const std::string& id = request.request_id();
  StreamedOutput stream;
  stream.request_id = &id;
  ToolContext context = context_;
  if (output_) {
    context.on_output = [this, watched = &stream](std::string_view piece) {
      if (watched->offset >= kStreamedBytesMax || !running_.contains(*watched->request_id)) return;
      std::string text = whole_characters(*watched, piece);
      if (text.empty()) return;
      if (text.size() > kStreamedBytesMax - watched->offset) {
        text.resize(kStreamedBytesMax - watched->offset);
        text = whole_characters_only(text);
      }
      v1::OutputChunk chunk;
      chunk.set_request_id(*watched->request_id);
      chunk.set_offset(watched->offset);
      watched->offset += text.size();
      chunk.set_data(std::move(text));
      output_(chunk);
    };
  }
  // The name and the input are the tool's from here: the request keeps its id.
  Task<ToolResult> execution = tools_.execute(context, std::move(*request.mutable_tool_name()),
                                              std::move(*request.mutable_input_json()));
  ToolResult result = co_await execution;
  v1::ToolResponse response;
  response.set_request_id(id);
  response.set_success(!result.is_error);
  response.set_is_error(result.is_error);
  response.set_content(std::move(result.content));
  // Most tools say nothing more: nlohmann's serializer would allocate and fill its 512-byte
  // indentation buffer to write "{}".
  const bool no_metadata = result.metadata.is_object() && result.metadata.empty();
  response.set_metadata_json(no_metadata ? std::string("{}") : result.metadata.dump());
  response.set_error_code(result.error_code);
  if (result.is_error) response.set_error_message(response.content());
  finish(id, std::move(response), false);
}

void ToolRunner::finish(const std::string& request_id, v1::ToolResponse response, bool stop_now) {
  auto it = running_.find(request_id);
  if (it == running_.end()) return;  // already finished (timeout, cancel or result)
  // The entry's key becomes the cache's: `request_id` may be that key, unused from here.
  auto entry = running_.extract(it);
  std::string id = std::move(entry.key());
  std::unique_ptr<Running> running = std::move(entry.mapped());
  executor_.cancel(running->timeout);
  response.set_daemon_id(daemon_id_);
  response.set_user_id(user_id_);
  // Sent, then kept for a redelivery: the answer only reads it (it is encoded as it is sent), so
  // the cache takes it without a copy of its content.
  answer_(response);
  cache_.put(std::move(id), std::move(response));
  // A tool that returned is the caller here: its Scope cannot die under it, so it waits in
  // finished_ for the next start. A timeout or a cancel frees it now, which stops the tool.
  if (!stop_now) finished_.push_back(std::move(running));
}

}  // namespace reliant::daemon

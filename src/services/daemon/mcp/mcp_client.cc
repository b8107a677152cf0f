// McpClient: requests matched to responses by id, each bounded in time (see the header).
#include "services/daemon/mcp/mcp_client.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "base/json_parse.h"

namespace reliant::mcp {

namespace {

// The decoded size of base64 text, for the model: "8 bytes", "12.3 KB".
std::string size_text(std::string_view base64) {
  std::size_t padding = 0;
  while (padding < 2 && padding < base64.size() && base64[base64.size() - 1 - padding] == '=') {
    ++padding;
  }
  const double bytes = static_cast<double>(base64.size() / 4 * 3) - static_cast<double>(padding);
  char out[32];
  if (bytes < 1024) {
    std::snprintf(out, sizeof out, "%.0f bytes", bytes);
  } else {
    std::snprintf(out, sizeof out, "%.1f KB", bytes / 1024);
  }
  return out;
}

}  // namespace

std::string content_text(const Json& content) {
  if (!content.is_array()) return "";
  std::string out;
  for (const auto& block : content) {
    if (!block.is_object()) continue;
    const std::string type = text_field(block, "type");
    std::string piece;
    if (type == "text") {
      piece = text_field(block, "text");
    } else if (type == "image" || type == "audio") {
      const Json data = block.value("data", Json(""));
      piece = "[" + type + " " + text_field(block, "mimeType") + ", " +
              size_text(data.is_string() ? data.get_ref<const std::string&>() : "") + "]";
    } else if (type == "resource") {
      const Json resource = block.value("resource", Json::object());
      if (resource.is_object() && resource.contains("text") && resource["text"].is_string()) {
        piece = resource["text"].get<std::string>();
      } else if (resource.is_object()) {
        piece = "[resource " + text_field(resource, "uri") + "]";
      }
    } else if (type == "resource_link") {
      piece = "[resource link " + text_field(block, "uri") + "]";
    } else {
      piece = "[" + type + " content]";
    }
    if (!out.empty() && !piece.empty()) out += '\n';
    out += piece;
  }
  return out;
}

McpClient::McpClient(Executor& executor, std::unique_ptr<McpTransport> transport,
                     McpClientOptions options)
    : executor_(executor), transport_(std::move(transport)), options_(std::move(options)) {
  RELIANT_ASSERT(transport_ != nullptr);
}

McpClient::~McpClient() {
  *alive_ = false;
  close();
}

Task<Result<McpServerInfo>> McpClient::connect() {
  if (open_) co_return fail(ErrorCode::failed_precondition, "already connected");
  auto opened = transport_->open(
      [this, alive = alive_](std::string text) {
        if (*alive) receive(std::move(text));
      },
      [this, alive = alive_](const Error& why) {
        if (*alive) transport_closed(why);
      });
  if (!opened) co_return fail(opened.error());
  open_ = true;
  Json ours = Json::object();
  if (options_.on_elicitation) ours["elicitation"] = Json::object();
  Json params{
      {"protocolVersion", kProtocolVersions[0]},
      {"capabilities", ours},
      {"clientInfo", {{"name", options_.client_name}, {"version", options_.client_version}}}};
  Task<Result<Json>> initializing =
      call("initialize", std::move(params), options_.initialize_timeout);
  const std::shared_ptr<bool> alive = alive_;
  Result<Json> answer = co_await initializing;
  if (!*alive) co_return fail(ErrorCode::cancelled, "the client was closed");
  if (!answer) {
    close();
    co_return fail(answer.error().code, "initialize: " + answer.error().message);
  }
  if (!answer->is_object()) {
    close();
    co_return fail(ErrorCode::failed_precondition, "initialize: the result is not an object");
  }
  const std::string version = text_field(*answer, "protocolVersion");
  const bool known = std::any_of(std::begin(kProtocolVersions), std::end(kProtocolVersions),
                                 [&](const char* v) { return version == v; });
  if (!known) {
    close();
    co_return fail(ErrorCode::failed_precondition,
                   "the server speaks MCP " + (version.empty() ? "(no version)" : version) +
                       "; this client speaks 2025-06-18, 2025-03-26 and 2024-11-05");
  }
  server_.protocol_version = version;
  const Json info = answer->value("serverInfo", Json::object());
  if (info.is_object()) {
    server_.name = text_field(info, "name");
    server_.version = text_field(info, "version");
  }
  const Json capabilities = answer->value("capabilities", Json::object());
  server_.capabilities = capabilities.is_object() ? capabilities : Json::object();
  const Json instructions = answer->value("instructions", Json());
  server_.instructions = instructions.is_string() ? instructions.get<std::string>() : "";
  if (auto sent = transport_->send(notification("notifications/initialized", Json())); !sent) {
    close();
    co_return fail(ErrorCode::unavailable, "initialized: " + sent.error().message);
  }
  connected_ = true;
  co_return server_;
}

Task<Result<std::vector<McpTool>>> McpClient::list_tools() {
  std::vector<McpTool> tools;
  std::optional<std::string> cursor;
  const std::shared_ptr<bool> alive = alive_;
  for (std::size_t page = 0; page < options_.list_pages_max; ++page) {
    Json params = cursor ? Json{{"cursor", *cursor}} : Json::object();
    Task<Result<Json>> listing = call("tools/list", std::move(params), options_.request_timeout);
    Result<Json> answer = co_await listing;
    if (!*alive) co_return fail(ErrorCode::cancelled, "the client was closed");
    if (!answer) co_return fail(answer.error().code, "tools/list: " + answer.error().message);
    const Json list = answer->is_object() ? answer->value("tools", Json()) : Json();
    if (!list.is_array()) co_return fail(ErrorCode::internal, "tools/list: no list of tools");
    for (const auto& entry : list) {
      if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string()) {
        co_return fail(ErrorCode::internal, "tools/list: a tool without a name");
      }
      McpTool tool;
      tool.name = entry["name"].get<std::string>();
      const Json title = entry.value("title", Json());
      tool.title = title.is_string() ? title.get<std::string>() : "";
      const Json description = entry.value("description", Json());
      tool.description = description.is_string() ? description.get<std::string>() : "";
      const Json schema = entry.value("inputSchema", Json());
      if (schema.is_object()) tool.input_schema = schema;
      tool.annotations = entry.value("annotations", Json());
      tools.push_back(std::move(tool));
    }
    const Json next = answer->value("nextCursor", Json());
    if (!next.is_string() || next.get<std::string>().empty()) co_return tools;
    cursor = next.get<std::string>();
  }
  co_return fail(ErrorCode::resource_exhausted,
                 "tools/list: more than " + std::to_string(options_.list_pages_max) + " pages");
}

Task<Result<McpCallResult>> McpClient::call_tool(std::string name, Json arguments, Duration timeout,
                                                 OnProgress on_progress) {
  if (!connected_) co_return fail(ErrorCode::unavailable, "the server is not connected");
  Json params{{"name", name}, {"arguments", arguments.is_object() ? arguments : Json::object()}};
  std::string token;
  if (on_progress) {
    token = "p" + std::to_string(next_id_);
    params["_meta"] = {{"progressToken", token}};
    progress_[token] = std::move(on_progress);
  }
  // The progress handler goes with the call, however it ends.
  struct ForgetProgress {
    McpClient* client;
    std::string token;
    std::shared_ptr<bool> alive;
    ~ForgetProgress() {
      if (*alive && !token.empty()) client->progress_.erase(token);
    }
  } forget{this, token, alive_};
  Task<Result<Json>> calling = call("tools/call", std::move(params), timeout);
  const std::shared_ptr<bool> alive = alive_;
  Result<Json> answer = co_await calling;
  if (!*alive) co_return fail(ErrorCode::cancelled, "the client was closed");
  if (!answer) co_return fail(answer.error().code, name + ": " + answer.error().message);
  if (!answer->is_object())
    co_return fail(ErrorCode::internal, name + ": the result is not an object");
  McpCallResult out;
  const Json is_error = answer->value("isError", Json(false));
  out.is_error = is_error.is_boolean() && is_error.get<bool>();
  out.content = answer->value("content", Json::array());
  out.structured = answer->value("structuredContent", Json());
  out.text = content_text(out.content);
  if (out.text.empty() && !out.structured.is_null()) out.text = out.structured.dump();
  co_return out;
}

Task<Result<Json>> McpClient::call(std::string method, Json params, Duration timeout,
                                   std::optional<std::int64_t>* id_out) {
  if (!open_) co_return fail(ErrorCode::unavailable, "the server is not connected");
  const std::int64_t id = next_id_++;
  if (id_out != nullptr) *id_out = id;
  auto [promise, future] = make_promise<Result<Json>>(executor_);
  pending_.emplace(id, promise);
  if (auto sent = transport_->send(request(RequestId(id), method, params)); !sent) {
    pending_.erase(id);
    co_return fail(sent.error().code == ErrorCode::resource_exhausted ? sent.error().code
                                                                      : ErrorCode::unavailable,
                   sent.error().message);
  }
  ScopedTimer deadline(executor_, executor_.after(timeout, [promise = promise, timeout] {
    promise.set(
        fail(ErrorCode::timeout, "no answer within " + std::to_string(to_ms(timeout)) + " ms"));
  }));
  // Destroyed before its answer (the caller gave up: a tool call cancelled by the user, its
  // run's node, or the daemon going away): the server is told to stop, and the call forgotten.
  struct Abandon {
    McpClient* client;
    std::int64_t id;
    std::shared_ptr<bool> alive;
    bool answered = false;
    ~Abandon() {
      if (answered || !*alive) return;
      if (client->pending_.erase(id) > 0 && client->open_) {
        (void)client->transport_->send(notification(
            "notifications/cancelled", Json{{"requestId", id}, {"reason", "cancelled"}}));
      }
    }
  } abandon{this, id, alive_};
  const std::shared_ptr<bool> alive = alive_;
  const std::uint64_t malformed_before = malformed_;
  Result<Json> answer = co_await future;
  abandon.answered = true;
  if (!*alive) co_return answer;  // the client is gone (its close failed this call)
  if (pending_.erase(id) > 0 && !answer && answer.error().code == ErrorCode::timeout && open_) {
    // The server may still be working on it: tell it to stop (it may ignore us).
    (void)transport_->send(
        notification("notifications/cancelled", Json{{"requestId", id}, {"reason", "timed out"}}));
  }
  if (!answer && answer.error().code == ErrorCode::timeout && malformed_ > malformed_before) {
    // Perhaps the answer was among them, too broken to say which call it was for.
    const std::uint64_t count = malformed_ - malformed_before;
    co_return fail(ErrorCode::timeout,
                   answer.error().message + " (meanwhile the server sent " + std::to_string(count) +
                       (count == 1 ? " message that is" : " messages that are") +
                       " not valid JSON-RPC; the last: " + last_malformed_ + ")");
  }
  co_return answer;
}

void McpClient::receive(std::string text) {
  auto message = parse_message(text);
  if (!message) {
    ++malformed_;
    last_malformed_ = message.error().message;
    // An answer too deep (or too broken) to read may still say which call it answers: that call
    // fails now with what is wrong, instead of waiting out its timeout as if nothing had come.
    const auto answered = response_id_of_malformed(text);
    const auto* id = answered ? std::get_if<std::int64_t>(&*answered) : nullptr;
    if (id == nullptr) return;
    auto found = pending_.find(*id);
    if (found == pending_.end()) return;
    Promise<Result<Json>> promise = found->second;
    pending_.erase(found);
    promise.set(
        fail(ErrorCode::invalid_argument,
             "the server's answer is not a valid JSON-RPC message (" + last_malformed_ + ")"));
    return;
  }
  switch (message->kind) {
    case Message::Kind::result:
    case Message::Kind::error: {
      const auto* id = message->id ? std::get_if<std::int64_t>(&*message->id) : nullptr;
      if (id == nullptr) {
        ++malformed_;  // we send integer ids only
        return;
      }
      auto found = pending_.find(*id);
      if (found == pending_.end()) return;  // late (timed out or cancelled): dropped
      Promise<Result<Json>> promise = found->second;
      pending_.erase(found);
      if (message->kind == Message::Kind::result) {
        promise.set(std::move(message->result));
      } else {
        promise.set(fail(ErrorCode::failed_precondition, "the server answered error " +
                                                             std::to_string(message->error.code) +
                                                             ": " + message->error.message));
      }
      return;
    }
    case Message::Kind::notification:
      if (message->method == "notifications/tools/list_changed") {
        if (tools_changed_) tools_changed_();
      } else if (message->method == "notifications/progress" && message->params.is_object()) {
        const Json token = message->params.value("progressToken", Json());
        const Json progress = message->params.value("progress", Json());
        if (!token.is_string() || !progress.is_number()) return;
        auto found = progress_.find(token.get<std::string>());
        if (found == progress_.end()) return;
        const Json total = message->params.value("total", Json());
        const Json note = message->params.value("message", Json());
        found->second(progress.get<double>(),
                      total.is_number() ? std::optional<double>(total.get<double>()) : std::nullopt,
                      note.is_string() ? note.get<std::string>() : "");
      }
      return;  // other notifications (logging, resources …) are not used here
    case Message::Kind::request:
      if (message->method == "ping") {
        (void)transport_->send(result(*message->id, Json::object()));
      } else if (message->method == "elicitation/create" && options_.on_elicitation) {
        (void)transport_->send(result(*message->id, options_.on_elicitation(message->params)));
      } else {
        // Sampling and roots are capabilities this client does not declare (elicitation only with
        // a handler).
        (void)transport_->send(error_response(message->id, rpc_error::method_not_found,
                                              "method not supported: " + message->method));
      }
      return;
  }
}

void McpClient::transport_closed(const Error& why) {
  open_ = false;
  connected_ = false;
  fail_pending(Error{ErrorCode::unavailable, why.message});
  if (closed_) closed_(why);
}

void McpClient::fail_pending(const Error& why) {
  auto pending = std::exchange(pending_, {});
  for (auto& [id, promise] : pending) promise.set(fail(why));
  progress_.clear();
}

void McpClient::close() {
  if (!open_) return;
  open_ = false;
  connected_ = false;
  transport_->close();
  fail_pending(Error{ErrorCode::cancelled, "the session was closed"});
}

}  // namespace reliant::mcp

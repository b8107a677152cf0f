// The MCP HTTP transports (mcp_http_transport.h): requests through the HttpClient port, bodies
// read as JSON or as event streams, and what arrives handed to the client on a later turn of
// the executor — never from inside the HTTP exchange that read it, so the client may close the
// transport (and end that exchange) from its handler.
#include "services/daemon/mcp/mcp_http_transport.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "base/json_parse.h"
#include "core/mcp/jsonrpc.h"
#include "core/sse.h"
#include "runtime/sleep.h"

namespace reliant::mcp {
namespace {

constexpr Duration kRetryDefault = seconds(1);  // when the server names no `retry`
constexpr Duration kRetryMax = seconds(30);

std::string lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

std::string header(const HttpClientHead& head, const std::string& name) {
  const auto it = head.headers.find(name);
  return it == head.headers.end() ? std::string() : it->second;
}

bool is_event_stream(const HttpClientHead& head) {
  return lower(header(head, "content-type")).rfind("text/event-stream", 0) == 0;
}

// The id of `message` when it is a request (it then owes an answer).
std::optional<RequestId> request_id_of(const std::string& message) {
  auto parsed = parse_message(message);
  if (!parsed || parsed->kind != Message::Kind::request) return std::nullopt;
  return parsed->id;
}

bool answers(const std::string& message, const std::optional<RequestId>& id) {
  if (!id) return false;
  auto parsed = parse_message(message);
  return parsed &&
         (parsed->kind == Message::Kind::result || parsed->kind == Message::Kind::error) &&
         parsed->id == id;
}

std::string excerpt(std::string_view text) {
  std::string out(text.substr(0, 200));
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

// The messages of a JSON body: one object, or an array of them (a batch from an older server).
std::vector<std::string> messages_in(const std::string& body) {
  std::vector<std::string> out;
  const Json json = parse_json_or_discarded(body, kJsonDepthMax);
  if (json.is_object()) {
    out.push_back(body);
  } else if (json.is_array()) {
    for (const auto& each : json) {
      if (each.is_object())
        out.push_back(each.dump(-1, ' ', false, Json::error_handler_t::replace));
    }
  }
  return out;
}

Duration retry_delay(std::optional<std::uint64_t> retry_ms) {
  if (!retry_ms) return kRetryDefault;
  return std::min<Duration>(milliseconds(static_cast<std::int64_t>(*retry_ms)), kRetryMax);
}

}  // namespace

// What one exchange's body became, read as it arrives.
struct StreamableHttpTransport::Exchange {
  SseParser events;
  std::string json;  // a JSON body, whole
  bool event_stream = false;
  bool too_big = false;
  bool answered = false;  // the response the exchange owes came
};

std::string resolve_url(const std::string& base, const std::string& reference) {
  if (reference.rfind("http://", 0) == 0 || reference.rfind("https://", 0) == 0) return reference;
  const std::size_t scheme = base.find("://");
  const std::size_t path_start =
      scheme == std::string::npos ? std::string::npos : base.find('/', scheme + 3);
  const std::string origin = path_start == std::string::npos ? base : base.substr(0, path_start);
  if (!reference.empty() && reference.front() == '/') return origin + reference;
  std::string directory = path_start == std::string::npos ? "/" : base.substr(path_start);
  directory = directory.substr(0, directory.find_first_of("?#"));
  directory = directory.substr(0, directory.rfind('/') + 1);
  return origin + directory + reference;
}

// ---- StreamableHttpTransport ----

StreamableHttpTransport::StreamableHttpTransport(Executor& executor, HttpClient& http,
                                                 McpHttpEndpoint endpoint)
    : TransportBase(executor), http_(http), endpoint_(std::move(endpoint)) {}

StreamableHttpTransport::~StreamableHttpTransport() {
  forget_client();
  scope_.reset();
}

Result<void> StreamableHttpTransport::open(OnMessage on_message, OnClosed on_closed) {
  if (endpoint_.url.empty()) return fail(ErrorCode::invalid_argument, "the server has no url");
  if (auto begun = begin(std::move(on_message), std::move(on_closed)); !begun) return begun;
  session_id_.clear();
  protocol_version_.clear();
  listening_ = false;
  outbox_.clear();
  pumping_ = false;
  return {};
}

Result<void> StreamableHttpTransport::send(std::string message) {
  if (!open_) return fail(ErrorCode::unavailable, "the server is not connected");
  outbox_.push_back(std::move(message));
  if (!pumping_) {
    pumping_ = true;
    scope_->spawn(pump());
  }
  return {};
}

Task<void> StreamableHttpTransport::pump() {
  while (open_ && !outbox_.empty()) {
    std::string message = std::move(outbox_.front());
    outbox_.pop_front();
    auto pair = make_promise<bool>(executor_);
    Future<bool> head_seen = std::move(pair.second);
    scope_->spawn(post(std::move(message), pair.first));
    (void)co_await head_seen;
  }
  pumping_ = false;
}

std::vector<std::pair<std::string, std::string>> StreamableHttpTransport::headers(
    bool posting) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : endpoint_.headers) out.emplace_back(name, value);
  if (posting) {
    out.emplace_back("Content-Type", "application/json");
    out.emplace_back("Accept", "application/json, text/event-stream");
  } else {
    out.emplace_back("Accept", "text/event-stream");
  }
  if (!session_id_.empty()) out.emplace_back("Mcp-Session-Id", session_id_);
  if (!protocol_version_.empty()) out.emplace_back("MCP-Protocol-Version", protocol_version_);
  return out;
}

bool StreamableHttpTransport::deliver(const std::string& message) {
  if (!open_ || !on_message_) return false;
  if (protocol_version_.empty()) {
    // The initialize result names the version every later request carries.
    const Json json = parse_json_or_discarded(message, kJsonDepthMax);
    const std::string version = json.is_object() && json.contains("result")
                                    ? text_field(json["result"], "protocolVersion")
                                    : std::string();
    if (!version.empty()) {
      protocol_version_ = version;
      if (!listening_) {
        listening_ = true;
        scope_->spawn(listen("", Duration::zero(), 0));
      }
    }
  }
  const std::shared_ptr<bool> alive = alive_;
  on_message_(message);
  return *alive && open_;
}

Task<void> StreamableHttpTransport::post(std::string message, Promise<bool> head_seen) {
  // Whatever happens, the next message may go once this one has its answer's head (or none).
  struct Release {
    Promise<bool> promise;
    ~Release() { (void)promise.set(false); }
  } release{head_seen};
  const std::optional<RequestId> id = request_id_of(message);
  HttpClientRequest request;
  request.method = "POST";
  request.url = endpoint_.url;
  request.headers = headers(true);
  request.body = message;
  request.total_timeout = endpoint_.request_timeout;
  request.idle_timeout = endpoint_.request_timeout;
  Exchange exchange;
  const std::shared_ptr<bool> alive = alive_;
  auto on_head = [this, &exchange, head_seen](const HttpClientHead& head) {
    exchange.event_stream = is_event_stream(head);
    const std::string session = header(head, "mcp-session-id");
    if (!session.empty()) session_id_ = session;
    (void)head_seen.set(true);
  };
  // Events go on as they come (a tool call's progress), each on a turn of its own.
  auto on_body = [this, &exchange, &id, alive](std::string_view bytes) {
    if (!exchange.event_stream) {
      if (exchange.json.size() + bytes.size() > kMessageBytesMax) {
        exchange.too_big = true;
        return false;
      }
      exchange.json.append(bytes);
      return true;
    }
    std::vector<SseEvent> events;
    if (!exchange.events.feed(bytes, events)) {
      exchange.too_big = true;
      return false;
    }
    for (auto& event : events) {
      if (event.data.empty() || event.event != "message") continue;  // a priming event
      exchange.answered = exchange.answered || answers(event.data, id);
      executor_.post([this, alive, data = std::move(event.data)] {
        if (*alive) (void)deliver(data);
      });
    }
    return true;
  };
  Task<Result<HttpClientHead>> sending = http_.send(std::move(request), on_head, on_body);
  Result<HttpClientHead> head = co_await sending;
  // What the stream delivered is posted ahead of what follows: the order holds.
  if (!head) {
    if (head.error().code == ErrorCode::timeout && id) {
      const std::string answer = error_response(id, rpc_error::internal_error,
                                                "no answer over HTTP: " + head.error().message);
      executor_.post([this, alive, answer] {
        if (*alive) (void)deliver(answer);
      });
      co_return;
    }
    closed(Error{ErrorCode::unavailable,
                 "cannot reach " + endpoint_.url + ": " + head.error().message});
    co_return;
  }
  if (exchange.too_big) {
    closed(Error{ErrorCode::resource_exhausted, "the server sent a message over " +
                                                    std::to_string(kMessageBytesMax) +
                                                    " bytes or a malformed event stream"});
    co_return;
  }
  const int status = head->status;
  if (status == 404 && !session_id_.empty()) {
    closed(Error{ErrorCode::unavailable, "the server ended the session (HTTP 404)"});
    co_return;
  }
  std::vector<std::string> messages;
  if (!exchange.event_stream) messages = messages_in(exchange.json);
  if (status >= 400 && messages.empty() && id) {
    messages.push_back(error_response(
        id, rpc_error::internal_error,
        "HTTP " + std::to_string(status) + " from the server" +
            (exchange.json.empty() ? std::string() : ": " + excerpt(exchange.json))));
  }
  for (auto& each : messages) {
    exchange.answered = exchange.answered || answers(each, id);
    executor_.post([this, alive, each = std::move(each)] {
      if (*alive) (void)deliver(each);
    });
  }
  // An event stream that ended before the response it owes: resumed where it broke off.
  if (exchange.event_stream && id && !exchange.answered && status < 300) {
    if (exchange.events.last_id().empty()) {
      const std::string answer = error_response(
          id, rpc_error::internal_error,
          "the server's event stream ended without an answer and cannot be resumed (no event id)");
      executor_.post([this, alive, answer] {
        if (*alive) (void)deliver(answer);
      });
      co_return;
    }
    scope_->spawn(listen(exchange.events.last_id(), retry_delay(exchange.events.retry_ms()), 1));
  }
}

Task<void> StreamableHttpTransport::listen(std::string last_event_id, Duration delay,
                                           std::size_t attempt) {
  if (delay > Duration::zero()) {
    Sleep waiting = sleep(executor_, delay);
    co_await waiting;
  }
  if (!open_) co_return;
  HttpClientRequest request;
  request.method = "GET";
  request.url = endpoint_.url;
  request.headers = headers(false);
  if (!last_event_id.empty()) request.headers.emplace_back("Last-Event-ID", last_event_id);
  // A stream that waits for the server is as long as the session; silence is normal on it.
  request.total_timeout = hours(24 * 365);
  request.idle_timeout = hours(24 * 365);
  Exchange exchange;
  bool ok_status = false;
  bool heard = false;
  const std::shared_ptr<bool> alive = alive_;
  auto on_head = [&exchange, &ok_status](const HttpClientHead& head) {
    exchange.event_stream = is_event_stream(head);
    ok_status = head.status >= 200 && head.status < 300 && exchange.event_stream;
  };
  auto on_body = [this, &exchange, &ok_status, &heard, alive](std::string_view bytes) {
    if (!ok_status) return false;  // no stream here: this server sends nothing on its own
    std::vector<SseEvent> events;
    if (!exchange.events.feed(bytes, events)) return false;
    for (auto& event : events) {
      heard = true;
      if (event.data.empty() || event.event != "message") continue;
      executor_.post([this, alive, data = std::move(event.data)] {
        if (*alive) (void)deliver(data);
      });
    }
    return true;
  };
  Task<Result<HttpClientHead>> sending = http_.send(std::move(request), on_head, on_body);
  Result<HttpClientHead> head = co_await sending;
  if (!open_ || (head && !ok_status)) co_return;  // 405 and the like: no stream to follow
  // The stream ended or broke: followed again from its last event, after the server's delay.
  const std::size_t next = heard ? 1 : attempt + 1;
  if (next > endpoint_.resumptions_max) co_return;
  std::string resume_from =
      exchange.events.last_id().empty() ? last_event_id : exchange.events.last_id();
  scope_->spawn(listen(std::move(resume_from), retry_delay(exchange.events.retry_ms()), next));
}

void StreamableHttpTransport::close() {
  if (!open_) {
    scope_.reset();
    return;
  }
  forget_client();
  outbox_.clear();
  pumping_ = false;
  scope_ = std::make_unique<Scope>(executor_);  // the old one's exchanges end here
  if (session_id_.empty()) return;
  // The session ends (best effort: a server that does not answer soon is left to expire it).
  HttpClientRequest goodbye;
  goodbye.method = "DELETE";
  goodbye.url = endpoint_.url;
  goodbye.headers = headers(false);
  goodbye.total_timeout = seconds(5);
  goodbye.idle_timeout = seconds(5);
  Task<Result<HttpClientHead>> sending =
      http_.send(std::move(goodbye), nullptr, [](std::string_view) { return true; });
  scope_->spawn([](Task<Result<HttpClientHead>> task) -> Task<void> {
    (void)co_await task;
  }(std::move(sending)));
}

// ---- SseTransport ----

SseTransport::SseTransport(Executor& executor, HttpClient& http, McpHttpEndpoint endpoint)
    : TransportBase(executor), http_(http), endpoint_(std::move(endpoint)) {}

SseTransport::~SseTransport() { close(); }

Result<void> SseTransport::open(OnMessage on_message, OnClosed on_closed) {
  if (endpoint_.url.empty()) return fail(ErrorCode::invalid_argument, "the server has no url");
  if (auto begun = begin(std::move(on_message), std::move(on_closed)); !begun) return begun;
  post_url_.clear();
  waiting_.clear();
  scope_->spawn(stream());
  return {};
}

Result<void> SseTransport::send(std::string message) {
  if (!open_) return fail(ErrorCode::unavailable, "the server is not connected");
  if (post_url_.empty()) {
    if (waiting_.size() >= endpoint_.queued_max) {
      return fail(ErrorCode::resource_exhausted,
                  "the server has not said where to send messages yet");
    }
    waiting_.push_back(std::move(message));
    return {};
  }
  scope_->spawn(post(std::move(message)));
  return {};
}

Task<void> SseTransport::stream() {
  HttpClientRequest request;
  request.method = "GET";
  request.url = endpoint_.url;
  for (const auto& [name, value] : endpoint_.headers) request.headers.emplace_back(name, value);
  request.headers.emplace_back("Accept", "text/event-stream");
  request.total_timeout = hours(24 * 365);
  request.idle_timeout = hours(24 * 365);
  SseParser parser;
  int status = 0;
  bool event_stream = false;
  bool malformed = false;
  const std::shared_ptr<bool> alive = alive_;
  auto on_head = [&status, &event_stream](const HttpClientHead& head) {
    status = head.status;
    event_stream = is_event_stream(head);
  };
  auto on_body = [this, &parser, &status, &event_stream, &malformed,
                  alive](std::string_view bytes) {
    if (status < 200 || status >= 300 || !event_stream) return false;
    std::vector<SseEvent> events;
    if (!parser.feed(bytes, events)) {
      malformed = true;
      return false;
    }
    for (auto& event : events) {
      executor_.post([this, alive, event = std::move(event)] {
        if (!*alive || !open_) return;
        if (event.event == "endpoint") {
          post_url_ = resolve_url(endpoint_.url, event.data);
          while (!waiting_.empty() && open_) {
            scope_->spawn(post(std::move(waiting_.front())));
            waiting_.pop_front();
          }
        } else if (event.event == "message" && !event.data.empty() && on_message_) {
          on_message_(event.data);
        }
      });
    }
    return true;
  };
  Task<Result<HttpClientHead>> sending = http_.send(std::move(request), on_head, on_body);
  Result<HttpClientHead> head = co_await sending;
  std::string why;
  if (!head) {
    why = "cannot reach " + endpoint_.url + ": " + head.error().message;
  } else if (status < 200 || status >= 300 || !event_stream) {
    why = "the server answered the event stream's GET with HTTP " + std::to_string(status) +
          (event_stream ? "" : ", not an event stream");
  } else if (malformed) {
    why = "the server's event stream is malformed or holds an event over the size limit";
  } else {
    why = "the server ended its event stream";
  }
  // After what the stream delivered, which was posted first.
  executor_.post([this, alive, why] {
    if (*alive) closed(Error{ErrorCode::unavailable, why});
  });
}

Task<void> SseTransport::post(std::string message) {
  const std::optional<RequestId> id = request_id_of(message);
  HttpClientRequest request;
  request.method = "POST";
  request.url = post_url_;
  for (const auto& [name, value] : endpoint_.headers) request.headers.emplace_back(name, value);
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = std::move(message);
  request.total_timeout = seconds(60);
  request.idle_timeout = seconds(60);
  std::string body;
  Task<Result<HttpClientHead>> sending =
      http_.send(std::move(request), nullptr, [&body](std::string_view bytes) {
        if (body.size() < 4096) body.append(bytes.substr(0, 4096 - body.size()));
        return true;
      });
  Result<HttpClientHead> head = co_await sending;
  if (!head) {
    closed(
        Error{ErrorCode::unavailable, "cannot reach " + post_url_ + ": " + head.error().message});
    co_return;
  }
  if (head->status >= 400 && id) {
    // On a later turn: the client may close the transport (this exchange with it) in its handler.
    std::string answer =
        error_response(id, rpc_error::internal_error,
                       "HTTP " + std::to_string(head->status) + " from the server" +
                           (body.empty() ? std::string() : ": " + excerpt(body)));
    executor_.post([this, alive = alive_, answer = std::move(answer)] {
      if (*alive && open_ && on_message_) on_message_(answer);
    });
  }
}

void SseTransport::close() {
  forget_client();
  waiting_.clear();
  scope_.reset();
}

}  // namespace reliant::mcp

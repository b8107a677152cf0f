// The MCP client over the HTTP transports, against a scripted HTTP server in virtual time: a
// Streamable HTTP session (JSON and event-stream answers, the session id and protocol version on
// later requests, the order of POSTs), an event stream resumed after the server's retry delay
// with Last-Event-ID, HTTP errors answering the request they carried, a server that ended the
// session (404) or cannot be reached; and the older HTTP+SSE transport (the endpoint event,
// messages queued until it comes, answers on the stream).
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <optional>

#include "base/json_parse.h"
#include "core/mcp/jsonrpc.h"
#include "runtime/scope.h"
#include "runtime/sleep.h"
#include "services/daemon/mcp/mcp_client.h"
#include "services/daemon/mcp/mcp_http_transport.h"
#include "sim/sim_executor.h"
#include "sim/world.h"
#include "unit/services/virtual_time.h"

namespace reliant::mcp {
namespace {

// What the scripted server answers one request with: a head, then body pieces, each after its
// delay; `hang` leaves the exchange open (a stream the server keeps).
struct Answer {
  int status = 200;
  std::map<std::string, std::string> headers;
  std::vector<std::pair<Duration, std::string>> pieces;
  bool hang = false;
  bool unreachable = false;
  // Set: after the pieces, the exchange stays open and sends whatever is queued here.
  std::shared_ptr<std::deque<std::string>> live;
};

struct Seen {
  std::string method;
  std::string url;
  std::map<std::string, std::string> headers;
  std::string body;
  Instant at{};
};

class ScriptedHttp final : public HttpClient {
 public:
  explicit ScriptedHttp(Executor& executor) : executor_(executor) {}
  std::function<Answer(const Seen&)> serve;
  std::vector<Seen> seen;

  Task<Result<HttpClientHead>> send(HttpClientRequest request,
                                    std::function<void(const HttpClientHead&)> on_head,
                                    std::function<bool(std::string_view)> on_body) override {
    Seen one{request.method, request.url, {}, request.body, executor_.now()};
    for (const auto& [name, value] : request.headers) one.headers[lower(name)] = value;
    seen.push_back(one);
    const Answer answer = serve(one);
    Sleep network = sleep(executor_, milliseconds(1));
    co_await network;
    if (answer.unreachable) co_return fail(ErrorCode::unavailable, "connection refused");
    HttpClientHead head{answer.status, answer.headers};
    if (on_head) on_head(head);
    for (const auto& [delay, piece] : answer.pieces) {
      Sleep waiting = sleep(executor_, delay);
      co_await waiting;
      if (!on_body(piece)) co_return head;
    }
    for (int turn = 0; answer.live && turn < 100'000; ++turn) {
      while (!answer.live->empty()) {
        std::string piece = std::move(answer.live->front());
        answer.live->pop_front();
        if (!on_body(piece)) co_return head;
      }
      Sleep polling = sleep(executor_, milliseconds(5));
      co_await polling;
    }
    if (answer.hang) {
      Sleep forever = sleep(executor_, hours(1000));
      co_await forever;
    }
    co_return head;
  }

 private:
  static std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  }
  Executor& executor_;
};

Answer json_answer(const std::string& body, std::map<std::string, std::string> headers = {}) {
  headers["content-type"] = "application/json";
  return Answer{200, headers, {{Duration::zero(), body}}, false, false, nullptr};
}

Answer accepted() { return Answer{202, {}, {}, false, false, nullptr}; }

std::string event(const std::string& data, const std::string& id = "") {
  return (id.empty() ? "" : "id: " + id + "\n") + "event: message\ndata: " + data + "\n\n";
}

// The id of a request the client sent.
RequestId id_of(const Seen& request) {
  auto message = parse_message(request.body);
  EXPECT_TRUE(message.has_value());
  return message && message->id ? *message->id : RequestId(std::int64_t{0});
}
std::string method_of(const Seen& request) {
  auto message = parse_message(request.body);
  return message ? message->method : "";
}

const Json kTools =
    Json{{"tools",
          Json::array({Json{
              {"name", "add"}, {"description", "adds"}, {"inputSchema", {{"type", "object"}}}}})}};

struct HttpHarness {
  sim::World world{9};
  sim::NodeId node = world.add_node("daemon");
  sim::SimExecutor executor{world, node};
  ScriptedHttp http{executor};
  std::unique_ptr<McpClient> client;
  std::unique_ptr<Scope> scope = std::make_unique<Scope>(executor);

  explicit HttpHarness(bool legacy = false) {
    McpHttpEndpoint endpoint;
    endpoint.url = legacy ? "http://mcp.test/sse" : "http://mcp.test/mcp";
    endpoint.headers = {{"Authorization", "Bearer s3cret"}};
    std::unique_ptr<McpTransport> transport;
    if (legacy) {
      transport = std::make_unique<SseTransport>(executor, http, endpoint);
    } else {
      transport = std::make_unique<StreamableHttpTransport>(executor, http, endpoint);
    }
    McpClientOptions options;
    options.request_timeout = seconds(20);
    client = std::make_unique<McpClient>(executor, std::move(transport), options);
  }
  ~HttpHarness() {
    scope.reset();
    client.reset();
  }
  template <class T>
  T run(Task<T> task) {
    return testing_support::run_in_virtual_time(world, *scope, std::move(task));
  }
};

// A Streamable HTTP server: initialize answered with JSON and a session id, everything after
// it must carry the session and the version.
Answer streamable(const Seen& request, std::function<std::optional<Answer>(const Seen&)> extra) {
  if (auto special = extra ? extra(request) : std::nullopt) return *special;
  if (request.method != "POST") return Answer{405, {}, {}, false, false, nullptr};
  const std::string method = method_of(request);
  if (method == "initialize") {
    return json_answer(result(id_of(request), {{"protocolVersion", "2025-06-18"},
                                               {"capabilities", {{"tools", Json::object()}}},
                                               {"serverInfo", {{"name", "scripted"}}}}),
                       {{"mcp-session-id", "session-7"}});
  }
  if (method == "notifications/initialized") return accepted();
  if (method == "tools/list") return json_answer(result(id_of(request), kTools));
  return Answer{400,    {{"content-type", "text/plain"}}, {{Duration::zero(), "no"}}, false, false,
                nullptr};
}

TEST(McpHttpTransport, ASessionCarriesItsIdAndVersionAndKeepsTheOrderOfMessages) {
  HttpHarness h;
  h.http.serve = [](const Seen& r) { return streamable(r, nullptr); };
  auto info = h.run(h.client->connect());
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->name, "scripted");
  auto tools = h.run(h.client->list_tools());
  ASSERT_TRUE(tools.has_value()) << tools.error().message;
  ASSERT_EQ(tools->size(), 1u);
  EXPECT_EQ((*tools)[0].name, "add");

  std::vector<std::string> posted;
  for (const auto& request : h.http.seen) {
    EXPECT_EQ(request.headers.at("authorization"), "Bearer s3cret");
    if (request.method != "POST") continue;
    posted.push_back(method_of(request));
    EXPECT_NE(request.headers.at("accept").find("text/event-stream"), std::string::npos);
    if (method_of(request) == "initialize") {
      EXPECT_EQ(request.headers.count("mcp-session-id"), 0u);
    } else {
      EXPECT_EQ(request.headers.at("mcp-session-id"), "session-7") << method_of(request);
      EXPECT_EQ(request.headers.at("mcp-protocol-version"), "2025-06-18");
    }
  }
  EXPECT_EQ(posted,
            (std::vector<std::string>{"initialize", "notifications/initialized", "tools/list"}))
      << "the server hears initialized before the requests that follow it";
  // After initialize the client listened for the server's own messages; 405 means none.
  bool listened = false;
  for (const auto& request : h.http.seen) listened |= request.method == "GET";
  EXPECT_TRUE(listened);
}

TEST(McpHttpTransport, AnEventStreamAnswersWithProgressAndIsResumedWhereItBrokeOff) {
  HttpHarness h;
  int streams_cut = 0;
  std::optional<RequestId> pending_id;
  h.http.serve = [&](const Seen& r) {
    return streamable(r, [&](const Seen& request) -> std::optional<Answer> {
      if (method_of(request) == "tools/call") {
        // Progress, then the stream ends before the answer: resumed with a GET.
        ++streams_cut;
        const Json params = parse_json_or_discarded(request.body)["params"];
        const std::string token = params["_meta"]["progressToken"].dump();
        Answer answer{200, {{"content-type", "text/event-stream"}}, {}, false, false, nullptr};
        answer.pieces.push_back({Duration::zero(), "id: e1\nretry: 700\ndata: \n\n"});
        answer.pieces.push_back(
            {milliseconds(10),
             event(notification("notifications/progress",
                                Json::parse("{\"progressToken\":" + token + ",\"progress\":1}")),
                   "e2")});
        pending_id = id_of(request);
        return answer;
      }
      if (request.method == "GET" && request.headers.count("last-event-id")) {
        Answer answer{200, {{"content-type", "text/event-stream"}}, {}, true, false, nullptr};
        answer.pieces.push_back(
            {Duration::zero(),
             event(result(*pending_id,
                          {{"content", Json::array({{{"type", "text"}, {"text", "resumed"}}})}}),
                   "e3")});
        return answer;
      }
      return std::nullopt;
    });
  };
  ASSERT_TRUE(h.run(h.client->connect()).has_value());
  int progress = 0;
  auto called = h.run(
      h.client->call_tool("add", Json::object(), seconds(30),
                          [&](double, std::optional<double>, const std::string&) { ++progress; }));
  ASSERT_TRUE(called.has_value()) << called.error().message;
  EXPECT_EQ(called->text, "resumed");
  EXPECT_EQ(progress, 1);
  EXPECT_EQ(streams_cut, 1);
  const Seen* cut = nullptr;
  const Seen* resumed = nullptr;
  for (const auto& request : h.http.seen) {
    if (method_of(request) == "tools/call") cut = &request;
    if (request.method == "GET" && request.headers.count("last-event-id")) resumed = &request;
  }
  ASSERT_TRUE(cut && resumed);
  EXPECT_EQ(resumed->headers.at("last-event-id"), "e2");
  EXPECT_GE(resumed->at - cut->at, milliseconds(700)) << "after the server's retry delay";
}

TEST(McpHttpTransport, HttpErrorsAnswerTheirRequestAndAnEndedSessionClosesTheTransport) {
  HttpHarness h;
  bool session_over = false;
  h.http.serve = [&](const Seen& r) {
    return streamable(r, [&](const Seen& request) -> std::optional<Answer> {
      if (method_of(request) == "tools/call") {
        if (session_over) return Answer{404, {}, {}, false, false, nullptr};
        return Answer{503,
                      {{"content-type", "text/html"}},
                      {{Duration::zero(), "<h1>busy</h1>"}},
                      false,
                      false,
                      nullptr};
      }
      return std::nullopt;
    });
  };
  ASSERT_TRUE(h.run(h.client->connect()).has_value());
  auto busy = h.run(h.client->call_tool("add", Json::object(), seconds(30)));
  ASSERT_TRUE(!busy.has_value() || busy->is_error);
  const std::string said = busy ? busy->text : busy.error().message;
  EXPECT_NE(said.find("HTTP 503"), std::string::npos) << said;
  EXPECT_NE(said.find("busy"), std::string::npos) << said;
  EXPECT_TRUE(h.client->connected()) << "one failed request leaves the session as it was";

  session_over = true;
  auto ended = h.run(h.client->call_tool("add", Json::object(), seconds(30)));
  ASSERT_FALSE(ended.has_value());
  EXPECT_EQ(ended.error().code, ErrorCode::unavailable);
  EXPECT_NE(ended.error().message.find("ended the session"), std::string::npos)
      << ended.error().message;
}

TEST(McpHttpTransport, AServerThatCannotBeReachedFailsTheConnectPrecisely) {
  HttpHarness h;
  h.http.serve = [](const Seen&) { return Answer{0, {}, {}, false, true, nullptr}; };
  auto info = h.run(h.client->connect());
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code, ErrorCode::unavailable);
  EXPECT_NE(info.error().message.find("cannot reach http://mcp.test/mcp"), std::string::npos)
      << info.error().message;
}

TEST(McpHttpTransport, TheOlderSseTransportPostsWhereItsEndpointEventSaysAndReadsTheStream) {
  HttpHarness h(/*legacy=*/true);
  auto stream = std::make_shared<std::deque<std::string>>();
  h.http.serve = [&](const Seen& request) {
    if (request.method == "GET") {
      // The endpoint comes late: what the client sends first must wait for it.
      Answer answer{200, {{"content-type", "text/event-stream"}}, {}, false, false, stream};
      answer.pieces.push_back({milliseconds(50), "event: endpoint\ndata: /messages?session=3\n\n"});
      return answer;
    }
    EXPECT_EQ(request.url, "http://mcp.test/messages?session=3");
    const std::string method = method_of(request);
    if (method == "initialize") {
      stream->push_back(event(result(id_of(request), {{"protocolVersion", "2024-11-05"},
                                                      {"capabilities", Json::object()},
                                                      {"serverInfo", {{"name", "old"}}}})));
    } else if (method == "tools/list") {
      stream->push_back(event(result(id_of(request), kTools)));
    }
    return accepted();
  };
  auto info = h.run(h.client->connect());
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->name, "old");
  EXPECT_EQ(info->protocol_version, "2024-11-05");
  auto tools = h.run(h.client->list_tools());
  ASSERT_TRUE(tools.has_value()) << tools.error().message;
  EXPECT_EQ(tools->size(), 1u);
  EXPECT_EQ(resolve_url("http://a.test:8/x/sse", "/m?s=1"), "http://a.test:8/m?s=1");
  EXPECT_EQ(resolve_url("http://a.test/x/sse", "m"), "http://a.test/x/m");
  EXPECT_EQ(resolve_url("http://a.test/x", "https://b.test/m"), "https://b.test/m");
}

TEST(McpHttpTransport, TheOlderSseTransportsStreamEndingClosesTheSession) {
  HttpHarness h(/*legacy=*/true);
  h.http.serve = [](const Seen& request) {
    if (request.method == "GET")
      return Answer{401, {}, {{Duration::zero(), "no token"}}, false, false, nullptr};
    return accepted();
  };
  auto info = h.run(h.client->connect());
  ASSERT_FALSE(info.has_value());
  EXPECT_NE(info.error().message.find("HTTP 401"), std::string::npos) << info.error().message;
}

}  // namespace
}  // namespace reliant::mcp

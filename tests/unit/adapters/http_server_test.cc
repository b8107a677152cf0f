// HttpServer over real loopback sockets: request decoding, keep-alive, limits, bad input,
// chunked streaming, client hang-ups, server shutdown, CORS and bind failures; read deadlines,
// connection caps and ambiguous framing (request smuggling).
#include "adapters/http/http_server.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "runtime/sleep.h"
#include "unit/support/self_signed_certificate.h"

namespace reliant {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;

// What the streams tell the test; written on the loop thread, read on the test thread.
struct StreamProbe {
  std::atomic<bool> ended{false};
  std::atomic<bool> last_write_ok{true};
  std::atomic<int> writes_after_first{0};
  std::atomic<bool> frame_destroyed{false};
};

constexpr const char* kThreeChunks[] = {"alpha", "beta", "gamma"};

class ThreeChunks final : public HttpBodyStream {
 public:
  explicit ThreeChunks(Executor& executor) : executor_(executor) {}
  Task<void> run(HttpBodyWriter& out) override {
    for (const char* chunk : kThreeChunks) {
      Task<bool> writing = out.write(chunk);
      const bool written = co_await writing;
      if (!written) co_return;
      Sleep pausing = sleep(executor_, milliseconds(2));  // separate chunks, not one write
      co_await pausing;
    }
  }

 private:
  Executor& executor_;
};

// Writes "first", then a tick every few milliseconds until a write fails.
class UntilGone final : public HttpBodyStream {
 public:
  UntilGone(Executor& executor, StreamProbe& probe) : executor_(executor), probe_(probe) {}
  Task<void> run(HttpBodyWriter& out) override {
    Task<bool> first = out.write("first\n");
    bool ok = co_await first;
    for (int i = 0; ok && i < 2000; ++i) {
      Sleep pausing = sleep(executor_, milliseconds(5));
      co_await pausing;
      Task<bool> tick = out.write("tick\n");
      ok = co_await tick;
      ++probe_.writes_after_first;
    }
    probe_.last_write_ok = ok;
    probe_.ended = true;
  }

 private:
  Executor& executor_;
  StreamProbe& probe_;
};

// Writes "first", then waits an hour: only cancellation ends it.
class Forever final : public HttpBodyStream {
 public:
  Forever(Executor& executor, StreamProbe& probe) : executor_(executor), probe_(probe) {}
  Task<void> run(HttpBodyWriter& out) override {
    struct MarkDestroyed {
      StreamProbe& probe;
      ~MarkDestroyed() { probe.frame_destroyed = true; }
    };
    MarkDestroyed marker{probe_};
    Task<bool> first = out.write("first\n");
    const bool ok = co_await first;
    if (!ok) co_return;
    Sleep waiting = sleep(executor_, hours(1));
    co_await waiting;
    probe_.ended = true;
  }

 private:
  Executor& executor_;
  StreamProbe& probe_;
};

// Writes "0".."4", 150 ms apart: longer, in total and between two writes, than the read
// deadlines of the tests that use it.
class SlowChunks final : public HttpBodyStream {
 public:
  explicit SlowChunks(Executor& executor) : executor_(executor) {}
  Task<void> run(HttpBodyWriter& out) override {
    for (int i = 0; i < 5; ++i) {
      Sleep pausing = sleep(executor_, milliseconds(150));
      co_await pausing;
      Task<bool> writing = out.write(std::to_string(i));
      const bool written = co_await writing;
      if (!written) co_return;
    }
  }

 private:
  Executor& executor_;
};

// A WebSocket session that echoes each message until the peer goes, and says how it ended.
class EchoSession final : public WebSocketSession {
 public:
  explicit EchoSession(std::atomic<int>& last_error) : last_error_(last_error) {}
  Task<void> run(WebSocket& socket) override {
    for (;;) {
      Task<Result<WebSocketMessage>> reading = socket.read();
      Result<WebSocketMessage> message = co_await reading;
      if (!message) {
        last_error_ = static_cast<int>(message.error().code);
        co_return;
      }
      Task<bool> writing = socket.write(std::move(*message));
      if (!co_await writing) co_return;
    }
  }

 private:
  std::atomic<int>& last_error_;
};

// Echoes the request as JSON, except for a few paths that stream, wait or fail.
class TestHandler final : public HttpHandler {
 public:
  explicit TestHandler(Executor& executor) : executor_(executor) {}

  Task<HttpResponse> handle(HttpRequest request) override {
    ++calls;
    HttpResponse response;
    // Paths under /auth stand for requests that carried a valid credential.
    if (request.path.starts_with("/auth")) {
      request.mark_authenticated();
      request.path = request.path.substr(5);
    }
    if (request.path == "/stream") {
      response.content_type = "text/event-stream";
      response.stream = std::make_shared<ThreeChunks>(executor_);
      co_return response;
    }
    if (request.path == "/until-gone") {
      response.content_type = "text/event-stream";
      response.stream = std::make_shared<UntilGone>(executor_, probe);
      co_return response;
    }
    if (request.path == "/forever") {
      response.content_type = "text/event-stream";
      response.stream = std::make_shared<Forever>(executor_, probe);
      co_return response;
    }
    if (request.path == "/slow-stream") {
      response.content_type = "text/event-stream";
      response.stream = std::make_shared<SlowChunks>(executor_);
      co_return response;
    }
    if (request.path == "/slow") {  // longer than the read deadlines of the tests that use it
      Sleep thinking = sleep(executor_, milliseconds(300));
      co_await thinking;
    }
    if (request.path == "/echo-ws") {
      response.websocket = std::make_shared<EchoSession>(websocket_error);
      co_return response;
    }
    if (request.path == "/throw") throw std::runtime_error("boom");
    nlohmann::json echo = {{"method", request.method},
                           {"path", request.path},
                           {"query", request.query},
                           {"headers", request.headers},
                           {"body", request.body},
                           {"remote_address", request.remote_address},
                           {"client_key", request.client_key}};
    response.body = echo.dump();
    response.headers.push_back({"X-Handled", "yes"});
    co_return response;
  }

  std::atomic<int> calls{0};
  StreamProbe probe;
  std::atomic<int> websocket_error{-1};  // the ErrorCode the echo session's last read ended with

 private:
  Executor& executor_;
};

// A blocking client connection; the buffer keeps bytes read past one response for the next.
struct Client {
  explicit Client(net::io_context& context, int port) : socket(context) {
    socket.connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  }

  http::response<http::string_body> send(http::request<http::string_body> request) {
    request.set(http::field::host, "127.0.0.1");
    request.prepare_payload();
    http::write(socket, request);
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    return response;
  }

  // Reads raw bytes until `text` has arrived (or the connection ends).
  std::string read_until(const std::string& text) {
    std::string seen;
    std::array<char, 4096> chunk{};
    while (seen.find(text) == std::string::npos && seen.size() < (1u << 20)) {
      beast::error_code ec;
      const std::size_t n = socket.read_some(net::buffer(chunk), ec);
      if (ec) break;
      seen.append(chunk.data(), n);
    }
    return seen;
  }

  tcp::socket socket;
  beast::flat_buffer buffer;
};

http::request<http::string_body> get(const std::string& target) {
  http::request<http::string_body> request(http::verb::get, target, 11);
  request.set(http::field::host, "127.0.0.1");
  return request;
}

// What a connection received until the server closed it, or until the time limit.
struct Received {
  std::string bytes;
  bool closed = false;  // end of stream or reset, before the limit
  std::chrono::milliseconds waited{0};
};

// Reads without blocking past `limit`, so that a server that never closes fails the test
// instead of hanging it.
Received read_until_closed(tcp::socket& socket, std::chrono::milliseconds limit) {
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + limit;
  Received received;
  std::array<char, 4096> chunk{};
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    pollfd ready{socket.native_handle(), POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (::poll(&ready, 1, static_cast<int>(left.count()) + 1) <= 0) continue;
    beast::error_code ec;
    const std::size_t n = socket.read_some(net::buffer(chunk), ec);
    if (ec) {
      received.closed = true;
      break;
    }
    received.bytes.append(chunk.data(), n);
  }
  received.waited = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return received;
}

// A connection from `from` (any loopback address) to the server; false when it cannot be made.
bool connect_from(tcp::socket& socket, int port, const std::string& from) {
  beast::error_code ec;
  socket.open(tcp::v4(), ec);
  if (!ec) socket.bind(tcp::endpoint(net::ip::make_address(from), 0), ec);
  if (!ec) {
    socket.connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)), ec);
  }
  return !ec;
}

// Sends `raw` on a new connection and returns everything that came back before the server
// closed it (at most 3 s).
Received exchange(net::io_context& context, int port, const std::string& raw) {
  tcp::socket socket(context);
  if (!connect_from(socket, port, "127.0.0.1")) return {};
  beast::error_code ec;
  net::write(socket, net::buffer(raw), ec);
  return read_until_closed(socket, std::chrono::milliseconds(3000));
}

int count_of(const std::string& text, const std::string& part) {
  int n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
    ++n;
  }
  return n;
}

// The status code of a request sent on a new connection that asks to be closed after it; 0
// when the connection failed or was closed without an answer.
int fresh_request_status(net::io_context& context, int port, const std::string& path) {
  const Received received =
      exchange(context, port, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  if (received.bytes.rfind("HTTP/1.1 ", 0) != 0 || received.bytes.size() < 12) return 0;
  return std::atoi(received.bytes.substr(9, 3).c_str());
}

bool eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

class HttpServerTest : public ::testing::Test {
 protected:
  // Starts the server, then the loop thread (the server is only touched before and after it).
  void start(HttpServerOptions options = {}) {
    auto started = HttpServer::start(executor_, std::move(options), handler_);
    ASSERT_TRUE(started) << started.error().describe();
    server_ = std::move(*started);
    port_ = server_->port();
    loop_ = std::thread([this] { executor_.run(); });
  }

  void TearDown() override {
    if (loop_.joinable()) {
      executor_.stop();
      loop_.join();
    }
    server_.reset();
  }

  // Runs `fn` on the loop thread and waits for it.
  void on_loop(std::function<void()> fn) {
    std::promise<void> done;
    executor_.post([&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }

  AsioExecutor executor_;
  TestHandler handler_{executor_};
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::thread loop_;
  net::io_context client_context_;
};

TEST_F(HttpServerTest, JsonGetRoundTripDecodesPathQueryAndHeaders) {
  start();
  Client client(client_context_, port_);
  auto request = get("/api/v1/chats/a%20b?x=1&name=hello+world&amp=%26&x=2&flag");
  request.set("X-Custom-Header", "Value");
  const auto response = client.send(request);

  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response[http::field::content_type], "application/json");
  EXPECT_EQ(response[http::field::content_length], std::to_string(response.body().size()));
  EXPECT_EQ(response["X-Handled"], "yes");
  const auto echo = nlohmann::json::parse(response.body());
  EXPECT_EQ(echo["method"], "GET");
  EXPECT_EQ(echo["path"], "/api/v1/chats/a b");
  EXPECT_EQ(echo["query"]["x"], "1");  // the first of a repeated name
  EXPECT_EQ(echo["query"]["name"], "hello world");
  EXPECT_EQ(echo["query"]["amp"], "&");
  EXPECT_EQ(echo["query"]["flag"], "");
  EXPECT_EQ(echo["headers"]["x-custom-header"], "Value");
  EXPECT_EQ(echo["headers"]["host"], "127.0.0.1");
  EXPECT_EQ(echo["remote_address"], "127.0.0.1");
  EXPECT_EQ(echo["client_key"], "127.0.0.1") << "what the sign-in limiter counts";
}

TEST_F(HttpServerTest, PostBodyIsDelivered) {
  start();
  Client client(client_context_, port_);
  http::request<http::string_body> request(http::verb::post, "/api/v1/things", 11);
  request.set(http::field::content_type, "application/json");
  request.body() = R"({"name":"thing"})";
  const auto response = client.send(request);

  EXPECT_EQ(response.result_int(), 200);
  const auto echo = nlohmann::json::parse(response.body());
  EXPECT_EQ(echo["method"], "POST");
  EXPECT_EQ(echo["body"], R"({"name":"thing"})");
  EXPECT_EQ(echo["headers"]["content-type"], "application/json");
}

TEST_F(HttpServerTest, ExpectContinueIsAnsweredBeforeTheBodyIsSent) {
  start();
  Client client(client_context_, port_);
  const std::string head =
      "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";
  net::write(client.socket, net::buffer(head));
  EXPECT_EQ(client.read_until("\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
  net::write(client.socket, net::buffer(std::string("hello")));
  http::response<http::string_body> response;
  http::read(client.socket, client.buffer, response);
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(nlohmann::json::parse(response.body())["body"], "hello");
}

TEST_F(HttpServerTest, HeadGetsTheLengthButNoBody) {
  start();
  Client client(client_context_, port_);
  http::request<http::string_body> request(http::verb::head, "/x", 11);
  request.set(http::field::host, "127.0.0.1");
  http::write(client.socket, request);
  http::response_parser<http::string_body> parser;
  parser.skip(true);  // a response to HEAD has no body whatever its length says
  http::read(client.socket, client.buffer, parser);
  EXPECT_EQ(parser.get().result_int(), 200);
  EXPECT_NE(parser.get()[http::field::content_length], "0");
  // Had the body been sent anyway, it would be read as the next response and fail to parse.
  EXPECT_EQ(client.send(get("/after")).result_int(), 200);
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  Client client(client_context_, port_);
  const auto first = client.send(get("/one"));
  EXPECT_EQ(first.result_int(), 200);
  EXPECT_TRUE(first.keep_alive());
  const auto second = client.send(get("/two"));
  EXPECT_EQ(second.result_int(), 200);
  EXPECT_EQ(nlohmann::json::parse(second.body())["path"], "/two");
  EXPECT_EQ(handler_.calls.load(), 2);
}

TEST_F(HttpServerTest, OversizedBodyIsRefusedWith413) {
  HttpServerOptions options;
  options.body_bytes_max = 1024;
  start(options);
  {
    Client client(client_context_, port_);
    http::request<http::string_body> request(http::verb::post, "/big", 11);
    request.body() = std::string(4096, 'x');
    const auto response = client.send(request);
    EXPECT_EQ(response.result_int(), 413);
    EXPECT_EQ(response.body(), R"({"error":"request body exceeds 1024 bytes"})");
    EXPECT_FALSE(response.keep_alive());
  }
  {  // a chunked body has no length up front: the limit is hit while reading it
    Client client(client_context_, port_);
    http::request<http::string_body> request(http::verb::post, "/big", 11);
    request.body() = std::string(4096, 'x');
    request.chunked(true);
    request.set(http::field::host, "127.0.0.1");
    http::write(client.socket, request);
    http::response<http::string_body> response;
    http::read(client.socket, client.buffer, response);
    EXPECT_EQ(response.result_int(), 413);
  }
  EXPECT_EQ(handler_.calls.load(), 0);
}

TEST_F(HttpServerTest, MalformedRequestsGet400AndTheConnectionCloses) {
  start();
  const std::string inputs[] = {
      "this is not http\r\n\r\n",
      std::string("\x00\x01\x02\xff\r\n\r\n", 8),
      "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
      "GET / HTTP/1.1\r\nno colon here\r\n\r\n",
  };
  for (const std::string& input : inputs) {
    Client client(client_context_, port_);
    net::write(client.socket, net::buffer(input));
    http::response<http::string_body> response;
    http::read(client.socket, client.buffer, response);
    EXPECT_EQ(response.result_int(), 400);
    EXPECT_EQ(response.body().rfind(R"({"error":"malformed HTTP request: )", 0), 0u)
        << response.body();
    std::array<char, 16> rest{};
    beast::error_code ec;
    client.socket.read_some(net::buffer(rest), ec);
    EXPECT_EQ(ec, net::error::eof);
  }
  EXPECT_EQ(handler_.calls.load(), 0);
  Client after(client_context_, port_);
  EXPECT_EQ(after.send(get("/still-up")).result_int(), 200);
}

TEST_F(HttpServerTest, HandlerExceptionBecomes500) {
  start();
  Client client(client_context_, port_);
  const auto response = client.send(get("/throw"));
  EXPECT_EQ(response.result_int(), 500);
  EXPECT_EQ(response.body(), R"({"error":"internal error: boom"})");
}

TEST_F(HttpServerTest, StreamedResponseArrivesAsChunks) {
  start();
  Client client(client_context_, port_);
  auto request = get("/stream");
  request.set(http::field::host, "127.0.0.1");
  http::write(client.socket, request);
  http::response_parser<http::string_body> parser;
  int chunks = 0;
  auto count = [&](std::uint64_t size, beast::string_view, beast::error_code&) {
    if (size > 0) ++chunks;
  };
  parser.on_chunk_header(count);
  http::read(client.socket, client.buffer, parser);
  const auto& response = parser.get();

  EXPECT_EQ(response.result_int(), 200);
  EXPECT_TRUE(response.chunked());
  EXPECT_EQ(response[http::field::cache_control], "no-cache");
  EXPECT_EQ(response[http::field::content_type], "text/event-stream");
  EXPECT_EQ(response.body(), "alphabetagamma");
  EXPECT_EQ(chunks, 3);
}

TEST_F(HttpServerTest, StreamToAnHttp10ClientIsRawBytesEndedByTheClose) {
  start();
  Client client(client_context_, port_);
  http::write(client.socket, http::request<http::string_body>(http::verb::get, "/stream", 10));
  http::response<http::string_body> response;
  http::read(client.socket, client.buffer, response);
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_FALSE(response.chunked());
  EXPECT_EQ(response.body(), "alphabetagamma");
}

TEST_F(HttpServerTest, ClientHangUpMidStreamFailsTheNextWriteAndEndsTheStream) {
  start();
  {
    Client client(client_context_, port_);
    auto request = get("/until-gone");
    http::write(client.socket, request);
    EXPECT_NE(client.read_until("first").find("first"), std::string::npos);
    client.socket.close();
  }
  ASSERT_TRUE(eventually([&] { return handler_.probe.ended.load(); }));
  EXPECT_FALSE(handler_.probe.last_write_ok.load());
  EXPECT_LT(handler_.probe.writes_after_first.load(), 100);  // noticed promptly, not after the cap

  Client next(client_context_, port_);
  EXPECT_EQ(next.send(get("/after")).result_int(), 200);
}

TEST_F(HttpServerTest, ClientHangUpCancelsAStreamThatWaitsWithoutWriting) {
  start();
  {
    Client client(client_context_, port_);
    http::write(client.socket, get("/forever"));
    EXPECT_NE(client.read_until("first").find("first"), std::string::npos);
    client.socket.close();
  }
  // Forever waits an hour before its next write: only cancellation frees its frame.
  ASSERT_TRUE(eventually([&] { return handler_.probe.frame_destroyed.load(); }));
  EXPECT_FALSE(handler_.probe.ended.load());
  Client next(client_context_, port_);
  EXPECT_EQ(next.send(get("/after")).result_int(), 200);
}

TEST_F(HttpServerTest, DestroyingTheServerCancelsStreamsAndClosesConnections) {
  start();
  Client client(client_context_, port_);
  http::write(client.socket, get("/forever"));
  EXPECT_NE(client.read_until("first").find("first"), std::string::npos);

  on_loop([&] { server_.reset(); });
  EXPECT_TRUE(handler_.probe.frame_destroyed.load());
  EXPECT_FALSE(handler_.probe.ended.load());
  std::array<char, 64> rest{};
  beast::error_code ec;
  while (!ec) client.socket.read_some(net::buffer(rest), ec);  // the unterminated body, then EOF
  EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
  beast::error_code refused;
  tcp::socket late(client_context_);
  late.connect(
      tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)),
      refused);
  EXPECT_TRUE(refused) << "the listener should be closed";
}

TEST_F(HttpServerTest, CorsPreflightAndAllowedOrigins) {
  HttpServerOptions options;
  options.cors_origins = {"https://app.example"};
  start(options);
  Client client(client_context_, port_);

  http::request<http::string_body> preflight(http::verb::options, "/api/v1/things", 11);
  preflight.set(http::field::origin, "https://app.example");
  preflight.set(http::field::access_control_request_method, "POST");
  const auto answered = client.send(preflight);
  EXPECT_EQ(answered.result_int(), 204);
  EXPECT_EQ(answered[http::field::access_control_allow_origin], "https://app.example");
  EXPECT_EQ(answered[http::field::access_control_allow_methods],
            "GET, POST, PUT, PATCH, DELETE, OPTIONS");
  EXPECT_EQ(answered[http::field::access_control_allow_headers],
            "authorization, content-type, last-event-id, connect-protocol-version, "
            "connect-timeout-ms");
  EXPECT_EQ(answered[http::field::vary], "Origin");
  EXPECT_EQ(answered.count(http::field::content_length), 0u);
  EXPECT_EQ(handler_.calls.load(), 0);

  auto allowed = get("/api/v1/things");
  allowed.set(http::field::origin, "https://app.example");
  const auto with_cors = client.send(allowed);
  EXPECT_EQ(with_cors.result_int(), 200);
  EXPECT_EQ(with_cors[http::field::access_control_allow_origin], "https://app.example");
  EXPECT_EQ(with_cors[http::field::vary], "Origin");

  auto other = get("/api/v1/things");
  other.set(http::field::origin, "https://evil.example");
  const auto without_cors = client.send(other);
  EXPECT_EQ(without_cors.result_int(), 200);
  EXPECT_EQ(without_cors.count(http::field::access_control_allow_origin), 0u);
  EXPECT_EQ(handler_.calls.load(), 2);
}

TEST_F(HttpServerTest, CorsWildcardAllowsAnyOrigin) {
  HttpServerOptions options;
  options.cors_origins = {"*"};
  start(options);
  Client client(client_context_, port_);
  auto request = get("/x");
  request.set(http::field::origin, "http://localhost:5173");
  const auto response = client.send(request);
  EXPECT_EQ(response[http::field::access_control_allow_origin], "*");
}

TEST_F(HttpServerTest, NoCorsHeadersWhenNoOriginsAreConfigured) {
  start();
  Client client(client_context_, port_);
  http::request<http::string_body> request(http::verb::options, "/x", 11);
  request.set(http::field::origin, "https://app.example");
  const auto response = client.send(request);
  EXPECT_EQ(response.result_int(), 200);  // the handler answered it
  EXPECT_EQ(response.count(http::field::access_control_allow_origin), 0u);
}

TEST(HttpServer, BindFailuresAreErrorsNotCrashes) {
  AsioExecutor executor;
  TestHandler handler(executor);
  auto first = HttpServer::start(executor, HttpServerOptions{}, handler);
  ASSERT_TRUE(first) << first.error().describe();

  HttpServerOptions same_port;
  same_port.port = (*first)->port();
  auto second = HttpServer::start(executor, same_port, handler);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::unavailable);
  EXPECT_NE(second.error().message.find("127.0.0.1:" + std::to_string(same_port.port)),
            std::string::npos)
      << second.error().message;

  HttpServerOptions bad_address;
  bad_address.bind_address = "not-an-address";
  auto third = HttpServer::start(executor, bad_address, handler);
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code, ErrorCode::invalid_argument);
}

TEST(HttpServer, UnusableTlsFilesAreErrorsNamingTheFile) {
  AsioExecutor executor;
  TestHandler handler(executor);
  HttpServerOptions missing;
  missing.tls_cert_file = "/nonexistent/cert.pem";
  missing.tls_key_file = "/nonexistent/key.pem";
  auto started = HttpServer::start(executor, missing, handler);
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(started.error().message.find("/nonexistent/cert.pem"), std::string::npos)
      << started.error().message;

  HttpServerOptions half;
  half.tls_cert_file = "/nonexistent/cert.pem";
  auto refused = HttpServer::start(executor, half, handler);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::invalid_argument);
}

// Deadlines. Each test shortens one and leaves the others at their defaults (seconds), so only
// the one under test can close the connection within the test's few seconds.

TEST_F(HttpServerTest, SilentConnectionIsClosedAtTheHeaderDeadline) {
  HttpServerOptions options;
  options.header_read_timeout = milliseconds(200);
  start(options);
  Client silent(client_context_, port_);
  const Received received = read_until_closed(silent.socket, milliseconds(2000));
  EXPECT_TRUE(received.closed);
  EXPECT_GE(received.waited.count(), 150);
  EXPECT_EQ(received.bytes, "");
  EXPECT_EQ(fresh_request_status(client_context_, port_, "/after"), 200);
}

TEST_F(HttpServerTest, KeptAliveConnectionIsClosedAfterTheIdleTimeout) {
  HttpServerOptions options;
  options.keep_alive_idle_timeout = milliseconds(500);
  start(options);
  Client client(client_context_, port_);
  EXPECT_EQ(client.send(get("/one")).result_int(), 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // within the idle timeout
  const auto second = client.send(get("/two"));
  EXPECT_EQ(second.result_int(), 200);
  EXPECT_TRUE(second.keep_alive());

  const Received received = read_until_closed(client.socket, milliseconds(2500));
  EXPECT_TRUE(received.closed);
  EXPECT_GE(received.waited.count(), 400);
  EXPECT_EQ(received.bytes, "");
  EXPECT_EQ(handler_.calls.load(), 2);
}

// Sends `head`, then `drip` a byte every 20 ms until the server closes the connection (at most
// 3 s). Returns how long that took, or 0 when it never closed.
std::chrono::milliseconds trickle_until_closed(tcp::socket& socket, const std::string& head,
                                               const std::string& drip) {
  const auto start = std::chrono::steady_clock::now();
  net::write(socket, net::buffer(head));
  for (std::size_t i = 0; i < 150; ++i) {
    beast::error_code ec;
    net::write(socket, net::buffer(&drip[i % drip.size()], 1), ec);
    if (ec || read_until_closed(socket, milliseconds(20)).closed) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
    }
  }
  return std::chrono::milliseconds(0);
}

TEST_F(HttpServerTest, HeaderTrickledAByteAtATimeIsCutAtTheHeaderDeadline) {
  HttpServerOptions options;
  options.header_read_timeout = milliseconds(300);
  start(options);
  Client client(client_context_, port_);
  // A byte every 20 ms keeps any per-read timer happy; only a deadline on the whole head cuts it.
  const auto took =
      trickle_until_closed(client.socket, "GET /x HTTP/1.1\r\nHost: x\r\n", "X-Drip: 1\r\n");
  EXPECT_GE(took.count(), 250);
  EXPECT_LT(took.count(), 2000);
  EXPECT_EQ(handler_.calls.load(), 0);
}

TEST_F(HttpServerTest, BodyTrickledAByteAtATimeIsCutAtTheBodyDeadline) {
  HttpServerOptions options;
  options.body_read_timeout = milliseconds(300);
  start(options);
  Client client(client_context_, port_);
  const auto took = trickle_until_closed(
      client.socket, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n", "x");
  EXPECT_GE(took.count(), 250);
  EXPECT_LT(took.count(), 2000);
  EXPECT_EQ(handler_.calls.load(), 0);
}

TEST_F(HttpServerTest, AnswersThatTakeLongerThanTheReadDeadlinesAreNotCut) {
  HttpServerOptions options;
  options.header_read_timeout = milliseconds(100);
  options.body_read_timeout = milliseconds(100);
  options.keep_alive_idle_timeout = milliseconds(100);
  start(options);
  // A stream of 750 ms, 150 ms between writes, while the client sends nothing.
  Client streaming(client_context_, port_);
  http::write(streaming.socket, get("/slow-stream"));
  http::response<http::string_body> streamed;
  beast::error_code ec;
  http::read(streaming.socket, streaming.buffer, streamed, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(streamed.result_int(), 200);
  EXPECT_EQ(streamed.body(), "01234");
  // A handler that takes 300 ms.
  Client waiting(client_context_, port_);
  EXPECT_EQ(waiting.send(get("/slow")).result_int(), 200);
}

using TestCertificate = testing::SelfSignedCertificate;

TEST_F(HttpServerTest, ClientThatNeverShakesHandsIsClosedAtTheHandshakeDeadline) {
  TestCertificate certificate;
  HttpServerOptions options;
  options.tls_cert_file = certificate.cert.string();
  options.tls_key_file = certificate.key.string();
  options.tls_handshake_timeout = milliseconds(200);
  start(options);
  Client silent(client_context_, port_);
  const Received received = read_until_closed(silent.socket, milliseconds(2000));
  EXPECT_TRUE(received.closed);
  EXPECT_GE(received.waited.count(), 150);
}

// Connection caps.

TEST_F(HttpServerTest, AtTheConnectionCapTheOldestIdleConnectionMakesRoom) {
  HttpServerOptions options;
  options.connections_max = 2;
  start(options);
  ASSERT_EQ(server_->connections_max(), 2u);
  Client first(client_context_, port_);
  Client second(client_context_, port_);
  EXPECT_EQ(first.send(get("/a")).result_int(), 200);
  EXPECT_EQ(second.send(get("/b")).result_int(), 200);

  // Both wait for their next request: the newcomer is admitted and the oldest closed.
  EXPECT_EQ(fresh_request_status(client_context_, port_, "/c"), 200);
  EXPECT_TRUE(read_until_closed(first.socket, milliseconds(2000)).closed);
  EXPECT_EQ(second.send(get("/b2")).result_int(), 200);
}

TEST_F(HttpServerTest, WhenEveryConnectionIsBusyTheExtraOneIsTurnedAwayWith503) {
  HttpServerOptions options;
  options.connections_max = 2;
  start(options);
  // Two streams being answered: neither is closed to make room.
  Client first(client_context_, port_);
  Client second(client_context_, port_);
  http::write(first.socket, get("/forever"));
  http::write(second.socket, get("/auth/forever"));
  EXPECT_NE(first.read_until("first"), "");
  EXPECT_NE(second.read_until("first"), "");

  // Accepted and closed at once, with a 503 it reads before sending anything.
  Client extra(client_context_, port_);
  const Received refused = read_until_closed(extra.socket, milliseconds(2000));
  EXPECT_TRUE(refused.closed);
  EXPECT_EQ(refused.bytes.rfind("HTTP/1.1 503 ", 0), 0u) << refused.bytes;
  EXPECT_NE(refused.bytes.find("Retry-After: 1\r\n"), std::string::npos) << refused.bytes;
  EXPECT_NE(refused.bytes.find("too many connections"), std::string::npos) << refused.bytes;

  // A stream that ends frees its place.
  first.socket.close();
  EXPECT_TRUE(
      eventually([&] { return fresh_request_status(client_context_, port_, "/c") == 200; }));
}

TEST_F(HttpServerTest, PerAddressCapMakesRoomFromTheSameAddressOnlyAndCountsAddressesApart) {
  HttpServerOptions options;
  options.connections_per_address_max = 1;
  start(options);
  // An authenticated stream from 127.0.0.1 holds the address's one place.
  Client local(client_context_, port_);
  http::write(local.socket, get("/auth/forever"));
  EXPECT_NE(local.read_until("first"), "");

  tcp::socket same(client_context_);
  ASSERT_TRUE(connect_from(same, port_, "127.0.0.1"));
  const Received refused = read_until_closed(same, milliseconds(2000));
  EXPECT_TRUE(refused.closed);
  EXPECT_EQ(refused.bytes.rfind("HTTP/1.1 503 ", 0), 0u) << refused.bytes;

  tcp::socket other(client_context_);
  if (!connect_from(other, port_, "127.0.0.2")) {
    GTEST_SKIP() << "this machine cannot connect from 127.0.0.2";
  }
  auto request = get("/b");
  request.set(http::field::host, "127.0.0.1");
  http::write(other, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(other, buffer, response);
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(nlohmann::json::parse(response.body())["remote_address"], "127.0.0.2");

  // 127.0.0.2's idle connection makes room for the next one from 127.0.0.2.
  tcp::socket other_again(client_context_);
  ASSERT_TRUE(connect_from(other_again, port_, "127.0.0.2"));
  http::write(other_again, request);
  beast::flat_buffer again_buffer;
  http::response<http::string_body> again;
  http::read(other_again, again_buffer, again);
  EXPECT_EQ(again.result_int(), 200);
  EXPECT_TRUE(read_until_closed(other, milliseconds(2000)).closed);
}

// What the flood threads of the next tests count.
struct Flood {
  std::atomic<bool> stop{false};
  std::atomic<int> connections{0};
};

// The flood's threads, stopped and joined however the test ends: a failed ASSERT or an exception
// then reports as a failure instead of terminating the process on a joinable thread.
struct Flooders {
  Flood state;
  std::vector<std::thread> threads;

  ~Flooders() { stop(); }
  void stop() {
    state.stop = true;
    for (auto& thread : threads) {
      if (thread.joinable()) thread.join();
    }
  }
};

// Opens connections from `from` as fast as it can and keeps up to `held` of them open, silent,
// replacing each the server closes: a client that keeps reconnecting.
void flood(int port, const std::string& from, std::size_t held, Flood& state) {
  net::io_context context;
  std::vector<std::unique_ptr<tcp::socket>> sockets;
  while (!state.stop) {
    std::erase_if(sockets, [](const std::unique_ptr<tcp::socket>& s) {
      pollfd ready{s->native_handle(), POLLIN, 0};
      return ::poll(&ready, 1, 0) > 0;  // closed by the server (or a 503 before the close)
    });
    if (sockets.size() >= held) sockets.erase(sockets.begin());
    auto socket = std::make_unique<tcp::socket>(context);
    if (connect_from(*socket, port, from)) {
      ++state.connections;
      sockets.push_back(std::move(socket));
    }
  }
}

// The flood runs on threads of this process, sharing its CPU: these tests bound the time an
// answer takes loosely; integration.connection_limits holds the real binary to a second.
TEST_F(HttpServerTest, AReconnectingClientAtThePerAddressCapLocksOutNoAuthenticatedClient) {
  HttpServerOptions options;
  options.connections_per_address_max = 64;
  options.unauthenticated_connections_max = 32;
  start(options);
  Flooders flooders;
  Flood& state = flooders.state;
  flooders.threads.emplace_back([&] { flood(port_, "127.0.0.1", 64, state); });
  ASSERT_TRUE(eventually([&] { return state.connections > 200; }));
  // A client of the same address signs in on each new connection and is answered, again and
  // again while the flood goes on; so is /health, which needs no credential. A connection that
  // says nothing while the whole pool turns over (the flood's threads ran between its connect
  // and its write: under ThreadSanitizer on a busy machine, twice in a row) is closed like the
  // flood's: the client tries again, a few times at most.
  const auto status_within_tries = [&](const std::string& path) {
    int status = 0;
    for (int tries = 0; tries < 5 && status != 200; ++tries)
      status = fresh_request_status(client_context_, port_, path);
    return status;
  };
  for (int i = 0; i < 20; ++i) {
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(status_within_tries("/auth/me"), 200) << i;
    EXPECT_EQ(status_within_tries("/health"), 200) << i;
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3)) << i;
  }
  // A keep-alive connection, once authenticated, keeps working too. Its first request races the
  // flood as any new connection's does (above): a few tries.
  std::unique_ptr<Client> kept;
  for (int tries = 0; tries < 5 && !kept; ++tries) {
    try {
      auto client = std::make_unique<Client>(client_context_, port_);
      if (client->send(get("/auth/one")).result_int() == 200) kept = std::move(client);
    } catch (const std::exception&) {
      // closed by the server before its request was read, like the flood's
    }
  }
  ASSERT_TRUE(kept);
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(kept->send(get("/two")).result_int(), 200) << i;
  }
  flooders.stop();
  EXPECT_GT(state.connections.load(), 200);
}

TEST_F(HttpServerTest, AFloodOverManyAddressesLeavesAnotherAddressItsPlace) {
  HttpServerOptions options;
  options.connections_max = 64;
  options.unauthenticated_connections_max = 16;
  start(options);
  Flooders flooders;
  Flood& state = flooders.state;
  for (int i = 2; i < 4; ++i) {
    flooders.threads.emplace_back(
        [&, i] { flood(port_, "127.0.0." + std::to_string(i), 64, state); });
  }
  ASSERT_TRUE(eventually([&] { return state.connections > 400; }));
  for (int i = 0; i < 10; ++i) {
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(fresh_request_status(client_context_, port_, "/auth/me"), 200) << i;
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3)) << i;
  }
  // A silent connection from an address of its own is not the one closed for the flood.
  Client quiet(client_context_, port_);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(quiet.send(get("/late")).result_int(), 200);
}

TEST_F(HttpServerTest, AnUnauthenticatedConnectionIsClosedAtItsDeadlineAndAnAuthenticatedOneIsNot) {
  HttpServerOptions options;
  options.unauthenticated_timeout = milliseconds(300);
  start(options);
  Client anonymous(client_context_, port_);
  Client signed_in(client_context_, port_);
  EXPECT_EQ(anonymous.send(get("/a")).result_int(), 200);
  EXPECT_EQ(signed_in.send(get("/auth/a")).result_int(), 200);
  const Received closed = read_until_closed(anonymous.socket, milliseconds(2000));
  EXPECT_TRUE(closed.closed);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(signed_in.send(get("/b")).result_int(), 200);

  // One being answered at its deadline gets its answer, then the close.
  Client slow(client_context_, port_);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto answer = slow.send(get("/slow"));  // 300 ms of work, past the deadline
  EXPECT_EQ(answer.result_int(), 200);
  EXPECT_FALSE(answer.keep_alive());
  EXPECT_TRUE(read_until_closed(slow.socket, milliseconds(2000)).closed);
}

TEST_F(HttpServerTest, PerAddressCapOfZeroIsNoCap) {
  HttpServerOptions options;
  options.connections_per_address_max = 0;
  start(options);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(std::make_unique<Client>(client_context_, port_));
    EXPECT_EQ(clients.back()->send(get("/x")).result_int(), 200);
  }
}

TEST(HttpServer, ConnectionCapLeavesAQuarterOfTheDescriptorLimitAndHalfTheRestToGrpc) {
  EXPECT_EQ(connection_cap(4096, 256), 96u);         // 64 kept, 96 for gRPC
  EXPECT_EQ(connection_cap(4096, 1024), 384u);       // a quarter kept, 384 for gRPC
  EXPECT_EQ(connection_cap(4096, 1u << 20), 4096u);  // the configured cap
  EXPECT_EQ(connection_cap(2, 256), 2u);
  EXPECT_EQ(connection_cap(4096, 16), 8u);  // never below 8
}

TEST(HttpServer, NonPositiveDeadlinesAndAZeroCapAreRefused) {
  AsioExecutor executor;
  TestHandler handler(executor);
  HttpServerOptions no_deadline;
  no_deadline.header_read_timeout = Duration::zero();
  auto started = HttpServer::start(executor, no_deadline, handler);
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, ErrorCode::invalid_argument);
  HttpServerOptions no_connections;
  no_connections.connections_max = 0;
  started = HttpServer::start(executor, no_connections, handler);
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, ErrorCode::invalid_argument);
}

// Framing: what two HTTP implementations could read differently is refused with a 400 and a
// close, and what follows it on the connection is never read as a request.

const std::string kSmuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

void expect_refused_alone(const Received& received, const std::string& what) {
  EXPECT_TRUE(received.closed) << what;
  EXPECT_EQ(received.bytes.rfind("HTTP/1.1 400 ", 0), 0u) << what << ": " << received.bytes;
  // Status lines only: an error body may quote the request's version ("HTTP/1.0 request").
  EXPECT_EQ(count_of(received.bytes, "HTTP/1.1 "), 1) << what << ": " << received.bytes;
}

TEST_F(HttpServerTest, ChunkedThenIdentityIsRefusedAndTheSmuggledRequestNeverAnswered) {
  start();
  // Beast alone frames this body as empty and answers the body as a second request.
  const Received received =
      exchange(client_context_, port_,
               "POST /first HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n" +
                   kSmuggled);
  expect_refused_alone(received, "chunked, identity");
  EXPECT_NE(received.bytes.find("Transfer-Encoding must be exactly"), std::string::npos)
      << received.bytes;
  EXPECT_EQ(handler_.calls.load(), 0);
}

TEST_F(HttpServerTest, AmbiguousFramingIsRefusedWith400) {
  start();
  const std::string post = "POST /a HTTP/1.1\r\nHost: x\r\n";
  const std::string requests[] = {
      // Transfer-Encoding and Content-Length together, in either order and with either coding.
      post + "Transfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello",  // Beast takes it
      post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello",
      post + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
      // Codings we do not implement, or chunked not last or twice.
      post + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
      post + "Transfer-Encoding: identity\r\n\r\n",
      post + "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      post + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
      post + "Transfer-Encoding: \r\n\r\n",
      // Transfer-Encoding in HTTP/1.0.
      "POST /a HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  };
  for (const std::string& request : requests) {
    expect_refused_alone(exchange(client_context_, port_, request + kSmuggled), request);
  }
  EXPECT_EQ(handler_.calls.load(), 0);

  // Plain chunked, in any case, is still read.
  for (const std::string coding : {"chunked", "Chunked"}) {
    const Received ok = exchange(client_context_, port_,
                                 post + "Transfer-Encoding: " + coding +
                                     "\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    EXPECT_EQ(ok.bytes.rfind("HTTP/1.1 200 ", 0), 0u) << ok.bytes;
    EXPECT_NE(ok.bytes.find(R"("body":"hello")"), std::string::npos) << ok.bytes;
  }
}

}  // namespace
}  // namespace reliant

namespace reliant {
namespace {

TEST_F(HttpServerTest, AnHttp11RequestWithoutOneHostHeaderIsRefusedWith400) {
  start();
  // RFC 9112 §3.2: no Host in HTTP/1.1, or more than one in any version, is a 400.
  expect_refused_alone(exchange(client_context_, port_, "GET /a HTTP/1.1\r\n\r\n" + kSmuggled),
                       "no Host");
  expect_refused_alone(
      exchange(client_context_, port_, "GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n" + kSmuggled),
      "two Host headers");
  EXPECT_EQ(handler_.calls.load(), 0);
  // HTTP/1.0 needs none; an empty one is allowed (a target without an authority).
  Received old = exchange(client_context_, port_, "GET /a HTTP/1.0\r\n\r\n");
  EXPECT_EQ(old.bytes.rfind("HTTP/1.0 200 ", 0), 0u) << old.bytes;
  Received empty =
      exchange(client_context_, port_, "GET /a HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(empty.bytes.rfind("HTTP/1.1 200 ", 0), 0u) << empty.bytes;
}

// A WebSocket over the server: messages echo, and one over the 1 MiB limit is answered with a
// close frame saying 1009 (message too big) that reaches the client even while it still sends
// the rest of that message — the server drains it instead of resetting the connection.
TEST_F(HttpServerTest, AWebSocketEchoesAndAnOversizedMessageIsClosedWith1009) {
  start();
  for (int round = 0; round < 5; ++round) {
    tcp::socket socket(client_context_);
    socket.connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)));
    beast::websocket::stream<tcp::socket&> ws(socket);
    ws.handshake("127.0.0.1", "/echo-ws");
    ws.text(true);
    ws.write(net::buffer(std::string("hello")));
    beast::flat_buffer echoed;
    ws.read(echoed);
    EXPECT_EQ(beast::buffers_to_string(echoed.data()), "hello");

    ws.binary(true);
    const std::string flood(2u << 20, 'a');
    beast::error_code ec;
    ws.write(net::buffer(flood), ec);  // the server may close before all of it is written
    beast::flat_buffer rest;
    ws.read(rest, ec);
    EXPECT_EQ(ec, beast::websocket::error::closed) << round << ": " << ec.message();
    EXPECT_EQ(ws.reason().code, beast::websocket::close_code::too_big) << round;
    EXPECT_TRUE(eventually([&] {
      return handler_.websocket_error.load() == static_cast<int>(ErrorCode::resource_exhausted);
    }));
  }
}

}  // namespace
}  // namespace reliant

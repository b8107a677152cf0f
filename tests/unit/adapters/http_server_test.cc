// HttpServer over real loopback sockets: request decoding, keep-alive, limits, bad input,
// chunked streaming, client hang-ups, server shutdown, CORS and bind failures.
#include "adapters/http/http_server.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "runtime/sleep.h"

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

// Echoes the request as JSON, except for a few paths that stream or fail.
class TestHandler final : public HttpHandler {
 public:
  explicit TestHandler(Executor& executor) : executor_(executor) {}

  Task<HttpResponse> handle(HttpRequest request) override {
    ++calls;
    HttpResponse response;
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
    if (request.path == "/throw") throw std::runtime_error("boom");
    nlohmann::json echo = {{"method", request.method}, {"path", request.path},
                           {"query", request.query},   {"headers", request.headers},
                           {"body", request.body},     {"remote_address", request.remote_address}};
    response.body = echo.dump();
    response.headers.push_back({"X-Handled", "yes"});
    co_return response;
  }

  std::atomic<int> calls{0};
  StreamProbe probe;

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
  return http::request<http::string_body>(http::verb::get, target, 11);
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
  options.max_body_bytes = 1024;
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
  EXPECT_EQ(answered[http::field::access_control_allow_methods], "GET, POST, PUT, DELETE, OPTIONS");
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

}  // namespace
}  // namespace reliant

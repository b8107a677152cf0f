// HttpServer: one coroutine per connection (read a request, ask the handler, write the answer,
// repeat) in the server's Scope; Asio completions reach it through Promise/Future. With TLS the
// same code runs over an SSL stream layered on the accepted socket. Reading a request has
// deadlines and the number of open connections has caps (HttpServerOptions); requests whose
// framing two HTTP implementations could read differently are refused.
#include "adapters/http/http_server.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <optional>
#include <string_view>
#include <utility>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "adapters/asio/accepting.h"
#include "adapters/http/beast_websocket.h"
#include "adapters/http/http_connection.h"
#include "adapters/http/http_messages.h"
#include "base/assert.h"
#include "base/url_encoding.h"
#include "core/connection_limits.h"
#include "runtime/future.h"
#include "runtime/scope.h"
#include "runtime/sleep.h"

namespace reliant {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

namespace {

using namespace http_connection;  // NOLINT: a connection and its I/O are this file's vocabulary
using namespace http_messages;    // NOLINT: and so are the messages and their rules

// After an error answer the client may still be sending (an oversized body). Reading that away
// for a while before closing lets it read the answer; closing with unread input would send a
// reset that can destroy the answer in the client's buffer.
constexpr Duration kLingerTimeout = milliseconds(2000);
constexpr std::size_t kLingerBytesMax = 8u << 20;
// Connections accepted in one executor turn, at most, after the one that woke the loop.
constexpr std::size_t kAcceptBatchMax = 64;
// The connection cap never goes below this, however low the descriptor limit.
constexpr std::size_t kConnectionCapMin = 8;
// Descriptors left to the rest of the process: a quarter of the limit, at least this many. Of
// the rest, the HTTP port takes half and leaves half to the gRPC port.
constexpr std::uint64_t kDescriptorReserveMin = 64;
// The answer to a connection over the caps, written before the request is read (so that it
// is the whole exchange) and only over plain HTTP: a TLS client would need a handshake first.
constexpr std::string_view kBusyBody = R"({"error":"too many connections, retry later"})";
constexpr std::string_view kBusyHead =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    "Content-Length: 45\r\nRetry-After: 1\r\nConnection: close\r\n\r\n";
static_assert(kBusyBody.size() == 45, "kBusyHead's Content-Length");
// How long a finished WebSocket session's last messages and close frame may take to leave.
constexpr Duration kWebSocketCloseTurn = milliseconds(10);
constexpr int kWebSocketCloseTurnsMax = 100;
constexpr std::string_view kAllowMethods = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
constexpr std::string_view kAllowHeaders =
    "authorization, content-type, last-event-id, connect-protocol-version, connect-timeout-ms";

// Closes a connection over the caps at once. Over plain HTTP the client first gets a 503 with
// Retry-After, written without waiting (the send buffer of a new socket has room for it).
void turn_away(tcp::socket& socket, bool plain) {
  beast::error_code ignored;
  if (plain) {
    const std::array<net::const_buffer, 2> busy = {net::buffer(kBusyHead.data(), kBusyHead.size()),
                                                   net::buffer(kBusyBody.data(), kBusyBody.size())};
    socket.non_blocking(true, ignored);
    socket.write_some(busy, ignored);
  }
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

// TLS 1.2 and later with the certificate chain and key from PEM files.
Result<std::unique_ptr<ssl::context>> tls_server_context(const HttpServerOptions& options) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  beast::error_code ec;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                       ec);
  if (!ec) context->use_certificate_chain_file(options.tls_cert_file, ec);
  if (ec) {
    return fail(ErrorCode::invalid_argument,
                "TLS certificate " + options.tls_cert_file + ": " + ec.message());
  }
  context->use_private_key_file(options.tls_key_file, ssl::context::pem, ec);
  if (ec) {
    return fail(ErrorCode::invalid_argument,
                "TLS key " + options.tls_key_file + ": " + ec.message());
  }
  return context;
}

}  // namespace

struct HttpServer::State {
  State(AsioExecutor& e, HttpServerOptions o, HttpHandler& h, std::size_t cap)
      : executor(e),
        options(std::move(o)),
        handler(h),
        registry(std::make_shared<Registry>(
            ConnectionLimitsConfig{cap, std::min(cap, options.unauthenticated_connections_max),
                                   options.connections_per_address_max})),
        acceptor(e.context()),
        scope(e) {}

  // A connection's place under the caps, given back when it is destroyed: with the frame of
  // the connection's coroutine, whether that ended or was cancelled.
  class Admission {
   public:
    Admission(State& state, ConnectionLimits::Id id) : state_(&state), id_(id) {}
    Admission(Admission&& other) noexcept
        : state_(std::exchange(other.state_, nullptr)), id_(other.id_) {}
    Admission& operator=(Admission&&) = delete;
    ~Admission() {
      if (state_ != nullptr) state_->leave(id_);
    }

   private:
    State* state_;
    ConnectionLimits::Id id_;
  };

  // The caps' view of the open connections, shared with the callbacks handed to handlers
  // (HttpRequest::authenticated): a WebSocket session may call one late, and it must then find
  // nothing rather than a destroyed server.
  struct Registry {
    explicit Registry(ConnectionLimitsConfig config) : limits(config) {}
    ConnectionLimits limits;
    std::map<ConnectionLimits::Id, std::weak_ptr<Connection>> connections;
  };

  AsioExecutor& executor;
  HttpServerOptions options;
  HttpHandler& handler;
  std::shared_ptr<Registry> registry;  // caps of options.connections_max or less: connection_cap()
  std::unique_ptr<ssl::context> tls;   // set: connections speak TLS
  SpareDescriptor spare;
  tcp::acceptor acceptor;
  Scope scope;  // last: destroyed first, while everything its frames use still exists

  void leave(ConnectionLimits::Id id) {
    registry->limits.forget(id);  // nothing when it was evicted
    registry->connections.erase(id);
  }

  // Closed to make room (ConnectionLimits::admit): the caps have forgotten it already. It is
  // idle — waiting for a request, or an unauthenticated WebSocket — so nothing is cut short;
  // its coroutine ends when the pending read fails.
  void evict(ConnectionLimits::Id id) {
    const auto it = registry->connections.find(id);
    if (it == registry->connections.end()) return;
    if (const std::shared_ptr<Connection> c = it->second.lock()) c->close();
    registry->connections.erase(it);
  }

  // Whether a connection's client has sent anything (its request on its way, or read already
  // by a completion not yet run): what its socket received, read or not.
  ConnectionLimits::SpokeCheck spoke_check() const {
    return [registry = registry.get()](ConnectionLimits::Id id) {
      const auto it = registry->connections.find(id);
      if (it == registry->connections.end()) return false;
      const std::shared_ptr<Connection> c = it->second.lock();
      return c && c->socket.is_open() && tcp_bytes_received(c->socket.native_handle()) > 0;
    };
  }

  void set_answering(Connection& c, bool answering) {
    c.answering = answering;
    registry->limits.set_busy(c.id, answering);
  }

  // What a handler calls once the request (or a WebSocket session's message) carried a valid
  // credential: the connection leaves the unauthenticated pool, and a session on it is busy.
  static std::function<void()> authenticator(const std::shared_ptr<Registry>& registry,
                                             ConnectionLimits::Id id) {
    return [weak = std::weak_ptr<Registry>(registry), id] {
      const std::shared_ptr<Registry> live = weak.lock();
      if (!live) return;
      live->limits.authenticate(id);
      const auto it = live->connections.find(id);
      if (it == live->connections.end()) return;
      const std::shared_ptr<Connection> c = it->second.lock();
      if (c && c->websocket) live->limits.set_busy(id, true);
    };
  }

  // Still unauthenticated unauthenticated_timeout after the accept: closed, or after its
  // answer when one is being written (answers are never cut).
  void expire_unauthenticated(Connection& c) {
    if (!registry->limits.contains(c.id) || registry->limits.is_authenticated(c.id)) return;
    if (c.answering) {
      c.close_when_answered = true;
    } else {
      c.close();
    }
  }

  // Never stops accepting: a connection over the caps is accepted and closed at once, rather
  // than left in the backlog where the client would wait for nothing. Half the unauthenticated
  // pool at most in one turn: a newcomer's first bytes are not read in the turn that accepted
  // it, and half the pool's admissions is its time before it counts as silent.
  Task<void> accept_loop() {
    const std::size_t batch =
        std::min<std::size_t>(kAcceptBatchMax, registry->limits.config().unauthenticated_max / 2);
    Task<void> accepting = accept_connections(
        executor, acceptor, spare, batch, [this](tcp::socket socket) { take(std::move(socket)); },
        [plain = !tls](tcp::socket& socket) { turn_away(socket, plain); });
    co_await accepting;
  }

  // An accepted connection: admitted (making room if need be) and served, or turned away.
  void take(tcp::socket socket) {
    beast::error_code ec;
    const tcp::endpoint remote = socket.remote_endpoint(ec);
    if (ec) {  // the client is already gone
      socket.close(ec);
      return;
    }
    std::string client_key = client_address_key(remote.address());
    ConnectionLimits::Admission admitted = registry->limits.admit(client_key, spoke_check());
    for (const ConnectionLimits::Id evicted : admitted.evicted) evict(evicted);
    if (admitted.id == 0) {  // every connection that could make room is busy
      turn_away(socket, !tls);
      return;
    }
    // What it sent while it waited in the backlog counts as spoken at once: under a flood, a
    // client's request is often there before the turn that reads it.
    if (tcp_bytes_received(socket.native_handle()) > 0) registry->limits.mark_spoken(admitted.id);
    Admission admission(*this, admitted.id);
    auto connection = std::make_shared<Connection>(std::move(socket));
    connection->id = admitted.id;
    registry->connections[admitted.id] = connection;
    connection->remote_address = remote.address().to_string();
    connection->client_key = std::move(client_key);
    // Streamed chunks are small and latency matters more than packet count.
    connection->socket.set_option(tcp::no_delay(true), ec);
    if (tls) connection->tls.emplace(connection->socket, *tls);
    scope.spawn(serve(std::move(connection), std::move(admission)));
  }

  // Exceptions end the connection, never the process (a root task's exception aborts).
  Task<void> serve(std::shared_ptr<Connection> c, [[maybe_unused]] Admission admission) {
    CloseOnExit closing{c};
    ScopedTimer unauthenticated_deadline(
        executor,
        executor.after(options.unauthenticated_timeout, [this, c] { expire_unauthenticated(*c); }));
    if (c->tls) {
      Task<beast::error_code> shaking = handshake_within_deadline(c);
      const beast::error_code ec = co_await shaking;
      if (ec) co_return;
      registry->limits.mark_spoken(c->id);
    }
    try {
      Task<void> serving = serve_requests(c);
      co_await serving;
    } catch (...) {
    }
  }

  // The deadlines close the connection: the read (or handshake) in progress then fails.
  TimerId close_after(Duration timeout, const std::shared_ptr<Connection>& c) {
    return executor.after(timeout, [c] { c->close(); });
  }

  Task<beast::error_code> handshake_within_deadline(std::shared_ptr<Connection> c) {
    ScopedTimer deadline(executor, close_after(options.tls_handshake_timeout, c));
    Future<beast::error_code> shaking = handshake(executor, c);
    const beast::error_code ec = co_await shaking;
    co_return ec;
  }

  // A kept-alive connection waits at most keep_alive_idle_timeout for its next request's first
  // byte. Returns false when the connection ended or the wait timed out.
  Task<bool> await_next_request(std::shared_ptr<Connection> c) {
    if (c->buffer.size() > 0) co_return true;  // pipelined: it is already here
    ScopedTimer deadline(executor, close_after(options.keep_alive_idle_timeout, c));
    Future<std::size_t> waiting = read_more(executor, c);
    const std::size_t n = co_await waiting;
    co_return n > 0;
  }

  // The request line and headers within header_read_timeout.
  Task<beast::error_code> read_header_within_deadline(std::shared_ptr<Connection> c) {
    ScopedTimer deadline(executor, close_after(options.header_read_timeout, c));
    Future<beast::error_code> reading = read_header(executor, c);
    const beast::error_code ec = co_await reading;
    co_return ec;
  }

  // The whole body (after a 100 Continue when the client waits for one) within
  // body_read_timeout.
  Task<beast::error_code> read_body_within_deadline(std::shared_ptr<Connection> c) {
    ScopedTimer deadline(executor, close_after(options.body_read_timeout, c));
    beast::error_code ec;
    if (wants_continue(c->parser->get())) {
      Future<beast::error_code> continuing = write_continue(executor, c);
      ec = co_await continuing;
    }
    if (!ec) {
      Future<beast::error_code> reading = read_body(executor, c);
      ec = co_await reading;
    }
    co_return ec;
  }

  // Only reading a request runs under a deadline: the handler's work and the answer (a body
  // stream may last hours) do not.
  Task<void> serve_requests(std::shared_ptr<Connection> c) {
    for (bool first = true;; first = false) {
      if (!first) {
        Task<bool> waiting = await_next_request(c);
        const bool more = co_await waiting;
        if (!more) co_return;
      }
      c->parser.emplace();
      c->parser->body_limit(options.body_bytes_max);
      Task<beast::error_code> reading_header = read_header_within_deadline(c);
      beast::error_code ec = co_await reading_header;
      // It sent a request: closed after connections that never sent anything.
      if (!ec) registry->limits.mark_spoken(c->id);
      if (!ec) {
        std::string problem = framing_problem(*c->parser);
        if (problem.empty()) problem = host_problem(c->parser->get());
        if (!problem.empty()) {
          HttpResponse response = error_response(400, "malformed HTTP request: " + problem);
          Task<void> refusing = refuse(c, std::move(response));
          co_await refusing;
          co_return;
        }
      }
      // An authenticated client's request is in progress from its head on: its body is not cut
      // to make room (an unauthenticated one's may be: a body trickled slowly holds nothing).
      if (!ec && registry->limits.is_authenticated(c->id)) set_answering(*c, true);
      if (!ec && !c->parser->is_done()) {
        Task<beast::error_code> reading_body = read_body_within_deadline(c);
        ec = co_await reading_body;
      }
      if (ec) {
        if (is_parse_error(ec)) {
          Task<void> refusing = refuse(c, refusal(ec));
          co_await refusing;
        }
        co_return;
      }
      // A deadline that fired as the read completed has closed the connection anyway.
      if (!c->socket.is_open()) co_return;

      http::request<http::string_body> message = c->parser->release();
      const bool upgrade = boost::beast::websocket::is_upgrade(message);
      const unsigned version = message.version();
      const bool keep_alive = message.keep_alive();
      const bool head_request = message.method() == http::verb::head;
      HttpRequest request = to_request(message, c->remote_address, c->client_key);
      request.authenticated = authenticator(registry, c->id);
      const HeaderList cors_headers = cors_for(request.header("origin"));
      // Until its answer is written the connection is not closed to make room.
      set_answering(*c, true);

      HttpResponse response;
      if (!cors_headers.empty() && request.method == "OPTIONS") {
        response = preflight();
      } else {
        Task<HttpResponse> answering = answer(std::move(request));
        response = co_await answering;
      }

      if (response.websocket && upgrade) {
        // A session busy only once authenticated: an unauthenticated one waits for its first
        // message, and may be closed to make room like an idle connection.
        c->websocket = true;
        set_answering(*c, false);
        registry->limits.set_busy(c->id, registry->limits.is_authenticated(c->id));
        Task<void> serving = serve_websocket(c, std::move(message), std::move(response.websocket));
        co_await serving;
        co_return;
      }
      if (response.websocket) {
        response = error_response(426, "this endpoint speaks WebSocket: send an upgrade request");
        response.headers.emplace_back("Upgrade", "websocket");
      }
      if (response.stream) {
        Task<void> streaming =
            stream_body(c, std::move(response), version, head_request, cors_headers);
        co_await streaming;
        co_return;
      }
      const bool keep = keep_alive && !c->close_when_answered;
      auto out = to_message(std::move(response), version, keep, head_request, cors_headers);
      Future<beast::error_code> writing = write_message(executor, c, std::move(out));
      ec = co_await writing;
      if (ec || !keep) co_return;
      set_answering(*c, false);
    }
  }

  // The handshake, then the session until it returns; the connection closes after.
  Task<void> serve_websocket(std::shared_ptr<Connection> c,
                             http::request<http::string_body> message,
                             std::shared_ptr<WebSocketSession> session) {
    if (c->tls) {
      Task<void> serving = run_websocket(*c->tls, c, std::move(message), std::move(session));
      co_await serving;
    } else {
      Task<void> serving = run_websocket(c->socket, c, std::move(message), std::move(session));
      co_await serving;
    }
  }

  template <class NextLayer>
  Task<void> run_websocket(NextLayer& next, std::shared_ptr<Connection> c,
                           http::request<http::string_body> message,
                           std::shared_ptr<WebSocketSession> session) {
    http_websocket::BeastWebSocket<NextLayer> socket(executor, next, c);
    Task<bool> accepting = socket.accept(message);
    if (!co_await accepting) co_return;
    Task<void> running = session->run(socket);
    co_await running;
    // What the session wrote, then a close frame, before the socket closes (bounded: a peer
    // that reads nothing cannot hold the connection).
    socket.close("");
    for (int turn = 0; turn < kWebSocketCloseTurnsMax && !socket.done(); ++turn) {
      Sleep pausing = sleep(executor, kWebSocketCloseTurn);
      co_await pausing;
    }
  }

  static bool wants_continue(const http::request<http::string_body>& message) {
    return message.version() >= 11 && beast::iequals(message[http::field::expect], "100-continue");
  }

  Task<HttpResponse> answer(HttpRequest request) {
    HttpResponse response;
    std::string failure;
    try {
      Task<HttpResponse> handling = handler.handle(std::move(request));
      response = co_await handling;
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "unknown exception";
    }
    if (!failure.empty()) response = error_response(500, "internal error: " + failure);
    co_return response;
  }

  // The Access-Control-* headers for a request from `origin`; empty when it may not call us.
  HeaderList cors_for(const std::string& origin) const {
    if (origin.empty() || options.cors_origins.empty()) return {};
    bool any = false;
    for (const std::string& allowed : options.cors_origins) {
      if (allowed == origin) return {{"Access-Control-Allow-Origin", origin}, {"Vary", "Origin"}};
      any = any || allowed == "*";
    }
    if (!any) return {};
    return {{"Access-Control-Allow-Origin", "*"}, {"Vary", "Origin"}};
  }

  static HttpResponse preflight() {
    HttpResponse response;
    response.status = 204;
    response.headers = {{"Access-Control-Allow-Methods", std::string(kAllowMethods)},
                        {"Access-Control-Allow-Headers", std::string(kAllowHeaders)}};
    return response;
  }

  // The answer to a request the parser could not read.
  HttpResponse refusal(beast::error_code ec) const {
    if (ec == http::error::body_limit) {
      return error_response(
          413, "request body exceeds " + std::to_string(options.body_bytes_max) + " bytes");
    }
    if (ec == http::error::header_limit) return error_response(431, "request header too large");
    return error_response(400, "malformed HTTP request: " + ec.message());
  }

  // Answers a request that could not be read (or must not be), then closes: the rest of it
  // cannot be skipped, and whatever follows on the connection is never read as a request.
  Task<void> refuse(std::shared_ptr<Connection> c, HttpResponse response) {
    auto out = to_message(std::move(response), 11, false, false, {});
    Future<beast::error_code> writing = write_message(executor, c, std::move(out));
    const beast::error_code written = co_await writing;
    if (written) co_return;
    beast::error_code ignored;
    c->socket.shutdown(tcp::socket::shutdown_send, ignored);
    ScopedTimer deadline(executor, executor.after(kLingerTimeout, [c] { c->close(); }));
    std::size_t drained_bytes = 0;
    while (drained_bytes < kLingerBytesMax) {
      Future<std::size_t> draining = read_some(executor, c);
      const std::size_t n = co_await draining;
      if (n == 0) break;
      drained_bytes += n;
    }
  }

  // Sends the head, runs the body stream, ends the body and lets the connection close.
  Task<void> stream_body(std::shared_ptr<Connection> c, HttpResponse response, unsigned version,
                         bool head_request, HeaderList cors_headers) {
    http::response<http::empty_body> head;
    head.version(version);
    head.result(final_status(response.status));
    head.keep_alive(false);
    if (!response.content_type.empty() && header_allowed("content-type", response.content_type)) {
      head.set(http::field::content_type, response.content_type);
    }
    add_headers(head, response.headers, cors_headers);
    // Proxies and browsers must not hold back or replay a live stream.
    if (head.find(http::field::cache_control) == head.end()) {
      head.set(http::field::cache_control, "no-cache");
    }
    c->chunked = version >= 11;
    if (c->chunked) head.chunked(true);
    auto shared_head = std::make_shared<StreamHead>(std::move(head));
    Future<beast::error_code> writing = write_head(executor, c, std::move(shared_head));
    const beast::error_code ec = co_await writing;
    if (ec || head_request) co_return;

    // The stream runs in a scope of its own, so that a client hanging up ends it even while it
    // waits for something to write (an update stream with nothing new): leaving this frame
    // destroys the scope, and with it the stream's frame.
    auto [ended, ending] = make_promise<bool>(executor);
    watch_for_hangup(executor, c, ended);
    ChunkWriter writer(executor, c, options.stream_write_timeout);
    Scope running(executor);  // after `writer`: destroyed first
    running.spawn(run_body_stream(response.stream, writer, ended));
    const bool completed = co_await ending;
    // A stream that failed leaves the chunked body unterminated, so the client sees it was cut
    // short rather than complete.
    if (!completed || !c->chunked || c->gone) co_return;
    Future<bool> finishing = enqueue(executor, c, std::string(), true);
    const bool finished = co_await finishing;
    (void)finished;  // the connection closes either way
  }
};

std::size_t connection_cap(std::size_t connections_max, std::uint64_t descriptor_limit) {
  const std::uint64_t reserve = std::max(kDescriptorReserveMin, descriptor_limit / 4);
  const std::uint64_t room = descriptor_limit > reserve ? (descriptor_limit - reserve) / 2 : 0;
  const std::uint64_t cap = std::max<std::uint64_t>(room, kConnectionCapMin);
  return static_cast<std::size_t>(std::min<std::uint64_t>(connections_max, cap));
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(AsioExecutor& executor,
                                                      HttpServerOptions options,
                                                      HttpHandler& handler) {
  const std::string where = options.bind_address + ":" + std::to_string(options.port);
  if (options.port < 0 || options.port > 65535) {
    return fail(ErrorCode::invalid_argument, "cannot serve HTTP on " + where + ": bad port");
  }
  beast::error_code ec;
  const auto address = net::ip::make_address(options.bind_address, ec);
  if (ec) {
    return fail(ErrorCode::invalid_argument, "cannot serve HTTP on " + where + ": '" +
                                                 options.bind_address + "' is not an IP address");
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return fail(ErrorCode::invalid_argument,
                "cannot serve HTTPS on " + where + ": a certificate needs its key and vice versa");
  }
  for (const Duration timeout :
       {options.tls_handshake_timeout, options.header_read_timeout, options.body_read_timeout,
        options.keep_alive_idle_timeout, options.unauthenticated_timeout}) {
    if (timeout <= Duration::zero()) {
      return fail(ErrorCode::invalid_argument,
                  "cannot serve HTTP on " + where + ": every read deadline must be positive");
    }
  }
  if (options.connections_max == 0 || options.unauthenticated_connections_max == 0) {
    return fail(ErrorCode::invalid_argument,
                "cannot serve HTTP on " + where +
                    ": max_connections and max_unauthenticated_connections must be at least 1");
  }
  // Connections must not take every descriptor the process may open: the store, gRPC and the
  // daemon's processes need theirs, and a connection is only turned away once accepted.
  std::size_t cap = options.connections_max;
  if (const std::uint64_t limit = descriptor_limit(); limit > 0) cap = connection_cap(cap, limit);
  auto state = std::make_unique<State>(executor, std::move(options), handler, cap);
  if (!state->options.tls_cert_file.empty()) {
    auto context = tls_server_context(state->options);
    if (!context) return fail(context.error());
    state->tls = std::move(*context);
  }
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(state->options.port));
  state->acceptor.open(endpoint.protocol(), ec);
  if (!ec) state->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(endpoint, ec);
  if (!ec) state->acceptor.listen(net::socket_base::max_listen_connections, ec);
  // For shed_waiting()'s accept, which must not block; asynchronous accepts are unaffected.
  if (!ec) state->acceptor.non_blocking(true, ec);
  if (ec)
    return fail(ErrorCode::unavailable, "cannot serve HTTP on " + where + ": " + ec.message());
  const tcp::endpoint bound = state->acceptor.local_endpoint(ec);
  if (ec)
    return fail(ErrorCode::unavailable, "cannot serve HTTP on " + where + ": " + ec.message());
  state->scope.spawn(state->accept_loop());
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(state), bound.port(), cap));
}

HttpServer::HttpServer(std::unique_ptr<State> state, int port, std::size_t connections_max)
    : state_(std::move(state)), port_(port), connections_max_(connections_max) {}

HttpServer::~HttpServer() {
  beast::error_code ignored;
  state_->acceptor.close(ignored);
  // Destroying the state destroys its Scope first: every connection's frame goes, and with it
  // the handler tasks and body streams it awaits; each frame closes its socket on the way out.
  state_.reset();
}

}  // namespace reliant

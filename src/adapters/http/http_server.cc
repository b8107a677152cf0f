// HttpServer: one coroutine per connection (read a request, ask the handler, write the answer,
// repeat) in the server's Scope; Asio completions reach it through Promise/Future. With TLS the
// same code runs over an SSL stream layered on the accepted socket.
#include "adapters/http/http_server.h"

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

#include "base/url_encoding.h"
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

// How long a body stream whose client hung up may take to notice (its next write fails) before
// it is cancelled.
constexpr Duration kHangupGrace = milliseconds(500);
// A client that connects and never completes the TLS handshake is dropped after this.
constexpr Duration kHandshakeTimeout = milliseconds(10'000);

// After an error answer the client may still be sending (an oversized body). Reading that away
// for a while before closing lets it read the answer; closing with unread input would send a
// reset that can destroy the answer in the client's buffer.
constexpr Duration kLingerTimeout = milliseconds(2000);
constexpr std::size_t kLingerBytesMax = 8u << 20;
// Accept failures such as running out of file descriptors persist for a while: retry later
// rather than spin.
constexpr Duration kAcceptRetryDelay = milliseconds(50);
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kAllowMethods = "GET, POST, PUT, DELETE, OPTIONS";
constexpr std::string_view kAllowHeaders =
    "authorization, content-type, last-event-id, connect-protocol-version, connect-timeout-ms";

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// One accepted socket. Shared by the connection's coroutine and by pending Asio completions,
// which may run after the coroutine's frame is gone (the server was destroyed).
struct Connection {
  explicit Connection(tcp::socket s) : socket(std::move(s)) {}

  // A streamed chunk waiting for its turn: one write is outstanding at a time.
  struct Outgoing {
    std::string data;
    bool last = false;
    Promise<bool> written;
  };

  tcp::socket socket;
  std::optional<ssl::stream<tcp::socket&>> tls;  // set: every byte goes through it
  beast::flat_buffer buffer;  // outlives each request: it may hold the next pipelined one
  std::optional<http::request_parser<http::string_body>> parser;
  std::string remote_address;
  std::deque<Outgoing> outgoing;
  bool writing = false;
  bool chunked = true;  // false for HTTP/1.0 clients: the body is raw bytes ended by the close
  bool gone = false;    // the client hung up or a write failed: later writes fail at once
  std::array<char, 1024> scratch{};  // bytes read only to be discarded

  void close() {
    if (!socket.is_open()) return;
    beast::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }
};

// Calls `f` with the connection's byte stream: the TLS stream when there is one, else the socket.
template <class F>
void on_stream(Connection& c, F&& f) {
  if (c.tls) {
    f(*c.tls);
  } else {
    f(c.socket);
  }
}

// Closes the socket when the connection's coroutine ends, normally or because it was cancelled.
struct CloseOnExit {
  std::shared_ptr<Connection> connection;
  ~CloseOnExit() { connection->close(); }
};

struct Accepted {
  beast::error_code ec;
  tcp::socket socket;
};

Future<Accepted> accept_one(Executor& executor, tcp::acceptor& acceptor) {
  auto pair = make_promise<Accepted>(executor);
  acceptor.async_accept([promise = pair.first](beast::error_code ec, tcp::socket socket) {
    promise.set(Accepted{ec, std::move(socket)});
  });
  return std::move(pair.second);
}

Future<beast::error_code> handshake(Executor& executor, const std::shared_ptr<Connection>& c) {
  auto pair = make_promise<beast::error_code>(executor);
  c->tls->async_handshake(ssl::stream_base::server,
                          [c, promise = pair.first](beast::error_code ec) { promise.set(ec); });
  return std::move(pair.second);
}

Future<beast::error_code> read_header(Executor& executor, const std::shared_ptr<Connection>& c) {
  auto pair = make_promise<beast::error_code>(executor);
  on_stream(*c, [&](auto& stream) {
    http::async_read_header(
        stream, c->buffer, *c->parser,
        [c, promise = pair.first](beast::error_code ec, std::size_t) { promise.set(ec); });
  });
  return std::move(pair.second);
}

Future<beast::error_code> read_body(Executor& executor, const std::shared_ptr<Connection>& c) {
  auto pair = make_promise<beast::error_code>(executor);
  on_stream(*c, [&](auto& stream) {
    http::async_read(
        stream, c->buffer, *c->parser,
        [c, promise = pair.first](beast::error_code ec, std::size_t) { promise.set(ec); });
  });
  return std::move(pair.second);
}

// Resolves to the number of bytes read; 0 means the connection ended or failed.
Future<std::size_t> read_some(Executor& executor, const std::shared_ptr<Connection>& c) {
  auto pair = make_promise<std::size_t>(executor);
  on_stream(*c, [&](auto& stream) {
    stream.async_read_some(net::buffer(c->scratch),
                           [c, promise = pair.first](beast::error_code ec, std::size_t n) {
                             promise.set(ec ? 0 : n);
                           });
  });
  return std::move(pair.second);
}

Future<beast::error_code> write_continue(Executor& executor, const std::shared_ptr<Connection>& c) {
  auto pair = make_promise<beast::error_code>(executor);
  on_stream(*c, [&](auto& stream) {
    net::async_write(
        stream, net::buffer(kContinue.data(), kContinue.size()),
        [c, promise = pair.first](beast::error_code ec, std::size_t) { promise.set(ec); });
  });
  return std::move(pair.second);
}

template <class Message>
Future<beast::error_code> write_message(Executor& executor, const std::shared_ptr<Connection>& c,
                                        std::shared_ptr<Message> message) {
  auto pair = make_promise<beast::error_code>(executor);
  on_stream(*c, [&](auto& stream) {
    http::async_write(
        stream, *message,
        [c, message, promise = pair.first](beast::error_code ec, std::size_t) { promise.set(ec); });
  });
  return std::move(pair.second);
}

// The head of a streamed response; the serializer must live as long as its message.
struct StreamHead {
  explicit StreamHead(http::response<http::empty_body> m)
      : message(std::move(m)), serializer(message) {}
  http::response<http::empty_body> message;
  http::response_serializer<http::empty_body> serializer;
};

Future<beast::error_code> write_head(Executor& executor, const std::shared_ptr<Connection>& c,
                                     std::shared_ptr<StreamHead> head) {
  auto pair = make_promise<beast::error_code>(executor);
  on_stream(*c, [&](auto& stream) {
    http::async_write_header(
        stream, head->serializer,
        [c, head, promise = pair.first](beast::error_code ec, std::size_t) { promise.set(ec); });
  });
  return std::move(pair.second);
}

// Starts the next queued chunk write unless one is outstanding. Completions call it again, so
// the queue drains in order; once the connection is gone the rest fail without touching it.
void pump(const std::shared_ptr<Connection>& c) {
  while (!c->writing && !c->outgoing.empty()) {
    if (c->gone) {
      Connection::Outgoing dropped = std::move(c->outgoing.front());
      c->outgoing.pop_front();
      dropped.written.set(false);
      continue;
    }
    c->writing = true;
    const Connection::Outgoing& next = c->outgoing.front();  // a deque keeps it in place
    auto done = [c](beast::error_code ec, std::size_t) {
      c->writing = false;
      Connection::Outgoing finished = std::move(c->outgoing.front());
      c->outgoing.pop_front();
      if (ec) c->gone = true;
      finished.written.set(!ec);
      pump(c);
    };
    on_stream(*c, [&](auto& stream) {
      if (!c->chunked) {
        net::async_write(stream, net::buffer(next.data), std::move(done));
      } else if (next.last) {
        net::async_write(stream, http::make_chunk_last(), std::move(done));
      } else {
        net::async_write(stream, http::make_chunk(net::buffer(next.data)), std::move(done));
      }
    });
  }
}

Future<bool> enqueue(Executor& executor, const std::shared_ptr<Connection>& c, std::string data,
                     bool last) {
  auto pair = make_promise<bool>(executor);
  c->outgoing.push_back(Connection::Outgoing{std::move(data), last, pair.first});
  pump(c);
  return std::move(pair.second);
}

// While a body streams the client sends nothing, so a finished read means it hung up. Noticing
// that here makes the stream's next write fail at once instead of landing in a kernel buffer;
// a stream that does not end by itself within kHangupGrace (it waits for something to write)
// is cancelled by settling `ended` (false).
// (A client that half-closes its side is treated as gone too; streaming clients do not.)
void watch_for_hangup(Executor& executor, const std::shared_ptr<Connection>& c,
                      Promise<bool> ended) {
  on_stream(*c, [&](auto& stream) {
    stream.async_read_some(net::buffer(c->scratch),
                           [&executor, c, ended](beast::error_code ec, std::size_t) {
                             if (!ec) {
                               // Stray bytes (a pipelined request) are not answered after a stream.
                               watch_for_hangup(executor, c, ended);
                               return;
                             }
                             c->gone = true;
                             c->close();
                             executor.after(kHangupGrace, [ended] { ended.set(false); });
                           });
  });
}

// Runs a response's body stream and settles `ended` with whether it ran to its end.
Task<void> run_body_stream(std::shared_ptr<HttpBodyStream> stream, HttpBodyWriter& writer,
                           Promise<bool> ended) {
  bool completed = false;
  try {
    Task<void> running = stream->run(writer);
    co_await running;
    completed = true;
  } catch (...) {
  }
  ended.set(completed);
}

class ChunkWriter final : public HttpBodyWriter {
 public:
  ChunkWriter(Executor& executor, std::shared_ptr<Connection> connection)
      : executor_(executor), connection_(std::move(connection)) {}

  Task<bool> write(std::string chunk) override {
    if (connection_->gone) co_return false;
    if (chunk.empty()) co_return true;  // an empty chunk would end the body
    Future<bool> writing = enqueue(executor_, connection_, std::move(chunk), false);
    const bool written = co_await writing;
    co_return written;
  }

 private:
  Executor& executor_;
  std::shared_ptr<Connection> connection_;
};

// Boost 1.74's Beast hands out boost::string_view.
std::string_view view(beast::string_view text) { return {text.data(), text.size()}; }

std::string lower_case(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string upper_case(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

HttpRequest to_request(http::request<http::string_body>& message,
                       const std::string& remote_address) {
  HttpRequest request;
  request.method = upper_case(view(message.method_string()));
  const std::string_view target = view(message.target());
  const std::size_t question = target.find('?');
  request.path = percent_decode(target.substr(0, question), false);
  if (question != std::string_view::npos)
    request.query = parse_form_urlencoded(target.substr(question + 1));
  for (const auto& field : message) {
    std::string name = lower_case(view(field.name_string()));
    const std::string_view value = view(field.value());
    auto [it, inserted] = request.headers.emplace(std::move(name), std::string(value));
    if (!inserted) {  // a repeated header is one comma-separated list (RFC 9110 §5.3)
      it->second += ", ";
      it->second += value;
    }
  }
  request.body = std::move(message.body());
  request.remote_address = remote_address;
  return request;
}

std::string error_json(const std::string& message) {
  return nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace);
}

HttpResponse error_response(int status, const std::string& message) {
  HttpResponse response;
  response.status = status;
  response.body = error_json(message);
  return response;
}

// Handlers must not forge the framing (which this server owns) or split the head with newlines.
bool header_allowed(const std::string& name, const std::string& value) {
  if (name.empty()) return false;
  for (const std::string* text : {&name, &value}) {
    for (char c : *text) {
      if (c == '\r' || c == '\n' || c == '\0') return false;
    }
  }
  const std::string lower = lower_case(name);
  return lower != "content-length" && lower != "transfer-encoding" && lower != "connection";
}

// A final status a client understands; anything else is the handler's bug, shown as 500.
unsigned final_status(int status) {
  return status >= 200 && status <= 999 ? static_cast<unsigned>(status) : 500u;
}

bool without_body(unsigned status) { return status == 204 || status == 304; }

template <class Body>
void add_headers(http::response<Body>& message, const HeaderList& handler_headers,
                 const HeaderList& cors_headers) {
  for (const auto& [name, value] : handler_headers) {
    if (header_allowed(name, value)) message.insert(name, value);
  }
  for (const auto& [name, value] : cors_headers) message.set(name, value);
}

std::shared_ptr<http::response<http::string_body>> to_message(HttpResponse response,
                                                              unsigned version, bool keep_alive,
                                                              bool head_request,
                                                              const HeaderList& cors_headers) {
  auto message = std::make_shared<http::response<http::string_body>>();
  const unsigned status = final_status(response.status);
  message->version(version);
  message->result(status);
  message->keep_alive(keep_alive);
  add_headers(*message, response.headers, cors_headers);
  // 204 and 304 carry neither a body nor its length (RFC 9110 §8.6).
  if (without_body(status)) return message;
  if (!response.content_type.empty() && header_allowed("content-type", response.content_type)) {
    message->set(http::field::content_type, response.content_type);
  }
  message->content_length(response.body.size());
  if (!head_request) message->body() = std::move(response.body);
  return message;
}

bool is_parse_error(beast::error_code ec) {
  static const auto& category = make_error_code(http::error::end_of_stream).category();
  // end_of_stream and partial_message: the client closed the connection; nobody to answer.
  return ec.category() == category && ec != http::error::end_of_stream &&
         ec != http::error::partial_message;
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
  State(AsioExecutor& e, HttpServerOptions o, HttpHandler& h)
      : executor(e), options(std::move(o)), handler(h), acceptor(e.context()), scope(e) {}

  AsioExecutor& executor;
  HttpServerOptions options;
  HttpHandler& handler;
  std::unique_ptr<ssl::context> tls;  // set: connections speak TLS
  tcp::acceptor acceptor;
  Scope scope;  // last: destroyed first, while everything its frames use still exists

  Task<void> accept_loop() {
    for (;;) {
      Future<Accepted> accepting = accept_one(executor, acceptor);
      Accepted accepted = co_await accepting;
      if (accepted.ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
      if (accepted.ec) {
        Sleep pausing = sleep(executor, kAcceptRetryDelay);
        co_await pausing;
        continue;
      }
      auto connection = std::make_shared<Connection>(std::move(accepted.socket));
      beast::error_code ec;
      const auto remote = connection->socket.remote_endpoint(ec);
      if (!ec) connection->remote_address = remote.address().to_string();
      // Streamed chunks are small and latency matters more than packet count.
      connection->socket.set_option(tcp::no_delay(true), ec);
      if (tls) connection->tls.emplace(connection->socket, *tls);
      scope.spawn(serve(std::move(connection)));
    }
  }

  // Exceptions end the connection, never the process (a root task's exception aborts).
  Task<void> serve(std::shared_ptr<Connection> c) {
    CloseOnExit closing{c};
    if (c->tls) {
      ScopedTimer deadline(executor, executor.after(kHandshakeTimeout, [c] { c->close(); }));
      Future<beast::error_code> shaking = handshake(executor, c);
      const beast::error_code ec = co_await shaking;
      if (ec) co_return;
    }
    try {
      Task<void> serving = serve_requests(c);
      co_await serving;
    } catch (...) {
    }
  }

  Task<void> serve_requests(std::shared_ptr<Connection> c) {
    for (;;) {
      c->parser.emplace();
      c->parser->body_limit(options.max_body_bytes);
      Future<beast::error_code> reading_header = read_header(executor, c);
      beast::error_code ec = co_await reading_header;
      if (!ec && !c->parser->is_done() && wants_continue(c->parser->get())) {
        Future<beast::error_code> continuing = write_continue(executor, c);
        ec = co_await continuing;
      }
      if (!ec && !c->parser->is_done()) {
        Future<beast::error_code> reading_body = read_body(executor, c);
        ec = co_await reading_body;
      }
      if (ec) {
        if (is_parse_error(ec)) {
          Task<void> refusing = refuse(c, ec);
          co_await refusing;
        }
        co_return;
      }

      http::request<http::string_body> message = c->parser->release();
      const unsigned version = message.version();
      const bool keep_alive = message.keep_alive();
      const bool head_request = message.method() == http::verb::head;
      HttpRequest request = to_request(message, c->remote_address);
      const HeaderList cors_headers = cors_for(request.header("origin"));

      HttpResponse response;
      if (!cors_headers.empty() && request.method == "OPTIONS") {
        response = preflight();
      } else {
        Task<HttpResponse> answering = answer(std::move(request));
        response = co_await answering;
      }

      if (response.stream) {
        Task<void> streaming =
            stream_body(c, std::move(response), version, head_request, cors_headers);
        co_await streaming;
        co_return;
      }
      auto out = to_message(std::move(response), version, keep_alive, head_request, cors_headers);
      Future<beast::error_code> writing = write_message(executor, c, std::move(out));
      ec = co_await writing;
      if (ec || !keep_alive) co_return;
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

  // Answers a request that could not be read, then closes (the rest of it cannot be skipped).
  Task<void> refuse(std::shared_ptr<Connection> c, beast::error_code ec) {
    HttpResponse response;
    if (ec == http::error::body_limit) {
      response = error_response(
          413, "request body exceeds " + std::to_string(options.max_body_bytes) + " bytes");
    } else if (ec == http::error::header_limit) {
      response = error_response(431, "request header too large");
    } else {
      response = error_response(400, "malformed HTTP request: " + ec.message());
    }
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
    ChunkWriter writer(executor, c);
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
  auto state = std::make_unique<State>(executor, std::move(options), handler);
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
  if (ec)
    return fail(ErrorCode::unavailable, "cannot serve HTTP on " + where + ": " + ec.message());
  const tcp::endpoint bound = state->acceptor.local_endpoint(ec);
  if (ec)
    return fail(ErrorCode::unavailable, "cannot serve HTTP on " + where + ": " + ec.message());
  state->scope.spawn(state->accept_loop());
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(state), bound.port()));
}

HttpServer::HttpServer(std::unique_ptr<State> state, int port)
    : state_(std::move(state)), port_(port) {}

HttpServer::~HttpServer() {
  beast::error_code ignored;
  state_->acceptor.close(ignored);
  // Destroying the state destroys its Scope first: every connection's frame goes, and with it
  // the handler tasks and body streams it awaits; each frame closes its socket on the way out.
  state_.reset();
}

}  // namespace reliant

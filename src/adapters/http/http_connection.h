// One connection of HttpServer and its I/O: the accepted socket and its TLS stream, the parser
// and buffer its requests are read with, each read and write as a Future on the executor (the
// connection shared with the pending completion, which may outlive the server), and a streamed
// response's body: chunks queued and written one at a time, a client that hangs up noticed.
#pragma once

#include <array>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/connection_limits.h"
#include "runtime/executor.h"
#include "runtime/future.h"
#include "runtime/http.h"
#include "runtime/task.h"

namespace reliant::http_connection {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

// How long a body stream whose client hung up may take to notice (its next write fails) before
// it is cancelled.
inline constexpr Duration kHangupGrace = milliseconds(500);
// What a kept-alive connection's wait for its next request reads at once.
inline constexpr std::size_t kIdleReadBytes = 4096;
inline constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

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
  std::string client_key;  // client_address_key(the peer): what per-client limits count
  std::deque<Outgoing> outgoing;
  bool writing = false;
  bool chunked = true;  // false for HTTP/1.0 clients: the body is raw bytes ended by the close
  bool gone = false;    // the client hung up or a write failed: later writes fail at once
  std::array<char, 1024> scratch{};  // bytes read only to be discarded
  ConnectionLimits::Id id = 0;       // its place under the caps
  bool answering = false;            // a request is being answered (its handler or its body stream)
  bool websocket = false;            // a WebSocket session runs on it
  // Unauthenticated past its deadline while being answered: closed after the answer.
  bool close_when_answered = false;

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

Future<beast::error_code> handshake(Executor& executor, const std::shared_ptr<Connection>& c);

Future<beast::error_code> read_header(Executor& executor, const std::shared_ptr<Connection>& c);

Future<beast::error_code> read_body(Executor& executor, const std::shared_ptr<Connection>& c);

// Resolves to the number of bytes read; 0 means the connection ended or failed.
Future<std::size_t> read_some(Executor& executor, const std::shared_ptr<Connection>& c);

// Waits for more of the request stream and appends what arrives to the connection's buffer,
// where the parser finds it. Resolves to the number of bytes read; 0: it ended or failed.
Future<std::size_t> read_more(Executor& executor, const std::shared_ptr<Connection>& c);

Future<beast::error_code> write_continue(Executor& executor, const std::shared_ptr<Connection>& c);

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
                                     std::shared_ptr<StreamHead> head);

// Starts the next queued chunk write unless one is outstanding. Completions call it again, so
// the queue drains in order; once the connection is gone the rest fail without touching it.
void pump(const std::shared_ptr<Connection>& c);

Future<bool> enqueue(Executor& executor, const std::shared_ptr<Connection>& c, std::string data,
                     bool last);

// While a body streams the client sends nothing, so a finished read means it hung up. Noticing
// that here makes the stream's next write fail at once instead of landing in a kernel buffer;
// a stream that does not end by itself within kHangupGrace (it waits for something to write)
// is cancelled by settling `ended` (false).
// (A client that half-closes its side is treated as gone too; streaming clients do not.)
void watch_for_hangup(Executor& executor, const std::shared_ptr<Connection>& c,
                      Promise<bool> ended);

// Runs a response's body stream and settles `ended` with whether it ran to its end.
Task<void> run_body_stream(std::shared_ptr<HttpBodyStream> stream, HttpBodyWriter& writer,
                           Promise<bool> ended);

class ChunkWriter final : public HttpBodyWriter {
 public:
  ChunkWriter(Executor& executor, std::shared_ptr<Connection> connection, Duration write_timeout)
      : executor_(executor), connection_(std::move(connection)), write_timeout_(write_timeout) {}

  Task<bool> write(std::string chunk) override {
    if (connection_->gone) co_return false;
    if (chunk.empty()) co_return true;  // an empty chunk would end the body
    // A client that stopped reading: closing fails the write, which ends the stream.
    ScopedTimer deadline(executor_,
                         executor_.after(write_timeout_, [c = connection_] { c->close(); }));
    Future<bool> writing = enqueue(executor_, connection_, std::move(chunk), false);
    const bool written = co_await writing;
    co_return written;
  }

 private:
  Executor& executor_;
  std::shared_ptr<Connection> connection_;
  Duration write_timeout_;
};

}  // namespace reliant::http_connection

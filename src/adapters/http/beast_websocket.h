// The WebSocket port (runtime/websocket.h) on Beast: after HttpServer's handler accepted an
// upgrade, the handshake, then the session run over the connection's byte stream (the socket,
// or the TLS stream on it). Internal to the HTTP adapter.
//
// Beast allows one read and one write in flight: reads are the session's one at a time, writes
// queue here. Every completion holds the shared state, so the stream outlives what is pending
// even when the session's frame is destroyed first (the server going away). Pings keep an idle
// connection known alive, and a peer that answers none for the idle timeout is dropped.
//
// Messages over kMessageBytesMax are refused here, not with Beast's read_message_max: Boost
// 1.74's teardown after that refusal reads one chunk of what the peer still sends and closes
// the socket on the rest, and the reset loses the close frame (the peer sees 1006, not 1009).
// Instead a message is read a piece at a time, and one that grows past the limit is answered
// with a close frame (1009) through the ordinary close, which drains the peer's frames until its
// own close frame arrives.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "runtime/executor.h"
#include "runtime/future.h"
#include "runtime/websocket.h"

namespace reliant::http_websocket {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

inline constexpr std::size_t kMessageBytesMax = 1u << 20;

template <class NextLayer>
class BeastWebSocket final : public WebSocket {
 public:
  struct Shared {
    Shared(NextLayer& next, std::shared_ptr<void> owner) : ws(next), owner(std::move(owner)) {}
    websocket::stream<NextLayer&> ws;
    std::shared_ptr<void> owner;  // keeps the connection (and so `next`) alive
    beast::flat_buffer buffer;
    struct Outgoing {
      WebSocketMessage message;
      Promise<bool> written;
    };
    std::deque<Outgoing> outgoing;
    bool writing = false;
    bool gone = false;
    std::optional<std::string> closing;  // a close frame to send once the queue is empty
    websocket::close_code closing_code = websocket::close_code::normal;
  };

  BeastWebSocket(Executor& executor, NextLayer& next, std::shared_ptr<void> owner)
      : executor_(executor), shared_(std::make_shared<Shared>(next, std::move(owner))) {
    shared_->ws.read_message_max(0);  // bounded by read() itself, see above
    shared_->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  }

  // The handshake's answer to `request`; false when it failed.
  template <class Request>
  Task<bool> accept(const Request& request) {
    auto [promise, future] = make_promise<bool>(executor_);
    shared_->ws.async_accept(request,
                             [shared = shared_, promise = promise](const beast::error_code& ec) {
                               if (ec) shared->gone = true;
                               promise.set(!ec);
                             });
    co_return co_await future;
  }

  Task<Result<WebSocketMessage>> read() override {
    if (shared_->gone) co_return fail(ErrorCode::closed, "the WebSocket is closed");
    shared_->buffer.clear();
    do {
      auto pair = make_promise<beast::error_code>(executor_);
      Promise<beast::error_code> promise = pair.first;
      Future<beast::error_code> future = std::move(pair.second);
      shared_->ws.async_read_some(
          shared_->buffer, kReadPieceBytes,
          [shared = shared_, promise = promise](const beast::error_code& ec, std::size_t) {
            if (ec) shared->gone = true;
            promise.set(ec);
          });
      const beast::error_code ec = co_await future;
      if (ec) co_return fail(ErrorCode::closed, "the WebSocket closed: " + ec.message());
      if (shared_->buffer.size() > kMessageBytesMax) {
        shared_->buffer.clear();
        close_with(websocket::close_code::too_big, "message too big");
        co_return fail(ErrorCode::resource_exhausted,
                       "a WebSocket message over " + std::to_string(kMessageBytesMax) + " bytes");
      }
    } while (!shared_->ws.is_message_done());
    co_return WebSocketMessage{beast::buffers_to_string(shared_->buffer.data()),
                               shared_->ws.got_binary()};
  }

  Task<bool> write(WebSocketMessage message) override {
    if (shared_->gone || shared_->closing) co_return false;
    auto [promise, future] = make_promise<bool>(executor_);
    shared_->outgoing.push_back({std::move(message), promise});
    pump(shared_);
    co_return co_await future;
  }

  // Written and closed (or failed): nothing is left to send.
  bool done() const { return shared_->gone; }

  void close(std::string reason) override {
    close_with(websocket::close_code::normal, std::move(reason));
  }

 private:
  static constexpr std::size_t kReadPieceBytes = 64u << 10;

  void close_with(websocket::close_code code, std::string reason) {
    if (shared_->gone || shared_->closing) return;
    shared_->closing = std::move(reason);
    shared_->closing_code = code;
    pump(shared_);
  }

  static void pump(const std::shared_ptr<Shared>& shared) {
    if (shared->writing || shared->gone) return;
    if (shared->outgoing.empty()) {
      if (!shared->closing) return;
      shared->writing = true;
      websocket::close_reason reason(shared->closing_code);
      reason.reason = shared->closing->substr(0, 120);  // a control frame holds 125 bytes
      shared->ws.async_close(reason, [shared](const beast::error_code&) {
        shared->writing = false;
        shared->gone = true;
      });
      return;
    }
    shared->writing = true;
    shared->ws.binary(shared->outgoing.front().message.binary);
    shared->ws.async_write(boost::asio::buffer(shared->outgoing.front().message.data),
                           [shared](const beast::error_code& ec, std::size_t) {
                             shared->writing = false;
                             Promise<bool> written = shared->outgoing.front().written;
                             shared->outgoing.pop_front();
                             if (ec) {
                               shared->gone = true;
                               written.set(false);
                               for (auto& left : shared->outgoing) left.written.set(false);
                               shared->outgoing.clear();
                               return;
                             }
                             written.set(true);
                             pump(shared);
                           });
  }

  Executor& executor_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace reliant::http_websocket

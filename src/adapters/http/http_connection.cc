// One connection of HttpServer and its I/O (http_connection.h).
#include "adapters/http/http_connection.h"

namespace reliant::http_connection {

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

Future<std::size_t> read_more(Executor& executor, const std::shared_ptr<Connection>& c) {
  auto pair = make_promise<std::size_t>(executor);
  on_stream(*c, [&](auto& stream) {
    stream.async_read_some(c->buffer.prepare(kIdleReadBytes),
                           [c, promise = pair.first](beast::error_code ec, std::size_t n) {
                             if (!ec) c->buffer.commit(n);
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

}  // namespace reliant::http_connection

// Echo server and client: each reads top to bottom as coroutines — accept and echo; dial,
// send, check every echo, reconnect when the stream dies or goes silent.
#include "sim/workload/echo.h"

#include "runtime/sleep.h"

namespace reliant::sim {

EchoServer::EchoServer(Env& env, EchoServerConfig config, EchoStats& stats)
    : env_(env), config_(std::move(config)), stats_(stats), scope_(env.executor) {
  auto listener = env_.transport->listen(config_.listen_address, [this](StreamPtr stream) {
    ++stats_.connections;
    scope_.spawn(serve(std::move(stream)));
  });
  RELIANT_ASSERT_MSG(listener.has_value(), config_.listen_address.c_str());
  listener_ = std::move(*listener);
  auto work = env_.bus->queue_subscribe(
      kEchoWorkSubjectPattern, kEchoServerGroup, [this](const BusMessage& message) {
        if (message.reply_to.empty()) return;
        ++stats_.jobs_done;
        (void)env_.bus->publish(message.reply_to, "done:" + message.data);
      });
  RELIANT_ASSERT(work.has_value());
  work_ = std::move(*work);
  scope_.spawn(announce());
}

// Fan-out: every client hears every server's announcements (a plain subscription).
Task<void> EchoServer::announce() {
  for (std::uint64_t n = 1;; ++n) {
    co_await sleep(env_.executor, config_.announce_interval);
    std::string subject = "announce." + config_.name;
    if (env_.bus->publish(subject, config_.name + ":" + std::to_string(n))) ++stats_.announcements;
  }
}

Task<void> EchoServer::serve(StreamPtr stream) {
  for (;;) {
    Result<std::string> frame = co_await stream->receive();
    if (!frame) co_return;
    ++stats_.frames_echoed;
    if (!stream->send("echo " + *frame)) co_return;
  }
}

struct EchoClient::Connection {
  std::uint64_t id = 0;
  StreamPtr stream;
  std::uint64_t next_seq = 0;
  std::uint64_t expected_seq = 0;
  SteadyInstant last_heard{};
  bool done = false;
};

EchoClient::EchoClient(Env& env, std::string name, EchoClientConfig config, EchoStats& stats,
                       Checker& checker)
    : env_(env),
      name_(std::move(name)),
      config_(std::move(config)),
      stats_(stats),
      checker_(checker),
      backoff_(config_.backoff),
      scope_(env.executor) {
  RELIANT_ASSERT(!config_.servers.empty());
  auto announcements = env_.bus->subscribe(kEchoAnnouncePattern,
                                           [this](const BusMessage&) { ++stats_.announcements; });
  RELIANT_ASSERT(announcements.has_value());
  announcements_ = std::move(*announcements);
  scope_.spawn(stream_loop());
  scope_.spawn(request_loop());
}

Task<void> EchoClient::stream_loop() {
  std::size_t next_server = env_.random.below(config_.servers.size());
  std::uint64_t connection_count = 0;
  for (;;) {
    const std::string address = config_.servers[next_server];
    next_server = (next_server + 1) % config_.servers.size();
    Metadata metadata{{"client", name_}};
    Result<StreamPtr> dialed =
        co_await env_.transport->dial(address, std::move(metadata), config_.dial_timeout);
    if (!dialed) {
      ++stats_.dial_failures;
      co_await sleep(env_.executor, backoff_.next(env_.random));
      continue;
    }
    backoff_.reset();
    ++stats_.connections;
    auto connection = std::make_shared<Connection>();
    connection->id = ++connection_count;
    connection->stream = std::move(*dialed);
    connection->last_heard = env_.executor.steady_now();
    scope_.spawn(heartbeat(connection));
    for (;;) {
      Result<std::string> frame = co_await connection->stream->receive();
      if (!frame) break;
      // Frames are "echo <connection>:<seq>"; a stream delivers them in order, each once.
      const std::string expected =
          "echo " + std::to_string(connection->id) + ":" + std::to_string(connection->expected_seq);
      if (*frame != expected) {
        checker_.violation(env_.executor.now(), "stream_order",
                           name_ + " expected '" + expected + "' but received '" + *frame + "'");
        break;
      }
      ++connection->expected_seq;
      ++stats_.frames_echoed;
      connection->last_heard = env_.executor.steady_now();
    }
    connection->done = true;
    connection->stream->close();
    co_await sleep(env_.executor, backoff_.next(env_.random));
  }
}

Task<void> EchoClient::heartbeat(std::shared_ptr<Connection> connection) {
  while (!connection->done) {
    const std::string frame =
        std::to_string(connection->id) + ":" + std::to_string(connection->next_seq++);
    if (!connection->stream->send(frame)) co_return;
    ++stats_.frames_sent;
    co_await sleep(env_.executor, config_.interval);
    if (connection->done) co_return;
    if (env_.executor.steady_now() - connection->last_heard > config_.stale_after) {
      // Nothing heard for too long: the stream may be half-open. Closing it ends the reader's
      // receive, which reconnects.
      ++stats_.stale_streams;
      connection->stream->close();
      co_return;
    }
  }
}

Task<void> EchoClient::request_loop() {
  for (std::uint64_t n = 1;; ++n) {
    co_await sleep(env_.executor, config_.interval);
    const std::string payload = name_ + ":" + std::to_string(n);
    std::string subject = "work." + name_ + "." + std::to_string(n);
    Result<BusMessage> reply =
        co_await env_.bus->request(std::move(subject), payload, config_.request_timeout);
    if (reply) {
      if (reply->data != "done:" + payload) {
        checker_.violation(
            env_.executor.now(), "request_reply_match",
            name_ + " asked '" + payload + "' and was answered '" + reply->data + "'");
      }
      ++stats_.requests_ok;
    } else if (reply.error().code == ErrorCode::no_responders) {
      ++stats_.requests_no_responders;
    } else {
      ++stats_.requests_timeout;
    }
  }
}

}  // namespace reliant::sim

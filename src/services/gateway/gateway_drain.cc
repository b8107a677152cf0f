// A gateway asked to stop hands its daemons over before it goes (a rolling update;
// docs/architecture.md §6, "Draining a gateway"). The decisions are core/gateway_drain.h's; here
// the gateway stops taking work, tells each daemon to go to another gateway once its calls are
// answered, and releases their rows.
#include <algorithm>
#include <map>

#include "core/backoff.h"
#include "core/tool_subjects.h"
#include "protocol/codec.h"
#include "protocol/daemon_wire.h"
#include "runtime/sleep.h"
#include "services/gateway/gateway.h"
#include "services/gateway/gateway_connection.h"
#include "services/storage/daemons.h"

namespace reliant::gateway {

namespace {

// Attempts at releasing the rows of the daemons sent elsewhere, within the drain's deadline (a
// store that does not answer: the other gateways' sweeps expire the leases instead).
constexpr int kReleaseAttemptsMax = 3;

}  // namespace

void Gateway::begin_drain(Duration timeout, std::function<void()> drained) {
  RELIANT_ASSERT_MSG(!drain_, "a gateway drains once");
  RELIANT_ASSERT(drained != nullptr);
  drain_.emplace(env_.executor.steady_now(), timeout);
  // What one gateway of a queue group must serve (a new tool request, a cancellation, a reload,
  // a managed daemon to dial) now goes to the others, which hand it to whoever holds its daemon.
  queued_subscriptions_.clear();
  for (auto& [daemon_id, dial] : managed_dialling_) dial.asked_again.wake();  // they stop
  log_line(env_, LogLevel::info, [&] {
    return "gateway " + config_.gateway_id + " draining: " + std::to_string(connections_.size()) +
           " daemons to hand over within " + std::to_string(to_ms(timeout)) + " ms";
  });
  scope_.spawn(drain(std::move(drained)));
}

void Gateway::drain_changed() {
  if (drain_) drain_changed_.wake();
}

bool Gateway::refuses_new_call(const std::string& request_id) const {
  return drain_ && in_flight_.count(request_id) == 0;
}

std::vector<HeldDaemon> Gateway::held_daemons() const {
  // What the held daemon processes still owe an answer to (one that restarted since owes none).
  std::map<std::string, std::size_t> busy;
  const auto owed = [this, &busy](const std::string& daemon_id, const std::string& session_id) {
    const auto held = connections_.find(daemon_id);
    if (held != connections_.end() && held->second->session_id == session_id) ++busy[daemon_id];
  };
  for (const auto& [request_id, flight] : in_flight_) owed(flight.daemon_id, flight.session_id);
  for (const auto& [command_id, pending] : pending_commands_) {
    owed(pending.daemon_id, pending.session_id);
  }
  std::vector<HeldDaemon> held;
  held.reserve(connections_.size());
  for (const auto& [daemon_id, connection] : connections_) {
    const auto it = busy.find(daemon_id);
    held.push_back(HeldDaemon{daemon_id, it == busy.end() ? 0 : it->second});
  }
  RELIANT_ASSERT(held.size() == connections_.size());
  return held;
}

void Gateway::refuse_draining(Stream& stream) {
  ++stats_.refused_draining;
  v1::GatewayFrame frame;
  frame.mutable_error()->set_code(std::string(protocol::kShuttingDownCode));
  frame.mutable_error()->set_message("gateway " + config_.gateway_id +
                                     " is shutting down: connect to another gateway");
  (void)stream.send(protocol::encode(frame));
  stream.close();
}

void Gateway::send_elsewhere(Connection& connection) {
  ++stats_.drained_daemons;
  handed_over_.push_back({connection.daemon_id, connection.user_id, connection.connection_id});
  log_line(env_, LogLevel::info, [&] {
    return "daemon " + connection.daemon_id + " sent to another gateway (connection " +
           connection.connection_id + ")";
  });
  // After every answer it sent (the stream is ordered): the daemon dials its next gateway at
  // once. Its serve loop here then ends and records the disconnect, conditional on this
  // connection, so a registration made meanwhile elsewhere stands.
  v1::GatewayFrame frame;
  frame.mutable_error()->set_code(std::string(protocol::kShuttingDownCode));
  frame.mutable_error()->set_message("gateway " + config_.gateway_id +
                                     " is shutting down: connect to another gateway");
  send(connection, frame);
  connection.stream->close();
}

Task<void> Gateway::drain(std::function<void()> drained) {
  bool managed_released = false;
  for (;;) {
    drain_changed_.clear();
    const DrainStep step =
        drain_->step(env_.executor.steady_now(), held_daemons(), writes_pending_);
    for (const std::string& daemon_id : step.release) {
      const auto it = connections_.find(daemon_id);
      RELIANT_ASSERT(it != connections_.end());
      managed_released = managed_released || it->second->token_id.empty();
      send_elsewhere(*it->second);
    }
    if (step.finished) {
      if (step.timed_out) {
        log_line(env_, LogLevel::warn, [&] {
          return "gateway " + config_.gateway_id + " drain timed out with " +
                 std::to_string(in_flight_.size() + pending_commands_.size()) +
                 " calls in flight and " + std::to_string(writes_pending_) + " writes pending";
        });
      }
      break;
    }
    const Duration wait =
        std::max<Duration>(step.look_again - env_.executor.steady_now(), milliseconds(1));
    Task<void> waiting = drain_changed_.wait(wait);
    co_await waiting;
  }
  Task<Result<std::size_t>> releasing = release_rows();
  Result<std::size_t> released = co_await releasing;
  // A managed daemon is dialled by a gateway its control plane asks: asked now, not at its next
  // round.
  if (managed_released) (void)env_.bus->publish(subjects::kControlPlaneWake, "{}");
  log_line(env_, LogLevel::info, [&] {
    return "gateway " + config_.gateway_id + " drained: " + std::to_string(drain_->released()) +
           " daemons sent elsewhere" +
           (released ? ", " + std::to_string(*released) + " rows released here"
                     : "; rows not released (" + released.error().describe() +
                           "): the other gateways expire their leases");
  });
  env_.executor.post(std::move(drained));
}

Task<Result<std::size_t>> Gateway::release_rows() {
  // Most rows were released as each stream ended; what is left (a status write that failed, a
  // stream cut at the deadline) is released now rather than when the other gateways see its
  // lease dead, so that routing finds the daemon's next gateway at once.
  using Released = std::vector<HandedOver>;
  Backoff backoff(BackoffPolicy{milliseconds(100), seconds(1), 2.0, 0.5});
  Result<Released> released = fail(ErrorCode::unavailable, "no attempt");
  for (int attempt = 0; attempt < kReleaseAttemptsMax; ++attempt) {
    Task<Result<Released>> writing = env_.store->transact_for(
        [connections = handed_over_](SqlTransaction& tx) -> Result<Released> {
          Released out;
          for (const HandedOver& connection : connections) {
            auto done =
                release_daemon_connection(tx, connection.daemon_id, connection.connection_id);
            if (!done) return fail(done.error());
            if (*done) out.push_back(connection);
          }
          return out;
        });
    released = co_await writing;
    if (released || env_.executor.steady_now() >= drain_->deadline()) break;
    co_await sleep(env_.executor, backoff.next(env_.random));
  }
  if (!released) co_return fail(released.error());
  for (const HandedOver& row : *released) {
    publish_status(row.daemon_id, row.user_id, DaemonStatus::disconnected);
  }
  RELIANT_ASSERT(released->size() <= handed_over_.size());
  co_return released->size();
}

}  // namespace reliant::gateway

// The gateway: daemon streams in (admission, presence, leases), and its bus subscriptions. What
// it relays: tool requests in gateway_requests.cc, control commands in gateway_commands.cc.
#include "services/gateway/gateway.h"
#include "services/gateway/gateway_connection.h"

#include <algorithm>
#include <set>
#include <vector>

#include "core/backoff.h"
#include "core/bearer_token.h"
#include "core/managed_dial_key.h"
#include "core/tool_subjects.h"
#include "protocol/codec.h"
#include "protocol/daemon_wire.h"
#include "runtime/sleep.h"
#include "services/storage/accounts.h"
#include "services/storage/daemons.h"
#include "services/storage/managed_daemons.h"
#include "services/storage/tool_requests.h"
#include "services/updates/tool_output.h"

namespace reliant::gateway {

namespace {

void refuse(Stream& stream, std::string code, std::string message) {
  v1::GatewayFrame frame;
  frame.mutable_error()->set_code(std::move(code));
  frame.mutable_error()->set_message(std::move(message));
  (void)stream.send(protocol::encode(frame));
  stream.close();
}

// Dials of a managed daemon that fail in a row before the gateway gives up on it (the control
// plane asks again when it wants the daemon back).
constexpr int kManagedDialFailuresMax = 10;
// Attempts at recording a status change through store faults (with backoff up to 5 s).
constexpr int kStatusWriteAttemptsMax = 8;

}  // namespace

Gateway::Gateway(Env& env, GatewayConfig config, GatewayStats* stats)
    : env_(env),
      config_(std::move(config)),
      stats_(stats != nullptr ? *stats : own_stats_),
      ids_(env.executor, env.random.split("gateway-ids")),
      drain_changed_(env.executor),
      scope_(env.executor) {
  RELIANT_ASSERT_MSG(env.bus != nullptr && env.store != nullptr && env.transport != nullptr,
                     "a gateway needs a bus, a store and a transport");
}

Result<std::unique_ptr<Gateway>> Gateway::start(Env& env, GatewayConfig config,
                                                GatewayStats* stats) {
  std::unique_ptr<Gateway> gateway(new Gateway(env, std::move(config), stats));
  if (auto ok = gateway->open(); !ok) return fail(ok.error());
  return gateway;
}

Result<void> Gateway::open() {
  Bus& bus = *env_.bus;
  const std::string group(subjects::kGatewayQueueGroup);
  const std::pair<std::string_view, BusHandler> queued[] = {
      {subjects::kToolRequestAll, [this](const BusMessage& m) { on_tool_request(m); }},
      {subjects::kToolCancelAll, [this](const BusMessage& m) { on_cancel(m); }},
      {subjects::kDaemonReloadAll, [this](const BusMessage& m) { on_reload(m); }},
  };
  {
    auto sub = bus.queue_subscribe(subjects::kGatewayConnect, group,
                                   [this](const BusMessage& m) { on_connect_command(m); });
    if (!sub) return fail(sub.error());
    queued_subscriptions_.push_back(std::move(*sub));
  }
  for (const auto& [pattern, handler] : queued) {
    auto sub = bus.queue_subscribe(pattern, group, handler);
    if (!sub) return fail(sub.error());
    queued_subscriptions_.push_back(std::move(*sub));
  }
  // Hand-overs between gateways are plain subscriptions too: every gateway hears them, only
  // the holder acts. (One subscription per gateway rather than two per daemon: a gateway holds
  // thousands of daemons, and each subscription costs memory in the client and the server.)
  const std::pair<std::string_view, BusHandler> plain[] = {
      {subjects::kToolRequestSyncAll,
       [this](const BusMessage& m) { on_sync_tool_request(m, protocol::BusEncoding::json); }},
      {subjects::kToolCallAll,
       [this](const BusMessage& m) { on_sync_tool_request(m, protocol::BusEncoding::binary); }},
      {subjects::kDaemonCommandAll, [this](const BusMessage& m) { on_daemon_command(m); }},
      {subjects::kOnlineCheckAll, [this](const BusMessage& m) { on_online_check(m); }},
      {subjects::kGatewayDeliverAll, [this](const BusMessage& m) { on_deliver(m); }},
      {subjects::kGatewayEvictAll, [this](const BusMessage& m) { on_evict(m); }},
      {subjects::kCredentialRevokedAll, [this](const BusMessage& m) { on_credential_revoked(m); }},
  };
  for (const auto& [pattern, handler] : plain) {
    auto sub = bus.subscribe(pattern, handler);
    if (!sub) return fail(sub.error());
    subscriptions_.push_back(std::move(*sub));
  }
  auto listener = env_.transport->listen(config_.listen_address, [this](StreamPtr stream) {
    ++stats_.streams_accepted;
    scope_.spawn(serve(std::move(stream), std::nullopt));
  });
  if (!listener) {
    return fail(listener.error().code, "cannot listen for daemons on " + config_.listen_address +
                                           ": " + listener.error().message);
  }
  listener_ = std::move(*listener);
  scope_.spawn(sweep());
  return {};
}

Gateway::~Gateway() {
  // Tasks that end with the scope below tell no drain.
  drain_.reset();
  // Stop hearing the bus before the tasks go.
  queued_subscriptions_.clear();
  subscriptions_.clear();
  listener_.reset();
}

void Gateway::on_connect_command(const BusMessage& message) {
  auto command = protocol::from_json<v1::ManagedConnect>(message.data);
  if (!command || !subjects::check_token("user id", command->user_id()) ||
      !is_valid_id(command->daemon_id()) || command->address().empty()) {
    ++stats_.rejected_messages;
    return;
  }
  if (holds(command->daemon_id()) || drain_) return;  // connected already, or going away
  auto [dial, first] = managed_dialling_.try_emplace(command->daemon_id(), env_.executor);
  dial->second.address = command->address();
  dial->second.dial_key = command->dial_key();
  if (!first) {
    dial->second.asked_again.wake();  // its loop dials at once, not after its backoff
    return;
  }
  scope_.spawn(connect_managed(std::move(*command)));
}

Task<void> Gateway::connect_managed(v1::ManagedConnect command) {
  // No credentials go to the daemon: the gateway authenticates this stream by having been told
  // to make it (spec S0.12, the reverse connection), and shows the daemon the key it was told
  // with, so that the daemon knows the platform dialled it. While no other gateway holds the
  // daemon, a lost stream is dialed again with backoff; kManagedDialFailuresMax failed dials in a
  // row give up (the control plane asks again when it wants the daemon back).
  struct Done {
    std::map<std::string, ManagedDial>& dialling;
    std::string id;
    ~Done() { dialling.erase(id); }
  } done{managed_dialling_, command.daemon_id()};
  ManagedDial& dial = managed_dialling_.at(command.daemon_id());
  Backoff backoff(BackoffPolicy{milliseconds(500), seconds(15), 2.0, 0.5});
  for (int failures = 0; failures < kManagedDialFailuresMax;) {
    // Every dial, the first included, is for a daemon still wanted: the command may have waited
    // on the bus while its user suspended the daemon, and a stream may have ended because its
    // control plane stopped it. One the store cannot vouch for is not dialled blind.
    Task<Result<bool>> asking = managed_dial_wanted(command.daemon_id());
    Result<bool> wanted = co_await asking;
    if (wanted && !*wanted) co_return;
    if (!wanted) {
      ++failures;
    } else {
      ++stats_.managed_dials;
      Metadata metadata;
      if (!dial.dial_key.empty()) metadata[std::string(kDialKeyMetadata)] = dial.dial_key;
      Task<Result<StreamPtr>> dialing =
          env_.transport->dial(dial.address, std::move(metadata), config_.register_timeout);
      Result<StreamPtr> stream = co_await dialing;
      if (!stream) {
        ++stats_.managed_dial_failures;
        ++failures;
      } else {
        failures = 0;
        backoff.reset();
        Task<void> serving =
            serve(std::move(*stream), Stamped{command.daemon_id(), command.user_id()});
        co_await serving;
      }
    }
    // A draining gateway dials nothing again: the control plane asks another once the row is
    // released (begin_drain wakes this wait).
    if (drain_) co_return;
    Task<void> backing_off = dial.asked_again.wait(backoff.next(env_.random));
    co_await backing_off;
    if (holds(command.daemon_id()) || drain_) co_return;
    if (dial.asked_again.woken()) {
      dial.asked_again.clear();
      failures = 0;
      backoff.reset();
    }
  }
}

// Whether to dial a managed daemon: it exists, no other gateway holds it, and its control plane
// wants it running (not suspended or deleted), if it has one.
Task<Result<bool>> Gateway::managed_dial_wanted(std::string daemon_id) {
  Task<Result<bool>> looking =
      env_.store->transact_for([id = std::move(daemon_id),
                                gateway = config_.gateway_id](SqlTransaction& tx) -> Result<bool> {
        auto row = find_daemon(tx, id);
        if (!row) return fail(row.error());
        if (!*row) return false;  // deleted
        if ((*row)->status != DaemonStatus::disconnected && (*row)->gateway_id != gateway) {
          return false;
        }
        auto managed = find_managed_daemon(tx, id);
        if (!managed) return fail(managed.error());
        // One an operator provisioned by hand has no control plane wish: always wanted.
        return !*managed || (*managed)->desired == DesiredState::running;
      });
  co_return co_await looking;
}

namespace {

// What is wrong with a Register a gateway cannot admit: a daemon id that is not one, or more
// methods announced, or longer names, than any daemon has (each connection keeps them).
std::optional<std::string> register_problem(const v1::Register& reg) {
  if (!reg.daemon_id().empty() && !is_valid_id(reg.daemon_id())) {
    return "daemon_id \"" + reg.daemon_id() + "\" is not a valid id";
  }
  // Stored as a BIGINT: a number past it would wrap to a negative one.
  if (reg.registration_seq() > static_cast<std::uint64_t>(INT64_MAX)) {
    return "registration_seq " + std::to_string(reg.registration_seq()) + " is past 2^63 - 1";
  }
  constexpr int kMethodsMax = 1024;
  constexpr std::size_t kMethodNameBytesMax = 256;
  if (reg.methods_size() > kMethodsMax) {
    return "a daemon announces at most " + std::to_string(kMethodsMax) + " methods";
  }
  for (const auto& method : reg.methods()) {
    if (method.size() > kMethodNameBytesMax) return "a method's name is too long";
  }
  return std::nullopt;
}

}  // namespace

// The daemon's row as its Register describes it; a managed daemon's identity is the control
// plane's (`stamped`).
DaemonRecord Gateway::record_of(const v1::Register& reg, const std::optional<Stamped>& stamped,
                                Instant now) {
  DaemonRecord record;
  record.id = stamped                   ? stamped->daemon_id
              : reg.daemon_id().empty() ? ids_.next()
                                        : reg.daemon_id();
  record.name = reg.name().empty() ? reg.hostname() : reg.name();
  record.type = protocol::type_from_wire(reg.type());
  for (const auto& [key, value] : reg.labels()) record.labels[key] = value;
  record.hostname = reg.hostname();
  record.platform = reg.platform();
  record.working_dir = reg.working_dir();
  record.version = reg.version();
  record.gateway_id = config_.gateway_id;
  record.connected_at_ms = to_ms(now);
  record.lease_until_ms = to_ms(now + config_.presence.stale_after);
  record.connection_id = ids_.next();
  record.session_id = reg.session_id();
  record.registration_seq = reg.registration_seq();
  if (stamped) {
    record.user_id = stamped->user_id;
    record.type = DaemonType::cloud;
  }
  return record;
}

// Reads and checks the registration and records the connection in the store. Its own
// coroutine, so that everything it needs (the frame, the record, the transaction) is freed once
// the daemon is admitted: a gateway holds thousands of streams for hours.
Task<std::optional<Gateway::Admitted>> Gateway::admit(Stream& stream,
                                                      std::optional<Stamped> stamped) {
  Task<Result<std::string>> first = stream.receive();
  Result<std::string> bytes = co_await first;
  if (!bytes) co_return std::nullopt;
  auto hello = protocol::decode<v1::DaemonFrame>(*bytes);
  if (!hello || !hello->has_register_()) {
    ++stats_.refused;
    refuse(stream, "invalid_argument", "the first frame on a daemon stream must be a register");
    co_return std::nullopt;
  }
  const v1::Register& reg = hello->register_();
  const std::string token = bearer_token(stream.metadata());
  if (const std::optional<std::string> invalid = register_problem(reg)) {
    ++stats_.refused;
    refuse(stream, "invalid_argument", *invalid);
    co_return std::nullopt;
  }

  // Never admit a stream whose peer has gone: a daemon that gave up waiting (this gateway was
  // slow or hung) registers elsewhere. The flag outlives this frame; the stream owns the
  // callback, which runs from the executor, so it is read after the store's answer below.
  auto peer_gone = std::make_shared<bool>(false);
  stream.on_close([peer_gone](const Error&) { *peer_gone = true; });

  const Instant now = env_.executor.now();
  Admitted admission;
  const DaemonRecord record = record_of(reg, stamped, now);
  admission.connection_id = record.connection_id;
  admission.session_id = record.session_id;
  admission.at = env_.executor.steady_now();
  admission.protocol_version = reg.protocol_version();
  admission.methods.assign(reg.methods().begin(), reg.methods().end());
  std::sort(admission.methods.begin(), admission.methods.end());
  Task<Result<Admitted>> admitting =
      env_.store->transact_for([token, record, admission, managed = stamped.has_value(),
                                now_ms = to_ms(now)](SqlTransaction& tx) -> Result<Admitted> {
        DaemonRecord row = record;
        Admitted admitted = admission;
        if (!managed) {
          auto who = authenticate_token(tx, token, now_ms);
          if (!who) return fail(who.error());
          row.user_id = who->user.id;
          admitted.token_id = who->token_id;
        }
        if (auto ok = record_daemon_connected(tx, row); !ok) return fail(ok.error());
        admitted.user_id = row.user_id;
        admitted.daemon_id = row.id;
        return admitted;
      });
  Result<Admitted> admitted = co_await admitting;
  if (admitted && *peer_gone) {
    // Recorded for a dialer that has left: undo it (the write names this connection only, so
    // it cannot touch a later registration) and never serve or announce the stream.
    ++stats_.refused;
    scope_.spawn(record_status(admitted->daemon_id, admitted->user_id, admitted->connection_id,
                               DaemonStatus::disconnected));
    co_return std::nullopt;
  }
  if (!admitted) {
    ++stats_.refused;
    const Error& e = admitted.error();
    log_line(env_, LogLevel::warn, [&] {
      return "refused daemon " + record.id + " from " + stream.peer() + ": " + e.describe();
    });
    if (e.code == ErrorCode::outcome_unknown) {
      // The row may be written after all, naming a connection nobody will serve: selection
      // would send work there until its lease ran out. Undo it (the write names this
      // connection only, so a later registration is untouched).
      scope_.spawn(record_status(record.id, record.user_id, record.connection_id,
                                 DaemonStatus::disconnected));
    }
    if (e.code == ErrorCode::unauthenticated) {
      refuse(stream, "unauthenticated", e.message);
    } else if (e.code == ErrorCode::permission_denied) {
      refuse(stream, "permission_denied", e.message);
    } else if (e.code == ErrorCode::failed_precondition) {
      ++stats_.stale_registrations;
      refuse(stream, "stale_registration", e.message);
    } else {
      refuse(stream, "unavailable", "the gateway cannot register daemons right now: " + e.message);
    }
    co_return std::nullopt;
  }
  // The daemon's token held (or the gateway dialed it): its connection is no longer one the
  // transport may close to make room for unauthenticated ones.
  stream.mark_authenticated();
  co_return std::move(*admitted);
}

Task<void> Gateway::serve(StreamPtr stream, std::optional<Stamped> stamped) {
  // A draining gateway sends a daemon elsewhere before it registers: nothing is recorded here.
  if (drain_) {
    refuse_draining(*stream);
    co_return;
  }
  // The first frame must be a registration, in time: the deadline lives only while admit() runs.
  Stream* raw = stream.get();
  std::optional<Admitted> admission;
  {
    ScopedTimer deadline(env_.executor,
                         env_.executor.after(config_.register_timeout, [raw] { raw->close(); }));
    Task<std::optional<Admitted>> admitting = admit(*stream, std::move(stamped));
    admission = co_await admitting;
  }
  if (!admission) co_return;
  if (drain_) {
    // Admitted while the drain began: undone (the write names this connection only).
    refuse_draining(*stream);
    scope_.spawn(record_status(admission->daemon_id, admission->user_id, admission->connection_id,
                               DaemonStatus::disconnected));
    co_return;
  }
  ++stats_.registrations;
  const SteadyInstant now = admission->at;

  Connection connection{std::move(admission->connection_id), std::move(admission->daemon_id),
                        std::move(admission->user_id),       std::move(admission->session_id),
                        std::move(admission->token_id),      raw,
                        Presence(config_.presence, now),     std::make_unique<Scope>(env_.executor),
                        admission->protocol_version,         std::move(admission->methods)};
  admission.reset();
  take_over(connection);
  connection.scope->spawn(keep_alive(&connection));
  connection.scope->spawn(stream_open_requests(&connection));
  for (;;) {
    Task<Result<std::string>> next = stream->receive();
    Result<std::string> received = co_await next;
    if (!received) break;
    auto frame = protocol::decode<v1::DaemonFrame>(*received);
    if (!frame) {
      ++stats_.rejected_messages;  // dropped; the stream stays usable
      continue;
    }
    on_frame(connection, *frame);
  }

  if (auto it = connections_.find(connection.daemon_id);
      it != connections_.end() && it->second == &connection) {
    connections_.erase(it);
  }
  connection.scope.reset();
  log_line(env_, LogLevel::info, [&] {
    return "daemon " + connection.daemon_id + " disconnected (connection " +
           connection.connection_id + ")";
  });
  if (connection.presence.on_disconnect()) {
    scope_.spawn(record_status(connection.daemon_id, connection.user_id, connection.connection_id,
                               DaemonStatus::disconnected));
  }
  drain_changed();
}

void Gateway::take_over(Connection& connection) {
  // One live stream per daemon: a local predecessor is closed here, one on another gateway
  // by the eviction notice.
  if (auto old = connections_.find(connection.daemon_id); old != connections_.end()) {
    ++stats_.replaced;
    refuse(*old->second->stream, "replaced", "this daemon connected again");
  }
  connections_[connection.daemon_id] = &connection;
  log_line(env_, LogLevel::info, [&] {
    return "daemon " + connection.daemon_id + " of user " + connection.user_id +
           " connected (connection " + connection.connection_id + ")";
  });
  (void)env_.bus->publish(subjects::gateway_evict(connection.daemon_id), connection.connection_id);

  v1::GatewayFrame ack;
  ack.mutable_register_ack()->set_daemon_id(connection.daemon_id);
  ack.mutable_register_ack()->set_user_id(connection.user_id);
  ack.mutable_register_ack()->set_heartbeat_interval_ms(to_ms(config_.heartbeat_interval));
  ack.mutable_register_ack()->set_gateway_id(config_.gateway_id);
  ack.mutable_register_ack()->set_acks_heartbeats(true);
  send(connection, ack);
  publish_status(connection.daemon_id, connection.user_id, DaemonStatus::active);
}

void Gateway::on_frame(Connection& connection, const v1::DaemonFrame& frame) {
  ++connection.frames_heard;
  if (auto changed = connection.presence.on_heard(env_.executor.steady_now())) {
    scope_.spawn(record_status(connection.daemon_id, connection.user_id, connection.connection_id,
                               *changed));
  }
  switch (frame.frame_case()) {
    case v1::DaemonFrame::kToolResponse:
      on_response(connection, frame.tool_response());
      break;
    case v1::DaemonFrame::kCommandResult:
      answer_daemon_command(connection, frame.command_result());
      break;
    case v1::DaemonFrame::kOutputChunk:
      on_output(connection, frame.output_chunk());
      break;
    case v1::DaemonFrame::kHeartbeat:
      connection.idle_ms = frame.heartbeat().idle_ms();
      connection.idle_heard_at = env_.executor.steady_now();
      break;
    default:
      break;
  }
}

// A running tool's output, as a preview on its user's update stream (announced, not stored: the
// result carries all of it). Only the daemon's own user hears it, and a request this gateway
// sent to another daemon is not this one's to speak for.
void Gateway::on_output(Connection& connection, const v1::OutputChunk& chunk) {
  if (chunk.request_id().empty() || chunk.data().size() > kOutputChunkBytesMax) {
    ++stats_.rejected_messages;
    return;
  }
  if (const auto it = in_flight_.find(chunk.request_id());
      it != in_flight_.end() && it->second.daemon_id != connection.daemon_id) {
    ++stats_.rejected_messages;
    return;
  }
  updates::announce(*env_.bus, {updates::tool_output_event(
                                   connection.user_id, connection.daemon_id, chunk.request_id(),
                                   chunk.offset(), chunk.data(), to_ms(env_.executor.now()))});
}

Task<void> Gateway::keep_alive(Connection* connection) {
  SteadyInstant last_beat = env_.executor.steady_now();
  for (;;) {
    const SteadyInstant next_beat = last_beat + config_.heartbeat_interval;
    const SteadyInstant wake = std::min(next_beat, connection->presence.next_deadline());
    const Duration wait = std::max<Duration>(wake - env_.executor.steady_now(), milliseconds(1));
    co_await sleep(env_.executor, wait);
    const SteadyInstant now = env_.executor.steady_now();
    if (now >= next_beat) {
      v1::GatewayFrame beat;
      beat.mutable_heartbeat()->set_sent_at_ms(to_ms(env_.executor.now()));
      beat.mutable_heartbeat()->set_frames_heard(connection->frames_heard);
      if (!buggify(env_, "gateway.heartbeat_skipped")) send(*connection, beat);
      last_beat = now;
    }
    if (auto changed = connection->presence.on_tick(now)) {
      scope_.spawn(record_status(connection->daemon_id, connection->user_id,
                                 connection->connection_id, *changed));
    }
    if (connection->presence.presumed_dead(now)) {
      // Half-open or hung: closing ends the serve loop, which records the disconnect.
      connection->stream->close();
      co_return;
    }
  }
}

// When the daemon last served its user, on this gateway's wall clock: its reported idleness
// plus how long ago it reported it. Unknown until its first heartbeat: 0, which writes nothing.
std::int64_t Gateway::last_activity_ms(const Connection& connection) const {
  if (connection.idle_heard_at == SteadyInstant{}) return 0;
  const Duration since = env_.executor.steady_now() - connection.idle_heard_at;
  const auto idle = milliseconds(static_cast<std::int64_t>(
      std::min<std::uint64_t>(connection.idle_ms, std::uint64_t{1} << 40)));
  return to_ms(env_.executor.now() - since - idle);
}

Task<void> Gateway::renew_leases() {
  // What each transaction renews, taken before the first one is awaited: connections may come
  // and go meanwhile.
  struct Batch {
    std::vector<LeaseRenewal> renewals;
    // The tokens that admitted the streams are checked again with every renewal, so a
    // revocation whose announcement was lost still ends its streams within a renewal.
    std::set<std::string> tokens;
  };
  // The lease is read by other processes: it is written in wall-clock time.
  const std::int64_t lease_until_ms = to_ms(env_.executor.now() + config_.presence.stale_after);
  std::vector<Batch> batches;
  for (const auto& [daemon_id, connection] : connections_) {
    // A renewal that did not happen (a store hiccup): the lease outlives a few renewals.
    if (buggify(env_, "gateway.renewal_skipped")) continue;
    if (batches.empty() || batches.back().renewals.size() == kRenewalsPerTransactionMax) {
      batches.emplace_back();
    }
    batches.back().renewals.push_back(LeaseRenewal{daemon_id, connection->connection_id,
                                                   connection->presence.status(), lease_until_ms,
                                                   last_activity_ms(*connection)});
    if (!connection->token_id.empty()) batches.back().tokens.insert(connection->token_id);
  }
  for (const Batch& batch : batches) {
    struct Renewed {
      std::vector<bool> owned;
      std::set<std::string> active_tokens;
    };
    Task<Result<Renewed>> renewing = env_.store->transact_for(
        [batch, now_ms = to_ms(env_.executor.now())](SqlTransaction& tx) -> Result<Renewed> {
          auto owned = renew_daemon_leases(tx, batch.renewals);
          if (!owned) return fail(owned.error());
          auto active = active_tokens(tx, batch.tokens, now_ms);
          if (!active) return fail(active.error());
          return Renewed{std::move(*owned), std::move(*active)};
        });
    Result<Renewed> renewed = co_await renewing;
    if (!renewed) continue;  // one attempt per renewal: the next period tries again
    for (std::size_t i = 0; i < batch.renewals.size(); ++i) {
      answer_renewal(batch.renewals[i], renewed->owned[i], renewed->active_tokens);
    }
  }
}

void Gateway::answer_renewal(const LeaseRenewal& renewal, bool owned,
                             const std::set<std::string>& active_tokens) {
  // The connection may have ended, or been replaced, while the store answered.
  const auto held = connections_.find(renewal.daemon_id);
  if (held == connections_.end() || held->second->connection_id != renewal.connection_id) return;
  Connection& connection = *held->second;
  if (!connection.token_id.empty() && active_tokens.count(connection.token_id) == 0) {
    ++stats_.credentials_revoked;
    refuse(*connection.stream, "unauthenticated", "the daemon's token was revoked or expired");
    return;
  }
  if (owned) return;
  // The row names another connection: the daemon registered again later (here or elsewhere),
  // so this stream is not the one the platform routes to. Let it go rather than hold a daemon
  // nobody can reach through us; the daemon keeps whichever stream is its newest.
  ++stats_.ownership_lost;
  log_line(env_, LogLevel::info, [&] {
    return "daemon " + connection.daemon_id + " registered again elsewhere: letting connection " +
           connection.connection_id + " go";
  });
  connection.stream->close();
}

Task<void> Gateway::record_status(std::string daemon_id, std::string user_id,
                                  std::string connection_id, DaemonStatus status) {
  // Retried through store faults: the recorded status must converge to the truth. Each write
  // is conditional on the connection, so a stale one changes nothing.
  const WriteInProgress writing_status(*this);
  Backoff backoff(BackoffPolicy{milliseconds(200), seconds(5), 2.0, 0.5});
  for (int attempt = 0; attempt < kStatusWriteAttemptsMax; ++attempt) {
    Task<Result<bool>> writing = env_.store->transact_for(
        [daemon_id, connection_id, status,
         now_ms = to_ms(env_.executor.now())](SqlTransaction& tx) -> Result<bool> {
          return record_daemon_status(tx, daemon_id, connection_id, status, now_ms);
        });
    Result<bool> applied = co_await writing;
    if (applied) {
      // Else a newer connection won. A refused registration knows no user: nobody was told.
      if (*applied && !user_id.empty()) publish_status(daemon_id, user_id, status);
      co_return;
    }
    co_await sleep(env_.executor, backoff.next(env_.random));
  }
}

Gateway::Connection* Gateway::holder(const std::string& daemon_id, const std::string& user_id) {
  const auto it = connections_.find(daemon_id);
  if (it == connections_.end()) return nullptr;
  // A daemon serves only its own user: a message naming another user's daemon goes nowhere.
  return it->second->user_id == user_id ? it->second : nullptr;
}

void Gateway::send(Connection& connection, const v1::GatewayFrame& frame) {
  (void)connection.stream->send(protocol::encode(frame));
}

void Gateway::on_credential_revoked(const BusMessage& message) {
  auto user = subjects::user_of(message.subject, "auth.revoked");
  if (!user || message.data.empty()) return;
  // Every stream the token admitted ends: the daemon stops getting requests at once, and
  // registers again if it can (with a login) — with a token that holds.
  std::vector<Connection*> revoked;
  for (const auto& [daemon_id, connection] : connections_) {
    if (connection->user_id == *user && connection->token_id == message.data) {
      revoked.push_back(connection);
    }
  }
  for (Connection* connection : revoked) {
    ++stats_.credentials_revoked;
    refuse(*connection->stream, "unauthenticated", "the daemon's token was revoked");
  }
}

void Gateway::on_evict(const BusMessage& message) {
  auto daemon_id = subjects::user_of(message.subject, "gateway.evict");
  const auto it = daemon_id ? connections_.find(*daemon_id) : connections_.end();
  if (it == connections_.end() || it->second->connection_id == message.data) return;
  ++stats_.replaced;
  refuse(*it->second->stream, "replaced", "this daemon connected again through another gateway");
}

void Gateway::publish_status(const std::string& daemon_id, const std::string& user_id,
                             DaemonStatus status) {
  ++stats_.status_changes;
  v1::DaemonStatusEvent event;
  event.set_daemon_id(daemon_id);
  event.set_user_id(user_id);
  event.set_status(protocol::wire_status(status));
  event.set_gateway_id(config_.gateway_id);
  event.set_at_ms(to_ms(env_.executor.now()));
  (void)env_.bus->publish(subjects::daemon_status(user_id), protocol::to_json(event));
}

void Gateway::on_online_check(const BusMessage& message) {
  auto user = subjects::user_of(message.subject, "daemon.online");
  auto check = protocol::from_json<v1::OnlineCheck>(message.data);
  if (!user || !check || message.reply_to.empty()) return;
  if (holder(check->daemon_id(), *user) == nullptr) return;
  v1::OnlineCheckReply reply;
  reply.set_online(true);
  reply.set_gateway_id(config_.gateway_id);
  (void)env_.bus->publish(message.reply_to, protocol::to_json(reply));
}

Task<void> Gateway::sweep() {
  SteadyInstant last_memory_sweep = env_.executor.steady_now();
  for (;;) {
    co_await sleep(env_.executor, lease_renewal());
    Task<void> renewing = renew_leases();
    co_await renewing;
    Task<void> expiring = expire_dead_leases();
    co_await expiring;
    // Bounded memory: callers that never got an answer (their daemon went away) are forgotten
    // after the TTL; they time out on their side.
    const SteadyInstant now = env_.executor.steady_now();
    if (now - last_memory_sweep >= minutes(1) || buggify(env_, "gateway.memory_swept_early")) {
      last_memory_sweep = now;
      std::erase_if(in_flight_, [now](const auto& entry) { return entry.second.expires_at < now; });
      std::erase_if(pending_commands_,
                    [now](const auto& entry) { return entry.second.expires_at < now; });
      drain_changed();
    }
  }
}

Task<void> Gateway::expire_dead_leases() {
  // A lease is written on its holder's clock, which is not ours: comparing the two would let a
  // gateway whose clock runs ahead record live daemons as disconnected. Instead a lease is dead
  // once this gateway has seen it unchanged for stale_after on its own steady clock — its holder
  // missed every renewal (three per stale_after) in that time.
  const SteadyInstant now = env_.executor.steady_now();
  Task<Result<std::vector<DaemonLease>>> reading = env_.store->transact_for(
      [gateway = config_.gateway_id, now_ms = to_ms(env_.executor.now())](SqlTransaction& tx) {
        return leased_daemons(tx, gateway, now_ms);
      });
  Result<std::vector<DaemonLease>> leases = co_await reading;
  if (!leases) co_return;  // the next sweep looks again; sightings stay as they were

  std::map<std::string, LeaseSighting> sightings;
  std::vector<DaemonLease> dead;
  for (auto& lease : *leases) {
    const auto held = connections_.find(lease.id);
    if (held != connections_.end() && held->second->connection_id == lease.connection_id) {
      continue;  // ours, and live: we renew it
    }
    LeaseSighting sighting{lease.connection_id, lease.lease_until_ms, now};
    if (const auto seen = lease_sightings_.find(lease.id);
        seen != lease_sightings_.end() && seen->second.connection_id == lease.connection_id &&
        seen->second.lease_until_ms == lease.lease_until_ms) {
      sighting.first_seen = seen->second.first_seen;
    }
    if (now - sighting.first_seen >= config_.presence.stale_after) {
      dead.push_back(std::move(lease));
    } else {
      sightings.emplace(lease.id, std::move(sighting));
    }
  }
  lease_sightings_ = std::move(sightings);  // what is not in the store any more is forgotten
  RELIANT_ASSERT(lease_sightings_.size() <= leases->size());
  for (const auto& lease : dead) {
    Task<Result<bool>> expiring = env_.store->transact_for(
        [lease](SqlTransaction& tx) { return expire_daemon_lease(tx, lease); });
    Result<bool> expired = co_await expiring;
    // Renewed meanwhile, or taken over: alive after all. A store error: seen again next time.
    if (expired && *expired) {
      ++stats_.leases_expired;
      log_line(env_, LogLevel::info, [&] {
        return "daemon " + lease.id + " recorded disconnected: its gateway stopped renewing";
      });
      publish_status(lease.id, lease.user_id, DaemonStatus::disconnected);
    }
  }
}

}  // namespace reliant::gateway

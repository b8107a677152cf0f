// Gateway: holds the daemons' streams and bridges them to the bus (spec S1.9–S1.12).
//
// It accepts daemon streams, authenticates each by its PAT against the store, keeps one live
// stream per daemon identity (a newer connection, here or on another gateway, closes the older
// one), tracks each daemon's status (active → idle → disconnected, spec S0.20) in the store and
// on the bus, and runs the ToolBridge:
//   - fire-and-forget subjects (tool requests, cancellations, config reloads) in the gateways'
//     queue group: the
//     one gateway that gets a message serves it, or hands it to the gateway holding the daemon
//     (gateway.deliver.<daemon>); if nobody holds it, the durable request waits in the store;
//   - request-reply subjects (synchronous tool calls, kill process, daemon commands, online
//     checks) on plain subscriptions: every gateway hears them, only the holder answers.
// When a daemon connects, the gateway streams it the requests still open for it in the store.
//
// Asked to stop (begin_drain, a rolling update), it drains: it leaves the queue groups, refuses
// new streams and new tool calls, tells each daemon to go to another gateway once its calls are
// answered (all of them when the drain timeout passes), releases their rows, and says it is done
// (gateway_drain.cc, core/gateway_drain.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/gateway_drain.h"
#include "core/presence.h"
#include "protocol/codec.h"
#include "reliant/daemon/v1/daemon.pb.h"
#include "runtime/env.h"
#include "runtime/ids.h"
#include "runtime/scope.h"
#include "runtime/wakeup.h"

namespace reliant {
struct DaemonRecord;  // services/storage/daemons.h
struct LeaseRenewal;  // services/storage/daemons.h
}  // namespace reliant

namespace reliant::gateway {

namespace v1 = reliant::daemon::v1;

struct GatewayConfig {
  std::string gateway_id;      // unique among gateways
  std::string listen_address;  // where daemons dial in
  Duration heartbeat_interval = seconds(15);
  PresencePolicy presence;  // stale after 30 s → idle; silent 2 min → closed, disconnected
  Duration register_timeout = seconds(10);
  Duration forward_timeout = seconds(2);
  // How long a synchronous request's reply inbox is remembered without an answer.
  Duration sync_request_ttl = minutes(15);
  std::int64_t open_requests_batch = 256;
  // Requests and commands this gateway sent down its streams and awaits answers for, at most:
  // a flood of them (a misbehaving router, daemons that never answer) cannot grow the gateway
  // without bound. Past the bound a synchronous call is refused (resource_exhausted), a durable
  // one is still sent (its answer finds its way through the store) and a command is dropped
  // (its caller times out).
  std::size_t in_flight_max = 100'000;
  std::size_t sync_inboxes_per_request_max = 16;
  std::size_t pending_commands_max = 10'000;
};

// Counters for tests, the simulator's report and /debug.
struct GatewayStats {
  std::uint64_t streams_accepted = 0;
  std::uint64_t registrations = 0;
  std::uint64_t refused = 0;   // bad or missing credentials, malformed registration
  std::uint64_t replaced = 0;  // older streams closed for a newer connection of the daemon
  std::uint64_t requests_sent = 0;
  std::uint64_t requests_forwarded = 0;
  std::uint64_t requests_parked = 0;  // no gateway held the daemon: left pending in the store
  std::uint64_t responses = 0;
  std::uint64_t lost_requests = 0;  // dispatched to a daemon process that has since restarted
  std::uint64_t status_changes = 0;
  std::uint64_t rejected_messages = 0;  // malformed or addressed to another user's daemon
  std::uint64_t managed_dials = 0;      // managed daemons dialed (reverse connections)
  std::uint64_t managed_dial_failures = 0;
  // Registrations refused because the daemon registered again later (held up while this
  // gateway hung).
  std::uint64_t stale_registrations = 0;
  // Streams let go because a lease renewal found the row owned by a later connection.
  std::uint64_t ownership_lost = 0;
  std::uint64_t leases_expired = 0;       // other gateways' daemons recorded disconnected
  std::uint64_t over_bounds = 0;          // requests or commands refused at in_flight_max & co
  std::uint64_t credentials_revoked = 0;  // streams ended: the token that admitted them went
  // Draining: daemons told to go to another gateway, streams and tool calls refused meanwhile.
  std::uint64_t drained_daemons = 0;
  std::uint64_t refused_draining = 0;
};

class Gateway {
 public:
  // Subscribes to the bridge's subjects and listens for daemons. Fails when the address is
  // taken or malformed, or the bus refuses a subscription.
  static Result<std::unique_ptr<Gateway>> start(Env& env, GatewayConfig config,
                                                GatewayStats* stats = nullptr);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // The unary fallback (ToolsDaemonService.ReportToolResult): a daemon reports a result while
  // its stream is down. Authenticated by the daemon's PAT; the request must be one of its
  // user's, addressed to the daemon named in the response.
  Task<Result<void>> report_result(std::string token, v1::ToolResponse response);
  // DaemonService.ListDaemons: the token's user's daemons with their recorded status.
  Task<Result<v1::ListDaemonsResponse>> list_daemons(std::string token);

  // Drains (see the top of this file), then calls `drained` on a later turn of this gateway's
  // executor (so it may destroy the gateway: its process exits), at most `timeout` (> 0) from
  // now plus a store transaction. Call once.
  void begin_drain(Duration timeout, std::function<void()> drained);
  bool draining() const { return drain_.has_value(); }

  std::size_t connected_daemons() const { return connections_.size(); }
  bool holds(const std::string& daemon_id) const { return connections_.count(daemon_id) != 0; }
  const std::string& id() const { return config_.gateway_id; }
  // Where daemons dial in, with the port the system chose for port 0.
  std::string listen_address() const { return listener_->address(); }

 private:
  struct Connection;
  struct PendingCommand;
  struct InFlight;
  struct WriteInProgress;

  Gateway(Env& env, GatewayConfig config, GatewayStats* stats);
  Result<void> open();

  // A managed daemon's identity, stamped by the gateway from a ManagedConnect command.
  struct Stamped {
    std::string daemon_id;
    std::string user_id;
  };
  // Serves one daemon stream: accepted (authenticated by PAT) or dialed to a managed daemon
  // (identity stamped).
  Task<void> serve(StreamPtr stream, std::optional<Stamped> stamped);
  Task<void> connect_managed(v1::ManagedConnect command);
  Task<Result<bool>> managed_dial_wanted(std::string daemon_id);
  // An admitted registration: who the stream's daemon is.
  struct Admitted {
    std::string daemon_id;
    std::string user_id;
    std::string connection_id;
    std::string session_id;
    std::string token_id;
    SteadyInstant at{};                  // when admitted, on this gateway's steady clock
    std::uint32_t protocol_version = 0;  // Register's
    std::vector<std::string> methods;    // sorted
  };
  Task<std::optional<Admitted>> admit(Stream& stream, std::optional<Stamped> stamped);
  // An admitted stream becomes the daemon's one connection: an older one is replaced, the
  // daemon acknowledged, its status announced.
  void take_over(Connection& connection);
  DaemonRecord record_of(const v1::Register& reg, const std::optional<Stamped>& stamped,
                         Instant now);
  void on_connect_command(const BusMessage& message);
  Task<void> keep_alive(Connection* connection);
  std::int64_t last_activity_ms(const Connection& connection) const;
  Task<void> stream_open_requests(Connection* connection);
  Task<void> dispatch(Connection* connection, v1::ToolRequest request);
  Task<void> forward(v1::GatewayFrame frame, std::string daemon_id);
  // Stores a daemon's answer to a durable request (the first one counts; none: only look it
  // up) and publishes the stored answer to the request's reply subject.
  Task<void> complete(std::string request_id, std::string daemon_id,
                      std::optional<std::string> result_json);
  Task<void> record_status(std::string daemon_id, std::string user_id, std::string connection_id,
                           DaemonStatus status);
  void on_response(Connection& connection, v1::ToolResponse response);
  void on_frame(Connection& connection, const v1::DaemonFrame& frame);
  void on_output(Connection& connection, const v1::OutputChunk& chunk);
  static constexpr std::size_t kOutputChunkBytesMax = 64 * 1024;

  // Bus handlers.
  void on_tool_request(const BusMessage& message);
  // tools.request.sync.<user> (JSON) and tools.call.<user> (binary): answered in the same.
  void on_sync_tool_request(const BusMessage& message, protocol::BusEncoding encoding);
  void on_cancel(const BusMessage& message);
  void on_daemon_command(const BusMessage& message);
  void on_reload(const BusMessage& message);
  void on_online_check(const BusMessage& message);
  void on_deliver(const BusMessage& message);
  void on_evict(const BusMessage& message);
  void on_credential_revoked(const BusMessage& message);

  // The connection holding `daemon_id` for `user_id`, or null.
  Connection* holder(const std::string& daemon_id, const std::string& user_id);
  void send(Connection& connection, const v1::GatewayFrame& frame);
  // Every lease_renewal(): renews the leases of the daemons held, expires the leases of dead
  // gateways' daemons, and forgets unanswered callers.
  Task<void> sweep();
  // Renews every held daemon's lease, kRenewalsPerTransactionMax to a transaction (one
  // transaction a period for a gateway's whole fleet, not one a daemon); a renewal that finds a
  // later connection on the row closes ours, and one whose token is no longer active refuses it.
  Task<void> renew_leases();
  // Acts on one renewal's answer: `owned` (the row is still this connection's) and the tokens
  // found active.
  void answer_renewal(const LeaseRenewal& renewal, bool owned,
                      const std::set<std::string>& active_tokens);
  Task<void> expire_dead_leases();
  // Kill and command requests go down the holder's stream; the daemon's answer goes to the
  // request's inbox when it comes (answer_command).
  template <class Request>
  void relay_command(const BusMessage& message, std::string_view prefix,
                     Request* (v1::GatewayFrame::*slot)());
  void answer_command(const std::string& command_id, const google::protobuf::Message& result);
  // A daemon command's answer; a typed call's that went as a verb becomes the method's response.
  void answer_daemon_command(const Connection& connection, const v1::DaemonCommandResult& result);
  // A typed call checked against what `connection`'s daemon announced: refused when it lacks
  // the method, turned into its verb for a daemon of protocol 0 (`pending` then translates the
  // answer back).
  Result<void> prepare_call(const Connection& connection, v1::DaemonCommand& command,
                            PendingCommand& pending) const;
  void publish_status(const std::string& daemon_id, const std::string& user_id,
                      DaemonStatus status);
  // Each held daemon's row is leased for stale_after and renewed three times as often.
  Duration lease_renewal() const { return config_.presence.stale_after / 3; }
  // Bounds a renewal transaction: on Postgres, its statements go out in one round trip.
  static constexpr std::size_t kRenewalsPerTransactionMax = 512;

  // Draining (gateway_drain.cc).
  Task<void> drain(std::function<void()> drained);
  // The daemons held, each with what is in flight for it.
  std::vector<HeldDaemon> held_daemons() const;
  // Tells a daemon to connect to another gateway, and ends its stream.
  void send_elsewhere(Connection& connection);
  // A stream that came while draining: told to go elsewhere (shutting_down) and closed.
  void refuse_draining(Stream& stream);
  // Marks disconnected the rows of the connections it sent elsewhere that still name them (a
  // registration since outranks it); returns how many.
  Task<Result<std::size_t>> release_rows();
  // Something the drain waits on changed: it looks again.
  void drain_changed();
  // A call that is not in flight here already, while draining: not taken (its caller's retry,
  // or the store, brings it to the gateway that holds the daemon next).
  bool refuses_new_call(const std::string& request_id) const;

  Env& env_;
  GatewayConfig config_;
  GatewayStats own_stats_;
  GatewayStats& stats_;
  IdGenerator ids_;
  // By daemon id. Each Connection lives in the frame of the task serving its stream.
  std::map<std::string, Connection*> connections_;
  // Set while draining. The drain waits on drain_changed_, and on writes_pending_: results and
  // statuses being stored.
  std::optional<GatewayDrain> drain_;
  Wakeup drain_changed_;
  std::size_t writes_pending_ = 0;
  // The connections the drain sent elsewhere (at most one per daemon held when it began, and
  // per daemon admitted while it began).
  struct HandedOver {
    std::string daemon_id;
    std::string user_id;
    std::string connection_id;
  };
  std::vector<HandedOver> handed_over_;
  std::map<std::string, InFlight> in_flight_;  // by request id
  // Whether `request_id` is tracked already or in_flight_ has room for it (config_.in_flight_max).
  bool in_flight_has_room(const std::string& request_id) const;
  // Kill and command requests waiting for the daemon's answer, by command id.
  struct PendingCommand {
    std::string inbox;
    // Whose stream it went down, and the daemon process (a draining gateway waits for its
    // answer while that process is held).
    std::string daemon_id;
    std::string session_id;
    SteadyInstant expires_at{};
    // A typed call sent as a verb to a daemon of protocol 0: how its answer becomes the
    // method's response (legacy_daemon_calls.h). Unset for everything else.
    std::function<std::string(const nlohmann::json&)> legacy_respond;
  };
  std::map<std::string, PendingCommand> pending_commands_;
  // Other gateways' leases as this one last saw them, by daemon id: one unchanged for
  // stale_after of our own steady clock is dead. Holds at most the rows the last sweep read.
  struct LeaseSighting {
    std::string connection_id;
    std::int64_t lease_until_ms = 0;
    SteadyInstant first_seen{};
  };
  std::map<std::string, LeaseSighting> lease_sightings_;
  // Managed daemons with a connect loop running here: one each, however many commands came
  // (two loops of one gateway would take the pod's one stream from each other forever). A
  // command for one already looping gives it the address to dial and cuts its backoff short:
  // its pod was just (re)started.
  struct ManagedDial {
    explicit ManagedDial(Executor& executor) : asked_again(executor) {}
    std::string address;   // the latest command's: a restarted pod may listen elsewhere
    std::string dial_key;  // shown to the daemon (core/managed_dial_key.h)
    Wakeup asked_again;
  };
  std::map<std::string, ManagedDial> managed_dialling_;
  std::vector<SubscriptionPtr> subscriptions_;
  // The queue groups' subscriptions: a draining gateway leaves them first, so that what one
  // gateway of the group must serve goes to the others.
  std::vector<SubscriptionPtr> queued_subscriptions_;
  ListenerPtr listener_;
  Scope scope_;  // last: destroyed first
};

}  // namespace reliant::gateway

// Daemon: the tools daemon's connection to the platform (spec S0.2–S0.10). It dials a gateway,
// registers, heartbeats, runs tool requests concurrently (each with its own timeout, each
// cancellable), answers redelivered requests from its result cache, and reconnects with
// exponential backoff and jitter — rotating through the gateways it was given. A gateway going
// away (shutting_down: a rolling update drains it) is no failure: the daemon dials the next
// gateway at once. On an authentication error it recovers by itself: it deletes the stale
// credentials, registers again and retries.
//
// The same class runs in the simulator and in `reliant daemon start`; only the ports differ.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/backoff.h"
#include "core/daemon_status.h"
#include "reliant/daemon/v1/daemon.pb.h"
#include "runtime/env.h"
#include "runtime/future.h"
#include "runtime/scope.h"
#include "services/daemon/command_poller.h"
#include "services/daemon/commands_once.h"
#include "services/daemon/send_progress.h"
#include "services/daemon/tool_runner.h"
#include "services/daemon/tools/tool.h"

namespace reliant::daemon {

// What the daemon says about itself when it registers.
struct DaemonIdentity {
  std::string name;
  DaemonType type = DaemonType::local;
  std::map<std::string, std::string> labels;
  std::string hostname;
  std::string platform;
  std::string working_dir;
  std::string version;
};

struct DaemonConfig {
  std::vector<std::string> gateways;  // addresses, tried in turn on each reconnect
  // A managed (cloud) daemon accepts the gateway's stream here instead of dialing (see
  // listen()); it may have no gateways to dial at all.
  std::string listen_address;
  // The key a gateway must show to be served there (core/managed_dial_key.h). Empty: any
  // stream is served, which listen() warns about (a daemon an operator provisioned by hand).
  std::string dial_key;
  DaemonIdentity identity;
  // The read-only permission profile (managed daemons): typed calls that only read (List*,
  // Get*, Search*, Follow*) are announced and answered, the rest refused. Its tools are the
  // caller's to narrow (ToolSet::keep_read_only).
  bool read_only = false;
  Duration heartbeat_interval = seconds(15);
  // No frame from the gateway for this long: the stream is presumed dead (half-open) and the
  // daemon reconnects.
  Duration stale_after = seconds(30);
  Duration dial_timeout = seconds(10);
  Duration register_timeout = seconds(10);
  BackoffPolicy reconnect{milliseconds(500), seconds(30), 2.0, 0.5};
  Duration default_tool_timeout = minutes(10);  // when a request names none
  std::size_t result_cache_entries = 4096;
  std::size_t output_limit_bytes = 512 * 1024;  // keeps every response under the bus's 1 MiB
  // The user this daemon must serve (`reliant daemon start --user-id`); empty: whoever its
  // credentials belong to. A gateway that registers it for someone else is refused, and a
  // dialing daemon stops (retrying with the same credentials cannot help).
  std::string expected_user_id;
  // Commands enabled (seed 004's Commands protocol): where it polls for them; null: none. Its
  // handlers: reload, restart and run_tool (core/queued_command.h).
  CommandSource* commands = nullptr;
  CommandPollerConfig command_poller;
  // What `restart` does: replace the process with a fresh one (it need not return). Empty:
  // restart is refused.
  std::function<void()> restart;
  CommandRan command_ran;  // hears each command a handler runs (the simulator's checker)
};

// The daemon's credentials and stable identity on its machine: the credentials file and
// ~/.reliant/daemon.json for the real binary, memory in the simulator.
class CredentialStore {
 public:
  virtual ~CredentialStore() = default;
  virtual std::optional<std::string> token() const = 0;
  // Deletes stale credentials (after the gateway refused them).
  virtual void discard_token() = 0;
  // Obtains fresh credentials — the registration flow. Fails with `failed_precondition` when
  // this daemon cannot register by itself (no login to register with): the daemon then stops
  // and says so. Other errors are retried with backoff.
  virtual Task<Result<std::string>> reregister() = 0;
  virtual std::string daemon_id() const = 0;  // empty before the first registration
  virtual void save_daemon_id(const std::string& daemon_id) = 0;
  // The number of the next registration (Register.registration_seq): larger than every number
  // returned before for this daemon, across restarts of its process — at least `now` in ms and
  // past the last one, which is kept with the daemon id, so neither a lost file nor a clock set
  // back alone can make it repeat.
  // Implementations keep the last number and store `registration_seq_after(last, now)`.
  virtual std::uint64_t next_registration_seq(Instant now) = 0;
};

// The registration number after `last` at `now`: past `last`, and at least `now` in ms.
std::uint64_t registration_seq_after(std::uint64_t last, Instant now);

// Notified of what happens inside a daemon; outlives it (tests and the simulator's checkers).
class DaemonObserver {
 public:
  virtual ~DaemonObserver() = default;
  virtual void on_registered(const std::string& /*daemon_id*/, const std::string& /*gateway*/) {}
  virtual void on_disconnected() {}
  // The gateway said it is going away (before on_disconnected, or instead of an acknowledgement):
  // the daemon dials its next gateway at once.
  virtual void on_gateway_leaving(const std::string& /*gateway*/) {}
  // A gateway could not be reached (the daemon backs off and tries the next one).
  virtual void on_connect_failed(const std::string& /*gateway*/, const Error& /*why*/) {}
  // A tool actually starts running (never for a request answered from the cache).
  virtual void on_execute(const v1::ToolRequest& /*request*/) {}
  virtual void on_auth_failure() {}
  // A stream came to a managed daemon without its dial key and was closed unserved.
  virtual void on_stranger_refused(const std::string& /*peer*/) {}
  // The daemon stopped for good (e.g. its credentials were refused and it cannot register).
  virtual void on_fatal(const Error& /*why*/) {}
};

class Daemon {
 public:
  Daemon(Env& env, DaemonConfig config, CredentialStore& credentials, RequestJournal& journal,
         ToolSet& tools, DaemonObserver* observer = nullptr);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Managed daemons: accept gateways' streams on config.listen_address (ConnectGateway). A
  // stream without the dial key is closed at once; a newer one with it replaces every one being
  // served, registered or still registering. Fails when the address is taken or malformed.
  Result<void> listen();

  bool registered() const { return stream_ != nullptr; }
  const std::string& daemon_id() const { return daemon_id_; }
  const std::string& user_id() const { return user_id_; }
  const std::string& session_id() const { return session_id_; }
  std::size_t running_tools() const { return runner_.running(); }
  std::uint64_t strangers_refused() const { return strangers_refused_; }

 private:
  Task<void> connect_loop();
  // How a session ended without an error: the stream was lost, or its gateway said it is going
  // away (refused the registration or ended the session with shutting_down).
  enum class SessionEnd { lost, gateway_leaving };
  // One stream: register, then serve frames until it ends. Fails with `unauthenticated` when
  // the gateway refused the credentials.
  Task<Result<SessionEnd>> serve(Stream& stream, std::string address);
  // A registered session's frames, until the stream ends or the gateway ends it.
  // With `unheard_max` (a gateway that says what it heard, unheard_max_for), the session ends
  // when the gateway hears nothing more of what the daemon sends for that long: see heartbeats().
  Task<Result<SessionEnd>> serve_frames(Stream& stream, std::string address,
                                        Duration heartbeat_interval,
                                        std::optional<Duration> unheard_max);
  // Once `stream` ends: no longer the registered stream, unless a newer one took over.
  void forget_stream(const Stream& stream);
  // Whether to dial the next gateway at once after `ended`: a gateway going away, and not every
  // gateway in a row (all of them going away, or one address behind a load balancer that still
  // sends it to the one leaving): then the backoff paces it.
  bool redial_at_once(const Result<SessionEnd>& ended);
  // The Register this daemon opens a stream with: who it is (its id proposed the first time),
  // its tools, its protocol and methods, and the next registration_seq.
  v1::DaemonFrame register_frame();
  // Every `interval` until the session ends, the gateway falls silent for stale_after, or (with
  // `progress`, from a gateway that says what it heard) it has heard nothing more of what the
  // daemon sends for `unheard_max`. The interval is the gateway's (its RegisterAck's), no
  // slower than ours: its stale and disconnect timeouts are built on it, whatever this daemon
  // was started with.
  Task<void> heartbeats(Stream& stream, Duration interval, SendProgress* progress,
                        Duration unheard_max);
  Duration heartbeat_interval_for(const v1::RegisterAck& ack) const;
  // How long the gateway may hear nothing more of what the daemon sends; none from an older
  // gateway, which does not say.
  std::optional<Duration> unheard_max_for(const v1::RegisterAck& ack) const;
  Task<void> serve_accepted(StreamPtr stream);
  // Whether an accepted stream shows the dial key (always, when the daemon has none).
  bool dialled_by_platform(const Stream& stream) const;
  void refuse_stranger(StreamPtr stream);
  void handle(v1::GatewayFrame frame);
  Duration idle_for() const;
  void send(const v1::DaemonFrame& frame);
  void send_response(const v1::ToolResponse& response);
  void send_encoded(std::string frame);
  void run_command(const v1::DaemonCommand& command);
  Task<void> answer_command(v1::DaemonCommand command);
  Json identity_json() const;
  // The Commands protocol's handlers.
  std::map<CommandName, CommandHandler> command_handlers();
  Task<CommandOutcome> reload_command(PolledCommand command);
  Task<CommandOutcome> run_tool_command(PolledCommand command);

  Env& env_;
  DaemonConfig config_;
  CredentialStore& credentials_;
  ToolSet& tools_;
  DaemonObserver* observer_;
  std::string session_id_;  // new for every start of the process
  std::string daemon_id_;
  std::string user_id_;
  Stream* stream_ = nullptr;                 // the registered stream of the newest session, if any
  SendProgress* stream_progress_ = nullptr;  // what is sent on it, when its gateway says
  // Sessions (streams being served, registered or not) and how many were started: only the
  // newest may become stream_, and accepting a stream closes every older one.
  std::set<Stream*> sessions_;
  std::uint64_t sessions_started_ = 0;
  ListenerPtr listener_;
  std::uint64_t strangers_refused_ = 0;
  SteadyInstant last_heard_{};
  // When it last served its user (idle_for: what its heartbeats report).
  SteadyInstant last_served_{};
  std::uint64_t heartbeat_sequence_ = 0;
  CommandsOnce commands_once_;  // commands and typed calls run once by command_id
  Backoff backoff_;
  // Gateways that said they are going away since the last registration, at most
  // config_.gateways.size() before the backoff paces the dials again.
  std::size_t gateways_leaving_ = 0;
  std::unique_ptr<BackgroundProcesses> background_;
  std::unique_ptr<TerminalSessions> terminals_;
  ToolContext context_;
  ToolRunner runner_;  // after what its tools use: stopped before they go
  // The answers run_tool commands wait for, by request id (the rest go to the gateway).
  std::map<std::string, Promise<v1::ToolResponse>> command_tools_;
  std::unique_ptr<CommandPoller> commands_;  // after the runner it runs tools on
  Scope scope_;                              // last: destroyed first, before anything its tasks use
};

}  // namespace reliant::daemon

// The tools daemon's connect loop, stream session and tool execution.
#include "services/daemon/daemon.h"

#include <algorithm>
#include <bit>

#include <nlohmann/json.hpp>

#include "base/constant_time.h"
#include "base/json_parse.h"
#include "core/managed_dial_key.h"
#include "protocol/codec.h"
#include "protocol/daemon_wire.h"
#include "runtime/ids.h"
#include "runtime/sleep.h"
#include "services/daemon/daemon_methods.h"
#include "services/daemon/terminal_sessions.h"
#include "services/daemon/tools/background_processes.h"

namespace reliant::daemon {

std::uint64_t registration_seq_after(std::uint64_t last, Instant now) {
  const auto now_ms = static_cast<std::uint64_t>(std::max<std::int64_t>(to_ms(now), 0));
  return std::max(last + 1, now_ms);
}

Daemon::Daemon(Env& env, DaemonConfig config, CredentialStore& credentials, RequestJournal& journal,
               ToolSet& tools, DaemonObserver* observer)
    : env_(env),
      config_(std::move(config)),
      credentials_(credentials),
      tools_(tools),
      observer_(observer),
      session_id_(IdGenerator(env.executor, env.random.split("daemon-session")).next()),
      daemon_id_(credentials.daemon_id()),
      backoff_(config_.reconnect),
      background_(std::make_unique<BackgroundProcesses>(env.executor, *env.host)),
      terminals_(std::make_unique<TerminalSessions>(env.executor, *env.host,
                                                    config_.identity.working_dir)),
      context_{
          env.executor, *env.host,       config_.identity.working_dir, config_.output_limit_bytes,
          *background_, terminals_.get()},
      runner_(
          env.executor, tools, context_, journal, config_.result_cache_entries,
          config_.default_tool_timeout,
          [this](const v1::ToolResponse& response) {
            if (const auto waiting = command_tools_.find(response.request_id());
                waiting != command_tools_.end()) {
              waiting->second.set(response);
              command_tools_.erase(waiting);
              return;
            }
            send_response(response);
          },
          [observer](const v1::ToolRequest& request) {
            if (observer != nullptr) observer->on_execute(request);
          }),
      scope_(env.executor) {
  last_served_ = env.executor.steady_now();  // a new daemon has been idle since it started
  RELIANT_ASSERT_MSG(!config_.gateways.empty() || !config_.listen_address.empty(),
                     "a daemon needs a gateway to dial or an address to be dialed on");
  RELIANT_ASSERT_MSG(env.transport != nullptr && env.host != nullptr,
                     "a daemon needs a transport and a host");
  // What a running tool prints goes to the gateway as it comes, for the user's clients to watch.
  runner_.set_output_listener([this](const v1::OutputChunk& chunk) {
    v1::DaemonFrame frame;
    *frame.mutable_output_chunk() = chunk;
    send(frame);
  });
  if (!config_.gateways.empty()) scope_.spawn(connect_loop());
  if (config_.commands != nullptr) {
    commands_ =
        std::make_unique<CommandPoller>(env_, *config_.commands, journal, command_handlers(),
                                        config_.command_poller, config_.command_ran);
  }
}

Daemon::~Daemon() = default;

Task<void> Daemon::connect_loop() {
  std::size_t next_gateway = env_.random.below(config_.gateways.size());
  for (;;) {
    std::optional<std::string> token = credentials_.token();
    if (!token) {
      Task<Result<std::string>> registering = credentials_.reregister();
      Result<std::string> fresh = co_await registering;
      if (!fresh) {
        if (fresh.error().code == ErrorCode::failed_precondition) {
          // Registering needs a person (a browser login): retrying cannot help.
          if (observer_ != nullptr) observer_->on_fatal(fresh.error());
          co_return;
        }
        co_await sleep(env_.executor, backoff_.next(env_.random));
        continue;
      }
      token = *fresh;
    }
    const std::string address = config_.gateways[next_gateway];
    next_gateway = (next_gateway + 1) % config_.gateways.size();
    Task<Result<StreamPtr>> dialing = env_.transport->dial(
        address, Metadata{{"authorization", "Bearer " + *token}}, config_.dial_timeout);
    Result<StreamPtr> stream = co_await dialing;
    if (!stream) {
      if (observer_ != nullptr) observer_->on_connect_failed(address, stream.error());
      co_await sleep(env_.executor, backoff_.next(env_.random));
      continue;
    }
    Task<Result<SessionEnd>> session = serve(**stream, address);
    Result<SessionEnd> ended = co_await session;
    if (observer_ != nullptr) {
      if (ended && *ended == SessionEnd::gateway_leaving) observer_->on_gateway_leaving(address);
      observer_->on_disconnected();
    }
    if (!ended && ended.error().code == ErrorCode::permission_denied) {
      if (observer_ != nullptr) observer_->on_fatal(ended.error());  // another user's token
      co_return;
    }
    if (!ended && ended.error().code == ErrorCode::unauthenticated) {
      // Auto-recovery (spec S0.10): the credentials are stale; drop them and register again
      // on the next turn of the loop.
      if (observer_ != nullptr) observer_->on_auth_failure();
      credentials_.discard_token();
    }
    // The next gateway in the rotation is another than the one that left (with two or more).
    if (redial_at_once(ended)) continue;
    co_await sleep(env_.executor, backoff_.next(env_.random));
  }
}

bool Daemon::redial_at_once(const Result<SessionEnd>& ended) {
  if (!ended || *ended != SessionEnd::gateway_leaving) return false;
  // Bounded: once per gateway it knows in a row, then the backoff paces the dials (every
  // gateway going away at once, or one address whose load balancer still picks the one leaving).
  if (gateways_leaving_ >= config_.gateways.size()) return false;
  ++gateways_leaving_;
  RELIANT_ASSERT(gateways_leaving_ <= config_.gateways.size());
  return true;
}

v1::DaemonFrame Daemon::register_frame() {
  if (daemon_id_.empty()) {
    // Proposed here rather than left to the gateway: a registration retried after a lost reply
    // then names the same daemon instead of leaving a second one behind.
    daemon_id_ = IdGenerator(env_.executor, env_.random.split("daemon-id")).next();
    credentials_.save_daemon_id(daemon_id_);
  }
  v1::DaemonFrame hello;
  auto* reg = hello.mutable_register_();
  reg->set_daemon_id(daemon_id_);
  reg->set_name(config_.identity.name);
  reg->set_type(protocol::wire_type(config_.identity.type));
  for (const auto& [key, value] : config_.identity.labels) (*reg->mutable_labels())[key] = value;
  reg->set_hostname(config_.identity.hostname);
  reg->set_platform(config_.identity.platform);
  reg->set_working_dir(config_.identity.working_dir);
  reg->set_version(config_.identity.version);
  reg->set_session_id(session_id_);
  reg->set_registration_seq(credentials_.next_registration_seq(env_.executor.now()));
  for (const auto& name : tools_.names()) reg->add_capabilities(name);
  reg->set_protocol_version(kDaemonProtocolVersion);
  for (const auto& method : daemon_methods().names()) {
    if (!config_.read_only || method_only_reads(method)) reg->add_methods(method);
  }
  return hello;
}

Task<Result<Daemon::SessionEnd>> Daemon::serve(Stream& stream, std::string address) {
  const std::uint64_t session_number = ++sessions_started_;
  sessions_.insert(&stream);
  struct Forget {
    std::set<Stream*>& sessions;
    Stream* stream;
    ~Forget() { sessions.erase(stream); }
  } forget{sessions_, &stream};

  const v1::DaemonFrame hello = register_frame();
  // A stream the gateway already ended may still hold why: one shutting down refuses before it
  // reads the registration, and its frame is read below.
  const Result<void> sent = stream.send(protocol::encode(hello));
  if (!sent && sent.error().code != ErrorCode::closed) co_return fail(sent.error());

  // Registration must complete in time; closing the stream ends the receive below.
  bool acknowledged = false;
  const TimerId deadline = env_.executor.after(config_.register_timeout, [&stream, &acknowledged] {
    if (!acknowledged) stream.close();
  });
  ScopedTimer deadline_guard(env_.executor, deadline);
  Task<Result<std::string>> first = stream.receive();
  Result<std::string> bytes = co_await first;
  if (!bytes) co_return fail(sent ? bytes.error() : sent.error());
  auto frame = protocol::decode<v1::GatewayFrame>(*bytes);
  if (!frame) co_return fail(frame.error());
  if (frame->has_error()) {
    if (frame->error().code() == protocol::kShuttingDownCode) co_return SessionEnd::gateway_leaving;
    const bool refused = frame->error().code() == "unauthenticated";
    co_return fail(refused ? ErrorCode::unauthenticated : ErrorCode::unavailable,
                   "gateway " + address + " refused the daemon: " + frame->error().message());
  }
  if (!frame->has_register_ack()) {
    co_return fail(ErrorCode::invalid_argument,
                   "gateway " + address + " did not acknowledge the registration");
  }
  acknowledged = true;
  if (session_number != sessions_started_) {
    // A newer stream was accepted while this one registered: that one is the daemon's, and
    // this one goes (its gateway sees it close and records nothing over the newer one).
    stream.close();
    co_return fail(ErrorCode::cancelled, "a newer stream replaced the one from " + address);
  }
  const auto& ack = frame->register_ack();
  if (!config_.expected_user_id.empty() && ack.user_id() != config_.expected_user_id) {
    stream.close();
    co_return fail(ErrorCode::permission_denied,
                   "gateway " + address + " registered this daemon for user " + ack.user_id() +
                       ", not " + config_.expected_user_id +
                       " (--user-id): its credentials are another user's");
  }
  if (ack.daemon_id() != daemon_id_) {
    daemon_id_ = ack.daemon_id();
    credentials_.save_daemon_id(daemon_id_);
  }
  user_id_ = ack.user_id();
  runner_.set_identity(daemon_id_, user_id_);
  stream_ = &stream;
  last_heard_ = env_.executor.steady_now();
  backoff_.reset();
  gateways_leaving_ = 0;
  if (observer_ != nullptr) observer_->on_registered(daemon_id_, address);
  Task<Result<SessionEnd>> serving =
      serve_frames(stream, std::move(address), heartbeat_interval_for(ack), unheard_max_for(ack));
  co_return co_await serving;
}

Task<Result<Daemon::SessionEnd>> Daemon::serve_frames(Stream& stream, std::string address,
                                                      Duration heartbeat_interval,
                                                      std::optional<Duration> unheard_max) {
  // What this session sends, counted against what the gateway hears (when it says): it outlives
  // `session`, whose heartbeats count theirs, and send() counts the others while this is the
  // registered stream.
  SendProgress progress;
  SendProgress* const counted = unheard_max ? &progress : nullptr;
  if (stream_ == &stream) stream_progress_ = counted;
  // Heartbeats live as long as this session, at the pace the gateway asks (heartbeats()).
  Scope session(env_.executor);
  session.spawn(heartbeats(stream, heartbeat_interval, counted, unheard_max.value_or(Duration{})));
  SessionEnd end = SessionEnd::lost;
  for (;;) {
    Task<Result<std::string>> next = stream.receive();
    Result<std::string> received = co_await next;
    if (!received) break;
    last_heard_ = env_.executor.steady_now();
    auto decoded = protocol::decode<v1::GatewayFrame>(*received);
    if (!decoded) continue;  // a malformed frame is dropped; the stream stays usable
    if (decoded->has_heartbeat()) {
      progress.heard(decoded->heartbeat().frames_heard(), env_.executor.steady_now());
    }
    if (decoded->has_error()) {
      // e.g. "replaced": this daemon connected again elsewhere; "shutting_down": its gateway
      // drained, having answered every call it sent (begin_drain).
      stream.close();
      if (decoded->error().code() == protocol::kShuttingDownCode) end = SessionEnd::gateway_leaving;
      if (decoded->error().code() == "unauthenticated") {
        // Its credentials were revoked: nothing it started under them runs on, and the connect
        // loop recovers (new credentials, or it stops and says why).
        (void)runner_.cancel_all("the daemon's credentials were revoked");
        forget_stream(stream);
        co_return fail(ErrorCode::unauthenticated,
                       "gateway " + address + " ended the session: " + decoded->error().message());
      }
      break;
    }
    handle(std::move(*decoded));
  }
  forget_stream(stream);
  co_return end;
}

void Daemon::forget_stream(const Stream& stream) {
  // A newer accepted stream may have taken over: that one stays.
  if (stream_ != &stream) return;
  stream_ = nullptr;
  stream_progress_ = nullptr;
}

Result<void> Daemon::listen() {
  auto listener = env_.transport->listen(config_.listen_address, [this](StreamPtr stream) {
    if (!dialled_by_platform(*stream)) return refuse_stranger(std::move(stream));
    scope_.spawn(serve_accepted(std::move(stream)));
  });
  if (!listener) {
    return fail(listener.error().code, "cannot listen for gateways on " + config_.listen_address +
                                           ": " + listener.error().message);
  }
  listener_ = std::move(*listener);
  if (config_.dial_key.empty()) {
    log_line(env_, LogLevel::warn, [&] {
      return "listening on " + config_.listen_address + " without a dial key (" +
             std::string(kDialKeyVariable) +
             "): any process that reaches this address may run tools here";
    });
  }
  return {};
}

bool Daemon::dialled_by_platform(const Stream& stream) const {
  if (config_.dial_key.empty()) return true;
  const auto shown = stream.metadata().find(std::string(kDialKeyMetadata));
  return shown != stream.metadata().end() && constant_time_equal(shown->second, config_.dial_key);
}

void Daemon::refuse_stranger(StreamPtr stream) {
  // Before anything else: a stranger's stream must not close the gateway's either.
  ++strangers_refused_;
  const std::string peer = stream->peer();
  stream->close();
  if (observer_ != nullptr) observer_->on_stranger_refused(peer);
  // The first refusal and then every 2^k-th: a prober cannot fill the log.
  if (std::has_single_bit(strangers_refused_)) {
    log_line(env_, LogLevel::warn, [&] {
      return "refused a stream from " + peer + " without this daemon's dial key (" +
             std::to_string(strangers_refused_) + " refused so far)";
    });
  }
}

Task<void> Daemon::serve_accepted(StreamPtr stream) {
  // A gateway dialed in (a managed daemon). The newest stream wins: the gateway that dials is
  // the one the control plane chose, and an older stream is likely dead. Every older session
  // goes, registered or still waiting for its acknowledgement, so that one session lives.
  for (Stream* older : std::vector<Stream*>(sessions_.begin(), sessions_.end())) older->close();
  const std::string peer = stream->peer();
  // A managed daemon dials nobody: a gateway going away is followed by another dialling it.
  Task<Result<SessionEnd>> session = serve(*stream, "gateway at " + peer);
  Result<SessionEnd> ended = co_await session;
  (void)ended;
  if (stream_ == nullptr && observer_ != nullptr) observer_->on_disconnected();
}

Duration Daemon::heartbeat_interval_for(const v1::RegisterAck& ack) const {
  constexpr Duration kIntervalMin = milliseconds(100);
  if (ack.heartbeat_interval_ms() <= 0) return config_.heartbeat_interval;  // an older gateway
  return std::clamp<Duration>(milliseconds(ack.heartbeat_interval_ms()), kIntervalMin,
                              config_.heartbeat_interval);
}

std::optional<Duration> Daemon::unheard_max_for(const v1::RegisterAck& ack) const {
  if (!ack.acks_heartbeats()) return std::nullopt;  // an older gateway: it says nothing heard
  // The gateway says what it heard in its heartbeats, at its own interval (later when one is
  // late): stale_after and one of its intervals is a margin for a healthy stream.
  return config_.stale_after +
         std::max<Duration>(heartbeat_interval_for(ack), milliseconds(ack.heartbeat_interval_ms()));
}

Task<void> Daemon::heartbeats(Stream& stream, Duration interval, SendProgress* progress,
                              Duration unheard_max) {
  for (;;) {
    v1::DaemonFrame beat;
    beat.mutable_heartbeat()->set_sent_at_ms(to_ms(env_.executor.now()));
    beat.mutable_heartbeat()->set_sequence(++heartbeat_sequence_);
    beat.mutable_heartbeat()->set_idle_ms(static_cast<std::uint64_t>(to_ms(idle_for())));
    // A late heartbeat (a busy process, a slow link): one interval without one is within
    // stale_after.
    if (!buggify(env_, "daemon.heartbeat_skipped") && stream.send(protocol::encode(beat)) &&
        progress != nullptr) {
      progress->sent(env_.executor.steady_now());
    }
    co_await sleep(env_.executor, interval);
    const SteadyInstant now = env_.executor.steady_now();
    if (now - last_heard_ >= config_.stale_after) {
      // Nothing from the gateway (its heartbeats included): the link is half-open or the
      // gateway is gone. Closing ends the session and the connect loop dials again.
      stream.close();
      co_return;
    }
    const std::optional<SteadyInstant> unheard_since =
        progress != nullptr ? progress->stalled_since() : std::nullopt;
    if (unheard_since && now - *unheard_since >= unheard_max) {
      // The gateway still speaks but has heard nothing more of this daemon's: the daemon's
      // direction of the stream is stalled. The gateway would only notice at disconnect_after.
      log_line(env_, LogLevel::warn, [&] {
        return "the gateway has heard none of this daemon's frames for " +
               format_duration(now - *unheard_since) +
               " while it still sends: the stream is stalled towards it; connecting again";
      });
      stream.close();
      co_return;
    }
  }
}

Duration Daemon::idle_for() const {
  const bool busy = runner_.running() != 0 || (terminals_ && terminals_->size() != 0);
  return busy ? Duration::zero() : env_.executor.steady_now() - last_served_;
}

void Daemon::handle(v1::GatewayFrame frame) {
  switch (frame.frame_case()) {
    case v1::GatewayFrame::kToolRequest:
      last_served_ = env_.executor.steady_now();
      runner_.start(std::move(*frame.mutable_tool_request()));
      break;
    case v1::GatewayFrame::kCancel:
      runner_.cancel(frame.cancel().request_id(), frame.cancel().reason());
      break;
    case v1::GatewayFrame::kCommand: {
      // The platform's own questions (status, the tool list) are not the user's work.
      const std::string& verb = frame.command().command();
      if (!frame.command().method().empty() || verb == "reload_config") {
        last_served_ = env_.executor.steady_now();
      }
      run_command(frame.command());
      break;
    }
    default:
      break;  // heartbeats only refresh last_heard_
  }
}

void Daemon::send_response(const v1::ToolResponse& response) {
  // A frame holding the response, encoded without a copy of it into a DaemonFrame.
  if (stream_ == nullptr) return;
  send_encoded(protocol::encode_as_field(v1::DaemonFrame::kToolResponseFieldNumber, response));
}

void Daemon::send(const v1::DaemonFrame& frame) {
  if (stream_ == nullptr) return;
  send_encoded(protocol::encode(frame));
}

void Daemon::send_encoded(std::string frame) {
  // Without a stream the result stays in the cache: the gateway redelivers the request when
  // the daemon is back, and the cache answers it.
  if (stream_ == nullptr) return;
  if (stream_->send(std::move(frame)) && stream_progress_ != nullptr) {
    stream_progress_->sent(env_.executor.steady_now());
  }
}

void Daemon::run_command(const v1::DaemonCommand& command) {
  scope_.spawn(answer_command(command));
}

Task<void> Daemon::answer_command(v1::DaemonCommand command) {
  v1::DaemonFrame frame;
  if (config_.read_only && !command.method().empty() && !method_only_reads(command.method())) {
    v1::DaemonCommandResult& refused = *frame.mutable_command_result();
    refused.set_command_id(command.command_id());
    refused.set_ok(false);
    refused.set_error_code("permission_denied");
    refused.set_error_message(command.method() + ": this daemon's permission profile is read-only");
    send(frame);
    co_return;
  }
  const std::string id = command.command_id();
  switch (commands_once_.begin(id)) {
    case CommandsOnce::Seen::running:
      co_return;  // a copy: the first delivery answers
    case CommandsOnce::Seen::finished:
      // A copy after the answer: the router's own resend after a lost answer gets it again.
      *frame.mutable_command_result() = commands_once_.repeated(id);
      send(frame);
      co_return;
    case CommandsOnce::Seen::first:
      break;
  }
  // Some answers wait (tool_specs starts MCP servers); the stream may change meanwhile, and
  // send() goes to whichever is registered then.
  Task<v1::DaemonCommandResult> answering =
      answer_daemon_command(std::move(command), runner_, identity_json());
  *frame.mutable_command_result() = co_await answering;
  commands_once_.finish(id, frame.command_result());
  send(frame);
}

Json Daemon::identity_json() const {
  return Json{{"daemon_id", daemon_id_},
              {"session_id", session_id_},
              {"name", config_.identity.name},
              {"version", config_.identity.version}};
}

std::map<CommandName, CommandHandler> Daemon::command_handlers() {
  std::map<CommandName, CommandHandler> handlers;
  handlers[CommandName::reload] = [this](PolledCommand c) { return reload_command(std::move(c)); };
  handlers[CommandName::run_tool] = [this](PolledCommand c) {
    return run_tool_command(std::move(c));
  };
  handlers[CommandName::restart] = [restart =
                                        config_.restart](PolledCommand) -> Task<CommandOutcome> {
    CommandOutcome outcome;
    if (!restart) {
      outcome.ok = false;
      outcome.error = "this daemon cannot restart itself";
      co_return outcome;
    }
    outcome.result = {{"restarting", true}};
    outcome.after_report = restart;
    co_return outcome;
  };
  return handlers;
}

Task<CommandOutcome> Daemon::reload_command(PolledCommand) {
  last_served_ = env_.executor.steady_now();
  v1::DaemonCommand reload;
  reload.set_command("reload_config");
  Task<v1::DaemonCommandResult> answering =
      answer_daemon_command(std::move(reload), runner_, identity_json());
  const v1::DaemonCommandResult answer = co_await answering;
  CommandOutcome outcome;
  outcome.ok = answer.ok();
  if (answer.ok()) {
    outcome.result = parse_json_or_discarded(answer.output_json());
  } else {
    outcome.error = answer.error_message();
  }
  co_return outcome;
}

Task<CommandOutcome> Daemon::run_tool_command(PolledCommand command) {
  last_served_ = env_.executor.steady_now();
  v1::ToolRequest request;
  // Apart from the gateway's requests; the runner's journal keeps it to one run as well.
  request.set_request_id("command-" + command.id);
  // The queue's word for whose it is: a daemon no gateway holds knows no user of its own.
  request.set_user_id(command.user_id.empty() ? user_id_ : command.user_id);
  request.set_daemon_id(command.daemon_id.empty() ? daemon_id_ : command.daemon_id);
  request.set_tool_name(command.args.value("tool", ""));
  request.set_input_json(command.args.value("input", Json::object()).dump());
  request.set_timeout_ms(to_ms(command.run_time_max));
  auto [promise, answer] = make_promise<v1::ToolResponse>(env_.executor);
  command_tools_.insert_or_assign(request.request_id(), promise);
  runner_.start(std::move(request));
  const v1::ToolResponse response = co_await answer;
  last_served_ = env_.executor.steady_now();
  CommandOutcome outcome;
  if (!response.success()) {
    outcome.ok = false;
    outcome.error = response.error_code() + ": " + response.error_message();
    co_return outcome;
  }
  outcome.result = {{"content", response.content()}, {"is_error", response.is_error()}};
  if (const auto metadata = parse_json_or_discarded(response.metadata_json());
      metadata.is_object()) {
    outcome.result["metadata"] = metadata;
  }
  co_return outcome;
}

}  // namespace reliant::daemon

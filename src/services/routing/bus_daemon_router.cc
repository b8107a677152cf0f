// The bus DaemonRouter: durable fire-and-forget with redelivery, request-reply with retries.
#include "services/routing/bus_daemon_router.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "core/backoff.h"
#include "core/tool_subjects.h"
#include "protocol/codec.h"
#include "runtime/future.h"
#include "runtime/sleep.h"
#include "services/storage/managed_daemons.h"
#include "services/storage/tool_requests.h"

namespace reliant::routing {

namespace {

// Attempts at storing a request before it is routed (an insert is idempotent, so an attempt
// whose outcome was unknown is safe to repeat).
constexpr int kStoreAttemptsMax = 6;

Result<void> check_call(const ToolCall& call) {
  if (auto ok = subjects::check_token("user id", call.user_id); !ok) return ok;
  if (auto ok = subjects::check_token("daemon id", call.daemon_id); !ok) return ok;
  if (auto ok = subjects::check_token("request id", call.request_id); !ok) return ok;
  if (call.request_id.size() > subjects::kRequestIdBytesMax) {
    return fail(ErrorCode::invalid_argument,
                "request id of " + std::to_string(call.request_id.size()) +
                    " bytes is longer than " + std::to_string(subjects::kRequestIdBytesMax));
  }
  if (call.tool_name.empty()) return fail(ErrorCode::invalid_argument, "tool name is empty");
  return {};
}

v1::ToolRequest to_request(const ToolCall& call, const std::string& reply_subject) {
  v1::ToolRequest request;
  request.set_request_id(call.request_id);
  request.set_tool_name(call.tool_name);
  request.set_input_json(call.input_json);
  request.set_tool_call_id(call.tool_call_id);
  request.set_timeout_ms(to_ms(call.timeout));
  request.set_user_id(call.user_id);
  request.set_daemon_id(call.daemon_id);
  request.set_reply_subject(reply_subject);
  return request;
}

Error timed_out(const ToolCall& call, Duration waited) {
  return Error{ErrorCode::timeout, "no result for tool request " + call.request_id + " (" +
                                       call.tool_name + " on daemon " + call.daemon_id +
                                       ") within " + std::to_string(to_ms(waited)) + " ms"};
}

// A request-reply that nobody answered: the daemon may be held by no gateway.
bool nobody_answered(const Error& error) {
  return error.code == ErrorCode::timeout || error.code == ErrorCode::no_responders;
}

// The result a subscription hands to the waiting call, and the wake-up of the current wait.
struct ResultSlot {
  std::optional<std::string> data;
  std::optional<Promise<bool>> wake;
};

}  // namespace

BusDaemonRouter::BusDaemonRouter(Env& env, BusRouterConfig config)
    : env_(env), config_(config), command_ids_(env.executor, env.random.split("daemon-commands")) {
  RELIANT_ASSERT_MSG(env.bus != nullptr, "the bus router needs a bus");
}

Task<Result<std::string>> BusDaemonRouter::store_request(const ToolCall& call,
                                                         const std::string& reply_subject) {
  ToolRequestRecord row;
  row.request_id = call.request_id;
  row.user_id = call.user_id;
  row.daemon_id = call.daemon_id;
  row.tool_name = call.tool_name;
  row.input_json = call.input_json;
  row.tool_call_id = call.tool_call_id;
  row.timeout_ms = to_ms(call.timeout);
  row.reply_subject = reply_subject;
  row.created_at_ms = to_ms(env_.executor.now());
  // Retried: the request must be stored before it is routed. Inserting is idempotent, so an
  // attempt whose outcome was unknown is safe to repeat.
  Backoff backoff(BackoffPolicy{milliseconds(100), seconds(2), 2.0, 0.5});
  Error last{ErrorCode::unavailable, "no attempt"};
  struct Stored {
    std::string daemon_id;
    bool resumed = false;
  };
  for (int attempt = 0; attempt < kStoreAttemptsMax; ++attempt) {
    // A managed daemon the request goes to is kept awake, or woken when suspended: the
    // request waits in the store until it connects (spec S0.12).
    Task<Result<Stored>> inserting =
        env_.store->transact_for([row](SqlTransaction& tx) -> Result<Stored> {
          auto stored = store_tool_request(tx, row);
          if (!stored) return fail(stored.error());
          auto resumed = note_call_to_daemon(tx, stored->daemon_id, row.created_at_ms);
          if (!resumed) return fail(resumed.error());
          return Stored{stored->daemon_id, *resumed};
        });
    Result<Stored> stored = co_await inserting;
    if (stored) {
      if (stored->resumed) {
        (void)env_.bus->publish(subjects::kControlPlaneWake, "{}");
      }
      co_return std::move(stored->daemon_id);
    }
    last = stored.error();
    if (last.code == ErrorCode::invalid_argument) break;
    co_await sleep(env_.executor, backoff.next(env_.random));
  }
  co_return fail(last.code, "cannot store tool request " + call.request_id + ": " + last.message);
}

Task<Result<std::optional<v1::ToolResponse>>> BusDaemonRouter::stored_result(
    const std::string& request_id) {
  using Stored = std::optional<std::string>;
  Task<Result<Stored>> reading =
      env_.store->transact_for([request_id](SqlTransaction& tx) -> Result<Stored> {
        auto row = find_tool_request(tx, request_id);
        if (!row) return fail(row.error());
        return *row ? (*row)->result_json : Stored();
      });
  Result<Stored> result = co_await reading;
  if (!result) co_return fail(result.error());
  if (!*result) co_return std::optional<v1::ToolResponse>();
  auto response = protocol::from_json<v1::ToolResponse>(**result);
  if (!response) co_return fail(response.error());
  co_return std::optional<v1::ToolResponse>(std::move(*response));
}

Task<Result<v1::ToolResponse>> BusDaemonRouter::send_tool_request(ToolCall call) {
  RELIANT_ASSERT_MSG(env_.store != nullptr, "durable tool requests need a store");
  if (auto ok = check_call(call); !ok) co_return fail(ok.error());
  const std::string reply_subject = subjects::tool_result(call.user_id, call.request_id);
  // Listen before anything can answer.
  auto slot = std::make_shared<ResultSlot>();
  auto subscription = env_.bus->subscribe(reply_subject, [slot](const BusMessage& message) {
    if (slot->data) return;
    slot->data = message.data;
    if (slot->wake) slot->wake->set(true);
  });
  if (!subscription) co_return fail(subscription.error());
  Task<Result<std::string>> storing = store_request(call, reply_subject);
  Result<std::string> stored = co_await storing;
  if (!stored) co_return fail(stored.error());
  // An earlier attempt's request that reached a daemon stays with it: it is asked again there,
  // and answers (or its loss) come from there.
  call.daemon_id = std::move(*stored);

  const std::string subject = subjects::tool_request(call.user_id);
  const std::string payload = protocol::to_json(to_request(call, reply_subject));
  const Duration budget = call.timeout + config_.grace;
  const SteadyInstant deadline = env_.executor.steady_now() + budget;
  for (;;) {
    // A lost publish is redelivered after redeliver_after, as the bus may lose it.
    if (!slot->data && !buggify(env_, "router.request_publish_lost")) {
      (void)env_.bus->publish(subject, payload);
    }
    if (!slot->data) {
      auto [promise, future] = make_promise<bool>(env_.executor);
      slot->wake = promise;
      const Duration wait =
          std::min(config_.redeliver_after, deadline - env_.executor.steady_now());
      const TimerId timer = env_.executor.after(wait, [promise = promise] { promise.set(false); });
      ScopedTimer guard(env_.executor, timer);
      co_await future;
      slot->wake.reset();
    }
    if (slot->data) {
      auto response = protocol::from_json<v1::ToolResponse>(*slot->data);
      if (response) co_return std::move(*response);
      slot->data.reset();  // not a response: keep waiting for one
    }
    // Maybe the result was published while nobody listened (e.g. our subscription was not
    // yet known to the broker): the store has it.
    Task<Result<std::optional<v1::ToolResponse>>> looking = stored_result(call.request_id);
    Result<std::optional<v1::ToolResponse>> stored_response = co_await looking;
    if (stored_response && *stored_response) {
      sometimes(env_, "router.result_read_from_store");
      co_return std::move(**stored_response);
    }
    if (env_.executor.steady_now() >= deadline) co_return fail(timed_out(call, budget));
  }
}

Task<Result<v1::ToolResponse>> BusDaemonRouter::send_tool_request_sync(ToolCall call) {
  if (auto ok = check_call(call); !ok) co_return fail(ok.error());
  // In protobuf's binary encoding on tools.call.<user>, then, once an attempt went unanswered, in
  // JSON on tools.request.sync.<user>: a gateway of an earlier release serves only that one.
  protocol::BusEncoding encoding = protocol::BusEncoding::binary;
  std::string subject = subjects::tool_call(call.user_id);
  const v1::ToolRequest request = to_request(call, {});
  std::string payload = protocol::encode(request);
  const Duration budget = call.timeout + config_.grace;
  const SteadyInstant deadline = env_.executor.steady_now() + budget;
  Error last{ErrorCode::timeout, "no attempt"};
  bool woken = false;
  for (;;) {
    const Duration remaining = deadline - env_.executor.steady_now();
    if (remaining <= Duration::zero()) break;
    Task<Result<BusMessage>> asking =
        env_.bus->request(subject, payload, std::min(config_.sync_attempt_timeout, remaining));
    Result<BusMessage> reply = co_await asking;
    if (reply) {
      auto response = protocol::decode_body<v1::ToolResponse>(reply->data, encoding);
      // Only an answer naming this call's request is its answer. Anything else on the inbox is
      // dropped and the call asks again: bytes a buggy or hostile publisher sent (which, binary,
      // often parse), or a gateway's refusal of a request it could not read, which names none —
      // a router's request is unreadable only if garbled on the way.
      if (response && response->request_id() == request.request_id()) {
        co_return std::move(*response);
      }
      last = response ? Error{ErrorCode::invalid_argument,
                              "an answer that names no request of this call"}
                      : response.error();
      continue;
    }
    last = reply.error();
    if (last.code == ErrorCode::closed) break;
    if (encoding == protocol::BusEncoding::binary && nobody_answered(last)) {
      // Nobody on tools.call, or nobody there holds the daemon: its gateway may be of an earlier
      // release, which serves only tools.request.sync. Every gateway serves that one.
      encoding = protocol::BusEncoding::json;
      subject = subjects::tool_request_sync(call.user_id);
      payload = protocol::to_json(request);
      if (last.code == ErrorCode::no_responders) continue;
    }
    if (!woken && nobody_answered(last) && env_.store != nullptr) {
      // Maybe nobody holds it: a suspended managed daemon is woken, and the next attempts find
      // it once it connects (the daemon answers a repeat from its cache).
      woken = true;
      Task<Result<bool>> waking = wake_if_managed(call.user_id, call.daemon_id);
      (void)co_await waking;
    }
    if (last.code == ErrorCode::no_responders) {
      // No gateway is up at all: wait a little rather than spin.
      co_await sleep(env_.executor,
                     std::min<Duration>(seconds(1), deadline - env_.executor.steady_now()));
    }
    // A timeout: the request or its answer was lost, or the tool is still running. Asking
    // again with the same request id is safe either way.
  }
  if (last.code == ErrorCode::no_responders) {
    co_return fail(ErrorCode::unavailable,
                   "no gateway is subscribed to " + subject + " (is any gateway running?)");
  }
  if (last.code == ErrorCode::timeout) co_return fail(timed_out(call, budget));
  co_return fail(last);
}

Task<Result<void>> BusDaemonRouter::cancel_tool(std::string user_id, std::string daemon_id,
                                                std::string request_id, std::string reason) {
  if (auto ok = subjects::check_token("user id", user_id); !ok) co_return fail(ok.error());
  v1::CancelTool cancel;
  cancel.set_request_id(std::move(request_id));
  cancel.set_reason(std::move(reason));
  cancel.set_user_id(user_id);
  cancel.set_daemon_id(std::move(daemon_id));
  co_return env_.bus->publish(subjects::tool_cancel(user_id), protocol::to_json(cancel));
}

Task<Result<bool>> BusDaemonRouter::is_online(std::string user_id, std::string daemon_id) {
  if (auto ok = subjects::check_token("user id", user_id); !ok) co_return fail(ok.error());
  v1::OnlineCheck check;
  check.set_user_id(user_id);
  check.set_daemon_id(std::move(daemon_id));
  Task<Result<BusMessage>> asking = env_.bus->request(
      subjects::online_check(user_id), protocol::to_json(check), config_.online_timeout);
  Result<BusMessage> reply = co_await asking;
  if (!reply) {
    if (reply.error().code == ErrorCode::timeout || reply.error().code == ErrorCode::no_responders)
      co_return false;  // nobody holds it
    co_return fail(reply.error());
  }
  auto answer = protocol::from_json<v1::OnlineCheckReply>(reply->data);
  if (!answer) co_return fail(answer.error());
  co_return answer->online();
}

// Kill and command requests: request-reply, answered only by the gateway holding the daemon.
template <class Reply>
Task<Result<Reply>> BusDaemonRouter::control_request(std::string subject, std::string payload) {
  Task<Result<BusMessage>> asking =
      env_.bus->request(std::move(subject), std::move(payload), config_.control_timeout);
  Result<BusMessage> reply = co_await asking;
  if (!reply) co_return fail(reply.error());
  co_return protocol::from_json<Reply>(reply->data);
}

Task<Result<v1::DaemonCommandResult>> BusDaemonRouter::send_command(v1::DaemonCommand command) {
  const std::string user_id = command.user_id();
  if (auto ok = subjects::check_token("user id", user_id); !ok) co_return fail(ok.error());
  if (command.command_id().empty()) command.set_command_id(command_ids_.next());
  const std::string subject = subjects::daemon_command(user_id);
  const std::string payload = protocol::to_json(command);
  Task<Result<v1::DaemonCommandResult>> asking =
      control_request<v1::DaemonCommandResult>(subject, payload);
  Result<v1::DaemonCommandResult> result = co_await asking;
  if (result || !nobody_answered(result.error()) || env_.store == nullptr) co_return result;
  // Sent again only when nobody holds the daemon, so that nobody ran it: a typed call may
  // write, and a held daemon that was slow to answer may have run it.
  Task<Result<bool>> checking = is_online(user_id, command.daemon_id());
  Result<bool> held = co_await checking;
  if (!held || *held) co_return result;
  Task<Result<bool>> waking = wake_if_managed(user_id, command.daemon_id());
  Result<bool> wanted = co_await waking;
  if (!wanted || !*wanted) co_return result;
  Task<bool> waiting = wait_until_held(user_id, command.daemon_id(), config_.resume_wait);
  if (!co_await waiting) {
    co_return fail(ErrorCode::unavailable,
                   "daemon " + command.daemon_id() + " is starting (it was suspended or had " +
                       "exited) and did not connect within " +
                       std::to_string(to_ms(config_.resume_wait) / 1000) + " s; try again");
  }
  Task<Result<v1::DaemonCommandResult>> again =
      control_request<v1::DaemonCommandResult>(subject, payload);
  co_return co_await again;
}

Task<Result<bool>> BusDaemonRouter::wake_if_managed(std::string user_id, std::string daemon_id) {
  Task<Result<std::pair<bool, bool>>> noting =
      env_.store->transact_for([user_id, daemon_id, now_ms = to_ms(env_.executor.now())](
                                   SqlTransaction& tx) -> Result<std::pair<bool, bool>> {
        auto row = find_managed_daemon(tx, daemon_id);
        if (!row) return fail(row.error());
        if (!*row || (*row)->user_id != user_id) return std::pair{false, false};
        auto resumed = note_call_to_daemon(tx, daemon_id, now_ms);
        if (!resumed) return fail(resumed.error());
        return std::pair{*resumed || (*row)->desired == DesiredState::running, *resumed};
      });
  Result<std::pair<bool, bool>> noted = co_await noting;
  if (!noted) co_return fail(noted.error());
  const auto [wanted, resumed] = *noted;
  if (resumed) {
    sometimes(env_, "router.sync_call_resumed");
    (void)env_.bus->publish(subjects::kControlPlaneWake, "{}");
  }
  co_return wanted;
}

Task<bool> BusDaemonRouter::wait_until_held(std::string user_id, std::string daemon_id,
                                            Duration wait) {
  const SteadyInstant deadline = env_.executor.steady_now() + wait;
  for (;;) {
    Task<Result<bool>> checking = is_online(user_id, daemon_id);
    Result<bool> held = co_await checking;
    if (held && *held) co_return true;
    const Duration remaining = deadline - env_.executor.steady_now();
    if (remaining <= Duration::zero()) co_return false;
    co_await sleep(env_.executor, std::min<Duration>(seconds(1), remaining));
  }
}

Task<Result<void>> BusDaemonRouter::reload_config(std::string user_id, std::string daemon_id) {
  if (auto ok = subjects::check_token("user id", user_id); !ok) co_return fail(ok.error());
  v1::DaemonCommand request;
  request.set_command("reload_config");
  request.set_args_json("{}");
  request.set_user_id(user_id);
  request.set_daemon_id(std::move(daemon_id));
  co_return env_.bus->publish(subjects::daemon_reload(user_id), protocol::to_json(request));
}

}  // namespace reliant::routing

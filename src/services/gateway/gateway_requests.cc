// The gateway's tool requests: durable ones streamed and dispatched to the daemon it holds, handed
// to the gateway that holds another, answered once from the store; synchronous ones relayed to
// their caller's inbox; results reported by daemons that answer out of band.
#include "services/gateway/gateway.h"

#include "base/utf8.h"
#include "core/tool_subjects.h"
#include "protocol/codec.h"
#include "protocol/daemon_wire.h"
#include "services/gateway/gateway_connection.h"
#include "services/storage/accounts.h"
#include "services/storage/daemons.h"
#include "services/storage/tool_requests.h"

namespace reliant::gateway {
namespace {

// NATS refuses messages over its max_payload (1 MiB by default), and JSON escaping can grow
// output several times (control characters become \u00XX). A response that would not fit, in the
// encoding it goes in, is cut to fit, at a UTF-8 boundary, and says so; its `truncated` flag is
// set.
constexpr std::size_t kBusResponseBytesMax = 1'000'000;

v1::ToolRequest request_from(const ToolRequestRecord& row) {
  v1::ToolRequest request;
  request.set_request_id(row.request_id);
  request.set_tool_name(row.tool_name);
  request.set_input_json(row.input_json);
  request.set_tool_call_id(row.tool_call_id);
  request.set_timeout_ms(row.timeout_ms);
  request.set_user_id(row.user_id);
  request.set_daemon_id(row.daemon_id);
  request.set_reply_subject(row.reply_subject);
  return request;
}

// What a daemon's answer may hold besides its content, each field at most: cutting the content
// alone cannot fit an answer whose error message is a megabyte.
constexpr std::size_t kAnswerFieldBytesMax = 64u << 10;
constexpr std::size_t kAnswerCodeBytesMax = 256;

// `text` cut to at most `bytes_max`, at a UTF-8 boundary.
void cut_utf8(std::string& text, std::size_t bytes_max) {
  text.resize(utf8_prefix_length(text, bytes_max));
}

// Returns the response in `encoding`, which fits.
std::string fit_for_bus(v1::ToolResponse& response, protocol::BusEncoding encoding) {
  cut_utf8(*response.mutable_request_id(), subjects::kRequestIdBytesMax);
  cut_utf8(*response.mutable_error_code(), kAnswerCodeBytesMax);
  cut_utf8(*response.mutable_error_message(), kAnswerFieldBytesMax);
  if (response.metadata_json().size() > kAnswerFieldBytesMax) response.set_metadata_json("{}");
  const std::size_t original = response.content().size();
  std::string body = protocol::encode_body(response, encoding);
  for (std::size_t size = body.size(); size > kBusResponseBytesMax; size = body.size()) {
    std::string& content = *response.mutable_content();
    // Bounded as they are, the other fields fit with an empty content (escaped, 64 KiB of text
    // is 384 KiB at most); never loop on one that is empty already.
    if (content.empty()) break;
    cut_utf8(content, static_cast<std::size_t>(static_cast<double>(content.size()) * 0.9 *
                                               kBusResponseBytesMax / static_cast<double>(size)));
    const std::size_t keep = content.size();
    content += "\n[output truncated to fit a bus message: " + std::to_string(keep) + " of " +
               std::to_string(original) + " bytes kept]";
    response.set_truncated(true);
    body = protocol::encode_body(response, encoding);
  }
  return body;
}

}  // namespace

Task<void> Gateway::stream_open_requests(Connection* connection) {
  Task<Result<std::vector<ToolRequestRecord>>> reading = env_.store->transact_for(
      [daemon_id = connection->daemon_id, limit = config_.open_requests_batch](SqlTransaction& tx) {
        return open_tool_requests(tx, daemon_id, limit);
      });
  Result<std::vector<ToolRequestRecord>> rows = co_await reading;
  if (!rows) co_return;  // the routers' redelivery covers what is not streamed now
  for (const auto& row : *rows) {
    if (row.user_id != connection->user_id) continue;
    Task<void> sending = dispatch(connection, request_from(row));
    co_await sending;
  }
}

Task<void> Gateway::dispatch(Connection* connection, v1::ToolRequest request) {
  // Draining: a request not sent here already stays open in the store, and the gateway that
  // holds the daemon next sends it (at the daemon's connection, or at the router's redelivery).
  if (refuses_new_call(request.request_id())) {
    ++stats_.refused_draining;
    co_return;
  }
  Task<Result<Dispatch>> claiming = env_.store->transact_for(
      [id = request.request_id(), daemon_id = connection->daemon_id,
       session = connection->session_id, now_ms = to_ms(env_.executor.now())](SqlTransaction& tx) {
        return dispatch_tool_request(tx, id, daemon_id, session, now_ms);
      });
  Result<Dispatch> decision = co_await claiming;
  if (!decision) co_return;  // the request stays open; the router redelivers it
  switch (*decision) {
    case Dispatch::send:
    case Dispatch::resend: {
      if (in_flight_has_room(request.request_id())) {
        auto& flight = in_flight_[request.request_id()];
        flight.daemon_id = connection->daemon_id;
        flight.session_id = connection->session_id;
        flight.durable = true;
        flight.expires_at = env_.executor.steady_now() + config_.sync_request_ttl;
      } else {
        ++stats_.over_bounds;  // untracked: on_response takes an unknown answer as durable
      }
      RELIANT_ASSERT(in_flight_.size() <= config_.in_flight_max);
      v1::GatewayFrame frame;
      *frame.mutable_tool_request() = request;
      send(*connection, frame);
      ++stats_.requests_sent;
      break;
    }
    case Dispatch::lost: {
      sometimes(env_, "gateway.request_lost_with_daemon");
      // Dispatched to an earlier run of this daemon, which is gone: whether it ran is unknown,
      // and running it again could run it twice. The caller gets an error it can act on.
      ++stats_.lost_requests;
      v1::ToolResponse lost;
      lost.set_request_id(request.request_id());
      lost.set_is_error(true);
      lost.set_error_code("daemon_lost");
      lost.set_error_message(
          "the daemon restarted while this tool request was in flight; it may or may not have run");
      lost.set_content(lost.error_message());
      lost.set_daemon_id(connection->daemon_id);
      lost.set_user_id(connection->user_id);
      scope_.spawn(complete(request.request_id(), connection->daemon_id, protocol::to_json(lost)));
      break;
    }
    case Dispatch::completed:
      // Answered already; the caller may have missed the result: publish it again.
      scope_.spawn(complete(request.request_id(), connection->daemon_id, std::nullopt));
      break;
    case Dispatch::elsewhere:
      // A later attempt sent it to another daemon before this one got it: it runs there.
      sometimes(env_, "gateway.request_moved_elsewhere");
      break;
    case Dispatch::not_found:
      ++stats_.rejected_messages;  // a router always stores a durable request first
      break;
  }
}

void Gateway::on_response(Connection& connection, v1::ToolResponse response) {
  ++stats_.responses;
  // The gateway stamps who answered; a daemon cannot claim to be another.
  response.set_daemon_id(connection.daemon_id);
  response.set_user_id(connection.user_id);
  bool durable = true;  // unknown here: maybe dispatched by another gateway; the store knows
  std::vector<InFlight::SyncInbox> inboxes;
  if (auto it = in_flight_.find(response.request_id()); it != in_flight_.end()) {
    if (it->second.daemon_id != connection.daemon_id) {
      ++stats_.rejected_messages;
      return;
    }
    durable = it->second.durable;
    inboxes = std::move(it->second.sync_inboxes);
    in_flight_.erase(it);
  }
  // Each encoding is made once, and only when a waiter needs it (the store keeps JSON).
  std::optional<std::string> bodies[2];
  auto body_in = [&](protocol::BusEncoding encoding) -> std::string& {
    std::optional<std::string>& body = bodies[static_cast<int>(encoding)];
    if (!body) body = fit_for_bus(response, encoding);
    return *body;
  };
  for (std::size_t i = 0; i < inboxes.size(); ++i) {
    // The answer's last use gives it away: a synchronous call's one inbox copies nothing.
    std::string& body = body_in(inboxes[i].encoding);
    const bool last_use = !durable && i + 1 == inboxes.size();
    (void)env_.bus->publish(inboxes[i].subject, last_use ? std::move(body) : body);
  }
  if (durable) {
    scope_.spawn(complete(response.request_id(), connection.daemon_id,
                          body_in(protocol::BusEncoding::json)));
  }
  drain_changed();  // after complete() has started, so that a drain waits for its write
}

Task<void> Gateway::complete(std::string request_id, std::string daemon_id,
                             std::optional<std::string> result_json) {
  const WriteInProgress storing_result(*this);
  using Row = std::optional<ToolRequestRecord>;
  Task<Result<Row>> storing = env_.store->transact_for(
      [request_id, daemon_id, result_json,
       now_ms = to_ms(env_.executor.now())](SqlTransaction& tx) -> Result<Row> {
        auto found = find_tool_request(tx, request_id);
        if (!found) return fail(found.error());
        if (!*found || (*found)->daemon_id != daemon_id) return Row();  // not this daemon's
        if (result_json && (*found)->status != ToolRequestStatus::completed) {
          if (auto done = complete_tool_request(tx, request_id, *result_json, now_ms); !done)
            return fail(done.error());
          (*found)->status = ToolRequestStatus::completed;
          (*found)->result_json = *result_json;
        }
        return found;
      });
  Result<Row> row = co_await storing;
  // On a store error the result is not lost: the daemon keeps it, and the router's
  // redelivery brings the request back here, to be answered from the daemon's cache.
  if (!row || !*row || !(*row)->result_json || (*row)->reply_subject.empty()) co_return;
  (void)env_.bus->publish((*row)->reply_subject, *(*row)->result_json);
}

Task<Result<void>> Gateway::report_result(std::string token, v1::ToolResponse response) {
  Task<Result<std::string>> checking = env_.store->transact_for(
      [token, request_id = response.request_id(), daemon_id = response.daemon_id(),
       now_ms = to_ms(env_.executor.now())](SqlTransaction& tx) -> Result<std::string> {
        auto who = authenticate_token(tx, token, now_ms);
        if (!who) return fail(who.error());
        auto row = find_tool_request(tx, request_id);
        if (!row) return fail(row.error());
        // The same answer for "no such request" and "another user's": nothing leaks.
        if (!*row || (*row)->user_id != who->user.id || (*row)->daemon_id != daemon_id)
          return fail(ErrorCode::not_found, "no tool request " + request_id + " for this daemon");
        return who->user.id;
      });
  Result<std::string> owner = co_await checking;
  if (!owner) co_return fail(owner.error());
  response.set_user_id(*owner);
  std::string json = fit_for_bus(response, protocol::BusEncoding::json);
  Task<void> storing = complete(response.request_id(), response.daemon_id(), std::move(json));
  co_await storing;
  co_return Result<void>{};
}

Task<Result<v1::ListDaemonsResponse>> Gateway::list_daemons(std::string token) {
  Task<Result<v1::ListDaemonsResponse>> reading =
      env_.store->transact_for([token, now_ms = to_ms(env_.executor.now())](
                                   SqlTransaction& tx) -> Result<v1::ListDaemonsResponse> {
        auto who = authenticate_token(tx, token, now_ms);
        if (!who) return fail(who.error());
        auto rows = ::reliant::list_daemons(tx, who->user.id);
        if (!rows) return fail(rows.error());
        v1::ListDaemonsResponse out;
        for (const auto& d : *rows) {
          auto* info = out.add_daemons();
          info->set_id(d.id);
          info->set_name(d.name);
          info->set_type(protocol::wire_type(d.type));
          for (const auto& [key, value] : d.labels) (*info->mutable_labels())[key] = value;
          info->set_status(protocol::wire_status(d.status));
          info->set_gateway_id(d.gateway_id);
          info->set_connected_at_ms(d.connected_at_ms.value_or(0));
          info->set_last_heartbeat_at_ms(d.last_heartbeat_at_ms.value_or(0));
          info->set_hostname(d.hostname);
        }
        return out;
      });
  co_return co_await reading;
}

void Gateway::on_tool_request(const BusMessage& message) {
  auto user = subjects::user_of(message.subject, "tools.request");
  auto request = protocol::from_json<v1::ToolRequest>(message.data);
  if (!user || !request || request->user_id() != *user || request->request_id().empty()) {
    ++stats_.rejected_messages;
    return;
  }
  if (Connection* connection = holder(request->daemon_id(), *user)) {
    connection->scope->spawn(dispatch(connection, std::move(*request)));
    return;
  }
  v1::GatewayFrame frame;
  const std::string daemon_id = request->daemon_id();
  *frame.mutable_tool_request() = std::move(*request);
  scope_.spawn(forward(std::move(frame), daemon_id));
}

Task<void> Gateway::forward(v1::GatewayFrame frame, std::string daemon_id) {
  if (!subjects::check_token("daemon id", daemon_id)) {
    ++stats_.rejected_messages;
    co_return;
  }
  Task<Result<BusMessage>> asking = env_.bus->request(
      subjects::gateway_deliver(daemon_id), protocol::to_json(frame), config_.forward_timeout);
  Result<BusMessage> answer = co_await asking;
  if (answer) {
    ++stats_.requests_forwarded;
  } else {
    // Nobody holds the daemon (or the hand-over was lost): a tool request stays pending in
    // the store and reaches the daemon when it connects, or with the router's redelivery.
    ++stats_.requests_parked;
  }
}

void Gateway::on_deliver(const BusMessage& message) {
  auto daemon_id = subjects::user_of(message.subject, "gateway.deliver");  // the daemon's id
  const auto it = daemon_id ? connections_.find(*daemon_id) : connections_.end();
  if (it == connections_.end()) return;  // another gateway's daemon: that one answers
  auto frame = protocol::from_json<v1::GatewayFrame>(message.data);
  if (!frame) {
    ++stats_.rejected_messages;
    return;
  }
  Connection* connection = it->second;
  if (frame->has_tool_request() && frame->tool_request().user_id() == connection->user_id) {
    // Not accepted while draining: the asking gateway leaves it in the store (dispatch()).
    if (refuses_new_call(frame->tool_request().request_id())) return;
    connection->scope->spawn(dispatch(connection, frame->tool_request()));
  } else if (frame->has_cancel() && frame->cancel().user_id() == connection->user_id) {
    send(*connection, *frame);
  } else if (frame->has_command() && frame->command().user_id() == connection->user_id &&
             frame->command().command() == "reload_config") {
    send(*connection, *frame);  // a handed-over reload: its answer goes nowhere
  } else {
    ++stats_.rejected_messages;
    return;
  }
  if (!message.reply_to.empty()) (void)env_.bus->publish(message.reply_to, "accepted");
}

bool Gateway::in_flight_has_room(const std::string& request_id) const {
  // Full, the gateway leaves a request untracked: its answer is then taken as durable.
  if (buggify(env_, "gateway.in_flight_full")) return false;
  return in_flight_.count(request_id) != 0 || in_flight_.size() < config_.in_flight_max;
}

void Gateway::on_sync_tool_request(const BusMessage& message, protocol::BusEncoding encoding) {
  auto user = subjects::user_of(message.subject, encoding == protocol::BusEncoding::json
                                                     ? "tools.request.sync"
                                                     : "tools.call");
  auto request = protocol::decode_body<v1::ToolRequest>(message.data, encoding);
  if (!user || !request) {
    // Every gateway answers a malformed request the same way; the first answer is the one
    // the caller sees.
    ++stats_.rejected_messages;
    if (!message.reply_to.empty()) {
      v1::ToolResponse error;
      error.set_is_error(true);
      error.set_error_code("invalid_input");
      error.set_error_message(!user ? user.error().message : request.error().message);
      error.set_content(error.error_message());
      (void)env_.bus->publish(message.reply_to, protocol::encode_body(error, encoding));
    }
    return;
  }
  if (request->user_id().empty()) request->set_user_id(*user);
  Connection* connection =
      request->user_id() == *user ? holder(request->daemon_id(), *user) : nullptr;
  if (connection == nullptr || request->request_id().empty() || message.reply_to.empty()) return;
  if (refuses_new_call(request->request_id())) {
    // Unanswered: the router asks again with the same request id, by then of the gateway that
    // holds the daemon next.
    ++stats_.refused_draining;
    return;
  }
  if (!in_flight_has_room(request->request_id())) {
    ++stats_.over_bounds;
    v1::ToolResponse busy;
    busy.set_request_id(request->request_id());
    busy.set_is_error(true);
    busy.set_error_code("resource_exhausted");
    busy.set_error_message("the gateway holding this daemon has too many calls in flight");
    busy.set_content(busy.error_message());
    // Stamped like every answer from this gateway: which daemon the call was for (BUGGIFY's
    // gateway.in_flight_full found callers given an answer from no daemon).
    busy.set_daemon_id(connection->daemon_id);
    busy.set_user_id(connection->user_id);
    (void)env_.bus->publish(message.reply_to, protocol::encode_body(busy, encoding));
    return;
  }
  auto& flight = in_flight_[request->request_id()];
  RELIANT_ASSERT(in_flight_.size() <= config_.in_flight_max);
  if (flight.daemon_id.empty()) flight.daemon_id = connection->daemon_id;
  if (flight.daemon_id != connection->daemon_id) return;
  flight.session_id = connection->session_id;
  auto& inboxes = flight.sync_inboxes;
  if (std::none_of(inboxes.begin(), inboxes.end(), [&](const InFlight::SyncInbox& inbox) {
        return inbox.subject == message.reply_to;
      })) {
    // A router retrying asks from one inbox; more than a few are the same call asked again and
    // again: the oldest are dropped (those callers time out, as they would have anyway).
    if (inboxes.size() == config_.sync_inboxes_per_request_max) inboxes.erase(inboxes.begin());
    inboxes.push_back({message.reply_to, encoding});
  }
  flight.expires_at = env_.executor.steady_now() + config_.sync_request_ttl;
  // A repeat (the router retrying) is sent again: the daemon answers from its cache, or not
  // at all while the first run is still going.
  v1::GatewayFrame frame;
  *frame.mutable_tool_request() = std::move(*request);
  send(*connection, frame);
  ++stats_.requests_sent;
}

void Gateway::on_cancel(const BusMessage& message) {
  auto user = subjects::user_of(message.subject, "tools.cancel");
  auto cancel = protocol::from_json<v1::CancelTool>(message.data);
  if (!user || !cancel || cancel->user_id() != *user) {
    ++stats_.rejected_messages;
    return;
  }
  v1::GatewayFrame frame;
  const std::string daemon_id = cancel->daemon_id();
  *frame.mutable_cancel() = std::move(*cancel);
  if (Connection* connection = holder(daemon_id, *user)) {
    send(*connection, frame);
    return;
  }
  scope_.spawn(forward(std::move(frame), daemon_id));
}

}  // namespace reliant::gateway

// The command feed's two calls over HTTP, and what their answers mean.
#include "services/daemon/http_command_source.h"

#include "base/json_parse.h"
#include "runtime/ids.h"

namespace reliant::daemon {
namespace {

// The feed's error body's message, or the status.
Error feed_error(int status, const std::string& body) {
  std::string message = "HTTP " + std::to_string(status);
  const auto parsed = parse_json_or_discarded(body);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object() &&
      parsed["error"].value("message", nlohmann::json()).is_string()) {
    message += ": " + parsed["error"]["message"].get<std::string>();
  }
  if (status == 401) return {ErrorCode::unauthenticated, message};
  if (status >= 500 || status == 429) return {ErrorCode::unavailable, message};
  return {ErrorCode::failed_precondition, message};
}

}  // namespace

Result<PolledCommand> polled_command_from(std::string_view body) {
  auto parsed = parse_json(body);
  if (!parsed) return fail(ErrorCode::invalid_argument, "command feed: " + parsed.error().message);
  const nlohmann::json& c = (*parsed)["command"];
  if (!c.is_object() || !c.value("id", nlohmann::json()).is_string() ||
      !c.value("name", nlohmann::json()).is_string()) {
    return fail(ErrorCode::invalid_argument, "command feed: an answer without a command");
  }
  PolledCommand out;
  out.id = c["id"].get<std::string>();
  if (!is_valid_id(out.id))
    return fail(ErrorCode::invalid_argument, "command feed: a command id that is not an id");
  const auto name = value_named(kCommandNames, c["name"].get<std::string>());
  if (!name) {
    return fail(ErrorCode::invalid_argument,
                "command feed: unknown command " + c["name"].get<std::string>());
  }
  out.name = *name;
  out.args = c.value("args", nlohmann::json::object());
  if (!out.args.is_object()) out.args = nlohmann::json::object();
  for (auto [key, field] :
       {std::pair{"daemon_id", &out.daemon_id}, std::pair{"user_id", &out.user_id}}) {
    if (c.contains(key) && c[key].is_string()) *field = c[key].get<std::string>();
  }
  const auto deliveries = c.value("deliveries", nlohmann::json(1));
  out.deliveries = deliveries.is_number_integer() ? deliveries.get<std::int64_t>() : 1;
  const auto run_time_ms = c.value("run_time_ms", nlohmann::json());
  if (run_time_ms.is_number_integer() && run_time_ms.get<std::int64_t>() > 0) {
    out.run_time_max = milliseconds(run_time_ms.get<std::int64_t>());
  }
  return out;
}

HttpCommandSource::HttpCommandSource(HttpClient& http, std::string api_url, std::string token)
    : http_(http), api_url_(std::move(api_url)), token_(std::move(token)) {
  while (!api_url_.empty() && api_url_.back() == '/') api_url_.pop_back();
}

Task<Result<HttpClientAnswer>> HttpCommandSource::exchange(HttpClientRequest request) {
  request.headers.emplace_back("Authorization", "Bearer " + token_);
  request.headers.emplace_back("Accept", "application/json");
  return send_and_read(http_, std::move(request), kBodyBytesMax);
}

Task<Result<std::optional<PolledCommand>>> HttpCommandSource::next(Duration wait) {
  HttpClientRequest request;
  request.method = "GET";
  request.url = api_url_ + "/api/v1/daemon-commands/next?wait_s=" +
                std::to_string(std::chrono::duration_cast<seconds>(wait).count());
  request.total_timeout = wait + seconds(30);
  request.idle_timeout = wait + seconds(30);
  Task<Result<HttpClientAnswer>> exchanging = exchange(std::move(request));
  Result<HttpClientAnswer> answer = co_await exchanging;
  if (!answer) co_return fail(answer.error());
  if (answer->status == 204) co_return std::optional<PolledCommand>();
  if (answer->status != 200) co_return fail(feed_error(answer->status, answer->body));
  auto command = polled_command_from(answer->body);
  if (!command) co_return fail(command.error());
  co_return std::optional<PolledCommand>(std::move(*command));
}

Task<Result<void>> HttpCommandSource::report(std::string command_id, CommandOutcome outcome) {
  HttpClientRequest request;
  request.method = "POST";
  request.url = api_url_ + "/api/v1/daemon-commands/" + command_id + "/result";
  request.headers.emplace_back("Content-Type", "application/json");
  nlohmann::json body = {{"ok", outcome.ok}};
  if (outcome.ok) {
    body["result"] = outcome.result;
  } else {
    body["error"] = outcome.error;
  }
  request.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  request.total_timeout = seconds(30);
  request.idle_timeout = seconds(30);
  Task<Result<HttpClientAnswer>> exchanging = exchange(std::move(request));
  Result<HttpClientAnswer> answer = co_await exchanging;
  if (!answer) co_return fail(answer.error());
  if (answer->status != 200) co_return fail(feed_error(answer->status, answer->body));
  co_return Result<void>();
}

}  // namespace reliant::daemon

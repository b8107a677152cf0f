// Command feed requests: the token first (nothing is read before it checks), then one call of
// the queue's.
#include "services/api/command_feed.h"

#include <cmath>

#include "base/json_parse.h"
#include "core/bearer_token.h"
#include "services/api/api_server.h"
#include "services/api/api_support.h"

namespace reliant::api {
namespace {

constexpr std::string_view kFeedPrefix = "/api/v1/daemon-commands/";

Result<Duration> poll_wait(const HttpRequest& request) {
  const auto found = request.query.find("wait_s");
  if (found == request.query.end()) return Duration(seconds(25));
  char* end = nullptr;
  const double wait_s = std::strtod(found->second.c_str(), &end);
  if (end == found->second.c_str() || *end != '\0' || !std::isfinite(wait_s) || wait_s < 0 ||
      wait_s > 60) {
    return fail(ErrorCode::invalid_argument, "wait_s: seconds in [0, 60]");
  }
  return Duration(milliseconds(static_cast<std::int64_t>(wait_s * 1000)));
}

Task<HttpResponse> next_command(control_plane::CommandQueue& queue, const std::string& daemon_id,
                                const HttpRequest& request) {
  auto wait = poll_wait(request);
  if (!wait) co_return error_response(wait.error());
  Task<Result<std::optional<CommandRecord>>> polling = queue.next(daemon_id, *wait);
  Result<std::optional<CommandRecord>> next = co_await polling;
  if (!next) co_return error_response(next.error());
  if (!*next) {
    HttpResponse none;
    none.status = 204;
    co_return none;
  }
  const CommandRecord& c = **next;
  co_return json_response(200, {{"command",
                                 {{"id", c.id},
                                  {"name", c.name},
                                  {"args", parse_json_or_discarded(c.args_json)},
                                  {"deliveries", c.deliveries},
                                  {"daemon_id", c.daemon_id},
                                  {"user_id", c.user_id},
                                  {"run_time_ms", c.run_time_ms}}}});
}

Task<HttpResponse> report_result(control_plane::CommandQueue& queue, const std::string& daemon_id,
                                 const std::string& command_id, const HttpRequest& request) {
  auto body = parse_json(request.body);
  if (!body || !body->is_object() || !(*body)["ok"].is_boolean()) {
    co_return error_response({ErrorCode::invalid_argument,
                              "the body is {\"ok\": true, \"result\": …} or "
                              "{\"ok\": false, \"error\": TEXT}"});
  }
  const bool ok = (*body)["ok"].get<bool>();
  const Json& error = (*body)["error"];
  Task<Result<bool>> reporting =
      queue.report(daemon_id, command_id, ok,
                   ok && body->contains("result") ? (*body)["result"].dump() : std::string(),
                   error.is_string() ? error.get<std::string>() : std::string("failed"));
  Result<bool> recorded = co_await reporting;
  if (!recorded) co_return error_response(recorded.error());
  co_return json_response(200, {{"recorded", *recorded}});
}

}  // namespace

bool is_command_feed(const HttpRequest& request) { return request.path.starts_with(kFeedPrefix); }

Task<HttpResponse> serve_command_feed(control_plane::CommandQueue& queue, HttpRequest request) {
  Task<Result<std::string>> authenticating =
      queue.authenticate(bearer_token(request.header("authorization")));
  Result<std::string> daemon_id = co_await authenticating;
  if (!daemon_id) co_return error_response(daemon_id.error());
  request.mark_authenticated();
  const std::string_view rest = std::string_view(request.path).substr(kFeedPrefix.size());
  if (rest == "next" && request.method == "GET") {
    Task<HttpResponse> polling = next_command(queue, *daemon_id, request);
    co_return co_await polling;
  }
  constexpr std::string_view kResult = "/result";
  if (request.method == "POST" && rest.ends_with(kResult) && rest.size() > kResult.size() &&
      rest.substr(0, rest.size() - kResult.size()).find('/') == std::string_view::npos) {
    const std::string command_id(rest.substr(0, rest.size() - kResult.size()));
    Task<HttpResponse> reporting = report_result(queue, *daemon_id, command_id, request);
    co_return co_await reporting;
  }
  co_return error_response(
      {ErrorCode::not_found, "no route " + request.method + " " + request.path});
}

}  // namespace reliant::api

// HttpCommandSource: the command feed of an api (services/api/command_feed.h) as a managed
// daemon reaches it, through the HttpClient port, with the commands token its control plane
// started it with.
#pragma once

#include <string>

#include "runtime/http_client.h"
#include "runtime/http_exchange.h"
#include "services/daemon/command_poller.h"

namespace reliant::daemon {

class HttpCommandSource final : public CommandSource {
 public:
  // `api_url`: "https://host:port" (a path prefix allowed); `token`: rlnt_cmd_….
  HttpCommandSource(HttpClient& http, std::string api_url, std::string token);

  Task<Result<std::optional<PolledCommand>>> next(Duration wait) override;
  Task<Result<void>> report(std::string command_id, CommandOutcome outcome) override;

 private:
  // Sends with the token and collects the answer (at most kBodyBytesMax of body).
  Task<Result<HttpClientAnswer>> exchange(HttpClientRequest request);

  static constexpr std::size_t kBodyBytesMax = 1024 * 1024;
  HttpClient& http_;
  std::string api_url_;
  std::string token_;
};

// The command a feed's 200 answer carries; invalid_argument when it is not one.
Result<PolledCommand> polled_command_from(std::string_view body);

}  // namespace reliant::daemon

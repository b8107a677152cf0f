// REST over the simulated bus.
#include "sim/workload/api_call.h"

#include "base/assert.h"
#include "base/json_parse.h"

namespace reliant::sim {

std::string api_subject(const std::string& api_node) { return "api.http." + api_node; }

Task<Result<ApiReply>> call_api(Env& env, ApiRoute& route, std::string token, Duration timeout,
                                std::string method, std::string path, nlohmann::json query,
                                std::string body) {
  RELIANT_ASSERT(route.apis != nullptr && !route.apis->empty());
  const std::string api = (*route.apis)[route.current % route.apis->size()];
  nlohmann::json request = {{"method", std::move(method)},
                            {"path", std::move(path)},
                            {"query", std::move(query)},
                            {"body", std::move(body)},
                            {"token", std::move(token)}};
  Task<Result<BusMessage>> asking = env.bus->request(api_subject(api), request.dump(), timeout);
  Result<BusMessage> answer = co_await asking;
  if (!answer || answer->no_responders) {
    // That api is down or cut off: the next request goes to another one.
    ++route.current;
    ++route.switches;
    co_return fail(answer ? Error{ErrorCode::no_responders, api} : answer.error());
  }
  // What arrives on the inbox may be anyone's bytes (a garbage fault): only a well-formed reply
  // is one.
  const auto reply = parse_json_or_discarded(answer->data);
  if (!reply.is_object() || !reply.value("status", nlohmann::json()).is_number_integer() ||
      !reply.value("body", nlohmann::json()).is_string()) {
    co_return fail(ErrorCode::internal, "malformed api reply");
  }
  co_return ApiReply{reply["status"].get<int>(), reply["body"].get<std::string>()};
}

}  // namespace reliant::sim

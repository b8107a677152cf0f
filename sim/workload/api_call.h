// A REST request to one of the simulated api nodes, over the bus (the simulator has no HTTP):
// the request travels as {method, path, query, body, token}, the reply as {status, body}. An
// api that does not answer is left for the next one in the list, as a client behind a load
// balancer would find another replica.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "base/time.h"
#include "runtime/env.h"
#include "runtime/task.h"

namespace reliant::sim {

struct ApiReply {
  int status = 0;
  std::string body;
};

// The subject an api node serves REST on.
std::string api_subject(const std::string& api_node);

// Where a client sends its requests: the api nodes, the one in use (advanced when it does not
// answer) and how often that happened.
struct ApiRoute {
  const std::vector<std::string>* apis = nullptr;
  std::size_t current = 0;
  std::uint64_t switches = 0;
};

Task<Result<ApiReply>> call_api(Env& env, ApiRoute& route, std::string token, Duration timeout,
                                std::string method, std::string path, nlohmann::json query,
                                std::string body);

}  // namespace reliant::sim

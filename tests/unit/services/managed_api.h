// ManagedApi: the monolith's stack with its REST and gRPC faces, for the managed-daemon and
// command tests — user-1 (ada, with a local daemon "laptop") and user-2 (finn) have tokens.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "protocol/codec.h"
#include "services/api/api_server.h"
#include "services/api/grpc_api.h"
#include "services/storage/managed_daemons.h"
#include "unit/services/agent_monolith.h"

namespace reliant::agent {

struct ManagedApi {
  Monolith m;
  std::unique_ptr<api::ApiServer> rest;
  std::unique_ptr<api::GrpcApi> grpc;
  std::string ada;   // user-1's token (its local daemon is "laptop")
  std::string finn;  // user-2's

  explicit ManagedApi(api::ApiConfig config = {}) {
    config.daemons = &m.router;
    rest = std::make_unique<api::ApiServer>(m.env, config);
    grpc = std::make_unique<api::GrpcApi>(m.env, config);
    ada = stored_token(m, "user-1", 1);
    finn = stored_token(m, "user-2", 2);
  }
  HttpResponse call(const std::string& method, const std::string& path, std::string body = "",
                    const std::string* token = nullptr) {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.headers["authorization"] = "Bearer " + (token != nullptr ? *token : ada);
    request.body = std::move(body);
    return m.run(rest->handle(std::move(request)));
  }
  nlohmann::json json(const HttpResponse& response) {
    return nlohmann::json::parse(response.body, nullptr, false);
  }
  std::string error(const HttpResponse& response) {
    return json(response)["error"].value("message", "");
  }
  template <class Response = api::v1::DaemonResponse>
  Result<Response> rpc(const std::string& name, const google::protobuf::Message& in) {
    RpcCall call;
    call.method = "/reliant.api.v1.DaemonService/" + name;
    call.metadata["authorization"] = "Bearer " + ada;
    call.request = protocol::encode(in);
    auto out = m.run(grpc->unary(std::move(call)));
    if (!out) return fail(out.error());
    return protocol::decode<Response>(*out);
  }
  std::size_t managed_rows() {
    std::size_t n = 0;
    auto read = m.database.database().transact([&](SqlTransaction& tx) -> Result<void> {
      auto rows = list_managed_daemons(tx, "user-1");
      if (!rows) return fail(rows.error());
      n = rows->size();
      return {};
    });
    EXPECT_TRUE(read.has_value());
    return n;
  }
};

}  // namespace reliant::agent

// GrpcApi: the api's gRPC face (gRPC/ConnectRPC, spec S1.3) as an RpcHandler — ChatService,
// StreamingService, DaemonService and WorkflowService of proto/reliant/api/v1/api.proto, and a
// daemon's own services (daemon_services.proto, DaemonServicesRpc), on the
// same ChatService, WorkflowRoutes operations, PAT authentication and UserFeed as the REST
// ApiServer. It sees only
// serialized messages; the gRPC adapter (adapters/grpc/grpc_rpc_server.h) carries them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "runtime/env.h"
#include "runtime/rpc.h"
#include "services/agent/chat_service.h"
#include "services/api/api_server.h"
#include "services/api/daemon_services_rpc.h"
#include "services/api/managed_daemon_calls.h"
#include "services/api/preset_routes.h"
#include "services/api/workflow_routes.h"

namespace reliant::api {

class GrpcApi final : public RpcHandler {
 public:
  // Runs once per authenticated call before it is served (the monolith starts the user's
  // embedded daemon here). An error fails the call.
  using OnAuthenticated = ApiServer::OnAuthenticated;

  // `env` needs a store and a bus. Of `config`, the chats part applies.
  GrpcApi(Env& env, ApiConfig config, OnAuthenticated on_authenticated = {});

  bool knows(std::string_view method) const override;
  bool is_server_streaming(std::string_view method) const override;
  bool is_bidi_streaming(std::string_view method) const override;
  // Every call authenticates with the metadata `authorization: Bearer <token>`; a request
  // that does not parse is invalid_argument ("malformed <message type> …").
  Task<Result<std::string>> unary(RpcCall call) override;
  // StreamUpdates: every update after since_seq, then live ones, until the client goes.
  Task<Result<void>> server_stream(RpcCall call, RpcWriter& out) override;
  // TerminalService.StreamTerminal.
  Task<Result<void>> bidi_stream(RpcCall call, RpcReader& in, RpcWriter& out) override;

  struct Stats {
    std::uint64_t calls = 0;
    std::uint64_t streams_open = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  using UnaryMethod = Task<Result<std::string>> (GrpcApi::*)(std::string user_id,
                                                             std::string request);
  static const std::map<std::string_view, UnaryMethod>& unary_methods();

  Task<Result<Credential>> authenticate(const RpcCall& call);
  Task<Result<std::string>> create_chat(std::string user_id, std::string request);
  Task<Result<std::string>> list_chats(std::string user_id, std::string request);
  Task<Result<std::string>> get_chat(std::string user_id, std::string request);
  Task<Result<std::string>> send_message(std::string user_id, std::string request);
  Task<Result<std::string>> cancel_chat(std::string user_id, std::string request);
  Task<Result<std::string>> list_daemons(std::string user_id, std::string request);
  Task<Result<std::string>> set_session_daemon(std::string user_id, std::string request);
  // WorkflowService: each decodes its request, calls the WorkflowRoutes operation REST calls,
  // and encodes the JSON that answers.
  Task<Result<std::string>> list_workflows(std::string user_id, std::string request);
  Task<Result<std::string>> validate_workflow(std::string user_id, std::string request);
  Task<Result<std::string>> list_project_workflows(std::string user_id, std::string request);
  Task<Result<std::string>> get_project_workflow(std::string user_id, std::string request);
  Task<Result<std::string>> create_project_workflow(std::string user_id, std::string request);
  Task<Result<std::string>> update_project_workflow(std::string user_id, std::string request);
  Task<Result<std::string>> delete_project_workflow(std::string user_id, std::string request);
  Task<Result<std::string>> start_run(std::string user_id, std::string request);
  Task<Result<std::string>> get_run(std::string user_id, std::string request);
  Task<Result<std::string>> list_runs(std::string user_id, std::string request);
  Task<Result<std::string>> approve_node(std::string user_id, std::string request);
  Task<Result<std::string>> deny_node(std::string user_id, std::string request);
  Task<Result<std::string>> answer_node(std::string user_id, std::string request);
  Task<Result<std::string>> cancel_run(std::string user_id, std::string request);
  Task<Result<std::string>> control_run(std::string user_id, std::string request);
  Task<Result<std::string>> list_run_events(std::string user_id, std::string request);
  // PresetService, over PresetRoutes' operations.
  Task<Result<std::string>> list_presets(std::string user_id, std::string request);
  Task<Result<std::string>> get_preset(std::string user_id, std::string request);
  Task<Result<std::string>> validate_preset(std::string user_id, std::string request);
  Task<Result<std::string>> create_preset(std::string user_id, std::string request);
  Task<Result<std::string>> delete_preset(std::string user_id, std::string request);
  Task<Result<void>> stream_updates(Credential credential, std::string request, RpcWriter& out);

  Env& env_;
  ApiConfig config_;
  OnAuthenticated on_authenticated_;
  agent::ChatService chats_;
  WorkflowRoutes workflows_;  // stateless: the operations, like ApiServer's own
  PresetRoutes presets_;
  CredentialWatches watches_;  // of the update streams and the daemon services' streams
  DaemonServicesRpc daemon_services_;
  ManagedDaemonCalls managed_daemons_;
  std::shared_ptr<updates::UpdateBudget> update_budget_;  // the config's, else its own
  Stats stats_;
};

}  // namespace reliant::api

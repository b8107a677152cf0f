// ApiServer: the client-facing REST API (spec S1.2's api server) as an HttpHandler — chats,
// messages, projects, daemons, workflows and runs, tokens, settings, the CLI's browser sign-in,
// and the update stream as server-sent events with resume.
// Stateless: everything comes from the store, updates arrive over the bus, so any number of
// replicas serve any client. Users authenticate with a personal access token (Bearer).
#pragma once

#include "base/sealed_box.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/agent/model_catalog.h"
#include "runtime/bearer_verifier.h"
#include "runtime/env.h"
#include "runtime/http.h"
#include "runtime/password_hasher.h"
#include "runtime/scope.h"
#include "runtime/secret_source.h"
#include "services/agent/chat_service.h"
#include "services/api/account_routes.h"
#include "services/api/browser_session.h"
#include "services/api/cli_login.h"
#include "services/api/connect_rpc.h"
#include "services/api/credential_watch.h"
#include "services/api/daemon_routes.h"
#include "services/api/managed_daemon_calls.h"
#include "services/api/preset_routes.h"
#include "services/api/project_routes.h"
#include "services/api/route_table.h"
#include "services/api/trigger_routes.h"
#include "services/api/web_assets.h"
#include "services/api/workflow_routes.h"
#include "services/updates/update_budget.h"
#include "services/updates/user_announcements.h"

namespace reliant::api {

struct ApiConfig {
  agent::ChatServiceConfig chats;
  std::size_t body_bytes_max = 1 << 20;
  Duration stream_keepalive = seconds(15);  // an SSE comment when nothing else was sent
  // How often an update stream asks the store whether its token still holds (a revocation
  // announced on the bus ends it at once; this covers a lost announcement).
  Duration credential_recheck = seconds(10);
  // Checks JWTs from the identity provider (--jwt-public-key, spec S1.5); null: PATs only.
  const BearerVerifier* jwt = nullptr;
  // Both set: the CLI's browser sign-in (CliLogin) and token creation over the API are served.
  PasswordHasher* passwords = nullptr;
  SecretSource* secrets = nullptr;
  // The server's secrets key (--secrets-key-file): set, users may keep their provider API keys
  // in settings, sealed under it (services/storage/provider_keys.h); null, they may not.
  std::shared_ptr<const SealKey> secrets_key;
  // Set: Connect calls (POST /reliant.…/Method) on the HTTP port go to it (browsers' gRPC).
  ConnectRpc* connect = nullptr;
  // How the api reaches a user's daemon for its own services (DaemonRoutes: its MCP servers);
  // null: those routes answer 503.
  routing::DaemonRouter* daemons = nullptr;
  // What GET /api/v1/workflows lists: the workflows this deployment's workers run.
  std::vector<std::string> workflows = {"agent"};
  // What GET /api/v1/models lists: the workers' model catalogue (null: none configured, the
  // workers' one model serves every node).
  std::shared_ptr<const agent::ModelCatalog> models;
  // The web app's files, served at / (null: none). They must outlive the server.
  const WebAssets* web = nullptr;
  // Browser sessions (api/browser_session.h) need `secrets`; password sign-in needs `passwords`
  // too; `local_sign_in` is the monolith's one-time link. Cookies are Secure unless the server
  // speaks plain HTTP.
  LocalSignIn* local_sign_in = nullptr;
  bool secure_cookies = true;
  // What the update streams of the process hold together for slow clients (shared by its REST
  // and gRPC faces); null: each server bounds its own streams at kUpdateBudgetBytes.
  std::shared_ptr<updates::UpdateBudget> update_budget = nullptr;
  // The update announcements the process hears, shared by the streams of its REST and gRPC
  // faces: one bus subscription per user, each announcement decoded once (null: each stream
  // subscribes for itself — the simulator's api nodes, whose traces this would change).
  std::shared_ptr<updates::UserAnnouncements> announcements = nullptr;
  // What DaemonService's create and update accept (the platforms this deployment serves).
  control_plane::ManagedDaemonServiceConfig managed_daemons;
  // Where schedules' time zones come from (the host's zoneinfo); null: UTC and fixed offsets.
  cel::TimeZoneLoader time_zones;
};

inline constexpr std::size_t kUpdateBudgetBytes = 256u << 20;

// The terminal WebSocket (api/terminal_socket.h documents its framing).
inline constexpr std::string_view kTerminalSocketPath = "/api/v2/terminal/ws";

class ApiServer final : public HttpHandler {
 public:
  // Runs once per authenticated request before it is served (the monolith starts the user's
  // embedded daemon here: LazyDaemonStarter, spec S2.3). An error fails the request.
  using OnAuthenticated = std::function<Task<Result<void>>(std::string user_id)>;

  // `env` needs a store and a bus.
  ApiServer(Env& env, ApiConfig config, OnAuthenticated on_authenticated = {});

  Task<HttpResponse> handle(HttpRequest request) override;

  struct Stats {
    std::uint64_t requests = 0;
    std::uint64_t streams_open = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  Task<Result<Credential>> authenticate(const HttpRequest& request);
  // authenticate(), then on_authenticated.
  Task<Result<Credential>> admit(const HttpRequest& request);
  // A token's credential, with on_authenticated run (the terminal socket's auth message); a
  // valid token calls `authenticated` (the connection's HttpRequest::authenticated).
  Task<Result<Credential>> authenticate_token(std::string token,
                                              std::function<void()> authenticated);
  // handle() without the headers every answer gets.
  Task<HttpResponse> serve(HttpRequest request);
  // GET /api/v2/terminal/ws: the terminal WebSocket (api/terminal_socket.h).
  Task<HttpResponse> open_terminal_socket(HttpRequest request);
  // An authenticated request, and what its route captured of its path.
  struct Call {
    HttpRequest request;
    Credential credential;
    std::vector<std::string> parts;  // the path's segments
    RouteParams params;
  };
  using Route = Task<HttpResponse> (ApiServer::*)(Call& call);
  using RouteTable = api::RouteTable<Route>;
  // The REST surface under /api/v1: every route this server answers, in one table.
  static RouteTable routes();
  Task<HttpResponse> route(HttpRequest request, Credential credential);
  static HttpResponse not_found(const HttpRequest& request);
  // A sub-router's answer, or not found when it has none for the path.
  static Task<HttpResponse> or_not_found(Task<std::optional<HttpResponse>> serving,
                                         const HttpRequest& request);
  Task<HttpResponse> get_me(Call& call);
  Task<HttpResponse> get_updates(Call& call);
  Task<HttpResponse> get_updates_head(Call& call);
  Task<HttpResponse> get_daemons(Call& call);
  Task<HttpResponse> get_models(Call& call);
  // Hands the request to a sub-router (daemons_, managed_daemons_, workflows_, triggers_,
  // accounts_, projects_), which
  // matches the rest of the path itself.
  template <auto Router>
  Task<HttpResponse> to_routes(Call& call) {
    Task<HttpResponse> serving = or_not_found(
        (this->*Router).handle(call.request, call.parts, call.credential.user_id), call.request);
    co_return co_await serving;
  }
  Task<HttpResponse> get_run(Call& call);
  Task<HttpResponse> get_run_history(Call& call);
  Task<HttpResponse> create_chat(Call& call);
  Task<HttpResponse> list_chats(Call& call);
  Task<HttpResponse> get_chat(Call& call);
  Task<HttpResponse> send_message(Call& call);
  Task<HttpResponse> get_plan(Call& call);
  Task<HttpResponse> cancel_chat(Call& call);
  Task<HttpResponse> rename_chat(Call& call);
  Task<HttpResponse> set_chat_daemon(Call& call);
  Task<HttpResponse> list_daemons(std::string user_id);
  // The run, and with `history` its event history; only the user's own runs.
  Task<HttpResponse> run_view(std::string user_id, std::string run_id, bool history);
  HttpResponse open_stream(const HttpRequest& request, const Credential& credential);

  Env& env_;
  ApiConfig config_;
  OnAuthenticated on_authenticated_;
  agent::ChatService chats_;
  std::optional<CliLogin> login_;
  std::optional<BrowserSessions> sessions_;
  AccountRoutes accounts_;
  ProjectRoutes projects_;
  PresetRoutes presets_;
  DaemonRoutes daemons_;
  ManagedDaemonCalls managed_daemons_;
  WorkflowRoutes workflows_;
  TriggerRoutes triggers_;
  CredentialWatches watches_;  // of the update streams and terminal sockets
  RouteTable routes_;
  std::shared_ptr<updates::UpdateBudget> update_budget_;  // the config's, else its own
  Stats stats_;
};

// The HTTP status for an error code (invalid_argument → 400, not_found → 404, …).
int http_status(ErrorCode code);
// {"error": {"code": "...", "message": "..."}}, with the message a client may see
// (client_message); when that leaves something out, the full error is in `log_note`.
HttpResponse error_response(const Error& error);

}  // namespace reliant::api

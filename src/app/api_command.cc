// The api process: REST on Beast and gRPC over the store (Postgres) and NATS (updates, wake-ups).
// It holds nothing itself, so any number of replicas serve any client; a stream resumes on any.
#include "app/api_command.h"
#include "app/secrets_key.h"
#include "app/zone_files.h"

#include "app/llm_options.h"
#include "app/logging.h"
#include "app/process_lifecycle.h"
#include "app/web_files.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <iterator>
#include <memory>

#include "adapters/asio/asio_executor.h"
#include "adapters/asio/run_blocking.h"
#include "adapters/crypto/jwt_verifier.h"
#include "adapters/crypto/pbkdf2_password_hasher.h"
#include "adapters/http/health_server.h"
#include "adapters/nats/nats_bus.h"
#include "app/api_listeners.h"
#include "app/control_plane_command.h"
#include "app/db_config.h"
#include "app/debug_server.h"
#include "app/readiness.h"
#include "app/secret_environment.h"
#include "app/secure_random.h"
#include "app/self_signed_tls.h"
#include "app/text_lists.h"
#include "services/api/api_server.h"
#include "services/api/grpc_api.h"
#include "services/routing/bus_daemon_router.h"
#include "services/storage/migrator.h"

namespace reliant {
namespace {

struct ApiOptions {
  DbConfig db;
  std::string managed_platforms = "kubernetes";
  std::int64_t managed_daemons_per_user = 20;
  int api_port = 8080;
  int grpc_port = 9090;
  int health_port = 8081;
  int pprof_port = 6060;
  std::string bind_address = "0.0.0.0";
  std::string temporal_host = "localhost";
  int temporal_port = 7233;
  std::string temporal_namespace = "reliant";
  std::string nats_url;
  std::string streaming_driver = "nats";
  std::string tls_cert;
  std::string tls_key;
  bool disable_tls = false;
  std::string jwt_public_key;
  std::string jwt_public_key_file;
  std::string jwt_audience = "authenticated";
  std::string web_dir;
  std::string models_file;       // the workers' model catalogue, for GET /api/v1/models
  std::string secrets_key_file;  // seals users' provider keys; empty: they cannot keep any
  std::string cors_origins;      // none: the web app is served from the same origin
  HttpLimitOptions http_limits;
  GrpcLimitOptions grpc_limits;
  bool migrate = false;
};

// Users of the identity provider authenticate with its JWTs (PATs work either way): the
// verifier of --jwt-public-key or --jwt-public-key-file, or null when neither is given.
Result<std::unique_ptr<JwtVerifier>> jwt_verifier_of(const ApiOptions& o) {
  if (o.jwt_public_key.empty() && o.jwt_public_key_file.empty())
    return std::unique_ptr<JwtVerifier>();
  std::string pem = o.jwt_public_key;
  if (pem.empty()) {
    std::ifstream in(o.jwt_public_key_file);
    if (!in) {
      return fail(ErrorCode::invalid_argument,
                  "--jwt-public-key-file " + o.jwt_public_key_file + ": cannot read it");
    }
    pem.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  auto made = JwtVerifier::create({pem, o.jwt_audience});
  if (!made) return fail(made.error().code, "--jwt-public-key: " + made.error().message);
  return std::move(*made);
}

// --managed-platforms: the platforms users may create managed daemons on.
Result<std::vector<DaemonPlatform>> managed_platforms_of(const std::string& list) {
  std::vector<DaemonPlatform> platforms;
  for (const std::string& name : split_list(list)) {
    auto platform = value_named(kDaemonPlatformNames, name);
    if (!platform) {
      return fail(ErrorCode::invalid_argument, "no platform \"" + name + "\" (local, kubernetes)");
    }
    platforms.push_back(*platform);
  }
  return platforms;
}

constexpr const char* kManagedPlatformsHelp =
    "Platforms users may create managed daemons on (comma-separated: kubernetes, local). A local "
    "daemon runs as the control plane's OS user, next to every other user's: add local for a "
    "deployment of one user only";

// Why --managed-platforms' value is refused; empty when it is not (a CLI11 check).
std::string managed_platforms_problem(const std::string& list) {
  auto platforms = managed_platforms_of(list);
  return platforms ? std::string() : platforms.error().message;
}

int run_api(const ApiOptions& o) {
  if (o.nats_url.empty()) {
    spdlog::error("--nats-url (NATS_URL) is required: api replicas receive updates over NATS");
    return 2;
  }
  // HTTPS and gRPC over TLS with the given pair or a self-signed one; --disable-tls behind a
  // TLS-terminating load balancer.
  auto tls = server_tls_files(o.disable_tls, o.tls_cert, o.tls_key, o.db.data_dir);
  if (!tls) return exit_after(tls.error(), tls.error().code == ErrorCode::invalid_argument ? 2 : 1);
  auto jwt = jwt_verifier_of(o);
  if (!jwt) return exit_after(jwt.error(), 2);
  if (o.streaming_driver != "nats") {
    spdlog::info("--streaming-driver {} ignored: an api replica streams through NATS",
                 o.streaming_driver);
  }
  raise_descriptor_limit();  // before any listener sizes its caps from it
  AsioExecutor executor;
  auto store = open_server_store(executor, o.db, o.migrate);
  if (!store) return exit_after(store.error(), 1);
  (void)protect_secret_environment();  // DATABASE_URL and the like, read above
  auto bus = NatsBus::connect(executor, NatsOptions{o.nats_url, "reliant-api"});
  if (!bus) return exit_after(bus.error(), 1);
  Random random(secure_random_u64());
  SpdlogLog log;
  Env env{executor, random, bus->get(), nullptr, store->get(), nullptr, &log};
  // A daemon's own services (its MCP servers) through whichever gateway holds it.
  routing::BusDaemonRouter daemons(env);
  api::ApiConfig config;
  config.chats.queue = o.temporal_namespace;
  config.time_zones = system_time_zones();
  config.daemons = &daemons;
  config.managed_daemons.platforms = *managed_platforms_of(o.managed_platforms);  // checked
  config.managed_daemons.per_user_max = o.managed_daemons_per_user;
  if (!o.models_file.empty()) {
    auto catalog = read_model_catalog(o.models_file);
    if (!catalog) return exit_after(catalog.error(), 2);
    config.models = std::move(*catalog);
  }
  config.jwt = jwt->get();
  Pbkdf2PasswordHasher passwords(executor);
  OsSecretSource secrets;
  config.passwords = &passwords;
  config.secrets = &secrets;
  if (!o.secrets_key_file.empty()) {
    auto secrets_key = read_secrets_key(o.secrets_key_file);
    if (!secrets_key) return exit_after(secrets_key.error(), 2);
    config.secrets_key = std::move(*secrets_key);
  }
  // The web app at /; users sign in with email and password (or a PAT).
  auto web = load_web_assets(o.web_dir);
  if (!web) return exit_after(web.error(), 2);
  config.web = &web->assets;
  config.secure_cookies = !o.disable_tls;
  // One bound on what the update streams of the REST and gRPC faces hold for slow clients, and
  // the memory they held given back once they let go.
  config.update_budget = std::make_shared<updates::UpdateBudget>(api::kUpdateBudgetBytes);
  config.announcements = std::make_shared<updates::UserAnnouncements>(*env.bus);
  MemoryTrimmer memory_trimmer(executor);
  api::GrpcApi grpc_api(env, config);
  // Browsers call the same gRPC services with the Connect protocol on the HTTP port.
  api::ConnectRpc connect(grpc_api);
  config.connect = &connect;
  api::ApiServer api(env, config);
  auto listeners = start_api_listeners(
      executor,
      {o.bind_address, o.api_port, o.grpc_port, o.cors_origins, *tls, o.http_limits, o.grpc_limits},
      api, grpc_api);
  if (!listeners) return exit_after(listeners.error(), 1);

  StopOnSignals stop_on_signals(executor);
  auto debug = DebugServer::start(
      executor, o.pprof_port, **store, o.db.driver, [&api, &grpc_api](std::string& out) {
        write_metric(out, "reliant_api_http_requests_total", "counter", "REST requests served.",
                     static_cast<double>(api.stats().requests));
        write_metric(out, "reliant_api_http_streams_open", "gauge", "Open update streams (SSE).",
                     static_cast<double>(api.stats().streams_open));
        write_metric(out, "reliant_api_grpc_calls_total", "counter", "gRPC calls served.",
                     static_cast<double>(grpc_api.stats().calls));
        write_metric(out, "reliant_api_grpc_streams_open", "gauge", "Open gRPC update streams.",
                     static_cast<double>(grpc_api.stats().streams_open));
      });
  if (!debug) return exit_after(debug.error(), 1, "debug server");
  auto health = ServerHealth::start(executor, **store, bus->get(), o.bind_address, o.health_port);
  if (!health) return exit_after(health.error(), 1);
  spdlog::info("api serving REST on {}:{}, gRPC on :{}, health on :{}, debug on 127.0.0.1:{}",
               o.bind_address, listeners->http->port(), listeners->grpc->port(), (*health)->port(),
               (*debug)->port());
  executor.run();
  debug->reset();
  listeners->grpc.reset();
  listeners->http.reset();
  spdlog::info("api stopped");
  return 0;
}

}  // namespace

void add_api_command(CLI::App& server, int& exit_code) {
  auto o = std::make_shared<ApiOptions>();
  auto* cmd =
      server.add_subcommand("api", "Serve the client API (REST) — stateless, run N replicas");
  add_db_options(*cmd, o->db);
  cmd->add_option("--api-port", o->api_port, "HTTP API listen port")
      ->envname("API_PORT")
      ->capture_default_str();
  cmd->add_option("--grpc-port", o->grpc_port, "gRPC listen port")
      ->envname("GRPC_PORT")
      ->capture_default_str();
  cmd->add_option("--health-port", o->health_port, "Health/readiness endpoint port")
      ->envname("HEALTH_PORT")
      ->capture_default_str();
  cmd->add_option("--pprof-port", o->pprof_port,
                  "Debug server port, 127.0.0.1 only: /metrics, /debug/db (0: any free port)")
      ->envname("PPROF_PORT")
      ->capture_default_str();
  cmd->add_option("--bind-address", o->bind_address, "Network interface to bind to")
      ->envname("BIND_ADDRESS")
      ->capture_default_str();
  cmd->add_option("--temporal-host", o->temporal_host, "Accepted for compatibility; unused")
      ->envname("TEMPORAL_HOST")
      ->capture_default_str();
  cmd->add_option("--temporal-port", o->temporal_port, "Accepted for compatibility; unused")
      ->envname("TEMPORAL_PORT")
      ->capture_default_str();
  cmd->add_option("--temporal-namespace", o->temporal_namespace,
                  "Engine namespace the chats' runs go to")
      ->envname("TEMPORAL_NAMESPACE")
      ->capture_default_str();
  cmd->add_option("--nats-url", o->nats_url, "NATS server URL (required)")->envname("NATS_URL");
  cmd->add_option("--managed-platforms", o->managed_platforms, kManagedPlatformsHelp)
      ->envname("MANAGED_PLATFORMS")
      ->capture_default_str()
      ->check(managed_platforms_problem);
  add_managed_daemons_per_user_option(*cmd, o->managed_daemons_per_user);
  cmd->add_option("--streaming-driver", o->streaming_driver, "memory or nats (forced to nats)")
      ->envname("STREAMING_DRIVER")
      ->capture_default_str();
  cmd->add_option("--tls-cert", o->tls_cert, "TLS certificate file (default: self-signed)")
      ->envname("TLS_CERT_FILE");
  cmd->add_option("--tls-key", o->tls_key, "TLS private key file")->envname("TLS_KEY_FILE");
  cmd->add_flag("--disable-tls", o->disable_tls, "Plaintext HTTP")->envname("DISABLE_TLS");
  cmd->add_option(
         "--models", o->models_file,
         "The workers' model catalogue (their --models file), listed by GET /api/v1/models")
      ->envname("RELIANT_MODELS_FILE");
  add_secrets_key_option(*cmd, o->secrets_key_file);
  cmd->add_option("--web-dir", o->web_dir,
                  "The web app's built files (default: beside the binary, or web/dist)")
      ->envname("RELIANT_WEB_DIR");
  cmd->add_option("--jwt-public-key", o->jwt_public_key, "JWT public key PEM")
      ->envname("JWT_PUBLIC_KEY");
  cmd->add_option("--jwt-public-key-file", o->jwt_public_key_file, "JWT public key PEM file")
      ->envname("JWT_PUBLIC_KEY_FILE");
  cmd->add_option("--jwt-audience", o->jwt_audience,
                  "The audience JWTs must name (empty: not checked)")
      ->envname("JWT_AUDIENCE")
      ->capture_default_str();
  cmd->add_option("--cors-origins", o->cors_origins,
                  "Comma-separated origins whose pages may call the API (CORS), or *; empty "
                  "(default): only the server's own pages (the web app)")
      ->envname("CORS_ALLOWED_ORIGINS");
  add_http_limit_options(*cmd, o->http_limits);
  add_grpc_limit_options(*cmd, o->grpc_limits);
  cmd->add_flag("--migrate", o->migrate, "Apply pending migrations before starting");
  cmd->callback([o, &exit_code] { exit_code = run_api(*o); });
}

}  // namespace reliant

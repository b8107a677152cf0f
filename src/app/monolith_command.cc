// The monolith process: one executor runs the store, the in-process bus, the engine's worker,
// the REST API, per user on first use the embedded tools daemon, and a control plane with a
// gateway of its own for every other daemon: the managed daemons it starts on this machine and
// those that dial its daemon port. SIGINT/SIGTERM stop it (its managed daemons run on; the next
// monolith on this data directory adopts them).
#include "app/monolith_command.h"
#include "app/logging.h"
#include "app/process_lifecycle.h"
#include "app/web_files.h"
#include "app/zone_files.h"
#include "services/triggers/trigger_scheduler.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "adapters/asio/asio_executor.h"
#include "adapters/asio/run_blocking.h"
#include "adapters/crypto/pbkdf2_password_hasher.h"
#include "adapters/host/posix_host.h"
#include "adapters/llm/outbound_http.h"
#include "adapters/memory/in_process_bus.h"
#include "app/api_listeners.h"
#include "app/control_plane_command.h"
#include "app/daemon_files.h"
#include "app/data_dir.h"
#include "app/db_config.h"
#include "app/file_request_journal.h"
#include "app/gateway_assembly.h"
#include "app/llm_options.h"
#include "app/local_account.h"
#include "app/mcp_files.h"
#include "app/monolith_daemons.h"
#include "app/secret_environment.h"
#include "app/secure_random.h"
#include "app/self_signed_tls.h"
#include "app/version.h"
#include "app/workspace_options.h"
#include "core/agent/agent_workflow.h"
#include "core/engine/builtin_workflows.h"
#include "core/workflow/engine_workflow.h"
#include "services/agent/agent_activities.h"
#include "services/api/api_server.h"
#include "services/api/grpc_api.h"
#include "services/daemon/mcp/mcp_servers.h"
#include "services/routing/lazy_daemon_starter.h"
#include "services/routing/monolith_daemon_router.h"
#include "services/storage/migrator.h"
#include "services/worker/worker.h"

namespace reliant {
namespace {

struct MonolithOptions {
  std::string data_dir = "./data";
  std::string bind_address = "127.0.0.1";
  int api_port = 8080;
  int grpc_port = 9090;
  std::string working_dir;
  std::string cors_origins;  // none: the web app is served from the same origin
  HttpLimitOptions http_limits;
  GrpcLimitOptions grpc_limits;
  LlmOptions llm;
  std::int64_t concurrency = 64;
  std::int64_t managed_daemons_per_user = 20;
  std::string tls_cert;
  std::string tls_key;
  bool disable_tls = false;
  std::string web_dir;  // the web app's files; empty: the usual places (app/web_files.h)
  WorkspaceFlags workspace;
  int daemon_port = 0;  // where daemons dial in; 0: any free port
  ControlPlaneFlags plane;
};

Duration seconds_of(double s) { return milliseconds(static_cast<std::int64_t>(s * 1000)); }

std::string host_name() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

// Where the embedded daemon works: --working-dir, or the current directory; absolute.
Result<std::string> working_dir_of(const MonolithOptions& options) {
  const std::string dir =
      std::filesystem::absolute(options.working_dir.empty()
                                    ? std::filesystem::current_path()
                                    : std::filesystem::path(options.working_dir))
          .lexically_normal();
  if (!std::filesystem::is_directory(dir)) {
    return fail(ErrorCode::invalid_argument, "--working-dir " + dir + " is not a directory");
  }
  return dir;
}

// The web app's one-time sign-in link: its code rides in the fragment, which the browser keeps
// to itself; also in DATA_DIR/auth/web-link (0600) for scripts and tests.
void announce_web_link(const std::string& link, const std::string& data_dir, bool built) {
  write_web_link(data_dir, link);
  spdlog::info("web app: {} (signs you in once, within 10 minutes{})", link,
               built ? "" : "; not built: run tools/setup.sh");
}

// The monolith's managed daemons: local ones, which run as this process's OS user, so for its
// local account only.
control_plane::ManagedDaemonServiceConfig local_managed_daemons(const std::string& local_user_id,
                                                                std::int64_t per_user_max) {
  control_plane::ManagedDaemonServiceConfig config;
  config.platforms = {DaemonPlatform::local};
  config.local_platform_user = local_user_id;
  config.per_user_max = per_user_max;
  return config;
}

int run_monolith(const MonolithOptions& options) {
  // Private: the database, the token and the TLS key live here (0700, files 0600).
  if (auto ready = prepare_data_dir(options.data_dir); !ready) {
    spdlog::error("cannot use the data directory {}: {}", options.data_dir, ready.error().message);
    return 1;
  }
  // One process per data directory, for this process's whole life (the kernel lets go when it
  // dies): two monoliths on one database each ran every in-flight tool.
  auto claim = lock_data_dir(options.data_dir);
  if (!claim) return exit_after(claim.error(), 1);
  auto working = working_dir_of(options);
  if (!working) return exit_after(working.error(), 1);
  const std::string& working_dir = *working;
  raise_descriptor_limit();  // before any listener sizes its caps from it
  AsioExecutor executor;
  DbConfig db;
  db.driver = "sqlite";
  db.data_dir = options.data_dir;
  auto store = open_store(executor, db);
  if (!store) return exit_after(store.error(), 1);
  auto applied = run_blocking(executor, migrate_up(**store, executor.now()));
  if (!applied) return exit_after(applied.error(), 1);
  auto account = ensure_local_account(executor, **store, options.data_dir);
  if (!account) return exit_after(account.error(), 1);
  auto journal = FileRequestJournal::open(options.data_dir + "/daemon-journal");
  if (!journal) return exit_after(journal.error(), 1);

  InProcessBroker broker(secure_random_u64());
  InProcessBus bus(broker, executor);
  // The data dir may lie in the workspace (`cd PROJECT && reliant monolith --data-dir ./data`):
  // its token, keys, sign-in link and database stay out of the file tools' reach anyway.
  auto host_config =
      host_options(working_dir, options.workspace, private_directories(options.data_dir));
  if (!host_config) return exit_after(host_config.error(), 2);
  if (!enable_child_subreaper()) spdlog::warn("cannot become a child subreaper");
  PosixHost host(executor, *host_config);
  spdlog::info("the embedded daemon's file tools reach {}", describe_workspace(*host_config));
  spdlog::info("the embedded daemon's tools' processes are tracked {}", host.process_tracking());
  // Spec S2.4: TLS with a certificate generated into the data dir unless one is given.
  auto tls =
      server_tls_files(options.disable_tls, options.tls_cert, options.tls_key, options.data_dir);
  if (!tls) return exit_after(tls.error(), tls.error().code == ErrorCode::invalid_argument ? 2 : 1);
  auto transport = gateway_transport(executor, options.grpc_limits, *tls);
  if (!transport) return exit_after(transport.error(), 1);
  Random random(secure_random_u64());
  SpdlogLog log;
  Env env{executor, random, &bus, transport->get(), store->get(), &host, &log};

  // The embedded daemon's MCP servers, from the mcp.json layers (read before the environment's
  // secrets are put away: ${VAR} may name one).
  llm::OutboundHttpClient mcp_http(executor);  // servers of type http and sse
  mcp::McpServersOptions mcp_options;
  mcp_options.http = &mcp_http;
  mcp_options.log_dir = std::filesystem::absolute(options.data_dir).string();
  mcp_options.working_dir = working_dir;
  mcp::McpServers mcp_servers(env, host, mcp_options);
  configure_mcp_servers(mcp_servers, working_dir);
  routing::LazyDaemonStarter daemons(
      env,
      routing::LocalDaemonIdentity{"embedded", host_name(), "linux", working_dir, version_string()},
      **journal, account->user_id);
  daemons.attach_mcp(&mcp_servers);
  auto others = MonolithDaemons::start(
      executor, env, **transport,
      {options.bind_address, options.daemon_port, options.data_dir, options.plane.daemons_dir,
       seconds_of(options.plane.interval_s), seconds_of(options.plane.suspend_after_s)});
  if (!others) return exit_after(others.error(), 1);
  routing::MonolithDaemonRouter router(daemons, (*others)->router());
  auto models = open_models(executor, options.llm, store->get(), options.data_dir);
  if (!models) return exit_after(models.error(), 2);
  // Everything secret was read from the environment: out of the tools' reach from here on.
  (void)protect_secret_environment();
  engine::WorkflowRegistry workflows;
  engine::register_builtin_workflows(workflows);
  agent::register_agent_workflow(workflows);
  engine::ActivityRegistry activities;
  engine::register_builtin_activities(activities);
  agent::AgentDeps agent_deps{
      **store, &bus, *models->llm, router, models->default_model, agent::builtin_tool_specs()};
  agent_deps.catalog = models->catalog;
  agent_deps.queue = engine::WorkerConfig{}.queue;
  agent::register_agent_activities(activities, agent_deps);
  engine::WorkerConfig worker_config;
  worker_config.worker_id = "monolith-" + std::to_string(::getpid());
  worker_config.in_flight_max = options.concurrency;
  worker_config.poll_interval = seconds(1);

  api::ApiConfig api_config;
  api_config.chats.queue = worker_config.queue;
  api_config.models = models->catalog;
  api_config.daemons = &router;
  api_config.managed_daemons =
      local_managed_daemons(account->user_id, options.managed_daemons_per_user);
  Pbkdf2PasswordHasher passwords(executor);
  OsSecretSource secrets;
  api_config.passwords = &passwords;
  api_config.secrets = &secrets;
  api_config.secrets_key = models->secrets_key;
  api_config.time_zones = system_time_zones();
  // The web app at /, signed into with a one-time link printed below.
  auto web = load_web_assets(options.web_dir);
  if (!web) return exit_after(web.error(), 2);
  api_config.web = &web->assets;
  api::LocalSignIn local_sign_in(account->user_id);
  api_config.local_sign_in = &local_sign_in;
  api_config.secure_cookies = !options.disable_tls;
  // The update streams of both faces share one bound on what they hold, and their announcements.
  api_config.update_budget = std::make_shared<updates::UpdateBudget>(api::kUpdateBudgetBytes);
  api_config.announcements = std::make_shared<updates::UserAnnouncements>(*env.bus);
  MemoryTrimmer memory_trimmer(executor);
  // Spec S2.3: the daemon starts on the first authenticated request, not at boot.
  auto start_daemon = [&daemons](std::string user_id) {
    return daemons.start_for_request(std::move(user_id));
  };
  api::GrpcApi grpc_api(env, api_config, start_daemon);
  // Browsers call the same gRPC services with the Connect protocol on the HTTP port.
  api::ConnectRpc connect(grpc_api);
  api_config.connect = &connect;
  api::ApiServer api(env, api_config, start_daemon);
  auto listeners =
      start_api_listeners(executor,
                          {options.bind_address, options.api_port, options.grpc_port,
                           options.cors_origins, *tls, options.http_limits, options.grpc_limits},
                          api, grpc_api);
  if (!listeners) return exit_after(listeners.error(), 1);
  (*others)->serve_commands_from(options.bind_address, listeners->http->port(), *tls);
  auto worker = std::make_unique<engine::Worker>(env, worker_config, workflows, activities);
  auto scheduler = std::make_unique<triggers::TriggerScheduler>(  // webhooks come to the api
      env,
      triggers::SchedulerConfig{worker_config.queue, models->default_model, api_config.time_zones});

  StopOnSignals stop_on_signals(executor);
  spdlog::info(
      "monolith {} serving {}://{}:{} and gRPC{} on :{} (data in {}, tools run in {}, model: {})",
      version_string(), *tls ? "https" : "http", options.bind_address, listeners->http->port(),
      *tls ? " over TLS" : "", listeners->grpc->port(), options.data_dir, working_dir,
      options.llm.models_file.empty() ? options.llm.provider : options.llm.models_file);
  spdlog::info("local user {}; its token is in {}{}", account->user_id, account->token_file,
               account->created ? " (new)" : "");
  announce_web_link(std::string(*tls ? "https" : "http") +
                        "://127.0.0.1:" + std::to_string(listeners->http->port()) +
                        "/#sign-in=" + local_sign_in.issue(secrets, executor.steady_now()),
                    options.data_dir, !web->dir.empty());
  executor.run();
  listeners->grpc.reset();
  listeners->http.reset();
  worker.reset();
  others->reset();
  spdlog::info("monolith stopped");
  return 0;
}

}  // namespace

void add_monolith_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<MonolithOptions>();
  auto* monolith = app.add_subcommand(
      "monolith",
      "Run everything in one process: SQLite, engine, API and the embedded tools daemon");
  monolith
      ->add_option("--data-dir", options->data_dir,
                   "Where reliant.db, the token and the journal live")
      ->envname("DATA_DIR")
      ->capture_default_str();
  monolith->add_option("--api-port", options->api_port, "HTTP API listen port (0: any free port)")
      ->envname("API_PORT")
      ->capture_default_str();
  monolith->add_option("--grpc-port", options->grpc_port, "gRPC API listen port (0: any free port)")
      ->envname("GRPC_PORT")
      ->capture_default_str();
  monolith->add_option("--bind-address", options->bind_address, "Interface to listen on")
      ->envname("BIND_ADDRESS")
      ->capture_default_str();
  monolith->add_option("--working-dir", options->working_dir,
                       "Where the embedded daemon runs tools (default: the current directory)");
  add_workspace_flags(*monolith, options->workspace);
  monolith
      ->add_option("--web-dir", options->web_dir,
                   "The web app's built files (default: beside the binary, or web/dist)")
      ->envname("RELIANT_WEB_DIR");
  monolith
      ->add_option("--cors-origins", options->cors_origins,
                   "Comma-separated origins whose pages may call the API (CORS), or *; empty "
                   "(default): only the server's own pages (the web app)")
      ->envname("CORS_ALLOWED_ORIGINS");
  monolith
      ->add_option("--tls-cert", options->tls_cert,
                   "TLS certificate file (default: self-signed, in DATA_DIR/tls)")
      ->envname("TLS_CERT_FILE");
  monolith->add_option("--tls-key", options->tls_key, "TLS private key file")
      ->envname("TLS_KEY_FILE");
  monolith->add_flag("--disable-tls", options->disable_tls, "Plaintext HTTP and gRPC")
      ->envname("DISABLE_TLS");
  add_http_limit_options(*monolith, options->http_limits);
  add_grpc_limit_options(*monolith, options->grpc_limits);
  add_llm_options(*monolith, options->llm);
  monolith->add_option("--concurrency", options->concurrency, "Engine tasks processed at once")
      ->capture_default_str();
  monolith
      ->add_option("--daemon-port", options->daemon_port,
                   "Where daemons dial in (reliant daemon start --gateway); 0: any free port")
      ->envname("TOOLS_DAEMON_PORT")
      ->capture_default_str();
  add_control_plane_flags(*monolith, options->plane, "--control-plane-interval");
  add_managed_daemons_per_user_option(*monolith, options->managed_daemons_per_user);
  monolith->callback([options, &exit_code] { exit_code = run_monolith(*options); });
}

}  // namespace reliant

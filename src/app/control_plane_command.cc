// The control plane process: one executor, the store, NATS (the gateways' connect commands and
// the api's wake-ups), the local provisioner, and the ControlPlane component; SIGINT/SIGTERM stop
// it (its daemons keep running, and the next control plane finds them).
#include "app/control_plane_command.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "adapters/asio/asio_executor.h"
#include "adapters/host/local_provisioner.h"
#include "adapters/nats/nats_bus.h"
#include "app/db_config.h"
#include "app/kubernetes_options.h"
#include "app/logging.h"
#include "app/process_lifecycle.h"
#include "app/process_name.h"
#include "app/secret_environment.h"
#include "app/secure_random.h"
#include "services/control_plane/control_plane.h"

namespace reliant {
namespace {

struct ControlPlaneOptions {
  DbConfig db;
  std::string nats_url;
  int health_port = 8083;
  std::string bind_address = "0.0.0.0";
  std::string replica_id;
  ControlPlaneFlags plane;
  CommandsFlags commands;
  KubernetesFlags kubernetes;
  std::string daemon_binary;
  std::string daemon_bind_address = "127.0.0.1";
  bool migrate = false;
};

int run_control_plane(const ControlPlaneOptions& options) {
  if (options.nats_url.empty()) {
    spdlog::error("the control plane needs --nats-url (NATS_URL): gateways hear it there");
    return 2;
  }
  raise_descriptor_limit();
  AsioExecutor executor;
  auto store = open_server_store(executor, options.db, options.migrate);
  if (!store) return exit_after(store.error(), 1);
  auto nats = NatsBus::connect(executor, NatsOptions{options.nats_url, "reliant-control-plane"});
  if (!nats) return exit_after(nats.error(), 1);
  Random random(secure_random_u64());
  SpdlogLog log;
  Env env{executor, random, nats->get(), nullptr, store->get(), nullptr, &log};
  LocalProvisionerOptions local;
  local.root_dir = options.plane.daemons_dir.empty() ? options.db.data_dir + "/managed"
                                                     : options.plane.daemons_dir;
  local.root_dir = std::filesystem::absolute(local.root_dir).string();
  local.binary = options.daemon_binary;
  local.bind_address = options.daemon_bind_address;
  LocalProvisioner provisioner(executor, local);
  std::vector<Provisioner*> provisioners{&provisioner};
  auto kubernetes = kubernetes_platform(executor, options.kubernetes);
  if (!kubernetes) return exit_after(kubernetes.error(), 2, "kubernetes");
  if (*kubernetes) provisioners.push_back((*kubernetes)->provisioner.get());
  // DATABASE_URL and the like, read above: its local daemons run as the same OS user.
  (void)protect_secret_environment();
  control_plane::ControlPlaneConfig config;
  config.replica_id = options.replica_id.empty() ? host_and_pid() : options.replica_id;
  config.interval = milliseconds(static_cast<std::int64_t>(options.plane.interval_s * 1000));
  config.lease = control_plane::ControlPlaneConfig::lease_for(config.interval);
  config.commands_url = options.commands.url;
  config.commands_ca_file = options.commands.ca_file;
  config.suspend_after =
      milliseconds(static_cast<std::int64_t>(options.plane.suspend_after_s * 1000));

  StopOnSignals stop_on_signals(executor);
  auto health = ServerHealth::start(executor, **store, nats->get(), options.bind_address,
                                    options.health_port);
  if (!health) return exit_after(health.error(), 1);
  OsSecretSource secrets;
  auto plane = std::make_unique<control_plane::ControlPlane>(env, secrets, provisioners, config);
  spdlog::info(
      "control plane {}: local daemons in {}, {}; rounds every {}s, idle daemons suspended "
      "after {}s; health on {}:{}",
      config.replica_id, local.root_dir,
      *kubernetes ? (*kubernetes)->describe : "no kubernetes API server", options.plane.interval_s,
      options.plane.suspend_after_s, options.bind_address, (*health)->port());
  executor.run();
  plane.reset();
  spdlog::info("control plane {} stopped (its daemons run on)", config.replica_id);
  return 0;
}

}  // namespace

void add_control_plane_flags(CLI::App& command, ControlPlaneFlags& flags,
                             const std::string& interval_flag) {
  command
      .add_option("--daemons-dir", flags.daemons_dir,
                  "Where local managed daemons keep their folders (default: DATA_DIR/managed)")
      ->envname("MANAGED_DAEMONS_DIR");
  command.add_option(interval_flag, flags.interval_s, "Seconds between the control plane's rounds")
      ->envname("CONTROL_PLANE_INTERVAL")
      ->check(CLI::Range(0.05, 3600.0))
      ->capture_default_str();
  command
      .add_option("--suspend-after", flags.suspend_after_s,
                  "Seconds without a tool call, terminal or MCP session before a managed daemon "
                  "is suspended (0: never)")
      ->envname("SUSPEND_AFTER")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
}

void add_managed_daemons_per_user_option(CLI::App& command, std::int64_t& per_user_max) {
  command
      .add_option("--managed-daemons-per-user", per_user_max,
                  "Managed daemons a user may have at most, deleted ones aside: each is a process "
                  "or a pod this platform runs (0: no limit)")
      ->envname("MANAGED_DAEMONS_PER_USER")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1'000'000}))
      ->capture_default_str();
}

void add_control_plane_command(CLI::App& server, int& exit_code) {
  auto options = std::make_shared<ControlPlaneOptions>();
  auto* plane =
      server.add_subcommand("controlplane",
                            "Run the control plane: provision, restart, suspend and resume managed "
                            "daemons");
  add_db_options(*plane, options->db);
  plane->add_option("--nats-url", options->nats_url, "NATS server URL")->envname("NATS_URL");
  plane->add_option("--health-port", options->health_port, "Health/readiness endpoint port")
      ->envname("HEALTH_PORT")
      ->capture_default_str();
  plane->add_option("--bind-address", options->bind_address, "Interface for the health endpoint")
      ->envname("BIND_ADDRESS")
      ->capture_default_str();
  plane->add_option("--replica-id", options->replica_id,
                    "Lease owner name, unique per replica (default: host-pid)");
  plane->add_option("--daemon-binary", options->daemon_binary,
                    "The binary local daemons run (default: this one)");
  plane
      ->add_option("--daemon-bind-address", options->daemon_bind_address,
                   "Where local daemons listen for the gateways")
      ->capture_default_str();
  add_control_plane_flags(*plane, options->plane, "--interval");
  plane
      ->add_option("--commands-url", options->commands.url,
                   "The api URL managed daemons with commands enabled poll (as they reach it); "
                   "unset: they run without commands")
      ->envname("COMMANDS_URL");
  plane
      ->add_option("--commands-ca-file", options->commands.ca_file,
                   "PEM roots those daemons check the api's certificate with (default: the "
                   "system's)")
      ->envname("COMMANDS_CA_FILE");
  add_kubernetes_flags(*plane, options->kubernetes);
  plane->add_flag("--migrate", options->migrate, "Apply pending migrations before starting");
  plane->callback([options, &exit_code] { exit_code = run_control_plane(*options); });
}

}  // namespace reliant

// MonolithDaemons: the embedded gateway and control plane, assembled as the distributed roles'
// commands assemble theirs, on the monolith's bus, store and executor.
#include "app/monolith_daemons.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "adapters/asio/run_blocking.h"
#include "app/gateway_assembly.h"
#include "services/storage/daemons.h"

namespace reliant {
namespace {

constexpr std::string_view kMonolithName = "monolith";  // its gateway's and replica's

LocalProvisionerOptions provisioner_options(const MonolithDaemonsOptions& options) {
  LocalProvisionerOptions out;
  out.root_dir =
      std::filesystem::absolute(options.daemons_dir.empty() ? options.data_dir + "/managed"
                                                            : options.daemons_dir)
          .lexically_normal()
          .string();
  return out;
}

}  // namespace

MonolithDaemons::MonolithDaemons(AsioExecutor& executor, Env& env, MonolithDaemonsOptions options)
    : options_(std::move(options)),
      router_(env),
      provisioner_(executor, provisioner_options(options_)) {}

MonolithDaemons::~MonolithDaemons() {
  plane_.reset();
  gateway_.reset();
}

Result<std::unique_ptr<MonolithDaemons>> MonolithDaemons::start(AsioExecutor& executor, Env& env,
                                                                GrpcTransport& transport,
                                                                MonolithDaemonsOptions options) {
  std::unique_ptr<MonolithDaemons> daemons(new MonolithDaemons(executor, env, std::move(options)));
  // The daemons an earlier run's gateway held are nobody's now: dialled again at once.
  auto released = run_blocking(executor, env.store->transact_for([](SqlTransaction& tx) {
    return release_daemons_of_gateway(tx, std::string(kMonolithName));
  }));
  if (!released) return fail(released.error());
  gateway::GatewayConfig gateway_config;
  gateway_config.gateway_id = kMonolithName;
  gateway_config.listen_address =
      daemons->options_.bind_address + ":" + std::to_string(daemons->options_.daemon_port);
  auto gateway = gateway::Gateway::start(env, gateway_config);
  if (!gateway) return fail(gateway.error());
  daemons->gateway_ = std::move(*gateway);
  if (auto served = serve_gateway_unaries(transport, *daemons->gateway_); !served) {
    return fail(served.error());
  }
  control_plane::ControlPlaneConfig plane;
  plane.replica_id = kMonolithName;
  plane.interval = daemons->options_.control_plane_interval;
  plane.lease = control_plane::ControlPlaneConfig::lease_for(plane.interval);
  plane.suspend_after = daemons->options_.suspend_after;
  daemons->plane_ = std::make_unique<control_plane::ControlPlane>(
      env, daemons->secrets_, std::vector<Provisioner*>{&daemons->provisioner_}, plane);
  spdlog::info("daemons dial in on {}; managed daemons run in {}, suspended when idle for {}s",
               daemons->listen_address(), provisioner_options(daemons->options_).root_dir,
               to_ms(plane.suspend_after) / 1000.0);
  return daemons;
}

void MonolithDaemons::serve_commands_from(const std::string& bind_address, int http_port,
                                          const std::optional<TlsFiles>& tls) {
  // On this machine: a wildcard address is reached on loopback.
  const std::string host = bind_address == "0.0.0.0" ? "127.0.0.1"
                           : bind_address == "::"    ? "[::1]"
                                                     : bind_address;
  plane_->set_commands_api(
      std::string(tls ? "https" : "http") + "://" + host + ":" + std::to_string(http_port),
      tls ? tls->cert_file : std::string());
}

}  // namespace reliant

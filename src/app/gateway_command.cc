// `reliant server gateway` (spec S1.9, S1.13): holds the daemons' gRPC streams and bridges them to
// NATS. One executor; the store, the bus and the gRPC transport as adapters; a Gateway component;
// health and readiness over HTTP. SIGINT/SIGTERM drain it (its daemons go to the other gateways,
// their calls answered first; docs/architecture.md §6) and it exits 0; a second signal, or the
// drain timeout, stops it at once.
#include "app/gateway_command.h"
#include "app/logging.h"
#include "app/process_lifecycle.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "adapters/asio/asio_executor.h"
#include "adapters/asio/run_blocking.h"
#include "adapters/crypto/jwt_verifier.h"
#include "adapters/grpc/grpc_rpc_server.h"
#include "adapters/grpc/grpc_transport.h"
#include "adapters/http/health_server.h"
#include "adapters/nats/nats_bus.h"
#include "app/db_config.h"
#include "app/gateway_assembly.h"
#include "app/http_limits.h"
#include "app/process_name.h"
#include "app/readiness.h"
#include "app/secret_environment.h"
#include "app/secure_random.h"
#include "app/self_signed_tls.h"
#include "services/gateway/frontend_rpc.h"
#include "services/gateway/gateway.h"
#include "services/routing/bus_daemon_router.h"
#include "services/storage/migrator.h"

namespace reliant {
namespace {

struct GatewayOptions {
  DbConfig db;
  int daemon_port = 9190;
  int frontend_port = 9191;
  int health_port = 8080;
  std::string bind_address = "0.0.0.0";
  std::string nats_url;
  std::string tls_cert;
  std::string tls_key;
  bool disable_tls = false;
  std::string cors_origins;      // spec S1.13's flag; the gateway serves no browser
  GrpcLimitOptions grpc_limits;  // of both its gRPC ports
  std::string jwt_public_key;
  std::string gateway_id;
  double heartbeat_s = 15;
  double stale_s = 30;
  double disconnect_s = 120;
  // Within Kubernetes' default termination grace (30 s), with room for the last release.
  double drain_s = 25;
  bool migrate = false;
};

// After the drain's deadline, the last release of its rows gets this long before the process
// stops regardless (a store that does not answer).
constexpr Duration kDrainReleaseGrace = seconds(5);

Duration seconds_of(double s) { return milliseconds(static_cast<std::int64_t>(s * 1000)); }

// What is wrong with the timing flags, if anything.
std::optional<std::string> timing_problem(const GatewayOptions& o) {
  if (o.stale_s <= o.heartbeat_s || o.disconnect_s < o.stale_s) {
    return "need --heartbeat-interval < --stale-timeout <= --disconnect-timeout";
  }
  if (!(o.drain_s > 0)) return "--drain-timeout must be more than 0 seconds";
  return std::nullopt;
}

gateway::GatewayConfig gateway_config(const GatewayOptions& o, std::string gateway_id) {
  gateway::GatewayConfig config;
  config.gateway_id = std::move(gateway_id);
  config.listen_address = o.bind_address + ":" + std::to_string(o.daemon_port);
  config.heartbeat_interval = seconds_of(o.heartbeat_s);
  config.presence.stale_after = seconds_of(o.stale_s);
  config.presence.disconnect_after = seconds_of(o.disconnect_s);
  return config;
}

// The first signal's work: /ready says "draining" at once (a load balancer sends no new
// daemons), and the executor stops when the gateway has handed its daemons over, or a while
// after the drain timeout whatever happens.
std::function<void()> drain_on_signal(AsioExecutor& executor, gateway::Gateway& gateway,
                                      ServerHealth& health, Duration timeout) {
  return [&executor, &gateway, &health, timeout] {
    health.set_draining();
    (void)executor.after(timeout + kDrainReleaseGrace, [&executor] { executor.stop(); });
    gateway.begin_drain(timeout, [&executor] { executor.stop(); });
  };
}

int run_gateway(const GatewayOptions& o) {
  if (const auto problem = timing_problem(o)) {
    spdlog::error("{}", *problem);
    return 2;
  }
  raise_descriptor_limit();  // before any listener sizes its caps from it
  AsioExecutor executor;
  auto store = open_server_store(executor, o.db, o.migrate);
  if (!store) return exit_after(store.error(), 1);
  (void)protect_secret_environment();  // DATABASE_URL and the like, read above
  const std::string gateway_id = o.gateway_id.empty() ? "gateway-" + host_and_pid() : o.gateway_id;
  auto bus = NatsBus::connect(executor, NatsOptions{o.nats_url, gateway_id});
  if (!bus) return exit_after(bus.error(), 1);
  auto tls = server_tls_files(o.disable_tls, o.tls_cert, o.tls_key, o.db.data_dir);
  if (!tls) return exit_after(tls.error(), tls.error().code == ErrorCode::invalid_argument ? 2 : 1);
  auto transport = gateway_transport(executor, o.grpc_limits, *tls);
  if (!transport) return exit_after(transport.error(), 1);
  Random random(secure_random_u64());
  SpdlogLog log;
  Env env{executor, random, bus->get(), transport->get(), store->get(), nullptr, &log};
  auto started = gateway::Gateway::start(env, gateway_config(o, gateway_id));
  if (!started) return exit_after(started.error(), 1);
  std::unique_ptr<gateway::Gateway> component = std::move(*started);
  gateway::Gateway* gw = component.get();
  if (auto served = serve_gateway_unaries(**transport, *gw); !served) {
    return exit_after(served.error(), 1);
  }
  // The frontend port: DaemonService and a daemon's own services for browsers and tools, each
  // reaching whichever gateway holds the daemon over the bus.
  std::unique_ptr<JwtVerifier> jwt;
  if (!o.jwt_public_key.empty()) {
    auto made = JwtVerifier::create({o.jwt_public_key, "authenticated"});
    if (!made) return exit_after(made.error(), 2, "--jwt-public-key");
    jwt = std::move(*made);
  }
  routing::BusDaemonRouter daemons(env);
  gateway::FrontendRpc frontend_rpc(env, *gw, daemons, jwt.get());
  GrpcRpcServerOptions frontend_options;
  frontend_options.bind_address = o.bind_address;
  frontend_options.port = o.frontend_port;
  frontend_options.limits = grpc_limits(o.grpc_limits);
  if (*tls) {
    frontend_options.tls_cert_file = (*tls)->cert_file;
    frontend_options.tls_key_file = (*tls)->key_file;
  }
  auto frontend = GrpcRpcServer::start(executor, frontend_options, frontend_rpc);
  if (!frontend) return exit_after(frontend.error(), 1, "cannot serve the frontend port");

  auto health = ServerHealth::start(executor, **store, bus->get(), o.bind_address, o.health_port);
  if (!health) return exit_after(health.error(), 1);
  StopOnSignals stop_on_signals(executor,
                                drain_on_signal(executor, *gw, **health, seconds_of(o.drain_s)));
  spdlog::info("gateway {} accepting daemons on {}:{} ({}), frontend on :{}, health on :{}",
               gateway_id, o.bind_address, o.daemon_port, o.disable_tls ? "h2c" : "TLS",
               o.frontend_port, (*health)->port());
  executor.run();
  frontend->reset();  // no call reaches the gateway after this
  component.reset();
  spdlog::info("gateway {} stopped", gateway_id);
  return 0;
}

}  // namespace

void add_gateway_command(CLI::App& server, int& exit_code) {
  auto o = std::make_shared<GatewayOptions>();
  auto* cmd = server.add_subcommand("gateway", "Hold daemon streams and bridge them to NATS");
  add_db_options(*cmd, o->db);
  cmd->add_option("--daemon-port", o->daemon_port, "Daemon bidi-streaming gRPC listen port")
      ->envname("TOOLS_DAEMON_PORT")
      ->capture_default_str();
  cmd->add_option("--frontend-port", o->frontend_port, "Frontend gRPC listen port")
      ->envname("FRONTEND_PORT")
      ->capture_default_str();
  cmd->add_option("--health-port", o->health_port, "Health/readiness endpoint port")
      ->envname("HEALTH_PORT")
      ->capture_default_str();
  cmd->add_option("--bind-address", o->bind_address, "Network interface to bind to")
      ->envname("BIND_ADDRESS")
      ->capture_default_str();
  cmd->add_option("--nats-url", o->nats_url, "NATS server URL")->envname("NATS_URL")->required();
  cmd->add_option("--tls-cert", o->tls_cert, "TLS certificate file (default: self-signed)")
      ->envname("TLS_CERT_FILE");
  cmd->add_option("--tls-key", o->tls_key, "TLS private key file")->envname("TLS_KEY_FILE");
  cmd->add_flag("--disable-tls", o->disable_tls, "Plaintext HTTP/2 (h2c)")->envname("DISABLE_TLS");
  cmd->add_option("--cors-origins", o->cors_origins,
                  "Comma-separated allowed origins, or * (spec S1.13; the gateway serves no "
                  "browser)")
      ->envname("CORS_ALLOWED_ORIGINS");
  add_grpc_limit_options(*cmd, o->grpc_limits);
  cmd->add_option("--jwt-public-key", o->jwt_public_key,
                  "JWT public key PEM for frontend auth (daemons authenticate with PATs)")
      ->envname("JWT_PUBLIC_KEY");
  cmd->add_option("--gateway-id", o->gateway_id,
                  "This gateway's name (default: gateway-<host>-<pid>)")
      ->envname("GATEWAY_ID");
  cmd->add_option("--heartbeat-interval", o->heartbeat_s, "Seconds between heartbeats")
      ->capture_default_str();
  cmd->add_option("--stale-timeout", o->stale_s, "Seconds without a heartbeat before idle")
      ->capture_default_str();
  cmd->add_option("--disconnect-timeout", o->disconnect_s,
                  "Seconds without a heartbeat before the stream is closed")
      ->capture_default_str();
  cmd->add_option("--drain-timeout", o->drain_s,
                  "Seconds a stopping gateway (SIGTERM, SIGINT) gives the calls in flight to its "
                  "daemons before it sends every daemon to another gateway and exits")
      ->envname("GATEWAY_DRAIN_TIMEOUT")
      ->capture_default_str();
  cmd->add_flag("--migrate", o->migrate, "Apply pending migrations before starting");
  cmd->callback([o, &exit_code] { exit_code = run_gateway(*o); });
}

}  // namespace reliant

// MonolithDaemons: what the monolith runs for every daemon but its embedded one — a gateway on
// its in-process bus (daemons dial in on --daemon-port; it dials the managed ones) and a control
// plane whose local provisioner starts managed daemons as processes of their own under
// DATA_DIR/managed. One monolith runs per data directory (its lock), so both keep the name
// `monolith` across restarts: a restarted one takes over its predecessor's leases and daemons
// at once.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "adapters/asio/asio_executor.h"
#include "adapters/grpc/grpc_transport.h"
#include "adapters/host/local_provisioner.h"
#include "app/http_limits.h"
#include "app/secure_random.h"
#include "app/self_signed_tls.h"
#include "services/control_plane/control_plane.h"
#include "services/gateway/gateway.h"
#include "services/routing/bus_daemon_router.h"

namespace reliant {

struct MonolithDaemonsOptions {
  std::string bind_address = "127.0.0.1";
  int daemon_port = 0;  // 0: any free port
  std::string data_dir;
  std::string daemons_dir;  // empty: DATA_DIR/managed
  Duration control_plane_interval = seconds(2);
  Duration suspend_after = minutes(30);  // zero: never
};

class MonolithDaemons {
 public:
  // `env` carries the in-process bus, the store and `transport`; all outlive this. Fails when
  // the daemon port cannot be had or the store cannot be written.
  static Result<std::unique_ptr<MonolithDaemons>> start(AsioExecutor& executor, Env& env,
                                                        GrpcTransport& transport,
                                                        MonolithDaemonsOptions options);
  ~MonolithDaemons();

  // Reaches the daemons the gateway holds, durably.
  routing::DaemonRouter& router() { return router_; }
  std::string listen_address() const { return gateway_->listen_address(); }
  // Its managed daemons with commands enabled poll the monolith's own API, on this machine,
  // trusting its certificate — known once its listener is up (before the executor runs, so
  // before the first round).
  void serve_commands_from(const std::string& bind_address, int http_port,
                           const std::optional<TlsFiles>& tls);

 private:
  MonolithDaemons(AsioExecutor& executor, Env& env, MonolithDaemonsOptions options);

  MonolithDaemonsOptions options_;
  routing::BusDaemonRouter router_;
  LocalProvisioner provisioner_;
  std::unique_ptr<gateway::Gateway> gateway_;
  OsSecretSource secrets_;
  std::unique_ptr<control_plane::ControlPlane> plane_;  // stops first
};

}  // namespace reliant

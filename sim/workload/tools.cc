// The tool-path workload: gateway, daemon and tool_client roles, and their invariants.
#include "sim/workload/tools.h"
#include "sim/workload/daemon_commands.h"
#include "sim/workload/stranger.h"
#include "sim/workload/tool_path_state.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "adapters/sqlite/sqlite_database.h"
#include "base/base64url.h"
#include "base/json_parse.h"
#include "core/daemon_selection.h"
#include "core/daemon_status.h"
#include "core/personal_access_token.h"
#include "core/tool_subjects.h"
#include "protocol/codec.h"
#include "runtime/ids.h"
#include "runtime/sleep.h"
#include "services/control_plane/control_plane.h"
#include "services/daemon/daemon.h"
#include "services/daemon/mcp/mcp_servers.h"
#include "services/gateway/gateway.h"
#include "services/routing/bus_daemon_router.h"
#include "services/routing/daemon_resolver.h"
#include "services/storage/accounts.h"
#include "services/storage/cluster_secrets.h"
#include "services/storage/daemons.h"
#include "services/storage/managed_daemons.h"
#include "services/storage/sql_row.h"
#include "sim/runner.h"
#include "sim/sim_host.h"
#include "sim/sim_mcp_server.h"
#include "sim/sim_provisioner.h"
#include "sim/sim_store.h"

namespace reliant::sim {

namespace v1 = reliant::daemon::v1;

namespace {

// A token from the world's randomness, as the api server would issue one.
std::string random_pat(Random& random) {
  std::array<std::uint8_t, kPatRandomBytes> bytes{};
  for (auto& b : bytes) b = static_cast<std::uint8_t>(random.below(256));
  return format_pat(bytes);
}

}  // namespace

void ToolPathWorkload::Machine::on_registered(const std::string& id, const std::string&) {
  daemon_id = id;
  registered = true;
  registered_since = impl->world.now();
  ++registrations;
}

void ToolPathWorkload::Machine::on_disconnected() {
  registered = false;
  registered_since.reset();
}

void ToolPathWorkload::Machine::on_execute(const v1::ToolRequest& request) {
  impl->executions[request.request_id()].push_back(node);
  if (request.user_id() != user_id) {
    impl->checker.violation(impl->world.now(), "tool_isolation",
                            node + " (user " + user_id + ") ran request " + request.request_id() +
                                " of user " + request.user_id());
  }
}

namespace {

// The credentials of one daemon process: the machine's file, and a registration flow that —
// like the api server would — issues a fresh token for the logged-in user.
class SimCredentials final : public daemon::CredentialStore {
 public:
  SimCredentials(Env& env, std::string& token, std::string& daemon_id, std::string& token_id,
                 std::uint64_t& registration_seq, std::string user_id)
      : env_(env),
        token_(token),
        daemon_id_(daemon_id),
        registration_seq_(registration_seq),
        token_id_(token_id),
        user_id_(std::move(user_id)),
        ids_(env.executor, env.random.split("credentials")) {}

  std::optional<std::string> token() const override {
    if (token_.empty()) return std::nullopt;
    return token_;
  }
  void discard_token() override { token_.clear(); }
  Task<Result<std::string>> reregister() override {
    std::string fresh_id = ids_.next();
    Random random = env_.random.split("token");
    // Returns the token it stored.
    auto body = [fresh_id, random, user = user_id_, now_ms = to_ms(env_.executor.now())](
                    SqlTransaction& tx) mutable -> Result<std::string> {
      std::string fresh = random_pat(random);
      PersonalAccessToken meta{
          fresh_id, user, "sim daemon (re-registered)", pat_display_prefix(fresh), now_ms, {},
          {},       {}};
      if (auto ok = insert_token(tx, meta, hash_pat(fresh)); !ok) return fail(ok.error());
      return fresh;
    };
    Task<Result<std::string>> inserting = env_.store->transact_for(std::move(body));
    Result<std::string> fresh = co_await inserting;
    if (!fresh) co_return fail(fresh.error());
    token_ = *fresh;
    token_id_ = std::move(fresh_id);
    co_return std::move(*fresh);
  }
  std::string daemon_id() const override { return daemon_id_; }
  void save_daemon_id(const std::string& id) override { daemon_id_ = id; }
  std::uint64_t next_registration_seq(Instant now) override {
    registration_seq_ = daemon::registration_seq_after(registration_seq_, now);
    return registration_seq_;
  }

 private:
  Env& env_;
  std::string& token_;
  std::string& daemon_id_;
  std::uint64_t& registration_seq_;  // ~/.reliant/daemon.json, like daemon_id_
  std::string& token_id_;
  std::string user_id_;
  IdGenerator ids_;
};

// One incarnation of a daemon process: its host (a fresh in-memory machine view), tools,
// credentials and the Daemon component.
class SimDaemonProcess {
 public:
  SimDaemonProcess(Env& env, ToolPathWorkload::Machine& machine, daemon::DaemonConfig config)
      : host_(env.executor, "/home/" + machine.config.user),
        env_{env.executor, env.random, env.bus, env.transport,
             env.store,    &host_,     nullptr, env.buggify},
        credentials_(env_, machine.token, machine.daemon_id, machine.token_id,
                     machine.registration_seq, machine.user_id),
        mcp_(env_, host_),
        tools_(daemon::make_builtin_tools()),
        commands_(machine.config.commands ? make_sim_command_source(env_, machine) : nullptr),
        daemon_(env_, with_commands(std::move(config), commands_.get()), credentials_,
                machine.journal, tools_, &machine) {
    ToolPathWorkload::Impl* impl = machine.impl;
    host_.set_faults(impl->host_faults);
    // Every command ends with `echo <request id>`: when each one ended (for the cancel
    // clients), and how many times each ran, whatever request carried it.
    host_.on_process_end([impl](const std::string& command, bool) {
      const std::size_t at = command.rfind("echo ");
      if (at == std::string::npos) return;
      const std::string marker = command.substr(at + 5);
      impl->command_ended.emplace(marker, impl->world.now());
      ++impl->command_runs[marker];
    });
    if (machine.config.mcp) {
      sim::SimMcpServerOptions server;
      server.name = "sim";
      const double share = machine.config.mcp_crash_share;
      server.crash_now = [impl, share] {
        if (share <= 0 || impl->healed() || !impl->random.chance(share)) return false;
        ++impl->mcp_crashes;
        return true;
      };
      host_.on_interactive("'sim-mcp'", sim::SimMcpServer::factory(std::move(server)));
      mcp::McpServerConfig sim_server;
      sim_server.name = "sim";
      sim_server.command = "sim-mcp";
      mcp_.configure({{"sim", sim_server}});
      tools_.attach_mcp(&mcp_);
    }
    if (machine.config.managed) {
      auto listening = daemon_.listen();
      RELIANT_ASSERT_MSG(listening.has_value(), listening ? "" : listening.error().message.c_str());
    }
  }

 private:
  SimHost host_;
  Env env_;
  SimCredentials credentials_;
  static daemon::DaemonConfig with_commands(daemon::DaemonConfig config,
                                            daemon::CommandSource* commands) {
    config.commands = commands;
    return config;
  }

  mcp::McpServers mcp_;
  daemon::ToolSet tools_;
  std::unique_ptr<daemon::CommandSource> commands_;  // commands enabled: where it polls
  daemon::Daemon daemon_;                            // last: destroyed first
};

}  // namespace

ToolPathWorkload::ToolPathWorkload(World& world, const Scenario& scenario, SimDatabase& database,
                                   SimStreams& streams, Checker& checker, const Swarm& swarm,
                                   SimHostFaults& host_faults)
    : impl_(std::make_unique<Impl>(world, scenario, database, streams, checker, swarm)) {
  impl_->host_faults = &host_faults;
  for (const auto& group : scenario.topology) {
    for (int i = 1; i <= group.count; ++i) {
      const std::string name = group.name + "-" + std::to_string(i);
      if (group.is<GatewayRole>()) {
        impl_->gateway_addresses.push_back(name + ":" + std::to_string(kGatewayPort));
      } else if (group.is<DaemonNodeConfig>()) {
        auto machine = std::make_unique<Machine>();
        machine->node = name;
        machine->config = group.as<DaemonNodeConfig>();
        machine->user_id = user_id_of(machine->config.user);
        machine->impl = impl_.get();
        impl_->machine_by_node[name] = machine.get();
        impl_->machines.push_back(std::move(machine));
      }
    }
  }
  set_up_managed_pods(*impl_);
}

ToolPathWorkload::~ToolPathWorkload() = default;

void ToolPathWorkload::seed() {
  std::set<std::string> users;
  for (const auto& group : impl_->scenario.topology) {
    if (group.is<DaemonNodeConfig>()) users.insert(group.as<DaemonNodeConfig>().user);
    if (group.is<ToolClientConfig>()) users.insert(group.as<ToolClientConfig>().user);
  }
  Impl& impl = *impl_;
  // With managed daemons, the deployment's dial secret, as a first control plane would have
  // drawn it: the pods the scenario starts with were started with keys derived from it. (Drawn
  // only then, so that other scenarios' seeds stay as they were.)
  std::string dial_secret;
  if (impl.pods != nullptr) {
    SeededSecretSource drawing(impl.random);
    dial_secret = draw_dial_secret(drawing);
  }
  auto done = impl.database.database().transact([&](SqlTransaction& tx) -> Result<void> {
    if (!dial_secret.empty()) {
      auto kept = cluster_secret(tx, std::string(kDialSecretName), dial_secret, 0);
      if (!kept) return fail(kept.error());
    }
    for (const auto& user : users) {
      if (auto ok = insert_user(tx, User{user_id_of(user), user + "@example.com", user, 0}); !ok)
        return ok;
    }
    for (auto& machine : impl.machines) {
      if (machine->config.managed) {
        // Created through the control plane: its rows and an id, no credentials; always on (so
        // that idleness never suspends it) unless the scenario says otherwise.
        machine->daemon_id = impl.ids.next();
        ManagedDaemonRecord row;
        row.id = machine->daemon_id;
        row.user_id = machine->user_id;
        row.spec.name = machine->node;
        row.spec.labels = machine->config.labels;
        row.spec.permissions = PermissionProfile::execution;
        row.spec.always_on = machine->config.always_on;
        row.spec.commands_enabled = machine->config.commands;
        if (auto ok = insert_managed_daemon(tx, row); !ok) return ok;
        if (machine->config.suspended) {
          auto wish = set_desired_state(tx, row.id, DesiredState::suspended, 0);
          if (!wish) return fail(wish.error());
        }
        impl.pods->add(machine->daemon_id, managed_address(machine->node),
                       managed_dial_key(dial_secret, machine->daemon_id),
                       machine->config.suspended);
        continue;
      }
      machine->token_id = impl.ids.next();
      machine->token = random_pat(impl.random);
      PersonalAccessToken meta{machine->token_id,
                               machine->user_id,
                               "sim daemon",
                               pat_display_prefix(machine->token),
                               0,
                               {},
                               {},
                               {}};
      if (auto ok = insert_token(tx, meta, hash_pat(machine->token)); !ok) return ok;
    }
    return {};
  });
  RELIANT_ASSERT_MSG(done.has_value(), done ? "" : done.error().message.c_str());
}

ComponentFactory ToolPathWorkload::factory(const NodeGroup& group, const std::string& name) {
  Impl* impl = impl_.get();
  const ToolPathTimings timings = impl->scenario.tool_path;
  if (group.is<GatewayRole>()) {
    auto stats = std::make_shared<gateway::GatewayStats>();
    impl->gateway_stats.push_back(stats);
    gateway::GatewayConfig config;
    impl->swarm.apply(config);
    config.gateway_id = name;
    config.listen_address = name + ":" + std::to_string(kGatewayPort);
    config.heartbeat_interval = timings.heartbeat_interval;
    config.presence.stale_after = timings.stale_after;
    config.presence.disconnect_after = timings.disconnect_after;
    return [config, stats, impl, name](Env& env) -> std::shared_ptr<void> {
      auto gateway = gateway::Gateway::start(env, config, stats.get());
      RELIANT_ASSERT_MSG(gateway.has_value(), gateway ? "" : gateway.error().message.c_str());
      auto component = std::shared_ptr<gateway::Gateway>(std::move(*gateway));
      impl->gateway_components[name] = component;
      return component;
    };
  }
  if (group.is<DaemonNodeConfig>()) {
    const DaemonNodeConfig& daemon = group.as<DaemonNodeConfig>();
    Machine* machine = impl->machine_by_node.at(name);
    daemon::DaemonConfig config;
    impl->swarm.apply(config);
    if (daemon.managed) {
      config.listen_address = managed_address(name);
    } else {
      config.gateways = impl->gateway_addresses;
    }
    config.identity.name = name;
    config.identity.type = daemon.type;
    config.identity.labels = daemon.labels;
    config.identity.hostname = name;
    config.identity.platform = "linux";
    config.identity.working_dir = "/home/" + daemon.user;
    config.identity.version = "sim";
    config.heartbeat_interval = timings.heartbeat_interval;
    config.stale_after = timings.stale_after;
    config.dial_timeout = seconds(5);
    config.register_timeout = seconds(5);
    config.reconnect = BackoffPolicy{timings.backoff_initial, timings.backoff_max, 2.0, 0.5};
    if (daemon.commands) configure_sim_commands(*impl, *machine, config);
    return [machine, config, pods = impl->pods.get()](Env& env) -> std::shared_ptr<void> {
      machine->registered = false;
      machine->registered_since.reset();
      daemon::DaemonConfig started = config;
      // A managed daemon's process knows the key of the deployment that started its pod.
      if (const SimPods::Pod* pod = pods != nullptr ? pods->find(machine->daemon_id) : nullptr;
          pod != nullptr) {
        started.dial_key = pod->dial_key;
      }
      return std::make_shared<SimDaemonProcess>(env, *machine, std::move(started));
    };
  }
  if (group.is<ControlPlaneConfig>()) {
    return control_plane_factory(impl, group.as<ControlPlaneConfig>(), name);
  }
  ClientShared shared{impl, name, group.as<ToolClientConfig>()};
  if (shared.config.kind == "commands") {
    return
        [shared](Env& env) -> std::shared_ptr<void> { return start_command_client(env, shared); };
  }
  if (shared.config.kind == "stranger") {
    return
        [shared](Env& env) -> std::shared_ptr<void> { return start_stranger_client(env, shared); };
  }
  return [shared](Env& env) -> std::shared_ptr<void> { return start_tool_client(env, shared); };
}

void ToolPathWorkload::attach(const std::string& name, SimProcess& process) {
  if (auto it = impl_->machine_by_node.find(name); it != impl_->machine_by_node.end()) {
    it->second->process = &process;
    if (it->second->config.managed) impl_->pods->attach(it->second->daemon_id, process);
  }
  for (const auto& address : impl_->gateway_addresses) {
    if (address.substr(0, address.find(':')) == name) impl_->gateways[name] = &process;
  }
}

void ToolPathWorkload::begin() {
  Impl* impl = impl_.get();
  impl->world.schedule(kSimEpoch + seconds(1), kWorldNode, "tools.sample",
                       [impl] { impl->sample_statuses(); });
  sample_managed_wishes(*impl);
}

// Once a second: the recorded statuses against the truth. (A member, not a closure that holds
// itself through a shared_ptr: that cycle outlived every run.) The store is read only when some
// daemon's row will be compared: most seconds of a healthy fleet compare none, and reading every
// row of a 100-daemon fleet each second was a quarter of an idle fleet's run.
void ToolPathWorkload::Impl::sample_statuses() {
  const Instant now = world.now();
  if (store_healthy()) {
    if (!store_healthy_since) store_healthy_since = now;
  } else {
    store_healthy_since.reset();
  }
  const bool store_settled =
      store_healthy_since && now - *store_healthy_since >= status_allowance();
  bool compare_any = false;
  for (auto& machine : machines) {
    // The truth: the daemon process runs (not paused: a hung daemon sends no heartbeats) and
    // holds a registered stream. A crash destroys the component without telling the
    // observer, hence the process check.
    if (machine_connected(*machine)) {
      machine->down_since.reset();
    } else if (!machine->down_since) {
      machine->down_since = now;
    }
    compare_any = compare_any || (store_settled && row_compared(*machine));
  }
  if (compare_any) {
    auto recorded = read_recorded_statuses();
    if (!recorded) {
      checker.violation(now, "daemon_status", "daemons unreadable: " + recorded.error().message);
    } else {
      for (auto& machine : machines) {
        const auto row = recorded->find(machine->daemon_id);
        if (row != recorded->end() && row_compared(*machine)) check_status(*machine, row->second);
      }
    }
  }
  world.schedule(now + seconds(1), kWorldNode, "tools.sample", [this] { sample_statuses(); });
}

bool ToolPathWorkload::Impl::machine_connected(const Machine& machine) const {
  return machine.process != nullptr && machine.process->running() && !machine.process->paused() &&
         machine.registered;
}

// Whether check_status, now, would compare anything of `machine`'s row: it is down for the
// shorter allowance at least (the stream's loss is the earliest its measure can start), or it is
// connected for the allowance, that long after the heal.
bool ToolPathWorkload::Impl::row_compared(const Machine& machine) const {
  if (machine.daemon_id.empty()) return false;
  const Instant now = world.now();
  const Duration allowance = status_allowance();
  if (machine.down_since) {
    return now - *machine.down_since >= std::min(allowance, disconnect_allowance());
  }
  return now >= kSimEpoch + scenario.heal_at + allowance && machine_connected(machine) &&
         machine.registered_since && now - *machine.registered_since >= allowance;
}

Result<std::map<std::string, ToolPathWorkload::Impl::RecordedStatus>>
ToolPathWorkload::Impl::read_recorded_statuses() {
  std::map<std::string, RecordedStatus> recorded;
  auto read = database.database().transact([&](SqlTransaction& tx) -> Result<void> {
    auto rows = tx.query("SELECT id, status, connected_at_ms, gateway_id FROM daemons", {});
    if (!rows) return fail(rows.error());
    for (const SqlRecord& r : records(*rows)) {
      Instant admitted{milliseconds(r.optional_integer("connected_at_ms").value_or(0))};
      // Back to world time: the gateway wrote its own clock, which may be skewed.
      const auto gateway = gateways.find(r.text_or_empty("gateway_id"));
      if (gateway != gateways.end()) admitted -= gateway->second->clock_offset();
      auto status = r.enumerated("status", kDaemonStatusNames);
      if (!status) return fail(status.error());
      recorded[r.text("id")] = RecordedStatus{*status, admitted};
    }
    return {};
  });
  if (!read) return fail(read.error());
  return recorded;
}

void ToolPathWorkload::Impl::check_status(const Machine& machine, const RecordedStatus& row) {
  const Instant now = world.now();
  const Duration allowance = status_allowance();
  const DaemonStatus status = row.status;
  if (machine.down_since) {
    // Measured from the later of "lost its stream" and "last admitted by a gateway": a
    // registration whose acknowledgement never arrived is a connection the gateway must time
    // out by itself.
    const Instant since = std::max(*machine.down_since, row.admitted);
    if (now - since >= allowance && status == DaemonStatus::active) {
      checker.violation(now, "daemon_status",
                        machine.node + " has had no stream since " +
                            format_duration(since - kSimEpoch) + " but is still recorded active");
    }
    if (now - since >= disconnect_allowance() && status != DaemonStatus::disconnected) {
      checker.violation(now, "daemon_status",
                        machine.node + " has had no stream since " +
                            format_duration(since - kSimEpoch) + " but is recorded " +
                            std::string(to_string(status)) + ", not disconnected");
    }
  }
  if (now >= kSimEpoch + scenario.heal_at + allowance && machine_connected(machine) &&
      machine.registered_since && now - *machine.registered_since >= allowance &&
      status != DaemonStatus::active) {
    checker.violation(now, "daemon_status",
                      machine.node + " has been connected since " +
                          format_duration(*machine.registered_since - kSimEpoch) +
                          " but is recorded " + std::string(to_string(status)));
  }
}

bool ToolPathWorkload::apply(const ScriptedFault& fault) {
  if (fault.kind == ScriptedFault::Kind::drain) return drain_gateway(fault);
  if (fault.kind != ScriptedFault::Kind::revoke_token) return false;
  auto it = impl_->machine_by_node.find(fault.node);
  RELIANT_ASSERT(it != impl_->machine_by_node.end());  // the scenario names a daemon
  Machine& machine = *it->second;
  const std::string token_id = machine.token_id;
  const std::int64_t now_ms = to_ms(impl_->world.now());
  (void)impl_->database.database().transact([&](SqlTransaction& tx) -> Result<void> {
    return ::reliant::revoke_token(tx, token_id, now_ms);
  });
  RELIANT_ASSERT(machine.process != nullptr);
  impl_->streams.reset_links_of(machine.process->node());
  return true;
}

bool ToolPathWorkload::drain_gateway(const ScriptedFault& fault) {
  // As long as a rolling update lets a pod stop (Kubernetes' default grace is 30 s), and more
  // than a hung command's calls get: those are sent elsewhere at the deadline.
  constexpr Duration kDrainTimeout = seconds(20);
  const std::shared_ptr<gateway::Gateway> component = impl_->gateway_components[fault.node].lock();
  if (!component || component->draining()) return false;
  SimProcess* process = impl_->gateways.at(fault.node);
  World& world = impl_->world;
  const std::uint64_t incarnation = world.incarnation(process->node());
  // Drained, the process exits (from the world, not from inside the gateway it destroys) unless
  // a crash came first, and starts again `length` later, or at the heal.
  component->begin_drain(kDrainTimeout, [&world, process, incarnation, length = fault.length] {
    world.schedule(world.now(), kWorldNode, "fault.drained",
                   [&world, process, incarnation, length] {
                     if (world.incarnation(process->node()) != incarnation) return;
                     process->exit();
                     world.schedule(world.now() + length, kWorldNode, "fault.restart",
                                    [process] { process->start_unless_held(); });
                   });
  });
  return true;
}

namespace {

// Liveness: every daemon connected and recorded active at the end, routable through the
// gateway its row names, and held by that gateway only.
void check_daemons_at_end(ToolPathWorkload::Impl& impl, Instant end) {
  std::map<std::string, std::pair<DaemonStatus, std::string>> recorded;  // id → status, gateway
  auto read = impl.database.database().transact([&](SqlTransaction& tx) -> Result<void> {
    auto rows = tx.query("SELECT id, status, gateway_id FROM daemons", {});
    if (!rows) return fail(rows.error());
    for (const SqlRecord& r : records(*rows)) {
      auto status = r.enumerated("status", kDaemonStatusNames);
      if (!status) return fail(status.error());
      recorded[r.text("id")] = {*status, r.text_or_empty("gateway_id")};
    }
    return {};
  });
  if (!read) {
    impl.checker.violation(end, "daemon_liveness", "daemons unreadable: " + read.error().message);
  }
  // A managed daemon its control plane let go (suspended, deleted) may be down, and one it
  // started again just now may still be on its way; any other must be up.
  const std::set<std::string> wanted = managed_wanted_running(impl);
  for (const auto& machine : impl.machines) {
    if (machine->config.managed &&
        (!wanted.contains(machine->daemon_id) || managed_pod_coming_back(impl, *machine, end))) {
      continue;
    }
    if (!machine->registered || !machine->process->running()) {
      impl.checker.violation(end, "daemon_liveness",
                             machine->node +
                                 " is not connected at the end, although every fault "
                                 "was healed at " +
                                 format_duration(impl.scenario.heal_at) +
                                 (machine->config.managed ? managed_state(impl, *machine) : ""));
      continue;
    }
    const auto it = recorded.find(machine->daemon_id);
    if (it == recorded.end() || it->second.first != DaemonStatus::active) {
      impl.checker.violation(
          end, "daemon_liveness",
          machine->node + " is connected but recorded " +
              (it == recorded.end() ? "nowhere" : std::string(to_string(it->second.first))));
      continue;
    }
    const auto gateway = impl.gateways.find(it->second.second);
    if (gateway == impl.gateways.end() || !gateway->second->running()) {
      impl.checker.violation(end, "daemon_liveness",
                             machine->node + " is recorded on gateway '" + it->second.second +
                                 "', which is not running");
      continue;
    }
    // Routable: the gateway its row names holds a stream from it, so a call routed by the row
    // reaches it; and no other gateway still holds one (a session per daemon identity).
    std::vector<std::string> holders;
    for (const auto& [name, component] : impl.gateway_components) {
      const auto live = component.lock();
      if (live && live->holds(machine->daemon_id)) holders.push_back(name);
    }
    if (std::find(holders.begin(), holders.end(), it->second.second) == holders.end()) {
      impl.checker.violation(end, "daemon_routable",
                             machine->node + " is recorded active on " + it->second.second +
                                 ", which holds no stream from it");
    }
    if (holders.size() > 1) {
      std::string names;
      for (const auto& h : holders) names += (names.empty() ? "" : ", ") + h;
      impl.checker.violation(end, "one_session_per_daemon",
                             machine->node + " has live sessions on " + names);
    }
  }
}

}  // namespace

void ToolPathWorkload::finish(Instant end) {
  Impl& impl = *impl_;
  check_managed(impl, end);
  check_commands(impl, end);
  // At most once, everywhere.
  for (const auto& [request_id, nodes] : impl.executions) {
    if (nodes.size() > 1) {
      std::string where;
      for (const auto& n : nodes) where += (where.empty() ? "" : ", ") + n;
      impl.checker.violation(end, "tool_at_most_once",
                             "request " + request_id + " ran " + std::to_string(nodes.size()) +
                                 " times (" + where + ")");
    }
  }
  // Every call made after the healing allowance, with time left to finish, was answered.
  const Instant heal = kSimEpoch + impl.scenario.heal_at;
  const Instant from = heal + impl.reconnect_allowance();
  for (const auto& call : impl.calls) {
    if (call.issued < from) continue;
    const ToolClientConfig* config = nullptr;
    for (const auto& group : impl.scenario.topology) {
      if (group.is<ToolClientConfig>() && call.client.rfind(group.name + "-", 0) == 0)
        config = &group.as<ToolClientConfig>();
    }
    const Duration budget = (config != nullptr ? config->tool_timeout : seconds(10)) + seconds(10);
    if (call.issued + budget > end) continue;
    if (!call.answered) {
      impl.checker.violation(end, "tool_results",
                             "call " + call.request_id + " from " + call.client + " (issued at " +
                                 format_duration(call.issued - kSimEpoch) +
                                 ", after healing) never returned");
    } else if (call.failed) {
      impl.checker.violation(end, "tool_results",
                             "call " + call.request_id + " from " + call.client + " (issued at " +
                                 format_duration(call.issued - kSimEpoch) + ", " +
                                 (call.sync ? "sync" : "durable") + ") failed: " + call.outcome);
    }
  }
  // A cancelled command ends within the grace period: cancels made once the faults healed,
  // whose command started on a daemon.
  constexpr Duration kCancelGrace = seconds(5);
  for (const auto& cancel : impl.cancels) {
    if (cancel.cancelled_at < from || cancel.cancelled_at + kCancelGrace > end) continue;
    if (impl.executions.count(cancel.request_id) == 0) continue;  // it never ran
    const auto ended = impl.command_ended.find(cancel.request_id);
    if (ended == impl.command_ended.end() || ended->second > cancel.cancelled_at + kCancelGrace) {
      impl.checker.violation(
          end, "cancel_grace",
          "request " + cancel.request_id + " from " + cancel.client + " was cancelled at " +
              format_duration(cancel.cancelled_at - kSimEpoch) + " but its command " +
              (ended == impl.command_ended.end()
                   ? std::string("still runs")
                   : "ran until " + format_duration(ended->second - kSimEpoch)) +
              " (grace " + format_duration(kCancelGrace) + ")");
    }
  }
  // Every line typed into a terminal once the faults healed came back.
  for (const auto& line : impl.terminal_lines) {
    if (line.typed < from || line.typed + seconds(20) > end || line.seen) continue;
    impl.checker.violation(end, "terminal_results",
                           line.client + " typed " + line.marker + " at " +
                               format_duration(line.typed - kSimEpoch) +
                               " (after healing) and never read it back");
  }
  check_daemons_at_end(impl, end);
}

ToolPathSummary ToolPathWorkload::summary() const {
  ToolPathSummary s;
  for (const auto& call : impl_->calls) {
    ++s.calls;
    if (!call.answered) continue;
    if (call.failed) {
      ++s.failed;
      if (call.outcome.rfind("unroutable", 0) == 0) ++s.unroutable;
    } else if (call.outcome == "ok") {
      ++s.answered_ok;
    } else {
      ++s.answered_error;
    }
  }
  for (const auto& [id, nodes] : impl_->executions) s.executions += nodes.size();
  for (const auto& machine : impl_->machines) {
    s.registrations += machine->registrations;
    s.auth_recoveries += machine->auth_failures;
  }
  for (const auto& stats : impl_->gateway_stats) {
    s.status_changes += stats->status_changes;
    s.forwarded += stats->requests_forwarded;
    s.parked += stats->requests_parked;
    s.lost += stats->lost_requests;
    s.stale_registrations += stats->stale_registrations;
    s.ownership_lost += stats->ownership_lost;
    s.leases_expired += stats->leases_expired;
    s.drained_daemons += stats->drained_daemons;
  }
  return s;
}

void ToolPathWorkload::summarize(RunReport& report) const {
  const ToolPathSummary t = summary();
  const auto u = [](std::uint64_t v) { return std::to_string(v); };
  std::string out;
  char line[160];
  for (const auto& n : report.nodes) {
    if (!builds(n.role) || n.role == "control_plane") continue;
    if (n.crashes == 0 && n.starts <= 1) continue;  // only the eventful ones; 1,000 daemons scroll
    std::snprintf(line, sizeof line, "%-14s %-12s %6u starts %6u crashes\n", n.name.c_str(),
                  n.role.c_str(), n.starts, n.crashes);
    out += line;
  }
  out += "tool calls: " + u(t.calls) + " (" + u(t.answered_ok) + " ok, " + u(t.answered_error) +
         " answered with an error, " + u(t.failed) + " failed, of which " + u(t.unroutable) +
         " found no daemon); " + u(t.executions) + " executions; " + u(t.lost) + " reported lost\n";
  if (impl_->mcp_crashes != 0 || !impl_->cancels.empty() || !impl_->terminal_lines.empty()) {
    std::uint64_t seen = 0;
    for (const auto& line : impl_->terminal_lines) seen += line.seen ? 1 : 0;
    out += "mcp: " + u(impl_->mcp_crashes) +
           " server crashes; cancels: " + u(impl_->cancels.size()) +
           "; terminals: " + u(impl_->terminals_opened) + " opened, " +
           u(impl_->terminal_lines.size()) + " lines typed, " + u(seen) + " read back, " +
           u(impl_->terminal_reattaches) + " reads taken up again\n";
  }
  if (impl_->files_read_back != 0 || impl_->foreign_files_refused != 0) {
    out += "files: " + u(impl_->files_read_back) + " written and read back, " +
           u(impl_->foreign_files_refused) + " asks of another user's daemon refused\n";
  }
  out += "daemons: " + u(t.registrations) + " registrations, " + u(t.auth_recoveries) +
         " authentication recoveries, " + u(t.status_changes) +
         " status changes; gateways: " + u(t.forwarded) + " requests forwarded, " + u(t.parked) +
         " parked in the store, " + u(t.stale_registrations) + " stale registrations refused, " +
         u(t.ownership_lost) + " streams let go to a later owner, " + u(t.leases_expired) +
         " leases expired" +
         (t.drained_daemons != 0 ? ", " + u(t.drained_daemons) + " daemons sent on by draining"
                                 : std::string()) +
         "\n";
  out += managed_summary(*impl_);
  out += commands_summary(*impl_);
  const StoreStats& s = report.store;
  out += "store: " + u(s.transactions) + " transactions, " + u(s.failed_before_commit) +
         " failed before commit, " + u(s.outcome_unknown) + " outcome unknown, " +
         u(s.refused_in_outage) + " refused in outages, " + u(s.abandoned) +
         " abandoned by a crashed caller\n";
  report.sections.push_back(std::move(out));
}

}  // namespace reliant::sim

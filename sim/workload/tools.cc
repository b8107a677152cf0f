// The tool-path workload: gateway, daemon and tool_client roles, and their invariants.
#include "sim/workload/tools.h"

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
#include "services/storage/daemons.h"
#include "services/storage/sql_row.h"
#include "sim/runner.h"
#include "sim/sim_host.h"
#include "sim/sim_mcp_server.h"
#include "sim/sim_store.h"

namespace reliant::sim {

namespace v1 = reliant::daemon::v1;

namespace {

constexpr int kGatewayPort = 9190;
constexpr int kManagedPort = 9290;

std::string user_id_of(const std::string& user) { return "user-" + user; }

// A token from the world's randomness, as the api server would issue one.
std::string random_pat(Random& random) {
  std::array<std::uint8_t, kPatRandomBytes> bytes{};
  for (auto& b : bytes) b = static_cast<std::uint8_t>(random.below(256));
  return format_pat(bytes);
}

}  // namespace

// One daemon's machine: what outlives the daemon process — its credentials file, its
// daemon.json and its request journal — plus what the checkers need to know about it.
struct ToolPathWorkload::Machine final : daemon::DaemonObserver {
  std::string node;
  std::string user_id;
  DaemonNodeConfig config;
  std::string token;                   // the credentials file; empty once deleted
  std::string daemon_id;               // ~/.reliant/daemon.json
  std::uint64_t registration_seq = 0;  // idem
  std::string token_id;                // the token's row, for revocation
  daemon::MemoryRequestJournal journal;
  SimProcess* process = nullptr;
  bool registered = false;
  std::optional<Instant> registered_since;
  std::optional<Instant> down_since;
  std::uint64_t registrations = 0;
  std::uint64_t auth_failures = 0;
  ToolPathWorkload::Impl* impl = nullptr;

  void on_registered(const std::string& id, const std::string& /*gateway*/) override;
  void on_disconnected() override;
  void on_execute(const v1::ToolRequest& request) override;
  void on_auth_failure() override { ++auth_failures; }
};

struct ToolPathWorkload::Impl {
  World& world;
  const Scenario& scenario;
  SimDatabase& database;
  SimStreams& streams;
  Checker& checker;
  Swarm swarm;
  SimHostFaults* host_faults = nullptr;            // the daemons' machines' faults
  std::vector<std::unique_ptr<Machine>> machines;  // topology order
  std::map<std::string, Machine*> machine_by_node;
  std::map<std::string, SimProcess*> gateways;  // node → process
  // node → the running incarnation's component (expired while the gateway is down)
  std::map<std::string, std::weak_ptr<gateway::Gateway>> gateway_components;
  std::vector<std::string> gateway_addresses;
  std::map<std::string, std::vector<std::string>> executions;  // request id → daemon nodes
  std::vector<ToolCallRecord> calls;
  std::vector<std::shared_ptr<gateway::GatewayStats>> gateway_stats;
  std::uint64_t mcp_crashes = 0;
  // Cancel clients: when each call was cancelled, and when each command ended on a daemon (by
  // the request id it echoes).
  struct CancelRecord {
    std::string request_id;
    std::string client;
    Instant cancelled_at{};
  };
  std::vector<CancelRecord> cancels;
  std::map<std::string, Instant> command_ended;
  // Terminal clients: each line typed, and when its output came back.
  struct TerminalLine {
    std::string client;
    std::string marker;
    Instant typed{};
    std::optional<Instant> seen;
  };
  std::vector<TerminalLine> terminal_lines;
  std::uint64_t terminals_opened = 0;
  std::uint64_t files_read_back = 0;        // files clients wrote and read back
  std::uint64_t foreign_files_refused = 0;  // their asks of other users' daemons, refused
  std::uint64_t terminal_reattaches = 0;    // reads that failed and were taken up again
  std::optional<Instant> store_healthy_since;
  Random random;
  SimExecutor clock;
  IdGenerator ids;

  void sample_statuses();

  Impl(World& w, const Scenario& s, SimDatabase& d, SimStreams& st, Checker& c, const Swarm& sw)
      : world(w),
        scenario(s),
        database(d),
        streams(st),
        checker(c),
        swarm(sw),
        random(w.random().split("tool-path")),
        clock(w, kWorldNode),
        ids(clock, random.split("ids")) {}

  // Status writes may lag behind the truth by the stale timeout plus one heartbeat, and the
  // store write itself (retried with backoff up to 5 s).
  // A lease expires once a gateway has seen it unchanged for stale_after on its own clock, and a
  // gateway that restarts starts looking afresh: up to two stale_after after the last renewal.
  Duration status_allowance() const {
    return 2 * scenario.tool_path.stale_after + scenario.tool_path.heartbeat_interval + seconds(7);
  }
  // After healing: the longest reconnect backoff, the registration, and two heartbeats.
  Duration reconnect_allowance() const {
    return scenario.tool_path.backoff_max + 2 * scenario.tool_path.heartbeat_interval + seconds(5);
  }
  bool healed() const { return world.now() >= kSimEpoch + scenario.heal_at; }
  bool store_healthy() const {
    const StoreFaults& f = database.faults();
    return !f.outage && f.fail_before_commit == 0 && f.fail_after_commit == 0 && f.slow == 0;
  }
};

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
        daemon_(env_, std::move(config), credentials_, machine.journal, tools_, &machine) {
    ToolPathWorkload::Impl* impl = machine.impl;
    host_.set_faults(impl->host_faults);
    // The cancel clients' commands end with `echo <request id>`: when each one ended.
    host_.on_process_end([impl](const std::string& command, bool) {
      const std::size_t at = command.rfind("echo ");
      if (at != std::string::npos)
        impl->command_ended.emplace(command.substr(at + 5), impl->world.now());
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
  mcp::McpServers mcp_;
  daemon::ToolSet tools_;
  daemon::Daemon daemon_;  // last: destroyed first
};

struct ClientShared {
  ToolPathWorkload::Impl* impl;
  std::string node;
  ToolClientConfig config;
};

// Calls tools on its user's daemons, one at a time, forever; records every call.
class ToolClient {
 public:
  ToolClient(Env& env, ClientShared shared)
      : env_(env),
        shared_(std::move(shared)),
        router_(env, routing::BusRouterConfig{}),
        ids_(env.executor, env.random.split("tool-client")),
        scope_(env.executor) {
    if (shared_.config.kind == "terminal") {
      scope_.spawn(terminal_loop());
    } else if (shared_.config.kind == "files") {
      scope_.spawn(files_loop());
    } else {
      scope_.spawn(loop());
    }
  }

 private:
  Task<Result<std::string>> choose_daemon() {
    routing::DaemonChoice choice;
    if (!shared_.config.daemon.empty()) {
      auto source = parse_selector_source(nlohmann::json(shared_.config.daemon));
      if (!source) co_return fail(source.error());
      choice.workflow = *source;
    }
    Task<Result<DaemonDecision>> resolving = routing::resolve_daemon(
        *env_.store, user_id_of(shared_.config.user), std::move(choice), &router_);
    Result<DaemonDecision> decision = co_await resolving;
    if (!decision) co_return fail(decision.error());
    co_return decision->daemon_id;
  }

  Task<void> loop() {
    ToolPathWorkload::Impl& impl = *shared_.impl;
    const ToolClientConfig& config = shared_.config;
    for (;;) {
      co_await sleep(env_.executor, config.interval);
      Task<Result<std::string>> choosing = choose_daemon();
      Result<std::string> daemon_id = co_await choosing;
      if (!daemon_id) {
        // No daemon resolves (none registered yet, the store is down, or one is connected but
        // recorded as if it were not): a call that could not be made. Before healing that is
        // expected; after it, tool_results counts it as a failure.
        impl.calls.push_back(ToolCallRecord{ids_.next(), shared_.node, user_id_of(config.user), "",
                                            false, impl.world.now(), impl.world.now(),
                                            "unroutable: " + daemon_id.error().message, true});
        continue;
      }
      routing::ToolCall call;
      call.user_id = user_id_of(config.user);
      call.daemon_id = *daemon_id;
      call.request_id = ids_.next();
      call.tool_name = "bash";
      const auto sleep_ms = env_.random.between(std::int64_t{0}, to_ms(config.command_time_max));
      char seconds_text[32];
      std::snprintf(seconds_text, sizeof seconds_text, "%.3f",
                    static_cast<double>(sleep_ms) / 1000);
      call.input_json = nlohmann::json{{"command", std::string("sleep ") + seconds_text +
                                                       " && echo " + call.request_id}}
                            .dump();
      call.timeout = config.tool_timeout;
      bool sync = env_.random.chance(config.sync_share);
      if (config.kind == "mcp") {
        call.tool_name = "mcp__sim__echo";
        call.input_json = nlohmann::json{{"text", "echo " + call.request_id}}.dump();
      } else if (config.kind == "cancel") {
        // A command that would run long, cancelled a moment after it is sent.
        call.input_json = nlohmann::json{{"command", "sleep 30 && echo " + call.request_id}}.dump();
        call.timeout = seconds(60);
        sync = false;
        cancels_.spawn(cancel_later(this, call.user_id, call.daemon_id, call.request_id));
      }
      const std::size_t index = impl.calls.size();
      impl.calls.push_back(ToolCallRecord{call.request_id,
                                          shared_.node,
                                          call.user_id,
                                          call.daemon_id,
                                          sync,
                                          impl.world.now(),
                                          {},
                                          "",
                                          false});
      const std::string request_id = call.request_id;
      const std::string target = call.daemon_id;
      Task<Result<v1::ToolResponse>> calling = sync
                                                   ? router_.send_tool_request_sync(std::move(call))
                                                   : router_.send_tool_request(std::move(call));
      Result<v1::ToolResponse> response = co_await calling;
      ToolCallRecord& record = impl.calls[index];
      record.answered = impl.world.now();
      if (!response) {
        record.failed = true;
        record.outcome = std::string(to_string(response.error().code));
        continue;
      }
      record.outcome = response->is_error() ? response->error_code() : "ok";
      if (response->daemon_id() != target) {
        impl.checker.violation(impl.world.now(), "tool_isolation",
                               "request " + request_id + " for daemon " + target +
                                   " was answered by daemon " + response->daemon_id());
      }
      if (!response->is_error() && response->content().find(request_id) == std::string::npos) {
        impl.checker.violation(impl.world.now(), "tool_results",
                               "request " + request_id + " got output that is not its own: \"" +
                                   response->content().substr(0, 80) + "\"");
      }
    }
  }

  static Task<void> cancel_later(ToolClient* self, std::string user_id, std::string daemon_id,
                                 std::string request_id) {
    co_await sleep(self->env_.executor, seconds(1));
    Task<Result<void>> cancelling =
        self->router_.cancel_tool(user_id, daemon_id, request_id, "the sim's cancel client");
    Result<void> sent = co_await cancelling;
    if (sent) {
      self->shared_.impl->cancels.push_back(ToolPathWorkload::Impl::CancelRecord{
          request_id, self->shared_.node, self->shared_.impl->world.now()});
    }
  }

  // One daemon command's answer, or why there is none (the daemon's refusal included).
  Task<Result<nlohmann::json>> command(std::string daemon_id, std::string name,
                                       nlohmann::json args) {
    Task<Result<v1::DaemonCommandResult>> asking = router_.daemon_command(
        user_id_of(shared_.config.user), std::move(daemon_id), std::move(name), args.dump());
    Result<v1::DaemonCommandResult> answer = co_await asking;
    if (!answer) co_return fail(answer.error());
    if (!answer->ok()) {
      const std::string code = text_field(parse_json_or_discarded(answer->output_json()), "code");
      co_return fail(code == "not_found" ? ErrorCode::not_found : ErrorCode::failed_precondition,
                     answer->error_message());
    }
    co_return parse_json_or_discarded(answer->output_json());
  }

  // Each turn writes a file marked fk|<user>|<node>|n on a daemon of its user and reads it back
  // (any other content is someone else's file), then asks a daemon of another user for its
  // workspace listing and for this client's file, which the path to that daemon must refuse.
  Task<void> files_loop() {
    ToolPathWorkload::Impl& impl = *shared_.impl;
    const ToolClientConfig& config = shared_.config;
    const std::string path = "files-" + shared_.node + ".txt";
    for (std::uint64_t turn = 1;; ++turn) {
      co_await sleep(env_.executor, config.interval);
      Task<Result<std::string>> choosing = choose_daemon();
      Result<std::string> daemon_id = co_await choosing;
      if (!daemon_id) continue;
      const std::string marker =
          "fk|" + config.user + "|" + shared_.node + "|" + std::to_string(turn);
      Task<Result<nlohmann::json>> writing =
          command(*daemon_id, "fs_write", {{"path", path}, {"content", marker}});
      if (Result<nlohmann::json> written = co_await writing; written) {
        Task<Result<nlohmann::json>> reading = command(*daemon_id, "fs_read", {{"path", path}});
        Result<nlohmann::json> read = co_await reading;
        if (read) {
          ++impl.files_read_back;
          const std::string content = text_field(*read, "content");
          check_isolation(content, "fk|", "files_isolation");
          if (content != marker) {  // the file is this client's alone, written a moment ago
            impl.checker.violation(impl.world.now(), "files_isolation",
                                   shared_.node + " wrote \"" + marker + "\" to " + path +
                                       " on daemon " + *daemon_id + " and read back \"" +
                                       content.substr(0, 60) + "\"");
          }
        }
      }
      // Every fifth turn: nobody answers for a daemon of another user, so the ask takes a
      // timeout to fail.
      if (turn % 5 != 0) continue;
      std::vector<const ToolPathWorkload::Machine*> others;
      for (const auto& machine : impl.machines) {
        if (machine->user_id != user_id_of(config.user) && !machine->daemon_id.empty())
          others.push_back(machine.get());
      }
      if (others.empty()) continue;
      const ToolPathWorkload::Machine& other = *others[(turn / 5) % others.size()];
      const bool listing = (turn / 5) % 2 == 0;
      const std::string name = listing ? "fs_list" : "fs_read";
      Task<Result<nlohmann::json>> prying =
          command(other.daemon_id, name, {{"path", listing ? std::string(".") : path}});
      Result<nlohmann::json> pried = co_await prying;
      if (!pried) {
        ++impl.foreign_files_refused;
        continue;
      }
      impl.checker.violation(impl.world.now(), "files_isolation",
                             shared_.node + " (user " + config.user + ") got an answer to " + name +
                                 " from daemon " + other.daemon_id + " of " + other.user_id + ": " +
                                 pried->dump().substr(0, 80));
    }
  }

  // Every marker of another user in terminal output is a leak (markers are mk|<user>|…|n).
  void check_isolation(const std::string& output) {
    check_isolation(output, "mk|", "terminal_isolation");
  }
  void check_isolation(const std::string& output, const std::string& tag,
                       const std::string& invariant) {
    ToolPathWorkload::Impl& impl = *shared_.impl;
    for (std::size_t at = output.find(tag); at != std::string::npos;
         at = output.find(tag, at + 1)) {
      const std::size_t end = output.find('|', at + tag.size());
      if (end == std::string::npos) continue;  // cut off: the next read has the rest
      const std::string user = output.substr(at + tag.size(), end - at - tag.size());
      if (user == shared_.config.user) continue;
      impl.checker.violation(impl.world.now(), invariant,
                             shared_.node + " (user " + shared_.config.user + ") read " + tag +
                                 " output of user " + user + ": \"" + output.substr(at, 60) + "\"");
    }
  }

  // A terminal kept open on one daemon: each turn types a marker and reads until it comes back,
  // taking the output up again at its offset after a failed read (a gateway failing over); a
  // terminal that is gone (its daemon restarted) is opened anew.
  Task<void> terminal_loop() {
    ToolPathWorkload::Impl& impl = *shared_.impl;
    const ToolClientConfig& config = shared_.config;
    std::string daemon_id;
    std::string terminal_id;
    std::uint64_t offset = 0;
    std::uint64_t lines = 0;
    for (;;) {
      co_await sleep(env_.executor, config.interval);
      if (daemon_id.empty()) {
        Task<Result<std::string>> choosing = choose_daemon();
        Result<std::string> chosen = co_await choosing;
        if (!chosen) continue;
        daemon_id = *chosen;
      }
      if (terminal_id.empty()) {
        Task<Result<nlohmann::json>> opening = command(daemon_id, "term_open", {{"rows", 24}});
        Result<nlohmann::json> opened = co_await opening;
        if (!opened) {
          if (opened.error().code == ErrorCode::not_found) daemon_id.clear();
          continue;
        }
        terminal_id = text_field(*opened, "id");
        offset = 0;
        ++impl.terminals_opened;
      }
      const std::string marker =
          "mk|" + config.user + "|" + shared_.node + "|" + std::to_string(++lines);
      const std::size_t index = impl.terminal_lines.size();
      impl.terminal_lines.push_back({shared_.node, marker, impl.world.now(), std::nullopt});
      Task<Result<nlohmann::json>> typing = command(
          daemon_id, "term_input", {{"id", terminal_id}, {"data", "echo " + marker + "\r"}});
      Result<nlohmann::json> typed = co_await typing;
      if (!typed) {
        if (typed.error().code == ErrorCode::not_found) terminal_id.clear();
        continue;
      }
      const SteadyInstant until = env_.executor.steady_now() + config.tool_timeout;
      std::string tail;  // the newest output, enough to hold the marker's line
      while (env_.executor.steady_now() < until) {
        Task<Result<nlohmann::json>> reading = command(
            daemon_id, "term_read", {{"id", terminal_id}, {"offset", offset}, {"wait_ms", 1000}});
        Result<nlohmann::json> read = co_await reading;
        if (!read) {
          if (read.error().code == ErrorCode::not_found) {
            terminal_id.clear();
            break;
          }
          ++impl.terminal_reattaches;
          co_await sleep(env_.executor, milliseconds(200));
          continue;
        }
        const auto data = base64url_decode(text_field(*read, "data_base64url"));
        offset = std::max(offset, unsigned_field(*read, "next", offset));
        if (!data || data->empty()) continue;
        check_isolation(*data);
        tail =
            (tail + *data)
                .substr(tail.size() + data->size() > 4096 ? tail.size() + data->size() - 4096 : 0);
        // The shell echoes the typed line too; the answer is the marker on a line of its own.
        if (tail.find("\n" + marker + "\r\n") != std::string::npos) {
          impl.terminal_lines[index].seen = impl.world.now();
          break;
        }
      }
    }
  }

  Env& env_;
  ClientShared shared_;
  routing::BusDaemonRouter router_;
  IdGenerator ids_;
  Scope cancels_{env_.executor};  // the cancel client's pending cancels
  Scope scope_;                   // last: destroyed first
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
}

ToolPathWorkload::~ToolPathWorkload() = default;

void ToolPathWorkload::seed() {
  std::set<std::string> users;
  for (const auto& group : impl_->scenario.topology) {
    if (group.is<DaemonNodeConfig>()) users.insert(group.as<DaemonNodeConfig>().user);
    if (group.is<ToolClientConfig>()) users.insert(group.as<ToolClientConfig>().user);
  }
  Impl& impl = *impl_;
  auto done = impl.database.database().transact([&](SqlTransaction& tx) -> Result<void> {
    for (const auto& user : users) {
      if (auto ok = insert_user(tx, User{user_id_of(user), user + "@example.com", user, 0}); !ok)
        return ok;
    }
    for (auto& machine : impl.machines) {
      if (machine->config.managed) {
        // Provisioned by the control plane: a row and an id, no credentials.
        machine->daemon_id = impl.ids.next();
        DaemonRecord row;
        row.id = machine->daemon_id;
        row.user_id = machine->user_id;
        row.name = machine->node;
        row.type = DaemonType::cloud;
        row.connected_at_ms = 0;
        row.connection_id = "provisioned";
        if (auto ok = record_daemon_connected(tx, row); !ok) return ok;
        auto down = record_daemon_status(tx, row.id, "provisioned", DaemonStatus::disconnected, 0);
        if (!down) return fail(down.error());
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
      config.listen_address = name + ":" + std::to_string(kManagedPort);
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
    return [machine, config](Env& env) -> std::shared_ptr<void> {
      machine->registered = false;
      machine->registered_since.reset();
      return std::make_shared<SimDaemonProcess>(env, *machine, config);
    };
  }
  if (group.is<ControlPlaneConfig>()) {
    const ControlPlaneConfig config = group.as<ControlPlaneConfig>();
    return [impl, config](Env& env) -> std::shared_ptr<void> {
      // The real control plane, managing the scenario's managed daemons where they listen.
      auto fleet = [impl] {
        std::vector<control_plane::ManagedDaemon> managed;
        for (const auto& machine : impl->machines) {
          if (!machine->config.managed) continue;
          managed.push_back({machine->daemon_id, machine->user_id,
                             machine->node + ":" + std::to_string(kManagedPort)});
        }
        return managed;
      };
      return std::make_shared<control_plane::ControlPlane>(
          env, std::move(fleet), control_plane::ControlPlaneConfig{config.interval});
    };
  }
  ClientShared shared{impl, name, group.as<ToolClientConfig>()};
  return [shared](Env& env) -> std::shared_ptr<void> {
    return std::make_shared<ToolClient>(env, shared);
  };
}

void ToolPathWorkload::attach(const std::string& name, SimProcess& process) {
  if (auto it = impl_->machine_by_node.find(name); it != impl_->machine_by_node.end()) {
    it->second->process = &process;
  }
  for (const auto& address : impl_->gateway_addresses) {
    if (address.substr(0, address.find(':')) == name) impl_->gateways[name] = &process;
  }
}

void ToolPathWorkload::begin() {
  Impl* impl = impl_.get();
  impl->world.schedule(kSimEpoch + seconds(1), kWorldNode, "tools.sample",
                       [impl] { impl->sample_statuses(); });
}

// Once a second: the recorded statuses against the truth. (A member, not a closure that holds
// itself through a shared_ptr: that cycle outlived every run.)
void ToolPathWorkload::Impl::sample_statuses() {
  const Instant heal = kSimEpoch + scenario.heal_at;
  const Instant now = world.now();
  if (store_healthy()) {
    if (!store_healthy_since) store_healthy_since = now;
  } else {
    store_healthy_since.reset();
  }
  const Duration allowance = status_allowance();
  const Duration disconnect_allowance =
      scenario.tool_path.disconnect_after + scenario.tool_path.heartbeat_interval + seconds(7);
  struct Row {
    DaemonStatus status = DaemonStatus::disconnected;
    Instant admitted{};  // connected_at_ms, read on the admitting gateway's clock
  };
  std::map<std::string, Row> recorded;
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
      recorded[r.text("id")] = Row{*status, admitted};
    }
    return {};
  });
  if (!read) checker.violation(now, "daemon_status", "daemons unreadable: " + read.error().message);
  const bool store_settled = store_healthy_since && now - *store_healthy_since >= allowance;
  for (auto& machine : machines) {
    // The truth: the daemon process runs (not paused: a hung daemon sends no heartbeats) and
    // holds a registered stream. A crash destroys the component without telling the
    // observer, hence the process check.
    const bool connected = machine->process != nullptr && machine->process->running() &&
                           !machine->process->paused() && machine->registered;
    if (connected) {
      machine->down_since.reset();
    } else if (!machine->down_since) {
      machine->down_since = now;
    }
    if (machine->daemon_id.empty() || !store_settled) continue;
    const auto row = recorded.find(machine->daemon_id);
    if (row == recorded.end()) continue;
    const DaemonStatus status = row->second.status;
    // Measured from the later of "lost its stream" and "last admitted by a gateway": a
    // registration whose acknowledgement never arrived is a connection the gateway must time
    // out by itself.
    const Instant admitted = row->second.admitted;
    if (machine->down_since) {
      const Instant since = std::max(*machine->down_since, admitted);
      if (now - since >= allowance && status == DaemonStatus::active) {
        checker.violation(now, "daemon_status",
                          machine->node + " has had no stream since " +
                              format_duration(since - kSimEpoch) + " but is still recorded active");
      }
      if (now - since >= disconnect_allowance && status != DaemonStatus::disconnected) {
        checker.violation(now, "daemon_status",
                          machine->node + " has had no stream since " +
                              format_duration(since - kSimEpoch) + " but is recorded " +
                              std::string(to_string(status)) + ", not disconnected");
      }
    }
    if (now >= heal + allowance && connected && machine->registered_since &&
        now - *machine->registered_since >= allowance && status != DaemonStatus::active) {
      checker.violation(now, "daemon_status",
                        machine->node + " has been connected since " +
                            format_duration(*machine->registered_since - kSimEpoch) +
                            " but is recorded " + std::string(to_string(status)));
    }
  }
  world.schedule(now + seconds(1), kWorldNode, "tools.sample", [this] { sample_statuses(); });
}

bool ToolPathWorkload::apply(const ScriptedFault& fault) {
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

void ToolPathWorkload::finish(Instant end) {
  Impl& impl = *impl_;
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
  // Liveness: every daemon connected and recorded active at the end.
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
  for (const auto& machine : impl.machines) {
    if (!machine->registered) {
      impl.checker.violation(end, "daemon_liveness",
                             machine->node +
                                 " is not connected at the end, although every fault "
                                 "was healed at " +
                                 format_duration(impl.scenario.heal_at));
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
         " leases expired\n";
  const StoreStats& s = report.store;
  out += "store: " + u(s.transactions) + " transactions, " + u(s.failed_before_commit) +
         " failed before commit, " + u(s.outcome_unknown) + " outcome unknown, " +
         u(s.refused_in_outage) + " refused in outages, " + u(s.abandoned) +
         " abandoned by a crashed caller\n";
  report.sections.push_back(std::move(out));
}

}  // namespace reliant::sim

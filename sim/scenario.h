// Scenario: a simulation described in YAML — topology, workload settings, fault ranges, a
// scripted fault plan, timings and invariants (docs/architecture.md §9). Loading validates
// everything and names the file, line and problem on any mistake.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/assert.h"
#include "base/result.h"
#include "base/time.h"
#include "sim/workload/echo.h"
#include "sim/workload/engine_config.h"
#include "sim/workload/tools_config.h"

namespace reliant::sim {

template <class T>
struct Range {
  T min{};
  T max{};
};

// A role's settings, one type per role; roles without settings are empty tags.
struct EchoServerRole {
  int port = 7000;
};
struct GatewayRole {};
struct ChatApiRole {};
struct ChatWorkerRole {};
using RoleSettings =
    std::variant<EchoServerRole, EchoClientConfig, EngineWorkerSettings, EngineClientConfig,
                 GatewayRole, DaemonNodeConfig, ToolClientConfig, ControlPlaneConfig, ChatApiRole,
                 ChatWorkerRole, ChatClientConfig, WorkflowClientConfig, TriggerClientConfig>;
// The roles' names in scenario files, in the order of RoleSettings' alternatives.
inline constexpr std::array<std::string_view, 13> kRoleNames = {
    "echo_server", "echo_client",     "engine_worker", "engine_client", "gateway",
    "daemon",      "tool_client",     "control_plane", "chat_api",      "chat_worker",
    "chat_client", "workflow_client", "trigger_client"};
static_assert(kRoleNames.size() == std::variant_size_v<RoleSettings>);

struct NodeGroup {
  std::string name;  // nodes are named "<name>-1" … "<name>-<count>"
  int count = 1;
  RoleSettings settings;  // which alternative it holds is the group's role

  std::string_view role() const { return kRoleNames[settings.index()]; }
  // The settings of the group's role, which must be `Settings`'.
  template <class Settings>
  const Settings& as() const {
    const Settings* settings_of_role = std::get_if<Settings>(&settings);
    RELIANT_ASSERT_MSG(settings_of_role != nullptr, name.c_str());
    return *settings_of_role;
  }
  template <class Settings>
  bool is() const {
    return std::holds_alternative<Settings>(settings);
  }
};

// The settings of the role named `role` (defaults), or nothing for an unknown name.
std::optional<RoleSettings> role_settings_named(std::string_view role);

struct ScriptedFault {
  enum class Kind {
    crash,
    pause,
    partition,
    reset_stream,
    half_open_stream,
    store_outage,
    revoke_token,
    clock_jump,       // node's wall clock steps forward by `length`
    bus_outage,       // the broker is down for `length`
    store_partition,  // node loses the database for `length` (others keep it)
    clock_step_back,  // node's wall clock steps back by `length` (its steady clock does not)
    // node (a gateway) is asked to stop, as a rolling update's SIGTERM asks: it drains, exits,
    // and starts again `length` later
    drain,
  };
  Duration at{};
  Kind kind = Kind::crash;
  // crash, pause, partition (first side), clock_jump, clock_step_back, store_partition, drain
  std::string node;
  std::string other;  // partition (second side)
  bool one_way = false;
  // restart_after for crash and drain; the length of a pause, partition, outage or store
  // partition; how far a clock jumps or steps back
  Duration length{};
  int line = 0;
};

struct FaultRanges {
  Range<double> bus_drop, bus_duplicate, bus_delay, bus_reorder;
  Range<int> crashes, pauses, partitions, stream_resets, half_open;
  Range<Duration> restart_after{seconds(1), seconds(10)};
  Range<Duration> pause_length{seconds(1), seconds(5)};
  Range<Duration> partition_length{seconds(2), seconds(15)};
  double one_way_share = 0.5;
  Range<Duration> clock_offset{};
  // Per node, while faults last: seconds gained (or lost) per second, |drift| < 0.5, which both
  // clocks share; and steps of the wall clock, forward (jumps) and back — the steady clock
  // (Executor::steady_now) never steps.
  Range<double> clock_drift;
  Range<int> clock_jumps;
  Range<Duration> clock_jump_length{seconds(1), seconds(30)};
  Range<int> clock_steps_back;
  Range<Duration> clock_step_back_length{seconds(1), seconds(30)};
  Range<int> bus_outages;  // the broker down: nothing is delivered
  Range<Duration> bus_outage_length{seconds(1), seconds(10)};
  // Protocol: per frame, a malformed frame sent ahead of it on a stream (random bytes, a cut-off
  // copy, a well-formed frame of a type nobody knows), and per bus delivery a garbage payload.
  Range<double> stream_garbage, stream_truncated, stream_unknown, bus_garbage;
  // The model provider, per call (sim/sim_llm.h): errors, slow streams, malformed tool calls.
  Range<double> llm_error, llm_slow, llm_malformed;
  Range<Duration> llm_slow_delay{seconds(1), seconds(20)};
  // The daemons' machines (sim/sim_host.h): hung commands, full disks.
  Range<double> host_hang, host_disk_full;
  // The database (engine scenarios).
  Range<double> store_fail_before_commit, store_fail_after_commit, store_slow;
  Range<Duration> store_slow_delay{milliseconds(100), seconds(2)};
  Range<int> store_outages;
  Range<Duration> store_outage_length{seconds(1), seconds(10)};
  Range<int> store_partitions;  // one node cut off from the database, the others not
  Range<Duration> store_partition_length{seconds(1), seconds(10)};
};

struct Scenario {
  std::string file;  // as given on the command line, for messages and repro lines
  std::string name;
  std::string description;
  Duration duration = seconds(60);
  Duration heal_at = seconds(40);  // every fault healed here; the rest is the liveness phase
  Range<Duration> latency{milliseconds(1), milliseconds(5)};
  std::vector<NodeGroup> topology;
  ToolPathTimings tool_path;
  FaultRanges faults;
  // BUGGIFY (runtime/buggify.h): the components' rare paths, switched on per site per seed.
  bool buggify = true;
  // Component settings drawn per seed (sim/swarm.h).
  bool swarm = true;
  std::vector<ScriptedFault> plan;
  std::vector<std::string> invariants;

  // All node names, in topology order.
  std::vector<std::string> node_names() const;
  bool checks(std::string_view invariant) const;
  bool has_role(std::string_view role) const;
  // Whether the run has a database (engine, tool-path and chat roles use one): store faults
  // can fire only then.
  bool has_database() const;
};

// Parses and validates scenario YAML. `file` is used only in error messages:
// "scenarios/x.yaml:12:3: faults.bus.drop: expected a range [min, max], got a string".
Result<Scenario> parse_scenario(std::string_view yaml, std::string file);

// "250ms", "2s", "1.5s", "3m", "1h", "100us" → Duration.
Result<Duration> parse_duration(std::string_view text);

}  // namespace reliant::sim

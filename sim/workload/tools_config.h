// Settings of the tool-path workload's roles (gateway, daemon, tool_client) and its timings, as
// scenario files give them (no component headers here: the scenario parser builds without them).
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/time.h"
#include "core/daemon_status.h"

namespace reliant::sim {

// The scenario's `tool_path:` section: one set of timings for every gateway and daemon.
struct ToolPathTimings {
  Duration heartbeat_interval = seconds(15);
  Duration stale_after = seconds(30);
  Duration disconnect_after = seconds(60);
  Duration backoff_initial = milliseconds(500);
  Duration backoff_max = seconds(10);
};

struct DaemonNodeConfig {
  std::string user = "alice";
  DaemonType type = DaemonType::local;
  std::map<std::string, std::string> labels;
  // A managed cloud daemon: it dials nobody and holds no credentials; a gateway dials it when
  // the control plane says so (a control_plane node must exist).
  bool managed = false;
  // A managed daemon's spec and first wish: always on (never suspended for idleness, the
  // default) and created suspended (its pod not running until a call or its user resumes it).
  bool always_on = true;
  bool suspended = false;
  // Commands enabled (the Commands protocol): it polls the command queue — through the store,
  // standing for the api's feed: the simulator has no HTTP — and runs what it is sent.
  bool commands = false;
  // An MCP server the daemon runs over stdio (the simulator's scripted one, named "sim"). Each
  // tools/call crashes it with probability `mcp_crash_share` until the faults heal; the daemon
  // starts it again with backoff, or at once for the next call that needs it.
  bool mcp = false;
  double mcp_crash_share = 0;
};

// The control_plane role: services/control_plane/control_plane.h over the managed daemons.
struct ControlPlaneConfig {
  Duration interval = seconds(2);  // how often it checks that managed daemons are connected
  Duration suspend_after{};        // idle time before it suspends one; zero: never
  // The simulated platform under it (sim/sim_pods.h): how long a pod takes to start, and the
  // share of starts that fail until the faults heal.
  Duration pod_start_min = milliseconds(200);
  Duration pod_start_max = seconds(2);
  double pod_start_failure_share = 0;
  // Until the faults heal, the share of pods that exit on their own some while after they came
  // up (`pod_exit_after`); nothing but the control plane starts an exited pod again.
  double pod_exit_share = 0;
  Duration pod_exit_after_min = seconds(10);
  Duration pod_exit_after_max = seconds(30);
};

struct ToolClientConfig {
  std::string user = "alice";
  Duration interval = seconds(2);  // between calls
  double sync_share = 0.5;         // the rest are durable fire-and-forget calls
  Duration tool_timeout = seconds(10);
  Duration command_time_max = milliseconds(500);  // each call runs `sleep` up to this long
  // A daemon selector (name, local, cloud, any); empty: default resolution. `{n}` stands for
  // the client's number in its group, so that each of a hundred clients calls its own daemon.
  std::string daemon;
  // What each call does: "bash" (a command that echoes its request id), "mcp" (the daemon's MCP
  // server echoes it), "terminal" (types a marker into a terminal the client keeps open on the
  // daemon, re-attaching at its offset across failovers, and reads it back), "cancel" (starts
  // a long command and cancels it a moment later) or "files" (writes a marked file on its
  // daemon and reads it back, and asks another user's daemon for its files, which must be
  // refused), or "commands" (sends commands — mostly run_tool of a command that echoes a
  // marker, some reload and restart — to its user's managed daemons with commands enabled, and
  // records each one for command_once), or "stranger" (dials any managed daemon's address with
  // no dial key, a made-up one or another daemon's, which must never be sent a frame:
  // stranger_refused).
  std::string kind = "bash";
};

// A chat client (the chat workload): it owns one chat of `user`, sends a message asking for a
// command every `interval` (when the previous one is answered), and follows the user's updates
// through the api nodes, switching to another api when one does not answer.
struct ChatClientConfig {
  std::string user = "alice";
  Duration interval = seconds(3);
  Duration request_timeout = seconds(5);  // one api request (a poll waits up to 2 s of it)
  // The share of messages sent in manual mode: their tool calls wait until the client approves
  // them over the API.
  double manual_share = 0;
};

// How a workflow client expects a run to end, given the answers its approvals got.
struct WorkflowExpectation {
  std::string outcome = "completed";                  // completed or failed
  nlohmann::json outputs = nlohmann::json::object();  // each named output must equal this
};

// A workflow client's control of its runs (core/workflow/run_control.h), all through the REST
// API, as a person at the run page would. Each decision is drawn once per run (or held step) and
// kept, so that a request whose reply was lost is sent again as it was.
struct WorkflowControlConfig {
  // The share of runs paused once, `pause_after` after the client follows them (or, for
  // `pause_at_approval` of those, when it first finds an approval waiting, before answering it),
  // and resumed `pause_length` later — except `leave_paused` of them, left paused.
  double pause_share = 0;
  Duration pause_after_min{};
  Duration pause_after_max = seconds(5);
  Duration pause_length_min = seconds(1);
  Duration pause_length_max = seconds(5);
  double pause_at_approval = 0;
  double leave_paused = 0;
  // The share of runs started with `on_failure: pause` and `hold_inputs` over the client's
  // inputs (which should make a step fail: the run then holds it for the client).
  double hold_share = 0;
  nlohmann::json hold_inputs = nlohmann::json::object();
  // What the client does with a held step, `react_after` after it first finds it held, by
  // weight: retry it with `retry_args`, skip it with `skip_output`, fail it, or leave it held
  // (and the run with it).
  Duration react_after_min{};
  Duration react_after_max{};
  double retry_weight = 1;
  double skip_weight = 0;
  double fail_weight = 0;
  double leave_weight = 0;
  nlohmann::json retry_args = nlohmann::json::object();
  nlohmann::json skip_output = nlohmann::json::object();
  // The share of runs whose input `set_name` the client sets to `set_value` when it first finds
  // an approval waiting, before it answers: the nodes after the approval see the new value.
  double set_share = 0;
  std::string set_name;
  nlohmann::json set_value;
};

// A workflow client (the chat workload): every `interval`, while fewer than `concurrent` of its
// runs are open, it starts a run of `workflow` (YAML, checked when the scenario is read) with
// `inputs` through an api node; it follows each run's node events, answers each approval it
// meets (approving with probability `approve_share`, else denying), and holds the run's end to
// `expect`, keyed by the answers in the order it gave them ("approved", "denied,approved"), or
// "none" for a run that met no approval.
struct WorkflowClientConfig {
  std::string user = "alice";
  Duration interval = seconds(3);
  Duration request_timeout = seconds(5);
  double approve_share = 0.5;
  int concurrent = 2;
  std::string workflow;
  // True: the workflow is stored as a project's (the user's project "sim-project") and runs by
  // name, so it may name itself or another stored workflow as `ref: project://NAME`.
  bool project = false;
  // More workflows stored in the same project (YAML each, by its `name:`), for `ref:` to start
  // as child runs.
  std::vector<std::string> project_workflows;
  nlohmann::json inputs = nlohmann::json::object();
  std::map<std::string, WorkflowExpectation> expect;
  // `control:`: pauses, held steps and changed inputs; the answers a run's expectation is keyed
  // by then also name what the client did ("retried", "skipped", "failed", "set").
  WorkflowControlConfig control;
};

// A trigger client (the chat workload): a user who makes schedule triggers of one workflow
// (`workflow`, YAML, stored as the user's project workflow) through the REST API, each a POST
// /api/v1/triggers body's `schedule` (and optional `params`) under its `name`, and, until
// `toggle_until` (world time from the start), disables or enables one of them every
// `toggle_every`; after that every one of them is enabled. The trigger schedulers of the worker
// nodes fire them (firing_once, catch_up_bounded).
struct TriggerClientTrigger {
  std::string name;
  nlohmann::json schedule = nlohmann::json::object();
  nlohmann::json params = nlohmann::json::object();
};
struct TriggerClientConfig {
  std::string user = "alice";
  Duration request_timeout = seconds(5);
  std::string workflow;
  std::vector<TriggerClientTrigger> triggers;
  Duration toggle_every_min = seconds(3);
  Duration toggle_every_max = seconds(8);
  Duration toggle_until{};  // zero: never toggles
};

}  // namespace reliant::sim

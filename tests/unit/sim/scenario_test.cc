// Scenario loading: a full file parses; every kind of mistake gets file:line:column and a reason.
#include "sim/scenario.h"

#include <gtest/gtest.h>

#include "sim/fault_mix.h"

namespace reliant::sim {
namespace {

constexpr const char* kValid = R"(name: t
duration: 60s
heal_at: 40s
network:
  latency: [1ms, 3ms]
topology:
  - name: server
    role: echo_server
    count: 2
  - name: client
    role: echo_client
    config:
      interval: 250ms
faults:
  bus:
    drop: [0, 0.1]
  crashes: [1, 2]
  plan:
    - at: 10s
      partition: [client-1, server-2]
      one_way: true
      length: 5s
invariants: [stream_order, liveness]
)";

TEST(Scenario, ParsesAValidFile) {
  auto s = parse_scenario(kValid, "t.yaml");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->name, "t");
  EXPECT_EQ(s->duration, seconds(60));
  EXPECT_EQ(s->heal_at, seconds(40));
  EXPECT_EQ(s->latency.max, milliseconds(3));
  EXPECT_EQ(s->node_names(), (std::vector<std::string>{"server-1", "server-2", "client-1"}));
  EXPECT_EQ(s->topology[1].role(), "echo_client");
  EXPECT_EQ(s->topology[1].as<EchoClientConfig>().interval, milliseconds(250));
  EXPECT_EQ(s->topology[0].as<EchoServerRole>().port, 7000);
  EXPECT_DOUBLE_EQ(s->faults.bus_drop.max, 0.1);
  EXPECT_EQ(s->faults.crashes.min, 1);
  ASSERT_EQ(s->plan.size(), 1u);
  EXPECT_EQ(s->plan[0].kind, ScriptedFault::Kind::partition);
  EXPECT_TRUE(s->plan[0].one_way);
  EXPECT_EQ(s->plan[0].other, "server-2");
  EXPECT_TRUE(s->checks("liveness"));
  EXPECT_FALSE(s->checks("request_reply_match"));
}

std::string error_of(const std::string& yaml) {
  auto s = parse_scenario(yaml, "bad.yaml");
  EXPECT_FALSE(s.has_value()) << yaml;
  return s ? std::string() : s.error().message;
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  return text.replace(pos, from.size(), to);
}

TEST(Scenario, ErrorsNameFileLineAndProblem) {
  EXPECT_EQ(error_of(replace(kValid, "duration: 60s", "durations: 60s")),
            "bad.yaml:2:1: durations: unknown key (expected one of: name, description, duration, "
            "heal_at, network, "
            "topology, tool_path, faults, buggify, swarm, invariants)");
  EXPECT_EQ(error_of(replace(kValid, "duration: 60s", "duration: 60")),
            "bad.yaml:2:11: duration: '60' has no unit (use ns, us, ms, s, m or h)");
  EXPECT_EQ(error_of(replace(kValid, "drop: [0, 0.1]", "drop: [0.2, 0.1]")),
            "bad.yaml:16:11: faults.bus.drop: range is empty: min is greater than max");
  EXPECT_EQ(error_of(replace(kValid, "drop: [0, 0.1]", "drop: [0, 1.5]")),
            "bad.yaml:16:15: faults.bus.drop[1]: a probability must be within [0, 1], got 1.5");
  EXPECT_EQ(error_of(replace(kValid, "role: echo_client", "role: echo_clinet")),
            "bad.yaml:11:11: topology[1].role: unknown role 'echo_clinet' (known roles: "
            "echo_server, echo_client, engine_worker, engine_client, gateway, daemon, tool_client, "
            "control_plane, chat_api, chat_worker, chat_client, workflow_client, "
            "trigger_client)");
  EXPECT_EQ(
      error_of(replace(kValid, "[client-1, server-2]", "[client-1, server-9]")),
      "bad.yaml:20:29: faults.plan[0].partition[1]: no node named 'server-9' in the topology");
  EXPECT_EQ(
      error_of(replace(kValid, "invariants: [stream_order, liveness]", "invariants: [liveliness]")),
      "bad.yaml:23:14: invariants[0]: unknown invariant 'liveliness' (known: stream_order, "
      "request_reply_match, liveness, runs_end_once, results_once, queues_drain, "
      "tool_at_most_once, tool_results, tool_isolation, daemon_status, daemon_liveness, "
      "chat_updates, chat_answers, workflow_nodes_once, approvals_signalled, workflow_runs_end, "
      "workflow_node_daemons, terminal_isolation, terminal_results, cancel_grace, daemon_routable, "
      "one_session_per_daemon, update_isolation, files_isolation, malformed_calls_refused, "
      "workflow_runs_family, workflow_spawns, paused_runs_start_nothing, firing_once, "
      "catch_up_bounded, resume_bounded, suspended_not_dialled, "
      "tool_placement, command_once, stranger_refused)");
  EXPECT_EQ(error_of(replace(kValid, "- at: 10s", "- at: 50s")),
            "bad.yaml:19:11: faults.plan[0].at: is not before heal_at (40s): faults must happen "
            "before the "
            "liveness phase");
  EXPECT_EQ(error_of(replace(kValid, "      length: 5s\n", "")),
            "bad.yaml:19:7: faults.plan[0]: missing 'length'");
  EXPECT_EQ(error_of(replace(kValid, "count: 2", "count: two")),
            "bad.yaml:9:12: topology[0].count: expected a whole number, got 'two'");
  EXPECT_EQ(error_of(replace(replace(kValid, "      one_way: true\n      length: 5s\n", ""),
                             "partition: [client-1, server-2]", "revoke_token: server-1")),
            "bad.yaml:20:21: faults.plan[0].revoke_token: 'server-1' is not a daemon: only a "
            "daemon's token can be revoked");
}

// The later fault classes: clocks that drift and jump, broker outages, malformed frames and
// payloads, per-process database partitions, a misbehaving model provider.
TEST(Scenario, TheLaterFaultClassesParseAndAreDeclared) {
  const std::string later = R"(name: later
duration: 60s
heal_at: 40s
topology:
  - {name: gateway, role: gateway}
  - {name: laptop, role: daemon}
  - {name: api, role: chat_api}
  - name: worker
    role: chat_worker
faults:
  bus: {outages: [1, 2], outage_length: [1s, 3s], garbage: [0, 0.1]}
  streams: {garbage: [0, 0.1], truncated: [0.01, 0.02], unknown: [0, 0.3]}
  store: {partitions: [0, 2], partition_length: [2s, 4s]}
  clock: {drift: [-0.02, 0.03], jumps: [0, 1], jump_length: [1s, 9s], steps_back: [1, 2], step_back_length: [2s, 5s]}
  llm: {error: [0, 0.1], slow: [0, 0.2], slow_delay: [1s, 2s], malformed: [0, 0.3]}
  host: {hang: [0, 0.1], disk_full: [0.1, 0.2]}
  plan:
    - {at: 5s, clock_jump: worker-1, length: 4s}
    - {at: 6s, bus_outage: true, length: 2s}
    - {at: 7s, store_partition: worker-1, length: 3s}
    - {at: 8s, clock_step_back: worker-1, length: 6s}
)";
  auto scenario = parse_scenario(later, "later.yaml");
  ASSERT_TRUE(scenario.has_value()) << scenario.error().message;
  const FaultRanges& f = scenario->faults;
  EXPECT_EQ(f.clock_drift.min, -0.02);
  EXPECT_EQ(f.clock_jump_length.max, seconds(9));
  EXPECT_EQ(f.clock_steps_back.max, 2);
  EXPECT_EQ(f.clock_step_back_length.min, seconds(2));
  EXPECT_EQ(f.stream_truncated.max, 0.02);
  EXPECT_EQ(f.store_partition_length.min, seconds(2));
  EXPECT_EQ(f.llm_slow_delay.max, seconds(2));
  EXPECT_EQ(f.host_disk_full.min, 0.1);
  ASSERT_EQ(scenario->plan.size(), 4u);
  EXPECT_EQ(scenario->plan[0].kind, ScriptedFault::Kind::clock_jump);
  EXPECT_EQ(scenario->plan[0].node, "worker-1");
  EXPECT_EQ(scenario->plan[1].kind, ScriptedFault::Kind::bus_outage);
  EXPECT_EQ(scenario->plan[2].kind, ScriptedFault::Kind::store_partition);
  EXPECT_EQ(scenario->plan[2].length, seconds(3));
  EXPECT_EQ(scenario->plan[3].kind, ScriptedFault::Kind::clock_step_back);
  EXPECT_EQ(scenario->plan[3].length, seconds(6));
  const std::set<std::string> declared = declared_faults(*scenario);
  for (const char* name :
       {"fault.clock.drift", "fault.clock.jump", "fault.clock.step_back", "fault.bus.outage",
        "fault.protocol.bus_garbage", "fault.protocol.garbage_frame",
        "fault.protocol.truncated_frame", "fault.protocol.unknown_frame", "fault.store.partition",
        "fault.llm.error", "fault.llm.slow", "fault.llm.malformed_call", "fault.host.hang",
        "fault.host.disk_full"}) {
    EXPECT_EQ(declared.count(name), 1u) << name;
  }

  auto error = [&](const std::string& from, const std::string& to) {
    auto bad = parse_scenario(replace(later, from, to), "later.yaml");
    return bad ? std::string("(parsed)") : bad.error().message;
  };
  EXPECT_EQ(error("drift: [-0.02, 0.03]", "drift: [-0.02, 0.5]"),
            "later.yaml:14:26: faults.clock.drift[1]: a drift is seconds gained per second, within "
            "(-0.5, 0.5)");
  EXPECT_EQ(error("jump_length: [1s, 9s]", "jump_length: [0s, 9s]"),
            "later.yaml:14:61: faults.clock.jump_length: a clock jumps forward: the lengths must "
            "be positive");
  EXPECT_EQ(error("clock_jump: worker-1, length: 4s", "clock_jump: worker-1, length: 0s"),
            "later.yaml:18:46: faults.plan[0].length: how far a clock steps must be positive "
            "(clock_jump steps forward, clock_step_back back)");
  EXPECT_EQ(error("step_back_length: [2s, 5s]", "step_back_length: [0s, 5s]"),
            "later.yaml:14:109: faults.clock.step_back_length: how far a clock steps back: the "
            "lengths must be positive");
  EXPECT_EQ(error("store_partition: worker-1", "store_partition: worker-9"),
            "later.yaml:20:33: faults.plan[2].store_partition: no node named 'worker-9' in the "
            "topology");
  EXPECT_EQ(error("unknown: [0, 0.3]", "unknwon: [0, 0.3]"),
            "later.yaml:12:57: faults.streams.unknwon: unknown key (expected one of: garbage, "
            "truncated, unknown)");
  EXPECT_EQ(error("{at: 6s, bus_outage: true, length: 2s}", "{at: 6s, bus_outage: true}"),
            "later.yaml:19:7: faults.plan[1]: missing 'length'");
}

TEST(Scenario, MalformedYamlAndEmptyFiles) {
  EXPECT_EQ(error_of("name: [unclosed\n"),
            "bad.yaml:2:1: invalid YAML: end of sequence flow not found");
  EXPECT_EQ(error_of(""),
            "bad.yaml: the file is empty; a scenario needs at least name, duration and topology");
  EXPECT_EQ(error_of("- a\n- b\n"), "bad.yaml:1:1: expected a map, got a list");
  EXPECT_EQ(error_of("name: x\nduration: 1s\n"), "bad.yaml:1:1: missing required key 'topology'");
}

constexpr const char* kWorkflowClient = R"(name: w
duration: 60s
heal_at: 40s
topology:
  - {name: gateway, role: gateway}
  - {name: laptop, role: daemon}
  - {name: api, role: chat_api}
  - {name: worker, role: chat_worker}
  - name: client
    role: workflow_client
    config:
      approve_share: 1
      inputs: {n: 2}
      workflow: |
        name: one
        entry: a
        nodes:
          - {id: a, type: run, command: echo hi}
      expect:
        none: {outcome: completed, outputs: {said: hi}}
)";

TEST(Scenario, WorkflowClientsBringTheirWorkflowAndWhatTheyExpect) {
  auto s = parse_scenario(kWorkflowClient, "w.yaml");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  const auto& client = s->topology[4].as<WorkflowClientConfig>();
  EXPECT_DOUBLE_EQ(client.approve_share, 1);
  EXPECT_EQ(client.inputs, nlohmann::json({{"n", 2}}));
  EXPECT_NE(client.workflow.find("name: one"), std::string::npos);
  ASSERT_EQ(client.expect.count("none"), 1u);
  EXPECT_EQ(client.expect.at("none").outputs, nlohmann::json({{"said", "hi"}}));
  // The workflow's own mistakes are placed in it, after the place of `workflow:`.
  EXPECT_EQ(error_of(replace(kWorkflowClient, "type: run", "type: rn")),
            "bad.yaml:14:17: topology[4].config.workflow: workflow:4:19: node \"a\": unknown node "
            "type \"rn\" (expected call_llm, execute_tools, approval, ask_question, save_message, "
            "run, compact, create_worktree, loop, join, group, router, workflow or inbox)");
  EXPECT_EQ(error_of(replace(kWorkflowClient,
                             "      expect:\n        none: {outcome: completed, "
                             "outputs: {said: hi}}\n",
                             "")),
            "bad.yaml:12:7: topology[4].config.expect: expected a map from the approvals' answers "
            "(\"approved\", \"denied,approved\", \"none\") to {outcome, outputs}");
  EXPECT_EQ(error_of(replace(kWorkflowClient, "outcome: completed", "outcome: done")),
            "bad.yaml:20:25: topology[4].config.expect.none.outcome: expected completed or "
            "failed, got 'done'");
  EXPECT_EQ(error_of(replace(kWorkflowClient, "  - {name: worker, role: chat_worker}\n", "")),
            "bad.yaml:5:3: topology: chat nodes need chat_api, chat_worker and daemon nodes (and "
            "a gateway)");
}

// A workflow client's `control:` (issue 43): when it pauses and resumes, which runs hold a
// failed step and what it does with one, and the input it changes.
TEST(Scenario, WorkflowClientsControlTheirRuns) {
  const std::string control = std::string(kWorkflowClient) +
                              "      control:\n"
                              "        pause: {share: 0.5, after: [1s, 2s], leave: 0.1}\n"
                              "        hold: {share: 0.3, inputs: {broken: true}, react_after: "
                              "[0s, 3s], retry: 2, skip: 1, retry_args: {x: 1}}\n"
                              "        set_input: {share: 1, name: word, value: two}\n";
  auto s = parse_scenario(control, "w.yaml");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  const WorkflowControlConfig& c = s->topology[4].as<WorkflowClientConfig>().control;
  EXPECT_DOUBLE_EQ(c.pause_share, 0.5);
  EXPECT_EQ(c.pause_after_min, seconds(1));
  EXPECT_EQ(c.pause_after_max, seconds(2));
  EXPECT_DOUBLE_EQ(c.leave_paused, 0.1);
  EXPECT_DOUBLE_EQ(c.hold_share, 0.3);
  EXPECT_EQ(c.hold_inputs, nlohmann::json({{"broken", true}}));
  EXPECT_EQ(c.react_after_max, seconds(3));
  EXPECT_DOUBLE_EQ(c.retry_weight, 2);
  EXPECT_DOUBLE_EQ(c.skip_weight, 1);
  EXPECT_EQ(c.retry_args, nlohmann::json({{"x", 1}}));
  EXPECT_EQ(c.set_name, "word");
  EXPECT_EQ(c.set_value, "two");
  EXPECT_EQ(error_of(replace(control, "retry: 2, skip: 1", "retry: 0")),
            "bad.yaml:23:15: topology[4].config.control.hold: retry, skip, fail and leave weigh "
            "nothing");
  EXPECT_EQ(error_of(replace(control, "leave: 0.1}", "leave: 0.1, when: now}")),
            "bad.yaml:22:58: topology[4].config.control.pause.when: unknown key (expected one "
            "of: share, after, length, at_approval, leave)");
}

// A trigger client (issue 43): its workflow, the schedule triggers it makes, its toggling.
TEST(Scenario, TriggerClientsMakeScheduleTriggers) {
  std::string triggers = replace(kWorkflowClient, "role: workflow_client", "role: trigger_client");
  triggers = replace(triggers, "      approve_share: 1\n      inputs: {n: 2}\n",
                     "      toggle_every: [1s, 2s]\n      toggle_until: 30s\n");
  triggers =
      replace(triggers, "      expect:\n        none: {outcome: completed, outputs: {said: hi}}\n",
              "      triggers:\n        - {name: often, schedule: {interval: 2s}, "
              "params: {n: 1}}\n");
  auto s = parse_scenario(triggers, "w.yaml");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  const auto& client = s->topology[4].as<TriggerClientConfig>();
  ASSERT_EQ(client.triggers.size(), 1u);
  EXPECT_EQ(client.triggers[0].name, "often");
  EXPECT_EQ(client.triggers[0].schedule, nlohmann::json({{"interval", "2s"}}));
  EXPECT_EQ(client.triggers[0].params, nlohmann::json({{"n", 1}}));
  EXPECT_EQ(client.toggle_every_max, seconds(2));
  EXPECT_EQ(client.toggle_until, seconds(30));
  EXPECT_EQ(error_of(replace(triggers, "name: often", "nme: often")),
            "bad.yaml:20:12: topology[4].config.triggers[0].nme: unknown key (expected one of: "
            "name, schedule, params)");
}

TEST(Scenario, ClientsNeedAServer) {
  EXPECT_EQ(error_of("name: x\nduration: 10s\ntopology:\n  - name: c\n    role: echo_client\n"),
            "bad.yaml:4:3: topology: echo_client nodes need at least one echo_server");
}

TEST(Duration, ParsesUnitsAndRejectsNonsense) {
  EXPECT_EQ(*parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(*parse_duration("1.5s"), milliseconds(1500));
  EXPECT_EQ(*parse_duration("2m"), minutes(2));
  EXPECT_EQ(*parse_duration("100us"), microseconds(100));
  EXPECT_FALSE(parse_duration("fast").has_value());
  EXPECT_FALSE(parse_duration("5 s").has_value());
  EXPECT_FALSE(parse_duration("1e30h").has_value());
}

}  // namespace
}  // namespace reliant::sim

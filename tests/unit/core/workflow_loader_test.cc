// The workflow loader: what it accepts (list and map form, inputs, templates, every node type)
// and each mistake it reports with its line and column.
#include <gtest/gtest.h>

#include <string>

#include "core/workflow/builtins.h"
#include "core/workflow/inputs.h"
#include "core/workflow/loader.h"
#include "core/workflow/trigger_declarations.h"
#include "unit/support/zoneinfo.h"

namespace reliant::workflow {
namespace {

using Json = nlohmann::json;

// All the messages for `yaml`, formatted as the CLI prints them, or "ok".
std::string errors_of(const std::string& yaml, const cel::TimeZoneLoader& zones = nullptr) {
  auto loaded = load_workflow(yaml, "w.yaml", zones);
  if (loaded) return "ok";
  std::string out;
  for (const auto& e : loaded.error()) out += (out.empty() ? "" : "\n") + format("w.yaml", e);
  return out;
}

TEST(WorkflowLoader, ReadsListFormWithEveryNodeType) {
  const std::string yaml = R"(name: all
entry: a
inputs:
  n: {type: integer, default: 2, min: 1, max: 5}
nodes:
  - {id: a, type: call_llm, args: {model: "{{ inputs.n }}"}}
  - {id: b, type: execute_tools, args: {tool_calls: "{{ nodes.a.tool_calls }}"}}
  - {id: c, type: approval, title: "Go?", actions: [{type: approve}]}
  - {id: d, type: ask_question, question: "Which?"}
  - {id: e, type: save_message, args: {role: system, content: hi}}
  - {id: f, type: run, command: ls}
  - {id: g, type: compact, timeout: 10m}
  - {id: h, type: create_worktree, args: {name: x}}
  - {id: i, type: loop, while: "false", inline: {entry: i1, nodes: [{id: i1, type: run, command: x}]}}
  - {id: j, type: join, condition: any}
  - {id: k, type: group, inline: {entry: k1, nodes: [{id: k1, type: router}]}}
  - {id: l, type: router}
  - {id: m, type: workflow, ref: "builtin://agent", thread: {mode: fork, inject: {role: user, content: x}}}
edges:
  - {from: a, to: b}
  - {from: b, cases: [{to: c, condition: "true", label: yes}], default: d}
  - {from: c, default: e}
  - {from: d, default: e}
  - {from: e, to: f}
  - {from: f, to: g}
  - {from: g, to: h}
  - {from: h, to: i}
  - {from: i, to: j}
  - {from: j, to: k}
  - {from: k, to: l}
  - {from: l, to: m}
)";
  auto loaded = load_workflow(yaml, "w.yaml");
  ASSERT_TRUE(loaded) << errors_of(yaml);
  const auto& graph = *loaded->graph;
  ASSERT_EQ(graph.nodes.size(), 13u);
  EXPECT_EQ(graph.find("f")->args.field("command")->value, cel::Value("ls"));
  EXPECT_EQ(graph.find("c")->args.field("title")->value, cel::Value("Go?"));
  EXPECT_EQ(graph.find("j")->join, JoinMode::any);
  EXPECT_EQ(graph.find("m")->thread->mode, ThreadMode::fork);
  EXPECT_EQ(graph.find("g")->timeout, "10m");
  EXPECT_TRUE(graph.reaches[graph.index.at("a")][graph.index.at("m")]);
  EXPECT_FALSE(graph.reaches[graph.index.at("m")][graph.index.at("a")]);
}

TEST(WorkflowLoader, ReadsSeedMapFormAsASequence) {
  const std::string yaml = R"(name: two
daemon: local
nodes:
  local_work:
    agent: {model: {name: claude-sonnet}, system_prompt: local files}
  cloud_work:
    daemon: cloud
    agent: {model: {name: claude-sonnet}, system_prompt: compute}
)";
  auto loaded = load_workflow(yaml, "w.yaml");
  ASSERT_TRUE(loaded) << errors_of(yaml);
  const auto& graph = *loaded->graph;
  ASSERT_EQ(graph.nodes.size(), 2u);
  EXPECT_EQ(graph.entries, std::vector<std::string>{"local_work"});
  EXPECT_EQ(graph.nodes[0].type, NodeType::workflow);
  EXPECT_EQ(graph.nodes[0].ref, "builtin://agent");
  EXPECT_EQ(graph.nodes[1].daemon->value, cel::Value("cloud"));
  ASSERT_EQ(graph.edges.size(), 1u);
  EXPECT_EQ(graph.edges[0].fallback, std::vector<std::string>{"cloud_work"});
}

TEST(WorkflowLoader, ReadsAnEdgeTargetAsOneNodeOrAList) {
  const std::string yaml = R"(name: x
entry: a
nodes:
  - {id: a, type: router, args: }
  - {id: b, type: router}
  - {id: c, type: router}
  - {id: d, type: router}
edges:
  - from: a
    cases:
      - {to: [b, c], condition: "true"}
    default: [c, d]
  - {from: b, to: [d]}
  - {from: c, default: d}
)";
  auto loaded = load_workflow(yaml, "w.yaml");
  ASSERT_TRUE(loaded) << errors_of(yaml);
  const auto& edges = loaded->graph->edges;
  ASSERT_EQ(edges.size(), 3u);
  ASSERT_EQ(edges[0].cases.size(), 1u);
  EXPECT_EQ(edges[0].cases[0].to, (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(edges[0].fallback, (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(edges[1].cases[0].to, std::vector<std::string>{"d"});
  EXPECT_EQ(edges[2].fallback, std::vector<std::string>{"d"});
  EXPECT_TRUE(loaded->graph->reaches[0][3]);  // a reaches d through both lists
  EXPECT_EQ(errors_of("name: x\nentry: a\nnodes:\n  - {id: a, type: router}\nedges:\n"
                      "  - {from: a, default: []}\n"),
            "w.yaml:6:24: edge default is an empty list");
}

TEST(WorkflowLoader, LocatesEachMistake) {
  EXPECT_EQ(errors_of("name: x\nentry: a\nnodes:\n  - {id: a, type: teleport}\n"),
            "w.yaml:4:19: node \"a\": unknown node type \"teleport\" (expected call_llm, "
            "execute_tools, approval, ask_question, save_message, run, compact, "
            "create_worktree, loop, join, group, router, workflow or inbox)");
  EXPECT_EQ(errors_of("name: x\nnodes:\n  - {id: a, type: router}\n"),
            "w.yaml:1:1: the workflow has no entry (the id of its first node)");
  EXPECT_EQ(errors_of("name: x\nentry: a\nnodes:\n  - {id: a, type: router}\nedges:\n"
                      "  - {from: a, to: b}\n"),
            "w.yaml:6:19: edge to unknown node \"b\"");
  EXPECT_EQ(errors_of("name: x\nentry: a\nnodes:\n  - {id: a, type: router}\n  - {id: b, type: "
                      "router}\nedges:\n  - {from: a, to: b}\n  - {from: b, to: a}\n"),
            "w.yaml:4:10: node \"a\" is on a cycle of edges; repeat work with a loop node");
  EXPECT_EQ(
      errors_of("name: x\nentry: a\nnodes:\n  - {id: a, type: run, command: \"{{ 1 + }}\"}\n"),
      "w.yaml:4:41: args.command: column 8 of the expression: unexpected end of expression");
  EXPECT_EQ(errors_of("name: x\nentry: a\nsize: 3\nnodes:\n  - {id: a, type: router}\n"),
            "w.yaml:3:1: unknown key \"size\" in the workflow (expected apiVersion, "
            "automation_only, daemon, description, edges, entry, inputs, name, nodes, on_failure, "
            "outputs, presets, triggers, ui)");
  EXPECT_EQ(errors_of("name: x\nentry: a\ninputs:\n  n: {type: integer, default: 9, max: 5}\n"
                      "nodes:\n  - {id: a, type: router}\n"),
            "w.yaml:4:31: input \"n\": default 9 is above max 5");
  EXPECT_EQ(
      errors_of("name: x\nentry: a\nnodes:\n  - {id: a, type: router, daemon: {type: moon}}\n"),
      "w.yaml:4:35: node \"a\": daemon: daemon selector key \"type\" must be local, cloud or "
      "any, got \"moon\"");
  EXPECT_EQ(errors_of("name: x\nentry: a\nnodes: [\n"),
            "w.yaml:4:1: YAML: end of sequence flow not found");
}

TEST(WorkflowLoader, ReportsEveryMistakeInFileOrder) {
  const auto errors = errors_of(
      "name: x\nentry: a\nnodes:\n  - {id: a, type: router, colour: red}\n  - {id: a, type: "
      "loop}\n");
  EXPECT_NE(errors.find("w.yaml:4:27: unknown key \"colour\""), std::string::npos) << errors;
  EXPECT_NE(errors.find("w.yaml:5:5: node \"a\": a loop needs inline or ref"), std::string::npos)
      << errors;
  EXPECT_NE(errors.find("node id \"a\" is used twice"), std::string::npos) << errors;
}

TEST(WorkflowLoader, ReadsFailurePoliciesKeysAndPassthrough) {
  const std::string yaml = R"(name: p
entry: each
on_failure: pause
nodes:
  - id: each
    type: loop
    items: "[1]"
    parallel: true
    on_failure: fail_all
    key: "{{ string(iter.index) }}"
    passthrough: prompt
    inline: {entry: w, nodes: [{id: w, type: run, command: x, on_failure: fail}]}
  - {id: child, type: workflow, ref: "builtin://agent", passthrough: [prompt, model]}
edges: [{from: each, to: child}]
)";
  auto loaded = load_workflow(yaml, "w.yaml");
  ASSERT_TRUE(loaded) << errors_of(yaml);
  EXPECT_EQ(loaded->on_failure, FailurePolicy::pause);
  const auto& each = *loaded->graph->find("each");
  EXPECT_EQ(each.loop_on_failure, LoopFailurePolicy::fail_all);
  EXPECT_EQ(each.on_failure, std::nullopt);
  EXPECT_TRUE(each.key.has_value());
  EXPECT_EQ(each.passthrough, std::vector<std::string>{"prompt"});
  EXPECT_EQ(each.body->find("w")->on_failure, FailurePolicy::fail);
  EXPECT_EQ(loaded->graph->find("child")->passthrough,
            (std::vector<std::string>{"prompt", "model"}));
  // The map form takes a loop's keys inside its `loop:` map, and a node's own beside it.
  auto mapped = load_workflow(R"(name: m
nodes:
  each:
    loop: {items: "[1]", parallel: 2, on_failure: fail_fast, key: iter.item, inline: {entry: r, nodes: [{id: r, type: router}]}}
  after:
    on_failure: pause
    agent: {passthrough: prompt}
)",
                              "m.yaml");
  ASSERT_TRUE(mapped) << format_all("m.yaml", mapped.error());
  EXPECT_EQ(mapped->graph->find("each")->loop_on_failure, LoopFailurePolicy::fail_fast);
  EXPECT_TRUE(mapped->graph->find("each")->key.has_value());
  EXPECT_EQ(mapped->graph->find("after")->on_failure, FailurePolicy::pause);
  EXPECT_EQ(mapped->graph->find("after")->passthrough, std::vector<std::string>{"prompt"});
  EXPECT_EQ(to_string(LoopFailurePolicy::carry_on), "continue");
  EXPECT_EQ(loop_failure_policy_named("fail_fast"), LoopFailurePolicy::fail_fast);
  EXPECT_EQ(failure_policy_named("retry"), std::nullopt);
}

TEST(WorkflowLoader, LocatesEachFailurePolicyMistake) {
  const std::string head = "name: x\nentry: a\nnodes:\n";
  EXPECT_EQ(errors_of(head + "  - {id: a, type: run, command: x, on_failure: retry}\n"),
            "w.yaml:4:48: node \"a\": on_failure must be pause or fail, got \"retry\"");
  EXPECT_EQ(
      errors_of("name: x\non_failure: [pause]\n" + head.substr(8) + "  - {id: a, type: router}\n"),
      "w.yaml:2:13: the workflow: on_failure must be pause or fail, got [\"pause\"]");
  const std::string loop =
      "  - id: a\n    type: loop\n    inline: {entry: r, nodes: [{id: r, "
      "type: router}]}\n";
  EXPECT_EQ(
      errors_of(head + loop + "    items: '[1]'\n    parallel: true\n    on_failure: pause\n"),
      "w.yaml:9:17: node \"a\": a loop's on_failure must be continue, fail_fast or fail_all, "
      "got \"pause\"");
  EXPECT_EQ(errors_of(head + loop + "    items: '[1]'\n    on_failure: fail_fast\n"),
            "w.yaml:8:17: node \"a\": on_failure applies to parallel loops only (items with "
            "parallel: true or a count above 1)");
  EXPECT_EQ(errors_of(head + loop + "    while: 'false'\n    key: iter.index\n"),
            "w.yaml:8:10: node \"a\": key names the iterations of a loop over items; this loop has "
            "no items");
  EXPECT_EQ(errors_of(head + loop + "    items: '[1]'\n    key: 'iter.'\n"),
            "w.yaml:8:16: node \"a\" key: column 6 of the expression: expected a field name "
            "after '.'");
  EXPECT_EQ(errors_of(head + loop + "    items: '[1]'\n    passthrough: {prompt: x}\n"),
            "w.yaml:8:18: node \"a\": passthrough names inputs: a name or a list of names, got "
            "{\"prompt\":\"x\"}");
  EXPECT_EQ(errors_of(head + "  - {id: a, type: run, command: x, passthrough: p}\n"),
            "w.yaml:4:36: unknown key \"passthrough\" in node \"a\" (expected args, command, "
            "condition, daemon, description, env, id, name, on_failure, save_message, shell, "
            "thread, timeout, type, ui, working_dir)");
  EXPECT_EQ(errors_of(head + "  - id: a\n    type: group\n    inline: {entry: r, outputs: "
                             "{_results: x}, nodes: [{id: r, type: router}]}\n"),
            "w.yaml:6:34: output \"_results\": names starting with \"_\" are reserved for the "
            "outputs a loop adds (_iterations, _results …)");
}

TEST(WorkflowLoader, TheBuiltInsLoad) {
  ASSERT_GE(builtin_workflows().size(), 3u);
  for (const auto& builtin : builtin_workflows()) {
    EXPECT_EQ(errors_of(std::string(builtin.yaml)), "ok") << builtin.name;
  }
  EXPECT_NE(builtin_workflow("agent"), nullptr);
}

// A workflow with one input and the given triggers block (from line 5 on).
std::string with_triggers(const std::string& triggers) {
  return "name: x\nentry: a\ninputs: {branch: {type: string}, count: {type: integer}}\n"
         "nodes: [{id: a, type: router}]\n" +
         triggers;
}

TEST(WorkflowLoaderTriggers, ReadsEverySource) {
  const auto yaml = with_triggers(R"(automation_only: true
triggers:
  - name: nightly
    description: every night
    schedule: {cron: "0 3 * * *", timezone: Europe/Paris, catch_up: none}
    inputs: {count: 3}
  - name: pushes
    webhook: {hmac: {header: X-Hub-Signature-256, prefix: "sha256="}}
    filter: trigger.payload.ref == 'refs/heads/main'
    inputs: {branch: "{{ trigger.payload.ref }}"}
    prompt: "Review {{ trigger.payload.after }}"
  - name: plain
    webhook: {}
  - name: after-agent
    workflow_event: {workflows: ["builtin://agent", nightly-report], outcomes: [failed]}
)");
  auto loaded = load_workflow(yaml, "w.yaml", test::zoneinfo());
  ASSERT_TRUE(loaded) << errors_of(yaml, test::zoneinfo());
  EXPECT_TRUE(loaded->automation_only);
  ASSERT_EQ(loaded->triggers.size(), 4u);
  const auto& nightly = loaded->triggers[0];
  EXPECT_EQ(nightly.name, "nightly");
  EXPECT_EQ(nightly.description, "every night");
  EXPECT_EQ(nightly.mark.line, 7);
  const auto& schedule = std::get<triggers::ScheduleSpec>(nightly.source);
  EXPECT_EQ(schedule.cron, std::vector<std::string>{"0 3 * * *"});
  EXPECT_EQ(schedule.timezone, "Europe/Paris");
  EXPECT_EQ(schedule.catch_up, triggers::CatchUp::none);
  EXPECT_EQ(nightly.raw["schedule"]["timezone"], "Europe/Paris");
  const auto& pushes = loaded->triggers[1];
  const auto& webhook = std::get<triggers::WebhookSpec>(pushes.source);
  ASSERT_TRUE(webhook.hmac.has_value());
  EXPECT_EQ(webhook.hmac->header, "X-Hub-Signature-256");
  EXPECT_EQ(webhook.hmac->prefix, "sha256=");
  EXPECT_EQ(webhook.hmac->algorithm, triggers::HmacAlgorithm::sha256);
  EXPECT_EQ(webhook.hmac->encoding, triggers::SignatureEncoding::hex);
  EXPECT_TRUE(pushes.filter.has_value());
  EXPECT_TRUE(pushes.prompt.has_value());
  EXPECT_FALSE(std::get<triggers::WebhookSpec>(loaded->triggers[2].source).hmac.has_value());
  const auto& event = std::get<triggers::WorkflowEventSpec>(loaded->triggers[3].source);
  EXPECT_EQ(event.workflows, (std::vector<std::string>{"builtin://agent", "nightly-report"}));
  EXPECT_EQ(event.outcomes, std::vector<triggers::RunOutcome>{triggers::RunOutcome::failed});
  EXPECT_TRUE(triggers::matches(event, "nightly-report", triggers::RunOutcome::failed));
  EXPECT_FALSE(triggers::matches(event, "nightly-report", triggers::RunOutcome::finished));
  EXPECT_FALSE(triggers::matches(event, "other", triggers::RunOutcome::failed));
  // The stored form reads back as the file did.
  auto again = trigger_from_json(pushes.raw, test::zoneinfo());
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(again->name, "pushes");
  EXPECT_EQ(std::get<triggers::WebhookSpec>(again->source), webhook);
  EXPECT_EQ(again->filter->text(), pushes.filter->text());
}

TEST(WorkflowLoaderTriggers, LocatesEachMistake) {
  const auto expect = [](const std::string& triggers, const std::string& message) {
    EXPECT_EQ(errors_of(with_triggers(triggers), test::zoneinfo()), message) << triggers;
  };
  expect("triggers:\n  - {name: a, webhook: {}, filtr: \"true\"}\n",
         "w.yaml:6:28: unknown key \"filtr\" in trigger \"a\" (expected description, filter, "
         "inputs, integration, name, prompt, schedule, webhook, workflow_event)");
  expect("triggers:\n  - {webhook: {}}\n", "w.yaml:6:5: trigger 1 has no name");
  expect("triggers:\n  - {name: \"a b\", webhook: {}}\n",
         "w.yaml:6:12: trigger 1: name must be 1 to 64 letters, digits, - and _");
  expect("triggers:\n  - {name: a, webhook: {}}\n  - {name: a, webhook: {}}\n",
         "w.yaml:7:12: trigger name \"a\" is used twice");
  expect("triggers:\n  - {name: a}\n",
         "w.yaml:6:5: trigger \"a\" needs a source: schedule, webhook or workflow_event");
  expect("triggers:\n  - {name: a, webhook: {}, schedule: {interval: 1m}}\n",
         "w.yaml:6:28: trigger \"a\" has two sources, webhook and schedule: a trigger has exactly "
         "one");
  expect("triggers:\n  - {name: a, integration: {provider: github}}\n",
         "w.yaml:6:15: trigger \"a\": integration triggers are not supported by this server");
  expect("triggers:\n  - name: a\n    schedule: {interval: 1m}\n    filter: \"true\"\n",
         "w.yaml:8:13: trigger \"a\": filter: a schedule has no event to filter");
  expect("triggers:\n  - {name: a, webhook: {}, filter: \"{{ trigger.kind == 'x' }}\"}\n",
         "w.yaml:6:36: trigger \"a\": filter is a bare CEL expression: drop the {{ }} "
         "(trigger.payload.action == 'opened', not {{ trigger.payload.action == 'opened' }})");
  expect("triggers:\n  - {name: a, webhook: {}, filter: \"trigger.kind ==\"}\n",
         "w.yaml:6:52: trigger \"a\": filter: column 16 of the expression: unexpected end of "
         "expression");
  expect("triggers:\n  - {name: a, webhook: {}, inputs: {colour: red}}\n",
         "w.yaml:6:37: trigger \"a\": inputs: the workflow has no input \"colour\"");
  expect("triggers:\n  - {name: a, webhook: {}, inputs: {branch: \"{{ trigger. }}\"}}\n",
         "w.yaml:6:58: trigger \"a\": inputs.branch: column 13 of the expression: expected a "
         "field name after '.'");
  expect("triggers:\n  - {name: a, webhook: {}, prompt: \"{{ 1 + }}\"}\n",
         "w.yaml:6:44: trigger \"a\": prompt: column 8 of the expression: unexpected end of "
         "expression");
  expect("triggers:\n  - name: a\n    schedule:\n      cron: [\"@daily\", \"0 61 * * *\"]\n",
         "w.yaml:8:24: trigger \"a\": cron[1]: hour: 61 is out of range 0-23 at column 3");
  expect("triggers:\n  - name: a\n    schedule: {cron: \"@daily\", timezone: Mars/Base}\n",
         "w.yaml:7:42: trigger \"a\": timezone: unknown IANA time zone: Mars/Base");
  expect("triggers:\n  - name: a\n    schedule: {cron: \"@daily\", every: 5m}\n",
         "w.yaml:7:32: trigger \"a\": unknown key \"every\" in schedule (expected catch_up, "
         "catchup_window, cron, interval, jitter, overlap, timezone)");
  expect("triggers:\n  - name: a\n    schedule: {overlap: skip}\n",
         "w.yaml:7:15: trigger \"a\": schedule needs at least one cron expression or an interval");
  expect("triggers:\n  - name: a\n    webhook: {hmac: {header: Authorization}}\n",
         "w.yaml:7:30: trigger \"a\": hmac.header may not be Authorization: the signature needs a "
         "header of its own");
  expect("triggers:\n  - name: a\n    webhook: {hmac: {header: \"X Sig\"}}\n",
         "w.yaml:7:30: trigger \"a\": hmac.header must be a header name (letters, digits and "
         "!#$%&'*+-.^_`|~), not \"X Sig\"");
  expect("triggers:\n  - name: a\n    webhook: {hmac: {algorithm: md5, encoding: hex}}\n",
         "w.yaml:7:33: trigger \"a\": hmac.algorithm must be sha256, sha1 or sha512, not \"md5\"");
  expect("triggers:\n  - name: a\n    webhook: {hmac: {prefix: " + std::string(65, 'x') + "}}\n",
         "w.yaml:7:30: trigger \"a\": hmac.prefix must be text of at most 64 bytes");
  expect("triggers:\n  - name: a\n    workflow_event: {workflows: [\"builtin://nope\"]}\n",
         "w.yaml:7:34: trigger \"a\": workflows: there is no built-in workflow builtin://nope");
  expect("triggers:\n  - name: a\n    workflow_event: {workflows: [\"a b\"], outcomes: [done]}\n",
         "w.yaml:7:34: trigger \"a\": workflows: \"a b\" is neither a workflow's slug (letters, "
         "digits, -, _ and .) nor builtin://NAME\n"
         "w.yaml:7:53: trigger \"a\": outcomes must be finished, failed or blocked, not \"done\"");
  expect("triggers: {name: a}\n", "w.yaml:5:11: triggers must be a list of triggers");
  expect("automation_only: maybe\n", "w.yaml:5:18: automation_only must be true or false");
}

TEST(WorkflowLoaderTriggers, ReportsEveryMistakeInFileOrder) {
  const auto errors =
      errors_of(with_triggers("triggers:\n  - {name: a, webhook: {}, filtr: x}\n  - {name: b, "
                              "schedule: {interval: 1ms}}\n"));
  EXPECT_NE(errors.find("w.yaml:6:28: unknown key \"filtr\""), std::string::npos) << errors;
  EXPECT_NE(errors.find("w.yaml:7:36: trigger \"b\": interval 1ms is below the minimum of 1s"),
            std::string::npos)
      << errors;
}

TEST(WorkflowLoaderTriggers, ZonesAreCheckedWhenTheLoaderHasTheDatabase) {
  const auto yaml = with_triggers(
      "triggers:\n  - {name: a, schedule: {cron: \"@daily\", timezone: Asia/Atlantis}}\n");
  EXPECT_EQ(errors_of(yaml), "ok");
  EXPECT_EQ(errors_of(yaml, test::zoneinfo()),
            "w.yaml:6:52: trigger \"a\": timezone: unknown IANA time zone: Asia/Atlantis");
}

TEST(WorkflowLoaderTriggers, EvaluatesFilterInputsAndPrompt) {
  auto loaded = load_workflow(with_triggers(R"(triggers:
  - name: pushes
    webhook: {}
    filter: trigger.payload.ref == 'refs/heads/main' && trigger.payload.size > 1
    inputs: {branch: "{{ trigger.payload.ref }}", count: "{{ trigger.payload.size }}"}
    prompt: "Review {{ trigger.payload.size }} commits on {{ trigger.payload.ref }}"
  - name: guarded
    webhook: {}
    filter: trigger.payload.action == 'opened'
  - name: typed
    webhook: {}
    filter: trigger.payload.size
)"),
                              "w.yaml");
  ASSERT_TRUE(loaded);
  const auto trigger = [](const char* payload) {
    return cel::from_json(Json{{"kind", "webhook"}, {"payload", Json::parse(payload)}});
  };
  auto fired =
      evaluate_trigger(loaded->triggers[0], trigger(R"({"ref": "refs/heads/main", "size": 3})"));
  ASSERT_TRUE(fired) << fired.error();
  EXPECT_TRUE(fired->passes);
  EXPECT_EQ(fired->inputs.dump(), R"({"branch":"refs/heads/main","count":3})");
  EXPECT_EQ(fired->prompt, "Review 3 commits on refs/heads/main");
  auto filtered =
      evaluate_trigger(loaded->triggers[0], trigger(R"({"ref": "refs/heads/x", "size": 3})"));
  ASSERT_TRUE(filtered);
  EXPECT_FALSE(filtered->passes);
  EXPECT_EQ(filtered->inputs, Json::object());
  EXPECT_EQ(evaluate_trigger(loaded->triggers[1], trigger(R"({"number": 7})")).error(),
            "filter: no such key: action (the event has no such field: guard it with has(), e.g. "
            "has(trigger.payload.action) && …)");
  EXPECT_EQ(evaluate_trigger(loaded->triggers[2], trigger(R"({"size": 7})")).error(),
            "filter must give a bool, not int");
  EXPECT_EQ(evaluate_trigger(loaded->triggers[0], trigger(R"({"ref": "refs/heads/main"})")).error(),
            "filter: no such key: size (the event has no such field: guard it with has(), e.g. "
            "has(trigger.payload.size) && …)");
}

TEST(WorkflowInputs, DefaultsChecksAndConvertsCommandLineText) {
  auto loaded = load_workflow(R"(name: x
entry: a
inputs:
  mode: {type: enum, enum: [auto, plan], default: auto}
  turns: {type: integer, min: 1, max: 10}
  steps: {type: enum, multi: true, enum: [a, b], default: [a]}
  flag: {type: boolean}
  who: {type: string, required: true}
nodes: [{id: a, type: router}]
)",
                              "w.yaml");
  ASSERT_TRUE(loaded);
  auto inputs = resolve_inputs(loaded->inputs, {{"turns", "3"}, {"who", "me"}});
  ASSERT_TRUE(inputs) << inputs.error();
  EXPECT_EQ(cel::to_json(*inputs).dump(),
            R"({"flag":false,"mode":"auto","steps":["a"],"turns":3,"who":"me"})");
  EXPECT_EQ(resolve_inputs(loaded->inputs, {{"who", "me"}, {"turns", 11}}).error(),
            "input \"turns\": 11 is above max 10");
  EXPECT_EQ(resolve_inputs(loaded->inputs, {{"who", "me"}, {"turns", 11}}, InputBounds::ignored)
                .has_value(),
            true);
  EXPECT_EQ(resolve_inputs(loaded->inputs, {{"who", "me"}, {"mode", "fast"}}).error(),
            "input \"mode\": \"fast\" is not one of \"auto\", \"plan\"");
  EXPECT_EQ(resolve_inputs(loaded->inputs, {{"who", "me"}, {"steps", {"c"}}}).error(),
            "input \"steps\": \"c\" is not one of \"a\", \"b\"");
  EXPECT_EQ(resolve_inputs(loaded->inputs, nlohmann::json::object()).error(),
            "input \"who\" is required");
  EXPECT_EQ(resolve_inputs(loaded->inputs, {{"who", "me"}, {"colour", 1}}).error(),
            "unknown input \"colour\"");
}

}  // namespace
}  // namespace reliant::workflow

// Presets and tool filters: the preset file format with its mistakes at line and column, the
// built-in library, the filter grammar (excludes, patterns, spawn entries) and how presets fill
// a workflow's inputs under the caller's own values.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "core/workflow/builtin_presets.h"
#include "core/workflow/loader.h"
#include "core/workflow/preset.h"
#include "core/workflow/preset_inputs.h"
#include "core/workflow/tool_filter.h"

namespace reliant::workflow {
namespace {

using Json = nlohmann::json;

std::string preset_errors(const std::string& yaml) {
  auto loaded = load_preset(yaml);
  return loaded ? "ok" : format_all("p.yaml", loaded.error());
}

TEST(Preset, LoadsTheFormat) {
  auto preset = load_preset(R"(name: reviewer
description: Reviews
tag: agent
params:
  model: {tags: [cheap], providers: [anthropic]}
  system_prompt: |
    Review carefully.
  tools: [tag:search, view, "!bash", mcp__github__*]
  temperature: 0.2
  thinking_level: high
  spawn_presets: [researcher]
  max_turns: 30
)");
  ASSERT_TRUE(preset) << format_all("p.yaml", preset.error());
  EXPECT_EQ(preset->name, "reviewer");
  EXPECT_EQ(preset->tag, "agent");
  EXPECT_EQ(preset->params["system_prompt"], "Review carefully.\n");
  EXPECT_EQ(preset->params["max_turns"], 30);  // any other param is kept for its input
  EXPECT_EQ(preset->params["tools"].size(), 4u);
}

TEST(Preset, ReportsEachMistakeWhereItIs) {
  EXPECT_EQ(preset_errors("description: x\n"), "p.yaml:1:1: a preset needs a name");
  EXPECT_EQ(preset_errors("name: a b\n"),
            "p.yaml:1:7: name \"a b\" is not a preset name (letters, digits, _ - . and at most "
            "64 bytes)");
  EXPECT_EQ(preset_errors("name: a\nprompt: x\n"),
            "p.yaml:2:1: unknown key \"prompt\" in the preset (expected name, description, tag, "
            "params)");
  EXPECT_EQ(preset_errors("name: a\nparams:\n  temperature: 3\n"),
            "p.yaml:3:16: params.temperature 3 is outside 0 to 2");
  EXPECT_EQ(preset_errors("name: a\nparams:\n  tools: tag:default\n"), "ok");
  EXPECT_EQ(preset_errors("name: a\nparams:\n  tools: {tag: x}\n"),
            "p.yaml:3:10: params.tools: a tool filter is a list of tool names, patterns and "
            "tag:TAG entries, not {\"tag\":\"x\"}");
  EXPECT_EQ(preset_errors("name: a\nparams:\n  tools: [view, \"tag:\"]\n"),
            "p.yaml:3:10: params.tools: entry 1: \"tag:\" names no tag");
  EXPECT_EQ(preset_errors("name: a\nparams:\n  thinking_level: huge\n"),
            "p.yaml:3:19: params.thinking_level is none, low, medium, high or xhigh, not "
            "\"huge\"");
  EXPECT_EQ(preset_errors("name: a\nparams:\n  spawn_presets: [ok, \"no way\"]\n"),
            "p.yaml:3:18: params.spawn_presets: \"no way\" is not a preset name");
  EXPECT_EQ(preset_errors("name: a\nparams:\n  model: {size: big}\n"),
            "p.yaml:3:10: params.unknown key \"size\" in model (expected name, id, tags, "
            "provider, providers, temperature, thinking_level)");
  EXPECT_EQ(preset_errors("- a\n"), "p.yaml:1:1: a preset must be a YAML map");
  EXPECT_EQ(preset_errors("name: [\n"), preset_errors("name: [\n"));  // YAML errors, stable
  EXPECT_NE(preset_errors("name: [\n"), "ok");
}

TEST(Preset, EveryBuiltInLoadsUnderItsFileName) {
  ASSERT_GE(builtin_presets().size(), 17u);
  for (const auto* name :
       {"general", "researcher", "planner", "code_reviewer", "tester", "debug", "refactor", "git",
        "documentation", "ux", "workflow_builder", "architect", "security_reviewer",
        "performance_reviewer", "code_hygiene_reviewer", "reproducer", "conflict-resolver"}) {
    const Preset* preset = builtin_preset(name);
    ASSERT_NE(preset, nullptr) << name;
    EXPECT_EQ(preset->tag, "agent") << name;
    EXPECT_TRUE(preset->params["system_prompt"].is_string()) << name;
    // Whom it may spawn exists.
    for (const auto& spawned : preset->params.value("spawn_presets", Json::array()))
      EXPECT_NE(builtin_preset(spawned.get<std::string>()), nullptr) << name << " → " << spawned;
  }
}

bool passes(const Json& filter, const std::string& tool,
            const std::map<std::string, std::string>& tags = {}) {
  auto parsed = parse_tool_filter(filter);
  EXPECT_TRUE(parsed) << parsed.error();
  return tool_passes(*parsed, tool, [&](std::string_view tag) {
    const auto it = tags.find(tool);
    return it != tags.end() && it->second == tag;
  });
}

TEST(ToolFilter, IncludesExcludesAndPatterns) {
  const std::map<std::string, std::string> tags = {{"bash", "shell"}, {"grep", "search"}};
  EXPECT_TRUE(passes(Json::array({"view"}), "view"));
  EXPECT_FALSE(passes(Json::array({"view"}), "edit"));
  EXPECT_TRUE(passes("view", "view"));          // one entry as a string is a list of one
  EXPECT_FALSE(passes(Json::array(), "view"));  // an empty filter offers nothing
  EXPECT_TRUE(passes(Json::array({"*"}), "anything"));
  EXPECT_TRUE(passes(Json::array({"mcp__github__*"}), "mcp__github__create_issue"));
  EXPECT_FALSE(passes(Json::array({"mcp__github__*"}), "mcp__gitlab__create_issue"));
  EXPECT_TRUE(passes(Json::array({"*__create_*"}), "mcp__x__create_issue"));
  EXPECT_TRUE(passes(Json::array({"tag:shell"}), "bash", tags));
  EXPECT_FALSE(passes(Json::array({"tag:shell"}), "grep", tags));
  // Excludes win over includes, whatever the order.
  EXPECT_FALSE(passes(Json::array({"!bash", "*"}), "bash"));
  EXPECT_FALSE(passes(Json::array({"*", "!tag:shell"}), "bash", tags));
  EXPECT_TRUE(passes(Json::array({"*", "!tag:shell"}), "grep", tags));
  EXPECT_FALSE(passes(Json::array({"*", "!mcp__github__*"}), "mcp__github__x"));
  // Excludes alone: everything but them.
  EXPECT_TRUE(passes(Json::array({"!bash"}), "view"));
  EXPECT_FALSE(passes(Json::array({"!bash"}), "bash"));
}

TEST(ToolFilter, SpawnEntries) {
  auto filter = parse_tool_filter(
      Json::array({"view", "spawn:builtin://agent(general, researcher)", "spawn:x(researcher)"}));
  ASSERT_TRUE(filter) << filter.error();
  EXPECT_EQ(spawn_presets_of(*filter), (std::vector<std::string>{"general", "researcher"}));
  EXPECT_TRUE(tool_passes(*filter, "spawn_status", [](std::string_view) { return false; }));
  auto none = parse_tool_filter(Json::array({"spawn:builtin://agent()"}));
  ASSERT_TRUE(none) << none.error();
  EXPECT_TRUE(spawn_presets_of(*none).empty());
}

TEST(ToolFilter, RefusesMalformedEntries) {
  auto error_of = [](const Json& filter) {
    auto parsed = parse_tool_filter(filter);
    return parsed ? std::string("ok") : parsed.error();
  };
  EXPECT_EQ(error_of(Json::array({"view", ""})), "ok");  // CEL's spawn() of no presets
  EXPECT_EQ(error_of(Json::array({"view", "!"})), "entry 1: \"!\" excludes nothing");
  EXPECT_EQ(error_of(Json::array({"tag:"})), "entry 0: \"tag:\" names no tag");
  EXPECT_EQ(error_of(Json::array({"a b"})),
            "entry 0: \"a b\": an entry is a tool name, a pattern with *, tag:TAG, !ENTRY or "
            "spawn:WORKFLOW(PRESETS); \" \" has no place in it");
  EXPECT_EQ(error_of(Json::array({"spawn:agent"})),
            "entry 0: \"spawn:agent\": a spawn entry is spawn:WORKFLOW(PRESET,…)");
  EXPECT_EQ(error_of(Json::array({"spawn:agent(a,,b)"})),
            "entry 0: \"spawn:agent(a,,b)\": \"\" is not a preset name");
  EXPECT_EQ(error_of(Json::array({1})), "entry 0: 1 is not a tool name, pattern or tag:TAG");
  EXPECT_EQ(error_of(Json::object()),
            "a tool filter is a list of tool names, patterns and tag:TAG entries, not {}");
  EXPECT_EQ(error_of(true),
            "a tool filter is a list of tool names, patterns and tag:TAG entries, not true");
}

Definition agent_like() {
  auto loaded = load_workflow(R"(name: agentish
presets: {tag: agent, default: base}
inputs:
  model: {type: model}
  system_prompt: {type: string, default: ""}
  temperature: {type: number, default: 1.0}
  tools: {type: tools, default: ["tag:default"]}
  spawn_presets: {type: preset, tags: [agent], multi: true, default: []}
  reviewer:
    type: group
    presets: {tag: agent, default: careful}
    inputs:
      system_prompt: {type: string, default: ""}
      temperature: {type: number, default: 0.5}
entry: a
nodes:
  - {id: a, type: save_message, args: {role: system, content: x}}
)",
                              "w.yaml");
  EXPECT_TRUE(loaded) << format_all("w.yaml", loaded.error());
  return *loaded;
}

struct Library {
  std::map<std::string, Preset, std::less<>> presets;
  void add(const std::string& yaml) {
    auto preset = load_preset(yaml);
    ASSERT_TRUE(preset) << format_all("p.yaml", preset.error());
    presets[preset->name] = *preset;
  }
  FindPreset finder() const {
    return [this](std::string_view name) -> const Preset* {
      const auto it = presets.find(name);
      return it == presets.end() ? nullptr : &it->second;
    };
  }
};

Library library() {
  Library l;
  l.add(
      "name: base\ntag: agent\nparams: {system_prompt: Base, temperature: 0.3, tools: [view], "
      "undeclared: 1}");
  l.add("name: careful\ntag: agent\nparams: {system_prompt: Careful, temperature: 0.1}");
  l.add("name: other\ntag: agent\nparams: {system_prompt: Other, spawn_presets: [careful]}");
  l.add("name: chatty\ntag: chat\nparams: {system_prompt: Chatty}");
  return l;
}

TEST(PresetInputs, DefaultsFillWhatTheCallerLeftUnset) {
  const Library l = library();
  auto inputs = inputs_under_presets(agent_like(), Json{{"temperature", 0.9}}, nullptr, l.finder());
  ASSERT_TRUE(inputs) << inputs.error();
  EXPECT_EQ((*inputs)["system_prompt"], "Base");
  EXPECT_EQ((*inputs)["temperature"], 0.9);              // the caller's own value wins
  EXPECT_EQ((*inputs)["tools"], Json::array({"view"}));  // over the input's default
  EXPECT_FALSE(inputs->contains("undeclared"));          // left out, as a node's args are
  EXPECT_EQ((*inputs)["reviewer"]["system_prompt"], "Careful");
  EXPECT_EQ((*inputs)["reviewer"]["temperature"], 0.1);
}

TEST(PresetInputs, ThePickReplacesTheDefaultPerGroup) {
  const Library l = library();
  auto inputs = inputs_under_presets(agent_like(), Json::object(),
                                     Json{{"default", "other"}, {"reviewer", "base"}}, l.finder());
  ASSERT_TRUE(inputs) << inputs.error();
  EXPECT_EQ((*inputs)["system_prompt"], "Other");
  EXPECT_EQ((*inputs)["spawn_presets"], Json::array({"careful"}));
  EXPECT_EQ((*inputs)["reviewer"]["system_prompt"], "Base");
  // A name alone picks for the workflow's own inputs; "" is unset, so the preset fills it.
  auto named = inputs_under_presets(agent_like(), Json{{"system_prompt", ""}}, "other", l.finder());
  ASSERT_TRUE(named) << named.error();
  EXPECT_EQ((*named)["system_prompt"], "Other");
}

TEST(PresetInputs, RefusesUnknownPresetsWrongTagsAndBadPicks) {
  const Library l = library();
  auto error_of = [&](const Json& given, const Json& picked) {
    auto inputs = inputs_under_presets(agent_like(), given, picked, l.finder());
    return inputs ? std::string("ok") : inputs.error();
  };
  EXPECT_EQ(error_of(Json::object(), "nobody"), "no preset \"nobody\"");
  EXPECT_EQ(error_of(Json::object(), "chatty"),
            "preset \"chatty\" is tagged \"chat\", and workflow \"agentish\" takes presets "
            "tagged \"agent\"");
  EXPECT_EQ(error_of(Json::object(), Json{{"nogroup", "base"}}),
            "presets.nogroup: workflow \"agentish\" has no input group \"nogroup\"");
  EXPECT_EQ(error_of(Json::object(), 7), "presets are {group: preset} or a preset's name, not 7");
  EXPECT_EQ(error_of(Json{{"spawn_presets", {"base", "ghost"}}}, nullptr),
            "input \"spawn_presets\": no preset \"ghost\"");
  EXPECT_EQ(error_of(Json{{"spawn_presets", {"chatty"}}}, nullptr),
            "input \"spawn_presets\": preset \"chatty\" is tagged \"chat\", not one of "
            "[\"agent\"]");
}

TEST(PresetLoader, WorkflowsCheckTheirPresetsAndLiteralFilters) {
  auto errors_of = [](const std::string& yaml) {
    auto loaded = load_workflow(yaml, "w.yaml");
    return loaded ? std::string("ok") : format_all("w.yaml", loaded.error());
  };
  EXPECT_EQ(errors_of("name: w\npresets: {tag: agent, deflt: x}\nentry: a\nnodes:\n"
                      "  - {id: a, type: router}\n"),
            "w.yaml:2:10: unknown key \"deflt\" in presets (expected tag, default)");
  EXPECT_EQ(errors_of("name: w\nentry: a\nnodes:\n"
                      "  - {id: a, type: call_llm, args: {tool_filter: [view, \"!\"]}}\n"),
            "w.yaml:4:49: node \"a\": tool_filter: entry 1: \"!\" excludes nothing");
  EXPECT_EQ(errors_of("name: w\nentry: a\nnodes:\n"
                      "  - {id: a, type: call_llm, args: {tools: false, tool_filter: [x]}}\n"),
            "ok");
  EXPECT_EQ(errors_of("name: w\nentry: a\nnodes:\n"
                      "  - {id: a, type: workflow, ref: builtin://agent, presets: {default: 3}}\n"),
            "w.yaml:4:60: node \"a\": presets.default: 3 is not a preset's name");
  // Computed ones are checked when the node runs.
  EXPECT_EQ(errors_of("name: w\nentry: a\nnodes:\n"
                      "  - {id: a, type: call_llm, args: {tool_filter: \"{{ [] }}\"}}\n"),
            "ok");
}

}  // namespace
}  // namespace reliant::workflow

// Fuzz target: any bytes as a preset file, a model catalogue and a tool filter (JSON) load to a
// value or to located errors, never a crash. A preset that loads fills an agent-like workflow's
// inputs; a catalogue that loads answers every selector with a model of its own or a reason; a
// filter that parses decides for every tool name without throwing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/assert.h"
#include "base/json_parse.h"
#include "core/agent/model_catalog.h"
#include "core/workflow/loader.h"
#include "core/workflow/preset.h"
#include "core/workflow/preset_inputs.h"
#include "core/workflow/tool_filter.h"

namespace {

using Json = nlohmann::json;

const reliant::workflow::Definition& agent_like() {
  static const reliant::workflow::Definition definition = [] {
    auto loaded = reliant::workflow::load_workflow(R"(name: fuzz
presets: {tag: agent}
inputs:
  model: {type: model}
  system_prompt: {type: string, default: ""}
  temperature: {type: number, default: 1.0}
  tools: {type: tools, default: ["tag:default"]}
  spawn_presets: {type: preset, multi: true, default: []}
  group: {type: group, inputs: {system_prompt: {type: string}}}
entry: a
nodes:
  - {id: a, type: router}
)",
                                                   "fuzz.yaml");
    RELIANT_ASSERT(loaded.has_value());
    return *loaded;
  }();
  return definition;
}

void try_preset(std::string_view text) {
  auto preset = reliant::workflow::load_preset(text);
  if (!preset) {
    RELIANT_ASSERT(!preset.error().empty());
    RELIANT_ASSERT(!reliant::workflow::format_all("p.yaml", preset.error()).empty());
    return;
  }
  RELIANT_ASSERT(reliant::workflow::is_preset_name(preset->name));
  auto find = [&](std::string_view name) -> const reliant::workflow::Preset* {
    return name == preset->name ? &*preset : nullptr;
  };
  for (const Json& pick :
       {Json(preset->name), Json{{"default", preset->name}, {"group", preset->name}}}) {
    auto inputs = reliant::workflow::inputs_under_presets(agent_like(), Json::object(), pick, find);
    RELIANT_ASSERT(inputs.has_value() || !inputs.error().empty());
  }
}

void try_catalog(std::string_view text) {
  auto catalog = reliant::agent::load_model_catalog(text);
  if (!catalog) {
    RELIANT_ASSERT(!catalog.error().empty());
    return;
  }
  RELIANT_ASSERT(!catalog->models.empty());
  for (const Json& selector :
       {Json(), Json(catalog->models.back().name), Json{{"tags", {"flagship", "cheap"}}},
        Json{{"tags", {"fast"}}, {"providers", {"openai"}}}, Json{{"name", "none-such"}}}) {
    auto model = reliant::agent::resolve_model(*catalog, selector);
    if (model) RELIANT_ASSERT(catalog->model(model->name) != nullptr);
  }
}

void try_filter(std::string_view text) {
  auto json = reliant::parse_json(text);
  if (!json) return;
  auto filter = reliant::workflow::parse_tool_filter(*json);
  if (!filter) {
    RELIANT_ASSERT(!filter.error().empty());
    return;
  }
  for (const char* tool : {"view", "bash", "mcp__github__create_issue", "spawn", ""}) {
    (void)reliant::workflow::tool_passes(*filter, tool,
                                         [](std::string_view tag) { return tag == "shell"; });
  }
  (void)reliant::workflow::spawn_presets_of(*filter);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try_preset(text);
  try_catalog(text);
  try_filter(text);
  return 0;
}

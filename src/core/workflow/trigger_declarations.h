// The `triggers:` block of a workflow file: each declaration read and checked with its place in
// the file, and, when a trigger fires, evaluated against the `trigger` value — its filter, the
// run's inputs and its prompt. Sources are core/triggers' specs (schedule.h, event_sources.h);
// storing triggers and firing them is the service's.
//
//   triggers:
//     - name: nightly
//       schedule: {cron: "0 3 * * *", timezone: Europe/Paris}
//       inputs: {mode: plan}
//     - name: pushes
//       webhook: {hmac: {header: X-Hub-Signature-256, prefix: "sha256="}}
//       filter: trigger.payload.ref == 'refs/heads/main'
//       prompt: "Review {{ trigger.payload.head_commit.id }}"
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "core/cel/evaluator.h"
#include "core/cel/time_zones.h"
#include "core/cel/value.h"
#include "core/workflow/definition.h"
#include "core/workflow/yaml_reading.h"

namespace reliant::workflow {

inline constexpr std::size_t kTriggersMax = 32;
inline constexpr std::size_t kTriggerNameMax = 64;

// The declarations of `block` (a list), every mistake added to `reader` at its place: a name
// missing, malformed or used twice; not exactly one source (schedule, webhook, workflow_event;
// integration is refused); a source's own mistakes; a filter on a schedule, with {{ }}, or
// that does not parse; inputs the workflow does not declare (when `inputs` is given) or whose
// templates do not parse; a prompt that does not parse; and any unknown key, so that a typo
// (`filtr:`) never makes a trigger that fires on everything. `zones` loads the zones of
// schedules (null: their names are checked for form only).
std::vector<TriggerDeclaration> read_triggers(const YAML::Node& block,
                                              const std::vector<InputSpec>* inputs,
                                              const cel::TimeZoneLoader& zones, YamlReader& reader);

// One declaration from its stored form (TriggerDeclaration::raw), as read_triggers reads it;
// the mistakes joined ("; ") when it no longer reads.
tl::expected<TriggerDeclaration, std::string> trigger_from_json(const nlohmann::json& raw,
                                                                const cel::TimeZoneLoader& zones);

// What a firing starts.
struct TriggerEvaluation {
  bool passes = true;  // the filter held (or there is none); when false, nothing else is set
  nlohmann::json inputs = nlohmann::json::object();  // the run's inputs by name
  std::optional<std::string> prompt;
};

// `declaration`'s filter, inputs and prompt against `trigger` (`{kind, payload, …}`), which
// they see as the variable `trigger`. An input written as one whole `{{ expr }}` keeps its
// value's type; a prompt is text. Errors name the part and, for a field the event lacks, say to
// guard it with has().
tl::expected<TriggerEvaluation, std::string> evaluate_trigger(const TriggerDeclaration& declaration,
                                                              const cel::Value& trigger,
                                                              const cel::EvalOptions& options = {});

}  // namespace reliant::workflow

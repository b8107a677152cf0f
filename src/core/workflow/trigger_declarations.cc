// Trigger declarations: the `triggers:` block read from YAML, and a declaration evaluated when
// its trigger fires.
#include "core/workflow/trigger_declarations.h"

#include <algorithm>
#include <array>
#include <set>

#include "base/ascii.h"
#include "core/workflow/builtins.h"
#include "core/workflow/yaml_values.h"

namespace reliant::workflow {
namespace {

const KeySet kTriggerKeys = {"name",        "description", "schedule", "webhook", "workflow_event",
                             "integration", "filter",      "inputs",   "prompt"};
constexpr std::array<std::string_view, 4> kTriggerSourceKeys = {"schedule", "webhook",
                                                                "workflow_event", "integration"};
constexpr std::string_view kBuiltinScheme = "builtin://";

bool is_trigger_name(std::string_view name) {
  return !name.empty() && name.size() <= kTriggerNameMax &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return is_ascii_alpha(c) || is_ascii_digit(c) || c == '-' || c == '_';
         });
}

// The node a FieldError's pointer names inside `spec`, or the nearest one that exists; its key
// when the error is about the key.
Mark mark_at_pointer(const YAML::Node& spec, const triggers::FieldError& e) {
  // reset() rebinds; yaml-cpp's operator= would write into the document instead.
  YAML::Node base;
  base.reset(spec);
  Mark mark = mark_of(base);
  std::size_t at = 0;
  while (at < e.pointer.size()) {
    const std::size_t next = std::min(e.pointer.find('/', at + 1), e.pointer.size());
    std::string segment;
    for (std::size_t i = at + 1; i < next; ++i) {
      const bool escaped = e.pointer[i] == '~' && i + 1 < next;
      segment += escaped ? (e.pointer[++i] == '1' ? '/' : '~') : e.pointer[i];
    }
    const bool last = next == e.pointer.size();
    at = next;
    if (base.IsMap()) {
      bool found = false;
      for (const auto& entry : base) {
        if (entry.first.Scalar() != segment) continue;
        mark = mark_of(last && e.at_key ? entry.first : entry.second);
        base.reset(entry.second);
        found = true;
        break;
      }
      if (!found) return mark;
    } else if (base.IsSequence() && !segment.empty() &&
               std::all_of(segment.begin(), segment.end(), is_ascii_digit) && segment.size() < 6 &&
               std::stoul(segment) < base.size()) {
      const YAML::Node& sequence = base;  // const: reading never adds a node
      const YAML::Node item = sequence[std::stoul(segment)];
      base.reset(item);
      mark = mark_of(base);
    } else {
      return mark;
    }
  }
  return mark;
}

// Where a declaration's message names a missing field: how to guard it.
std::string with_has_hint(const std::string& message) {
  constexpr std::string_view kNoSuchKey = "no such key: ";
  if (!message.starts_with(kNoSuchKey)) return message;
  std::string key = message.substr(kNoSuchKey.size());
  if (key.size() >= 2 && key.front() == '"' && key.back() == '"')
    key = key.substr(1, key.size() - 2);
  return message + " (the event has no such field: guard it with has(), e.g. " +
         "has(trigger.payload." + key + ") && …)";
}

class TriggerReader {
 public:
  TriggerReader(YamlReader& reader, const std::vector<InputSpec>* inputs,
                const cel::TimeZoneLoader& zones)
      : reader_(reader), inputs_(inputs), zones_(zones) {}

  std::optional<TriggerDeclaration> declaration_at(const YAML::Node& node, std::size_t index) {
    if (!node.IsMap()) {
      reader_.error(node,
                    "a trigger must be a map with a name and a schedule, webhook or "
                    "workflow_event");
      return std::nullopt;
    }
    TriggerDeclaration d;
    d.mark = mark_of(node);
    d.raw = to_json(node);
    std::string what = "trigger " + std::to_string(index + 1);
    if (const auto name = child(node, "name")) {
      d.name = name.IsScalar() ? name.Scalar() : "";
      if (is_trigger_name(d.name)) {
        what = "trigger \"" + d.name + "\"";
      } else {
        reader_.error(name, what + ": name must be 1 to " + std::to_string(kTriggerNameMax) +
                                " letters, digits, - and _");
      }
    } else {
      reader_.error(node, what + " has no name");
    }
    reader_.check_keys(node, kTriggerKeys, what);
    if (const auto description = child(node, "description"))
      d.description = reader_.string_at(description, what + ": description").value_or("");
    source_at(node, what, d);
    const bool schedule = static_cast<bool>(child(node, "schedule"));
    if (const auto filter = child(node, "filter")) filter_at(filter, what, schedule, d);
    if (const auto inputs = child(node, "inputs")) inputs_at(inputs, what, d);
    if (const auto prompt = child(node, "prompt")) prompt_at(prompt, what, d);
    return d;
  }

 private:
  // The one source of the declaration; false when there is none to use.
  bool source_at(const YAML::Node& node, const std::string& what, TriggerDeclaration& d) {
    YAML::Node first_key, first;
    std::string first_name;
    for (const auto& entry : node) {
      const auto key = entry.first.Scalar();
      if (std::find(kTriggerSourceKeys.begin(), kTriggerSourceKeys.end(), key) ==
          kTriggerSourceKeys.end()) {
        continue;
      }
      if (!first_name.empty()) {
        reader_.error(entry.first, what + " has two sources, " + first_name + " and " + key +
                                       ": a trigger has exactly one");
        continue;
      }
      first_key = entry.first;
      first = entry.second;
      first_name = key;
    }
    if (first_name.empty()) {
      reader_.error(node, what + " needs a source: schedule, webhook or workflow_event");
      return false;
    }
    if (first_name == "integration") {
      reader_.error(first_key, what + ": integration triggers are not supported by this server");
      return false;
    }
    const auto json = to_json(first);
    if (first_name == "schedule")
      return adopt(triggers::parse_schedule(json, zones_), first, what, d);
    if (first_name == "webhook") return adopt(triggers::parse_webhook(json), first, what, d);
    auto event = triggers::parse_workflow_event(json);
    if (event) builtins_known(*event, first, what);
    return adopt(std::move(event), first, what, d);
  }

  template <typename Spec>
  bool adopt(tl::expected<Spec, triggers::FieldErrors> parsed, const YAML::Node& at,
             const std::string& what, TriggerDeclaration& d) {
    if (!parsed) {
      for (const auto& e : parsed.error())
        reader_.error(mark_at_pointer(at, e), what + ": " + e.message);
      return false;
    }
    d.source = std::move(*parsed);
    return true;
  }

  void builtins_known(const triggers::WorkflowEventSpec& event, const YAML::Node& at,
                      const std::string& what) {
    for (std::size_t i = 0; i < event.workflows.size(); ++i) {
      const std::string_view ref = event.workflows[i];
      if (!ref.starts_with(kBuiltinScheme)) continue;
      if (builtin_workflow(ref.substr(kBuiltinScheme.size())) != nullptr) continue;
      const triggers::FieldError place{"/workflows/" + std::to_string(i), "", false};
      reader_.error(mark_at_pointer(at, place),
                    what + ": workflows: there is no built-in workflow " + std::string(ref));
    }
  }

  void filter_at(const YAML::Node& filter, const std::string& what, bool schedule,
                 TriggerDeclaration& d) {
    if (schedule) {
      reader_.error(filter, what + ": filter: a schedule has no event to filter");
      return;
    }
    if (filter.IsScalar() && filter.Scalar().find("{{") != std::string::npos) {
      reader_.error(filter, what +
                                ": filter is a bare CEL expression: drop the {{ }} "
                                "(trigger.payload.action == 'opened', not "
                                "{{ trigger.payload.action == 'opened' }})");
      return;
    }
    d.filter = reader_.expression_at(filter, what + ": filter");
  }

  void inputs_at(const YAML::Node& inputs, const std::string& what, TriggerDeclaration& d) {
    if (!inputs.IsMap()) {
      reader_.error(inputs, what + ": inputs must be a map of input name to template");
      return;
    }
    for (const auto& entry : inputs) {
      const auto name = entry.first.Scalar();
      if (inputs_ != nullptr &&
          std::none_of(inputs_->begin(), inputs_->end(),
                       [&](const InputSpec& spec) { return spec.name == name; })) {
        reader_.error(entry.first, what + ": inputs: the workflow has no input \"" + name + "\"");
        continue;
      }
      d.inputs.emplace_back(name, reader_.tree_at(entry.second, what + ": inputs." + name));
    }
  }

  void prompt_at(const YAML::Node& prompt, const std::string& what, TriggerDeclaration& d) {
    if (!prompt.IsScalar()) {
      reader_.error(prompt, what + ": prompt must be text");
      return;
    }
    auto parsed = Template::parse(prompt.Scalar());
    if (!parsed) {
      reader_.template_error(prompt, what + ": prompt", parsed.error());
      return;
    }
    d.prompt = std::move(*parsed);
  }

  YamlReader& reader_;
  const std::vector<InputSpec>* inputs_;
  const cel::TimeZoneLoader& zones_;
};

}  // namespace

std::vector<TriggerDeclaration> read_triggers(const YAML::Node& block,
                                              const std::vector<InputSpec>* inputs,
                                              const cel::TimeZoneLoader& zones,
                                              YamlReader& reader) {
  std::vector<TriggerDeclaration> out;
  if (!block.IsSequence()) {
    reader.error(block, "triggers must be a list of triggers");
    return out;
  }
  if (block.size() > kTriggersMax) {
    reader.error(block, "a workflow has at most " + std::to_string(kTriggersMax) + " triggers");
    return out;
  }
  TriggerReader read(reader, inputs, zones);
  std::set<std::string, std::less<>> names;
  for (std::size_t i = 0; i < block.size(); ++i) {
    auto declaration = read.declaration_at(block[i], i);
    if (!declaration) continue;
    if (!declaration->name.empty() && !names.insert(declaration->name).second) {
      reader.error(child(block[i], "name"),
                   "trigger name \"" + declaration->name + "\" is used twice");
    }
    out.push_back(std::move(*declaration));
  }
  return out;
}

tl::expected<TriggerDeclaration, std::string> trigger_from_json(const nlohmann::json& raw,
                                                                const cel::TimeZoneLoader& zones) {
  YamlReader reader;
  std::optional<TriggerDeclaration> declaration;
  try {
    // JSON's text is YAML: the declaration reads as the loader read it.
    const auto text = raw.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    declaration = TriggerReader(reader, nullptr, zones).declaration_at(YAML::Load(text), 0);
  } catch (const YAML::Exception& e) {
    return tl::unexpected("YAML: " + e.msg);
  }
  if (!reader.errors.empty() || !declaration) {
    std::string out;
    for (const auto& e : reader.errors) out += (out.empty() ? "" : "; ") + e.message;
    return tl::unexpected(out);
  }
  return std::move(*declaration);
}

tl::expected<TriggerEvaluation, std::string> evaluate_trigger(const TriggerDeclaration& declaration,
                                                              const cel::Value& trigger,
                                                              const cel::EvalOptions& options) {
  cel::Activation variables;
  variables.bind("trigger", trigger);
  TriggerEvaluation out;
  if (declaration.filter) {
    auto holds = declaration.filter->evaluate(variables, options);
    if (!holds) return tl::unexpected("filter: " + with_has_hint(holds.error().message));
    if (!holds->is<bool>()) {
      return tl::unexpected("filter must give a bool, not " + std::string(holds->type_name()));
    }
    out.passes = *holds->get_if<bool>();
    if (!out.passes) return out;
  }
  for (const auto& [name, tree] : declaration.inputs) {
    auto value = evaluate(tree, variables, "inputs." + name, options);
    if (!value) {
      return tl::unexpected(value.error().where + ": " +
                            with_has_hint(value.error().error.message));
    }
    out.inputs[name] = cel::to_json(*value);
  }
  if (declaration.prompt) {
    auto value = declaration.prompt->evaluate(variables, options);
    if (!value) return tl::unexpected("prompt: " + with_has_hint(value.error().message));
    const auto* text = value->get_if<std::string>();
    out.prompt = text != nullptr ? *text : interpolated(*value);
  }
  return out;
}

}  // namespace reliant::workflow

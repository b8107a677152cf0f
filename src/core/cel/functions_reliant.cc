// Reliant's CEL extensions for workflow expressions: list.first() and list.last() (optionals, so
// an empty list gives optional.none() and `.orValue(x)` supplies a default), parseJson(),
// toJson(), getOrDefault() and spawn(workflow, presets) — the tool filter entry that offers the
// spawn tools for those presets ("spawn:builtin://agent(general,researcher)"), or "" (no entry,
// spawning off) when the list is empty. coalesce() evaluates its arguments lazily, so the evaluator
// has it; list.join() is the strings extension's, parseDuration() the time functions' (it is
// duration() by another name).
#include "base/json_parse.h"
#include "core/cel/functions.h"
#include "core/cel/messages.h"

namespace reliant::cel {
namespace {

std::optional<CallResult> end_of_list(const Args& args, bool method, bool first) {
  const ValueList* list = method && args.size() == 1 ? args[0].list() : nullptr;
  if (!list) return std::nullopt;
  if (list->empty()) return Value(Optional{});
  return Value(Optional{std::make_shared<const Value>(first ? list->front() : list->back())});
}

std::optional<CallResult> first(const Args& args, bool method, CallContext&) {
  return end_of_list(args, method, true);
}
std::optional<CallResult> last(const Args& args, bool method, CallContext&) {
  return end_of_list(args, method, false);
}

std::optional<CallResult> parse_json_value(const Args& args, bool method, CallContext& context) {
  const auto* text = !method && args.size() == 1 ? args[0].get_if<std::string>() : nullptr;
  if (!text) return std::nullopt;
  // A JSON value holds at most one element per two bytes: charged as a list of that many.
  if (!context.budget.charge(static_cast<std::int64_t>(text->size() / 2))) {
    return budget_exceeded();
  }
  auto json = parse_json(*text);
  if (!json) return fail("parseJson: " + json.error().message);
  return from_json(*json);
}

// Charges one step per element and entry at every depth, and the bytes of strings, before toJson
// prints anything: lists and maps are shared, so [a, a] nested 40 deep is small in memory but
// 2^40 elements as text.
bool charge_walk(const Value& value, Budget& budget) {
  if (const ValueList* list = value.list()) {
    if (!budget.charge(static_cast<std::int64_t>(list->size()))) return false;
    for (const Value& element : *list) {
      if (!charge_walk(element, budget)) return false;
    }
    return true;
  }
  if (const ValueMap* map = value.map()) {
    if (!budget.charge(static_cast<std::int64_t>(map->size()))) return false;
    for (const auto& [key, element] : map->entries()) {
      if (!charge_walk(key, budget) || !charge_walk(element, budget)) return false;
    }
    return true;
  }
  if (const auto* text = value.get_if<std::string>()) return budget.charge_bytes(text->size());
  if (const auto* bytes = value.get_if<Bytes>()) return budget.charge_bytes(bytes->octets.size());
  if (const auto* optional = value.get_if<Optional>()) {
    return !optional->value || charge_walk(*optional->value, budget);
  }
  if (const MessageValue* message = value.message()) {
    if (!budget.charge(static_cast<std::int64_t>(message->fields().size()))) return false;
    for (const auto& [field, element] : message->fields()) {
      if (!charge_walk(element, budget)) return false;
    }
    return true;
  }
  return true;
}

std::optional<CallResult> to_json_text(const Args& args, bool method, CallContext& context) {
  if (method || args.size() != 1) return std::nullopt;
  if (!charge_walk(args[0], context.budget)) return budget_exceeded();
  return Value(to_json(args[0]).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// getOrDefault(map, key, default) and map.getOrDefault(key, default).
std::optional<CallResult> get_or_default(const Args& args, bool, CallContext&) {
  const ValueMap* map = args.size() == 3 ? args[0].map() : nullptr;
  if (!map) return std::nullopt;
  const Value* found = map->find(args[1]);
  return found ? *found : args[2];
}

std::optional<CallResult> spawn_entry(const Args& args, bool method, CallContext& context) {
  const auto* workflow = !method && args.size() == 2 ? args[0].get_if<std::string>() : nullptr;
  const ValueList* presets = workflow ? args[1].list() : nullptr;
  if (!presets) return std::nullopt;
  if (presets->empty()) return Value(std::string());
  std::string names;
  for (const Value& preset : *presets) {
    const auto* name = preset.get_if<std::string>();
    if (!name) return fail("spawn: a preset is named by a string");
    if (!context.budget.charge_bytes(name->size() + 1)) return budget_exceeded();
    names += (names.empty() ? "" : ",") + *name;
  }
  return Value("spawn:" + *workflow + "(" + names + ")");
}

}  // namespace

void add_reliant_functions(FunctionTable& table) {
  add_function(table, "first", first);
  add_function(table, "last", last);
  add_function(table, "parseJson", parse_json_value);
  add_function(table, "toJson", to_json_text);
  add_function(table, "getOrDefault", get_or_default);
  add_function(table, "spawn", spawn_entry);
}

}  // namespace reliant::cel

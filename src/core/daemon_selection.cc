// Daemon selection: selector parsing and matching, the priority levels and the default cascade.
#include "core/daemon_selection.h"

#include <vector>

#include "base/assert.h"

namespace reliant {
namespace {

constexpr std::string_view kExpressionOpen = "{{";
constexpr std::string_view kExpressionClose = "}}";

std::string json_quoted(std::string_view text) { return Json(std::string(text)).dump(); }

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

bool is_whole_expression(std::string_view text) {
  const auto t = trim(text);
  return t.size() >= kExpressionOpen.size() + kExpressionClose.size() &&
         t.starts_with(kExpressionOpen) && t.ends_with(kExpressionClose);
}

constexpr EnumNames<DaemonTypeFilter, 3> kTypeFilterNames{{
    {DaemonTypeFilter::local, "local"},
    {DaemonTypeFilter::cloud, "cloud"},
    {DaemonTypeFilter::any, "any"},
}};

std::optional<DaemonTypeFilter> parse_type_filter(std::string_view text) {
  return value_named(kTypeFilterNames, text);
}

std::string_view type_filter_name(DaemonTypeFilter type) { return name_of(kTypeFilterNames, type); }

bool is_empty(const DaemonSelector& s) { return !s.id && !s.name && !s.type && s.labels.empty(); }

Result<std::string> parse_string_field(const Json& json, std::string_view key) {
  if (!json.is_string()) {
    return fail(ErrorCode::invalid_argument, "daemon selector key " + json_quoted(key) +
                                                 " must be a string, got " + json.type_name());
  }
  auto value = json.get<std::string>();
  if (value.empty()) {
    return fail(ErrorCode::invalid_argument,
                "daemon selector key " + json_quoted(key) + " must not be empty");
  }
  return value;
}

Result<DaemonSelector> parse_structured(const Json& json) {
  DaemonSelector selector;
  for (const auto& [key, value] : json.items()) {
    if (key == "id" || key == "name") {
      auto text = parse_string_field(value, key);
      if (!text) return fail(text.error());
      (key == "id" ? selector.id : selector.name) = std::move(*text);
    } else if (key == "type") {
      auto text = parse_string_field(value, key);
      if (!text) return fail(text.error());
      selector.type = parse_type_filter(*text);
      if (!selector.type) {
        return fail(
            ErrorCode::invalid_argument,
            "daemon selector key \"type\" must be local, cloud or any, got " + json_quoted(*text));
      }
    } else if (key == "labels") {
      if (!value.is_object()) {
        return fail(ErrorCode::invalid_argument,
                    std::string("daemon selector key \"labels\" must be an object, got ") +
                        value.type_name());
      }
      for (const auto& [label, label_value] : value.items()) {
        if (label.empty()) {
          return fail(ErrorCode::invalid_argument, "daemon selector label names must not be empty");
        }
        if (!label_value.is_string()) {
          return fail(ErrorCode::invalid_argument, "daemon selector label " + json_quoted(label) +
                                                       " must be a string, got " +
                                                       label_value.type_name());
        }
        selector.labels.emplace(label, label_value.get<std::string>());
      }
    } else {
      return fail(ErrorCode::invalid_argument, "daemon selector has unknown key " +
                                                   json_quoted(key) +
                                                   " (expected id, name, type or labels)");
    }
  }
  if (is_empty(selector)) {
    return fail(ErrorCode::invalid_argument,
                "daemon selector must specify at least one of id, name, type or labels");
  }
  return selector;
}

// True when `a` is a better choice than `b` among daemons matching the same rule.
bool preferred(const DaemonCandidate& a, const DaemonCandidate& b) {
  if (is_connected(a) != is_connected(b)) return is_connected(a);
  if (a.type != b.type) return a.type == DaemonType::local;
  if (a.connected_at_ms != b.connected_at_ms) return a.connected_at_ms > b.connected_at_ms;
  return a.id < b.id;
}

// The database fallback's notion of "first": the oldest, so the choice is stable over time.
bool older(const DaemonCandidate& a, const DaemonCandidate& b) {
  if (a.created_at_ms != b.created_at_ms) return a.created_at_ms < b.created_at_ms;
  return a.id < b.id;
}

using Owned = std::vector<const DaemonCandidate*>;

// The security boundary: nothing past this point sees another user's daemon.
Owned owned_by(std::string_view user_id, std::span<const DaemonCandidate> candidates) {
  Owned owned;
  for (const auto& c : candidates) {
    if (c.user_id == user_id) owned.push_back(&c);
  }
  return owned;
}

// The best of the daemons `keep` accepts by `better`, or null. Ties under `better` (only
// duplicates of one id) keep the first, which has the same id: the result is order-independent.
template <class Keep, class Better>
const DaemonCandidate* best(const Owned& owned, Keep keep, Better better) {
  const DaemonCandidate* chosen = nullptr;
  for (const auto* c : owned) {
    if (keep(*c) && (chosen == nullptr || better(*c, *chosen))) chosen = c;
  }
  return chosen;
}

const DaemonCandidate* find_id(const Owned& owned, std::string_view id) {
  return best(
      owned, [&](const DaemonCandidate& c) { return c.id == id; }, preferred);
}

std::string level_label(SelectionLevel level) {
  return level == SelectionLevel::node ? "node-level" : "workflow-level";
}

DaemonDecision decided(const DaemonCandidate& daemon, std::string_view user_id,
                       SelectionLevel level) {
  RELIANT_ASSERT(daemon.user_id == user_id);
  RELIANT_ASSERT(!daemon.id.empty());
  return DaemonDecision{daemon.id, level};
}

// A literal selector, or the one an expression evaluates to.
Result<DaemonSelector> literal_selector(SelectionLevel level, const SelectorSource& source,
                                        const ExpressionEvaluator* expressions) {
  if (const auto* selector = std::get_if<DaemonSelector>(&source)) return *selector;
  const auto prefix = level_label(level) + " daemon selector " + to_string(source);
  if (expressions == nullptr) {
    // Expressions are made literal where they are written (the interpreter, the chat service,
    // the CLI), with the variables they see; one reaching selection bare has none to see.
    return fail(ErrorCode::invalid_argument,
                prefix + " is an expression with nothing to evaluate it against here");
  }
  const auto value = expressions->evaluate(std::get<SelectorExpression>(source).text);
  if (!value) {
    return fail(value.error().code, prefix + " failed to evaluate: " + value.error().message);
  }
  auto selector = parse_daemon_selector(*value);
  if (!selector) {
    return fail(ErrorCode::invalid_argument,
                prefix + " evaluated to an invalid selector: " + selector.error().message);
  }
  return selector;
}

Result<DaemonDecision> select_by_selector(SelectionLevel level, const SelectorSource& source,
                                          std::string_view user_id, const Owned& owned,
                                          const ExpressionEvaluator* expressions) {
  const auto selector = literal_selector(level, source, expressions);
  if (!selector) return fail(selector.error());
  const auto* chosen = best(
      owned, [&](const DaemonCandidate& c) { return matches(*selector, c); }, preferred);
  if (chosen == nullptr) {
    std::string what = level_label(level) + " daemon selector " + to_string(source);
    if (std::holds_alternative<SelectorExpression>(source)) {
      what += " (evaluated to " + to_string(*selector) + ")";
    }
    return fail(ErrorCode::not_found, what + " matches no daemon of user " + std::string(user_id));
  }
  return decided(*chosen, user_id, level);
}

// Step (3) of the default cascade; `why` says what the earlier steps found.
Result<DaemonDecision> database_fallback(std::string_view user_id, const Owned& owned,
                                         const std::string& why, ErrorCode code_if_none) {
  const auto* chosen = best(
      owned, [](const DaemonCandidate& c) { return c.status == DaemonStatus::active; }, older);
  if (chosen == nullptr) {
    return fail(code_if_none, "user " + std::string(user_id) + " has no daemon to run on: " + why +
                                  ", none active");
  }
  return decided(*chosen, user_id, SelectionLevel::database);
}

}  // namespace

bool is_connected(const DaemonCandidate& daemon) noexcept {
  return daemon.status == DaemonStatus::active || daemon.status == DaemonStatus::idle;
}

Result<DaemonSelector> parse_daemon_selector(const Json& json) {
  if (json.is_object()) return parse_structured(json);
  if (!json.is_string()) {
    return fail(
        ErrorCode::invalid_argument,
        std::string("daemon selector must be a string or an object, got ") + json.type_name());
  }
  const auto& text = json.get_ref<const std::string&>();
  if (text.empty()) return fail(ErrorCode::invalid_argument, "daemon selector must not be empty");
  // Otherwise "{{ inputs.x }}" would silently become the name of a daemon nobody has.
  if (text.find(kExpressionOpen) != std::string::npos) {
    return fail(ErrorCode::invalid_argument, "daemon selector " + json_quoted(text) +
                                                 " is an expression, not a literal selector");
  }
  DaemonSelector selector;
  selector.type = parse_type_filter(text);
  if (!selector.type) selector.name = text;
  return selector;
}

Json to_json(const DaemonSelector& selector) {
  RELIANT_ASSERT(!is_empty(selector));
  const bool only_type = selector.type && !selector.id && !selector.name && selector.labels.empty();
  if (only_type) return std::string(type_filter_name(*selector.type));
  const bool only_name = selector.name && !selector.id && !selector.type && selector.labels.empty();
  // A name that reads as a keyword or an expression only survives a round trip as an object.
  if (only_name && !parse_type_filter(*selector.name) && !selector.name->empty() &&
      selector.name->find(kExpressionOpen) == std::string::npos) {
    return *selector.name;
  }
  Json json = Json::object();
  if (selector.id) json["id"] = *selector.id;
  if (selector.name) json["name"] = *selector.name;
  if (selector.type) json["type"] = std::string(type_filter_name(*selector.type));
  if (!selector.labels.empty()) json["labels"] = selector.labels;
  return json;
}

std::string to_string(const DaemonSelector& selector) { return to_json(selector).dump(); }

bool matches(const DaemonSelector& selector, const DaemonCandidate& daemon) {
  RELIANT_ASSERT(!is_empty(selector));
  if (selector.id && *selector.id != daemon.id) return false;
  if (selector.name && *selector.name != daemon.name) return false;
  if (selector.type && *selector.type != DaemonTypeFilter::any &&
      (*selector.type == DaemonTypeFilter::local) != (daemon.type == DaemonType::local)) {
    return false;
  }
  for (const auto& [key, value] : selector.labels) {
    const auto found = daemon.labels.find(key);
    if (found == daemon.labels.end() || found->second != value) return false;
  }
  return true;
}

Result<SelectorSource> parse_selector_source(const Json& json) {
  if (json.is_string()) {
    const auto& text = json.get_ref<const std::string&>();
    if (is_whole_expression(text)) {
      auto inner = trim(text);
      inner = trim(inner.substr(kExpressionOpen.size(),
                                inner.size() - kExpressionOpen.size() - kExpressionClose.size()));
      if (inner.empty()) {
        return fail(ErrorCode::invalid_argument,
                    "daemon selector expression " + json_quoted(text) + " is empty");
      }
      return SelectorExpression{std::string(inner)};
    }
    if (text.find(kExpressionOpen) != std::string::npos) {
      return fail(ErrorCode::invalid_argument,
                  "daemon selector " + json_quoted(text) +
                      " mixes text and an expression; an expression must be the whole string");
    }
  }
  auto selector = parse_daemon_selector(json);
  if (!selector) return fail(selector.error());
  return SelectorSource(std::move(*selector));
}

std::string to_string(const SelectorSource& source) {
  if (const auto* selector = std::get_if<DaemonSelector>(&source)) return to_string(*selector);
  return json_quoted("{{ " + std::get<SelectorExpression>(source).text + " }}");
}

std::string_view to_string(SelectionLevel level) noexcept {
  switch (level) {
    case SelectionLevel::node:
      return "node";
    case SelectionLevel::workflow:
      return "workflow";
    case SelectionLevel::session:
      return "session";
    case SelectionLevel::connected:
      return "connected";
    case SelectionLevel::control_plane:
      return "control_plane";
    case SelectionLevel::database:
      return "database";
  }
  return "unknown";
}

Result<SelectionStep> select_daemon(const SelectionRequest& request,
                                    std::span<const DaemonCandidate> candidates,
                                    const ExpressionEvaluator* expressions) {
  RELIANT_ASSERT(!request.user_id.empty());
  const auto& user = request.user_id;
  const Owned owned = owned_by(user, candidates);
  const auto as_step = [](DaemonDecision d) { return SelectionStep(std::move(d)); };

  if (request.node_selector) {
    return select_by_selector(SelectionLevel::node, *request.node_selector, user, owned,
                              expressions)
        .map(as_step);
  }
  if (request.workflow_selector) {
    return select_by_selector(SelectionLevel::workflow, *request.workflow_selector, user, owned,
                              expressions)
        .map(as_step);
  }
  if (request.session_daemon_id) {
    const auto& id = *request.session_daemon_id;
    if (id.empty()) return fail(ErrorCode::invalid_argument, "session daemon id is empty");
    // Another user's daemon gets the same answer as a missing one: no existence leaks.
    const auto* chosen = find_id(owned, id);
    if (chosen == nullptr) {
      return fail(ErrorCode::not_found,
                  "session daemon " + json_quoted(id) + " is not a daemon of user " + user);
    }
    return SelectionStep(decided(*chosen, user, SelectionLevel::session));
  }

  if (const auto* chosen = best(owned, is_connected, preferred)) {
    return SelectionStep(decided(*chosen, user, SelectionLevel::connected));
  }
  if (request.control_plane_configured) return SelectionStep(NeedsControlPlane{user});
  return database_fallback(user, owned, "none connected", ErrorCode::not_found).map(as_step);
}

Result<DaemonDecision> finish_daemon_selection(
    const SelectionRequest& request, std::span<const DaemonCandidate> candidates,
    const Result<std::optional<std::string>>& control_plane_answer) {
  // Only the default cascade asks the control plane.
  RELIANT_ASSERT(!request.user_id.empty());
  RELIANT_ASSERT(request.control_plane_configured);
  RELIANT_ASSERT(!request.node_selector && !request.workflow_selector &&
                 !request.session_daemon_id);
  const auto& user = request.user_id;
  const Owned owned = owned_by(user, candidates);

  std::string why = "none connected, ";
  ErrorCode code_if_none = ErrorCode::not_found;
  if (!control_plane_answer) {
    // The database may still have an answer; the control plane's failure only decides the
    // code when it does not, so a retry is suggested when one could help.
    why += "the control plane failed (" + control_plane_answer.error().describe() + ")";
    code_if_none = control_plane_answer.error().code;
  } else if (!control_plane_answer->has_value()) {
    why += "the control plane had none";
  } else if (const auto* chosen = find_id(owned, **control_plane_answer)) {
    return decided(*chosen, user, SelectionLevel::control_plane);
  } else {
    // Never trust an id we cannot tie to this user (a stale read, or a control plane bug).
    why += "the control plane named " + json_quoted(**control_plane_answer) +
           ", which is not one of theirs";
  }
  return database_fallback(user, owned, why, code_if_none);
}

}  // namespace reliant

// Daemon selection: which of a user's daemons runs a node, a workflow or a chat session. Pure
// logic: the caller reads the candidates (and asks the control plane when told to) and passes
// the answers in; nothing here does I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "core/daemon_status.h"
#include "runtime/task.h"

namespace reliant {

using Json = nlohmann::json;

// A daemon as the store knows it. The list passed to selection may hold other users' daemons;
// they are filtered out before anything else looks at them.
struct DaemonCandidate {
  std::string id;
  std::string user_id;
  std::string name;
  DaemonType type = DaemonType::local;
  std::map<std::string, std::string> labels;
  DaemonStatus status = DaemonStatus::disconnected;
  std::int64_t connected_at_ms = 0;  // when it last connected to a gateway
  std::int64_t created_at_ms = 0;
};

// Active or idle: currently connected to some gateway.
bool is_connected(const DaemonCandidate& daemon) noexcept;

// --- selectors -----------------------------------------------------------------------------

enum class DaemonTypeFilter { local, cloud, any };

// Every field that is set must match (AND); `labels` must all be present on the daemon with the
// same value (subset match). A selector with no field set is invalid: parsing rejects it.
struct DaemonSelector {
  std::optional<std::string> id;
  std::optional<std::string> name;
  std::optional<DaemonTypeFilter> type;
  std::map<std::string, std::string> labels;

  bool operator==(const DaemonSelector&) const = default;
};

// A string is a shorthand: "local", "cloud" and "any" select by type, anything else by name. An
// object is structured: keys id, name (non-empty strings), type ("local" | "cloud" | "any") and
// labels (object of strings). Errors (invalid_argument) name the offending key. A string holding
// "{{" is an expression, which a literal selector cannot be (see parse_selector_source).
Result<DaemonSelector> parse_daemon_selector(const Json& json);
// The JSON form parse_daemon_selector accepts back: the shorthand when it says the same thing,
// else an object.
Json to_json(const DaemonSelector& selector);
// For messages: to_json(selector).dump(), e.g. "gpu-box" or {"labels":{"gpu":"a100"}}.
std::string to_string(const DaemonSelector& selector);
// Field matching only; ownership is checked by select_daemon. `selector` must not be empty.
bool matches(const DaemonSelector& selector, const DaemonCandidate& daemon);

// --- the seam for computed selectors (CEL, later) ------------------------------------------

// "{{ inputs.daemon_type }}": `text` is what is between the braces, trimmed.
struct SelectorExpression {
  std::string text;

  bool operator==(const SelectorExpression&) const = default;
};

// Where a node's or workflow's selector comes from: written literally or computed at run time.
using SelectorSource = std::variant<DaemonSelector, SelectorExpression>;

// A string that is wholly "{{ ... }}" is an expression; a string that only contains "{{" is an
// error (no interpolation); anything else is parsed by parse_daemon_selector.
Result<SelectorSource> parse_selector_source(const Json& json);
std::string to_string(const SelectorSource& source);

// Evaluates selector expressions in the context of one run (its inputs, ...):
// workflow::CelSelectorExpressions. Callers usually make a selector literal before selection
// (workflow::literal_selector); without an evaluator, selection fails on an expression.
class ExpressionEvaluator {
 public:
  virtual ~ExpressionEvaluator() = default;
  // The selector's JSON form (a string or an object, parsed as parse_daemon_selector does).
  // An error is reported to the caller of select_daemon with its code kept.
  virtual Result<Json> evaluate(std::string_view expression) const = 0;
};

// --- selection -----------------------------------------------------------------------------

// Which rule decided. The first four are the priority levels, highest first; the last three are
// the steps of the default cascade.
enum class SelectionLevel { node, workflow, session, connected, control_plane, database };
std::string_view to_string(SelectionLevel level) noexcept;

struct SelectionRequest {
  std::string user_id;  // must not be empty: only this user's daemons can be chosen
  std::optional<SelectorSource> node_selector;
  std::optional<SelectorSource> workflow_selector;
  std::optional<std::string> session_daemon_id;  // the chat's active_daemon_id
  bool control_plane_configured = false;
};

struct DaemonDecision {
  std::string daemon_id;
  SelectionLevel level;

  bool operator==(const DaemonDecision&) const = default;
};

// The default cascade needs the control plane's answer: ask it (ControlPlaneResolver) for
// `user_id`, then call finish_daemon_selection with the answer.
struct NeedsControlPlane {
  std::string user_id;

  bool operator==(const NeedsControlPlane&) const = default;
};

using SelectionStep = std::variant<DaemonDecision, NeedsControlPlane>;

// The first level that is set decides: node selector, workflow selector, session daemon (exact
// id), else the default cascade. A set level that matches none of the user's daemons is an
// error (not_found) naming the level and selector; it does not fall through to a lower level,
// because an explicit choice that cannot be honoured must not silently run somewhere else.
// Several matches: connected first, then local over cloud, then the most recently connected,
// then the smallest id. A disconnected daemon can be chosen explicitly.
// The default cascade: (1) the user's connected daemons, ordered local over cloud, then most
// recently connected, then id; (2) when none and a control plane is configured:
// NeedsControlPlane; (3) else the database fallback (see finish_daemon_selection).
// The result does not depend on the order of `candidates`.
Result<SelectionStep> select_daemon(const SelectionRequest& request,
                                    std::span<const DaemonCandidate> candidates,
                                    const ExpressionEvaluator* expressions = nullptr);

// Completes the default cascade after select_daemon returned NeedsControlPlane. An answer naming
// one of the user's daemons in `candidates` wins (even a disconnected one: the control plane may
// be starting it). No answer, a failed call or an id that is not the user's falls through to
// (3): the user's daemons with status active, oldest created_at_ms first, then id. Nothing there
// either: not_found, or the control plane's error code when the call failed. `candidates` may
// be read afresh after the call, so a daemon that appeared meanwhile is seen.
Result<DaemonDecision> finish_daemon_selection(
    const SelectionRequest& request, std::span<const DaemonCandidate> candidates,
    const Result<std::optional<std::string>>& control_plane_answer);

// The control plane's view of a user's default daemon (it may know of, or start, a cloud one).
class ControlPlaneResolver {
 public:
  virtual ~ControlPlaneResolver() = default;
  // The daemon to use for `user_id`, nullopt when it has none; an error when it cannot be asked.
  virtual Task<Result<std::optional<std::string>>> default_daemon(std::string user_id) = 0;
};

}  // namespace reliant

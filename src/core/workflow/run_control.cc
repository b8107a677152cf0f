// A run's control requests and the state they fold into (run_control.h).
#include "core/workflow/run_control.h"

#include <algorithm>
#include <array>
#include <utility>

#include "base/assert.h"

namespace reliant::workflow {
namespace {

using Json = nlohmann::json;

constexpr std::array<std::pair<ControlAction, std::string_view>, 6> kControlActionNames = {{
    {ControlAction::pause, "pause"},
    {ControlAction::resume, "resume"},
    {ControlAction::retry, "retry"},
    {ControlAction::skip, "skip"},
    {ControlAction::fail, "fail"},
    {ControlAction::set_input, "set_input"},
}};

Error control_error(std::string message) {
  return Error{ErrorCode::invalid_argument, "run control: " + std::move(message)};
}

// The keys each action takes beside `action`.
std::vector<std::string_view> control_keys(ControlAction action) {
  switch (action) {
    case ControlAction::pause:
    case ControlAction::resume:
      return {};
    case ControlAction::retry:
      return {"key", "args"};
    case ControlAction::skip:
      return {"key", "output"};
    case ControlAction::fail:
      return {"key"};
    case ControlAction::set_input:
      return {"name", "value"};
  }
  return {};
}

}  // namespace

std::string_view to_string(ControlAction action) noexcept {
  for (const auto& [value, name] : kControlActionNames) {
    if (value == action) return name;
  }
  return "?";
}

std::optional<ControlAction> control_action_named(std::string_view name) noexcept {
  for (const auto& [value, text] : kControlActionNames) {
    if (text == name) return value;
  }
  return std::nullopt;
}

Json to_json(const ControlRequest& request) {
  Json out{{"action", std::string(to_string(request.action))}};
  switch (request.action) {
    case ControlAction::pause:
    case ControlAction::resume:
      break;
    case ControlAction::retry:
      out["key"] = request.key;
      if (!request.args.empty()) out["args"] = request.args;
      break;
    case ControlAction::skip:
      out["key"] = request.key;
      out["output"] = request.output;
      break;
    case ControlAction::fail:
      out["key"] = request.key;
      break;
    case ControlAction::set_input:
      out["name"] = request.name;
      out["value"] = request.value;
      break;
  }
  return out;
}

Result<ControlRequest> control_request_from_json(const Json& json) {
  if (!json.is_object()) return fail(control_error("expected an object"));
  const auto action_field = json.find("action");
  if (action_field == json.end() || !action_field->is_string()) {
    return fail(
        control_error("\"action\" must be one of pause, resume, retry, skip, fail, "
                      "set_input"));
  }
  const auto action = control_action_named(action_field->get<std::string>());
  if (!action) {
    return fail(control_error("unknown action '" + action_field->get<std::string>() +
                              "' (pause, resume, retry, skip, fail, set_input)"));
  }
  const auto allowed = control_keys(*action);
  for (const auto& [name, value] : json.items()) {
    if (name == "action") continue;
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      return fail(
          control_error("'" + name + "' is not a key of " + std::string(to_string(*action))));
    }
  }
  ControlRequest request;
  request.action = *action;
  if (const auto key = json.find("key"); key != json.end()) {
    if (!key->is_string()) return fail(control_error("\"key\" must be a string"));
    request.key = key->get<std::string>();
  }
  if (const auto args = json.find("args"); args != json.end()) {
    if (!args->is_object()) return fail(control_error("\"args\" must be an object"));
    request.args = *args;
  }
  if (const auto output = json.find("output"); output != json.end()) {
    if (!output->is_object()) return fail(control_error("\"output\" must be an object"));
    request.output = *output;
  }
  if (*action == ControlAction::set_input) {
    const auto name = json.find("name");
    if (name == json.end() || !name->is_string() || name->get<std::string>().empty()) {
      return fail(control_error("set_input needs \"name\", the input to change"));
    }
    if (!json.contains("value")) return fail(control_error("set_input needs \"value\""));
    request.name = name->get<std::string>();
    request.value = json.at("value");
  }
  return request;
}

int RunControl::retry_number(const std::string& key) const {
  const auto found = retries_.find(key);
  return found == retries_.end() ? 0 : found->second.number;
}

std::vector<std::string> RunControl::resume() {
  paused_by_user_ = false;
  std::vector<std::string> retried;
  for (auto& [key, step] : held_) retried.push_back(key);
  held_.clear();
  for (const auto& key : retried) retry(key, Json::object());
  return retried;
}

bool RunControl::release(const std::string& key) { return held_.erase(key) > 0; }

void RunControl::retry(const std::string& key, Json args) {
  RELIANT_ASSERT(!held_.contains(key));  // released first: a held step is not also retried
  RetryRequest& request = retries_[key];
  ++request.number;
  request.args = args.is_object() ? std::move(args) : Json::object();
}

}  // namespace reliant::workflow

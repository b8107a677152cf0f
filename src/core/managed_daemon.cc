// Managed daemons: the spec's JSON form, the platform preflight and one round's decision.
#include "core/managed_daemon.h"

#include <algorithm>

#include "base/assert.h"
#include "core/variable_name.h"

namespace reliant {
namespace {

using Json = nlohmann::json;

Error invalid(std::string message) { return {ErrorCode::invalid_argument, std::move(message)}; }

template <typename Enum, std::size_t N>
std::string choices(const EnumNames<Enum, N>& names) {
  std::string out;
  for (const auto& entry : names) out += (out.empty() ? "" : ", ") + std::string(entry.name);
  return out;
}

// Lowercase letters, digits and '-', starting with a letter and not ending with '-': the name
// becomes a Kubernetes object's and a directory's.
bool is_dns_label(std::string_view name) {
  if (name.empty() || name.size() > kManagedDaemonNameBytesMax) return false;
  if (name.front() < 'a' || name.front() > 'z' || name.back() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

Result<std::map<std::string, std::string>> string_map(const Json& json, std::string_view field) {
  std::map<std::string, std::string> out;
  if (json.is_null()) return out;
  if (!json.is_object()) return fail(invalid(std::string(field) + " must be a map of strings"));
  if (json.size() > kSpecEntriesMax) {
    return fail(invalid(std::string(field) + " has " + std::to_string(json.size()) +
                        " entries; the limit is " + std::to_string(kSpecEntriesMax)));
  }
  for (const auto& [key, value] : json.items()) {
    if (!value.is_string()) {
      return fail(invalid(std::string(field) + "." + key + " must be a string"));
    }
    out[key] = value.get<std::string>();
  }
  return out;
}

Result<DaemonCode> code_from(const Json& json) {
  DaemonCode code;
  if (json.is_null()) return code;
  if (!json.is_object()) return fail(invalid("code must be a map: {binary: PATH} or {image: REF}"));
  for (const auto& [key, value] : json.items()) {
    if (key != "binary" && key != "image" && key != "type") {
      return fail(invalid("code has no field \"" + key + "\" (binary, image)"));
    }
    if (!value.is_string()) return fail(invalid("code." + key + " must be a string"));
  }
  code.binary = json.value("binary", "");
  code.image = json.value("image", "");
  if (!code.binary.empty() && !code.image.empty()) {
    return fail(invalid("code names both a binary and an image; give one"));
  }
  return code;
}

constexpr std::string_view kSpecKeys[] = {"name",        "platform",         "code",
                                          "env",         "labels",           "links",
                                          "permissions", "commands_enabled", "always_on"};

}  // namespace

Result<ManagedDaemonSpec> parse_managed_daemon_spec(const Json& json) {
  if (!json.is_object()) return fail(invalid("a daemon spec must be a map"));
  for (const auto& [key, value] : json.items()) {
    if (std::find(std::begin(kSpecKeys), std::end(kSpecKeys), key) == std::end(kSpecKeys)) {
      std::string known;
      for (const auto k : kSpecKeys) known += (known.empty() ? "" : ", ") + std::string(k);
      return fail(invalid("a daemon spec has no field \"" + key + "\" (" + known + ")"));
    }
  }
  ManagedDaemonSpec spec;
  const Json name = json.value("name", Json());
  if (!name.is_string() || !is_dns_label(name.get<std::string>())) {
    return fail(invalid("name must be 1 to " + std::to_string(kManagedDaemonNameBytesMax) +
                        " lowercase letters, digits and '-', starting with a letter, e.g. "
                        "\"cloud-box\""));
  }
  spec.name = name.get<std::string>();
  const Json platform = json.value("platform", Json("local"));
  const auto named = platform.is_string()
                         ? value_named(kDaemonPlatformNames, platform.get<std::string>())
                         : std::nullopt;
  if (!named) {
    return fail(invalid("unknown platform " + platform.dump() + " (" +
                        choices(kDaemonPlatformNames) + ")"));
  }
  spec.platform = *named;
  auto code = code_from(json.value("code", Json()));
  if (!code) return fail(code.error());
  spec.code = std::move(*code);
  auto env = string_map(json.value("env", Json()), "env");
  if (!env) return fail(env.error());
  for (const auto& [key, value] : *env) {
    if (!is_variable_name(key)) return fail(invalid("env: \"" + key + "\" is not a variable name"));
    // An environment entry ends at its first NUL: the daemon would see a shorter value.
    if (value.find('\0') != std::string::npos) {
      return fail(invalid("env." + key + " holds a NUL byte"));
    }
  }
  spec.env = std::move(*env);
  auto labels = string_map(json.value("labels", Json()), "labels");
  if (!labels) return fail(labels.error());
  spec.labels = std::move(*labels);
  const Json links = json.value("links", Json::array());
  if (!links.is_array() || links.size() > kSpecEntriesMax ||
      !std::all_of(links.begin(), links.end(),
                   [](const Json& l) { return l.is_string() && !l.get<std::string>().empty(); })) {
    return fail(invalid("links must be a list of at most " + std::to_string(kSpecEntriesMax) +
                        " project ids or paths"));
  }
  for (const auto& link : links) spec.links.push_back(link.get<std::string>());
  const Json permissions = json.value("permissions", Json());
  if (permissions.is_null()) {
    return fail(invalid("permissions is required: a permission profile (" +
                        choices(kPermissionProfileNames) + ")"));
  }
  spec.permissions = permissions.is_string()
                         ? value_named(kPermissionProfileNames, permissions.get<std::string>())
                         : std::nullopt;
  if (!spec.permissions) {
    return fail(invalid("unknown permission profile " + permissions.dump() + " (" +
                        choices(kPermissionProfileNames) + ")"));
  }
  for (auto [key, into] : {std::pair{"commands_enabled", &spec.commands_enabled},
                           std::pair{"always_on", &spec.always_on}}) {
    const Json flag = json.value(key, Json(false));
    if (!flag.is_boolean()) return fail(invalid(std::string(key) + " must be true or false"));
    *into = flag.get<bool>();
  }
  return spec;
}

Json to_json(const ManagedDaemonSpec& spec) {
  Json out = {{"name", spec.name},
              {"platform", spec.platform},
              {"env", spec.env},
              {"labels", spec.labels},
              {"links", spec.links},
              {"commands_enabled", spec.commands_enabled},
              {"always_on", spec.always_on}};
  if (spec.permissions) out["permissions"] = *spec.permissions;
  Json code = Json::object();
  if (!spec.code.binary.empty()) code["binary"] = spec.code.binary;
  if (!spec.code.image.empty()) code["image"] = spec.code.image;
  out["code"] = std::move(code);
  return out;
}

Result<void> preflight_platform(DaemonPlatform platform,
                                const std::vector<DaemonPlatform>& supported) {
  if (std::find(supported.begin(), supported.end(), platform) != supported.end()) return {};
  std::string names;
  for (const auto p : supported)
    names += (names.empty() ? "" : ", ") + std::string(name_of(kDaemonPlatformNames, p));
  const bool provider = platform == DaemonPlatform::aws || platform == DaemonPlatform::gcp ||
                        platform == DaemonPlatform::azure;
  return fail(ErrorCode::failed_precondition,
              "platform " + std::string(name_of(kDaemonPlatformNames, platform)) +
                  (provider ? " is not supported yet (no provider was called)"
                            : " is not configured on this control plane") +
                  "; daemons run on: " + (names.empty() ? "none" : names));
}

RoundAction decide_round(const DaemonRound& r) {
  switch (r.desired) {
    case DesiredState::deleted:
      return RoundAction::remove;
    case DesiredState::suspended:
      if (r.presence == PodState::running || r.presence == PodState::starting ||
          r.observed != ObservedState::suspended) {
        return RoundAction::suspend;
      }
      return RoundAction::none;
    case DesiredState::running:
      break;
  }
  if (r.presence == PodState::running) {
    // Idle only once reachable and with no stored call waiting for it: a pod still waiting for
    // a gateway to dial it may be what a call woke, its wake-up may have taken longer than
    // suspend_after, and a call may not have reached it yet.
    const bool idle = !r.always_on && r.connected && r.suspend_after > Duration::zero() &&
                      r.now_ms >= r.requests_wait_until_ms &&
                      r.now_ms - r.last_activity_at_ms >= to_ms(r.suspend_after);
    if (idle) return RoundAction::suspend_idle;
    return r.connected ? RoundAction::none : RoundAction::connect;
  }
  if (r.presence == PodState::starting) return RoundAction::none;
  // Absent or exited. One that was running is recorded first, so that its restart waits.
  if (r.observed == ObservedState::running) return RoundAction::note_exit;
  if (r.now_ms < r.next_attempt_at_ms) return RoundAction::wait;
  return RoundAction::start;
}

std::string_view to_string(RoundAction action) noexcept {
  switch (action) {
    case RoundAction::none:
      return "none";
    case RoundAction::start:
      return "start";
    case RoundAction::connect:
      return "connect";
    case RoundAction::wait:
      return "wait";
    case RoundAction::suspend:
      return "suspend";
    case RoundAction::suspend_idle:
      return "suspend_idle";
    case RoundAction::remove:
      return "remove";
    case RoundAction::note_exit:
      return "note_exit";
  }
  return "?";
}

Duration restart_delay(std::int64_t restarts) {
  RELIANT_ASSERT(restarts >= 0);
  constexpr std::int64_t kMaxMs = 5 * 60 * 1000;
  std::int64_t delay_ms = 1000;
  for (std::int64_t i = 0; i < restarts && delay_ms < kMaxMs; ++i) delay_ms *= 2;
  return milliseconds(std::min(delay_ms, kMaxMs));
}

}  // namespace reliant

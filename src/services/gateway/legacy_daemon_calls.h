// Typed daemon calls for a daemon of protocol 0, the previous release's, which answers JSON verbs
// only (Register.protocol_version absent). The gateway holding such a daemon sends it a typed
// call's verb and turns the verb's answer into the method's response, so a server upgraded
// before its users' daemons still serves them. Kept for one release: it goes when protocol 0
// does, and no method added after protocol 1 is ever here (the daemon lacking it answers
// `unimplemented`).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "reliant/daemon/v1/daemon.pb.h"

namespace reliant::gateway {

struct LegacyCall {
  using Respond = std::function<std::string(const nlohmann::json&)>;
  std::string command;  // the verb
  nlohmann::json args = nlohmann::json::object();
  Respond respond;  // the verb's JSON answer as the method's response bytes
};

// `unimplemented` for a method protocol 0 never had; invalid_argument for a request that does not
// decode.
Result<LegacyCall> legacy_call(std::string_view method, const std::string& request);
bool has_legacy_call(std::string_view method);
std::vector<std::string> legacy_methods();  // sorted
// The verb's answer as the typed call's: `response` from its JSON when ok, else error_code from
// the refusal's {"code"}.
daemon::v1::DaemonCommandResult legacy_answer(daemon::v1::DaemonCommandResult verb_answer,
                                              const LegacyCall::Respond& respond);

}  // namespace reliant::gateway

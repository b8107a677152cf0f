// Commands' arguments checked once, where they enter (REST, gRPC, the CLI share the API), so
// the daemon's handlers read only well-formed ones.
#include "core/queued_command.h"

#include <algorithm>

#include "base/sha256.h"
#include "core/personal_access_token.h"
#include "runtime/ids.h"

namespace reliant {
namespace {

std::string known_commands() {
  std::string out;
  for (const auto& entry : kCommandNames) {
    if (!out.empty()) out += ", ";
    out += entry.name;
  }
  return out;
}

Result<void> only_keys(const nlohmann::json& args, std::string_view command,
                       std::initializer_list<std::string_view> keys) {
  for (const auto& [key, value] : args.items()) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      return fail(ErrorCode::invalid_argument,
                  "args." + key + ": " + std::string(command) + " takes no such argument");
    }
  }
  return {};
}

Result<Duration> tool_timeout(const nlohmann::json& args) {
  if (!args.contains("timeout_s")) return Duration(kCommandToolTimeoutDefault);
  const auto& value = args["timeout_s"];
  const double max_s =
      static_cast<double>(std::chrono::duration_cast<seconds>(kCommandToolTimeoutMax).count());
  if (!value.is_number() || value.get<double>() <= 0 || value.get<double>() > max_s) {
    return fail(ErrorCode::invalid_argument, "args.timeout_s: a number of seconds in (0, " +
                                                 std::to_string(static_cast<int>(max_s)) + "]");
  }
  return Duration(milliseconds(static_cast<std::int64_t>(value.get<double>() * 1000)));
}

}  // namespace

Result<CommandRequest> parse_command_request(std::string_view name, const nlohmann::json& args) {
  const auto command = value_named(kCommandNames, name);
  if (!command) {
    return fail(ErrorCode::invalid_argument,
                "unknown command \"" + std::string(name) + "\" (" + known_commands() + ")");
  }
  CommandRequest out;
  out.name = *command;
  if (!args.is_null()) {
    if (!args.is_object())
      return fail(ErrorCode::invalid_argument,
                  "args: a JSON object, not " + std::string(args.type_name()));
    if (args.dump().size() > kCommandArgsBytesMax) {
      return fail(ErrorCode::invalid_argument,
                  "args: longer than " + std::to_string(kCommandArgsBytesMax) + " bytes");
    }
    out.args = args;
  }
  switch (out.name) {
    case CommandName::reload:
    case CommandName::restart:
      if (auto keys = only_keys(out.args, name, {}); !keys) return fail(keys.error());
      return out;
    case CommandName::run_tool:
      break;
  }
  if (auto keys = only_keys(out.args, name, {"tool", "input", "timeout_s"}); !keys)
    return fail(keys.error());
  if (!out.args.contains("tool") || !out.args["tool"].is_string() ||
      out.args["tool"].get<std::string>().empty()) {
    return fail(ErrorCode::invalid_argument, "args.tool: run_tool needs the tool's name");
  }
  if (!out.args.contains("input")) out.args["input"] = nlohmann::json::object();
  if (!out.args["input"].is_object()) {
    return fail(ErrorCode::invalid_argument, "args.input: the tool's input, a JSON object");
  }
  auto timeout = tool_timeout(out.args);
  if (!timeout) return fail(timeout.error());
  out.run_time_max = *timeout;
  return out;
}

std::string format_command_token(std::string_view daemon_id,
                                 const std::array<std::uint8_t, kCommandTokenRandomBytes>& bytes) {
  return std::string(kCommandTokenPrefix) + std::string(daemon_id) + "." + secret_base62(bytes);
}

std::optional<std::string> command_token_daemon(std::string_view token) {
  if (!token.starts_with(kCommandTokenPrefix)) return std::nullopt;
  const std::string_view rest = token.substr(kCommandTokenPrefix.size());
  const auto dot = rest.find('.');
  if (dot == std::string_view::npos || rest.size() - dot - 1 != 43) return std::nullopt;
  std::string daemon_id(rest.substr(0, dot));
  if (!is_valid_id(daemon_id)) return std::nullopt;
  return daemon_id;
}

std::string hash_command_token(std::string_view token) { return to_hex(Sha256::of(token)); }

}  // namespace reliant

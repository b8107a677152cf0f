// The Commands protocol's vocabulary (seed 004: a daemon with commands enabled polls its manager
// for work and dispatches it to registered handlers): which commands exist and what their
// arguments must be, the states a queued command goes through, the bounds on the queue, and the
// token a daemon polls with. Pure; the queue is services/storage/daemon_commands.h, its API
// services/control_plane/command_queue.h, the daemon's side services/daemon/command_poller.h.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/enum_names.h"
#include "base/result.h"
#include "base/time.h"

namespace reliant {

// `reload`: the daemon reads its configuration again (its MCP servers: changed ones restart).
// `restart`: the daemon's process replaces itself with a fresh one (its sessions end, its
// gateway dials it again). `run_tool`: one tool call, {tool, input, timeout_s?}, as a model would
// make it.
enum class CommandName { reload, restart, run_tool };
inline constexpr EnumNames<CommandName, 3> kCommandNames{{
    {CommandName::reload, "reload"},
    {CommandName::restart, "restart"},
    {CommandName::run_tool, "run_tool"},
}};
RELIANT_JSON_BY_NAME(CommandName, kCommandNames)

// queued → delivered (handed to the daemon; handed again once its lease ran out) → succeeded or
// failed. A command handed out kCommandDeliveriesMax times without an answer fails.
enum class CommandState { queued, delivered, succeeded, failed };
inline constexpr EnumNames<CommandState, 4> kCommandStateNames{{
    {CommandState::queued, "queued"},
    {CommandState::delivered, "delivered"},
    {CommandState::succeeded, "succeeded"},
    {CommandState::failed, "failed"},
}};
RELIANT_JSON_BY_NAME(CommandState, kCommandStateNames)

inline bool command_ended(CommandState state) {
  return state == CommandState::succeeded || state == CommandState::failed;
}

inline constexpr std::size_t kCommandArgsBytesMax = 64 * 1024;
inline constexpr std::size_t kCommandResultBytesMax = 256 * 1024;  // longer results are cut
inline constexpr std::size_t kCommandsPendingPerDaemonMax = 256;   // queued or delivered
inline constexpr std::size_t kCommandsKeptPerDaemonMax = 100;      // ended ones, newest kept
inline constexpr std::int64_t kCommandDeliveriesMax = 5;
inline constexpr Duration kCommandToolTimeoutMax = hours(1);
inline constexpr Duration kCommandToolTimeoutDefault = minutes(10);
// How long a delivered command is the daemon's before it is handed out again: its own run time
// plus this much for the answer to arrive.
inline constexpr Duration kCommandAnswerGrace = minutes(1);

// A command as sent: its name and arguments checked, and how long its handler may take.
struct CommandRequest {
  CommandName name = CommandName::reload;
  nlohmann::json args = nlohmann::json::object();
  Duration run_time_max = kCommandAnswerGrace;  // run_tool: its timeout
};

// invalid_argument naming what is wrong: an unknown name (listing the known ones), args that
// are not an object or too long, run_tool without a `tool` name or with an `input` that is not
// an object, a timeout_s outside (0, 3600], an unknown key.
Result<CommandRequest> parse_command_request(std::string_view name, const nlohmann::json& args);

// The token a managed daemon polls its commands with: "rlnt_cmd_" + its daemon id + "." + 43
// base62 characters from 256 random bits. The daemon id in it says which row's hash to compare
// (in constant time), so no index of hashes is needed.
inline constexpr std::string_view kCommandTokenPrefix = "rlnt_cmd_";
inline constexpr std::size_t kCommandTokenRandomBytes = 32;
std::string format_command_token(std::string_view daemon_id,
                                 const std::array<std::uint8_t, kCommandTokenRandomBytes>& bytes);
// The daemon id a well-formed token names; nullopt for anything else.
std::optional<std::string> command_token_daemon(std::string_view token);
// What is stored in its place: hex SHA-256.
std::string hash_command_token(std::string_view token);

}  // namespace reliant

// The bus subjects of the tool path (docs/architecture.md §6), in one place. The full table, with
// who publishes, who subscribes and how, is in docs/tool-path.md.
//
// User and daemon ids become subject tokens, so an id that is not a plain token (a `.`, a
// wildcard, whitespace) could address other users' subjects: every builder checks its ids.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"

namespace reliant::subjects {

// Gateways' queue group for fire-and-forget subjects: one gateway handles each message.
inline constexpr std::string_view kGatewayQueueGroup = "gateways";

// Whether `id` may appear as one subject token.
Result<void> check_token(std::string_view what, std::string_view id);
// A tool request's id is at most this long: a gateway's answer names its request with at most
// this much of the id, and a router takes an answer only if it names the very request.
inline constexpr std::size_t kRequestIdBytesMax = 256;

// Fire-and-forget ToolRequest (queue group of gateways).
std::string tool_request(std::string_view user_id);
inline constexpr std::string_view kToolRequestAll = "tools.request.*";
// Request-reply ToolRequest → ToolResponse (every gateway; only the holder answers), in
// protobuf's JSON mapping: for any client.
std::string tool_request_sync(std::string_view user_id);
inline constexpr std::string_view kToolRequestSyncAll = "tools.request.sync.*";
// The same in protobuf's binary encoding: what the platform's routers send.
std::string tool_call(std::string_view user_id);
inline constexpr std::string_view kToolCallAll = "tools.call.*";
// Fire-and-forget CancelTool (queue group).
std::string tool_cancel(std::string_view user_id);
inline constexpr std::string_view kToolCancelAll = "tools.cancel.*";
// Where a fire-and-forget request's result is published (the router subscribes first).
std::string tool_result(std::string_view user_id, std::string_view request_id);
// Request-reply DaemonCommand and OnlineCheck (every gateway; holder answers).
std::string daemon_command(std::string_view user_id);
inline constexpr std::string_view kDaemonCommandAll = "daemon.command.*";
std::string online_check(std::string_view user_id);
inline constexpr std::string_view kOnlineCheckAll = "daemon.online.*";
// Fire-and-forget DaemonCommand reload_config (queue group): the daemon reads its MCP
// configuration again; nobody waits for the answer.
std::string daemon_reload(std::string_view user_id);
inline constexpr std::string_view kDaemonReloadAll = "daemon.reload.*";
// DaemonStatusEvent whenever a recorded status changes.
std::string daemon_status(std::string_view user_id);
// Gateway to gateway, request-reply: every gateway hears it, only the one holding the daemon
// acts and answers. Used to
// hand over a fire-and-forget message that reached a gateway without the daemon, and to close
// an older stream of a daemon that connected again elsewhere.
std::string gateway_deliver(std::string_view daemon_id);
inline constexpr std::string_view kGatewayDeliverAll = "gateway.deliver.*";
std::string gateway_evict(std::string_view daemon_id);
inline constexpr std::string_view kGatewayEvictAll = "gateway.evict.*";

// A personal access token of the user was revoked: its id. Every holder of a connection the
// token authenticated ends it — gateways close the daemon's stream, api servers end update
// streams. Loss is covered by each holder's periodic re-check of the token.
std::string credential_revoked(std::string_view user_id);
inline constexpr std::string_view kCredentialRevokedAll = "auth.revoked.*";

// ManagedConnect commands (queue group of gateways): dial a managed cloud daemon.
inline constexpr std::string_view kGatewayConnect = "gateway.connect";
// A managed daemon was created or is wanted running again: control plane replicas act at once
// instead of at their next round (a hint; the rounds find it anyway).
inline constexpr std::string_view kControlPlaneWake = "controlplane.wake";
// A command was queued for this daemon: a poll waiting for one looks at once (a hint; polls
// look again every few seconds anyway).
std::string commands_queued(std::string_view daemon_id);

// The id in "<prefix>.<id>" subjects (a user's, or a daemon's for gateway.*), or an error.
Result<std::string> user_of(std::string_view subject, std::string_view prefix);

}  // namespace reliant::subjects

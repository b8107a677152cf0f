// Subject builders and parsers for the tool path.
#include "core/tool_subjects.h"

#include <array>

namespace reliant::subjects {
namespace {

// The bytes a token cannot hold: the separator, the wildcards, and space and the control
// characters (which hold std::isspace's others in the C locale). A table, as every tool call
// checks three ids byte by byte: isspace was a library call a byte.
constexpr std::array<bool, 256> kNotInToken = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = true;
  for (const unsigned char c : {'.', '*', '>', ' '}) table[c] = true;
  return table;
}();

}  // namespace

Result<void> check_token(std::string_view what, std::string_view id) {
  if (id.empty()) return fail(ErrorCode::invalid_argument, std::string(what) + " is empty");
  for (const char c : id) {
    if (kNotInToken[static_cast<unsigned char>(c)]) {
      return fail(ErrorCode::invalid_argument,
                  std::string(what) + " \"" + std::string(id) + "\" is not a valid subject token");
    }
  }
  return {};
}

namespace {
std::string join(std::string_view prefix, std::string_view token) {
  std::string out(prefix);
  out += '.';
  out += token;
  return out;
}
}  // namespace

std::string tool_request(std::string_view user_id) { return join("tools.request", user_id); }
std::string tool_request_sync(std::string_view user_id) {
  return join("tools.request.sync", user_id);
}
std::string tool_call(std::string_view user_id) { return join("tools.call", user_id); }
std::string tool_cancel(std::string_view user_id) { return join("tools.cancel", user_id); }
std::string tool_result(std::string_view user_id, std::string_view request_id) {
  return join(join("tools.result", user_id), request_id);
}
std::string credential_revoked(std::string_view user_id) { return join("auth.revoked", user_id); }
std::string daemon_command(std::string_view user_id) { return join("daemon.command", user_id); }
std::string online_check(std::string_view user_id) { return join("daemon.online", user_id); }
std::string daemon_reload(std::string_view user_id) { return join("daemon.reload", user_id); }
std::string commands_queued(std::string_view daemon_id) {
  return join("commands.queued", daemon_id);
}
std::string daemon_status(std::string_view user_id) { return join("daemon.status", user_id); }
std::string gateway_deliver(std::string_view daemon_id) {
  return join("gateway.deliver", daemon_id);
}
std::string gateway_evict(std::string_view daemon_id) { return join("gateway.evict", daemon_id); }

Result<std::string> user_of(std::string_view subject, std::string_view prefix) {
  if (subject.size() <= prefix.size() + 1 || subject.substr(0, prefix.size()) != prefix ||
      subject[prefix.size()] != '.') {
    return fail(ErrorCode::invalid_argument,
                "subject " + std::string(subject) + " is not " + std::string(prefix) + ".<user>");
  }
  const std::string_view user = subject.substr(prefix.size() + 1);
  if (auto ok = check_token("user id", user); !ok) return fail(ok.error());
  return std::string(user);
}

}  // namespace reliant::subjects

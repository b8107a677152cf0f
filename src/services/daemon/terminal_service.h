// The daemon's TerminalService as daemon commands (answered by answer_daemon_command), on its
// TerminalSessions: a browser's terminal, the api's /api/v2/terminal/ws and REST reach the user's
// shells through them, across the bus and any gateway like every daemon command.
//   term_list                               the open terminals
//   term_open   {rows?, cols?}              a new one (24x80 by default): its view
//   term_input  {id, data | data_base64url} what is typed (text, or bytes base64url-encoded)
//   term_resize {id, rows, cols}
//   term_close  {id}                        its shell is killed; the last view
//   term_read   {id, offset?, wait_ms?}     {data_base64url, offset, next, dropped, terminal}:
//                                           the output from `offset` (default 0) on, waiting up
//                                           to wait_ms (capped) when there is none yet
// A view is {id, command, rows, cols, opened_at_ms, active_at_ms, output_bytes, running,
// exit_code?, start_error?}. Output is base64url: a terminal writes bytes, not always whole
// UTF-8 characters. A refusal has ok false, error_message, and output_json {"code"}.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "reliant/daemon/v1/daemon.pb.h"
#include "runtime/task.h"
#include "services/daemon/terminal_sessions.h"

namespace reliant::daemon {

bool is_terminal_command(const std::string& command);
// `terminals` null: every terminal command is refused with `failed_precondition`.
Task<v1::DaemonCommandResult> answer_terminal_command(v1::DaemonCommand command,
                                                      TerminalSessions* terminals);
nlohmann::json terminal_view_json(const TerminalView& view);

}  // namespace reliant::daemon

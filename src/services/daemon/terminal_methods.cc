// The TerminalService's typed methods (daemon_methods.h) on the daemon's TerminalSessions, and
// the pages (daemon_pages.proto) the api's StreamTerminal and terminal WebSocket are made of.
#include "base/assert.h"
#include "reliant/api/v1/daemon_services.pb.h"
#include "reliant/daemon/v1/daemon_pages.pb.h"
#include "services/daemon/daemon_methods.h"
#include "services/daemon/terminal_sessions.h"

namespace reliant::daemon {
namespace {

namespace api = reliant::api::v1;

void fill(const TerminalView& view, api::TerminalSession& out) {
  out.set_id(view.id);
  out.set_command(view.command);
  out.set_rows(view.size.rows);
  out.set_cols(view.size.cols);
  out.set_opened_at_ms(to_ms(view.opened_at.time_since_epoch()));
  out.set_active_at_ms(to_ms(view.active_at.time_since_epoch()));
  out.set_output_bytes(view.output_bytes);
  out.set_running(view.running);
  if (view.exit_code) out.set_exit_code(*view.exit_code);
}

Result<TerminalSessions*> terminals_of(MethodContext& context) {
  if (context.tools.terminals == nullptr) {
    return fail(ErrorCode::failed_precondition, "this daemon has no terminals");
  }
  return context.tools.terminals;
}

Task<Result<api::ListTerminalSessionsResponse>> list_sessions(api::ListTerminalSessionsRequest,
                                                              MethodContext& context) {
  Result<TerminalSessions*> terminals = terminals_of(context);
  if (!terminals) co_return fail(terminals.error());
  api::ListTerminalSessionsResponse out;
  for (const auto& view : (*terminals)->list()) fill(view, *out.add_sessions());
  co_return out;
}

// Its shell is killed; the answer is its last view.
Task<Result<api::TerminalSession>> close_session(api::CloseTerminalSessionRequest in,
                                                 MethodContext& context) {
  Result<TerminalSessions*> terminals = terminals_of(context);
  if (!terminals) co_return fail(terminals.error());
  if (in.session_id().empty())
    co_return fail(ErrorCode::invalid_argument, "session_id is required");
  Result<TerminalView> closed = (*terminals)->close(in.session_id());
  if (!closed) co_return fail(closed.error());
  api::TerminalSession out;
  fill(*closed, out);
  co_return out;
}

// A size asked for: 0 is the default; otherwise 1 to kCellsMax cells each way.
Result<TerminalSize> size_of(std::int32_t rows, std::int32_t cols) {
  TerminalSize size;
  if (rows != 0) size.rows = rows;
  if (cols != 0) size.cols = cols;
  if (!size.valid()) {
    return fail(ErrorCode::invalid_argument, "rows and cols are whole numbers from 1 to " +
                                                 std::to_string(TerminalSize::kCellsMax));
  }
  return size;
}

Result<api::TerminalSession> session_of(const Result<TerminalView>& view) {
  if (!view) return fail(view.error());
  api::TerminalSession out;
  fill(*view, out);
  return out;
}

Task<Result<api::TerminalSession>> open_terminal(v1::OpenTerminalRequest in,
                                                 MethodContext& context) {
  Result<TerminalSessions*> terminals = terminals_of(context);
  if (!terminals) co_return fail(terminals.error());
  const Result<TerminalSize> size = size_of(in.rows(), in.cols());
  if (!size) co_return fail(size.error());
  co_return session_of((*terminals)->open(*size));
}

Task<Result<api::TerminalSession>> write_terminal(v1::WriteTerminalRequest in,
                                                  MethodContext& context) {
  Result<TerminalSessions*> terminals = terminals_of(context);
  if (!terminals) co_return fail(terminals.error());
  co_return session_of((*terminals)->write(in.session_id(), std::move(*in.mutable_data())));
}

Task<Result<api::TerminalSession>> resize_terminal(v1::ResizeTerminalRequest in,
                                                   MethodContext& context) {
  Result<TerminalSessions*> terminals = terminals_of(context);
  if (!terminals) co_return fail(terminals.error());
  if (in.rows() == 0 || in.cols() == 0) {
    co_return fail(ErrorCode::invalid_argument, "a resize names both rows and cols");
  }
  const Result<TerminalSize> size = size_of(in.rows(), in.cols());
  if (!size) co_return fail(size.error());
  co_return session_of((*terminals)->resize(in.session_id(), *size));
}

// What the terminal showed from `offset` on, waiting (capped by TerminalSessions) when there is
// nothing yet.
Task<Result<v1::TerminalOutputPage>> read_terminal(v1::ReadTerminalRequest in,
                                                   MethodContext& context) {
  Result<TerminalSessions*> terminals = terminals_of(context);
  if (!terminals) co_return fail(terminals.error());
  Result<Duration> wait = requested_wait(in.wait_ms());
  if (!wait) co_return fail(wait.error());
  Task<Result<TerminalOutput>> reading = (*terminals)->read(in.session_id(), in.offset(), *wait);
  Result<TerminalOutput> output = co_await reading;
  if (!output) co_return fail(output.error());
  v1::TerminalOutputPage out;
  out.set_data(std::move(output->data));
  out.set_offset(output->offset);
  out.set_next(output->next);
  out.set_dropped(output->dropped);
  fill(output->terminal, *out.mutable_terminal());
  RELIANT_ASSERT(out.next() >= out.offset());
  co_return out;
}

}  // namespace

void add_terminal_methods(DaemonMethods& methods) {
  const std::string service = "/reliant.api.v1.TerminalService/";
  methods.add(service + "ListSessions", &list_sessions);
  methods.add(service + "CloseSession", &close_session);
  const std::string pages = "/reliant.daemon.v1.DaemonPages/";
  methods.add(pages + "OpenTerminal", &open_terminal);
  methods.add(pages + "ReadTerminal", &read_terminal);
  methods.add(pages + "WriteTerminal", &write_terminal);
  methods.add(pages + "ResizeTerminal", &resize_terminal);
}

}  // namespace reliant::daemon

// The BackgroundService's typed methods (daemon_methods.h): the processes the agent's bash tool
// started with run_in_background, their output and their end; and the page (daemon_pages.proto)
// the api's StreamProcessOutput is made of.
#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "reliant/api/v1/daemon_services.pb.h"
#include "reliant/daemon/v1/daemon_pages.pb.h"
#include "services/daemon/daemon_methods.h"
#include "services/daemon/tools/background_processes.h"

namespace reliant::daemon {
namespace {

namespace api = reliant::api::v1;

void fill(const BackgroundStatus& status, api::BackgroundProcess& out) {
  out.set_id(status.id);
  out.set_command(status.command);
  out.set_description(status.description);
  out.set_running(status.running);
  out.set_killed(status.killed);
  out.set_timed_out(status.timed_out);
  out.set_state(status.describe());
  if (status.exit_code) out.set_exit_code(*status.exit_code);
  out.set_started_at_ms(to_ms(status.started_at));
  if (status.ended_at) out.set_ended_at_ms(to_ms(*status.ended_at));
  out.set_output_bytes(status.output_bytes);
  out.set_dropped_bytes(status.dropped_bytes);
}

Result<void> named(const std::string& process_id) {
  if (process_id.empty()) return fail(ErrorCode::invalid_argument, "process_id is required");
  return {};
}

Task<Result<api::ListProcessesResponse>> list_processes(api::ListProcessesRequest,
                                                        MethodContext& context) {
  api::ListProcessesResponse out;
  for (const auto& status : context.tools.background.list()) fill(status, *out.add_processes());
  co_return out;
}

// What was written since the last read, as the agent's bash_output reads it.
Task<Result<api::GetProcessOutputResponse>> process_output(api::GetProcessOutputRequest in,
                                                           MethodContext& context) {
  if (auto ok = named(in.process_id()); !ok) co_return fail(ok.error());
  Result<BackgroundOutput> read = context.tools.background.read(in.process_id());
  if (!read) co_return fail(read.error());
  api::GetProcessOutputResponse out;
  out.set_output(std::move(read->output));
  out.set_dropped_bytes(read->dropped_bytes);
  fill(read->status, *out.mutable_process());
  co_return out;
}

Task<Result<api::KillProcessResponse>> kill_process(api::KillProcessRequest in,
                                                    MethodContext& context) {
  if (auto ok = named(in.process_id()); !ok) co_return fail(ok.error());
  Result<BackgroundStatus> killed = context.tools.background.kill(in.process_id());
  if (!killed) co_return fail(killed.error());
  api::KillProcessResponse out;
  out.set_killed(true);
  co_return out;
}

// A page of a process's output from `offset`, waiting (capped by BackgroundProcesses) for more
// while it runs, without taking what bash_output has not read.
Task<Result<v1::ProcessOutputPage>> follow_process_output(v1::FollowProcessOutputRequest in,
                                                          MethodContext& context) {
  if (auto ok = named(in.process_id()); !ok) co_return fail(ok.error());
  Result<Duration> wait = requested_wait(in.wait_ms());
  if (!wait) co_return fail(wait.error());
  Task<Result<BackgroundPage>> following =
      context.tools.background.follow(in.process_id(), in.offset(), *wait);
  Result<BackgroundPage> page = co_await following;
  if (!page) co_return fail(page.error());
  v1::ProcessOutputPage out;
  out.set_data(std::move(page->page.data));
  out.set_offset(page->page.offset);
  out.set_next(page->page.next);
  out.set_dropped(page->page.dropped);
  fill(page->status, *out.mutable_process());
  RELIANT_ASSERT(out.next() >= out.offset());
  co_return out;
}

}  // namespace

void add_process_methods(DaemonMethods& methods) {
  const std::string service = "/reliant.api.v1.BackgroundService/";
  methods.add(service + "ListProcesses", &list_processes);
  methods.add(service + "GetProcessOutput", &process_output);
  methods.add(service + "KillProcess", &kill_process);
  methods.add("/reliant.daemon.v1.DaemonPages/FollowProcessOutput", &follow_process_output);
}

}  // namespace reliant::daemon

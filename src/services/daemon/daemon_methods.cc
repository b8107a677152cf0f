// The daemon's table of typed methods (daemon_methods.h) and how a typed call is answered.
#include "services/daemon/daemon_methods.h"

#include <algorithm>

#include <google/protobuf/descriptor.h>

#include "base/assert.h"
#include "services/daemon/command_answers.h"

namespace reliant::daemon {

void DaemonMethods::check(const std::string& method, const google::protobuf::Descriptor* request,
                          const google::protobuf::Descriptor* response) const {
  // "/package.Service/Method" is "package.Service.Method" to the descriptor pool.
  RELIANT_ASSERT(method.size() > 1 && method[0] == '/' && method.find('/', 1) != std::string::npos);
  std::string full_name = method.substr(1);
  full_name[full_name.find('/')] = '.';
  const google::protobuf::MethodDescriptor* found =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full_name);
  RELIANT_ASSERT(found != nullptr);
  RELIANT_ASSERT(found->input_type() == request && found->output_type() == response);
  RELIANT_ASSERT(!found->client_streaming() && !found->server_streaming());
  RELIANT_ASSERT(!handlers_.contains(method));  // one handler per method
}

const DaemonMethods::Handler* DaemonMethods::find(std::string_view method) const {
  const auto it = handlers_.find(method);
  return it == handlers_.end() ? nullptr : &it->second;
}

std::vector<std::string> DaemonMethods::names() const {
  std::vector<std::string> out;
  out.reserve(handlers_.size());
  for (const auto& [name, handler] : handlers_) out.push_back(name);
  return out;
}

const DaemonMethods& daemon_methods() {
  static const DaemonMethods methods = [] {
    DaemonMethods table;
    add_file_methods(table);
    add_process_methods(table);
    add_terminal_methods(table);
    add_mcp_methods(table);
    return table;
  }();
  return methods;
}

Task<v1::DaemonCommandResult> answer_daemon_call(v1::DaemonCommand command,
                                                 MethodContext& context) {
  RELIANT_ASSERT(!command.method().empty());
  const DaemonMethods::Handler* handler = daemon_methods().find(command.method());
  if (handler == nullptr) {
    co_return command_refused(
        command, {ErrorCode::unimplemented, "this daemon has no method " + command.method() +
                                                " (it speaks daemon protocol " +
                                                std::to_string(kDaemonProtocolVersion) + ")"});
  }
  Task<Result<std::string>> answering = (*handler)(std::move(*command.mutable_request()), context);
  Result<std::string> response = co_await answering;
  if (!response) co_return command_refused(command, response.error());
  v1::DaemonCommandResult result;
  result.set_command_id(command.command_id());
  result.set_ok(true);
  result.set_response(std::move(*response));
  co_return result;
}

Result<Duration> requested_wait(std::int64_t wait_ms) {
  constexpr std::int64_t kWaitMsMax = 60 * 60 * 1000;
  if (wait_ms < 0) {
    return fail(ErrorCode::invalid_argument, "wait_ms is a number of milliseconds (>= 0)");
  }
  return Duration(milliseconds(std::min(wait_ms, kWaitMsMax)));
}

bool method_only_reads(std::string_view method) {
  const std::string_view name = method.substr(method.rfind('/') + 1);
  for (std::string_view verb : {"List", "Get", "Search", "Follow"}) {
    if (name.starts_with(verb)) return true;
  }
  return false;
}

}  // namespace reliant::daemon

// `reliant tool call`: routes one tool call through the bus to a user's daemon, as a worker
// would, and prints the daemon's JSON response. Operators use it to check a deployment; the
// integration tests use it too.
//
// Exit codes: 0 the tool ran and succeeded; 1 the tool ran and reported an error (is_error);
// 2 the call could not be made or answered (bad input, no daemon, no gateway, timeout).
#include "app/tool_call_command.h"

#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "adapters/asio/asio_executor.h"
#include "adapters/asio/run_blocking.h"
#include "adapters/nats/nats_bus.h"
#include "app/db_config.h"
#include "app/secure_random.h"
#include "base/json_parse.h"
#include "core/workflow/selector_expressions.h"
#include "protocol/codec.h"
#include "runtime/ids.h"
#include "services/routing/bus_daemon_router.h"
#include "services/routing/daemon_resolver.h"
#include "services/storage/accounts.h"

namespace reliant {
namespace {

namespace v1 = reliant::daemon::v1;

constexpr int kToolFailed = 1;
constexpr int kCallFailed = 2;

struct ToolCallOptions {
  DbConfig db;
  std::string nats_url;
  std::string user;
  std::string daemon;
  std::string tool;
  std::string input = "{}";
  bool sync = false;
  double timeout_s = 60;
};

int refuse(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return kCallFailed;
}

Task<Result<v1::ToolResponse>> call_tool(routing::DaemonRouter& router, routing::ToolCall call,
                                         bool sync) {
  Task<Result<v1::ToolResponse>> pending = sync ? router.send_tool_request_sync(std::move(call))
                                                : router.send_tool_request(std::move(call));
  Result<v1::ToolResponse> response = co_await pending;
  co_return response;
}

int run_tool_call(const ToolCallOptions& o) {
  const auto input = parse_json_or_discarded(o.input);
  if (input.is_discarded() || !input.is_object())
    return refuse("--input must be a JSON object, e.g. '{\"command\":\"echo hi\"}'");
  nlohmann::json written_selector;
  if (!o.daemon.empty()) {
    // Shorthand (local, cloud, any, a name), a structured selector as JSON, or "{{ CEL }}".
    written_selector = parse_json_or_discarded(o.daemon);
    if (written_selector.is_discarded() || !written_selector.is_object())
      written_selector = o.daemon;
    if (auto parsed = parse_selector_source(written_selector); !parsed)
      return refuse("--daemon: " + parsed.error().message);
  }
  AsioExecutor executor;
  auto store = open_store(executor, o.db);
  if (!store) return refuse(store.error().message);
  auto bus = NatsBus::connect(executor, NatsOptions{o.nats_url, "reliant-tool-call"});
  if (!bus) return refuse(bus.error().message);

  auto user_id = run_blocking(
      executor, (*store)->transact_for([key = o.user](SqlTransaction& tx) -> Result<std::string> {
        auto user = find_user_by_id_or_email(tx, key);
        if (!user) return fail(user.error());
        if (!*user) return fail(ErrorCode::not_found, "no user " + key);
        return (*user)->id;
      }));
  if (!user_id) return refuse(user_id.error().message);
  routing::DaemonChoice choice;
  if (!written_selector.is_null()) {
    cel::Activation variables;  // an expression sees who is asking
    variables.bind("user", cel::from_json({{"id", *user_id}}));
    auto literal = workflow::literal_selector(written_selector, variables);
    if (!literal) return refuse("--daemon " + literal.error().message);
    choice.node = std::move(*literal);
  }
  auto decision = run_blocking(executor, routing::resolve_daemon(**store, *user_id, choice));
  if (!decision) return refuse(decision.error().message);

  Random random(secure_random_u64());
  IdGenerator ids(executor, random);
  routing::ToolCall call;
  call.user_id = *user_id;
  call.daemon_id = decision->daemon_id;
  call.request_id = ids.next();
  call.tool_name = o.tool;
  call.input_json = input.dump();
  call.timeout = milliseconds(static_cast<std::int64_t>(o.timeout_s * 1000));
  Env env{executor, random, bus->get(), nullptr, store->get(), nullptr};
  routing::BusDaemonRouter router(env);
  std::fprintf(stderr, "%s call %s on daemon %s (chosen by %s)\n", o.sync ? "sync" : "durable",
               call.request_id.c_str(), call.daemon_id.c_str(),
               std::string(to_string(decision->level)).c_str());
  auto response = run_blocking(executor, call_tool(router, std::move(call), o.sync));
  if (!response) return refuse(response.error().message);
  std::printf("%s\n", nlohmann::json::parse(protocol::to_json(*response)).dump(2).c_str());
  return response->is_error() ? kToolFailed : 0;
}

}  // namespace

void add_tool_commands(CLI::App& app, int& exit_code) {
  auto* tool = app.add_subcommand("tool", "Tool calls through the bus, as workers make them");
  tool->require_subcommand(1);
  auto options = std::make_shared<ToolCallOptions>();
  auto* call = tool->add_subcommand(
      "call", "Route one tool call to a user's daemon and print the JSON response");
  add_db_options(*call, options->db);
  call->add_option("--nats-url", options->nats_url, "NATS server URL")
      ->envname("NATS_URL")
      ->required();
  call->add_option("--user", options->user, "The user's id or email")->required();
  call->add_option("--daemon", options->daemon,
                   "Daemon selector: local, cloud, any, a name, or JSON "
                   "{\"id\",\"name\",\"type\",\"labels\"} (default: automatic selection)");
  call->add_option("--tool", options->tool, "Tool name, e.g. bash, view, ls")->required();
  call->add_option("--input", options->input, "Tool input as a JSON object")->capture_default_str();
  call->add_flag("--sync", options->sync,
                 "Request-reply on tools.call.<user> instead of the durable path");
  call->add_option("--timeout", options->timeout_s, "Seconds the tool may run")
      ->capture_default_str();
  call->callback([options, &exit_code] { exit_code = run_tool_call(*options); });
}

}  // namespace reliant

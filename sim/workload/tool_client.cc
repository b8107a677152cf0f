// The tool clients of the tool-path workload: each calls tools (or files, a terminal, cancels)
// on its user's daemons, one at a time, forever, and records every call for the checkers.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "base/json_parse.h"
#include "core/daemon_selection.h"
#include "reliant/api/v1/daemon_services.pb.h"
#include "reliant/daemon/v1/daemon_pages.pb.h"
#include "runtime/sleep.h"
#include "services/routing/bus_daemon_router.h"
#include "services/routing/daemon_calls.h"
#include "services/routing/daemon_resolver.h"
#include "sim/workload/tool_path_state.h"

namespace reliant::sim {
namespace {

namespace apiv1 = reliant::api::v1;
namespace pages = reliant::daemon::v1;

constexpr std::string_view kSaveFileContent = "/reliant.api.v1.FileSystemService/SaveFileContent";
constexpr std::string_view kGetFileContent = "/reliant.api.v1.FileSystemService/GetFileContent";
constexpr std::string_view kListDirectory = "/reliant.api.v1.FileSystemService/ListDirectory";

// Calls tools on its user's daemons, one at a time, forever; records every call.
class ToolClient {
 public:
  ToolClient(Env& env, ClientShared shared)
      : env_(env),
        shared_(std::move(shared)),
        router_(env, router_config_),
        ids_(env.executor, env.random.split("tool-client")),
        scope_(env.executor) {
    if (shared_.config.kind == "terminal") {
      scope_.spawn(terminal_loop());
    } else if (shared_.config.kind == "files") {
      scope_.spawn(files_loop());
    } else {
      scope_.spawn(loop());
    }
  }

 private:
  Task<Result<std::string>> choose_daemon() {
    routing::DaemonChoice choice;
    if (!shared_.config.daemon.empty()) {
      std::string selector = shared_.config.daemon;
      if (const auto n = selector.find("{n}"); n != std::string::npos) {
        selector.replace(n, 3, shared_.node.substr(shared_.node.rfind('-') + 1));
      }
      auto source = parse_selector_source(nlohmann::json(selector));
      if (!source) co_return fail(source.error());
      choice.workflow = *source;
    }
    Task<Result<DaemonDecision>> resolving = routing::resolve_daemon(
        *env_.store, user_id_of(shared_.config.user), std::move(choice), &router_);
    Result<DaemonDecision> decision = co_await resolving;
    if (!decision) co_return fail(decision.error());
    co_return decision->daemon_id;
  }

  // The next call: a bash command that sleeps a while and echoes its request id, or an MCP
  // echo, or a long command to cancel, by the client's kind. The draws (id, sleep, sync) come in
  // this order: each seed's meaning depends on it.
  routing::ToolCall next_call(const std::string& daemon_id, bool& sync) {
    const ToolClientConfig& config = shared_.config;
    routing::ToolCall call;
    call.user_id = user_id_of(config.user);
    call.daemon_id = daemon_id;
    call.request_id = ids_.next();
    call.tool_name = "bash";
    const auto sleep_ms = env_.random.between(std::int64_t{0}, to_ms(config.command_time_max));
    char seconds_text[32];
    std::snprintf(seconds_text, sizeof seconds_text, "%.3f", static_cast<double>(sleep_ms) / 1000);
    call.input_json = nlohmann::json{{"command", std::string("sleep ") + seconds_text +
                                                     " && echo " + call.request_id}}
                          .dump();
    call.timeout = config.tool_timeout;
    sync = env_.random.chance(config.sync_share);
    if (config.kind == "mcp") {
      call.tool_name = "mcp__sim__echo";
      call.input_json = nlohmann::json{{"text", "echo " + call.request_id}}.dump();
    } else if (config.kind == "cancel") {
      // A command that would run long, cancelled a moment after it is sent.
      call.input_json = nlohmann::json{{"command", "sleep 30 && echo " + call.request_id}}.dump();
      call.timeout = seconds(60);
      sync = false;
    }
    return call;
  }

  Task<void> loop() {
    ToolPathWorkload::Impl& impl = *shared_.impl;
    const ToolClientConfig& config = shared_.config;
    for (;;) {
      co_await sleep(env_.executor, config.interval);
      Task<Result<std::string>> choosing = choose_daemon();
      Result<std::string> daemon_id = co_await choosing;
      if (!daemon_id) {
        // No daemon resolves (none registered yet, the store is down, or one is connected but
        // recorded as if it were not): a call that could not be made. Before healing that is
        // expected; after it, tool_results counts it as a failure.
        impl.calls.push_back(ToolCallRecord{ids_.next(), shared_.node, user_id_of(config.user), "",
                                            false, impl.world.now(), impl.world.now(),
                                            "unroutable: " + daemon_id.error().message, true});
        continue;
      }
      bool sync = false;
      routing::ToolCall call = next_call(*daemon_id, sync);
      if (config.kind == "cancel") {
        cancels_.spawn(cancel_later(this, call.user_id, call.daemon_id, call.request_id));
      }
      const std::size_t index = impl.calls.size();
      ToolCallRecord made;
      made.request_id = call.request_id;
      made.client = shared_.node;
      made.user_id = call.user_id;
      made.daemon_id = call.daemon_id;
      made.sync = sync;
      made.issued = impl.world.now();
      made.woke = impl.pods != nullptr && impl.pods->held(call.daemon_id);
      made.bound = call.timeout + router_config_.grace;
      impl.calls.push_back(std::move(made));
      const std::string request_id = call.request_id;
      const std::string target = call.daemon_id;
      Task<Result<v1::ToolResponse>> calling = sync
                                                   ? router_.send_tool_request_sync(std::move(call))
                                                   : router_.send_tool_request(std::move(call));
      in_flight_ = index;
      Result<v1::ToolResponse> response = co_await calling;
      in_flight_.reset();
      ToolCallRecord& record = impl.calls[index];
      record.answered = impl.world.now();
      if (!response) {
        record.failed = true;
        record.outcome =
            std::string(to_string(response.error().code)) + ": " + response.error().message;
        continue;
      }
      record.outcome = response->is_error() ? response->error_code() : "ok";
      if (response->daemon_id() != target) {
        impl.checker.violation(impl.world.now(), "tool_isolation",
                               "request " + request_id + " for daemon " + target +
                                   " was answered by daemon " + response->daemon_id());
      }
      if (!response->is_error() && response->content().find(request_id) == std::string::npos) {
        impl.checker.violation(impl.world.now(), "tool_results",
                               "request " + request_id + " got output that is not its own: \"" +
                                   response->content().substr(0, 80) + "\"");
      }
    }
  }

  static Task<void> cancel_later(ToolClient* self, std::string user_id, std::string daemon_id,
                                 std::string request_id) {
    co_await sleep(self->env_.executor, seconds(1));
    Task<Result<void>> cancelling =
        self->router_.cancel_tool(user_id, daemon_id, request_id, "the sim's cancel client");
    Result<void> sent = co_await cancelling;
    if (sent) {
      self->shared_.impl->cancels.push_back(ToolPathWorkload::Impl::CancelRecord{
          request_id, self->shared_.node, self->shared_.impl->world.now()});
    }
  }

  // A typed call to one of the user's daemons: its answer, or why there is none (the daemon's
  // refusal included).
  template <class Response, class Request>
  Task<Result<Response>> typed_call(std::string daemon_id, std::string_view method,
                                    Request request) {
    request.set_daemon_id(daemon_id);
    return routing::call_daemon<Response>(router_, user_id_of(shared_.config.user),
                                          std::move(daemon_id), method, request);
  }

  // Another user's daemon asked for its workspace listing or for `path`: what it answered.
  Task<Result<std::string>> pry(std::string daemon_id, bool listing, std::string path) {
    if (listing) {
      apiv1::ListDirectoryRequest list;
      list.set_path(".");
      Task<Result<apiv1::ListDirectoryResponse>> prying =
          typed_call<apiv1::ListDirectoryResponse>(daemon_id, kListDirectory, list);
      Result<apiv1::ListDirectoryResponse> listed = co_await prying;
      if (!listed) co_return fail(listed.error());
      co_return listed->DebugString();
    }
    apiv1::GetFileContentRequest read;
    read.set_path(path);
    Task<Result<apiv1::GetFileContentResponse>> prying =
        typed_call<apiv1::GetFileContentResponse>(daemon_id, kGetFileContent, read);
    Result<apiv1::GetFileContentResponse> content = co_await prying;
    if (!content) co_return fail(content.error());
    co_return content->content();
  }

  // Each turn writes a file marked fk|<user>|<node>|n on a daemon of its user and reads it back
  // (any other content is someone else's file), then asks a daemon of another user for its
  // workspace listing and for this client's file, which the path to that daemon must refuse.
  Task<void> files_loop() {
    ToolPathWorkload::Impl& impl = *shared_.impl;
    const ToolClientConfig& config = shared_.config;
    const std::string path = "files-" + shared_.node + ".txt";
    for (std::uint64_t turn = 1;; ++turn) {
      co_await sleep(env_.executor, config.interval);
      Task<Result<std::string>> choosing = choose_daemon();
      Result<std::string> daemon_id = co_await choosing;
      if (!daemon_id) continue;
      const std::string marker =
          "fk|" + config.user + "|" + shared_.node + "|" + std::to_string(turn);
      apiv1::SaveFileContentRequest write;
      write.set_path(path);
      write.set_content(marker);
      Task<Result<apiv1::SaveFileContentResponse>> writing =
          typed_call<apiv1::SaveFileContentResponse>(*daemon_id, kSaveFileContent, write);
      if (Result<apiv1::SaveFileContentResponse> written = co_await writing; written) {
        apiv1::GetFileContentRequest read_back;
        read_back.set_path(path);
        Task<Result<apiv1::GetFileContentResponse>> reading =
            typed_call<apiv1::GetFileContentResponse>(*daemon_id, kGetFileContent, read_back);
        Result<apiv1::GetFileContentResponse> read = co_await reading;
        if (read) {
          ++impl.files_read_back;
          const std::string& content = read->content();
          check_isolation(content, "fk|", "files_isolation");
          if (content != marker) {  // the file is this client's alone, written a moment ago
            impl.checker.violation(impl.world.now(), "files_isolation",
                                   shared_.node + " wrote \"" + marker + "\" to " + path +
                                       " on daemon " + *daemon_id + " and read back \"" +
                                       content.substr(0, 60) + "\"");
          }
        }
      }
      // Every fifth turn: nobody answers for a daemon of another user, so the ask takes a
      // timeout to fail.
      if (turn % 5 != 0) continue;
      std::vector<const ToolPathWorkload::Machine*> others;
      for (const auto& machine : impl.machines) {
        if (machine->user_id != user_id_of(config.user) && !machine->daemon_id.empty())
          others.push_back(machine.get());
      }
      if (others.empty()) continue;
      const ToolPathWorkload::Machine& other = *others[(turn / 5) % others.size()];
      const bool listing = (turn / 5) % 2 == 0;
      const std::string_view method = listing ? kListDirectory : kGetFileContent;
      Task<Result<std::string>> prying = pry(other.daemon_id, listing, path);
      Result<std::string> pried = co_await prying;
      if (!pried) {
        ++impl.foreign_files_refused;
        continue;
      }
      impl.checker.violation(impl.world.now(), "files_isolation",
                             shared_.node + " (user " + config.user + ") got an answer to " +
                                 std::string(method) + " from daemon " + other.daemon_id + " of " +
                                 other.user_id + ": " + pried->substr(0, 80));
    }
  }

  // Every marker of another user in terminal output is a leak (markers are mk|<user>|…|n).
  void check_isolation(const std::string& output) {
    check_isolation(output, "mk|", "terminal_isolation");
  }
  void check_isolation(const std::string& output, const std::string& tag,
                       const std::string& invariant) {
    ToolPathWorkload::Impl& impl = *shared_.impl;
    for (std::size_t at = output.find(tag); at != std::string::npos;
         at = output.find(tag, at + 1)) {
      const std::size_t end = output.find('|', at + tag.size());
      if (end == std::string::npos) continue;  // cut off: the next read has the rest
      const std::string user = output.substr(at + tag.size(), end - at - tag.size());
      if (user == shared_.config.user) continue;
      impl.checker.violation(impl.world.now(), invariant,
                             shared_.node + " (user " + shared_.config.user + ") read " + tag +
                                 " output of user " + user + ": \"" + output.substr(at, 60) + "\"");
    }
  }

  // A terminal kept open on one daemon: each turn types a marker and reads until it comes back,
  // taking the output up again at its offset after a failed read (a gateway failing over); a
  // terminal that is gone (its daemon restarted) is opened anew.
  Task<void> terminal_loop() {
    ToolPathWorkload::Impl& impl = *shared_.impl;
    const ToolClientConfig& config = shared_.config;
    std::string daemon_id;
    std::string terminal_id;
    std::uint64_t offset = 0;
    std::uint64_t lines = 0;
    for (;;) {
      co_await sleep(env_.executor, config.interval);
      if (daemon_id.empty()) {
        Task<Result<std::string>> choosing = choose_daemon();
        Result<std::string> chosen = co_await choosing;
        if (!chosen) continue;
        daemon_id = *chosen;
      }
      if (terminal_id.empty()) {
        pages::OpenTerminalRequest open;
        open.set_rows(24);
        Task<Result<apiv1::TerminalSession>> opening =
            typed_call<apiv1::TerminalSession>(daemon_id, routing::kOpenTerminal, open);
        Result<apiv1::TerminalSession> opened = co_await opening;
        if (!opened) {
          if (opened.error().code == ErrorCode::not_found) daemon_id.clear();
          continue;
        }
        terminal_id = opened->id();
        offset = 0;
        ++impl.terminals_opened;
      }
      const std::string marker =
          "mk|" + config.user + "|" + shared_.node + "|" + std::to_string(++lines);
      const std::size_t index = impl.terminal_lines.size();
      impl.terminal_lines.push_back({shared_.node, marker, impl.world.now(), std::nullopt});
      pages::WriteTerminalRequest write;
      write.set_session_id(terminal_id);
      write.set_data("echo " + marker + "\r");
      Task<Result<apiv1::TerminalSession>> typing =
          typed_call<apiv1::TerminalSession>(daemon_id, routing::kWriteTerminal, write);
      Result<apiv1::TerminalSession> typed = co_await typing;
      if (!typed) {
        if (typed.error().code == ErrorCode::not_found) terminal_id.clear();
        continue;
      }
      Task<void> reading = read_until_marker(daemon_id, &terminal_id, &offset, marker, index);
      co_await reading;
    }
  }

  // Reads the terminal from `*offset` until `marker` comes back on a line of its own (then line
  // `index` is seen) or the tool timeout passes; a terminal that is gone clears `*terminal_id`.
  Task<void> read_until_marker(std::string daemon_id, std::string* terminal_id,
                               std::uint64_t* offset, std::string marker, std::size_t index) {
    ToolPathWorkload::Impl& impl = *shared_.impl;
    const SteadyInstant until = env_.executor.steady_now() + shared_.config.tool_timeout;
    std::string tail;  // the newest output, enough to hold the marker's line
    while (env_.executor.steady_now() < until) {
      pages::ReadTerminalRequest page;
      page.set_session_id(*terminal_id);
      page.set_offset(*offset);
      page.set_wait_ms(1000);
      Task<Result<pages::TerminalOutputPage>> reading =
          typed_call<pages::TerminalOutputPage>(daemon_id, routing::kReadTerminal, page);
      Result<pages::TerminalOutputPage> read = co_await reading;
      if (!read) {
        if (read.error().code == ErrorCode::not_found) {
          terminal_id->clear();
          co_return;
        }
        ++impl.terminal_reattaches;
        co_await sleep(env_.executor, milliseconds(200));
        continue;
      }
      const std::string& data = read->data();
      *offset = std::max<std::uint64_t>(*offset, read->next());
      if (data.empty()) continue;
      check_isolation(data);
      tail = (tail + data)
                 .substr(tail.size() + data.size() > 4096 ? tail.size() + data.size() - 4096 : 0);
      // The shell echoes the typed line too; the answer is the marker on a line of its own.
      if (tail.find("\n" + marker + "\r\n") != std::string::npos) {
        impl.terminal_lines[index].seen = impl.world.now();
        co_return;
      }
    }
  }

  Env& env_;
  ClientShared shared_;
  const routing::BusRouterConfig router_config_{};
  routing::BusDaemonRouter router_;
  IdGenerator ids_;
  // The call in flight, if any: a crash abandons it (nobody is left to hear its answer).
  std::optional<std::size_t> in_flight_;
  struct AbandonOnCrash {
    ToolClient* client;
    ~AbandonOnCrash() {
      if (client->in_flight_) client->shared_.impl->calls[*client->in_flight_].abandoned = true;
    }
  } abandon_on_crash_{this};
  Scope cancels_{env_.executor};  // the cancel client's pending cancels
  Scope scope_;                   // last: destroyed first
};

}  // namespace

std::shared_ptr<void> start_tool_client(Env& env, ClientShared shared) {
  return std::make_shared<ToolClient>(env, std::move(shared));
}

}  // namespace reliant::sim

// ToolRunner: runs tool requests on this machine exactly as a daemon must — concurrently, each
// with its own timeout and cancellable, at most once per request_id (a repeat is answered from
// the result cache, a request an earlier run of the process started gets daemon_lost). The
// Daemon feeds it requests from its gateway stream; the monolith's LocalDaemonRouter calls it
// directly.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "reliant/daemon/v1/daemon.pb.h"
#include "runtime/executor.h"
#include "runtime/scope.h"
#include "services/daemon/result_cache.h"
#include "services/daemon/tools/tool.h"

namespace reliant::daemon {

// The request ids this daemon's machine has started, across restarts of the process: a request
// started by an earlier run and asked again (a retry after the daemon crashed) is answered with
// daemon_lost instead of running twice. A file under ~/.reliant for the real binary; memory
// that survives simulated crashes in the simulator.
class RequestJournal {
 public:
  virtual ~RequestJournal() = default;
  virtual bool contains(const std::string& request_id) const = 0;
  virtual void add(const std::string& request_id) = 0;
};

// A bounded journal in memory (the oldest ids are forgotten first): a ResultCache of ids with
// nothing kept beside them. Hashed: every tool call looks its id up and adds it, among up to
// `capacity` ids (a tree's lookups compared strings ~16 times a call, measured in the daemon's
// profile at sustained load).
class MemoryRequestJournal final : public RequestJournal {
 public:
  explicit MemoryRequestJournal(std::size_t capacity = 65536) : ids_(capacity) {}
  bool contains(const std::string& request_id) const override {
    return ids_.find(request_id) != nullptr;
  }
  void add(const std::string& request_id) override { (void)insert(request_id); }
  // False when it was already there.
  bool insert(std::string request_id) { return ids_.put(std::move(request_id), Started{}); }

 private:
  struct Started {};
  ResultCache<Started> ids_;
};

// "daemon_lost", "timeout", "cancelled"… responses that no tool produced.
v1::ToolResponse error_response(const std::string& request_id, std::string_view code,
                                std::string message);

class BackgroundProcesses;

class ToolRunner;

// The daemon commands every daemon answers, remote or in-process: "status" (the runner's load
// and the tools, merged into `identity`), "list_tools" (the built-in tools' names) and
// "tool_specs" (the MCP servers' tools as a model is offered them: [{name, description,
// input_schema, tags, read_only}], starting servers not yet running and waiting for them a few
// seconds at most; a server still starting then is an entry {starting: NAME} of its own) and
// "reload_config" (the MCP configuration read again; the servers' statuses after). A command
// whose `method` is set is a typed call, answered from the method table (daemon_methods.h): the
// FileSystemService, BackgroundService, TerminalService and MCPService, and the pages of the
// api's streams.
Task<v1::DaemonCommandResult> answer_daemon_command(v1::DaemonCommand command,
                                                    const ToolRunner& runner, Json identity);

class ToolRunner {
 public:
  // Called with every outcome, on the executor: a tool's result, a timeout, a cancellation,
  // a cached answer to a repeat, or daemon_lost. Never called after destruction.
  using Answer = std::function<void(const v1::ToolResponse&)>;
  // Called just before a tool actually starts (never for cached or lost answers).
  using Started = std::function<void(const v1::ToolRequest&)>;

  ToolRunner(Executor& executor, ToolSet& tools, ToolContext& context, RequestJournal& journal,
             std::size_t cache_entries, Duration default_timeout, Answer answer,
             Started started = {});
  // Stops every running tool (their processes are killed).
  ~ToolRunner();
  ToolRunner(const ToolRunner&) = delete;
  ToolRunner& operator=(const ToolRunner&) = delete;

  // Who answers: stamped on every response.
  void set_identity(std::string daemon_id, std::string user_id);
  // Hears a running tool's output as it comes, at most kStreamedBytesMax a request (the result
  // carries all of it); the daemon forwards it to its gateway for the user's clients.
  using Output = std::function<void(const v1::OutputChunk&)>;
  void set_output_listener(Output listener) { output_ = std::move(listener); }
  static constexpr std::size_t kStreamedBytesMax = 64 * 1024;
  void start(v1::ToolRequest request);
  // Returns false when the request is not running.
  bool cancel(const std::string& request_id, const std::string& reason);
  // Cancels every running request; returns how many there were.
  std::size_t cancel_all(const std::string& reason);
  // The cached answer of a finished request, if still remembered.
  const v1::ToolResponse* answer_of(const std::string& request_id) const {
    return cache_.find(request_id);
  }
  std::size_t running() const { return running_.size(); }
  std::size_t cached() const { return cache_.size(); }
  const ToolSet& tools() const { return tools_; }
  // What the tools work with (its background processes answer the BackgroundService).
  ToolContext& context() const { return context_; }

 private:
  struct Running;
  Task<void> run(v1::ToolRequest request);
  // Records and answers the outcome of a running request; ignored if it already ended.
  // `stop_now`: the tool's task is not the caller and is stopped at once.
  void finish(const std::string& request_id, v1::ToolResponse response, bool stop_now);

  Executor& executor_;
  ToolSet& tools_;
  ToolContext& context_;
  Output output_;
  RequestJournal& journal_;
  Duration default_timeout_;
  Answer answer_;
  Started started_;
  std::string daemon_id_;
  std::string user_id_;
  ResultCache<v1::ToolResponse> cache_;
  std::map<std::string, std::unique_ptr<Running>> running_;
  std::vector<std::unique_ptr<Running>> finished_;  // freed on the next start
};

}  // namespace reliant::daemon

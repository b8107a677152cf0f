// Workflow clients: start, follow and answer runs over the simulated REST API; the checks over
// what they saw and what the database holds.
#include "sim/workload/workflow_client.h"

#include <algorithm>

#include "core/daemon_selection.h"
#include "core/workflow/engine_workflow.h"
#include "runtime/scope.h"
#include "runtime/sleep.h"
#include "services/engine/engine_sql.h"
#include "services/routing/daemon_resolver.h"
#include "services/storage/daemons.h"
#include "services/storage/sql_row.h"
#include "sim/workload/stuck_run.h"
#include "sim/workload/tool_placement.h"

namespace reliant::sim {
namespace {

using Json = nlohmann::json;

// How often a client reads its open runs' events, and its run list for runs it lost track of.
constexpr Duration kFollowInterval = milliseconds(500);
constexpr Duration kListInterval = seconds(5);
// The runs a listing reads at most (the newest).
constexpr int kListedRunsMax = 100;

class WorkflowClient {
 public:
  WorkflowClient(Env& env, const World& world, WorkflowClientBook* book, Checker* checker)
      : env_(env), world_(world), book_(book), checker_(checker), scope_(env.executor) {
    scope_.spawn(start_loop());
    scope_.spawn(follow_loop());
    scope_.spawn(list_loop());
  }

 private:
  Task<Result<ApiReply>> call(std::string method, std::string path, Json query, std::string body) {
    Task<Result<ApiReply>> calling =
        call_api(env_, book_->route, book_->token, book_->config.request_timeout, std::move(method),
                 std::move(path), std::move(query), std::move(body));
    Result<ApiReply> reply = co_await calling;
    co_return reply;
  }

  std::size_t open_runs() const {
    return static_cast<std::size_t>(std::count_if(
        book_->runs.begin(), book_->runs.end(), [](const auto& r) { return r.second.ends == 0; }));
  }

  void follow(const std::string& run_id, bool adopted) {
    if (!book_->followed->insert(run_id).second) return;  // another client follows it
    FollowedRun& run = book_->runs[run_id];
    run.started = world_.now();
    run.adopted = adopted;
  }

  Task<void> start_loop() {
    // By name from its project, or its YAML inline.
    const std::string body = book_->config.project ? Json{{"workflow", book_->workflow_name},
                                                          {"project_id", book_->project_id},
                                                          {"inputs", book_->config.inputs}}
                                                         .dump()
                                                   : Json{{"source", book_->config.workflow},
                                                          {"file", "scenario-workflow.yaml"},
                                                          {"inputs", book_->config.inputs}}
                                                         .dump();
    for (;;) {
      co_await sleep(env_.executor, book_->config.interval);
      if (open_runs() >= static_cast<std::size_t>(book_->config.concurrent)) continue;
      Task<Result<ApiReply>> starting =
          call("POST", "/api/v1/workflows/runs", Json::object(), body);
      Result<ApiReply> started = co_await starting;
      // No answer: maybe started, maybe not; the run list will tell.
      if (!started || started->status != 201) continue;
      const Json reply = Json::parse(started->body, nullptr, false);
      const std::string run_id = reply.is_object() ? reply.value("run_id", "") : "";
      if (run_id.empty()) continue;
      ++book_->started;
      follow(run_id, false);
    }
  }

  // Finds this user's runs of the workflow that no client follows: started by a request whose
  // reply was lost.
  Task<void> list_loop() {
    for (;;) {
      co_await sleep(env_.executor, kListInterval);
      Task<Result<ApiReply>> listing = call("GET", "/api/v1/workflows/runs",
                                            Json{{"limit", std::to_string(kListedRunsMax)}}, "");
      Result<ApiReply> listed = co_await listing;
      if (!listed || listed->status != 200) continue;
      const Json reply = Json::parse(listed->body, nullptr, false);
      if (!reply.is_object()) continue;
      for (const auto& run : reply.value("runs", Json::array())) {
        if (run.value("workflow", "") != book_->workflow_name || !run.value("ref", "").empty() ||
            !run.value("parent_run_id", "").empty()) {
          continue;
        }
        follow(run.value("id", ""), true);
      }
    }
  }

  Task<void> follow_loop() {
    for (;;) {
      co_await sleep(env_.executor, kFollowInterval);
      std::vector<std::string> open;
      for (const auto& [id, run] : book_->runs) {
        if (run.ends == 0) open.push_back(id);
      }
      for (const auto& id : open) {
        Task<void> reading = read_events(id);
        co_await reading;
      }
    }
  }

  Task<void> read_events(std::string run_id) {
    const std::int64_t since = book_->runs[run_id].cursor;
    Task<Result<ApiReply>> reading = call("GET", "/api/v1/runs/" + run_id + "/events",
                                          Json{{"since_seq", std::to_string(since)}}, "");
    Result<ApiReply> read = co_await reading;
    if (!read || read->status != 200) co_return;
    const Json reply = Json::parse(read->body, nullptr, false);
    if (!reply.is_object()) co_return;
    std::vector<Json> waiting;
    for (const auto& event : reply.value("events", Json::array())) {
      FollowedRun& run = book_->runs[run_id];
      const std::string kind = event.value("kind", "");
      if (kind == "node_waiting") {
        waiting.push_back(event);
        continue;  // repeated on every read until answered: not a step of the cursor
      }
      run.cursor = std::max(run.cursor, event.value("seq", std::int64_t{0}));
      if (kind != "run_completed" && kind != "run_failed" && kind != "run_cancelled") continue;
      ++run.ends;
      if (kind == "run_completed") {
        const Json result = event.value("result", Json::object());
        run.outcome = result.value("outcome", "completed");
        run.outputs = result.value("outputs", Json::object());
      } else {
        run.outcome = kind == "run_failed" ? "failed" : "cancelled";
        run.error = event.value("error", "");
      }
      if (run.ends > 1) {
        checker_->violation(world_.now(), "workflow_runs_end",
                            "run " + run_id + " of " + book_->node + " ended " +
                                std::to_string(run.ends) + " times (at seq " +
                                std::to_string(event.value("seq", std::int64_t{0})) + ")");
      }
    }
    for (const auto& node : waiting) {
      Task<void> answering = answer(run_id, node);
      co_await answering;
    }
  }

  // Answers a waiting approval (drawn once per node, so a retry gives the same answer) or
  // question.
  Task<void> answer(std::string run_id, Json node) {
    const std::string key = node.value("key", "");
    if (key.empty() || book_->runs[run_id].answered.contains(key)) co_return;
    std::string verb = "answer";
    Json body = {{"node", key}, {"answer", "yes"}};
    if (node.value("type", "") == "approval") {
      FollowedRun& run = book_->runs[run_id];
      if (!run.decisions.contains(key)) {
        const bool approve = env_.random.chance(book_->config.approve_share);
        run.decisions[key] = approve;
        run.answers.push_back(approve ? "approved" : "denied");
        ++(approve ? book_->approved : book_->denied);
      }
      verb = run.decisions[key] ? "approve" : "deny";
      body = {{"node", key}};
    }
    Task<Result<ApiReply>> answering =
        call("POST", "/api/v1/runs/" + run_id + "/" + verb, Json::object(), body.dump());
    Result<ApiReply> answered = co_await answering;
    // 409: nothing waits any more (an earlier answer whose reply was lost took).
    if (answered && (answered->status == 200 || answered->status == 409)) {
      book_->runs[run_id].answered.insert(key);
    }
  }

  Env& env_;
  const World& world_;
  WorkflowClientBook* book_;
  Checker* checker_;
  Scope scope_;  // last: destroyed first
};

// Whether the run's outputs hold every expected output with the expected value.
std::string output_mismatch(const Json& outputs, const Json& expected) {
  for (const auto& [name, value] : expected.items()) {
    if (!outputs.is_object() || !outputs.contains(name)) return "no output " + name;
    if (outputs[name] != value) {
      return "output " + name + " is " + outputs[name].dump() + ", expected " + value.dump();
    }
  }
  return "";
}

}  // namespace

std::string answers_key(const FollowedRun& run) {
  if (run.answers.empty()) return "none";
  std::string key;
  for (const auto& a : run.answers) key += (key.empty() ? "" : ",") + a;
  return key;
}

std::shared_ptr<void> make_workflow_client(Env& env, const World& world, WorkflowClientBook* book,
                                           Checker* checker) {
  return std::make_shared<WorkflowClient>(env, world, book, checker);
}

void check_workflow_clients(const std::vector<std::unique_ptr<WorkflowClientBook>>& books,
                            SimDatabase& database, Checker& checker, Instant heal, Instant end) {
  // A run needs this long after it starts, or after healing, to be held to having ended.
  const Duration budget = seconds(40);
  std::map<std::string, std::string> stored;  // run id → status
  // Run id → the answers its history holds: approval key → approved?
  std::map<std::string, std::map<std::string, bool>> signalled;
  auto read = database.database().transact([&](SqlTransaction& tx) -> Result<void> {
    auto runs =
        tx.query("SELECT id, status FROM workflow_runs WHERE workflow_name = 'workflow'", {});
    if (!runs) return fail(runs.error());
    for (const SqlRecord& r : records(*runs)) stored[r.text("id")] = r.text("status");
    for (const auto& book : books) {
      for (const auto& [run_id, run] : book->runs) {
        auto history = engine::load_history(tx, run_id);
        if (!history) return fail(history.error());
        for (const auto& e : *history) {
          if (e.kind != engine::EventKind::signal_received ||
              e.body.value("name", "") != workflow::kAnswerSignal)
            continue;
          const Json payload = e.body.value("payload", Json::object());
          const std::string status = payload.value("output", Json::object()).value("status", "");
          if (status == "approved" || status == "denied")
            signalled[run_id][payload.value("key", "")] = status == "approved";
        }
      }
    }
    return {};
  });
  if (!read) {
    checker.violation(end, "workflow_runs_end",
                      "cannot read the database: " + read.error().message);
    return;
  }
  for (const auto& book : books) {
    for (const auto& [run_id, run] : book->runs) {
      const std::string who = "run " + run_id + " of " + book->node;
      // An approval's answer in the history is the one the person gave, and nobody else's.
      for (const auto& [key, approved] : signalled[run_id]) {
        const auto decided = run.decisions.find(key);
        if (decided == run.decisions.end() || decided->second != approved) {
          checker.violation(end, "approvals_signalled",
                            who + ": approval " + key + " is recorded " +
                                (approved ? "approved" : "denied") + ", which its client " +
                                (decided == run.decisions.end() ? std::string("never answered")
                                                                : std::string("did not say")));
        }
      }
      const auto status = stored.find(run_id);
      if (run.ends == 0) {
        if (std::max(run.started, heal) + budget <= end) {
          checker.violation(end, "workflow_runs_end",
                            who + " (started " + format_duration(run.started - kSimEpoch) +
                                ") never ended; stored as " +
                                (status == stored.end() ? std::string("nothing") : status->second) +
                                where_stuck(database, run_id));
        }
        continue;
      }
      if (status == stored.end() || status->second != run.outcome) {
        checker.violation(end, "workflow_runs_end",
                          who + " ended " + run.outcome + " but is stored as " +
                              (status == stored.end() ? std::string("nothing") : status->second));
      }
      // Before healing, faults may use up a node's attempts: the run fails wherever it was.
      if (run.outcome == "failed" && run.started < heal) continue;
      const std::string key = answers_key(run);
      const auto expected = book->config.expect.find(key);
      if (expected == book->config.expect.end()) {
        checker.violation(end, "workflow_runs_end",
                          who + " ended " + run.outcome +
                              (run.error.empty() ? "" : " (" + run.error + ")") +
                              ", and the scenario expects nothing for answers '" + key + "'");
        continue;
      }
      if (run.outcome != expected->second.outcome) {
        checker.violation(end, "workflow_runs_end",
                          who + " (answers '" + key + "') ended " + run.outcome +
                              (run.error.empty() ? "" : " (" + run.error + ")") + ", expected " +
                              expected->second.outcome);
        continue;
      }
      if (const auto mismatch = output_mismatch(run.outputs, expected->second.outputs);
          !mismatch.empty()) {
        checker.violation(end, "workflow_runs_end", who + " (answers '" + key + "'): " + mismatch);
      }
    }
  }
}

void check_node_daemons(SimDatabase& database, Checker& checker, Instant end) {
  std::vector<std::string> problems;
  auto read = database.database().transact([&](SqlTransaction& tx) -> Result<void> {
    auto runs =
        tx.query("SELECT id, input_json FROM workflow_runs WHERE workflow_name = 'workflow'", {});
    if (!runs) return fail(runs.error());
    for (const SqlRecord& r : records(*runs)) {
      const std::string run_id = r.text("id");
      const Json input = Json::parse(r.text("input_json"), nullptr, false);
      const std::string user = input.is_object() ? input.value("user_id", "") : "";
      auto history = engine::load_history(tx, run_id);
      if (!history) return fail(history.error());
      std::map<std::int64_t, Json> scheduled;
      for (const auto& e : *history) {
        if (e.kind == engine::EventKind::activity_scheduled) {
          scheduled[e.seq] = e.body.value("input", Json::object());
          continue;
        }
        if (e.kind != engine::EventKind::activity_completed) continue;
        const Json result = e.body.value("result", Json::object());
        const std::string daemon_id = result.is_object() ? result.value("daemon_id", "") : "";
        const auto node = scheduled.find(e.ref_seq());
        if (daemon_id.empty() || node == scheduled.end() || !node->second.is_object()) continue;
        const std::string key = node->second.value("key", "");
        auto daemon = find_daemon(tx, daemon_id);
        if (!daemon) return fail(daemon.error());
        if (!*daemon) {
          problems.push_back("run " + run_id + " node " + key + " ran on unknown daemon " +
                             daemon_id);
          continue;
        }
        if ((*daemon)->user_id != user) {
          problems.push_back("run " + run_id + " of " + user + ": node " + key + " ran on daemon " +
                             daemon_id + " of " + (*daemon)->user_id);
          continue;
        }
        const Json wanted = node->second.value("daemon", Json());
        if (wanted.is_null()) continue;  // the default resolution: any of the user's
        auto selector = parse_daemon_selector(wanted);
        if (!selector) continue;  // not a plain selector
        if (!matches(*selector, routing::candidate_from(**daemon))) {
          problems.push_back("run " + run_id + " node " + key + " asked for " + wanted.dump() +
                             " and ran on " + (*daemon)->name + " (" +
                             std::string(to_string((*daemon)->type)) + ")");
        }
      }
    }
    return {};
  });
  if (!read) {
    checker.violation(end, "workflow_node_daemons",
                      "cannot read the database: " + read.error().message);
    return;
  }
  for (const auto& problem : problems) checker.violation(end, "workflow_node_daemons", problem);
  check_tool_placement(database, checker, end);
}

}  // namespace reliant::sim

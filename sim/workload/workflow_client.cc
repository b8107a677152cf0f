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

  // Runs that have not ended, except those the client left paused or held: it waits for those
  // no more.
  std::size_t open_runs() const {
    return static_cast<std::size_t>(
        std::count_if(book_->runs.begin(), book_->runs.end(),
                      [](const auto& r) { return r.second.ends == 0 && !r.second.left; }));
  }

  void follow(const std::string& run_id, bool adopted) {
    if (!book_->followed->insert(run_id).second) return;  // another client follows it
    FollowedRun& run = book_->runs[run_id];
    run.started = world_.now();
    run.adopted = adopted;
    plan_control(run);
  }

  // When the client will pause the run and whether it will resume it, and whether it will change
  // an input before answering: drawn once, so that a client that restarts keeps to them.
  void plan_control(FollowedRun& run) {
    const WorkflowControlConfig& c = book_->config.control;
    if (env_.random.chance(c.pause_share)) {
      run.pause_planned = true;
      run.pause_at_approval = env_.random.chance(c.pause_at_approval);
      run.pause_at = world_.now() + env_.random.between(c.pause_after_min, c.pause_after_max);
      run.pause_length = env_.random.between(c.pause_length_min, c.pause_length_max);
      run.leave_paused = env_.random.chance(c.leave_paused);
    }
    run.set_planned = !c.set_name.empty() && env_.random.chance(c.set_share);
  }

  // A start request: by name from its project, or its YAML inline; some with on_failure: pause
  // and the inputs that make a step fail.
  std::string start_body() {
    const WorkflowControlConfig& control = book_->config.control;
    Json inputs = book_->config.inputs;
    const bool hold = env_.random.chance(control.hold_share);
    if (hold) inputs.update(control.hold_inputs);
    Json body = book_->config.project ? Json{{"workflow", book_->workflow_name},
                                             {"project_id", book_->project_id},
                                             {"inputs", inputs}}
                                      : Json{{"source", book_->config.workflow},
                                             {"file", "scenario-workflow.yaml"},
                                             {"inputs", inputs}};
    if (hold) body["on_failure"] = "pause";
    return body.dump();
  }

  Task<void> start_loop() {
    for (;;) {
      co_await sleep(env_.executor, book_->config.interval);
      if (open_runs() >= static_cast<std::size_t>(book_->config.concurrent)) continue;
      Task<Result<ApiReply>> starting =
          call("POST", "/api/v1/workflows/runs", Json::object(), start_body());
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
    Json paused;  // the run's control state, when it is paused
    for (const auto& event : reply.value("events", Json::array())) {
      FollowedRun& run = book_->runs[run_id];
      const std::string kind = event.value("kind", "");
      if (kind == "node_waiting" || kind == "run_paused") {
        (kind == "run_paused" ? paused : waiting.emplace_back()) = event;
        continue;  // repeated on every read while it lasts: not a step of the cursor
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
    if (book_->runs[run_id].ends > 0) co_return;
    const bool approval_waiting = std::any_of(waiting.begin(), waiting.end(), [](const Json& n) {
      return n.value("type", "") == "approval";
    });
    Task<bool> controlling = control(run_id, paused, approval_waiting);
    const bool answer_now = co_await controlling;
    for (const auto& node : waiting) {
      if (!answer_now) break;
      Task<void> answering = answer(run_id, node);
      co_await answering;
    }
  }

  // A control request; returns the reply's status, or 0 when none came.
  Task<int> control_request(std::string run_id, std::string verb, Json body) {
    ++book_->runs[run_id].control_requests;
    Task<Result<ApiReply>> sending =
        call("POST", "/api/v1/runs/" + run_id + "/" + verb, Json::object(), body.dump());
    Result<ApiReply> sent = co_await sending;
    if (!sent) co_return 0;
    if (sent->status == 200) ++book_->controlled[verb];
    co_return sent->status;
  }

  // What the client does to the run as its events end (`paused`: the run_paused event, or
  // null): its held steps, its pause or resume when due, and the input it changes before it
  // answers an approval. Returns whether to answer the waiting approvals now.
  Task<bool> control(std::string run_id, Json paused, bool approval_waiting) {
    const bool by_user = paused.is_object() && paused.value("paused_by_user", false);
    const Json held = paused.is_object() ? paused.value("held", Json::array()) : Json::array();
    for (const auto& step : held.is_array() ? held : Json::array()) {
      Task<void> releasing = release(run_id, step.value("key", ""));
      co_await releasing;
    }
    Task<bool> pausing = pause_or_resume(run_id, by_user, approval_waiting);
    const bool pause_settled = co_await pausing;
    FollowedRun& run = book_->runs[run_id];
    if (approval_waiting && run.set_planned && !run.input_set) {
      const WorkflowControlConfig& c = book_->config.control;
      Task<int> setting =
          control_request(run_id, "set", Json{{"name", c.set_name}, {"value", c.set_value}});
      const int status = co_await setting;
      // 409: the run ended. No reply, or a server error (a commit whose outcome the api could
      // not learn), leaves it unknown: the change is sent again, and the answer waits.
      run.input_set = status == 200 || status == 409;
      if (status == 200) run.answers.push_back("set");
    }
    co_return pause_settled && (!run.set_planned || run.input_set);
  }

  // A held step: retried, skipped or failed as drawn for it (once), or left held — some while
  // after the client first finds it held, as a person takes a while to look.
  Task<void> release(std::string run_id, std::string key) {
    if (key.empty()) co_return;
    FollowedRun& run = book_->runs[run_id];
    const WorkflowControlConfig& c = book_->config.control;
    const auto act_at = run.act_at.try_emplace(
        key, world_.now() + env_.random.between(c.react_after_min, c.react_after_max));
    if (world_.now() < act_at.first->second) co_return;
    if (!run.holding.contains(key)) {
      const double pick =
          env_.random.unit() * (c.retry_weight + c.skip_weight + c.fail_weight + c.leave_weight);
      const std::string action = pick < c.retry_weight                                   ? "retry"
                                 : pick < c.retry_weight + c.skip_weight                 ? "skip"
                                 : pick < c.retry_weight + c.skip_weight + c.fail_weight ? "fail"
                                                                                         : "leave";
      run.holding[key] = action;
      run.answers.push_back(action == "retry"  ? "retried"
                            : action == "skip" ? "skipped"
                            : action == "fail" ? "failed"
                                               : "left");
    }
    const std::string action = run.holding[key];
    if (action == "leave") {
      run.left = true;
      co_return;
    }
    Json body{{"node", key}};
    if (action == "retry") body["args"] = book_->config.control.retry_args;
    if (action == "skip") body["output"] = book_->config.control.skip_output;
    // The next read of the run's events tells whether it took: the step no longer waits.
    Task<int> sending = control_request(run_id, action, std::move(body));
    co_await sending;
  }

  // The run's pause when it is due, and its resume `pause_length` after the pause took (unless
  // the client leaves it paused). Returns false while a pause due at an approval has not taken:
  // the approval is answered once the run is paused.
  Task<bool> pause_or_resume(std::string run_id, bool by_user, bool approval_waiting) {
    FollowedRun& run = book_->runs[run_id];
    if (!run.pause_planned) co_return true;
    const Instant now = world_.now();
    if (!run.paused) {
      const bool due = run.pause_at_approval ? approval_waiting : now >= run.pause_at;
      if (!due) co_return true;
      int status = 200;  // paused by this client already: its reply was lost
      if (!by_user) {
        Task<int> pausing = control_request(run_id, "pause", Json::object());
        status = co_await pausing;
      }
      // 409: already paused (an earlier request of this client's took), or the run ended.
      if (status != 200 && status != 409) co_return !run.pause_at_approval;
      run.paused = true;
      run.resume_at = now + run.pause_length;
      run.left = run.left || run.leave_paused;
      co_return true;
    }
    if (run.leave_paused || run.resumed || now < run.resume_at) co_return true;
    if (!by_user) {
      run.resumed = true;  // an earlier resume took
      co_return true;
    }
    Task<int> resuming = control_request(run_id, "resume", Json::object());
    const int status = co_await resuming;
    if (status == 200 || status == 409) book_->runs[run_id].resumed = true;
    co_return true;
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

std::string summarize_workflow_clients(
    const std::vector<std::unique_ptr<WorkflowClientBook>>& books,
    const std::map<std::string, std::uint64_t>& sub_agents,
    const std::map<std::string, std::uint64_t>& control) {
  const auto u = [](std::uint64_t v) { return std::to_string(v); };
  std::uint64_t started = 0, found = 0, ended = 0, approved = 0, denied = 0, left = 0;
  std::map<std::string, int> outcomes;
  std::map<std::string, std::uint64_t> controlled;
  for (const auto& book : books) {
    started += book->started;
    approved += book->approved;
    denied += book->denied;
    for (const auto& [verb, n] : book->controlled) controlled[verb] += n;
    for (const auto& [id, run] : book->runs) {
      found += run.adopted ? 1 : 0;
      left += run.left ? 1 : 0;
      if (run.ends == 0) continue;
      ++ended;
      ++outcomes[run.outcome + " after '" + answers_key(run) + "'"];
    }
  }
  const auto list = [&](const auto& counts, const std::string& title) {
    std::string out;
    for (const auto& [what, n] : counts)
      out += (out.empty() ? title : std::string(", ")) + u(n) + " " + what;
    return out;
  };
  std::string out = "workflows: " + u(started) + " runs started, " + u(found) +
                    " found after a lost reply, " + u(ended) + " ended (" + list(outcomes, "") +
                    "), " + u(approved) + " approvals given, " + u(denied) + " denied" +
                    list(sub_agents, "; sub-agents: ");
  if (!controlled.empty() || !control.empty()) {
    out += list(controlled, "; control requests taken: ") + "; " + u(left) +
           " runs left paused or held" + list(control, "; histories: ");
  }
  return out + "\n";
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
      if (run.ends == 0) {  // one its client left paused or held is paused_runs_start_nothing's
        if (!run.left && std::max(run.started, heal) + budget <= end) {
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

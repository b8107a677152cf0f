// The durable engine on SQLite and on a real Postgres: workflows run to completion through real
// workers; leases, retries, timeouts, signals, cancellation and idempotent results behave the
// same on both.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>

#include "adapters/asio/asio_executor.h"
#include "adapters/asio/run_blocking.h"
#include "adapters/memory/in_process_bus.h"
#include "core/engine/builtin_workflows.h"
#include "runtime/sleep.h"
#include "services/engine/engine_sql.h"
#include "services/storage/sql_row.h"
#include "services/updates/user_events.h"
#include "services/worker/worker.h"
#include "store/store_backend.h"

namespace reliant::engine {
namespace {

class TallyEcho;

// Decisions of every shape a step's statement writes (engine_steps.cc, on Postgres: up to three
// events, at most one of them terminal) and of one it leaves to separate statements: after the
// first echo, an echo and a timer; after the second, four echoes at once; when all six have
// answered and the timer fired, the run completes with how many there were.
class ShapedDecisions final : public Workflow {
 public:
  std::string_view name() const override { return "shaped_decisions"; }
  Result<std::vector<Command>> decide(const RunState& state) const override {
    if (state.pending_activities() > 0 && state.activities.size() < 6)
      return std::vector<Command>{};
    const auto echo = [](std::size_t step) {
      return ScheduleActivity{"echo", Json{{"step", step}}, {}};
    };
    switch (state.activities.size()) {
      case 0:
        return std::vector<Command>{echo(1)};
      case 1:
        return std::vector<Command>{echo(2), StartTimer{milliseconds(20), "pause", nullptr}};
      case 2:
        return std::vector<Command>{echo(3), echo(4), echo(5), echo(6)};
      default:
        break;
    }
    if (state.pending_activities() > 0 || !state.timers.begin()->second.fired)
      return std::vector<Command>{};
    return std::vector<Command>{CompleteRun{Json{{"activities", state.activities.size()}}}};
  }
};

// Three echoes at once, then the end with how many answered: a first decision of several
// activities.
class FanOut final : public Workflow {
 public:
  std::string_view name() const override { return "fan_out"; }
  Result<std::vector<Command>> decide(const RunState& state) const override {
    if (state.activities.empty()) {
      std::vector<Command> echoes;
      const int width = state.input.value("width", 3);
      for (int step = 1; step <= width; ++step)
        echoes.push_back(ScheduleActivity{"echo", Json{{"step", step}}, {}});
      return echoes;
    }
    if (state.pending_activities() > 0) return std::vector<Command>{};
    return std::vector<Command>{CompleteRun{Json{{"answered", state.completed_activities()}}}};
  }
};

class EngineConformance : public testing_store::MigratedBackendTest {
 protected:
  void SetUp() override {
    MigratedBackendTest::SetUp();
    if (HasFatalFailure()) return;
    register_builtin_workflows(workflows_);
    register_builtin_activities(activities_);
  }
  std::int64_t now_ms() { return to_ms(executor_.now()); }
  SqlDialect dialect() const { return store_->dialect(); }

  void start(const std::string& id, const std::string& workflow, Json input,
             std::optional<ParentRun> parent = std::nullopt) {
    const NewRun run{id, "test", workflow, std::move(input), std::move(parent)};
    const auto at = now_ms();
    auto started = transact(
        [run, at, d = dialect()](SqlTransaction& tx) { return start_run(tx, d, run, at); });
    ASSERT_TRUE(started.has_value()) << started.error().message;
  }
  // start(), its first decision made by the starter when it can (start_run's decide_first).
  // `ready`: set to the ids of the tasks the start made ready.
  void start_decided(const std::string& id, const std::string& workflow, Json input,
                     RunStartSent sent = RunStartSent::now,
                     std::vector<std::string>* ready = nullptr) {
    const NewRun run{id, "test", workflow, std::move(input)};
    const auto at = now_ms();
    auto ids = std::make_shared<std::vector<std::string>>();
    auto started =
        transact([run, at, d = dialect(), sent, w = &workflows_, ids](SqlTransaction& tx) {
          ids->clear();
          return start_run(tx, d, run, at, sent, w, ids.get());
        });
    ASSERT_TRUE(started.has_value()) << started.error().message;
    if (ready != nullptr) *ready = *ids;
  }
  // The ids of the tasks record_inserted_tasks saw inserted, in order of id.
  std::vector<std::string> inserted_tasks() {
    auto inserted = std::make_shared<std::vector<std::string>>();
    auto read = transact([inserted](SqlTransaction& tx) -> Result<void> {
      auto ids = tx.query("SELECT id FROM inserted_tasks ORDER BY id", {});
      if (!ids) return fail(ids.error());
      for (const SqlRecord& r : records(*ids)) inserted->push_back(r.text("id"));
      return {};
    });
    EXPECT_TRUE(read.has_value()) << read.error().message;
    return *inserted;
  }

  RunSummary run_of(const std::string& id) {
    auto out = std::make_shared<RunSummary>();
    auto read = transact([id, out](SqlTransaction& tx) -> Result<void> {
      auto r = get_run(tx, id);
      if (!r) return fail(r.error());
      *out = *r;
      return {};
    });
    EXPECT_TRUE(read.has_value()) << read.error().message;
    return *out;
  }

  std::vector<HistoryEvent> history_of(const std::string& id) {
    auto out = std::make_shared<std::vector<HistoryEvent>>();
    auto read = transact([id, out](SqlTransaction& tx) -> Result<void> {
      auto h = load_history(tx, id);
      if (!h) return fail(h.error());
      *out = *h;
      return {};
    });
    EXPECT_TRUE(read.has_value()) << read.error().message;
    return *out;
  }

  // The tally table, and a TallyEcho in `activities` (whose workers' store is the backend's).
  TallyEcho& add_tally_echo(ActivityRegistry& activities);
  // The steps TallyEcho recorded, a row each, in order.
  std::vector<std::int64_t> tallied() {
    auto rows = std::make_shared<std::vector<std::int64_t>>();
    auto read = transact([rows](SqlTransaction& tx) -> Result<void> {
      auto tallied = tx.query("SELECT seq FROM tally ORDER BY seq", {});
      if (!tallied) return fail(tallied.error());
      for (const SqlRecord& r : records(*tallied)) rows->push_back(r.integer("seq"));
      return {};
    });
    EXPECT_TRUE(read.has_value()) << read.error().message;
    return *rows;
  }

  // A worker of queue "test", with the built-in activities or `activities`.
  std::unique_ptr<Worker> make_worker(const std::string& id,
                                      const ActivityRegistry* activities = nullptr) {
    WorkerConfig config;
    config.worker_id = id;
    config.queue = "test";
    config.poll_interval = milliseconds(50);
    config.reap_interval = milliseconds(50);
    config.store_retry = milliseconds(20);
    return std::make_unique<Worker>(env_, config, workflows_,
                                    activities != nullptr ? *activities : activities_);
  }

  // Runs the executor until every run in `ids` has ended (or 20 s pass, a failure).
  void run_until_terminal(const std::vector<std::string>& ids) {
    bool all_done = false;
    Scope watcher(executor_);
    watcher.spawn(watch(this, ids, &all_done));
    const Instant deadline = executor_.now() + seconds(20);
    executor_.run_until([&] { return all_done || executor_.now() > deadline; });
    ASSERT_TRUE(all_done) << "runs did not end within 20 s";
  }

  static Task<void> watch(EngineConformance* self, std::vector<std::string> ids, bool* all_done) {
    for (;;) {
      auto open = std::make_shared<std::int64_t>(0);
      TransactionBody body = [ids, open](SqlTransaction& tx) -> Result<void> {
        for (const auto& id : ids) {
          auto r = get_run(tx, id);
          if (!r) return fail(r.error());
          if (!r->terminal()) ++*open;
        }
        return {};
      };
      Task<Result<void>> pending = self->store_->transact(std::move(body));
      Result<void> read = co_await pending;
      if (read && *open == 0) {
        *all_done = true;
        co_return;
      }
      co_await sleep(self->executor_, milliseconds(20));
    }
  }

  // The engine's tasks left for the runs `ids`, of any status.
  std::int64_t tasks_of(const std::vector<std::string>& ids) {
    auto n = std::make_shared<std::int64_t>(0);
    auto read = transact([ids, n](SqlTransaction& tx) -> Result<void> {
      for (const auto& id : ids) {
        auto counted = tx.query("SELECT COUNT(*) AS n FROM engine_tasks WHERE run_id = $1", {id});
        if (!counted) return fail(counted.error());
        *n += first_record(*counted).integer("n");
      }
      return {};
    });
    EXPECT_TRUE(read.has_value()) << read.error().message;
    return *n;
  }

  // A retired task is deleted, so ended runs with nothing scheduled leave no task behind (a
  // decision task made before the end goes when a worker takes it: the wait allows for it).
  void expect_no_tasks_left(const std::vector<std::string>& ids) {
    const Instant deadline = executor_.now() + seconds(5);
    while (tasks_of(ids) != 0 && executor_.now() < deadline) {
      const Instant turn = executor_.now() + milliseconds(50);  // the workers go on meanwhile
      executor_.run_until([&] { return executor_.now() >= turn; });
    }
    EXPECT_EQ(tasks_of(ids), 0) << "tasks of ended runs are deleted";
  }

  // Every history: gapless from 1, and at most one answer per activity and timer.
  void expect_sound_history(const std::string& id) {
    const auto history = history_of(id);
    std::set<std::int64_t> answered;
    for (std::size_t i = 0; i < history.size(); ++i) {
      EXPECT_EQ(history[i].seq, static_cast<std::int64_t>(i + 1)) << id;
      if (const auto ref = history[i].ref_seq(); ref > 0) {
        EXPECT_TRUE(answered.insert(ref).second) << id << " seq " << ref;
      }
    }
    EXPECT_TRUE(RunState::fold(history).has_value()) << id;
  }

  InProcessBroker broker_;
  InProcessBus bus_{broker_, executor_};
  Random random_{1};
  Env env_{executor_, random_, &bus_, nullptr, nullptr, nullptr};
  WorkflowRegistry workflows_;
  ActivityRegistry activities_;
};

TEST_P(EngineConformance, AChainRunsToCompletion) {
  env_.store = store_.get();
  start("chain", "echo_chain", Json{{"steps", 5}, {"payload", "hi"}});
  auto worker = make_worker("w1");
  run_until_terminal({"chain"});
  const auto run = run_of("chain");
  EXPECT_EQ(run.status, RunStatus::completed);
  ASSERT_TRUE(run.result.has_value());
  EXPECT_EQ((*run.result)["steps"], 5);
  ASSERT_EQ((*run.result)["outputs"].size(), 5u);
  EXPECT_EQ((*run.result)["outputs"][4]["step"], 5);
  EXPECT_EQ((*run.result)["outputs"][4]["payload"], "hi");
  expect_sound_history("chain");
  // 1 start + 5 × (scheduled, completed) + 1 completed.
  EXPECT_EQ(history_of("chain").size(), 12u);
  expect_no_tasks_left({"chain"});
}

// A bus that refuses the first `refusals` queue subscriptions (a NATS connection still coming
// up), and passes everything else to `inner`.
class RefusingBus final : public Bus {
 public:
  RefusingBus(Bus& inner, int refusals) : inner_(inner), refusals_(refusals) {}
  Result<void> publish(std::string_view subject, std::string data,
                       std::string_view reply_to) override {
    return inner_.publish(subject, std::move(data), reply_to);
  }
  Result<SubscriptionPtr> subscribe(std::string_view pattern, BusHandler handler) override {
    return inner_.subscribe(pattern, std::move(handler));
  }
  Result<SubscriptionPtr> queue_subscribe(std::string_view pattern, std::string_view group,
                                          BusHandler handler) override {
    ++asked;
    if (refusals_-- > 0) return fail(ErrorCode::unavailable, "not connected yet");
    return inner_.queue_subscribe(pattern, group, std::move(handler));
  }
  Task<Result<BusMessage>> request(std::string subject, std::string data,
                                   Duration timeout) override {
    return inner_.request(std::move(subject), std::move(data), timeout);
  }
  std::string new_inbox() override { return inner_.new_inbox(); }

  int asked = 0;

 private:
  Bus& inner_;
  int refusals_;
};

// Wake-ups only hasten what the poll finds: a worker whose bus refuses them serves by polling
// (it used to abort), and subscribes when the bus lets it.
TEST_P(EngineConformance, AWorkerServesWhileTheBusRefusesItsWakeUps) {
  env_.store = store_.get();
  RefusingBus refusing(bus_, 3);
  env_.bus = &refusing;
  start("refused", "echo_chain", Json{{"steps", 3}, {"payload", "hi"}});
  auto worker = make_worker("w1");
  run_until_terminal({"refused"});
  EXPECT_EQ(run_of("refused").status, RunStatus::completed);
  const Instant later = executor_.now() + seconds(1);  // twenty poll intervals
  executor_.run_until([&] { return executor_.now() >= later; });
  EXPECT_EQ(refusing.asked, 4) << "asked again on later turns until subscribed, then no more";
  worker.reset();
  env_.bus = &bus_;
}

// "echo" as StoreWork: answers its input and records its step in `tally`. Its first
// `failing_writes` writes fail, and its write number `failing_write`, so the worker falls back
// to run(), which records the same. With
// `announce_on`, each write also leaves an update for user "tally-user" (its step's seq), for
// the worker to announce once the write commits.
class TallyEcho final : public Activity {
 public:
  explicit TallyEcho(Store& store) : store_(store) {}
  std::string_view name() const override { return "echo"; }
  Task<Result<Json>> run(ActivityContext& context, Json input) override {
    ++runs;
    Task<Result<void>> writing = store_.transact(tally(context));
    Result<void> written = co_await writing;
    if (!written) co_return fail(written.error());
    co_return input;
  }
  std::optional<StoreWork> store_work(const ActivityContext& context, const Json& input) override {
    StoreWork work;
    work.result = input;
    work.write = [this, body = tally(context)](SqlTransaction& tx) -> Result<void> {
      ++writes;
      if (failing_writes > 0 || writes == failing_write) {
        failing_writes = std::max(failing_writes - 1, 0);
        return fail(ErrorCode::unavailable, "a write that fails, as planned");
      }
      return body(tx);
    };
    work.committed = [this] { ++committed; };
    if (announce_on != nullptr) {
      work.updates = std::make_shared<std::vector<updates::UserEvent>>();
      work.bus = announce_on;
      work.write = [updates = work.updates, seq = context.scheduled_seq,
                    write = std::move(work.write)](SqlTransaction& tx) -> Result<void> {
        updates->clear();  // a body run again starts over, as updates::recording_updates does
        if (auto wrote = write(tx); !wrote) return wrote;
        updates->push_back({"tally-user", 0, "tally", "", Json{{"seq", seq}}, 0});
        return {};
      };
    }
    return work;
  }
  int runs = 0;
  int committed = 0;
  int failing_writes = 0;
  int writes = 0;         // writes tried, a body run again counting again
  int failing_write = 0;  // the write (counting from 1) that fails, once
  Bus* announce_on = nullptr;

 private:
  static TransactionBody tally(const ActivityContext& context) {
    return [run_id = context.run_id, seq = context.scheduled_seq](SqlTransaction& tx) {
      auto inserted = tx.execute("INSERT INTO tally (run_id, seq) VALUES ($1, $2)", {run_id, seq});
      if (!inserted) return Result<void>(fail(inserted.error()));
      return Result<void>{};
    };
  }
  Store& store_;
};

TallyEcho& EngineConformance::add_tally_echo(ActivityRegistry& activities) {
  env_.store = store_.get();
  auto made = transact([](SqlTransaction& tx) -> Result<void> {
    auto created = tx.execute("CREATE TABLE tally (run_id TEXT NOT NULL, seq BIGINT NOT NULL)", {});
    if (!created) return fail(created.error());
    return {};
  });
  EXPECT_TRUE(made.has_value()) << made.error().message;
  auto owned = std::make_unique<TallyEcho>(*store_);
  TallyEcho& echo = *owned;
  activities.add(std::move(owned));
  return echo;
}

TEST_P(EngineConformance, StoreWorkCommitsWithItsStepOnceAndFallsBackToRun) {
  ActivityRegistry activities;
  TallyEcho& echo = add_tally_echo(activities);
  if (HasFailure()) return;
  echo.failing_writes = 1;
  start("tallied", "echo_chain", Json{{"steps", 4}, {"payload", "hi"}});
  auto worker = make_worker("w1", &activities);
  run_until_terminal({"tallied"});
  const auto run = run_of("tallied");
  EXPECT_EQ(run.status, RunStatus::completed);
  ASSERT_TRUE(run.result.has_value());
  ASSERT_EQ((*run.result)["outputs"].size(), 4u);
  EXPECT_EQ((*run.result)["outputs"][3]["payload"], "hi");
  expect_sound_history("tallied");
  // Three steps as StoreWork (their writes committed with their results), one by run() after
  // its StoreWork's transaction failed; each step's row once.
  EXPECT_EQ(worker->stats().store_work, 4u);
  EXPECT_EQ(echo.committed, 3);
  EXPECT_EQ(echo.runs, 1);
  auto rows = std::make_shared<std::int64_t>(0);
  ASSERT_TRUE(transact([rows](SqlTransaction& tx) -> Result<void> {
    auto counted = tx.query("SELECT COUNT(*) AS n, COUNT(DISTINCT seq) AS steps FROM tally", {});
    if (!counted) return fail(counted.error());
    const SqlRecord r = first_record(*counted);
    if (r.integer("n") != r.integer("steps")) return fail(ErrorCode::internal, "a step twice");
    *rows = r.integer("n");
    return {};
  }));
  EXPECT_EQ(*rows, 4);
}

// Records the id of every task inserted from now on in a table `inserted_tasks`.
Result<void> record_inserted_tasks(SqlTransaction& tx, SqlDialect dialect) {
  std::vector<std::string> statements{"CREATE TABLE inserted_tasks (id TEXT NOT NULL)"};
  if (dialect == SqlDialect::postgres) {
    statements.push_back(
        "CREATE FUNCTION record_inserted_task() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO inserted_tasks (id) VALUES (NEW.id); RETURN NEW; END $$");
    statements.push_back(
        "CREATE TRIGGER inserted_task AFTER INSERT ON engine_tasks FOR EACH ROW EXECUTE "
        "FUNCTION record_inserted_task()");
  } else {
    statements.push_back(
        "CREATE TRIGGER inserted_task AFTER INSERT ON engine_tasks BEGIN "
        "INSERT INTO inserted_tasks (id) VALUES (NEW.id); END");
  }
  for (const std::string& sql : statements) {
    if (auto done = tx.execute(sql, {}); !done) return fail(done.error());
  }
  return {};
}

// Steps whose activities are StoreWork, one after another, commit in one transaction: the
// first step's transaction carries the next three (each its result, its decision and its
// writes), the history is the one the steps alone would write, the chain's activities never
// have a task (it would be inserted and deleted unseen), and the updates of the four works go
// out in one announcement, in their steps' order.
TEST_P(EngineConformance, StoreWorkStepsThatFollowEachOtherCommitTogether) {
  ActivityRegistry activities;
  TallyEcho& echo = add_tally_echo(activities);
  if (HasFailure()) return;
  ASSERT_TRUE(
      transact([d = dialect()](SqlTransaction& tx) { return record_inserted_tasks(tx, d); }));
  echo.announce_on = &bus_;
  std::vector<std::vector<std::int64_t>> announced;  // the steps' seqs, a message each
  auto listening =
      bus_.subscribe(updates::user_subject("tally-user"), [&announced](const BusMessage& m) {
        auto events = updates::decode_announcement(m.data);
        ASSERT_TRUE(events.has_value()) << events.error().message;
        std::vector<std::int64_t> seqs;
        for (const auto& e : *events) seqs.push_back(e.body.at("seq").get<std::int64_t>());
        announced.push_back(std::move(seqs));
      });
  ASSERT_TRUE(listening.has_value());
  start("chained", "echo_chain", Json{{"steps", 4}, {"payload", "hi"}});
  auto worker = make_worker("w1", &activities);
  run_until_terminal({"chained"});
  const auto run = run_of("chained");
  EXPECT_EQ(run.status, RunStatus::completed);
  ASSERT_TRUE(run.result.has_value());
  ASSERT_EQ((*run.result)["outputs"].size(), 4u);
  EXPECT_EQ((*run.result)["outputs"][3]["payload"], "hi");
  expect_sound_history("chained");
  EXPECT_EQ(history_of("chained").size(), 10u) << "1 start + 4 × (scheduled, completed) + 1 end";
  EXPECT_EQ(worker->stats().store_work, 4u);
  EXPECT_EQ(worker->stats().store_work_chained, 3u) << "steps 2 to 4 rode on step 1";
  EXPECT_EQ(echo.committed, 4);
  EXPECT_EQ(echo.runs, 0);
  EXPECT_EQ(tallied(), (std::vector<std::int64_t>{2, 4, 6, 8})) << "each step's row once";
  EXPECT_EQ(tasks_of({"chained"}), 0) << "every task is retired";
  EXPECT_EQ(inserted_tasks(), (std::vector<std::string>{"chained:act:2", "chained:wf:2"}))
      << "the first activity's task and the start's decision task; none for the chain's";
  const auto deadline = executor_.now() + seconds(5);
  executor_.run_until([&] { return !announced.empty() || executor_.now() > deadline; });
  EXPECT_EQ(announced, (std::vector<std::vector<std::int64_t>>{{2, 4, 6, 8}}))
      << "one announcement for the transaction's four works";
}

// A starter that decides a run's first step (start_run's decide_first) writes its activities'
// events and ready tasks with the run, and no workflow task: no worker decides the start. A
// first step of another kind (a timer, a failure) is left to a worker. Each run then ends as it
// would have, and the worker that claims the first activity keeps the run's state from that
// claim, so every step after it is decided from the kept state.
TEST_P(EngineConformance, AStarterDecidesAFirstStepOfActivitiesAndLeavesTheRestToAWorker) {
  env_.store = store_.get();
  workflows_.add(std::make_unique<FanOut>());
  ASSERT_TRUE(
      transact([d = dialect()](SqlTransaction& tx) { return record_inserted_tasks(tx, d); }));
  const auto inserted_of = [this](std::string_view run) {
    std::vector<std::string> ids;
    for (std::string& id : inserted_tasks()) {
      if (id.starts_with(std::string(run) + ":")) ids.push_back(std::move(id));
    }
    return ids;
  };
  // Deferred, as a chat's message sends it (with the next statement, here the COMMIT).
  start_decided("decided", "echo_chain", Json{{"steps", 3}, {"payload", "hi"}},
                RunStartSent::with_next);
  const auto started = history_of("decided");
  ASSERT_EQ(started.size(), 2u);
  EXPECT_EQ(started[1].kind, EventKind::activity_scheduled);
  EXPECT_EQ(started[1].body["input"]["step"], 1);
  EXPECT_EQ(inserted_of("decided"), (std::vector<std::string>{"decided:act:2"}));
  auto worker = make_worker("w1");
  run_until_terminal({"decided"});
  EXPECT_EQ(worker->stats().sticky_hits, 3u)
      << "the claim of the first activity kept the run: each of its three results decided from it";
  worker.reset();
  const auto decided = run_of("decided");
  ASSERT_EQ(decided.status, RunStatus::completed) << decided.error.value_or("");
  EXPECT_EQ((*decided.result)["outputs"][2]["payload"], "hi");
  EXPECT_EQ(history_of("decided").size(), 8u) << "1 start + 3 × (scheduled, completed) + 1 end";
  for (const std::string& id : inserted_of("decided")) {
    EXPECT_EQ(id.find(":wf:"), std::string::npos) << "no step of the run waited for a decision";
  }

  start_decided("fanned", "fan_out", Json::object());
  start_decided("wide", "fan_out", Json{{"width", 4}});
  start_decided("sleeping", "sleep", Json{{"seconds", 0.01}});
  start_decided("refused", "echo_chain", Json{{"steps", 0}});
  EXPECT_EQ(history_of("fanned").size(), 4u) << "the start and three activities";
  EXPECT_EQ(inserted_of("fanned"),
            (std::vector<std::string>{"fanned:act:2", "fanned:act:3", "fanned:act:4"}));
  EXPECT_EQ(history_of("wide").size(), 1u) << "four activities, past kFoldedEventsMax: a worker's";
  EXPECT_EQ(inserted_of("wide"), (std::vector<std::string>{"wide:wf:2"}));
  EXPECT_EQ(history_of("sleeping").size(), 1u) << "a timer is left to a worker";
  EXPECT_EQ(inserted_of("sleeping"), (std::vector<std::string>{"sleeping:wf:2"}));
  EXPECT_EQ(history_of("refused").size(), 1u) << "so is the end of a run its workflow refuses";
  EXPECT_EQ(inserted_of("refused"), (std::vector<std::string>{"refused:wf:2"}));
  worker = make_worker("w2");
  run_until_terminal({"fanned", "wide", "sleeping", "refused"});
  const auto fanned = run_of("fanned");
  ASSERT_EQ(fanned.status, RunStatus::completed) << fanned.error.value_or("");
  EXPECT_EQ((*fanned.result)["answered"], 3);
  const auto wide = run_of("wide");
  ASSERT_EQ(wide.status, RunStatus::completed) << wide.error.value_or("");
  EXPECT_EQ((*wide.result)["answered"], 4);
  EXPECT_EQ(run_of("sleeping").status, RunStatus::completed);
  const auto refused = run_of("refused");
  EXPECT_EQ(refused.status, RunStatus::failed);
  EXPECT_NE(refused.error.value_or("").find("steps must be within"), std::string::npos);
  for (const char* id : {"decided", "fanned", "wide", "sleeping", "refused"}) {
    expect_sound_history(id);
  }
  expect_no_tasks_left({"decided", "fanned", "wide", "sleeping", "refused"});
}

// The tasks a start made ready, named in a wake-up, are claimed by id with the run's history in
// one statement, once; and a worker woken so runs the run without polling the queue for it,
// each of its results decided from the history it claimed with.
TEST_P(EngineConformance, TasksAStartNamesAreClaimedByIdWithTheRunsHistory) {
  env_.store = store_.get();
  std::vector<std::string> ready;
  start_decided("named", "echo_chain", Json{{"steps", 2}}, RunStartSent::now, &ready);
  ASSERT_EQ(ready, (std::vector<std::string>{"named:act:2"}));
  start("plain", "echo_chain", Json{{"steps", 2}});
  const auto claim = [&](const std::string& run, std::vector<std::string> ids) {
    auto out = std::make_shared<NamedClaim>();
    auto claimed = transact([d = dialect(), run, ids, at = now_ms(), out](SqlTransaction& tx) {
      auto named = claim_named_tasks(tx, d, run, ids, "test", "w0", at, 30'000);
      if (!named) return Result<void>(fail(named.error()));
      *out = std::move(*named);
      return Result<void>{};
    });
    EXPECT_TRUE(claimed.has_value()) << claimed.error().message;
    return *out;
  };
  EXPECT_TRUE(claim("named", {"plain:wf:2"}).claimed.empty()) << "another run's task";
  const NamedClaim first = claim("named", {"named:act:2", "named:act:9"});
  ASSERT_EQ(first.claimed.size(), 1u);
  EXPECT_EQ(first.claimed[0].id, "named:act:2");
  EXPECT_EQ(first.claimed[0].kind, TaskKind::activity);
  EXPECT_EQ(first.claimed[0].attempt, 1);
  ASSERT_EQ(first.history.size(), 2u);
  EXPECT_EQ(first.history[1].kind, EventKind::activity_scheduled);
  EXPECT_EQ(first.history[1].body["input"]["step"], 1);
  EXPECT_EQ(event_digest(first.history[1]), event_digest(history_of("named")[1]))
      << "the history as stored";
  EXPECT_TRUE(claim("named", {"named:act:2"}).claimed.empty()) << "leased already";
  EXPECT_TRUE(claim("named", {"named:act:2"}).history.empty());

  WorkerConfig config;
  config.worker_id = "w1";
  config.queue = "test";
  config.poll_interval = seconds(30);  // only the first poll, at its start
  config.reap_interval = seconds(30);
  Worker worker(env_, config, workflows_, activities_);
  run_until_terminal({"plain"});  // the first poll claimed it
  // A run's end is in the store before the worker has counted its last step (TSan in CI once
  // counted plain's last sticky hit among woken's).
  const auto settle = [&] {
    const Instant deadline = executor_.now() + seconds(20);
    executor_.run_until([&] { return worker.in_flight() == 0 || executor_.now() > deadline; });
    ASSERT_EQ(worker.in_flight(), 0) << "the worker still holds tasks after 20 s";
  };
  settle();
  const std::uint64_t polls = worker.stats().polls;
  const std::uint64_t hits = worker.stats().sticky_hits;
  start_decided("woken", "echo_chain", Json{{"steps", 3}, {"payload", "hi"}}, RunStartSent::now,
                &ready);
  announce_start(bus_, "test", "woken", "u1", ready);
  run_until_terminal({"woken"});
  settle();
  EXPECT_EQ(worker.stats().named_claimed, 1u);
  EXPECT_EQ(worker.stats().polls, polls) << "the wake-up's tasks were claimed without a poll";
  EXPECT_EQ(worker.stats().sticky_hits - hits, 3u)
      << "each result decided from the claimed history";
  const auto woken = run_of("woken");
  ASSERT_EQ(woken.status, RunStatus::completed) << woken.error.value_or("");
  EXPECT_EQ((*woken.result)["outputs"][2]["payload"], "hi");
  expect_sound_history("woken");
  expect_no_tasks_left({"woken", "plain"});
  // Anyone on the bus may publish there: a body that is not JSON, or that names another run's
  // tasks (or one task many times), is a plain wake-up, a poll.
  start("other", "echo_chain", Json{{"steps", 1}});
  ASSERT_TRUE(bus_.publish(wake_subject("test"), "{not json").has_value());
  run_until_terminal({"other"});
  EXPECT_GT(worker.stats().polls, polls) << "the plain wake-up polled";
  const std::uint64_t polled = worker.stats().polls;
  start("foreign", "echo_chain", Json{{"steps", 1}});
  announce_start(bus_, "test", "woken", "u1", {"foreign:wf:2", "foreign:wf:2"});
  run_until_terminal({"foreign"});
  EXPECT_EQ(worker.stats().named_claimed, 1u) << "no task of another run is claimed by name";
  EXPECT_GT(worker.stats().polls, polled);
  // Nor without a user to check the share of (a starter always names it), and a flood of bodies
  // naming tasks nobody has holds few slots (kNamedSlotsMax), all freed once its claims end.
  std::vector<std::string> unowned;
  start_decided("unowned", "echo_chain", Json{{"steps", 1}}, RunStartSent::now, &unowned);
  for (int i = 0; i < 50; ++i) {
    announce_start(bus_, "test", "ghost", "u1", {"ghost:act:" + std::to_string(i)});
  }
  announce_start(bus_, "test", "unowned", "", unowned);
  run_until_terminal({"unowned"});
  EXPECT_EQ(worker.stats().named_claimed, 1u);
  expect_no_tasks_left({"other", "foreign", "unowned"});
  settle();  // every reservation freed
}

// A chained step's write fails: the chain's activities have no tasks, so the whole transaction
// fails with it — the step it rode on included — and the steps are decided again from the store,
// each activity with its task, each step's row once.
TEST_P(EngineConformance, AChainThatFailsPartwayIsDecidedAgainFromTheStore) {
  ActivityRegistry activities;
  TallyEcho& echo = add_tally_echo(activities);
  if (HasFailure()) return;
  echo.failing_write = 2;  // step 1's own write passes, the first chained step's fails
  start("broken", "echo_chain", Json{{"steps", 4}, {"payload", "hi"}});
  auto worker = make_worker("w1", &activities);
  run_until_terminal({"broken"});
  const auto run = run_of("broken");
  EXPECT_EQ(run.status, RunStatus::completed);
  ASSERT_TRUE(run.result.has_value());
  ASSERT_EQ((*run.result)["outputs"].size(), 4u);
  expect_sound_history("broken");
  EXPECT_EQ(history_of("broken").size(), 10u);
  EXPECT_EQ(tasks_of({"broken"}), 0);
  EXPECT_GE(echo.writes, 5) << "the failed transaction's writes were tried again";
  EXPECT_EQ(tallied(), (std::vector<std::int64_t>{2, 4, 6, 8})) << "each step's row once";
}

TEST_P(EngineConformance, InvalidInputAndUnknownWorkflowsFailWithARecordedError) {
  env_.store = store_.get();
  start("bad-input", "echo_chain", Json{{"steps", "many"}});
  start("no-such", "no_such_workflow", Json::object());
  auto worker = make_worker("w1");
  run_until_terminal({"bad-input", "no-such"});
  const auto bad = run_of("bad-input");
  EXPECT_EQ(bad.status, RunStatus::failed);
  EXPECT_EQ(bad.error,
            "invalid input for workflow echo_chain: expected {\"steps\": N, \"payload\": …}");
  EXPECT_EQ(run_of("no-such").error, "unknown workflow 'no_such_workflow'");
  const NewRun duplicate{"bad-input", "test", "echo_chain", Json::object()};
  const auto at = now_ms();
  auto again = transact([duplicate, at, d = dialect()](SqlTransaction& tx) {
    return start_run(tx, d, duplicate, at);
  });
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::already_exists);
}

TEST_P(EngineConformance, TimersSignalsAndCancellation) {
  env_.store = store_.get();
  start("sleeper", "sleep", Json{{"seconds", 0.2}});
  start("waiter", "await_signal", Json{{"signal", "go"}});
  start("impatient", "await_signal", Json{{"signal", "never"}, {"timeout_seconds", 0.1}});
  start("doomed", "await_signal", Json{{"signal", "never"}});
  const auto at = now_ms();
  const auto d = dialect();
  ASSERT_TRUE(transact([d, at](SqlTransaction& tx) {
    return signal_run(tx, d, "waiter", "go", Json{{"x", 1}}, at);
  }));
  ASSERT_TRUE(transact(
      [d, at](SqlTransaction& tx) { return cancel_run(tx, d, "doomed", "user asked", at); }));
  auto worker = make_worker("w1");
  run_until_terminal({"sleeper", "waiter", "impatient", "doomed"});
  EXPECT_EQ(run_of("sleeper").status, RunStatus::completed);
  const auto waiter = run_of("waiter");
  EXPECT_EQ(waiter.status, RunStatus::completed);
  EXPECT_EQ((*waiter.result)["payload"]["x"], 1);
  EXPECT_EQ(run_of("impatient").error, "timed out waiting for signal 'never'");
  EXPECT_EQ(run_of("doomed").status, RunStatus::cancelled);
  auto late = transact(
      [d, at](SqlTransaction& tx) { return signal_run(tx, d, "waiter", "go", Json(), at); });
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code, ErrorCode::failed_precondition);
  for (const char* id : {"sleeper", "waiter", "impatient", "doomed"}) expect_sound_history(id);
  expect_no_tasks_left({"sleeper", "waiter", "impatient", "doomed"});
}

// A child run's end reaches its parent as a signal in the child's closing transaction, and a
// parent's end — completed, failed, cancelled — cancels its children still running, down the
// tree one decision at a time, each needing no worker slot of its parent's (issue 38).
TEST_P(EngineConformance, AChildsEndSignalsItsParentAndAParentsEndCancelsItsChildren) {
  env_.store = store_.get();
  const std::string ended(kChildEndedSignal);
  start("parent", "await_signal", Json{{"signal", ended}});
  start("child", "sleep", Json{{"seconds", 0.05}}, ParentRun{"parent", "node-a"});
  // A parent that times out: its child and grandchild go with it.
  start("impatient", "await_signal", Json{{"signal", "never"}, {"timeout_seconds", 0.2}});
  start("orphan", "await_signal", Json{{"signal", "never"}}, ParentRun{"impatient", "k"});
  start("grandchild", "sleep", Json{{"seconds", 3600}}, ParentRun{"orphan", "k"});
  // A parent cancelled by its user.
  start("doomed", "await_signal", Json{{"signal", "never"}});
  start("doomed-child", "await_signal", Json{{"signal", "never"}}, ParentRun{"doomed", "k"});
  const auto at = now_ms();
  const auto d = dialect();
  ASSERT_TRUE(transact(
      [d, at](SqlTransaction& tx) { return cancel_run(tx, d, "doomed", "user asked", at); }));
  auto worker = make_worker("w1");
  run_until_terminal(
      {"parent", "child", "impatient", "orphan", "grandchild", "doomed", "doomed-child"});

  const auto parent = run_of("parent");
  ASSERT_EQ(parent.status, RunStatus::completed);
  const Json told = (*parent.result)["payload"];
  EXPECT_EQ(told["key"], "node-a");
  EXPECT_EQ(told["run_id"], "child");
  EXPECT_EQ(told["status"], "completed");
  EXPECT_EQ(told["result"], *run_of("child").result);

  EXPECT_EQ(run_of("impatient").status, RunStatus::failed);
  EXPECT_EQ(run_of("orphan").status, RunStatus::cancelled);
  EXPECT_EQ(run_of("orphan").error, "its parent run impatient ended");
  EXPECT_EQ(run_of("grandchild").status, RunStatus::cancelled);
  EXPECT_EQ(run_of("grandchild").error, "its parent run orphan ended");
  EXPECT_EQ(run_of("doomed").status, RunStatus::cancelled);
  EXPECT_EQ(run_of("doomed-child").status, RunStatus::cancelled);
  for (const char* id :
       {"parent", "child", "impatient", "orphan", "grandchild", "doomed", "doomed-child"}) {
    expect_sound_history(id);
  }
  // The orphan's end told its parent, which had ended: nothing was appended there.
  const auto impatient = history_of("impatient");
  EXPECT_TRUE(is_terminal(impatient.back().kind));

  // A run that has no parent yet (started before runs recorded theirs) can be adopted while it
  // runs, and only then.
  start("late", "await_signal", Json{{"signal", "never"}});
  auto adopted = std::make_shared<std::vector<bool>>();
  ASSERT_TRUE(transact([adopted](SqlTransaction& tx) -> Result<void> {
    for (const char* run : {"late", "late", "child"}) {
      auto once = adopt_child_run(tx, run, ParentRun{"parent", "x"});
      if (!once) return fail(once.error());
      adopted->push_back(*once);
    }
    return {};
  }));
  EXPECT_EQ(*adopted, (std::vector<bool>{true, false, false}));
}

TEST_P(EngineConformance, FailedAttemptsRetryUntilTheirLimit) {
  env_.store = store_.get();
  start("recovers", "echo_chain", Json{{"steps", 1}, {"fail_attempts", 1}, {"max_attempts", 2}});
  start("gives-up", "echo_chain", Json{{"steps", 1}, {"fail_attempts", 5}, {"max_attempts", 2}});
  start("too-slow", "echo_chain",
        Json{{"steps", 1}, {"delay_ms", 2000}, {"start_to_close_ms", 100}, {"max_attempts", 1}});
  auto worker = make_worker("w1");
  run_until_terminal({"recovers", "gives-up", "too-slow"});
  EXPECT_EQ(run_of("recovers").status, RunStatus::completed);
  const auto gave_up = run_of("gives-up");
  EXPECT_EQ(gave_up.status, RunStatus::failed);
  EXPECT_EQ(gave_up.error, "step 1 failed: echo: failing attempt 2 on purpose");
  const auto slow = run_of("too-slow");
  EXPECT_EQ(slow.status, RunStatus::failed);
  EXPECT_EQ(slow.error, "step 1 failed: activity exceeded its start-to-close timeout of 100ms");
  // The attempts that failed and the one that timed out deleted their tasks too.
  expect_no_tasks_left({"recovers", "gives-up", "too-slow"});
}

TEST_P(EngineConformance, TwoWorkersShareTheQueue) {
  env_.store = store_.get();
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) {
    ids.push_back("run-" + std::to_string(i));
    start(ids.back(), "echo_chain", Json{{"steps", 4}, {"payload", i}});
  }
  auto a = make_worker("a");
  auto b = make_worker("b");
  run_until_terminal(ids);
  for (const auto& id : ids) {
    EXPECT_EQ(run_of(id).status, RunStatus::completed) << id;
    expect_sound_history(id);
  }
  // Which worker gets which task is up to timing (the simulator's engine_workers_race scenario
  // covers racing deterministically); what must hold is that every task was claimed by someone
  // and nothing was lost: 12 runs × (5 decisions + 4 activities), each activity either claimed
  // or leased eagerly by the decision that scheduled it, each decision after the first either
  // claimed or leased eagerly with the result before it.
  const auto leased = [](const Worker& w) {
    return w.stats().claimed + w.stats().eager + w.stats().eager_decisions;
  };
  EXPECT_GE(leased(*a) + leased(*b), 12u * 9u);
  EXPECT_GT(a->stats().eager + b->stats().eager, 0u);
  EXPECT_GT(a->stats().eager_decisions + b->stats().eager_decisions, 0u);
  // Decisions made with the result before them started from the worker's kept state.
  EXPECT_GT(a->stats().sticky_hits + b->stats().sticky_hits, 0u);
  expect_no_tasks_left(ids);
}

// A slow first attempt outlives its lease: the task is retried elsewhere, both attempts finish,
// exactly one result counts.
TEST_P(EngineConformance, ALateResultFromAnExpiredLeaseIsIgnored) {
  start("slow", "echo_chain", Json{{"steps", 1}, {"start_to_close_ms", 100}});
  const auto d = dialect();
  auto claim = [&](const std::string& worker, std::int64_t at) {
    auto out = std::make_shared<std::vector<ClaimedTask>>();
    auto claimed = transact([d, worker, at, out](SqlTransaction& tx) -> Result<void> {
      auto c = claim_tasks(tx, d, "test", worker, at, 30'000, 10);
      if (!c) return fail(c.error());
      *out = *c;
      return {};
    });
    EXPECT_TRUE(claimed.has_value());
    return *out;
  };
  const std::int64_t t0 = now_ms();
  // Decide by hand: the workflow task schedules the activity.
  auto decision = claim("a", t0);
  ASSERT_EQ(decision.size(), 1u);
  ASSERT_EQ(decision[0].kind, TaskKind::workflow);
  auto decided = transact([&, d, t0](SqlTransaction& tx) -> Result<void> {
    auto r = decide_and_commit(tx, d, decision[0], workflows_, t0);
    if (!r) return fail(r.error());
    return {};
  });
  ASSERT_TRUE(decided.has_value()) << decided.error().message;
  auto first = claim("a", t0);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(first[0].kind, TaskKind::activity);
  EXPECT_EQ(first[0].lease_expires_at_ms, t0 + 100);
  // Worker a stalls. After its lease expires the reaper requeues the activity with a backoff…
  ASSERT_TRUE(transact([d, t0](SqlTransaction& tx) -> Result<void> {
    auto n = requeue_expired(tx, d, t0 + 101, 100);
    if (!n) return fail(n.error());
    return *n == 1 ? Result<void>{} : fail(ErrorCode::internal, "expected one expired task");
  }));
  // …and worker b takes attempt 2.
  auto second = claim("b", t0 + 101 + activity_retry_delay_ms(1));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].attempt, 2);
  auto complete = [&](const ClaimedTask& task, const std::string& who) {
    auto counted = std::make_shared<bool>(false);
    auto done = transact([d, task, who, counted, t0](SqlTransaction& tx) -> Result<void> {
      auto c = complete_activity(tx, d, task, Json{{"by", who}}, t0 + 2000);
      if (!c) return fail(c.error());
      *counted = *c;
      return {};
    });
    EXPECT_TRUE(done.has_value());
    return *counted;
  };
  EXPECT_TRUE(complete(second[0], "b"));
  EXPECT_FALSE(complete(first[0], "a")) << "the late first attempt's result must not count";
  // Nor may the stale holder move the task again.
  ASSERT_TRUE(transact([d, task = first[0], t0](SqlTransaction& tx) {
    return fail_activity_attempt(tx, d, task, "late failure", t0 + 3000, 0);
  }));
  const auto history = history_of("slow");
  int answers = 0;
  for (const auto& e : history) {
    if (e.kind == EventKind::activity_completed) {
      ++answers;
      EXPECT_EQ(e.body["result"]["by"], "b");
    }
    EXPECT_NE(e.kind, EventKind::activity_failed);
  }
  EXPECT_EQ(answers, 1);
  expect_sound_history("slow");
}

// A decision made by a worker whose lease ran out decides nothing, not even retiring the task,
// and the worker that took the task over decides as if the first had never tried; a decision
// for a run that does not exist fails as not found.
TEST_P(EngineConformance, ADecisionWhoseLeaseRanOutDecidesNothing) {
  start("late", "echo_chain", Json{{"steps", 1}});
  const auto d = dialect();
  const std::int64_t t0 = now_ms();
  auto claim = [&](const std::string& worker, std::int64_t at) {
    auto out = std::make_shared<std::vector<ClaimedTask>>();
    EXPECT_TRUE(transact([d, worker, at, out](SqlTransaction& tx) -> Result<void> {
      auto c = claim_tasks(tx, d, "test", worker, at, 100, 10);
      if (!c) return fail(c.error());
      *out = *c;
      return {};
    }));
    return *out;
  };
  auto decide = [&](const ClaimedTask& task) {
    auto outcome = std::make_shared<DecisionOutcome>();
    auto decided = transact([d, task, t0, outcome, this](SqlTransaction& tx) -> Result<void> {
      auto r = decide_and_commit(tx, d, task, workflows_, t0 + 500);
      if (!r) return fail(r.error());
      *outcome = std::move(*r);
      return {};
    });
    return std::pair{decided, *outcome};
  };
  const auto first = claim("a", t0);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(first[0].kind, TaskKind::workflow);
  ASSERT_TRUE(transact([d, t0](SqlTransaction& tx) -> Result<void> {
    auto n = requeue_expired(tx, d, t0 + 101, 100);
    if (!n) return fail(n.error());
    return *n == 1 ? Result<void>{} : fail(ErrorCode::internal, "expected one expired task");
  }));
  const auto second = claim("b", t0 + 101);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].attempt, 2);
  const std::size_t before = history_of("late").size();

  auto [late, late_outcome] = decide(first[0]);
  ASSERT_TRUE(late.has_value()) << late.error().message;
  EXPECT_FALSE(late_outcome.committed);
  EXPECT_EQ(history_of("late").size(), before) << "the stale holder appended to the history";

  auto [taken, taken_outcome] = decide(second[0]);
  ASSERT_TRUE(taken.has_value()) << taken.error().message;
  EXPECT_TRUE(taken_outcome.committed) << "the stale holder retired the task it no longer held";
  EXPECT_GT(history_of("late").size(), before);
  const auto next = claim("b", t0 + 600);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].kind, TaskKind::activity) << "the decision task must be done";

  ClaimedTask unknown = second[0];
  unknown.run_id = "no-such-run";
  auto [missing, missing_outcome] = decide(unknown);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  expect_sound_history("late");
}

// Fair claims: a worker that runs its share of one user's tasks already leaves that user's tasks
// for later and takes the next user's, however much older the first user's are; every claimed
// task names its run's owner, which the worker counts its shares by.
TEST_P(EngineConformance, AClaimLeavesTheTasksOfUsersAtTheirShare) {
  const auto d = dialect();
  const std::int64_t t0 = now_ms();
  auto started = transact([d, t0](SqlTransaction& tx) -> Result<void> {
    for (int i = 0; i < 3; ++i) {
      const NewRun run{"busy-" + std::to_string(i), "test", "echo_chain",
                       Json{{"steps", 1}, {"user_id", "busy-user"}}};
      if (auto r = start_run(tx, d, run, t0 + i); !r) return r;
    }
    const NewRun quiet{"quiet-0", "test", "echo_chain",
                       Json{{"steps", 1}, {"user_id", "quiet-user"}}};
    if (auto r = start_run(tx, d, quiet, t0 + 10); !r) return r;
    return {};
  });
  ASSERT_TRUE(started.has_value()) << started.error().message;
  auto claim = [&](std::int64_t batch, std::vector<std::string> at_share, bool last) {
    auto out = std::make_shared<std::vector<ClaimedTask>>();
    auto claimed =
        transact([d, t0, batch, at_share, last, out](SqlTransaction& tx) -> Result<void> {
          if (last) {
            auto c = claim_last(tx, d, "test", "w", t0 + 20, 30'000, batch, at_share);
            if (!c) return fail(c.error());
            *out = std::move(c->claimed);
            return {};
          }
          auto c = claim_tasks(tx, d, "test", "w", t0 + 20, 30'000, batch, at_share);
          if (!c) return fail(c.error());
          *out = std::move(*c);
          return {};
        });
    EXPECT_TRUE(claimed.has_value()) << claimed.error().message;
    return *out;
  };
  const auto fair = claim(2, {"busy-user"}, true);
  ASSERT_EQ(fair.size(), 1u) << "only the other user's task";
  EXPECT_EQ(fair[0].run_id, "quiet-0");
  EXPECT_EQ(fair[0].owner, "quiet-user");
  EXPECT_TRUE(claim(2, {"busy-user", "quiet-user"}, false).empty());
  const auto rest = claim(5, {}, false);
  ASSERT_EQ(rest.size(), 3u);
  for (const auto& task : rest) EXPECT_EQ(task.owner, "busy-user") << task.run_id;
}

// A poll's claim and its look ahead: the tasks it leased, then, after them, when the queue falls
// due next: the earliest task not yet visible (not those it just claimed, which the statement's
// own reads still see as ready on Postgres) and the earliest lease to expire (its own included).
TEST_P(EngineConformance, AClaimTellsWhenTheQueueFallsDueAfterIt) {
  const auto d = dialect();
  const std::int64_t t0 = now_ms();
  auto started = transact([d, t0](SqlTransaction& tx) -> Result<void> {
    for (int i = 0; i < 3; ++i) {
      const NewRun run{"due-" + std::to_string(i), "test", "echo_chain", Json{{"steps", 1}}};
      if (auto r = start_run(tx, d, run, i < 2 ? t0 : t0 + 5'000); !r) return r;
    }
    return {};
  });
  ASSERT_TRUE(started.has_value()) << started.error().message;
  auto claim = [&](std::int64_t at, std::int64_t batch) {
    auto out = std::make_shared<Claim>();
    auto claimed = transact([d, at, batch, out](SqlTransaction& tx) -> Result<void> {
      auto c = claim_last(tx, d, "test", "w", at, 30'000, batch);
      if (!c) return fail(c.error());
      *out = std::move(*c);
      return {};
    });
    EXPECT_TRUE(claimed.has_value()) << claimed.error().message;
    return *out;
  };

  const Claim first = claim(t0, 5);
  ASSERT_EQ(first.claimed.size(), 2u);
  EXPECT_EQ(first.claimed[0].run_id, "due-0");
  EXPECT_EQ(first.claimed[1].run_id, "due-1");
  EXPECT_EQ(first.due.visible_at_ms, t0 + 5'000) << "the claimed tasks are no longer ready";
  EXPECT_EQ(first.due.lease_expires_at_ms, t0 + 30'000) << "its own leases count";

  const Claim second = claim(t0 + 10, 5);
  EXPECT_TRUE(second.claimed.empty()) << "the first claim was committed";
  EXPECT_EQ(second.due.visible_at_ms, t0 + 5'000);
  EXPECT_EQ(second.due.lease_expires_at_ms, t0 + 30'000);

  const Claim third = claim(t0 + 5'000, 1);
  ASSERT_EQ(third.claimed.size(), 1u);
  EXPECT_EQ(third.claimed[0].run_id, "due-2");
  EXPECT_EQ(third.claimed[0].attempt, 1);
}

// Sticky execution by hand: a decision keeps the run's state; the activity's result is recorded
// with the decision that follows, in one transaction, from the kept state, which reads only what
// was appended since and decides exactly as a decision from the whole history. A kept state that
// does not continue the stored history (here: one holding a transaction that never committed) is
// folded again rather than trusted.
TEST_P(EngineConformance, AKeptStateCatchesUpWithTheHistoryOrIsFoldedAgain) {
  start("sticky", "echo_chain", Json{{"steps", 2}});
  const auto d = dialect();
  const std::int64_t t0 = now_ms();
  auto claim = [&](std::int64_t at) {
    auto out = std::make_shared<std::vector<ClaimedTask>>();
    EXPECT_TRUE(transact([d, at, out](SqlTransaction& tx) -> Result<void> {
      auto c = claim_tasks(tx, d, "test", "w", at, 30'000, 10);
      if (!c) return fail(c.error());
      *out = *c;
      return {};
    }));
    return *out;
  };
  auto complete = [&](const ClaimedTask& task, KeptRun* kept) {
    auto done = std::make_shared<Completion>();
    auto completed = transact([&, d, task, t0, done, kept](SqlTransaction& tx) -> Result<void> {
      auto c =
          complete_activity_and_decide(tx, d, task, Json{{"ok", true}}, t0, workflows_, {}, kept);
      if (!c) return fail(c.error());
      *done = std::move(*c);
      return {};
    });
    EXPECT_TRUE(completed.has_value()) << completed.error().message;
    return *done;
  };

  KeptRun kept;
  auto first = claim(t0);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(transact([&, d, task = first[0], t0](SqlTransaction& tx) -> Result<void> {
    auto r = decide_and_commit(tx, d, task, workflows_, t0, {}, &kept);
    if (!r) return fail(r.error());
    return r->committed ? Result<void>{} : fail(ErrorCode::internal, "not decided");
  }));
  EXPECT_EQ(kept.state.last_seq, 2);  // run_started, activity_scheduled
  auto activity = claim(t0);
  ASSERT_EQ(activity.size(), 1u);
  const Completion completion = complete(activity[0], &kept);
  EXPECT_TRUE(completion.counted);
  ASSERT_TRUE(completion.decided.has_value());
  EXPECT_TRUE(completion.decided->committed);
  EXPECT_EQ(kept.state.last_seq, 4);  // + activity_completed, activity_scheduled (step 2)
  {
    const auto folded = RunState::fold(history_of("sticky"));
    ASSERT_TRUE(folded.has_value());
    EXPECT_EQ(folded->last_seq, kept.state.last_seq);
    EXPECT_EQ(folded->activities.size(), kept.state.activities.size());
    EXPECT_EQ(folded->completed_activities(), kept.state.completed_activities());
  }
  // No decision task was made: the next thing to claim is step 2's activity.
  auto second = claim(t0);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].kind, TaskKind::activity);

  // A state that ran ahead of the stored history: it holds the result of a transaction that
  // rolled back, at the seq the stored result then takes, stamped at the same millisecond.
  KeptRun phantom{kept.state, 0};
  const HistoryEvent never_stored{
      phantom.state.last_seq + 1, EventKind::activity_completed,
      Json{{"scheduled_seq", 4}, {"result", Json{{"ok", "never stored"}}}, {"attempt", 1}}, t0};
  ASSERT_TRUE(phantom.state.apply(never_stored).has_value());
  phantom.last_event_digest = event_digest(never_stored);
  const Completion done = complete(second[0], &phantom);
  ASSERT_TRUE(done.decided.has_value());
  const auto history = history_of("sticky");
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history.back().kind, EventKind::run_completed);
  EXPECT_EQ(phantom.state.last_seq, history.back().seq);
  EXPECT_TRUE(phantom.state.terminal.has_value());
  for (const auto& e : history) {
    EXPECT_EQ(e.body.dump().find("never stored"), std::string::npos) << "seq " << e.seq;
  }
  expect_sound_history("sticky");
}

// Each shape of decision a step writes — an activity with a timer, four activities, the run's end
// telling its parent — runs through real workers to the same sound history on both backends.
TEST_P(EngineConformance, StepsWriteDecisionsOfEveryShape) {
  env_.store = store_.get();
  workflows_.add(std::make_unique<ShapedDecisions>());
  start("waiting-parent", "await_signal", Json{{"signal", std::string(kChildEndedSignal)}});
  start("shaped", "shaped_decisions", Json::object(), ParentRun{"waiting-parent", "node-s"});
  start("shaped-alone", "shaped_decisions", Json::object());
  auto worker = make_worker("w1");
  run_until_terminal({"waiting-parent", "shaped", "shaped-alone"});
  for (const char* id : {"shaped", "shaped-alone"}) {
    const auto run = run_of(id);
    ASSERT_EQ(run.status, RunStatus::completed) << id << ": " << run.error.value_or("");
    EXPECT_EQ((*run.result)["activities"], 6) << id;
    const auto history = history_of(id);
    EXPECT_EQ(std::count_if(
                  history.begin(), history.end(),
                  [](const HistoryEvent& e) { return e.kind == EventKind::activity_completed; }),
              6)
        << id;
    expect_sound_history(id);
  }
  const auto parent = run_of("waiting-parent");
  ASSERT_EQ(parent.status, RunStatus::completed);
  EXPECT_EQ((*parent.result)["payload"]["key"], "node-s");
  EXPECT_EQ((*parent.result)["payload"]["result"]["activities"], 6);
}

// A step prepared off the store's thread commits only onto the history it was prepared from:
// once another event lands first (here a signal), it writes nothing and the caller decides from
// the store; otherwise it writes the result and the decision a transaction would have made.
TEST_P(EngineConformance, APreparedStepCommitsOnlyOntoTheHistoryItWasPreparedFrom) {
  start("prepared", "echo_chain", Json{{"steps", 2}});
  const auto d = dialect();
  const std::int64_t t0 = now_ms();
  auto claim = [&]() {
    auto out = std::make_shared<std::vector<ClaimedTask>>();
    EXPECT_TRUE(transact([d, t0, out](SqlTransaction& tx) -> Result<void> {
      auto c = claim_tasks(tx, d, "test", "w", t0, 30'000, 10);
      if (!c) return fail(c.error());
      *out = *c;
      return {};
    }));
    return *out;
  };
  auto commit = [&](const ClaimedTask& task, const PreparedStep& step) {
    auto out = std::make_shared<std::optional<Completion>>();
    EXPECT_TRUE(transact([d, task, &step, t0, out](SqlTransaction& tx) -> Result<void> {
      auto c = commit_prepared_step(tx, d, task, step, t0, {});
      if (!c) return fail(c.error());
      *out = std::move(*c);
      return {};
    }));
    return *out;
  };
  KeptRun kept;
  auto first = claim();
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(transact([&, d, task = first[0], t0](SqlTransaction& tx) -> Result<void> {
    auto r = decide_and_commit(tx, d, task, workflows_, t0, {}, &kept);
    if (!r) return fail(r.error());
    return {};
  }));
  auto activity = claim();
  ASSERT_EQ(activity.size(), 1u);

  // A signal lands after the kept state: the prepared step must not commit over it.
  auto stale = prepare_step(kept, activity[0], Json{{"ok", 1}}, workflows_, t0);
  ASSERT_TRUE(stale.has_value()) << stale.error().message;
  ASSERT_TRUE(transact([d, t0](SqlTransaction& tx) {
    // Not ASCII: the server's digest of the stored event must equal the worker's (Postgres
    // computes it in SQL).
    return signal_run(tx, d, "prepared", "nudge", Json{{"note", "h\u00e9llo \u2713"}}, t0);
  }));
  const auto before = history_of("prepared").size();
  EXPECT_FALSE(commit(activity[0], *stale).has_value());
  EXPECT_EQ(history_of("prepared").size(), before) << "nothing written";

  // Prepared from the history as it now stands, it commits: the result and the next step.
  KeptRun current;
  const auto history = history_of("prepared");
  auto folded = RunState::fold(history);
  ASSERT_TRUE(folded.has_value());
  current.state = std::move(*folded);
  current.last_event_digest = event_digest(history.back());
  auto fresh = prepare_step(std::move(current), activity[0], Json{{"ok", 2}}, workflows_, t0);
  ASSERT_TRUE(fresh.has_value()) << fresh.error().message;
  // The same step from a state whose last event differs from the stored one (only its digest
  // tells): nothing is written.
  PreparedStep forged = *fresh;
  forged.from_digest ^= 1;
  EXPECT_FALSE(commit(activity[0], forged).has_value());
  EXPECT_EQ(history_of("prepared").size(), before) << "nothing written";
  auto written = commit(activity[0], *fresh);
  ASSERT_TRUE(written.has_value());
  EXPECT_TRUE(written->counted);
  ASSERT_TRUE(written->decided.has_value());
  EXPECT_TRUE(written->decided->schedules_work) << "step 2's activity";
  const auto after = history_of("prepared");
  ASSERT_EQ(after.size(), before + 2);  // the result, and step 2 scheduled
  EXPECT_EQ(after[before].kind, EventKind::activity_completed);
  EXPECT_EQ(after[before].body["result"]["ok"], 2);
  EXPECT_EQ(after[before + 1].kind, EventKind::activity_scheduled);
  EXPECT_EQ(event_digest(after.back()), fresh->run.last_event_digest)
      << "the kept run matches what was stored";
  // Its activity has an answer now: preparing again from the old state commits nothing.
  EXPECT_FALSE(commit(activity[0], *fresh).has_value());
  expect_sound_history("prepared");
}

INSTANTIATE_TEST_SUITE_P(Backends, EngineConformance, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace reliant::engine

// The chat workload: api, worker and client roles over the tool path, and their invariants.
#include "sim/workload/chat.h"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "base/json_parse.h"
#include "core/agent/agent_workflow.h"
#include "core/personal_access_token.h"
#include "core/workflow/engine_workflow.h"
#include "core/workflow/loader.h"
#include "runtime/ids.h"
#include "runtime/sleep.h"
#include "services/agent/agent_activities.h"
#include "services/api/api_server.h"
#include "services/engine/engine_sql.h"
#include "services/routing/bus_daemon_router.h"
#include "services/storage/accounts.h"
#include "services/storage/project_workflows.h"
#include "services/storage/projects.h"
#include "services/storage/sql_row.h"
#include "services/triggers/trigger_scheduler.h"
#include "services/worker/worker.h"
#include "sim/runner.h"
#include "sim/workload/api_call.h"
#include "sim/workload/paused_runs.h"
#include "sim/workload/run_histories.h"
#include "sim/workload/spawned_agents.h"
#include "sim/workload/stuck_run.h"
#include "sim/workload/tool_path_state.h"
#include "sim/workload/trigger_checks.h"
#include "sim/workload/trigger_client.h"
#include "sim/workload/workflow_client.h"

namespace reliant::sim {
namespace {

using Json = nlohmann::json;

// What a client saw of one run, kept outside the client so it survives anything.
struct RunSeen {
  std::string marker;  // the output its command prints
  Instant started{};   // world time: the checker judges liveness by it, whatever the client's clock
  int finals = 0;
  std::string outcome;
  bool answer_quotes_output = false;
  bool answer_found_no_daemon = false;  // its command found no daemon connected to run on
  bool manual = false;                  // sent in manual mode: the client approves its tool calls
};

struct ClientBook {
  std::string node;
  std::string user_id;
  std::string token;
  ChatClientConfig config;
  std::string chat_id;
  std::int64_t cursor = 0;  // the last update number seen (updates are read unfiltered)
  ApiRoute route;           // the apis, and the one in use
  std::uint64_t sent = 0;
  std::string last_user_marker;
  // Markers of the messages sent in manual mode: a run the client learns of from its stream
  // (the reply to its send was lost) is approved all the same.
  std::set<std::string> manual_markers;
  // When each marker's message was first sent (world time). A run the client learns of from its
  // stream started then, not when the client saw it: a send in flight when the client crashed
  // may have started its run before the faults healed.
  std::map<std::string, Instant> first_sent;
  std::string current_run;
  std::map<std::string, RunSeen> runs;
  std::set<std::string> chats_seen;
  Instant last_update{};  // world time
};

}  // namespace

struct ChatWorkload::Impl {
  World& world;
  const Scenario& scenario;
  SimDatabase& database;
  Checker& checker;
  Swarm swarm;
  SimModel* model = nullptr;      // the provider the workers call
  std::vector<std::string> apis;  // api node names
  std::vector<std::unique_ptr<ClientBook>> clients;
  std::map<std::string, ClientBook*> client_by_node;
  std::vector<std::unique_ptr<WorkflowClientBook>> workflow_clients;
  std::map<std::string, WorkflowClientBook*> workflow_client_by_node;
  std::vector<std::unique_ptr<TriggerClientBook>> trigger_clients;
  std::map<std::string, TriggerClientBook*> trigger_client_by_node;
  std::map<std::string, std::set<std::string>> followed_runs;  // by user
  std::map<std::string, std::string> chat_owner;               // chat id → the user who made it
  ChatSummary stats;
  Random random;

  Impl(World& w, const Scenario& s, SimDatabase& d, Checker& c, const Swarm& sw)
      : world(w),
        scenario(s),
        database(d),
        checker(c),
        swarm(sw),
        random(w.random().split("chat")) {}
};

namespace {

// The zone database of the simulated machines: none, so schedules run in UTC (an IANA zone is
// unknown, as on a machine without tzdata), the same on every node and every run.
cel::TimeZoneLoader sim_time_zones() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

// Answers ApiServer requests that arrive over the bus (the simulator has no HTTP): a request is
// {method, path, query, body, token}; the reply {status, body}. A streamed answer (the update
// stream) becomes a long poll: it ends after its first chunk of updates or keepalive.
class SimApi {
 public:
  SimApi(Env& env, const std::string& name) : env_(env), api_(env, config()), scope_(env.executor) {
    auto subscribed = env.bus->subscribe(api_subject(name), [this](const BusMessage& m) {
      if (!m.reply_to.empty()) scope_.spawn(serve(m.data, m.reply_to));
    });
    RELIANT_ASSERT_MSG(subscribed.has_value(), "chat_api could not subscribe");
    subscription_ = std::move(*subscribed);
  }

 private:
  static api::ApiConfig config() {
    api::ApiConfig c;
    c.stream_keepalive = seconds(2);
    c.time_zones = sim_time_zones();
    return c;
  }

  class LongPoll final : public HttpBodyWriter {
   public:
    Task<bool> write(std::string chunk) override {
      const bool hello = chunk.rfind(": stream from", 0) == 0;
      body += chunk;
      co_return hello;  // the first real chunk ends the poll
    }
    std::string body;
  };

  Task<void> serve(std::string data, std::string reply_to) {
    const Json in = parse_json_or_discarded(data);
    if (!in.is_object()) co_return;  // not a request (a garbage fault): nobody to answer
    HttpRequest request;
    request.method = text_field(in, "method");
    request.path = text_field(in, "path");
    if (request.method.empty() || request.path.empty()) co_return;
    const Json query = in.value("query", Json::object());  // named: items() must not dangle
    if (query.is_object()) {
      for (const auto& [key, value] : query.items()) {
        if (value.is_string()) request.query[key] = value.get<std::string>();
      }
    }
    request.headers["authorization"] = "Bearer " + text_field(in, "token");
    request.body = text_field(in, "body");
    Task<HttpResponse> handling = api_.handle(std::move(request));
    HttpResponse response = co_await handling;
    if (response.stream) {
      LongPoll poll;
      Task<void> streaming = response.stream->run(poll);
      co_await streaming;
      response.body = std::move(poll.body);
    }
    (void)env_.bus->publish(reply_to,
                            Json{{"status", response.status}, {"body", response.body}}.dump());
  }

  Env& env_;
  api::ApiServer api_;
  SubscriptionPtr subscription_;
  Scope scope_;  // last: destroyed first
};

// A worker process running the agent: the engine's Worker, the scripted model, the bus router.
class SimChatWorker {
 public:
  SimChatWorker(Env& env, const std::string& name, const Swarm& swarm, SimModel& model)
      : router_(env), llm_(model, env.executor), deps_{*env.store, env.bus,
                                                       llm_,       router_,
                                                       "scripted", agent::builtin_tool_specs()} {
    agent::register_agent_workflow(workflows_);
    agent::register_agent_activities(activities_, deps_);
    engine::WorkerConfig config;
    swarm.apply(config);
    // A lease owner per incarnation: a restarted worker must not pass for its former self.
    config.worker_id = name + "-" + std::to_string(env.random.next() % 1000000);
    worker_ = std::make_unique<engine::Worker>(env, config, workflows_, activities_);
    // Every worker runs the trigger scheduler, as `server worker` and the monolith do.
    scheduler_ = std::make_unique<triggers::TriggerScheduler>(
        env, triggers::SchedulerConfig{config.queue, "scripted", sim_time_zones()});
  }

 private:
  routing::BusDaemonRouter router_;
  SimLlm llm_;
  agent::AgentDeps deps_;
  engine::WorkflowRegistry workflows_;
  engine::ActivityRegistry activities_;
  std::unique_ptr<engine::Worker> worker_;
  std::unique_ptr<triggers::TriggerScheduler> scheduler_;  // last: destroyed first
};

class SimChatClient {
 public:
  SimChatClient(Env& env, ChatWorkload::Impl* impl, ClientBook* book)
      : env_(env), impl_(impl), book_(book), scope_(env.executor) {
    scope_.spawn(send_loop());
    scope_.spawn(poll_loop());
    scope_.spawn(approve_loop());
  }

 private:
  Task<Result<ApiReply>> call(std::string method, std::string path, Json query, std::string body) {
    const std::uint64_t switches = book_->route.switches;
    Task<Result<ApiReply>> calling =
        call_api(env_, book_->route, book_->token, book_->config.request_timeout, std::move(method),
                 std::move(path), std::move(query), std::move(body));
    Result<ApiReply> reply = co_await calling;
    impl_->stats.api_switches += book_->route.switches - switches;
    co_return reply;
  }

  Task<void> send_loop() {
    while (book_->chat_id.empty()) {
      Task<Result<ApiReply>> creating =
          call("POST", "/api/v1/chats", Json::object(), R"({"title":"sim"})");
      Result<ApiReply> created = co_await creating;
      if (created && created->status == 201) {
        book_->chat_id = Json::parse(created->body).value("id", "");
        impl_->chat_owner[book_->chat_id] = book_->user_id;
        break;
      }
      co_await sleep(env_.executor, seconds(1));
    }
    for (;;) {
      co_await sleep(env_.executor, book_->config.interval);
      // One message at a time: the previous run must have ended (as the stream tells).
      if (!book_->current_run.empty() && book_->runs[book_->current_run].finals == 0) continue;
      const std::string marker = book_->node + "-m" + std::to_string(book_->sent + 1);
      const bool manual = env_.random.chance(book_->config.manual_share);
      Json message = {{"text", "run `echo " + marker + "`"}};
      if (manual) {
        message["mode"] = "manual";
        book_->manual_markers.insert(marker);
      }
      const std::string body = message.dump();
      const Instant sent_at = impl_->world.now();
      book_->first_sent.try_emplace(marker, sent_at);
      Task<Result<ApiReply>> sending =
          call("POST", "/api/v1/chats/" + book_->chat_id + "/messages", Json::object(), body);
      Result<ApiReply> sent = co_await sending;
      if (!sent) continue;  // maybe sent, maybe not: the stream will tell
      if (sent->status == 202) {
        ++book_->sent;
        ++impl_->stats.messages;
        book_->current_run = Json::parse(sent->body).value("run_id", "");
        RunSeen& run = book_->runs[book_->current_run];
        if (run.marker.empty()) run.marker = marker;
        run.started = sent_at;  // this send created the run, whenever its stream told of it
        run.manual = manual;
      }
    }
  }

  // Approves what the current manual-mode run waits for, as a person at the client would.
  Task<void> approve_loop() {
    for (;;) {
      co_await sleep(env_.executor, milliseconds(500));
      const std::string run_id = book_->current_run;
      if (run_id.empty()) continue;
      const RunSeen& run = book_->runs[run_id];
      if (!run.manual || run.finals > 0) continue;
      Task<Result<ApiReply>> reading = call("GET", "/api/v1/runs/" + run_id, Json::object(), "");
      Result<ApiReply> read = co_await reading;
      if (!read || read->status != 200) continue;
      const Json state = Json::parse(read->body, nullptr, false);
      if (state.is_discarded()) continue;
      for (const auto& node : state.value("nodes", Json::array())) {
        if (node.value("status", "") != "waiting") continue;
        const std::string body = Json{{"node", node.value("key", "")}}.dump();
        Task<Result<ApiReply>> approving =
            call("POST", "/api/v1/runs/" + run_id + "/approve", Json::object(), body);
        Result<ApiReply> approved = co_await approving;
        if (approved && approved->status == 200) ++impl_->stats.approvals;
      }
    }
  }

  Task<void> poll_loop() {
    for (;;) {
      Json query = {{"since_seq", std::to_string(book_->cursor)}, {"previews", "false"}};
      Task<Result<ApiReply>> polling = call("GET", "/api/v1/updates", query, "");
      Result<ApiReply> polled = co_await polling;
      if (!polled || polled->status != 200) {
        co_await sleep(env_.executor, milliseconds(200));
        continue;
      }
      consume(polled->body);
    }
  }

  // Reads the SSE body: numbered updates must continue the cursor exactly.
  void consume(const std::string& body) {
    std::size_t start = 0;
    while (start < body.size()) {
      std::size_t end = body.find("\n\n", start);
      if (end == std::string::npos) end = body.size();
      const std::string block = body.substr(start, end - start);
      start = end + 2;
      const auto data = block.find("data: ");
      if (data == std::string::npos) continue;
      auto event =
          Json::parse(block.substr(data + 6, block.find('\n', data) - data - 6), nullptr, false);
      if (event.is_discarded()) continue;
      const std::int64_t seq = event.value("seq", std::int64_t{0});
      if (seq == 0) continue;
      if (seq <= book_->cursor) {
        impl_->checker.violation(env_.executor.now(), "chat_updates",
                                 book_->node + " got update " + std::to_string(seq) +
                                     " again (cursor " + std::to_string(book_->cursor) + ")");
        continue;
      }
      if (seq != book_->cursor + 1) {
        impl_->checker.violation(env_.executor.now(), "chat_updates",
                                 book_->node + " got update " + std::to_string(seq) + " after " +
                                     std::to_string(book_->cursor) + ": a gap");
      }
      book_->cursor = seq;
      book_->last_update = impl_->world.now();
      ++impl_->stats.updates_seen;
      observe(event);
    }
  }

  void observe(const Json& event) {
    const std::string kind = event.value("kind", "");
    const std::string chat = event.value("chat_id", "");
    if (!chat.empty()) book_->chats_seen.insert(chat);
    // A user's stream carries only that user's chats.
    if (const auto owner = impl_->chat_owner.find(chat);
        owner != impl_->chat_owner.end() && owner->second != book_->user_id) {
      impl_->checker.violation(env_.executor.now(), "update_isolation",
                               book_->node + " (" + book_->user_id + ") got a " +
                                   event.value("kind", "") + " update of " + owner->second +
                                   "'s chat " + chat);
    }
    // The user's other chats (another client of the same user) only count for order and gaps.
    if (chat != book_->chat_id) return;
    const Json body = event.value("body", Json::object());
    if (kind == "message") {
      std::string text;
      for (const auto& block : body.value("content", Json::array())) {
        text += block.value("body", Json::object()).value("text", "");
      }
      if (body.value("role", "") == "user") {
        const auto open = text.find("`echo ");
        book_->last_user_marker = open == std::string::npos
                                      ? ""
                                      : text.substr(open + 6, text.find('`', open + 1) - open - 6);
      } else if (body.value("role", "") == "assistant" && !book_->current_run.empty()) {
        RunSeen& run = book_->runs[book_->current_run];
        if (!run.marker.empty() && text.find("printed:\n" + run.marker) != std::string::npos) {
          run.answer_quotes_output = true;
        }
        if (text.find("no daemon to run on") != std::string::npos)
          run.answer_found_no_daemon = true;
      }
    } else if (kind == "chat_status") {
      const std::string run_id = body.value("run_id", "");
      RunSeen& run = book_->runs[run_id];
      if (body.value("status", "") == "running") {
        book_->current_run = run_id;
        if (run.marker.empty()) run.marker = book_->last_user_marker;
        if (book_->manual_markers.contains(run.marker)) run.manual = true;
        if (run.started == Instant{}) {
          const auto sent = book_->first_sent.find(run.marker);
          run.started = sent != book_->first_sent.end() ? sent->second : impl_->world.now();
        }
        return;
      }
      ++run.finals;
      run.outcome = body.value("outcome", body.value("status", ""));
      if (run.finals == 1) ++impl_->stats.answered;
      if (run.finals > 1) {
        impl_->checker.violation(env_.executor.now(), "chat_answers",
                                 "run " + run_id + " of " + book_->node + " ended " +
                                     std::to_string(run.finals) + " times");
      }
    }
  }

  Env& env_;
  ChatWorkload::Impl* impl_;
  ClientBook* book_;
  Scope scope_;  // last: destroyed first
};

}  // namespace

ChatWorkload::ChatWorkload(World& world, const Scenario& scenario, SimDatabase& database,
                           Checker& checker, const Swarm& swarm, SimModel& model)
    : impl_(std::make_unique<Impl>(world, scenario, database, checker, swarm)) {
  impl_->model = &model;
  for (const auto& group : scenario.topology) {
    for (int i = 1; i <= group.count; ++i) {
      const std::string name = group.name + "-" + std::to_string(i);
      if (group.is<ChatApiRole>()) impl_->apis.push_back(name);
      if (!group.is<ChatClientConfig>()) continue;
      auto book = std::make_unique<ClientBook>();
      book->node = name;
      book->user_id = user_id_of(group.as<ChatClientConfig>().user);
      book->config = group.as<ChatClientConfig>();
      book->route = ApiRoute{&impl_->apis, static_cast<std::size_t>(i - 1)};  // spread them
      impl_->client_by_node[name] = book.get();
      impl_->clients.push_back(std::move(book));
    }
  }
  for (const auto& group : scenario.topology) {
    if (!group.is<WorkflowClientConfig>()) continue;
    const WorkflowClientConfig& config = group.as<WorkflowClientConfig>();
    // Checked when the scenario was read.
    auto definition = workflow::load_workflow(config.workflow, "workflow");
    RELIANT_ASSERT(definition.has_value());
    for (int i = 1; i <= group.count; ++i) {
      const std::string name = group.name + "-" + std::to_string(i);
      auto book = std::make_unique<WorkflowClientBook>();
      book->node = name;
      book->user_id = user_id_of(config.user);
      book->config = config;
      book->workflow_name = definition->name;
      book->route = ApiRoute{&impl_->apis, static_cast<std::size_t>(i - 1)};
      book->followed = &impl_->followed_runs[book->user_id];
      impl_->workflow_client_by_node[name] = book.get();
      impl_->workflow_clients.push_back(std::move(book));
    }
  }
  for (const auto& group : scenario.topology) {
    if (!group.is<TriggerClientConfig>()) continue;
    const TriggerClientConfig& config = group.as<TriggerClientConfig>();
    auto definition = workflow::load_workflow(config.workflow, "workflow");  // checked when read
    RELIANT_ASSERT(definition.has_value());
    for (int i = 1; i <= group.count; ++i) {
      auto book = std::make_unique<TriggerClientBook>();
      book->node = group.name + "-" + std::to_string(i);
      book->user_id = user_id_of(config.user);
      book->config = config;
      book->workflow_name = definition->name;
      book->route = ApiRoute{&impl_->apis, static_cast<std::size_t>(i - 1)};
      for (const auto& wanted : config.triggers) {
        MadeTrigger made;
        made.wanted = wanted;
        book->triggers.push_back(std::move(made));
      }
      impl_->trigger_client_by_node[book->node] = book.get();
      impl_->trigger_clients.push_back(std::move(book));
    }
  }
}

ChatWorkload::~ChatWorkload() = default;

namespace {

// A client's user (when no earlier client made it) and a token of its own; returns the token.
Result<std::string> seed_client(SqlTransaction& tx, Random& random, const std::string& user_id,
                                const std::string& node, const std::string& what) {
  auto user = find_user(tx, user_id);
  if (!user) return fail(user.error());
  if (!*user) {
    const std::string name = user_id.substr(5);
    if (auto ok = insert_user(tx, User{user_id, name + "@example.com", name, 0}); !ok)
      return fail(ok.error());
  }
  std::array<std::uint8_t, kPatRandomBytes> bytes{};
  for (auto& b : bytes) b = static_cast<std::uint8_t>(random.below(256));
  std::string token = format_pat(bytes);
  PersonalAccessToken meta{"tok-" + node, user_id, what, pat_display_prefix(token), 0, {}, {}, {}};
  if (auto ok = insert_token(tx, meta, hash_pat(token)); !ok) return fail(ok.error());
  return token;
}

// A client's project (one per user, "sim-project-<user>") and its workflows in it (YAML each),
// once however many clients share them. Returns the project's id.
Result<std::string> seed_project_workflows(SqlTransaction& tx, const std::string& user_id,
                                           const std::string& node,
                                           const std::vector<std::string>& sources) {
  const std::string project_id = "sim-project-" + user_id;
  auto projects = list_projects(tx, user_id);
  if (!projects) return fail(projects.error());
  const bool have_project = std::any_of(projects->begin(), projects->end(),
                                        [&](const auto& p) { return p.id == project_id; });
  if (!have_project) {
    if (auto ok =
            insert_project(tx, ProjectRecord{project_id, user_id, "sim-project", "/work", 0, {}});
        !ok)
      return fail(ok.error());
  }
  auto stored = list_project_workflows(tx, user_id, project_id);
  if (!stored) return fail(stored.error());
  std::set<std::string> names;
  for (const auto& workflow : *stored) names.insert(workflow.name);
  for (std::size_t i = 0; i < sources.size(); ++i) {
    auto definition = workflow::load_workflow(sources[i], "workflow");  // checked when read
    RELIANT_ASSERT(definition.has_value());
    if (!names.insert(definition->name).second) continue;
    ProjectWorkflowRecord record;
    record.id = "pw-" + node + "-" + std::to_string(i);
    record.project_id = project_id;
    record.name = definition->name;
    record.source = sources[i];
    if (auto ok = insert_project_workflow(tx, user_id, record); !ok) return fail(ok.error());
  }
  return project_id;
}

}  // namespace

void ChatWorkload::seed() {
  Impl& impl = *impl_;
  auto done = impl.database.database().transact([&](SqlTransaction& tx) -> Result<void> {
    for (auto& book : impl.clients) {
      auto token = seed_client(tx, impl.random, book->user_id, book->node, "sim chat client");
      if (!token) return fail(token.error());
      book->token = std::move(*token);
    }
    for (auto& book : impl.workflow_clients) {
      auto token = seed_client(tx, impl.random, book->user_id, book->node, "sim workflow client");
      if (!token) return fail(token.error());
      book->token = std::move(*token);
      if (book->config.project) {
        std::vector<std::string> sources = book->config.project_workflows;
        sources.insert(sources.begin(), book->config.workflow);
        auto stored = seed_project_workflows(tx, book->user_id, book->node, sources);
        if (!stored) return fail(stored.error());
        book->project_id = *stored;
      }
    }
    for (auto& book : impl.trigger_clients) {
      auto token = seed_client(tx, impl.random, book->user_id, book->node, "sim trigger client");
      if (!token) return fail(token.error());
      book->token = std::move(*token);
      auto stored = seed_project_workflows(tx, book->user_id, book->node, {book->config.workflow});
      if (!stored) return fail(stored.error());
      book->project_id = *stored;
    }
    return {};
  });
  RELIANT_ASSERT_MSG(done.has_value(), done ? "" : done.error().message.c_str());
}

ComponentFactory ChatWorkload::factory(const NodeGroup& group, const std::string& name) {
  Impl* impl = impl_.get();
  if (group.is<ChatApiRole>()) {
    return
        [name](Env& env) -> std::shared_ptr<void> { return std::make_shared<SimApi>(env, name); };
  }
  if (group.is<ChatWorkerRole>()) {
    return [name, swarm = impl->swarm, model = impl->model](Env& env) -> std::shared_ptr<void> {
      return std::make_shared<SimChatWorker>(env, name, swarm, *model);
    };
  }
  if (group.is<WorkflowClientConfig>()) {
    WorkflowClientBook* book = impl->workflow_client_by_node.at(name);
    return [impl, book](Env& env) -> std::shared_ptr<void> {
      return make_workflow_client(env, impl->world, book, &impl->checker);
    };
  }
  if (group.is<TriggerClientConfig>()) {
    TriggerClientBook* book = impl->trigger_client_by_node.at(name);
    return [impl, book](Env& env) -> std::shared_ptr<void> {
      return make_trigger_client(env, impl->world, book);
    };
  }
  RELIANT_ASSERT(group.is<ChatClientConfig>());
  ClientBook* book = impl->client_by_node.at(name);
  return [impl, book](Env& env) -> std::shared_ptr<void> {
    return std::make_shared<SimChatClient>(env, impl, book);
  };
}

namespace {

// chat_answers for one client: its runs started after healing (with time to finish) ended once,
// completed, and their answer quotes their command's output. Except a run that found its user's
// only daemon reconnecting: heartbeats lost just before healing surface as a stale stream up to
// stale_after later, and a run resolved in that gap rightly finds no daemon connected (seed 43 of
// workflow_recursion).
void check_answers(const ClientBook& book,
                   const std::map<std::string, engine::RunStatus>& status_of,
                   ChatWorkload::Impl& impl, Instant end) {
  const Instant heal = kSimEpoch + impl.scenario.heal_at;
  const Duration budget = seconds(40);
  const Instant reconnected_by = heal + impl.scenario.tool_path.stale_after;
  for (const auto& [run_id, run] : book.runs) {
    if (run.started < heal || run.started + budget > end) continue;
    const auto status = status_of.find(run_id);
    if (run.finals != 1) {
      impl.checker.violation(end, "chat_answers",
                             "run " + run_id + " of " + book.node + " (started " +
                                 format_duration(run.started - kSimEpoch) +
                                 ", after healing) ended " + std::to_string(run.finals) + " times" +
                                 where_stuck(impl.database, run_id));
    } else if (status == status_of.end() || status->second != engine::RunStatus::completed) {
      impl.checker.violation(
          end, "chat_answers",
          "run " + run_id + " is " +
              (status == status_of.end() ? std::string("not stored")
                                         : std::string(engine::to_string(status->second))));
    } else if (!run.answer_quotes_output &&
               !(run.answer_found_no_daemon && run.started < reconnected_by)) {
      impl.checker.violation(end, "chat_answers",
                             "the answer of run " + run_id +
                                 " does not quote the output of `echo " + run.marker + "`");
    }
  }
}

// The invariants over the workflow runs' histories and the workflow clients' runs.
void check_workflows(ChatWorkload::Impl& impl, Instant heal, Instant end) {
  check_workflow_runs(impl.database, impl.checker, end);
  check_run_families(impl.database, impl.checker, heal, end);
  // Every run's history is read: only where a scenario asks for it.
  if (impl.scenario.checks("workflow_spawns"))
    impl.stats.sub_agents = check_spawned_agents(impl.database, impl.checker, heal, end);
  if (impl.scenario.checks("paused_runs_start_nothing")) {
    impl.stats.control =
        check_paused_runs(impl.workflow_clients, impl.database, impl.checker, heal, end);
  }
  check_node_daemons(impl.database, impl.checker, end);
  check_workflow_clients(impl.workflow_clients, impl.database, impl.checker, heal, end);
  if (impl.scenario.checks("firing_once") || impl.scenario.checks("catch_up_bounded"))
    impl.stats.firings =
        check_triggers(impl.trigger_clients, impl.scenario, impl.database, impl.checker, heal, end);
}

}  // namespace

void ChatWorkload::finish(Instant end) {
  Impl& impl = *impl_;
  const Instant heal = kSimEpoch + impl.scenario.heal_at;
  std::map<std::string, engine::RunStatus> run_status;
  std::map<std::string, std::string> chat_owner;
  std::map<std::string, std::int64_t> heads;
  auto read = impl.database.database().transact([&](SqlTransaction& tx) -> Result<void> {
    auto runs = tx.query(
        "SELECT id, status FROM workflow_runs WHERE workflow_name IN ('agent', 'workflow')", {});
    if (!runs) return fail(runs.error());
    for (const SqlRecord& r : records(*runs)) {
      auto status = r.enumerated("status", engine::kRunStatusNames);
      if (!status) return fail(status.error());
      run_status[r.text("id")] = *status;
    }
    auto chats = tx.query("SELECT id, user_id FROM chats", {});
    if (!chats) return fail(chats.error());
    for (const SqlRecord& r : records(*chats)) chat_owner[r.text("id")] = r.text("user_id");
    // The calls the provider made up (sim_llm.h) must each have been answered with an error:
    // no daemon ran an unknown tool or took input of the wrong shape.
    auto results =
        tx.query("SELECT message_id, body_json FROM content_blocks WHERE kind = 'tool_result'", {});
    if (!results) return fail(results.error());
    for (const SqlRecord& r : records(*results)) {
      const Json body = parse_json_or_discarded(r.text("body_json"));
      if (!text_field(body, "tool_call_id").starts_with("malformed_")) continue;
      ++impl.stats.malformed_results;
      if (!bool_field(body, "is_error", false)) {
        impl.checker.violation(
            end, "malformed_calls_refused",
            "message " + r.text("message_id") + ": the malformed call " + text_field(body, "name") +
                " got a result that is no error: " + text_field(body, "content").substr(0, 80));
      }
    }
    auto head_rows = tx.query("SELECT user_id, last_seq FROM user_event_heads", {});
    if (!head_rows) return fail(head_rows.error());
    for (const SqlRecord& r : records(*head_rows)) heads[r.text("user_id")] = r.integer("last_seq");
    return {};
  });
  if (!read) {
    impl.checker.violation(end, "chat_answers",
                           "cannot read the database: " + read.error().message);
  }
  check_workflows(impl, heal, end);
  for (const auto& book : impl.clients) {
    for (const auto& chat : book->chats_seen) {
      if (chat_owner.count(chat) && chat_owner[chat] != book->user_id) {
        impl.checker.violation(
            end, "chat_updates",
            book->node + " (" + book->user_id + ") saw chat " + chat + " of " + chat_owner[chat]);
      }
    }
    // Caught up: the stream reached the user's last update (allowing for a poll in flight).
    if (book->cursor < heads[book->user_id] && end - book->last_update > seconds(10)) {
      impl.checker.violation(end, "chat_updates",
                             book->node + " is at update " + std::to_string(book->cursor) + " of " +
                                 std::to_string(heads[book->user_id]) +
                                 " at the end, after healing");
    }
    check_answers(*book, run_status, impl, end);
  }
}

ChatSummary ChatWorkload::summary() const { return impl_->stats; }

void ChatWorkload::summarize(RunReport& report) const {
  const ChatSummary& c = impl_->stats;
  const auto u = [](std::uint64_t v) { return std::to_string(v); };
  report.sections.push_back(
      "chat: " + u(c.messages) + " messages sent, " + u(c.answered) + " answered, " +
      u(c.updates_seen) + " updates streamed, " + u(c.api_switches) + " switches to another api, " +
      u(c.approvals) + " approvals" +
      (c.malformed_results != 0 ? ", " + u(c.malformed_results) + " malformed calls refused"
                                : std::string()) +
      "\n");
  if (!impl_->trigger_clients.empty()) {
    std::uint64_t created = 0, found = 0, toggled = 0;
    for (const auto& book : impl_->trigger_clients) {
      created += book->created;
      found += book->found;
      toggled += book->toggled;
    }
    std::string firings;
    for (const auto& [status, n] : c.firings)
      firings += (firings.empty() ? "" : ", ") + u(n) + " " + status;
    report.sections.push_back("triggers: " + u(created) + " made, " + u(found) +
                              " found after a lost reply, " + u(toggled) +
                              " enabled or disabled; firings: " + firings + "\n");
  }
  if (impl_->workflow_clients.empty()) return;
  report.sections.push_back(
      summarize_workflow_clients(impl_->workflow_clients, c.sub_agents, c.control));
}

}  // namespace reliant::sim

// GrpcApi behind a real GrpcRpcServer, on a real monolith stack (SQLite file, in-process bus,
// Worker running the agent, scripted model, in-process daemon on PosixHost in a temp dir),
// called by generated C++ stubs: a chat streamed end to end, the answers' shapes, and the
// failures — credentials, unknown chats, empty text, garbage bytes, unknown methods,
// cancelled streams; a project workflow stored, run and approved through WorkflowService.
#include "services/api/grpc_api.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include "unit/support/real_loop.h"
#include "unit/support/temp_dir.h"

#include <array>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/asio/asio_executor.h"
#include "adapters/grpc/grpc_rpc_server.h"
#include "adapters/host/posix_host.h"
#include "adapters/memory/in_process_bus.h"
#include "adapters/sqlite/sqlite_store.h"
#include "core/agent/agent_workflow.h"
#include "core/agent/scripted_model.h"
#include "core/personal_access_token.h"
#include "reliant/api/v1/api.grpc.pb.h"
#include "runtime/scope.h"
#include "services/agent/agent_activities.h"
#include "services/routing/local_daemon_router.h"
#include "services/storage/accounts.h"
#include "services/storage/daemons.h"
#include "services/storage/migrator.h"
#include "services/storage/projects.h"
#include "services/worker/worker.h"
#include "unit/support/await_into.h"
#include "unit/support/token_of.h"

namespace reliant::api {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
// gRPC's generated clients (the code generator names them `Stub`).
using ChatClient = v1::ChatService::Stub;
using DaemonClient = v1::DaemonService::Stub;
using WorkflowClient = v1::WorkflowService::Stub;
using PresetClient = v1::PresetService::Stub;

std::unique_ptr<SqliteStore> open_store(AsioExecutor& executor, const fs::path& file) {
  auto store = SqliteStore::open(executor, file.string());
  EXPECT_TRUE(store.has_value()) << store.error().describe();
  return store ? std::move(*store) : nullptr;
}

// The monolith's parts on a real executor, which runs on the test's thread (inside
// run_until); gRPC clients run on threads of their own.
struct GrpcStack {
  testing::TempDir temp{"reliant-grpc-api"};
  std::string work_dir = (temp.path / "work").string();
  AsioExecutor executor;
  std::unique_ptr<SqliteStore> store = open_store(executor, temp.path / "reliant.db");
  InProcessBroker broker{1};
  InProcessBus bus{broker, executor};
  std::unique_ptr<PosixHost> host;
  Random random{7};
  std::unique_ptr<Env> env;
  daemon::MemoryRequestJournal journal;
  std::unique_ptr<routing::LocalDaemonRouter> router;
  agent::ScriptedLlm llm;
  engine::WorkflowRegistry workflows;
  engine::ActivityRegistry activities;
  std::unique_ptr<engine::Worker> worker;
  std::unique_ptr<GrpcApi> api;
  std::unique_ptr<GrpcRpcServer> server;
  std::unique_ptr<Scope> scope;
  const std::string alice = token_of(1);
  const std::string bob = token_of(2);
  int authenticated_calls = 0;

  GrpcStack() {
    fs::create_directories(work_dir);
    std::ofstream(work_dir + "/README.md") << "# demo\n";
    std::ofstream(work_dir + "/main.cc") << "int main() {}\n";
    host = std::make_unique<PosixHost>(executor, work_dir);
    env = std::make_unique<Env>(Env{executor, random, &bus, nullptr, store.get(), host.get()});
    scope = std::make_unique<Scope>(executor);
    auto migrated = run(migrate_up(*store, executor.now()));
    EXPECT_TRUE(migrated.has_value()) << migrated.error().describe();
    TransactionBody seed = [this](SqlTransaction& tx) -> Result<void> {
      for (auto [user, token] : {std::pair{"alice", alice}, std::pair{"bob", bob}}) {
        if (auto ok = insert_user_with_token(tx, user, token); !ok) return ok;
      }
      DaemonRecord daemon;
      daemon.id = "daemon-1";
      daemon.user_id = "user-alice";
      daemon.name = "laptop";
      daemon.labels = {{"os", "linux"}, {"team", "core"}};
      daemon.hostname = "alice-laptop";
      daemon.status = DaemonStatus::active;
      daemon.connection_id = "c1";
      daemon.connected_at_ms = 1;
      return record_daemon_connected(tx, daemon);
    };
    auto seeded = run(store->transact(std::move(seed)));
    EXPECT_TRUE(seeded.has_value()) << seeded.error().describe();

    router = std::make_unique<routing::LocalDaemonRouter>(executor, *host, work_dir, journal,
                                                          "daemon-1", "user-alice");
    agent::register_agent_workflow(workflows);
    agent::register_agent_activities(
        activities,
        agent::AgentDeps{*store, &bus, llm, *router, "scripted", agent::builtin_tool_specs()});
    engine::WorkerConfig worker_config;
    worker_config.worker_id = "w1";
    worker_config.poll_interval = milliseconds(100);
    worker = std::make_unique<engine::Worker>(*env, worker_config, workflows, activities);
    api = std::make_unique<GrpcApi>(*env, ApiConfig{}, [this](std::string) {
      ++authenticated_calls;
      return ready();
    });
    GrpcRpcServerOptions options;
    options.port = 0;
    auto started = GrpcRpcServer::start(executor, options, *api);
    EXPECT_TRUE(started.has_value()) << started.error().describe();
    if (started) server = std::move(*started);
  }
  ~GrpcStack() {
    server.reset();
    scope.reset();
    api.reset();
    worker.reset();
    router.reset();
    run_for(std::chrono::milliseconds(20));
  }

  static Task<Result<void>> ready() { co_return Result<void>{}; }

  template <class T>
  T run(Task<T> task) {
    std::optional<T> out;
    scope->spawn(await_into(std::move(task), &out));
    EXPECT_TRUE(run_until([&] { return out.has_value(); })) << "the task never finished";
    return std::move(*out);
  }

  // Runs the executor until `done` holds or `limit` passes; returns `done()`.
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    return testing::run_until(executor, done, limit);
  }
  void run_for(std::chrono::milliseconds duration) { testing::run_for(executor, duration); }

  // Runs `client` on a thread of its own while the executor runs here.
  template <class F>
  auto call(F client) -> decltype(client()) {
    return testing::call_on_thread(executor, std::move(client), std::chrono::seconds(30));
  }

  std::shared_ptr<grpc::Channel> channel() const {
    return grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()),
                               grpc::InsecureChannelCredentials());
  }

  // One unary call of a generated client's method: (status, response). An empty token sends
  // no credentials.
  template <class Client, class Request, class Response>
  std::pair<grpc::Status, Response> rpc(grpc::Status (Client::*method)(grpc::ClientContext*,
                                                                       const Request&, Response*),
                                        const Request& request, const std::string& token) {
    return call([this, method, request, token] {
      Client client(channel());
      grpc::ClientContext context;
      if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
      Response response;
      grpc::Status status = (client.*method)(&context, request, &response);
      return std::make_pair(status, response);
    });
  }

  std::pair<grpc::Status, v1::Chat> create_chat(const std::string& token, std::string title) {
    v1::CreateChatRequest request;
    request.set_title(std::move(title));
    return rpc(&ChatClient::CreateChat, request, token);
  }
  std::pair<grpc::Status, v1::SendMessageResponse> send(const std::string& token,
                                                        std::string chat_id, std::string text) {
    v1::SendMessageRequest request;
    request.set_chat_id(std::move(chat_id));
    request.set_text(std::move(text));
    return rpc(&ChatClient::SendMessage, request, token);
  }
  std::pair<grpc::Status, v1::GetChatResponse> get_chat(const std::string& token,
                                                        std::string chat_id) {
    v1::GetChatRequest request;
    request.set_chat_id(std::move(chat_id));
    return rpc(&ChatClient::GetChat, request, token);
  }
  // Raw bytes to `method`, whatever they are.
  grpc::Status generic_call(const std::string& method, const std::string& bytes,
                            const std::string& token) {
    return call([this, method, bytes, token] {
      grpc::GenericStub stub(channel());
      grpc::ClientContext context;
      context.AddMetadata("authorization", "Bearer " + token);
      grpc::Slice slice(bytes);
      grpc::ByteBuffer request(&slice, 1);
      grpc::ByteBuffer response;
      std::promise<grpc::Status> done;
      stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                     [&done](grpc::Status status) { done.set_value(std::move(status)); });
      return done.get_future().get();
    });
  }
};

// StreamUpdates read on a thread of its own until `stop` says so (or the stream ends).
struct UpdateReader {
  grpc::ClientContext context;
  std::mutex mutex;
  std::vector<v1::UserUpdate> updates;  // under mutex
  std::atomic<bool> stopped{false};     // `stop` held for an update
  std::atomic<bool> ended{false};       // the stream ended (status set)
  grpc::Status status;
  std::thread thread;

  UpdateReader(std::shared_ptr<grpc::Channel> channel, const std::string& token,
               v1::StreamUpdatesRequest request, std::function<bool(const v1::UserUpdate&)> stop) {
    context.AddMetadata("authorization", "Bearer " + token);
    thread = std::thread([this, channel, request, stop] {
      auto stub = v1::StreamingService::NewStub(channel);
      auto reader = stub->StreamUpdates(&context, request);
      v1::UserUpdate update;
      while (reader->Read(&update)) {
        {
          std::lock_guard lock(mutex);
          updates.push_back(update);
        }
        if (stop && stop(update)) {
          stopped = true;
          context.TryCancel();
        }
      }
      status = reader->Finish();
      ended = true;
    });
  }
  ~UpdateReader() {
    context.TryCancel();
    thread.join();
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return updates.size();
  }
};

bool idle_status(const v1::UserUpdate& update) {
  return update.kind() == "chat_status" &&
         Json::parse(update.body_json()).value("status", "") == "idle";
}

TEST(GrpcApi, AChatStreamsEveryUpdateInOrderUntilIdleAndReadsBackSixMessages) {
  GrpcStack s;
  ASSERT_TRUE(s.server);
  auto [created, chat] = s.create_chat(s.alice, "demo");
  ASSERT_TRUE(created.ok()) << created.error_message();
  EXPECT_EQ(chat.title(), "demo");
  EXPECT_EQ(chat.status(), "idle");
  EXPECT_FALSE(chat.id().empty());

  v1::StreamUpdatesRequest from_start;
  from_start.set_since_seq(0);
  from_start.set_chat_id(chat.id());
  from_start.set_previews(true);
  UpdateReader reader(s.channel(), s.alice, from_start, &idle_status);
  auto [sent, message] = s.send(s.alice, chat.id(), "list the files and run `echo hi`");
  ASSERT_TRUE(sent.ok()) << sent.error_message();
  EXPECT_FALSE(message.message_id().empty());
  EXPECT_FALSE(message.run_id().empty());
  EXPECT_EQ(message.seq(), 2);
  ASSERT_TRUE(s.run_until([&] { return reader.ended.load(); })) << "no idle status arrived";
  EXPECT_TRUE(reader.stopped);

  // Stored updates 1..n without a gap, previews (seq 0) in between, ending with idle.
  std::int64_t expected = 1;
  int previews = 0;
  bool saw_listing = false;
  bool saw_echo = false;
  for (const auto& update : reader.updates) {
    EXPECT_EQ(update.chat_id(), chat.id());
    EXPECT_EQ(update.user_id(), "user-alice");
    if (update.seq() == 0) {
      ++previews;
      continue;
    }
    EXPECT_EQ(update.seq(), expected++) << update.kind();
    if (update.kind() != "message") continue;
    const Json body = Json::parse(update.body_json());
    if (body.value("role", "") != "tool") continue;
    const std::string content = body["content"][0]["body"].value("content", "");
    saw_listing = saw_listing || content.find("README.md") != std::string::npos;
    saw_echo = saw_echo || content == "hi\n";
  }
  EXPECT_EQ(expected - 1, 9) << "created, user message, running, 5 agent messages, idle";
  EXPECT_TRUE(idle_status(reader.updates.back()));
  EXPECT_GT(previews, 0);
  EXPECT_TRUE(saw_listing);
  EXPECT_TRUE(saw_echo);

  auto [got, view] = s.get_chat(s.alice, chat.id());
  ASSERT_TRUE(got.ok()) << got.error_message();
  EXPECT_EQ(view.chat().id(), chat.id());
  EXPECT_EQ(view.chat().status(), "idle");
  EXPECT_EQ(view.chat().workflow_run_id(), message.run_id());
  ASSERT_EQ(view.messages_size(), 6);
  std::vector<std::string> roles;
  for (const auto& m : view.messages()) roles.push_back(m.role());
  EXPECT_EQ(roles, (std::vector<std::string>{"user", "assistant", "tool", "assistant", "tool",
                                             "assistant"}));
  EXPECT_EQ(view.messages(0).id(), message.message_id());
  EXPECT_EQ(view.messages(0).ordinal(), 1);
  ASSERT_EQ(view.messages(4).content_size(), 1);
  EXPECT_EQ(view.messages(4).content(0).kind(), "tool_result");
  EXPECT_EQ(Json::parse(view.messages(4).content(0).body_json()).value("content", ""), "hi\n");

  // Resuming from the last number seen: nothing again, the stream waits for new updates.
  v1::StreamUpdatesRequest resume;
  resume.set_since_seq(expected - 1);
  resume.set_chat_id(chat.id());
  UpdateReader later(s.channel(), s.alice, resume, {});
  s.run_for(std::chrono::milliseconds(200));
  EXPECT_EQ(later.size(), 0u);
  EXPECT_FALSE(later.ended);
}

TEST(GrpcApi, ListsChatsAndDaemonsAndSetsTheSessionDaemon) {
  GrpcStack s;
  ASSERT_TRUE(s.server);
  auto [created, chat] = s.create_chat(s.alice, "one");
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(s.create_chat(s.bob, "bob's").first.ok());

  auto [listed, chats] = s.rpc(&ChatClient::ListChats, v1::ListChatsRequest(), s.alice);
  ASSERT_TRUE(listed.ok()) << listed.error_message();
  ASSERT_EQ(chats.chats_size(), 1);
  EXPECT_EQ(chats.chats(0).id(), chat.id());

  auto [found, daemons] = s.rpc(&DaemonClient::ListDaemons, v1::ListDaemonsRequest(), s.alice);
  ASSERT_TRUE(found.ok()) << found.error_message();
  ASSERT_EQ(daemons.daemons_size(), 1);
  const v1::Daemon& daemon = daemons.daemons(0);
  EXPECT_EQ(daemon.id(), "daemon-1");
  EXPECT_EQ(daemon.name(), "laptop");
  EXPECT_EQ(daemon.status(), "active");
  EXPECT_EQ(daemon.hostname(), "alice-laptop");
  EXPECT_EQ(daemon.connected_at_ms(), 1);
  EXPECT_EQ(daemon.labels().at("team"), "core");
  EXPECT_EQ(daemon.labels().size(), 2u);

  v1::SetSessionDaemonRequest set;
  set.set_chat_id(chat.id());
  set.set_daemon_id("daemon-1");
  auto set_daemon = [&s](const v1::SetSessionDaemonRequest& request, const std::string& token) {
    return s.rpc(&DaemonClient::SetSessionDaemon, request, token).first;
  };
  ASSERT_TRUE(set_daemon(set, s.alice).ok());
  EXPECT_EQ(s.get_chat(s.alice, chat.id()).second.chat().active_daemon_id(), "daemon-1");
  EXPECT_EQ(set_daemon(set, s.bob).error_code(), grpc::StatusCode::NOT_FOUND);
  set.set_daemon_id("");
  ASSERT_TRUE(set_daemon(set, s.alice).ok());
  EXPECT_EQ(s.get_chat(s.alice, chat.id()).second.chat().active_daemon_id(), "");
  EXPECT_EQ(s.authenticated_calls, 9);
}

TEST(GrpcApi, FailuresAreTheMatchingStatuses) {
  GrpcStack s;
  ASSERT_TRUE(s.server);
  // Credentials: missing, unknown, not a bearer.
  for (const std::string& token : {std::string(), token_of(9), std::string("rlnt_pat_short")}) {
    auto [status, chat] = s.create_chat(token, "x");
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << token;
    EXPECT_FALSE(status.error_message().empty());
  }
  EXPECT_EQ(s.authenticated_calls, 0);
  v1::StreamUpdatesRequest everything;
  UpdateReader anonymous(s.channel(), token_of(9), everything, {});
  ASSERT_TRUE(s.run_until([&] { return anonymous.ended.load(); }));
  EXPECT_EQ(anonymous.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // Unknown chats, and someone else's.
  auto [created, chat] = s.create_chat(s.alice, "mine");
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(s.get_chat(s.alice, "no-such-chat").first.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.get_chat(s.bob, chat.id()).first.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.send(s.alice, "no-such-chat", "hi").first.error_code(), grpc::StatusCode::NOT_FOUND);

  // Bad requests: empty text, a selector that is not JSON, a negative resume point.
  grpc::Status empty = s.send(s.alice, chat.id(), "").first;
  EXPECT_EQ(empty.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << empty.error_message();
  v1::SendMessageRequest selector;
  selector.set_chat_id(chat.id());
  selector.set_text("hi");
  selector.set_daemon_selector_json("{not json");
  auto [bad_selector, unused] = s.rpc(&ChatClient::SendMessage, selector, s.alice);
  EXPECT_EQ(bad_selector.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::StreamUpdatesRequest negative;
  negative.set_since_seq(-1);
  UpdateReader backwards(s.channel(), s.alice, negative, {});
  ASSERT_TRUE(s.run_until([&] { return backwards.ended.load(); }));
  EXPECT_EQ(backwards.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // Garbage bytes where a SendMessageRequest belongs; a method nobody serves.
  const std::string garbage("\x0a\x7f", 2);  // field 1, 127 bytes long, then nothing
  grpc::Status malformed =
      s.generic_call("/reliant.api.v1.ChatService/SendMessage", garbage, s.alice);
  EXPECT_EQ(malformed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(malformed.error_message().find("malformed reliant.api.v1.SendMessageRequest"),
            std::string::npos)
      << malformed.error_message();
  EXPECT_EQ(s.generic_call("/reliant.api.v1.ChatService/DeleteChat", "", s.alice).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(
      s.generic_call("/reliant.daemon.v1.DaemonService/ListDaemons", "", s.alice).error_code(),
      grpc::StatusCode::UNIMPLEMENTED);
}

TEST(GrpcApi, AStreamTheClientCancelsEndsOnTheServer) {
  GrpcStack s;
  ASSERT_TRUE(s.server);
  {
    v1::StreamUpdatesRequest live;
    UpdateReader idle(s.channel(), s.alice, live, {});
    ASSERT_TRUE(s.run_until([&] { return s.api->stats().streams_open == 1; }));
    s.run_for(std::chrono::milliseconds(50));
    EXPECT_EQ(idle.size(), 0u);
    idle.context.TryCancel();
    ASSERT_TRUE(s.run_until([&] { return idle.ended.load(); }));
    EXPECT_EQ(idle.status.error_code(), grpc::StatusCode::CANCELLED);
  }
  EXPECT_TRUE(s.run_until([&] { return s.api->stats().streams_open == 0; }));
  EXPECT_TRUE(s.run_until([&] { return s.server->live_calls() == 0; }));
}

// An approval and a router: the run needs no daemon and no model, only a person.
constexpr const char* kGate = R"(name: gate
entry: approve
nodes:
  - {id: approve, type: approval, title: "Ship it?"}
  - {id: done, type: router}
edges:
  - from: approve
    cases:
      - {to: done, condition: "nodes.approve.status == 'approved'"}
outputs:
  approved: "{{ nodes.approve.status }}"
)";

TEST(GrpcApi, AProjectWorkflowIsStoredRunAndApprovedOverGrpc) {
  GrpcStack s;
  ASSERT_TRUE(s.server);
  TransactionBody project = [](SqlTransaction& tx) {
    return insert_project(tx, ProjectRecord{"proj-1", "user-alice", "web", "", 1, {}});
  };
  ASSERT_TRUE(s.run(s.store->transact(std::move(project))).has_value());

  // A mistake is refused at its file:line:column.
  v1::CreateProjectWorkflowRequest create;
  create.set_project_id("proj-1");
  create.set_source("name: gate\nentry: a\nnodes:\n  - {id: a, type: nope}\n");
  create.set_file("gate.yaml");
  auto [refused, unused] = s.rpc(&WorkflowClient::CreateProjectWorkflow, create, s.alice);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refused.error_message().rfind("gate.yaml:4:", 0), 0u) << refused.error_message();

  create.set_source(kGate);
  auto [created, stored] = s.rpc(&WorkflowClient::CreateProjectWorkflow, create, s.alice);
  ASSERT_TRUE(created.ok()) << created.error_message();
  EXPECT_EQ(stored.name(), "gate");
  EXPECT_EQ(stored.version(), 1);
  EXPECT_EQ(stored.project_id(), "proj-1");
  v1::GetProjectWorkflowRequest get;
  get.set_project_id("proj-1");
  get.set_name("gate");
  auto [got, read] = s.rpc(&WorkflowClient::GetProjectWorkflow, get, s.alice);
  ASSERT_TRUE(got.ok()) << got.error_message();
  EXPECT_EQ(read.source(), kGate);
  EXPECT_EQ(s.rpc(&WorkflowClient::GetProjectWorkflow, get, s.bob).first.error_code(),
            grpc::StatusCode::NOT_FOUND);

  v1::StartRunRequest start;
  start.set_workflow("gate");
  start.set_project_id("proj-1");
  auto [started, run] = s.rpc(&WorkflowClient::StartRun, start, s.alice);
  ASSERT_TRUE(started.ok()) << started.error_message();
  EXPECT_EQ(run.workflow(), "gate");
  EXPECT_EQ(run.status(), "running");
  EXPECT_FALSE(run.chat_id().empty());

  // The worker reaches the approval; the run then shows it waiting.
  v1::GetRunRequest get_run;
  get_run.set_run_id(run.run_id());
  const auto run_reaches = [&](const std::function<bool(const v1::GetRunResponse&)>& done) {
    for (int i = 0; i < 100; ++i) {
      auto [status, shown] = s.rpc(&WorkflowClient::GetRun, get_run, s.alice);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (done(shown)) return true;
      s.run_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  ASSERT_TRUE(run_reaches([](const v1::GetRunResponse& shown) {
    return shown.nodes_json().find("\"waiting\"") != std::string::npos;
  }));

  // Run control: its owner pauses and resumes it; what does not apply now is refused.
  v1::ControlRunRequest pause;
  pause.set_run_id(run.run_id());
  pause.set_action("pause");
  EXPECT_EQ(s.rpc(&WorkflowClient::ControlRun, pause, s.bob).first.error_code(),
            grpc::StatusCode::NOT_FOUND);
  auto [paused, pause_done] = s.rpc(&WorkflowClient::ControlRun, pause, s.alice);
  ASSERT_TRUE(paused.ok()) << paused.error_message();
  EXPECT_EQ(pause_done.action(), "pause");
  EXPECT_EQ(s.rpc(&WorkflowClient::ControlRun, pause, s.alice).first.error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::ControlRunRequest resume = pause;
  resume.set_action("resume");
  EXPECT_TRUE(s.rpc(&WorkflowClient::ControlRun, resume, s.alice).first.ok());
  v1::ControlRunRequest retry = pause;
  retry.set_action("retry");
  EXPECT_EQ(s.rpc(&WorkflowClient::ControlRun, retry, s.alice).first.error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::ControlRunRequest set = pause;
  set.set_action("set_input");
  set.set_name("nosuch");
  set.set_value_json("1");
  EXPECT_EQ(s.rpc(&WorkflowClient::ControlRun, set, s.alice).first.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::ControlRunRequest unknown = pause;
  unknown.set_action("explode");
  EXPECT_EQ(s.rpc(&WorkflowClient::ControlRun, unknown, s.alice).first.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // Another user's run is not found; its owner approves it.
  v1::ApproveNodeRequest approve;
  approve.set_run_id(run.run_id());
  approve.set_message("go");
  EXPECT_EQ(s.rpc(&WorkflowClient::ApproveNode, approve, s.bob).first.error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.rpc(&WorkflowClient::GetRun, get_run, s.bob).first.error_code(),
            grpc::StatusCode::NOT_FOUND);
  auto [approved, answered] = s.rpc(&WorkflowClient::ApproveNode, approve, s.alice);
  ASSERT_TRUE(approved.ok()) << approved.error_message();
  EXPECT_EQ(answered.node(), "approve");
  EXPECT_EQ(Json::parse(answered.output_json())["status"], "approved");
  ASSERT_TRUE(
      run_reaches([](const v1::GetRunResponse& shown) { return shown.status() == "completed"; }));
  auto [finished, done] = s.rpc(&WorkflowClient::GetRun, get_run, s.alice);
  EXPECT_EQ(Json::parse(done.result_json())["outputs"]["approved"], "approved")
      << done.result_json();

  // Nothing waits any more.
  auto [again, unused_again] = s.rpc(&WorkflowClient::ApproveNode, approve, s.alice);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << again.error_message();
  v1::CancelRunRequest cancel;
  cancel.set_run_id(run.run_id());
  EXPECT_EQ(s.rpc(&WorkflowClient::CancelRun, cancel, s.alice).first.error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  auto [listed, runs] = s.rpc(&WorkflowClient::ListRuns, v1::ListRunsRequest(), s.alice);
  ASSERT_TRUE(listed.ok()) << listed.error_message();
  ASSERT_EQ(runs.runs_size(), 1);
  EXPECT_EQ(runs.runs(0).id(), run.run_id());
  EXPECT_EQ(runs.runs(0).workflow(), "gate");
  EXPECT_EQ(runs.runs(0).status(), "completed");
  EXPECT_EQ(runs.runs(0).chat_id(), run.chat_id());
  EXPECT_EQ(s.rpc(&WorkflowClient::ListRuns, v1::ListRunsRequest(), s.bob).second.runs_size(), 0);

  // Node updates in history order, each with its seq; none after the last.
  v1::ListRunEventsRequest events;
  events.set_run_id(run.run_id());
  auto [read_events, history] = s.rpc(&WorkflowClient::ListRunEvents, events, s.alice);
  ASSERT_TRUE(read_events.ok()) << read_events.error_message();
  ASSERT_FALSE(history.events().empty());
  std::int64_t seq = 0;
  bool approval_completed = false;
  for (const auto& event : history.events()) {
    EXPECT_GE(event.seq(), seq) << event.event_json();
    seq = event.seq();
    EXPECT_EQ(Json::parse(event.event_json())["kind"], event.kind());
    approval_completed =
        approval_completed || (event.kind() == "node_completed" && event.key() == "approve");
  }
  EXPECT_TRUE(approval_completed);
  EXPECT_EQ(history.events(history.events_size() - 1).kind(), "run_completed");
  EXPECT_GE(history.last_seq(), seq);
  events.set_since_seq(history.last_seq());
  EXPECT_EQ(s.rpc(&WorkflowClient::ListRunEvents, events, s.alice).second.events_size(), 0);
}

TEST(GrpcApi, ServesEveryMethodOfTheProtoAndStreamsOnlyStreamUpdates) {
  GrpcStack s;
  const auto* file = v1::Chat::descriptor()->file();
  int methods = 0;
  for (int i = 0; i < file->service_count(); ++i) {
    const auto* service = file->service(i);
    for (int j = 0; j < service->method_count(); ++j) {
      const auto* method = service->method(j);
      const std::string path = "/" + service->full_name() + "/" + method->name();
      EXPECT_TRUE(s.api->knows(path)) << path;
      EXPECT_EQ(s.api->is_server_streaming(path), method->server_streaming()) << path;
      EXPECT_FALSE(method->client_streaming()) << path;
      ++methods;
    }
  }
  EXPECT_EQ(methods, 38);
  EXPECT_FALSE(s.api->knows("/reliant.api.v1.ChatService/DeleteChat"));
}

TEST(GrpcApi, PresetsAreKeptPerUserAndAppliedToRunsOverGrpc) {
  GrpcStack s;
  ASSERT_TRUE(s.server);
  v1::CreatePresetRequest create;
  create.set_source("name: terse\ntag: agent\nparams:\n  temperature: 7\n");
  auto [refused, unused] = s.rpc(&PresetClient::CreatePreset, create, s.alice);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refused.error_message(), "preset.yaml:4:16: params.temperature 7 is outside 0 to 2");

  create.set_source("name: terse\ntag: agent\nparams:\n  system_prompt: Be terse.\n");
  auto [created, preset] = s.rpc(&PresetClient::CreatePreset, create, s.alice);
  ASSERT_TRUE(created.ok()) << created.error_message();
  EXPECT_EQ(preset.origin(), "user");
  EXPECT_EQ(Json::parse(preset.params_json())["system_prompt"], "Be terse.");

  // Alice sees it beside the built-ins; Bob sees only the built-ins.
  auto names_of = [&](const std::string& token) {
    auto [listed, presets] = s.rpc(&PresetClient::ListPresets, v1::ListPresetsRequest(), token);
    EXPECT_TRUE(listed.ok()) << listed.error_message();
    std::set<std::string> names;
    for (const auto& each : presets.presets()) names.insert(each.name());
    return names;
  };
  EXPECT_TRUE(names_of(s.alice).contains("terse"));
  EXPECT_TRUE(names_of(s.alice).contains("general"));
  EXPECT_FALSE(names_of(s.bob).contains("terse"));
  v1::GetPresetRequest get;
  get.set_name("terse");
  EXPECT_EQ(s.rpc(&PresetClient::GetPreset, get, s.bob).first.error_code(),
            grpc::StatusCode::NOT_FOUND);
  auto [got, shown] = s.rpc(&PresetClient::GetPreset, get, s.alice);
  ASSERT_TRUE(got.ok()) << got.error_message();
  EXPECT_NE(shown.source().find("Be terse."), std::string::npos);

  // A run's start takes a preset; an unknown one is refused.
  v1::StartRunRequest start;
  start.set_workflow("builtin://agent");
  start.set_presets_json("\"nobody\"");
  auto [unknown, none] = s.rpc(&WorkflowClient::StartRun, start, s.alice);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(unknown.error_message(), "no preset \"nobody\"");
  start.set_presets_json("{\"default\": \"terse\"}");
  EXPECT_EQ(s.rpc(&WorkflowClient::StartRun, start, s.bob).first.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // Bob has no such preset
  auto [started, run] = s.rpc(&WorkflowClient::StartRun, start, s.alice);
  ASSERT_TRUE(started.ok()) << started.error_message();
  v1::GetRunRequest get_run;
  get_run.set_run_id(run.run_id());
  get_run.set_history(true);  // its first event holds what it started with
  auto [read, view] = s.rpc(&WorkflowClient::GetRun, get_run, s.alice);
  ASSERT_TRUE(read.ok()) << read.error_message();
  EXPECT_NE(view.history_json().find("Be terse."), std::string::npos) << view.history_json();

  v1::DeletePresetRequest remove;
  remove.set_name("terse");
  EXPECT_EQ(s.rpc(&PresetClient::DeletePreset, remove, s.bob).first.error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(s.rpc(&PresetClient::DeletePreset, remove, s.alice).first.ok());
  EXPECT_FALSE(names_of(s.alice).contains("terse"));
}

}  // namespace
}  // namespace reliant::api

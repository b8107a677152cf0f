// A daemon's own services over real gRPC (GrpcApi behind a GrpcRpcServer, the monolith's
// in-process daemon on a PosixHost confined to a temp dir), called by generated C++ stubs: files
// listed, read, written, created, copied, moved, searched and deleted, with confinement and
// ownership refused by status; a background process's output streamed to its end and the
// process killed over the bus operation; a terminal opened, typed into, read, resized and closed
// over the bidirectional StreamTerminal, then attached again from an offset; MCP servers listed.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <filesystem>
#include <fstream>
#include <string>

#include "adapters/asio/asio_executor.h"
#include "adapters/grpc/grpc_rpc_server.h"
#include "adapters/host/posix_host.h"
#include "adapters/memory/in_process_bus.h"
#include "adapters/sqlite/sqlite_store.h"
#include "core/personal_access_token.h"
#include "reliant/api/v1/daemon_services.grpc.pb.h"
#include "runtime/scope.h"
#include "services/api/grpc_api.h"
#include "services/routing/local_daemon_router.h"
#include "services/storage/accounts.h"
#include "services/storage/daemons.h"
#include "services/storage/migrator.h"
#include "unit/support/await_into.h"
#include "unit/support/real_loop.h"
#include "unit/support/temp_dir.h"
#include "unit/support/token_of.h"

namespace reliant::api {
namespace {

using Json = nlohmann::json;

namespace fs = std::filesystem;
using Files = v1::FileSystemService::Stub;
using Background = v1::BackgroundService::Stub;
using Terminals = v1::TerminalService::Stub;
using Mcp = v1::MCPService::Stub;

struct Stack {
  testing::TempDir temp{"reliant-daemon-services"};
  std::string work_dir = (temp.path / "work").string();
  AsioExecutor executor;
  std::unique_ptr<SqliteStore> store;
  InProcessBroker broker{1};
  InProcessBus bus{broker, executor};
  std::unique_ptr<PosixHost> host;
  Random random{7};
  std::unique_ptr<Env> env;
  daemon::MemoryRequestJournal journal;
  std::unique_ptr<routing::LocalDaemonRouter> router;
  std::unique_ptr<GrpcApi> api;
  std::unique_ptr<GrpcRpcServer> server;
  std::unique_ptr<Scope> scope;
  const std::string alice = token_of(1);
  const std::string bob = token_of(2);

  Stack() {
    fs::create_directories(work_dir + "/src");
    fs::create_directories(temp.path / "outside");
    std::ofstream(work_dir + "/README.md") << "# demo\n";
    std::ofstream(work_dir + "/src/main.cc") << "int main() {}\n// TODO: more\n";
    std::ofstream(temp.path / "outside" / "secret") << "s3cret";
    auto opened = SqliteStore::open(executor, (temp.path / "reliant.db").string());
    EXPECT_TRUE(opened.has_value());
    store = std::move(*opened);
    host = std::make_unique<PosixHost>(executor, PosixHostOptions{work_dir, {work_dir}, {}});
    env = std::make_unique<Env>(Env{executor, random, &bus, nullptr, store.get(), host.get()});
    scope = std::make_unique<Scope>(executor);
    EXPECT_TRUE(run(migrate_up(*store, executor.now())).has_value());
    TransactionBody seed = [this](SqlTransaction& tx) -> Result<void> {
      for (auto [user, token] : {std::pair{"alice", alice}, std::pair{"bob", bob}}) {
        if (auto ok = insert_user_with_token(tx, user, token); !ok) return ok;
      }
      DaemonRecord daemon;
      daemon.id = "daemon-1";
      daemon.user_id = "user-alice";
      daemon.name = "laptop";
      daemon.status = DaemonStatus::active;
      daemon.connection_id = "c1";
      daemon.connected_at_ms = 1;
      return record_daemon_connected(tx, daemon);
    };
    EXPECT_TRUE(run(store->transact(std::move(seed))).has_value());
    // Terminals run a plain shell: a login shell would run this machine's profile scripts.
    router = std::make_unique<routing::LocalDaemonRouter>(
        executor, *host, work_dir, journal, "daemon-1", "user-alice", nullptr, "exec /bin/sh");
    ApiConfig config;
    config.daemons = router.get();
    api = std::make_unique<GrpcApi>(*env, config);
    GrpcRpcServerOptions options;
    options.port = 0;
    auto started = GrpcRpcServer::start(executor, options, *api);
    EXPECT_TRUE(started.has_value()) << started.error().describe();
    if (started) server = std::move(*started);
  }
  ~Stack() {
    server.reset();
    scope.reset();
    api.reset();
    router.reset();
    testing::run_for(executor, std::chrono::milliseconds(20));
  }

  template <class T>
  T run(Task<T> task) {
    std::optional<T> out;
    scope->spawn(await_into(std::move(task), &out));
    EXPECT_TRUE(testing::run_until(
        executor, [&] { return out.has_value(); }, std::chrono::seconds(30)));
    return std::move(*out);
  }
  template <class F>
  auto call(F client) -> decltype(client()) {
    return testing::call_on_thread(executor, std::move(client), std::chrono::seconds(30));
  }
  // A call's credentials, and a deadline inside call()'s limit: a client blocked in Read
  // returns, so a failing test fails rather than waits for ever.
  static void authorize(grpc::ClientContext& context, const std::string& token) {
    context.AddMetadata("authorization", "Bearer " + token);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  }
  std::shared_ptr<grpc::Channel> channel() const {
    return grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()),
                               grpc::InsecureChannelCredentials());
  }
  template <class Client, class Request, class Response>
  std::pair<grpc::Status, Response> rpc(grpc::Status (Client::*method)(grpc::ClientContext*,
                                                                       const Request&, Response*),
                                        Request request, const std::string& token) {
    request.set_daemon_id(request.daemon_id().empty() ? "daemon-1" : request.daemon_id());
    return call([this, method, request, token] {
      Client client(channel());
      grpc::ClientContext context;
      authorize(context, token);
      Response response;
      grpc::Status status = (client.*method)(&context, request, &response);
      return std::make_pair(status, response);
    });
  }
};

TEST(DaemonServicesGrpc, FilesAreListedReadWrittenMovedCopiedSearchedAndDeleted) {
  Stack s;
  ASSERT_TRUE(s.server);
  v1::ListDirectoryRequest list;
  auto [listed, entries] = s.rpc(&Files::ListDirectory, list, s.alice);
  ASSERT_TRUE(listed.ok()) << listed.error_message();
  ASSERT_EQ(entries.entries_size(), 2);
  EXPECT_EQ(entries.entries(0).name(), "README.md");
  EXPECT_TRUE(entries.entries(1).is_directory());

  v1::SaveFileContentRequest save;
  save.set_path("notes/today.md");
  save.set_content("hello over grpc");
  auto [saved, written] = s.rpc(&Files::SaveFileContent, save, s.alice);
  ASSERT_TRUE(saved.ok()) << saved.error_message();
  EXPECT_EQ(written.size_bytes(), 15u);
  v1::GetFileContentRequest read;
  read.set_path("notes/today.md");
  auto [got, content] = s.rpc(&Files::GetFileContent, read, s.alice);
  ASSERT_TRUE(got.ok()) << got.error_message();
  EXPECT_EQ(content.content(), "hello over grpc");
  EXPECT_TRUE(content.is_text());

  v1::CreateFileOrFolderRequest create;
  create.set_path("build");
  create.set_kind(v1::FILE_KIND_DIRECTORY);
  EXPECT_TRUE(s.rpc(&Files::CreateFileOrFolder, create, s.alice).first.ok());
  EXPECT_TRUE(fs::is_directory(s.work_dir + "/build"));
  create.set_path("README.md");
  create.set_kind(v1::FILE_KIND_FILE);
  EXPECT_EQ(s.rpc(&Files::CreateFileOrFolder, create, s.alice).first.error_code(),
            grpc::StatusCode::ALREADY_EXISTS);

  v1::TransferFileRequest copy;
  copy.set_path("src");
  copy.set_to("backup/src");
  auto [copied, copied_to] = s.rpc(&Files::CopyFile, copy, s.alice);
  ASSERT_TRUE(copied.ok()) << copied.error_message();
  EXPECT_TRUE(fs::exists(s.work_dir + "/backup/src/main.cc"));
  v1::TransferFileRequest move;
  move.set_path("notes/today.md");
  move.set_to("notes/yesterday.md");
  ASSERT_TRUE(s.rpc(&Files::MoveFile, move, s.alice).first.ok());
  EXPECT_TRUE(fs::exists(s.work_dir + "/notes/yesterday.md"));
  EXPECT_FALSE(fs::exists(s.work_dir + "/notes/today.md"));

  v1::SearchFilesRequest search;
  search.set_query("TODO");
  auto [searched, found] = s.rpc(&Files::SearchFiles, search, s.alice);
  ASSERT_TRUE(searched.ok()) << searched.error_message();
  ASSERT_EQ(found.matches_size(), 2) << found.DebugString();  // src and its backup

  v1::DeleteFileOrFolderRequest remove;
  remove.set_path("backup");
  EXPECT_EQ(s.rpc(&Files::DeleteFileOrFolder, remove, s.alice).first.error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  remove.set_recursive(true);
  ASSERT_TRUE(s.rpc(&Files::DeleteFileOrFolder, remove, s.alice).first.ok());
  EXPECT_FALSE(fs::exists(s.work_dir + "/backup"));

  // Outside the workspace, the root itself, another user, no daemon named.
  read.set_path("../outside/secret");
  EXPECT_EQ(s.rpc(&Files::GetFileContent, read, s.alice).first.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  copy.set_path("../outside/secret");
  copy.set_to("stolen");
  EXPECT_EQ(s.rpc(&Files::CopyFile, copy, s.alice).first.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  remove.set_path(".");
  EXPECT_EQ(s.rpc(&Files::DeleteFileOrFolder, remove, s.alice).first.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(fs::exists(s.temp.path / "outside" / "secret"));
  read.set_path("README.md");
  EXPECT_EQ(s.rpc(&Files::GetFileContent, read, s.bob).first.error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.rpc(&Files::GetFileContent, read, "rlnt_pat_wrong").first.error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  read.set_daemon_id("daemon-of-nobody");
  EXPECT_EQ(s.rpc(&Files::GetFileContent, read, s.alice).first.error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST(DaemonServicesGrpc, ABackgroundProcessStreamsItsOutputToTheEndAndIsKilled) {
  Stack s;
  ASSERT_TRUE(s.server);
  routing::ToolCall call;
  call.user_id = "user-alice";
  call.daemon_id = "daemon-1";
  call.request_id = "bg-1";
  call.tool_name = "bash";
  call.input_json =
      R"({"command":"for i in 1 2 3; do echo line $i; sleep 0.2; done","run_in_background":true})";
  auto started = s.run(s.router->send_tool_request_sync(call));
  ASSERT_TRUE(started.has_value() && !started->is_error());
  const std::string first = Json::parse(started->metadata_json()).at("id");

  v1::StreamProcessOutputRequest request;
  request.set_daemon_id("daemon-1");
  request.set_process_id(first);
  auto [status, text, events, ended] = s.call([&] {
    auto stub = v1::BackgroundService::NewStub(s.channel());
    grpc::ClientContext context;
    Stack::authorize(context, s.alice);
    auto reader = stub->StreamProcessOutput(&context, request);
    v1::ProcessOutputEvent event;
    std::string all;
    int count = 0;
    bool last = false;
    while (reader->Read(&event)) {
      all += event.data();
      ++count;
      last = event.ended();
    }
    return std::make_tuple(reader->Finish(), all, count, last);
  });
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(text, "line 1\nline 2\nline 3\n");
  EXPECT_GE(events, 2) << "the output came as it was written, then the end";
  EXPECT_TRUE(ended);

  call.request_id = "bg-2";
  call.input_json = R"({"command":"sleep 30","run_in_background":true})";
  auto second = s.run(s.router->send_tool_request_sync(call));
  ASSERT_TRUE(second.has_value() && !second->is_error());
  v1::KillProcessRequest kill;
  kill.set_process_id(Json::parse(second->metadata_json()).at("id"));
  auto [killed, answer] = s.rpc(&Background::KillProcess, kill, s.alice);
  ASSERT_TRUE(killed.ok()) << killed.error_message();
  EXPECT_TRUE(answer.killed());
  v1::ListProcessesRequest list;
  auto [listed, processes] = s.rpc(&Background::ListProcesses, list, s.alice);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(processes.processes_size(), 2);
  EXPECT_TRUE(processes.processes(1).killed());
  kill.set_process_id("bash_9");
  EXPECT_EQ(s.rpc(&Background::KillProcess, kill, s.alice).first.error_code(),
            grpc::StatusCode::NOT_FOUND);
  kill.set_process_id(first);
  EXPECT_EQ(s.rpc(&Background::KillProcess, kill, s.bob).first.error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// Reads a terminal stream's output until it holds `wanted` (or the stream ends).
template <class Stream>
std::string read_until(Stream& stream, const std::string& wanted, v1::TerminalStreamOutput* last) {
  std::string seen;
  v1::TerminalStreamOutput message;
  while (seen.find(wanted) == std::string::npos && stream.Read(&message)) {
    if (message.has_data()) seen += message.data().data();
    *last = message;
  }
  return seen;
}

TEST(DaemonServicesGrpc, ATerminalStreamsBothWaysAndIsAttachedAgainFromAnOffset) {
  Stack s;
  ASSERT_TRUE(s.server);
  auto [session_id, seen, opened_rows] = s.call([&] {
    auto stub = v1::TerminalService::NewStub(s.channel());
    grpc::ClientContext context;
    Stack::authorize(context, s.alice);
    auto stream = stub->StreamTerminal(&context);
    v1::TerminalStreamInput create;
    create.mutable_create()->set_daemon_id("daemon-1");
    create.mutable_create()->set_rows(30);
    create.mutable_create()->set_cols(100);
    stream->Write(create);
    v1::TerminalStreamOutput opened;
    EXPECT_TRUE(stream->Read(&opened));
    EXPECT_TRUE(opened.has_opened()) << opened.DebugString();
    v1::TerminalStreamInput keys;
    keys.mutable_data()->set_data("echo grpc-$((6*7))-done\n");
    stream->Write(keys);
    v1::TerminalStreamOutput last;
    const std::string seen = read_until(*stream, "grpc-42-done", &last);
    v1::TerminalStreamInput resize;
    resize.mutable_resize()->set_rows(40);
    resize.mutable_resize()->set_cols(120);
    stream->Write(resize);
    stream->WritesDone();  // going away; the terminal stays
    context.TryCancel();
    (void)stream->Finish();
    return std::make_tuple(opened.opened().id(), seen, opened.opened().rows());
  });
  EXPECT_NE(seen.find("grpc-42-done"), std::string::npos) << seen;
  EXPECT_EQ(opened_rows, 30);

  v1::ListTerminalSessionsRequest list;
  auto [listed, sessions] = s.rpc(&Terminals::ListSessions, list, s.alice);
  ASSERT_TRUE(listed.ok()) << listed.error_message();
  ASSERT_EQ(sessions.sessions_size(), 1) << "a client that went left its terminal open";
  EXPECT_EQ(sessions.sessions(0).id(), session_id);

  // Attached again from the start: the earlier output comes back, then a close ends it.
  auto [again, closed] = s.call([&] {
    auto stub = v1::TerminalService::NewStub(s.channel());
    grpc::ClientContext context;
    Stack::authorize(context, s.alice);
    auto stream = stub->StreamTerminal(&context);
    v1::TerminalStreamInput attach;
    attach.mutable_attach()->set_daemon_id("daemon-1");
    attach.mutable_attach()->set_session_id(session_id);
    attach.mutable_attach()->set_offset(0);
    stream->Write(attach);
    v1::TerminalStreamOutput last;
    const std::string replay = read_until(*stream, "grpc-42-done", &last);
    v1::TerminalStreamInput close;
    close.mutable_close();
    stream->Write(close);
    bool saw_closed = false;
    v1::TerminalStreamOutput message;
    while (stream->Read(&message)) saw_closed |= message.has_closed();
    EXPECT_TRUE(stream->Finish().ok());
    return std::make_pair(replay, saw_closed);
  });
  EXPECT_NE(again.find("grpc-42-done"), std::string::npos) << again;
  EXPECT_TRUE(closed);
  auto [after, none] = s.rpc(&Terminals::ListSessions, list, s.alice);
  EXPECT_EQ(none.sessions_size(), 0);

  // Another user's daemon, and a stream that does not start with create or attach.
  auto refused = s.call([&] {
    auto stub = v1::TerminalService::NewStub(s.channel());
    grpc::ClientContext context;
    Stack::authorize(context, s.bob);
    auto stream = stub->StreamTerminal(&context);
    v1::TerminalStreamInput create;
    create.mutable_create()->set_daemon_id("daemon-1");
    stream->Write(create);
    v1::TerminalStreamOutput message;
    while (stream->Read(&message)) {
    }
    return stream->Finish();
  });
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::NOT_FOUND);
  auto unstarted = s.call([&] {
    auto stub = v1::TerminalService::NewStub(s.channel());
    grpc::ClientContext context;
    Stack::authorize(context, s.alice);
    auto stream = stub->StreamTerminal(&context);
    v1::TerminalStreamInput keys;
    keys.mutable_data()->set_data("ls\n");
    stream->Write(keys);
    v1::TerminalStreamOutput message;
    while (stream->Read(&message)) {
    }
    return stream->Finish();
  });
  EXPECT_EQ(unstarted.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(DaemonServicesGrpc, McpServersAreListedAndADaemonWithoutThemSaysSo) {
  Stack s;
  ASSERT_TRUE(s.server);
  v1::ListMcpServersRequest list;
  auto [status, servers] = s.rpc(&Mcp::ListServers, list, s.alice);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << "this daemon runs no MCP servers: " << status.error_message();
}

}  // namespace
}  // namespace reliant::api

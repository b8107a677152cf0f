// A daemon's own services over REST (DaemonRoutes), on the monolith's in-process daemon. Its
// MCPService, with a scripted MCP server: the servers with their status, their tools, disable,
// enable and restart; an unknown server is a 404, another user's daemon too, and an api with no
// way to its daemons says so (503). Its BackgroundService: a process the bash tool started in the
// background is listed, its output read and the process killed — by its user only. Its
// FileSystemService: files listed, read and written, and every path confined to the workspace.
#include <gtest/gtest.h>

#include <array>

#include "base/base64url.h"
#include "base/url_encoding.h"
#include "core/tool_subjects.h"
#include "runtime/sleep.h"
#include "services/api/api_server.h"
#include "services/api/terminal_socket.h"
#include "services/daemon/file_methods.h"
#include "services/storage/accounts.h"
#include "sim/sim_mcp_server.h"
#include "unit/services/agent_monolith.h"

namespace reliant::agent {
namespace {

using Json = nlohmann::json;

struct McpApi {
  Monolith m;
  std::unique_ptr<api::ApiServer> rest;
  std::string erin;  // user-1's token: the daemon's user
  std::string finn;  // user-2's

  McpApi() {
    m.host.on_interactive("'sim-mcp'", sim::SimMcpServer::factory({}));
    mcp::McpServerConfig files;
    files.name = "files";
    files.command = "sim-mcp";
    m.mcp.configure({{"files", files}});
    api::ApiConfig config;
    config.daemons = &m.router;
    rest = std::make_unique<api::ApiServer>(m.env, config);
    erin = stored_token(m, "user-1", 1);
    finn = stored_token(m, "user-2", 2);
  }
  HttpResponse call(api::ApiServer& server, const std::string& method, const std::string& path,
                    const std::string& token, std::string body = "") {
    HttpRequest request;
    request.method = method;
    const auto question = path.find('?');
    request.path = path.substr(0, question);
    if (question != std::string::npos)
      request.query = parse_form_urlencoded(path.substr(question + 1));
    request.headers["authorization"] = "Bearer " + token;
    request.body = std::move(body);
    return m.run(server.handle(std::move(request)));
  }
  Json ok(const std::string& method, const std::string& path, std::string body = "") {
    HttpResponse response = call(*rest, method, path, erin, std::move(body));
    EXPECT_EQ(response.status, 200) << method << " " << path << ": " << response.body;
    return Json::parse(response.body, nullptr, false);
  }
};

// protobuf's JSON mapping writes bytes in standard base64, with padding.
std::string from_base64(const Json& text) {
  std::string url = text.is_string() ? text.get<std::string>() : "";
  for (char& c : url) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!url.empty() && url.back() == '=') url.pop_back();
  auto bytes = base64url_decode(url);
  EXPECT_TRUE(bytes.has_value()) << text.dump();
  return bytes.value_or("");
}

std::vector<std::string> tool_names(const Json& body) {
  std::vector<std::string> names;
  // An empty list is a default, left out.
  for (const auto& tool : body.value("tools", Json::array())) names.push_back(tool["name"]);
  return names;
}

TEST(McpService, ServersAreListedStoppedStartedAndRestartedOverRest) {
  McpApi a;
  const Json listed = a.ok("GET", "/api/v1/daemons/daemon-1/mcp");
  ASSERT_EQ(listed["servers"].size(), 1u) << listed.dump();
  EXPECT_EQ(listed["servers"][0]["name"], "files");

  const Json tools = a.ok("GET", "/api/v1/daemons/daemon-1/mcp/tools?server=files");
  const auto names = tool_names(tools);
  EXPECT_NE(std::find(names.begin(), names.end(), "mcp__files__echo"), names.end()) << tools.dump();
  EXPECT_EQ(a.ok("GET", "/api/v1/daemons/daemon-1/mcp")["servers"][0]["status"], "HEALTHY");

  EXPECT_EQ(a.ok("POST", "/api/v1/daemons/daemon-1/mcp/files/disable")["status"], "DISABLED");
  EXPECT_TRUE(tool_names(a.ok("GET", "/api/v1/daemons/daemon-1/mcp/tools")).empty());
  (void)a.ok("POST", "/api/v1/daemons/daemon-1/mcp/files/enable");
  const Json restarted = a.ok("POST", "/api/v1/daemons/daemon-1/mcp/files/restart");
  EXPECT_EQ(restarted["status"], "HEALTHY") << restarted.dump();
}

TEST(McpService, WrongNamesOtherUsersAndNoRouterAreRefused) {
  McpApi a;
  HttpResponse unknown =
      a.call(*a.rest, "POST", "/api/v1/daemons/daemon-1/mcp/nope/restart", a.erin);
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_NE(unknown.body.find("no MCP server named nope"), std::string::npos) << unknown.body;
  EXPECT_EQ(a.call(*a.rest, "GET", "/api/v1/daemons/daemon-1/mcp", a.finn).status, 404);
  EXPECT_EQ(a.call(*a.rest, "GET", "/api/v1/daemons/no-such/mcp", a.erin).status, 404);
  EXPECT_EQ(a.call(*a.rest, "PUT", "/api/v1/daemons/daemon-1/mcp/files/restart", a.erin).status,
            404);
  const HttpResponse stray =
      a.call(*a.rest, "GET", "/api/v1/daemons/daemon-1/mcp/tools?sever=files", a.erin);
  EXPECT_EQ(stray.status, 400) << stray.body;
  EXPECT_NE(stray.body.find("unknown query parameter 'sever'"), std::string::npos) << stray.body;
  EXPECT_NE(stray.body.find("takes server"), std::string::npos) << stray.body;
  api::ApiServer no_router(a.m.env, api::ApiConfig{});
  EXPECT_EQ(a.call(no_router, "GET", "/api/v1/daemons/daemon-1/mcp", a.erin).status, 503);
}

// Issue 38: a workspace's mcp.json waits for the user's approval of its content, which the web app
// and `reliant mcp approve` give over REST as the daemon's MCPService.ApproveConfigFile.
TEST(McpService, AWorkspaceFileIsApprovedOverRestByItsHash) {
  McpApi a;
  const std::string file = "/work/.reliant/mcp.json";
  std::string text = R"({"mcpServers": {"repo": {"command": "sim-mcp"}}})";
  mcp::McpApprovals approvals;
  a.m.mcp.set_source([&] {
    return mcp::load_mcp_config({{file, text, mcp::McpLayer::project}}, nullptr, approvals);
  });
  a.m.mcp.set_approver([&](const mcp::McpApproval& approval) -> Result<void> {
    approvals.insert(approval);
    return {};
  });
  ASSERT_TRUE(a.m.mcp.reload().has_value());
  const auto status_of_repo = [&] {
    return a.ok("GET", "/api/v1/daemons/daemon-1/mcp")["servers"][0]["status"];
  };
  EXPECT_EQ(status_of_repo(), "UNTRUSTED");
  const Json files = a.ok("GET", "/api/v1/daemons/daemon-1/mcp/files");
  ASSERT_EQ(files["files"].size(), 1u) << files.dump();
  EXPECT_EQ(files["files"][0]["status"], "UNTRUSTED");
  EXPECT_EQ(files["files"][0]["servers"]["repo"]["command"], "sim-mcp") << "shown for review";
  const std::string sha256 = files["files"][0]["sha256"];
  EXPECT_TRUE(tool_names(a.ok("GET", "/api/v1/daemons/daemon-1/mcp/tools")).empty());
  EXPECT_EQ(a.m.host.stats().runs_started, 0u) << "nothing of the file ran";

  const auto approve = [&](const std::string& token, const std::string& hash) {
    return a.call(*a.rest, "POST", "/api/v1/daemons/daemon-1/mcp/files/approve", token,
                  Json{{"file", file}, {"sha256", hash}}.dump());
  };
  HttpResponse stale = approve(a.erin, std::string(64, '0'));
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_NE(stale.body.find("has changed: its sha256 is now " + sha256), std::string::npos)
      << stale.body;
  EXPECT_EQ(approve(a.finn, sha256).status, 404) << "another user's daemon";
  EXPECT_TRUE(approvals.empty());
  HttpResponse approved = approve(a.erin, sha256);
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(Json::parse(approved.body)["files"][0]["status"], "APPROVED");
  EXPECT_EQ(approvals, (mcp::McpApprovals{{file, sha256}}));
  const auto names = tool_names(a.ok("GET", "/api/v1/daemons/daemon-1/mcp/tools"));
  EXPECT_NE(std::find(names.begin(), names.end(), "mcp__repo__echo"), names.end());

  // A change needs approval again: the server stops.
  text += "\n";
  ASSERT_TRUE(a.m.mcp.reload().has_value());
  EXPECT_EQ(status_of_repo(), "UNTRUSTED");
  EXPECT_EQ(a.m.host.stats().runs_killed, 1u);
}

TEST(BackgroundService, AProcessIsListedReadAndKilledOverRest) {
  McpApi a;
  a.m.host.on_command("make watch", sim::SimCommandScript::reply("watching\n", 0, hours(1)));
  routing::ToolCall call;
  call.user_id = "user-1";
  call.daemon_id = "daemon-1";
  call.request_id = "bg-1";
  call.tool_name = "bash";
  call.input_json = R"({"command":"make watch","run_in_background":true})";
  auto started = a.m.run(a.m.router.send_tool_request_sync(call));
  ASSERT_TRUE(started.has_value()) << started.error().message;
  ASSERT_FALSE(started->is_error()) << started->content();
  a.m.world.run_until(a.m.world.now() + seconds(1));

  const Json listed = a.ok("GET", "/api/v1/daemons/daemon-1/processes");
  ASSERT_EQ(listed["processes"].size(), 1u) << listed.dump();
  const std::string id = listed["processes"][0]["id"];
  EXPECT_EQ(listed["processes"][0]["command"], "make watch");
  EXPECT_TRUE(listed["processes"][0]["running"].get<bool>());
  EXPECT_TRUE(listed["processes"][0]["startedAtMs"].is_string()) << "an int64, as a string";
  const Json output = a.ok("GET", "/api/v1/daemons/daemon-1/processes/" + id + "/output");
  EXPECT_EQ(from_base64(output["output"]), "watching\n") << output.dump();
  // Following reads by offset, apart from what bash_output takes: the same output again.
  const std::string follow = "/api/v1/daemons/daemon-1/processes/" + id + "/follow";
  const Json followed = a.ok("GET", follow + "?offset=0");
  EXPECT_EQ(from_base64(followed["data"]), "watching\n");
  EXPECT_EQ(followed["next"], "9");
  const Instant asked = a.m.world.now();
  const Json nothing_yet = a.ok("GET", follow + "?offset=9&wait_ms=500");
  EXPECT_FALSE(nothing_yet.contains("data")) << "nothing: a default, left out";
  EXPECT_GE(a.m.world.now() - asked, milliseconds(500)) << "a follow at the end waits";
  EXPECT_EQ(a.call(*a.rest, "GET", follow + "?offset=-3", a.erin).status, 400);
  // Another user reaches none of it: no list, no output, no kill — 404s, as for no daemon, and
  // the process runs on.
  const std::string process = "/api/v1/daemons/daemon-1/processes/" + id;
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/api/v1/daemons/daemon-1/processes"},
           {"GET", process + "/output"},
           {"GET", follow + "?offset=0"},
           {"POST", process + "/kill"}}) {
    const HttpResponse refused = a.call(*a.rest, method, path, a.finn);
    EXPECT_EQ(refused.status, 404) << method << " " << path << ": " << refused.body;
    EXPECT_EQ(refused.body.find("watching"), std::string::npos) << refused.body;
  }
  const Json still = a.ok("GET", "/api/v1/daemons/daemon-1/processes");
  EXPECT_TRUE(still["processes"][0]["running"].get<bool>()) << "another user's kill killed it";
  const Json killed = a.ok("POST", "/api/v1/daemons/daemon-1/processes/" + id + "/kill");
  EXPECT_TRUE(killed["killed"].get<bool>()) << killed.dump();
  const Json ended = a.ok("GET", follow + "?offset=9&wait_ms=500");
  EXPECT_TRUE(ended["process"]["killed"].get<bool>()) << ended.dump();
  EXPECT_FALSE(ended["process"].contains("running")) << "an ended process answers at once";

  EXPECT_EQ(
      a.call(*a.rest, "GET", "/api/v1/daemons/daemon-1/processes/bash_9/output", a.erin).status,
      404);
}

// The FileSystemService: list, tree, stat, read and write, on the daemon's workspace; a path out
// of it, binary content, an oversized write and another user's daemon are answered precisely.
TEST(FileService, FilesAreListedReadWrittenAndConfinedOverRest) {
  McpApi a;
  const std::string files = "/api/v1/daemons/daemon-1/files";
  const Json listed = a.ok("GET", files + "?path=.");
  std::vector<std::string> names;
  for (const auto& entry : listed["entries"]) names.push_back(entry["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"README.md", "main.cc"})) << listed.dump();

  const Json readme = a.ok("GET", files + "/content?path=README.md");
  EXPECT_EQ(from_base64(readme["content"]), "# demo\n");
  EXPECT_TRUE(readme["isText"].get<bool>());
  (void)a.ok("PUT", files + "/content?path=docs/notes.md", R"({"content":"hello"})");
  EXPECT_EQ(from_base64(a.ok("GET", files + "/content?path=docs/notes.md")["content"]), "hello");
  EXPECT_EQ(a.ok("GET", files + "/stat?path=docs/notes.md")["sizeBytes"], "5");
  const Json tree = a.ok("GET", files + "/tree?path=.&depth=2");
  bool found = false;
  for (const auto& entry : tree["entries"]) found |= entry["path"] == "docs/notes.md";
  EXPECT_TRUE(found) << tree.dump();
  EXPECT_FALSE(tree.contains("truncated")) << "false: a default, left out";

  a.m.host.put_file("/work/blob.bin", std::string("\xff\x00\x01", 3));
  const Json blob = a.ok("GET", files + "/content?path=blob.bin");
  EXPECT_FALSE(blob.contains("isText"));
  EXPECT_EQ(blob["content"], "/wAB");

  for (const char* outside : {"../etc/passwd", "/etc/passwd"}) {
    const HttpResponse refused = a.call(*a.rest, "GET", files + "/content?path=" + outside, a.erin);
    EXPECT_EQ(refused.status, 403) << outside << ": " << refused.body;
  }
  EXPECT_EQ(a.call(*a.rest, "GET", files + "/content?path=missing.txt", a.erin).status, 404);
  EXPECT_EQ(a.call(*a.rest, "GET", files + "/tree?path=.&depth=99", a.erin).status, 400);
  EXPECT_EQ(a.call(*a.rest, "GET", files + "/tree?path=.&depth=deep", a.erin).status, 400);
  EXPECT_EQ(a.call(*a.rest, "GET", files + "?path=.&daemon_id=daemon-2", a.erin).status, 400)
      << "the daemon is the path's";
  EXPECT_EQ(a.call(*a.rest, "PUT", files + "/content?path=x", a.erin, "[1]").status, 400);
  const std::string big(daemon::kFileWriteBytesMax + 1, 'x');
  EXPECT_EQ(
      a.call(*a.rest, "PUT", files + "/content?path=big.txt", a.erin, Json{{"content", big}}.dump())
          .status,
      413);
  EXPECT_EQ(a.call(*a.rest, "GET", files + "?path=.", a.finn).status, 404);
}

// Creating, deleting, moving and copying over REST: each lands inside the workspace and is
// refused precisely when it would replace something, reach outside, or remove the root.
TEST(FileService, FilesAreCreatedDeletedMovedAndCopiedOverRest) {
  McpApi a;
  const std::string files = "/api/v1/daemons/daemon-1/files";
  const HttpResponse created = a.call(
      *a.rest, "POST", files, a.erin,
      Json{{"path", "src/new.cc"}, {"kind", "FILE_KIND_FILE"}, {"content", "// new\n"}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(a.m.host.file("/work/src/new.cc"), "// new\n");
  EXPECT_EQ(a.call(*a.rest, "POST", files, a.erin,
                   Json{{"path", "src/new.cc"}, {"kind", "FILE_KIND_FILE"}}.dump())
                .status,
            409)
      << "an existing file is never replaced by a create";
  ASSERT_EQ(a.call(*a.rest, "POST", files, a.erin,
                   Json{{"path", "build/out"}, {"kind", "FILE_KIND_DIRECTORY"}}.dump())
                .status,
            201);
  EXPECT_TRUE(a.m.host.is_directory("/work/build/out"));

  const Json copied =
      a.ok("POST", files + "/copy", Json{{"path", "src"}, {"to", "backup/src"}}.dump());
  EXPECT_EQ(copied["to"], "backup/src") << copied.dump();
  EXPECT_EQ(a.m.host.file("/work/backup/src/new.cc"), "// new\n");
  (void)a.ok("POST", files + "/move",
             Json{{"path", "src/new.cc"}, {"to", "src/renamed.cc"}}.dump());
  EXPECT_FALSE(a.m.host.is_file("/work/src/new.cc"));
  EXPECT_EQ(a.m.host.file("/work/src/renamed.cc"), "// new\n");
  EXPECT_EQ(a.call(*a.rest, "POST", files + "/move", a.erin,
                   Json{{"path", "README.md"}, {"to", "main.cc"}}.dump())
                .status,
            409);

  EXPECT_EQ(a.call(*a.rest, "DELETE", files + "?path=backup", a.erin).status, 409)
      << "a directory with something in it goes only recursively";
  (void)a.ok("DELETE", files + "?path=backup&recursive=true");
  EXPECT_FALSE(a.m.host.is_directory("/work/backup"));
  EXPECT_EQ(a.call(*a.rest, "DELETE", files + "?path=backup", a.erin).status, 404);
  EXPECT_EQ(a.call(*a.rest, "DELETE", files, a.erin).status, 400) << "no path, no default";
  EXPECT_EQ(a.call(*a.rest, "DELETE", files + "?path=x&recursive=yes", a.erin).status, 400);

  EXPECT_EQ(a.call(*a.rest, "DELETE", files + "?path=.&recursive=true", a.erin).status, 403)
      << "the workspace root itself";
  for (const char* outside : {"../etc", "/etc/passwd"}) {
    EXPECT_EQ(a.call(*a.rest, "DELETE", files + "?path=" + std::string(outside), a.erin).status,
              403)
        << outside;
    EXPECT_EQ(a.call(*a.rest, "POST", files + "/copy", a.erin,
                     Json{{"path", outside}, {"to", "stolen"}}.dump())
                  .status,
              403)
        << outside;
  }
  EXPECT_EQ(a.call(*a.rest, "POST", files + "/move", a.erin,
                   Json{{"path", "main.cc"}, {"to", "../main.cc"}}.dump())
                .status,
            403);
  EXPECT_EQ(
      a.call(*a.rest, "POST", files + "/copy", a.erin, Json{{"path", "main.cc"}}.dump()).status,
      400);
  EXPECT_EQ(a.call(*a.rest, "POST", files, a.finn,
                   Json{{"path", "x"}, {"kind", "FILE_KIND_DIRECTORY"}}.dump())
                .status,
            404);
}

// Search over REST: lines matching a regular expression, as path/line/text, bounded and confined
// like the agent's grep; a bad expression is a 400 and a path outside the workspace a 403.
TEST(FileService, FilesAreSearchedOverRest) {
  McpApi a;
  a.m.host.put_file("/work/src/a.cc", "int main() {}\n// TODO: tidy\n");
  a.m.host.put_file("/work/src/b.h", "// todo later\n");
  a.m.host.put_file("/work/notes.md", "TODO: write docs\n");
  const std::string files = "/api/v1/daemons/daemon-1/files";
  const Json found = a.ok("GET", files + "/search?path=src&query=TODO");
  ASSERT_EQ(found["matches"].size(), 1u) << found.dump();
  EXPECT_EQ(found["matches"][0]["path"], "src/a.cc");
  EXPECT_EQ(found["matches"][0]["line"], "2");
  EXPECT_EQ(found["matches"][0]["text"], "// TODO: tidy");
  const Json any_case = a.ok("GET", files + "/search?path=.&query=todo&ignore_case=true&glob=*.h");
  ASSERT_EQ(any_case["matches"].size(), 1u) << any_case.dump();
  EXPECT_EQ(any_case["matches"][0]["path"], "src/b.h");
  EXPECT_EQ(a.call(*a.rest, "GET", files + "/search?path=.&query=(", a.erin).status, 400);
  EXPECT_EQ(a.call(*a.rest, "GET", files + "/search?path=..&query=x", a.erin).status, 403);
  EXPECT_EQ(a.call(*a.rest, "GET", files + "/search?path=.", a.erin).status, 400);
}

// The TerminalService over REST on the monolith's daemon (the simulator's terminal shell): a
// terminal opened, typed into, read by offset with a wait, resized, listed and closed; another
// user's daemon is a 404 and bad input a 400.
TEST(TerminalService, ATerminalIsOpenedTypedIntoReadResizedAndClosedOverRest) {
  McpApi a;
  const std::string terminals = "/api/v1/daemons/daemon-1/terminals";
  const HttpResponse opened =
      a.call(*a.rest, "POST", terminals, a.erin, Json{{"rows", 20}, {"cols", 70}}.dump());
  ASSERT_EQ(opened.status, 201) << opened.body;
  const std::string id = Json::parse(opened.body)["id"];
  const std::string one = terminals + "/" + id;
  // WriteTerminalRequest.data is bytes: base64 in protobuf's JSON mapping.
  a.ok("POST", one + "/input", Json{{"data", "ZWNobyBvdmVyLXJlc3QN"}}.dump());  // echo over-rest\r
  const Json read = a.ok("GET", one + "/output?offset=0&wait_ms=1000");
  const std::string data = from_base64(read["data"]);
  EXPECT_NE(data.find("over-rest\r\n"), std::string::npos) << data;
  EXPECT_EQ(a.ok("POST", one + "/resize", Json{{"rows", 30}, {"cols", 90}}.dump())["rows"], 30);
  const Json listed = a.ok("GET", terminals);
  ASSERT_EQ(listed["sessions"].size(), 1u);
  EXPECT_EQ(listed["sessions"][0]["cols"], 90);

  EXPECT_EQ(a.call(*a.rest, "GET", terminals, a.finn).status, 404);
  EXPECT_EQ(a.call(*a.rest, "POST", one + "/input", a.finn, Json{{"data", "eA=="}}.dump()).status,
            404);
  EXPECT_EQ(
      a.call(*a.rest, "POST", one + "/input", a.erin, Json{{"data", "not base64!"}}.dump()).status,
      400);
  EXPECT_EQ(a.call(*a.rest, "POST", one + "/resize", a.erin, Json{{"rows", 0}}.dump()).status, 400);
  EXPECT_EQ(a.call(*a.rest, "GET", one + "/output?offset=minus", a.erin).status, 400);
  EXPECT_FALSE(a.ok("DELETE", one).contains("running")) << "closed: running is false, left out";
  EXPECT_EQ(a.call(*a.rest, "GET", one + "/output", a.erin).status, 404);
}

// An in-memory WebSocket: the test's messages are read in order (then the peer has gone), and
// what the session writes is kept.
class FakeWebSocket final : public WebSocket {
 public:
  FakeWebSocket(Executor& executor, std::vector<WebSocketMessage> incoming)
      : executor_(executor), incoming_(std::move(incoming)) {}
  Task<Result<WebSocketMessage>> read() override {
    // Each message on a later turn, so the session's earlier work has run.
    Sleep pausing = sleep(executor_, milliseconds(50));
    co_await pausing;
    if (next_ >= incoming_.size()) co_return fail(ErrorCode::closed, "gone");
    if (next_ == before_message && before) {
      before();  // and what it set off has time to land before the message does
      Sleep settling = sleep(executor_, milliseconds(200));
      co_await settling;
    }
    co_return incoming_[next_++];
  }
  // Runs `before` just ahead of delivering message `before_message`.
  std::size_t before_message = 0;
  std::function<void()> before;
  Task<bool> write(WebSocketMessage message) override {
    if (closed_) co_return false;
    (message.binary ? screen : texts).push_back(message.data);
    co_return true;
  }
  void close(std::string) override { closed_ = true; }
  std::vector<std::string> texts;
  std::vector<std::string> screen;

 private:
  Executor& executor_;
  std::vector<WebSocketMessage> incoming_;
  std::size_t next_ = 0;
  bool closed_ = false;
};

WebSocketMessage json_frame(const Json& message) { return {message.dump(), false}; }

Task<bool> session_over(api::TerminalSocket& session, WebSocket& socket) {
  Task<void> running = session.run(socket);
  co_await running;
  co_return true;
}

// The terminal WebSocket's session on the monolith's daemon: auth in the first message, open,
// typed input (text and binary), output as binary frames after its offset; refusals for a bad
// token, a message before any terminal, bad JSON and another user's daemon.
TEST(TerminalSocket, AuthenticatesOpensTypesAndRefusesWhatItMust) {
  McpApi a;
  api::CredentialWatches watches(a.m.env, seconds(30));
  auto authenticate = [&a](std::string token) -> Task<Result<api::Credential>> {
    if (token != a.erin) co_return fail(ErrorCode::unauthenticated, "bad token");
    co_return api::Credential{"user-1", "tok-user-1", std::nullopt};
  };
  FakeWebSocket socket(a.m.executor,
                       {json_frame({{"type", "auth"}, {"token", a.erin}}),
                        json_frame({{"type", "input"}, {"data", "too early"}}),
                        {"{nope", false},
                        json_frame({{"type", "open"}, {"daemon_id", "daemon-1"}, {"rows", 12}}),
                        json_frame({{"type", "input"}, {"data", "echo from-text\r"}}),
                        {"echo from-binary\r", true},
                        json_frame({{"type", "resize"}, {"rows", 0}, {"cols", 5}}),
                        json_frame({{"type", "close"}})});
  api::TerminalSocket session(a.m.env, a.m.router, watches, authenticate, std::nullopt);
  a.m.run(session_over(session, socket));
  std::string texts;
  for (const auto& text : socket.texts) texts += text + "\n";
  std::string screen;
  for (const auto& chunk : socket.screen) screen += chunk;
  EXPECT_NE(texts.find(R"("type":"ready","user_id":"user-1")"), std::string::npos) << texts;
  EXPECT_NE(texts.find("open or attach a terminal first"), std::string::npos) << texts;
  EXPECT_NE(texts.find("a text frame is a JSON object"), std::string::npos) << texts;
  EXPECT_NE(texts.find(R"("rows":12)"), std::string::npos) << texts;
  EXPECT_NE(texts.find(R"({"offset":0,"type":"output"})"), std::string::npos) << texts;
  EXPECT_NE(texts.find("a resize names both rows and cols"), std::string::npos) << texts;
  EXPECT_NE(screen.find("from-text\r\n"), std::string::npos) << screen;
  EXPECT_NE(screen.find("from-binary\r\n"), std::string::npos) << screen;

  FakeWebSocket intruder(a.m.executor, {json_frame({{"type", "auth"}, {"token", "wrong"}})});
  api::TerminalSocket refused(a.m.env, a.m.router, watches, authenticate, std::nullopt);
  a.m.run(session_over(refused, intruder));
  ASSERT_EQ(intruder.texts.size(), 1u);
  EXPECT_NE(intruder.texts[0].find("unauthenticated"), std::string::npos) << intruder.texts[0];

  FakeWebSocket stranger(a.m.executor, {json_frame({{"type", "open"}, {"daemon_id", "daemon-1"}})});
  api::TerminalSocket other(a.m.env, a.m.router, watches, authenticate,
                            api::Credential{"user-2", "tok-user-2", std::nullopt});
  a.m.run(session_over(other, stranger));
  ASSERT_EQ(stranger.texts.size(), 2u);
  EXPECT_NE(stranger.texts[1].find("not_found"), std::string::npos) << stranger.texts[1];
}

// A terminal lives no longer than the credential that opened it: once the token is revoked
// (its announcement reaches the api's watches), the socket says why, closes and runs nothing
// more the client sends (issue 38: 35 of 35 commands still ran over 70 s).
TEST(TerminalSocket, ARevokedCredentialEndsTheSocketAndRunsNothingMore) {
  McpApi a;
  api::CredentialWatches watches(a.m.env, seconds(30));
  auto authenticate = [](std::string) -> Task<Result<api::Credential>> {
    co_return api::Credential{"user-1", "tok-user-1", std::nullopt};
  };
  FakeWebSocket socket(a.m.executor,
                       {json_frame({{"type", "auth"}, {"token", "t"}}),
                        json_frame({{"type", "open"}, {"daemon_id", "daemon-1"}}),
                        json_frame({{"type", "input"}, {"data", "echo before-revoke\r"}}),
                        json_frame({{"type", "input"}, {"data", "echo after-revoke\r"}}),
                        {"echo binary-after\r", true}});
  socket.before_message = 3;
  socket.before = [&a] {
    (void)a.m.bus.publish(subjects::credential_revoked("user-1"), "tok-user-1");
  };
  api::TerminalSocket session(a.m.env, a.m.router, watches, authenticate, std::nullopt);
  a.m.run(session_over(session, socket));
  for (int i = 0; i < 100 && a.m.world.step(); ++i) {
  }
  std::string texts;
  for (const auto& text : socket.texts) texts += text + "\n";
  EXPECT_NE(texts.find("the credential that opened this terminal was revoked"), std::string::npos)
      << texts;
  EXPECT_NE(texts.find("unauthenticated"), std::string::npos) << texts;
  // What reached the terminal: everything it showed, read over REST with a live token.
  const Json listed = a.ok("GET", "/api/v1/daemons/daemon-1/terminals");
  ASSERT_EQ(listed["sessions"].size(), 1u) << listed.dump();
  const std::string id = listed["sessions"][0]["id"];
  const Json read =
      a.ok("GET", "/api/v1/daemons/daemon-1/terminals/" + id + "/output?offset=0&wait_ms=0");
  const std::string shown = from_base64(read["data"]);
  EXPECT_NE(shown.find("before-revoke"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("after-revoke"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("binary-after"), std::string::npos) << shown;
  EXPECT_EQ(watches.watched(), 0u) << "the socket's watch went with it";
}

}  // namespace
}  // namespace reliant::agent

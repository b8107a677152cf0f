// The MCP client against the simulator's scripted stdio server, in virtual time: the handshake
// and its version check, tools across pages, calls with text, image and error results, progress,
// list_changed, a call that never answers (timeout, then the session still works), malformed
// lines, a server that crashes, and one that floods a line without end.
#include <gtest/gtest.h>

#include <optional>

#include "runtime/scope.h"
#include "services/daemon/mcp/mcp_client.h"
#include "sim/sim_executor.h"
#include "sim/sim_host.h"
#include "sim/sim_mcp_server.h"
#include "sim/world.h"
#include "unit/services/virtual_time.h"

namespace reliant::mcp {
namespace {

struct Harness {
  explicit Harness(sim::SimMcpServerOptions options = {}) {
    host.on_interactive("sim-mcp", sim::SimMcpServer::factory(std::move(options)));
    client = std::make_unique<McpClient>(
        executor,
        std::make_unique<StdioTransport>(executor, host, StdioServer{"sim-mcp", {}, "", ""}));
  }
  ~Harness() {
    scope.reset();
    client.reset();
  }
  template <class T>
  T run(Task<T> task) {
    return testing_support::run_in_virtual_time(world, *scope, std::move(task));
  }
  void connect() {
    auto info = run(client->connect());
    ASSERT_TRUE(info.has_value()) << info.error().message;
  }

  sim::World world{5};
  sim::NodeId node = world.add_node("daemon");
  sim::SimExecutor executor{world, node};
  sim::SimHost host{executor, "/work"};
  std::unique_ptr<McpClient> client;
  std::unique_ptr<Scope> scope = std::make_unique<Scope>(executor);
};

TEST(McpClient, ConnectsAndListsEveryPage) {
  sim::SimMcpServerOptions options;
  options.page_size = 3;
  options.extra_tools = 5;
  Harness h(options);
  auto info = h.run(h.client->connect());
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->name, "sim-mcp");
  EXPECT_EQ(info->protocol_version, "2025-06-18");
  auto tools = h.run(h.client->list_tools());
  ASSERT_TRUE(tools.has_value()) << tools.error().message;
  ASSERT_EQ(tools->size(), 13u) << "8 tools and 5 extra, 3 a page";
  EXPECT_EQ(tools->front().name, "echo");
  EXPECT_EQ(tools->back().name, "tool_4");
  EXPECT_EQ(tools->front().input_schema["properties"]["text"]["type"], "string");
}

TEST(McpClient, CallsGiveTextImagesAndErrors) {
  Harness h;
  h.connect();
  auto echoed = h.run(h.client->call_tool("echo", {{"text", "hi there"}}, seconds(10)));
  ASSERT_TRUE(echoed.has_value()) << echoed.error().message;
  EXPECT_FALSE(echoed->is_error);
  EXPECT_EQ(echoed->text, "hi there");
  auto image = h.run(h.client->call_tool("image", {}, seconds(10)));
  ASSERT_TRUE(image.has_value());
  EXPECT_EQ(image->text, "[image image/png, 8 bytes]");
  auto failed = h.run(h.client->call_tool("fail", {}, seconds(10)));
  ASSERT_TRUE(failed.has_value()) << "a tool's own failure is a result";
  EXPECT_TRUE(failed->is_error);
  EXPECT_EQ(failed->text, "it went wrong");
  auto unknown = h.run(h.client->call_tool("nope", {}, seconds(10)));
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message.find("unknown tool nope"), std::string::npos)
      << unknown.error().message;
}

TEST(McpClient, AnUnknownProtocolVersionIsRefused) {
  sim::SimMcpServerOptions options;
  options.protocol_version = "1999-01-01";
  Harness h(options);
  auto info = h.run(h.client->connect());
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code, ErrorCode::failed_precondition);
  EXPECT_NE(info.error().message.find("1999-01-01"), std::string::npos) << info.error().message;
  EXPECT_FALSE(h.client->connected());
}

TEST(McpClient, ACallThatNeverAnswersTimesOutAndTheSessionGoesOn) {
  Harness h;
  h.connect();
  const Instant start = h.world.now();
  auto hung = h.run(h.client->call_tool("hang", {}, seconds(2)));
  ASSERT_FALSE(hung.has_value());
  EXPECT_EQ(hung.error().code, ErrorCode::timeout);
  EXPECT_LT(h.world.now() - start, seconds(3));
  auto echoed = h.run(h.client->call_tool("echo", {{"text", "still here"}}, seconds(10)));
  ASSERT_TRUE(echoed.has_value()) << echoed.error().message;
  EXPECT_EQ(echoed->text, "still here");
}

// A call its caller gives up on (a cancelled tool: its task destroyed) tells the server, and one
// that times out does too; the session goes on.
TEST(McpClient, ACallItsCallerAbandonsIsCancelledOnTheServer) {
  sim::SimMcpServerOptions options;
  auto heard = std::make_shared<std::vector<std::string>>();
  options.notifications_heard = heard;
  Harness h(options);
  h.connect();
  auto abandoned = std::make_unique<Scope>(h.executor);
  std::optional<Result<McpCallResult>> never;
  abandoned->spawn([](McpClient* client, std::optional<Result<McpCallResult>>* out) -> Task<void> {
    *out = co_await client->call_tool("hang", {}, minutes(5));
  }(h.client.get(), &never));
  h.world.run_until(h.world.now() + seconds(1));
  abandoned.reset();  // the tool call is cancelled
  h.world.run_until(h.world.now() + seconds(1));
  EXPECT_FALSE(never.has_value());
  ASSERT_FALSE(heard->empty());
  EXPECT_EQ(heard->back().rfind("notifications/cancelled ", 0), 0u) << heard->back();
  auto echoed = h.run(h.client->call_tool("echo", {{"text", "after"}}, seconds(10)));
  ASSERT_TRUE(echoed.has_value()) << echoed.error().message;
  EXPECT_EQ(echoed->text, "after");
}

TEST(McpClient, ProgressAndListChangedAreHeard) {
  sim::SimMcpServerOptions options;
  options.list_changed_after_first_call = true;
  Harness h(options);
  h.connect();
  int changed = 0;
  h.client->on_tools_changed([&] { ++changed; });
  std::vector<double> steps;
  auto done = h.run(
      h.client->call_tool("progress", {}, seconds(10),
                          [&](double progress, std::optional<double> total, const std::string&) {
                            steps.push_back(progress);
                            EXPECT_EQ(total, 3.0);
                          }));
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_EQ(done->text, "done");
  EXPECT_EQ(steps, (std::vector<double>{1, 2, 3}));
  h.world.run_until(h.world.now() + seconds(1));
  EXPECT_EQ(changed, 1);
  auto tools = h.run(h.client->list_tools());
  ASSERT_TRUE(tools.has_value());
  EXPECT_EQ(tools->back().name, "late");
}

TEST(McpClient, MalformedLinesAreCountedAndSkipped) {
  sim::SimMcpServerOptions options;
  options.malformed_before_each_reply = true;
  Harness h(options);
  h.connect();
  auto echoed = h.run(h.client->call_tool("echo", {{"text", "ok"}}, seconds(10)));
  ASSERT_TRUE(echoed.has_value()) << echoed.error().message;
  EXPECT_EQ(echoed->text, "ok");
  EXPECT_EQ(h.client->malformed_messages(), 2u) << "one before initialize's answer, one here";
}

// An answer too deep to read (issue 38) fails its call at once with what is wrong, instead of
// leaving it to wait out its timeout as if the server had said nothing.
TEST(McpClient, AnAnswerNestedTooDeepFailsItsCallAtOnceAndSaysSo) {
  Harness h;
  h.connect();
  const Instant start = h.world.now();
  auto deep = h.run(h.client->call_tool("deep", {}, minutes(2)));
  ASSERT_FALSE(deep.has_value());
  EXPECT_NE(deep.error().code, ErrorCode::timeout) << deep.error().message;
  EXPECT_EQ(deep.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(deep.error().message.find("not a valid JSON-RPC message"), std::string::npos)
      << deep.error().message;
  EXPECT_NE(deep.error().message.find("nested deeper than 128 levels"), std::string::npos)
      << deep.error().message;
  EXPECT_LT(h.world.now() - start, seconds(1));
  EXPECT_EQ(h.client->malformed_messages(), 1u);
  auto echoed = h.run(h.client->call_tool("echo", {{"text", "after"}}, seconds(10)));
  ASSERT_TRUE(echoed.has_value()) << echoed.error().message;
  EXPECT_EQ(echoed->text, "after");
}

Task<void> call_into(McpClient* client, std::string tool, Duration timeout,
                     std::optional<Result<McpCallResult>>* out) {
  Task<Result<McpCallResult>> calling = client->call_tool(std::move(tool), Json::object(), timeout);
  *out = co_await calling;
}

// A malformed line that names no call cannot fail one: the call that then times out says what
// the server sent meanwhile.
TEST(McpClient, ATimeoutSaysWhatMalformedMessagesCameMeanwhile) {
  sim::SimMcpServerOptions options;
  options.malformed_before_each_reply = true;
  Harness h(options);
  h.connect();
  std::optional<Result<McpCallResult>> hung;
  h.scope->spawn(call_into(h.client.get(), "hang", seconds(2), &hung));
  auto echoed = h.run(h.client->call_tool("echo", {{"text", "x"}}, seconds(10)));
  ASSERT_TRUE(echoed.has_value()) << "its garbage line came first";
  h.world.run_until(h.world.now() + seconds(3));
  ASSERT_TRUE(hung.has_value());
  ASSERT_FALSE(hung->has_value());
  EXPECT_EQ(hung->error().code, ErrorCode::timeout);
  EXPECT_NE(hung->error().message.find("1 message that is not valid JSON-RPC"), std::string::npos)
      << hung->error().message;
  auto alone = h.run(h.client->call_tool("hang", {}, seconds(2)));
  ASSERT_FALSE(alone.has_value());
  EXPECT_EQ(alone.error().message.find("JSON-RPC"), std::string::npos)
      << "none came during this one: " << alone.error().message;
}

TEST(McpClient, AServerThatCrashesFailsItsCallsAndSaysWhy) {
  sim::SimMcpServerOptions options;
  options.crash_after_calls = 1;
  Harness h(options);
  h.connect();
  std::optional<Error> closed;
  h.client->on_closed([&](const Error& why) { closed = why; });
  auto crashed = h.run(h.client->call_tool("echo", {{"text", "x"}}, seconds(10)));
  ASSERT_FALSE(crashed.has_value());
  EXPECT_EQ(crashed.error().code, ErrorCode::unavailable);
  ASSERT_TRUE(closed.has_value());
  EXPECT_NE(closed->message.find("exited with code 1"), std::string::npos) << closed->message;
  EXPECT_FALSE(h.client->connected());
  auto after = h.run(h.client->call_tool("echo", {}, seconds(10)));
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error().code, ErrorCode::unavailable);
}

TEST(McpClient, ALineWithoutEndIsCutOffAtTheLimit) {
  sim::SimMcpServerOptions options;
  options.flood_bytes = kMessageBytesMax + 1;
  Harness h(options);
  h.connect();
  std::optional<Error> closed;
  h.client->on_closed([&](const Error& why) { closed = why; });
  auto flooded = h.run(h.client->call_tool("flood", {}, seconds(10)));
  ASSERT_FALSE(flooded.has_value());
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->code, ErrorCode::resource_exhausted);
  h.world.run_until(h.world.now() + seconds(1));
  EXPECT_EQ(h.host.running(), 0u) << "the flooding server was killed";
}

}  // namespace
}  // namespace reliant::mcp

namespace reliant::mcp {
namespace {

// A server's content blocks with fields of the wrong type read as what can be read, never an
// exception (which would end the daemon): nlohmann's value(key, "") throws on {"type": 7}.
TEST(McpClient, ContentBlocksWithFieldsOfTheWrongTypeAreReadWithoutThrowing) {
  const Json content = Json::parse(R"([
    {"type": 7, "text": "x"},
    {"type": "text", "text": 42},
    {"type": "image", "mimeType": [], "data": {}},
    {"type": "resource", "resource": {"uri": false}},
    {"type": "resource_link", "uri": null},
    {"type": "text", "text": "kept"}
  ])");
  std::string text;
  EXPECT_NO_THROW(text = content_text(content));
  EXPECT_NE(text.find("kept"), std::string::npos) << text;
}

}  // namespace
}  // namespace reliant::mcp

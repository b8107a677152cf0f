// The daemon's MCP servers in virtual time, against the simulator's scripted stdio server:
// started on demand, tools exposed as mcp__<server>__<tool>, a crash followed by a restart with
// backoff, disabled and misconfigured servers never started, and a reload that keeps what did
// not change running.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "runtime/env.h"
#include "runtime/random.h"
#include "runtime/scope.h"
#include "services/daemon/mcp/mcp_servers.h"
#include "services/daemon/tools/background_processes.h"
#include "services/daemon/tools/tool.h"
#include "sim/sim_executor.h"
#include "sim/sim_host.h"
#include "sim/sim_mcp_server.h"
#include "sim/world.h"
#include "unit/services/virtual_time.h"

namespace reliant::mcp {
namespace {

McpServerConfig stdio(std::string name, std::string command) {
  McpServerConfig config;
  config.name = std::move(name);
  config.command = std::move(command);
  return config;
}

struct ServersHarness {
  ServersHarness() {
    sim::SimMcpServerOptions crashing;
    crashing.crash_after_calls = 1;
    sim::SimMcpServerOptions counted;
    counted.requests_heard = requests;
    sim::SimMcpServerOptions stuck;
    stuck.never_initialize = true;
    host.on_interactive("'sim-mcp'", sim::SimMcpServer::factory(counted));
    host.on_interactive("'crashy-mcp'", sim::SimMcpServer::factory(crashing));
    host.on_interactive("'stuck-mcp'", sim::SimMcpServer::factory(stuck));
  }
  ~ServersHarness() {
    scope.reset();
    servers.reset();
  }
  template <class T>
  T run(Task<T> task) {
    return testing_support::run_in_virtual_time(world, *scope, std::move(task));
  }
  McpServerView view(const std::string& name) const {
    for (const auto& v : servers->list()) {
      if (v.name == name) return v;
    }
    ADD_FAILURE() << "no server " << name;
    return {};
  }

  std::size_t heard(std::string_view method) const {
    return static_cast<std::size_t>(std::count(requests->begin(), requests->end(), method));
  }

  std::shared_ptr<std::vector<std::string>> requests = std::make_shared<std::vector<std::string>>();
  sim::World world{11};
  sim::NodeId node = world.add_node("daemon");
  sim::SimExecutor executor{world, node};
  sim::SimHost host{executor, "/work"};
  Random random{3};
  Env env{executor, random, nullptr, nullptr, nullptr, &host};
  std::unique_ptr<McpServers> servers = std::make_unique<McpServers>(env, host);
  std::unique_ptr<Scope> scope = std::make_unique<Scope>(executor);
};

TEST(McpServers, StartOnDemandAndExposeTheirTools) {
  ServersHarness h;
  h.servers->configure({{"files", stdio("files", "sim-mcp")}});
  EXPECT_EQ(h.view("files").status, McpServerStatus::disconnected);
  EXPECT_EQ(h.host.stats().runs_started, 0u) << "nothing starts before it is needed";
  auto tools = h.run(h.servers->tools());
  ASSERT_EQ(tools.size(), 8u);
  EXPECT_EQ(tools[0].name, "mcp__files__echo");
  EXPECT_EQ(tools[0].tags, (std::vector<std::string>{"mcp", "files"}));
  const McpServerView view = h.view("files");
  EXPECT_EQ(view.status, McpServerStatus::healthy);
  EXPECT_EQ(view.tools, 8u);
  EXPECT_EQ(view.server_name, "sim-mcp");
  auto echoed = h.run(h.servers->call("mcp__files__echo", {{"text", "hello"}}, seconds(10)));
  EXPECT_FALSE(echoed.is_error) << echoed.text;
  EXPECT_EQ(echoed.text, "hello");
  EXPECT_EQ(h.host.stats().runs_started, 1u) << "one process for the listing and the call";
}

TEST(McpServers, ACrashedServerRestartsWithBackoff) {
  ServersHarness h;
  h.servers->configure({{"crashy", stdio("crashy", "crashy-mcp")}});
  auto crashed = h.run(h.servers->call("mcp__crashy__echo", {{"text", "x"}}, seconds(10)));
  EXPECT_TRUE(crashed.is_error);
  EXPECT_EQ(crashed.error_code, "unavailable");
  EXPECT_EQ(h.view("crashy").status, McpServerStatus::unhealthy);
  EXPECT_NE(h.view("crashy").error.find("exited with code 1"), std::string::npos)
      << h.view("crashy").error;
  h.world.run_until(h.world.now() + seconds(5));
  EXPECT_EQ(h.view("crashy").status, McpServerStatus::healthy) << h.view("crashy").error;
  EXPECT_EQ(h.view("crashy").restarts, 1u);
  EXPECT_EQ(h.host.stats().runs_started, 2u);
}

TEST(McpServers, DisabledAndBrokenServersNeverStart) {
  ServersHarness h;
  McpServerConfig off = stdio("off", "sim-mcp");
  off.enabled = false;
  McpServerConfig broken = stdio("broken", "sim-mcp");
  broken.error = "m.json: mcpServers.broken.env.K: ${K} is not set";
  McpServerConfig remote;
  remote.name = "remote";
  remote.type = "http";
  remote.url = "https://mcp.example.com/mcp";
  h.servers->configure({{"off", off}, {"broken", broken}, {"remote", remote}});
  auto tools = h.run(h.servers->tools());
  EXPECT_TRUE(tools.empty());
  EXPECT_EQ(h.view("off").status, McpServerStatus::disabled);
  EXPECT_EQ(h.view("broken").status, McpServerStatus::unhealthy);
  EXPECT_EQ(h.view("broken").error, broken.error);
  EXPECT_EQ(h.view("remote").status, McpServerStatus::unhealthy);
  // This harness's daemon makes no HTTP requests (no HttpClient): it says so, and where.
  EXPECT_NE(
      h.view("remote").error.find("cannot reach the http server at https://mcp.example.com/mcp"),
      std::string::npos)
      << h.view("remote").error;
  EXPECT_EQ(h.host.stats().runs_started, 0u);
  auto refused = h.run(h.servers->call("mcp__off__echo", {}, seconds(10)));
  EXPECT_TRUE(refused.is_error);
  EXPECT_NE(refused.text.find("disabled"), std::string::npos) << refused.text;
  ASSERT_TRUE(h.servers->enable("off").has_value());
  auto echoed = h.run(h.servers->call("mcp__off__echo", {{"text", "on"}}, seconds(10)));
  EXPECT_EQ(echoed.text, "on");
  h.world.run_until(h.world.now() + minutes(10));
  EXPECT_EQ(h.host.stats().runs_started, 1u) << "no restart loop for what cannot start";
}

TEST(McpServers, AReloadKeepsWhatDidNotChange) {
  ServersHarness h;
  h.servers->configure({{"a", stdio("a", "sim-mcp")}, {"b", stdio("b", "sim-mcp")}});
  (void)h.run(h.servers->tools());
  EXPECT_EQ(h.host.stats().runs_started, 2u);
  McpServerConfig b = stdio("b", "sim-mcp");
  b.env["LEVEL"] = "debug";
  h.servers->configure({{"a", stdio("a", "sim-mcp")}, {"b", b}});
  EXPECT_EQ(h.view("a").status, McpServerStatus::healthy);
  EXPECT_EQ(h.view("b").status, McpServerStatus::disconnected);
  (void)h.run(h.servers->tools());
  EXPECT_EQ(h.host.stats().runs_started, 3u) << "only the changed server started again";
  EXPECT_EQ(h.host.stats().runs_killed, 1u);
  h.servers->configure({});
  EXPECT_TRUE(h.servers->list().empty());
}

TEST(McpServers, AReloadReadsTheSourceAgainAndABrokenOneChangesNothing) {
  ServersHarness h;
  std::map<std::string, McpServerConfig> source{{"a", stdio("a", "sim-mcp")}};
  bool broken = false;
  EXPECT_EQ(h.servers->reload().error().code, ErrorCode::failed_precondition) << "no source yet";
  h.servers->set_source([&]() -> Result<McpConfig> {
    if (broken) return fail(ErrorCode::invalid_argument, "m.json: parse error at line 1");
    return McpConfig{source, {}};
  });
  ASSERT_TRUE(h.servers->reload().has_value());
  ASSERT_EQ(h.servers->list().size(), 1u);
  source["b"] = stdio("b", "sim-mcp");
  ASSERT_TRUE(h.servers->reload().has_value());
  EXPECT_EQ(h.servers->list().size(), 2u);
  broken = true;
  auto refused = h.servers->reload();
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("line 1"), std::string::npos);
  EXPECT_EQ(h.servers->list().size(), 2u) << "a broken file changes nothing";
}

TEST(McpServers, NamesThatAreNotToolsAreRefused) {
  ServersHarness h;
  h.servers->configure({{"a", stdio("a", "sim-mcp")}});
  auto malformed = h.run(h.servers->call("mcp__a", {}, seconds(1)));
  EXPECT_EQ(malformed.error_code, "invalid_input");
  auto unknown_server = h.run(h.servers->call("mcp__zz__echo", {}, seconds(1)));
  EXPECT_EQ(unknown_server.error_code, "not_found");
  auto unknown_tool = h.run(h.servers->call("mcp__a__nope", {}, seconds(10)));
  EXPECT_TRUE(unknown_tool.is_error);
  EXPECT_NE(unknown_tool.text.find("unknown tool nope"), std::string::npos) << unknown_tool.text;
  EXPECT_EQ(split_exposed_name("mcp__srv__tool__x"),
            (std::pair<std::string, std::string>{"srv", "tool__x"}));
}

TEST(McpServers, TheDaemonsToolSetRunsTheirTools) {
  ServersHarness h;
  h.servers->configure({{"a", stdio("a", "sim-mcp")}});
  daemon::ToolSet tools = daemon::make_builtin_tools();
  tools.attach_mcp(h.servers.get());
  daemon::BackgroundProcesses background(h.executor, h.host);
  daemon::ToolContext context{h.executor, h.host, "/work", 1 << 20, background};
  auto echoed = h.run(tools.execute(context, "mcp__a__echo", R"({"text": "via the daemon"})"));
  EXPECT_FALSE(echoed.is_error) << echoed.content;
  EXPECT_EQ(echoed.content, "via the daemon");
  EXPECT_EQ(echoed.metadata["mcp_server"], "a");
  EXPECT_EQ(echoed.metadata["mcp_tool"], "echo");
  auto malformed = h.run(tools.execute(context, "mcp__a__echo", "{nope"));
  EXPECT_TRUE(malformed.is_error);
  EXPECT_EQ(malformed.error_code, daemon::tool_error::invalid_input);
  auto failing = h.run(tools.execute(context, "mcp__a__fail", "{}"));
  EXPECT_TRUE(failing.is_error);
  EXPECT_EQ(failing.content, "it went wrong");
  auto builtin = h.run(tools.execute(context, "nonexistent", "{}"));
  EXPECT_EQ(builtin.error_code, daemon::tool_error::unknown_tool);
}

// The tool set's MCP calls, as the daemon makes them (ToolSet::execute, whatever bound it gives).
struct ToolHarness : ServersHarness {
  ToolHarness() { tools.attach_mcp(servers.get()); }
  daemon::ToolResult execute(const std::string& tool, const std::string& input = "{}") {
    return run(tools.execute(context, tool, input));
  }
  daemon::ToolSet tools = daemon::make_builtin_tools();
  daemon::BackgroundProcesses background{executor, host};
  daemon::ToolContext context{executor, host, "/work", 512 * 1024, background};
};

// Issue 38: a server without a timeout of its own waited 24 hours (the bound the tool set gives)
// instead of the documented 2 minutes; a chat gave up first, at 601 s.
TEST(McpServers, ACallEndsAtTheServersTimeoutOrElseAtTheTwoMinuteDefault) {
  ToolHarness h;
  McpServerConfig quick = stdio("quick", "sim-mcp");
  quick.timeout_seconds = 5;
  h.servers->configure({{"plain", stdio("plain", "sim-mcp")}, {"quick", quick}});
  (void)h.run(h.servers->tools());
  Instant start = h.world.now();
  auto hung = h.execute("mcp__plain__hang");
  EXPECT_EQ(hung.error_code, "timeout") << hung.content;
  EXPECT_GE(h.world.now() - start, minutes(2));
  EXPECT_LT(h.world.now() - start, minutes(2) + seconds(1));
  start = h.world.now();
  auto quick_hung = h.execute("mcp__quick__hang");
  EXPECT_EQ(quick_hung.error_code, "timeout") << quick_hung.content;
  EXPECT_LT(h.world.now() - start, seconds(6));
  // A caller whose own bound is shorter keeps it.
  start = h.world.now();
  auto bounded = h.run(h.servers->call("mcp__plain__hang", {}, seconds(10)));
  EXPECT_EQ(bounded.error_code, "timeout");
  EXPECT_LT(h.world.now() - start, seconds(11));
}

// Issue 38: a 15 MiB result was stored whole, where the built-in tools cap theirs.
TEST(McpServers, AResultIsCappedLikeTheBuiltInToolsWithANotice) {
  ToolHarness h;
  h.servers->configure({{"a", stdio("a", "sim-mcp")}});
  auto big = h.execute("mcp__a__big");
  EXPECT_FALSE(big.is_error) << big.content.substr(0, 200);
  EXPECT_LE(big.content.size(), 512u * 1024 + 80);
  EXPECT_EQ(big.content.find("[output truncated: 524288 bytes over the limit of 524288]"),
            512u * 1024 + 1)
      << big.content.substr(512 * 1024);
}

// Issue 38: a malformed answer waited for its timeout; it is the call's failure at once.
TEST(McpServers, AnAnswerTooDeepToReadFailsTheCallAsWhatItIs) {
  ToolHarness h;
  h.servers->configure({{"a", stdio("a", "sim-mcp")}});
  (void)h.run(h.servers->tools());
  const Instant start = h.world.now();
  auto deep = h.execute("mcp__a__deep");
  EXPECT_TRUE(deep.is_error);
  EXPECT_EQ(deep.error_code, "failed") << deep.content;
  EXPECT_NE(deep.content.find("not a valid JSON-RPC message"), std::string::npos) << deep.content;
  EXPECT_LT(h.world.now() - start, seconds(1));
}

// Issue 38: every tools/list_changed started a tools/list of its own (+90 MB, kept).
TEST(McpServers, ABurstOfListChangedNotificationsIsOneListingInFlightAndOneQueued) {
  ServersHarness h;
  h.servers->configure({{"a", stdio("a", "sim-mcp")}});
  (void)h.run(h.servers->tools());
  EXPECT_EQ(h.heard("tools/list"), 1u);
  auto churned = h.run(h.servers->call("mcp__a__churn", {}, seconds(10)));
  EXPECT_EQ(churned.text, "churned");
  h.world.run_until(h.world.now() + seconds(5));
  EXPECT_GE(h.heard("tools/list"), 2u) << "the change is listed";
  EXPECT_LE(h.heard("tools/list"), 3u) << "not one listing per notification (100 of them)";
  EXPECT_EQ(h.view("a").tools, 8u);
  // Later changes are listed again.
  (void)h.run(h.servers->call("mcp__a__churn", {}, seconds(10)));
  h.world.run_until(h.world.now() + seconds(5));
  EXPECT_GE(h.heard("tools/list"), 3u);
  EXPECT_LE(h.heard("tools/list"), 5u);
}

// Issue 38: a server that never answered initialize held every chat's first turn for 30 s (the
// listing waited for its handshake).
TEST(McpServers, AServerThatNeverInitializesDoesNotHoldUpTheListing) {
  ServersHarness h;
  h.servers->configure(
      {{"fast", stdio("fast", "sim-mcp")}, {"stuck", stdio("stuck", "stuck-mcp")}});
  const Instant began = h.world.now();
  Instant start = began;
  auto tools = h.run(h.servers->tools());
  EXPECT_LE(h.world.now() - start, McpServersOptions{}.tools_wait + milliseconds(10));
  EXPECT_EQ(tools.size(), 8u) << "the fast server's tools";
  EXPECT_EQ(h.view("fast").status, McpServerStatus::healthy);
  EXPECT_EQ(h.view("stuck").status, McpServerStatus::starting);
  EXPECT_EQ(h.servers->starting(), std::vector<std::string>{"stuck"});
  start = h.world.now();
  tools = h.run(h.servers->tools());
  EXPECT_LT(h.world.now() - start, milliseconds(100)) << "a server too slow once is not waited for";
  EXPECT_EQ(tools.size(), 8u);
  // Its handshake's own bound (30 s) ends the start; a restart follows after a backoff.
  h.world.run_until(began + McpClientOptions{}.initialize_timeout + milliseconds(100));
  EXPECT_EQ(h.view("stuck").status, McpServerStatus::unhealthy);
  EXPECT_NE(h.view("stuck").error.find("initialize"), std::string::npos) << h.view("stuck").error;
  EXPECT_TRUE(h.servers->starting().empty());
}

}  // namespace
}  // namespace reliant::mcp

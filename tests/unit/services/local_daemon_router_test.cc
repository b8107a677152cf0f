// The monolith's router and the ToolRunner behind every daemon: at-most-once answers, repeats
// from the cache, daemon_lost after a restart, timeouts, cancellation, and user isolation.
#include <gtest/gtest.h>

#include <optional>

#include "adapters/memory/in_process_bus.h"
#include "runtime/scope.h"
#include "services/routing/local_daemon_router.h"
#include "services/updates/user_events.h"
#include "sim/sim_executor.h"
#include "sim/sim_host.h"

namespace reliant::routing {
namespace {

Task<void> call_into(DaemonRouter* router, ToolCall call,
                     std::optional<Result<v1::ToolResponse>>* out) {
  Task<Result<v1::ToolResponse>> pending = router->send_tool_request_sync(std::move(call));
  *out = co_await pending;
}

struct Monolith {
  sim::World world{11};
  sim::NodeId node = world.add_node("monolith");
  sim::SimExecutor executor{world, node};
  sim::SimHost host{executor, "/work"};
  daemon::MemoryRequestJournal journal;  // the machine's: outlives a restart of the router
  std::unique_ptr<LocalDaemonRouter> router = start();
  std::unique_ptr<Scope> scope = std::make_unique<Scope>(executor);  // last: dies first

  std::unique_ptr<LocalDaemonRouter> start() {
    return std::make_unique<LocalDaemonRouter>(executor, host, "/work", journal, "daemon-1",
                                               "user-1");
  }

  static ToolCall bash(std::string id, std::string command) {
    ToolCall call;
    call.user_id = "user-1";
    call.daemon_id = "daemon-1";
    call.request_id = std::move(id);
    call.tool_name = "bash";
    call.input_json = nlohmann::json{{"command", std::move(command)}}.dump();
    call.timeout = seconds(5);
    return call;
  }

  std::optional<Result<v1::ToolResponse>>& begin(ToolCall call) {
    outcomes.emplace_back();
    scope->spawn(call_into(router.get(), std::move(call), &outcomes.back()));
    return outcomes.back();
  }
  Result<v1::ToolResponse> call(ToolCall call) {
    auto& out = begin(std::move(call));
    while (!out && world.step()) {
    }
    EXPECT_TRUE(out.has_value()) << "the call never returned";
    return out.value_or(fail(ErrorCode::internal, "no answer"));
  }
  std::deque<std::optional<Result<v1::ToolResponse>>> outcomes;
};

TEST(LocalDaemonRouter, RunsAToolAndAnswersARepeatFromTheCache) {
  Monolith m;
  auto first = m.call(Monolith::bash("r1", "echo hello"));
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_FALSE(first->is_error());
  EXPECT_EQ(first->content(), "hello\n");
  EXPECT_EQ(first->daemon_id(), "daemon-1");
  auto again = m.call(Monolith::bash("r1", "echo something else"));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->content(), "hello\n") << "a repeated request id returns the first result";
  EXPECT_EQ(m.host.commands_run().size(), 1u) << "and never runs twice";
}

// What a running command prints reaches the user's update stream as it comes (tool_output
// previews naming the request, in order, before the result), and only that user's.
TEST(LocalDaemonRouter, ARunningCommandsOutputIsAnnouncedToItsUserAsItComes) {
  Monolith m;
  InProcessBroker broker{1};
  InProcessBus bus{broker, m.executor};
  m.router->announce_output_on(bus);
  struct Heard {
    updates::UserEvent event;
    bool answered_yet = false;
  };
  std::vector<Heard> heard;
  std::optional<Result<v1::ToolResponse>>* outcome = nullptr;
  auto subscribed = bus.subscribe(updates::user_subject("user-1"), [&](const BusMessage& message) {
    auto events = updates::decode_announcement(message.data);
    ASSERT_TRUE(events.has_value());
    for (auto& event : *events)
      heard.push_back({event, outcome != nullptr && outcome->has_value()});
  });
  ASSERT_TRUE(subscribed.has_value());
  outcome = &m.begin(Monolith::bash("r-stream", "echo one; sleep 1; echo two"));
  while (!outcome->has_value() && m.world.step()) {
  }
  ASSERT_TRUE(outcome->has_value() && (*outcome)->has_value());
  EXPECT_EQ((**outcome)->content(), "one\ntwo\n");
  std::string streamed;
  for (const auto& h : heard) {
    EXPECT_EQ(h.event.kind, "tool_output");
    EXPECT_EQ(h.event.seq, 0) << "a preview, never stored";
    EXPECT_EQ(h.event.user_id, "user-1");
    EXPECT_EQ(h.event.body.value("request_id", ""), "r-stream");
    EXPECT_EQ(h.event.body.value("daemon_id", ""), "daemon-1");
    EXPECT_EQ(h.event.body.value("offset", std::uint64_t{99}), streamed.size()) << "in order";
    EXPECT_FALSE(h.answered_yet) << "output announced after the result";
    streamed += h.event.body.value("data", "");
  }
  EXPECT_EQ(streamed, "one\ntwo\n");
  EXPECT_GE(heard.size(), 2u) << "the first line went out before the command ended";
}

TEST(LocalDaemonRouter, TwoCallersOfOneRunningRequestShareItsOneRun) {
  Monolith m;
  auto& a = m.begin(Monolith::bash("r2", "sleep 2 && echo done"));
  auto& b = m.begin(Monolith::bash("r2", "sleep 2 && echo done"));
  while ((!a || !b) && m.world.step()) {
  }
  ASSERT_TRUE(a && b && a->has_value() && b->has_value());
  EXPECT_EQ((*a)->content(), "done\n");
  EXPECT_EQ((*b)->content(), "done\n");
  EXPECT_EQ(m.host.commands_run().size(), 1u);
}

TEST(LocalDaemonRouter, ARequestStartedBeforeARestartIsReportedLostNotRunAgain) {
  Monolith m;
  m.begin(Monolith::bash("r3", "sleep 10 && echo late"));
  m.world.run_until(m.world.now() + seconds(1));
  m.scope.reset();  // the process dies mid-run: its callers and the router go
  m.router.reset();
  m.scope = std::make_unique<Scope>(m.executor);
  m.router = m.start();
  auto retried = m.call(Monolith::bash("r3", "sleep 10 && echo late"));
  ASSERT_TRUE(retried.has_value());
  EXPECT_TRUE(retried->is_error());
  EXPECT_EQ(retried->error_code(), "daemon_lost");
  EXPECT_EQ(m.host.commands_run().size(), 1u);
}

TEST(LocalDaemonRouter, ATimeoutStopsTheToolAndSaysSo) {
  Monolith m;
  auto call = Monolith::bash("r4", "sleep 60");
  call.timeout = seconds(2);
  const Instant start = m.world.now();
  auto response = m.call(call);
  ASSERT_TRUE(response.has_value());
  EXPECT_TRUE(response->is_error());
  EXPECT_EQ(response->error_code(), "timeout");
  EXPECT_EQ(response->content(), "the tool did not finish within 2000 ms and was stopped");
  EXPECT_LT(m.world.now() - start, seconds(3));
  EXPECT_EQ(m.host.running(), 0u) << "the process was killed";
}

TEST(LocalDaemonRouter, CancelStopsARunningTool) {
  Monolith m;
  auto& pending = m.begin(Monolith::bash("r5", "sleep 60"));
  m.world.run_until(m.world.now() + seconds(1));
  std::optional<Result<void>> cancelled;
  m.scope->spawn([](DaemonRouter* router, std::optional<Result<void>>* out) -> Task<void> {
    Task<Result<void>> c = router->cancel_tool("user-1", "daemon-1", "r5", "user pressed stop");
    *out = co_await c;
  }(m.router.get(), &cancelled));
  while (!pending && m.world.step()) {
  }
  ASSERT_TRUE(pending && pending->has_value());
  EXPECT_EQ((*pending)->error_code(), "cancelled");
  EXPECT_EQ((*pending)->content(), "cancelled: user pressed stop");
  EXPECT_EQ(m.host.running(), 0u);
}

TEST(LocalDaemonRouter, AnotherUsersCallsAreRefused) {
  Monolith m;
  auto call = Monolith::bash("r6", "echo secret");
  call.user_id = "user-2";
  auto refused = m.call(call);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::not_found);
  EXPECT_TRUE(m.host.commands_run().empty());
}

TEST(LocalDaemonRouter, UnknownToolsAndBadInputAreErrorsNotCrashes) {
  Monolith m;
  auto call = Monolith::bash("r7", "true");
  call.tool_name = "rm_rf";
  auto unknown = m.call(call);
  ASSERT_TRUE(unknown.has_value());
  EXPECT_TRUE(unknown->is_error());
  EXPECT_EQ(unknown->error_code(), "unknown_tool");
  call = Monolith::bash("r8", "true");
  call.input_json = "{not json";
  auto bad = m.call(call);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->error_code(), "invalid_input");
}

}  // namespace
}  // namespace reliant::routing

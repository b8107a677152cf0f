// CommandPoller: each command reaches its handler once, however often it is handed out — a
// redelivery in the same process is answered with the outcome it had, one an earlier run of the
// process started is not run again (restart's is reported done, the rest lost) — and a lost
// report is retried.
#include "services/daemon/command_poller.h"

#include <gtest/gtest.h>

#include <deque>

#include "runtime/sleep.h"
#include "sim/sim_executor.h"
#include "sim/world.h"

namespace reliant::daemon {
namespace {

// Hands out the queued commands in turn; records reports; fails the first `lose_reports`.
class ScriptedSource final : public CommandSource {
 public:
  explicit ScriptedSource(Executor& executor) : executor_(executor) {}
  Task<Result<std::optional<PolledCommand>>> next(Duration wait) override {
    if (queue.empty()) {
      Sleep pausing(executor_, wait);
      co_await pausing;
      co_return std::optional<PolledCommand>();
    }
    PolledCommand c = queue.front();
    queue.pop_front();
    co_return std::optional<PolledCommand>(std::move(c));
  }
  Task<Result<void>> report(std::string id, CommandOutcome outcome) override {
    if (lose_reports > 0) {
      --lose_reports;
      co_return fail(ErrorCode::unavailable, "the api is away");
    }
    reports.emplace_back(std::move(id), std::move(outcome));
    co_return Result<void>();
  }

  std::deque<PolledCommand> queue;
  std::vector<std::pair<std::string, CommandOutcome>> reports;
  int lose_reports = 0;

 private:
  Executor& executor_;
};

struct Box {
  sim::World world{1};
  sim::NodeId node = world.add_node("daemon");
  sim::SimExecutor executor{world, node};
  Random random{7};
  Env env{executor, random};
  ScriptedSource source{executor};
  MemoryRequestJournal journal;
  std::map<std::string, int> runs;  // handler runs by command id
  bool restarted = false;

  std::map<CommandName, CommandHandler> handlers() {
    std::map<CommandName, CommandHandler> out;
    out[CommandName::run_tool] = [this](PolledCommand c) -> Task<CommandOutcome> {
      ++runs[c.id];
      CommandOutcome outcome;
      outcome.result = {{"ran", c.args.value("tool", "")}};
      co_return outcome;
    };
    out[CommandName::restart] = [this](PolledCommand c) -> Task<CommandOutcome> {
      ++runs[c.id];
      CommandOutcome outcome;
      outcome.after_report = [this] { restarted = true; };
      co_return outcome;
    };
    return out;
  }
  void settle() { world.run_until(world.now() + minutes(2)); }
};

PolledCommand command(std::string id, CommandName name, std::int64_t deliveries = 1) {
  return PolledCommand{std::move(id), name, {{"tool", "bash"}}, deliveries, "d1", "u1"};
}

TEST(CommandPoller, ARedeliveredCommandRunsOnceAndIsAnsweredWithItsFirstOutcome) {
  Box b;
  b.source.queue = {command("c1", CommandName::run_tool), command("c1", CommandName::run_tool, 2),
                    command("c2", CommandName::reload)};
  CommandPoller poller(b.env, b.source, b.journal, b.handlers(), {seconds(1)});
  b.settle();
  EXPECT_EQ(b.runs["c1"], 1);
  ASSERT_EQ(b.source.reports.size(), 3u);
  EXPECT_TRUE(b.source.reports[0].second.ok);
  EXPECT_EQ(b.source.reports[1].second.result, b.source.reports[0].second.result);
  // No handler for reload here: failed, saying so, and journalled like any other.
  EXPECT_FALSE(b.source.reports[2].second.ok);
  EXPECT_NE(b.source.reports[2].second.error.find("no handler for reload"), std::string::npos);
  EXPECT_TRUE(b.journal.contains(CommandPoller::journal_key("c2")));
}

TEST(CommandPoller, ACommandAnEarlierRunStartedIsNeverRunAgain) {
  Box b;
  // The previous run of the process journalled both, then died before reporting.
  b.journal.add(CommandPoller::journal_key("tool"));
  b.journal.add(CommandPoller::journal_key("again"));
  b.source.queue = {command("tool", CommandName::run_tool, 2),
                    command("again", CommandName::restart, 2)};
  CommandPoller poller(b.env, b.source, b.journal, b.handlers(), {seconds(1)});
  b.settle();
  EXPECT_TRUE(b.runs.empty()) << "neither ran again";
  ASSERT_EQ(b.source.reports.size(), 2u);
  EXPECT_FALSE(b.source.reports[0].second.ok);
  EXPECT_NE(b.source.reports[0].second.error.find("lost"), std::string::npos);
  EXPECT_TRUE(b.source.reports[1].second.ok) << "the restart it asked for happened";
  EXPECT_EQ(b.source.reports[1].second.result["restarted"], true);
  EXPECT_FALSE(b.restarted);
}

TEST(CommandPoller, ALostReportIsRetriedAndRestartWaitsForIt) {
  Box b;
  b.source.lose_reports = 2;
  b.source.queue = {command("r1", CommandName::restart)};
  CommandPoller poller(b.env, b.source, b.journal, b.handlers(), {seconds(1)});
  b.settle();
  EXPECT_EQ(b.runs["r1"], 1);
  ASSERT_EQ(b.source.reports.size(), 1u) << "reported on the third try";
  EXPECT_TRUE(b.restarted) << "after its report";
}

}  // namespace
}  // namespace reliant::daemon

// The daemon's terminals on the simulator's host (its scripted terminal shell): a session opens,
// echoes and runs what is typed, pages its output by offset with waiting reads, resizes, ends,
// is closed, and is closed for idleness; the scrollback and the session count are bounded. And
// the daemon's typed terminal calls on them.
#include "services/daemon/terminal_sessions.h"

#include <gtest/gtest.h>

#include <limits>
#include <optional>

#include "reliant/api/v1/daemon_services.pb.h"
#include "reliant/daemon/v1/daemon_pages.pb.h"
#include "runtime/scope.h"
#include "services/daemon/command_answers.h"
#include "services/daemon/daemon_methods.h"
#include "services/daemon/tools/background_processes.h"
#include "services/routing/daemon_calls.h"
#include "sim/sim_executor.h"
#include "sim/sim_host.h"
#include "sim/world.h"
#include "unit/support/await_into.h"

namespace reliant::daemon {
namespace {

namespace api = reliant::api::v1;
namespace pages = reliant::daemon::v1;

struct Machine {
  sim::World world{5};
  sim::NodeId node = world.add_node("daemon");
  sim::SimExecutor executor{world, node};
  sim::SimHost host{executor, "/home/me"};
  TerminalLimits limits = [] {
    TerminalLimits l;
    l.sessions_max = 2;
    l.scrollback_bytes = 64;
    l.idle_timeout = minutes(5);
    return l;
  }();
  TerminalSessions terminals{executor, host, "/home/me", limits};
  Scope scope{executor};

  template <class T>
  T wait(Task<T> task) {
    std::optional<T> out;
    scope.spawn(await_into(std::move(task), &out));
    while (!out && world.step()) {
    }
    EXPECT_TRUE(out.has_value()) << "never finished";
    return std::move(*out);
  }
  void settle() {
    const Instant until = world.now() + milliseconds(100);
    while (world.now() < until && world.step()) {
    }
  }
  // Everything shown from `offset` on, without waiting.
  std::string shown(const std::string& id, std::uint64_t offset = 0) {
    auto read = wait(terminals.read(id, offset, Duration::zero()));
    EXPECT_TRUE(read.has_value()) << read.error().message;
    return read ? read->data : "";
  }
  // A typed call to the daemon's method table, as a server makes it.
  template <class Response>
  Result<Response> call(const std::string& method, const google::protobuf::Message& request) {
    BackgroundProcesses background{executor, host};
    ToolContext tools{executor, host, "/home/me", 4096, background};
    tools.terminals = &terminals;
    MethodContext context{tools, nullptr};
    v1::DaemonCommand command;
    command.set_method(method);
    command.set_request(protocol::encode(request));
    const v1::DaemonCommandResult result = wait(answer_daemon_call(command, context));
    if (!result.ok()) return fail(command_refusal(result));
    return protocol::decode<Response>(result.response());
  }
};

TEST(TerminalSessions, ATerminalEchoesRunsPagesResizesAndEnds) {
  Machine m;
  auto opened = m.terminals.open(TerminalSize{30, 100});
  ASSERT_TRUE(opened.has_value()) << opened.error().message;
  const std::string id = opened->id;
  EXPECT_TRUE(id.starts_with("term_") && id.ends_with("_1")) << id;
  m.settle();
  EXPECT_EQ(m.shown(id), "$ ");

  // A read at the end waits for output, and wakes when it comes.
  std::optional<Result<TerminalOutput>> waiting;
  m.scope.spawn(await_into(m.terminals.read(id, 2, seconds(2)), &waiting));
  m.settle();
  EXPECT_FALSE(waiting.has_value()) << "nothing new yet";
  ASSERT_TRUE(m.terminals.write(id, "echo hi\r").has_value());
  m.settle();
  ASSERT_TRUE(waiting.has_value() && waiting->has_value());
  EXPECT_EQ((*waiting)->offset, 2u);
  EXPECT_EQ(m.shown(id, 2), "echo hi\r\nhi\r\n$ ");

  // A read with nothing new returns empty after its wait (capped).
  const Instant before = m.world.now();
  auto idle = m.wait(m.terminals.read(id, 100, minutes(10)));
  ASSERT_TRUE(idle.has_value());
  EXPECT_EQ(idle->data, "");
  EXPECT_LE(m.world.now() - before, m.limits.read_wait_max + milliseconds(10));

  ASSERT_TRUE(m.terminals.resize(id, TerminalSize{40, 120}).has_value());
  EXPECT_EQ(m.terminals.resize(id, TerminalSize{0, 1}).error().code, ErrorCode::invalid_argument);
  ASSERT_TRUE(m.terminals.write(id, "stty size\r").has_value());
  m.settle();
  EXPECT_NE(m.shown(id).find("40 120\r\n"), std::string::npos) << m.shown(id);
  EXPECT_EQ(m.terminals.list().at(0).size, (TerminalSize{40, 120}));

  ASSERT_TRUE(m.terminals.write(id, "exit 3\r").has_value());
  m.settle();
  const TerminalView ended = m.terminals.list().at(0);
  EXPECT_FALSE(ended.running);
  EXPECT_EQ(ended.exit_code, 3);
  EXPECT_EQ(m.terminals.write(id, "x").error().code, ErrorCode::failed_precondition);
  ASSERT_TRUE(m.terminals.close(id).has_value());
  EXPECT_EQ(m.terminals.close(id).error().code, ErrorCode::not_found);
  EXPECT_EQ(m.terminals.write("term_x", "x").error().code, ErrorCode::not_found);
}

TEST(TerminalSessions, ScrollbackSessionsAndReadersAreBoundedAndIdleOnesClose) {
  Machine m;
  const std::string id = m.terminals.open(TerminalSize{}).value().id;
  ASSERT_TRUE(m.terminals.open(TerminalSize{}).has_value());
  EXPECT_EQ(m.terminals.open(TerminalSize{}).error().code, ErrorCode::resource_exhausted);

  for (int i = 0; i < 20; ++i) ASSERT_TRUE(m.terminals.write(id, "echo 0123456789\r").has_value());
  m.settle();
  auto read = m.wait(m.terminals.read(id, 0, Duration::zero()));
  ASSERT_TRUE(read.has_value());
  EXPECT_GT(read->dropped, 0u) << "the oldest output is gone";
  EXPECT_EQ(read->offset, read->dropped);
  EXPECT_LE(read->data.size(), 2 * m.limits.scrollback_bytes);
  EXPECT_EQ(read->next, read->terminal.output_bytes);

  // Closing wakes a waiting reader, which then learns the terminal is gone.
  std::optional<Result<TerminalOutput>> waiting;
  m.scope.spawn(await_into(m.terminals.read(id, read->next, seconds(2)), &waiting));
  m.settle();
  ASSERT_TRUE(m.terminals.close(id).has_value());
  m.settle();
  ASSERT_TRUE(waiting.has_value());
  ASSERT_FALSE(waiting->has_value());
  EXPECT_EQ(waiting->error().code, ErrorCode::not_found);

  // Untouched for the idle timeout: closed.
  ASSERT_EQ(m.terminals.list().size(), 1u);
  const Instant until = m.world.now() + m.limits.idle_timeout + m.limits.idle_timeout;
  while (m.world.now() < until && m.world.step()) {
  }
  EXPECT_TRUE(m.terminals.list().empty());
}

// A quiet terminal followed the way every client follows one — one long-poll after another,
// each timing out — keeps serving for as long as it is read: each read that timed out gives its
// place back. So does a read whose coroutine is destroyed (its client went away). Before, each
// timed-out read kept its place, and after readers_max of them every read failed (issue 38).
TEST(TerminalSessions, AnIdleTerminalServesLongPollsForTwoMinutes) {
  Machine m;
  const std::string id = m.terminals.open(TerminalSize{}).value().id;
  m.settle();
  const std::uint64_t end = m.wait(m.terminals.read(id, 0, Duration::zero()))->next;
  int reads = 0;
  const Instant until = m.world.now() + minutes(2);
  while (m.world.now() < until) {
    auto read = m.wait(m.terminals.read(id, end, seconds(2)));
    ASSERT_TRUE(read.has_value()) << "read " << reads << ": " << read.error().message;
    EXPECT_TRUE(read->data.empty());
    ++reads;
  }
  EXPECT_GE(reads, 59);
  // Reads abandoned mid-wait, more of them than may wait at once.
  for (std::size_t i = 0; i < 2 * m.limits.readers_max; ++i) {
    std::optional<Result<TerminalOutput>> abandoned;
    {
      Scope client(m.executor);
      client.spawn(await_into(m.terminals.read(id, end, seconds(2)), &abandoned));
      m.settle();
    }
    EXPECT_FALSE(abandoned.has_value());
  }
  ASSERT_TRUE(m.terminals.write(id, "echo still here\r").has_value());
  auto read = m.wait(m.terminals.read(id, end, seconds(2)));
  ASSERT_TRUE(read.has_value()) << read.error().message;
  EXPECT_NE(read->data.find("still here"), std::string::npos) << read->data;
}

// A read still waiting when the sessions go (a daemon shutting down) wakes to an error.
TEST(TerminalSessions, AReadWaitingWhenTheSessionsGoEndsWithAnError) {
  Machine m;
  auto terminals = std::make_unique<TerminalSessions>(m.executor, m.host, "/home/me");
  const std::string id = terminals->open(TerminalSize{}).value().id;
  m.settle();
  std::optional<Result<TerminalOutput>> waiting;
  m.scope.spawn(await_into(terminals->read(id, 1000, seconds(2)), &waiting));
  m.settle();
  terminals.reset();
  m.settle();
  ASSERT_TRUE(waiting.has_value());
  ASSERT_FALSE(waiting->has_value());
  EXPECT_EQ(waiting->error().code, ErrorCode::closed);
}

// A read with nothing new waits for output up to the sessions' cap, however long it asks to
// wait: a huge wait_ms once overflowed in nanoseconds and made the read answer at once, so a
// client asking to wait long polled in a tight loop.
TEST(TerminalService, AReadAskingToWaitForeverWaitsTheCap) {
  Machine m;
  pages::OpenTerminalRequest open;
  const auto opened = m.call<api::TerminalSession>(std::string(routing::kOpenTerminal), open);
  ASSERT_TRUE(opened.has_value()) << opened.error().message;
  m.settle();
  pages::ReadTerminalRequest read;
  read.set_session_id(opened->id());
  const auto shown = m.call<pages::TerminalOutputPage>(std::string(routing::kReadTerminal), read);
  ASSERT_TRUE(shown.has_value()) << shown.error().message;
  read.set_offset(shown->next());  // all it showed: what comes next must be waited for
  for (const std::int64_t wait_ms :
       {std::int64_t{9'300'000'000'000}, std::numeric_limits<std::int64_t>::max()}) {
    read.set_wait_ms(wait_ms);
    const Instant asked = m.world.now();
    const auto page = m.call<pages::TerminalOutputPage>(std::string(routing::kReadTerminal), read);
    ASSERT_TRUE(page.has_value()) << page.error().message;
    EXPECT_GE(m.world.now() - asked, m.limits.read_wait_max) << wait_ms;
  }
  EXPECT_EQ(requested_wait(-1).error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(*requested_wait(250), milliseconds(250));
}

TEST(TerminalService, TypedCallsOpenTypeReadResizeAndCloseAndRefuseBadArguments) {
  Machine m;
  pages::OpenTerminalRequest open;
  open.set_rows(10);
  open.set_cols(40);
  const auto opened = m.call<api::TerminalSession>(std::string(routing::kOpenTerminal), open);
  ASSERT_TRUE(opened.has_value()) << opened.error().message;
  const std::string id = opened->id();
  ASSERT_TRUE(id.starts_with("term_") && id.ends_with("_1")) << id;
  EXPECT_EQ(opened->rows(), 10);
  EXPECT_TRUE(opened->running());
  pages::WriteTerminalRequest write;
  write.set_session_id(id);
  write.set_data("echo typed\r");
  EXPECT_EQ(m.call<api::TerminalSession>(std::string(routing::kWriteTerminal), write)->id(), id);
  m.settle();
  pages::ReadTerminalRequest read;
  read.set_session_id(id);
  read.set_wait_ms(500);
  const auto page = m.call<pages::TerminalOutputPage>(std::string(routing::kReadTerminal), read);
  ASSERT_TRUE(page.has_value()) << page.error().message;
  EXPECT_NE(page->data().find("typed\r\n"), std::string::npos) << page->data();
  EXPECT_EQ(page->next(), page->data().size());
  pages::ResizeTerminalRequest resize;
  resize.set_session_id(id);
  resize.set_rows(5);
  resize.set_cols(6);
  EXPECT_EQ(m.call<api::TerminalSession>(std::string(routing::kResizeTerminal), resize)->rows(), 5);
  const std::string list_method(routing::kListTerminalSessions);
  EXPECT_EQ(
      m.call<api::ListTerminalSessionsResponse>(list_method, api::ListTerminalSessionsRequest())
          ->sessions_size(),
      1);

  pages::OpenTerminalRequest huge;
  huge.set_rows(100000);
  pages::ResizeTerminalRequest half;
  half.set_session_id(id);
  half.set_rows(5);
  api::CloseTerminalSessionRequest unnamed;
  for (const auto& [method, request] :
       std::vector<std::pair<std::string_view, const google::protobuf::Message*>>{
           {routing::kOpenTerminal, &huge},
           {routing::kResizeTerminal, &half},
           {routing::kCloseTerminalSession, &unnamed}}) {
    const auto refused = m.call<api::TerminalSession>(std::string(method), *request);
    ASSERT_FALSE(refused.has_value()) << method;
    EXPECT_EQ(refused.error().code, ErrorCode::invalid_argument)
        << method << ": " << refused.error().message;
  }
  read.set_session_id(id + "9");
  EXPECT_EQ(
      m.call<pages::TerminalOutputPage>(std::string(routing::kReadTerminal), read).error().code,
      ErrorCode::not_found);
  api::CloseTerminalSessionRequest close;
  close.set_session_id(id);
  EXPECT_FALSE(
      m.call<api::TerminalSession>(std::string(routing::kCloseTerminalSession), close)->running());
  EXPECT_EQ(
      m.call<api::ListTerminalSessionsResponse>(list_method, api::ListTerminalSessionsRequest())
          ->sessions_size(),
      0);
}

// A daemon that restarted gives its terminals other ids: a client still holding one from before
// is told it is gone, never attached to the new terminal that has the same number.
TEST(TerminalSessions, IdsFromBeforeARestartAreUnknownAfterIt) {
  Machine m;
  auto first = m.terminals.open(TerminalSize{24, 80});
  ASSERT_TRUE(first.has_value());
  m.world.run_until(m.world.now() + seconds(3));
  TerminalSessions restarted(m.executor, m.host, "/home/me", m.limits);
  auto second = restarted.open(TerminalSize{24, 80});
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(first->id, second->id);
  auto stale = restarted.write(first->id, "echo wrong terminal\r");
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code, ErrorCode::not_found);
}

}  // namespace
}  // namespace reliant::daemon

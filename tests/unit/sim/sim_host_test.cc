// SimHost: the in-memory file system, scripted and built-in commands in virtual time, timeouts,
// streaming output and cancellation.
#include "sim/sim_host.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "runtime/scope.h"
#include "sim/sim_executor.h"
#include "unit/support/await_into.h"

namespace reliant::sim {
namespace {

struct Machine {
  World world{3};
  NodeId node = world.add_node("host");
  SimExecutor executor{world, node};
  SimHost host{executor, "/home/me"};
  Scope scope{executor};

  template <class T>
  T wait(Task<T> task) {
    std::optional<T> out;
    scope.spawn(await_into(std::move(task), &out));
    while (!out && world.step()) {
    }
    EXPECT_TRUE(out.has_value());
    return std::move(*out);
  }
  ProcessOutcome run(std::string command, Duration timeout = Duration::zero()) {
    ProcessSpec spec;
    spec.command = std::move(command);
    spec.timeout = timeout;
    auto outcome = wait(host.run(std::move(spec)));
    EXPECT_TRUE(outcome.has_value());
    return outcome.value_or(ProcessOutcome{});
  }
};

TEST(SimHost, FilesAndImplicitDirectories) {
  Machine m;
  m.host.put_file("/home/me/src/a.cc", "a");
  m.host.put_file("notes.txt", "relative");  // to the working directory
  EXPECT_TRUE(m.host.is_directory("/home/me/src"));
  EXPECT_TRUE(m.host.is_directory("/home"));
  EXPECT_EQ(m.host.file("/home/me/notes.txt"), "relative");

  auto listing = m.wait(m.host.list_directory("/home/me", kListEntriesMax));
  ASSERT_TRUE(listing.has_value());
  ASSERT_EQ(listing->size(), 2u);
  EXPECT_EQ((*listing)[0].path, "/home/me/notes.txt");
  EXPECT_FALSE((*listing)[0].is_directory);
  EXPECT_EQ((*listing)[0].size_bytes, 8u);
  EXPECT_EQ((*listing)[1].path, "/home/me/src");
  EXPECT_TRUE((*listing)[1].is_directory);

  EXPECT_EQ(m.wait(m.host.read_file("src", kReadFileBytesMax)).error().code,
            ErrorCode::invalid_argument);
  EXPECT_EQ(m.wait(m.host.read_file("nope", kReadFileBytesMax)).error().code, ErrorCode::not_found);
  EXPECT_EQ(m.wait(m.host.list_directory("notes.txt", kListEntriesMax)).error().code,
            ErrorCode::invalid_argument);
  EXPECT_EQ(m.wait(m.host.write_file("notes.txt/x", "")).error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(m.wait(m.host.write_file("src", "")).error().code, ErrorCode::invalid_argument);
  ASSERT_TRUE(m.wait(m.host.write_file("src/b.cc", "b")).has_value());
  EXPECT_EQ(m.host.file("/home/me/src/b.cc"), "b");
  EXPECT_TRUE(m.wait(m.host.stat("src"))->is_directory);
  EXPECT_EQ(m.wait(m.host.stat("src/b.cc"))->size_bytes, 1u);
  EXPECT_TRUE(m.host.remove("src"));
  EXPECT_FALSE(m.host.is_directory("/home/me/src"));
}

TEST(SimHost, BuiltInShell) {
  Machine m;
  m.host.put_file("/home/me/a.txt", "alpha\n");
  EXPECT_EQ(m.run("echo hello   'big  world'").output, "hello big  world\n");
  EXPECT_EQ(m.run("echo -n x").output, "x");
  EXPECT_EQ(m.run("cat a.txt").output, "alpha\n");
  ProcessOutcome missing = m.run("cat nope.txt");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.output, "cat: nope.txt: No such file or directory\n");
  EXPECT_EQ(m.run("ls").output, "a.txt\n");
  EXPECT_EQ(m.run("echo made > out.txt && cat out.txt && echo more >> out.txt").output, "made\n");
  EXPECT_EQ(m.host.file("/home/me/out.txt"), "made\nmore\n");
  EXPECT_EQ(m.run("false && echo skipped || echo rescued").output, "rescued\n");
  EXPECT_EQ(m.run("false; echo next").output, "next\n");
  EXPECT_EQ(m.run("cd /tmp").exit_code, 2);
  m.host.make_directory("/tmp");
  EXPECT_EQ(m.run("cd /tmp && pwd").output, "/tmp\n");
  EXPECT_EQ(m.run("exit 3; echo unreachable").exit_code, 3);
  ProcessOutcome unknown = m.run("gcc main.c");
  EXPECT_EQ(unknown.exit_code, 127);
  EXPECT_EQ(unknown.output, "sh: 1: gcc: not found\n");
  ProcessOutcome syntax = m.run("echo 'open");
  EXPECT_EQ(syntax.exit_code, 2);
  EXPECT_EQ(syntax.output, "sh: 1: Syntax error: Unterminated quoted string\n");
  EXPECT_EQ(m.run("ls | wc -l").exit_code, 2) << "pipes need a scripted handler";
}

TEST(SimHost, ScriptedCommandsAndHandlers) {
  Machine m;
  m.host.on_command("make test", SimCommandScript::reply("ok\n", 0, seconds(4)));
  m.host.on_prefix("git ", [](SimHost& host, const SimCommandCall& call) {
    host.put_file(call.working_dir + "/.git/HEAD", "ref: main\n");
    return SimCommandScript::reply("ran " + call.command + "\n");
  });
  const Instant start = m.world.now();
  EXPECT_EQ(m.run("make test").output, "ok\n");
  EXPECT_EQ(m.world.now() - start, seconds(4));
  EXPECT_EQ(m.run("git init").output, "ran git init\n");
  EXPECT_EQ(m.host.file("/home/me/.git/HEAD"), "ref: main\n");
  EXPECT_EQ(m.run("echo a && git status").output, "a\nran git status\n") << "per link, too";
  EXPECT_EQ(m.host.commands_run().size(), 3u);
}

TEST(SimHost, SleepTakesVirtualTimeAndTimeoutsKill) {
  Machine m;
  Instant start = m.world.now();
  EXPECT_EQ(m.run("sleep 2.5").exit_code, 0);
  EXPECT_EQ(m.world.now() - start, milliseconds(2500));

  start = m.world.now();
  ProcessOutcome timed_out = m.run("echo a; sleep 60; echo b", seconds(5));
  EXPECT_TRUE(timed_out.timed_out);
  EXPECT_EQ(timed_out.exit_code, -1);
  EXPECT_EQ(timed_out.output, "a\n");
  EXPECT_EQ(m.world.now() - start, seconds(5));
  EXPECT_EQ(m.host.stats().runs_timed_out, 1u);
  EXPECT_EQ(m.run("sleep forever").exit_code, 1);
}

// Host faults: a hung command says nothing and ends only at its timeout; a full disk fails the
// write and stores nothing; each is counted; without faults nothing of the kind happens.
TEST(SimHost, HungCommandsEndAtTheirTimeoutAndFullDisksRefuseWrites) {
  Machine m;
  SimHostFaults faults(m.world.random().split("host"));
  m.host.set_faults(&faults);
  faults.faults() = HostFaults{1, 1};
  const Instant start = m.world.now();
  ProcessOutcome hung = m.run("echo hello", seconds(7));
  EXPECT_TRUE(hung.timed_out);
  EXPECT_EQ(hung.exit_code, -1);
  EXPECT_EQ(hung.output, "");
  EXPECT_EQ(m.world.now() - start, seconds(7));
  Result<void> written = m.wait(m.host.write_file("notes.txt", "x"));
  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error().code, ErrorCode::resource_exhausted);
  EXPECT_EQ(written.error().message, "no space left on device: /home/me/notes.txt");
  EXPECT_FALSE(m.host.file("/home/me/notes.txt").has_value());
  EXPECT_EQ(faults.stats().hangs, 1u);
  EXPECT_EQ(faults.stats().disk_full, 1u);

  faults.faults() = HostFaults{};
  EXPECT_EQ(m.run("echo hello", seconds(7)).output, "hello\n");
  EXPECT_TRUE(m.wait(m.host.write_file("notes.txt", "x")).has_value());
  EXPECT_EQ(faults.stats().hangs, 1u);
}

TEST(SimHost, StreamsOutputAndCapsWhatItCollects) {
  Machine m;
  SimCommandScript script;
  script.steps = {{seconds(1), "12345"}, {seconds(1), "67890"}};
  m.host.on_command("count", script);
  std::vector<std::pair<std::int64_t, std::string>> chunks;
  ProcessSpec spec;
  spec.command = "count";
  spec.output_limit_bytes = 7;
  spec.on_output = [&](std::string_view chunk) {
    chunks.emplace_back(to_ms(m.world.now() - kSimEpoch), std::string(chunk));
  };
  const Instant start = m.world.now();
  auto outcome = m.wait(m.host.run(std::move(spec)));
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->output, "1234567");
  EXPECT_TRUE(outcome->truncated);
  EXPECT_EQ(outcome->output_bytes, 10u);
  const std::int64_t t0 = to_ms(start - kSimEpoch);
  EXPECT_EQ(chunks, (std::vector<std::pair<std::int64_t, std::string>>{{t0 + 1000, "12345"},
                                                                       {t0 + 2000, "67890"}}));
}

TEST(SimHost, StderrIsKeptApartOnlyWhenAsked) {
  Machine m;
  SimCommandScript script;
  script.steps = {{seconds(1), "compiling\n"},
                  {seconds(1), "warning: unused\n", /*to_stderr=*/true},
                  {seconds(1), "done\n"}};
  script.exit_code = 1;
  m.host.on_command("make", script);
  EXPECT_EQ(m.run("make").output, "compiling\nwarning: unused\ndone\n") << "merged by default";

  std::string streamed;
  ProcessSpec spec;
  spec.command = "make";
  spec.separate_stderr = true;
  spec.on_output = [&streamed](std::string_view chunk) { streamed.append(chunk); };
  auto apart = m.wait(m.host.run(std::move(spec)));
  ASSERT_TRUE(apart.has_value());
  EXPECT_EQ(apart->output, "compiling\ndone\n");
  EXPECT_EQ(apart->error_output, "warning: unused\n");
  EXPECT_EQ(apart->exit_code, 1);
  EXPECT_EQ(streamed, "compiling\ndone\n");

  // The shell: `>&2` and `2>&1` redirect a command's steps; its complaints go to stderr; a
  // file redirection takes stdout only.
  m.host.on_prefix("warn", [](SimHost&, const SimCommandCall&) {
    return SimCommandScript::reply_with_stderr("result\n", "careful\n");
  });
  auto run_apart = [&m](std::string command) {
    ProcessSpec s;
    s.command = std::move(command);
    s.separate_stderr = true;
    return m.wait(m.host.run(std::move(s))).value_or(ProcessOutcome{});
  };
  ProcessOutcome shell = run_apart("echo a >&2; warn 2>&1; gcc; warn > out.txt");
  EXPECT_EQ(shell.output, "result\ncareful\n");
  EXPECT_EQ(shell.error_output, "a\nsh: 1: gcc: not found\ncareful\n");
  EXPECT_EQ(m.host.file("/home/me/out.txt"), "result\n");
  EXPECT_EQ(run_apart("cd /nowhere").error_output, "sh: 1: cd: can't cd to /nowhere\n");
}

TEST(SimHost, DestroyingTheRunKillsItAndWithdrawsItsTimer) {
  Machine m;
  std::optional<Result<ProcessOutcome>> out;
  auto scope = std::make_unique<Scope>(m.executor);
  ProcessSpec spec;
  spec.command = "sleep 100";
  scope->spawn(await_into(m.host.run(std::move(spec)), &out));
  m.world.run_until(m.world.now() + seconds(1));
  EXPECT_EQ(m.host.running(), 1u);
  scope.reset();
  EXPECT_EQ(m.host.running(), 0u);
  EXPECT_EQ(m.host.stats().runs_killed, 1u);
  EXPECT_FALSE(m.world.step()) << "its timer was withdrawn";
  EXPECT_FALSE(out.has_value());
}

TEST(SimHost, AMissingWorkingDirectoryFailsToStart) {
  Machine m;
  ProcessSpec spec;
  spec.command = "ls";
  spec.working_dir = "/nowhere";
  auto outcome = m.wait(m.host.run(std::move(spec)));
  ASSERT_FALSE(outcome.has_value());
  EXPECT_EQ(outcome.error().code, ErrorCode::not_found);
}

}  // namespace
}  // namespace reliant::sim

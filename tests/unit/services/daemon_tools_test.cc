// The daemon's tools against the simulated host in virtual time: every tool's success and error
// paths, output caps, timeouts, cancellation and the background-process lifecycle.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "runtime/scope.h"
#include "services/daemon/instance_tag.h"
#include "services/daemon/tools/background_processes.h"
#include "services/daemon/tools/tool.h"
#include "services/daemon/tools/tool_support.h"
#include "sim/sim_executor.h"
#include "sim/sim_host.h"

namespace reliant::daemon {
namespace {

Task<void> call_into(ToolSet* tools, ToolContext* ctx, std::string name, std::string input,
                     std::optional<ToolResult>* out) {
  Task<ToolResult> call = tools->execute(*ctx, std::move(name), std::move(input));
  *out = co_await call;
}

ProcessSpec command_spec(std::string command) {
  ProcessSpec spec;
  spec.command = std::move(command);
  return spec;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// One simulated daemon: a world, its executor, a host at /work (confined to `roots` when
// given), and the tools.
struct Daemon {
  explicit Daemon(std::vector<std::string> roots = {})
      : host{executor, "/work", std::move(roots)} {}

  sim::World world{7};
  sim::NodeId node = world.add_node("daemon");
  sim::SimExecutor executor{world, node};
  sim::SimHost host;
  Instant started = executor.now();
  BackgroundProcesses background{executor, host, /*buffer_limit_bytes=*/1024,
                                 /*max_processes=*/4};
  ToolContext ctx{executor, host, "/work", /*output_limit_bytes=*/4096, background};
  ToolSet tools = make_builtin_tools();
  Scope scope{executor};  // last: its tasks die before everything they use

  // The id of the n-th background process: "bash_<instance>_<n>", the instance being when the
  // processes' registry began (so no id outlives a restart of the daemon).
  std::string bash(int n) const {
    return "bash_" + instance_tag(started) + "_" + std::to_string(n);
  }

  // Runs one call with raw JSON text to completion in virtual time.
  ToolResult call_raw(std::string name, std::string input) {
    std::optional<ToolResult> out;
    scope.spawn(call_into(&tools, &ctx, std::move(name), std::move(input), &out));
    while (!out && world.step()) {
    }
    EXPECT_TRUE(out.has_value()) << "the call never finished";
    return out.value_or(ToolResult{});
  }
  ToolResult call(std::string name, const Json& input) {
    return call_raw(std::move(name), input.dump());
  }

  void advance(Duration d) { world.run_until(world.now() + d); }
};

// --- the registry ---

TEST(ToolSet, HoldsTheBuiltinToolsWithSchemas) {
  Daemon d;
  const std::vector<std::string> expected = {"bash",      "bash_kill", "bash_list", "bash_output",
                                             "calculate", "echo",      "edit",      "glob",
                                             "grep",      "ls",        "view",      "write"};
  EXPECT_EQ(d.tools.names(), expected);
  for (const auto& name : expected) {
    const Tool* tool = d.tools.find(name);
    ASSERT_NE(tool, nullptr) << name;
    EXPECT_EQ(tool->name(), name);
    EXPECT_FALSE(tool->description().empty()) << name;
    const Json schema = tool->input_schema();
    EXPECT_EQ(schema.at("type"), "object") << name;
    EXPECT_TRUE(schema.at("properties").is_object()) << name;
  }
  EXPECT_EQ(d.tools.find("rm"), nullptr);
}

TEST(ToolSet, UnknownToolIsAnErrorNamingTheAvailableOnes) {
  Daemon d;
  const ToolResult r = d.call_raw("rm", "{}");
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.error_code, "unknown_tool");
  EXPECT_TRUE(contains(r.content, "unknown tool \"rm\"")) << r.content;
  EXPECT_TRUE(contains(r.content, "bash, bash_kill")) << r.content;
}

TEST(ToolSet, BadJsonAndNonObjectInputAreInvalidInput) {
  Daemon d;
  ToolResult r = d.call_raw("bash", "{\"command\": ");
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.error_code, "invalid_input");
  EXPECT_TRUE(contains(r.content, "input for bash is not valid JSON: parse error")) << r.content;

  r = d.call_raw("bash", "[\"echo hi\"]");
  EXPECT_EQ(r.error_code, "invalid_input");
  EXPECT_EQ(r.content, "input for bash must be a JSON object, got array");

  r = d.call_raw("bash", "{}");
  EXPECT_EQ(r.error_code, "invalid_input");
  EXPECT_EQ(r.content, "missing required field \"command\" (a string)");

  // A model's input nested 100,000 deep (issue 15) is refused, not parsed and then copied.
  r = d.call_raw("bash",
                 "{\"command\":" + std::string(100'000, '[') + std::string(100'000, ']') + "}");
  EXPECT_EQ(r.error_code, "invalid_input");
  EXPECT_EQ(r.content,
            "input for bash is not valid JSON: JSON nested deeper than 64 levels at byte 74");

  r = d.call("bash", Json{{"command", 42}});
  EXPECT_EQ(r.error_code, "invalid_input");
  EXPECT_EQ(r.content, "field \"command\" must be a string, got number");

  r = d.call_raw("bash_list", "");  // empty input means {}
  EXPECT_FALSE(r.is_error) << r.content;
}

TEST(ToolSet, ARelativeWorkingDirectoryIsRefused) {
  Daemon d;
  d.ctx.working_dir = "work";
  const ToolResult r = d.call_raw("ls", "{}");
  EXPECT_EQ(r.error_code, "failed");
  EXPECT_TRUE(contains(r.content, "not an absolute path")) << r.content;
}

TEST(ToolSet, ContentIsAlwaysValidUtf8) {
  Daemon d;
  d.host.on_command("binary", sim::SimCommandScript::reply("ok \xff\xfe end\n"));
  const ToolResult r = d.call("bash", Json{{"command", "binary"}});
  EXPECT_FALSE(r.is_error);
  EXPECT_EQ(r.content, "ok \xEF\xBF\xBD\xEF\xBF\xBD end\n");
  EXPECT_NO_THROW((void)Json(r.content).dump());
}

// --- bash ---

TEST(Bash, RunsACommandInTheWorkingDirectory) {
  Daemon d;
  ToolResult r = d.call("bash", Json{{"command", "echo hello world"}});
  EXPECT_FALSE(r.is_error) << r.content;
  EXPECT_EQ(r.content, "hello world\n");
  EXPECT_EQ(r.metadata.at("exit_code"), 0);
  EXPECT_EQ(r.metadata.at("timed_out"), false);
  EXPECT_EQ(r.metadata.at("truncated"), false);

  r = d.call("bash", Json{{"command", "pwd"}});
  EXPECT_EQ(r.content, "/work\n");

  r = d.call("bash", Json{{"command", "true"}});
  EXPECT_EQ(r.content, "(no output)");
}

TEST(Bash, ANonZeroExitIsAnErrorWithTheOutput) {
  Daemon d;
  d.host.on_command("make", sim::SimCommandScript::reply("error: missing semicolon\n", 2));
  ToolResult r = d.call("bash", Json{{"command", "make"}});
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.error_code, "failed");
  EXPECT_EQ(r.content, "error: missing semicolon\n[exit code: 2]");
  EXPECT_EQ(r.metadata.at("exit_code"), 2);

  r = d.call("bash", Json{{"command", "frobnicate --now"}});
  EXPECT_EQ(r.metadata.at("exit_code"), 127);
  EXPECT_EQ(r.content, "sh: 1: frobnicate: not found\n[exit code: 127]");
}

TEST(Bash, TakesTheScriptedTimeInVirtualTime) {
  Daemon d;
  d.host.on_command("cargo build", sim::SimCommandScript::reply("Finished\n", 0, seconds(3)));
  const Instant start = d.world.now();
  const ToolResult r = d.call("bash", Json{{"command", "cargo build"}});
  EXPECT_FALSE(r.is_error);
  EXPECT_EQ(d.world.now() - start, seconds(3));
  EXPECT_EQ(r.metadata.at("duration_ms"), 3000);
}

TEST(Bash, ATimeoutKillsTheCommand) {
  Daemon d;
  const Instant start = d.world.now();
  const ToolResult r = d.call(
      "bash", Json{{"command", "echo starting; sleep 10; echo never"}, {"timeout_ms", 2000}});
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.error_code, "timeout");
  EXPECT_EQ(r.content, "starting\n[timed out after 2000 ms: the command was killed]");
  EXPECT_EQ(r.metadata.at("timed_out"), true);
  EXPECT_EQ(r.metadata.at("exit_code"), -1);
  EXPECT_EQ(d.world.now() - start, seconds(2));
  EXPECT_EQ(d.host.stats().runs_timed_out, 1u);
  EXPECT_EQ(d.host.running(), 0u);
}

TEST(Bash, OutputOverTheCapIsCutWithANotice) {
  Daemon d;
  d.host.on_command("yes | head", sim::SimCommandScript::reply(std::string(10'000, 'y')));
  const ToolResult r = d.call("bash", Json{{"command", "yes | head"}});
  EXPECT_FALSE(r.is_error);
  EXPECT_EQ(r.content,
            std::string(4096, 'y') + "\n[output truncated: 5904 bytes over the limit of 4096]");
  EXPECT_EQ(r.metadata.at("truncated"), true);
  EXPECT_EQ(r.metadata.at("output_bytes"), 10'000);
}

TEST(Bash, TheCapNeverSplitsAUtf8Character) {
  Daemon d;
  // 4095 ASCII bytes then "é" (2 bytes): the cut at 4096 would fall inside it.
  d.host.on_command("accents", sim::SimCommandScript::reply(std::string(4095, 'a') + "\xC3\xA9z"));
  const ToolResult r = d.call("bash", Json{{"command", "accents"}});
  EXPECT_EQ(r.content,
            std::string(4095, 'a') + "\n[output truncated: 3 bytes over the limit of 4096]");
}

TEST(Bash, InvalidInputsAreRefused) {
  Daemon d;
  ToolResult r = d.call("bash", Json{{"command", "   "}});
  EXPECT_EQ(r.error_code, "invalid_input");
  EXPECT_EQ(r.content, "field \"command\" is empty");
  r = d.call("bash", Json{{"command", "ls"}, {"timeout_ms", 0}});
  EXPECT_EQ(r.error_code, "invalid_input");
  EXPECT_EQ(r.content, "field \"timeout_ms\" must be between 1 and 600000, got 0");
  r = d.call("bash", Json{{"command", "ls"}, {"timeout_ms", 1.5}});
  EXPECT_EQ(r.content, "field \"timeout_ms\" must be an integer, got a fraction");
  r = d.call("bash", Json{{"command", "ls"}, {"run_in_background", "yes"}});
  EXPECT_EQ(r.content, "field \"run_in_background\" must be true or false, got string");
  EXPECT_TRUE(d.host.commands_run().empty()) << "nothing ran";
}

TEST(Bash, DestroyingTheCallKillsTheRunningCommand) {
  Daemon d;
  std::optional<ToolResult> out;
  auto call_scope = std::make_unique<Scope>(d.executor);
  call_scope->spawn(
      call_into(&d.tools, &d.ctx, "bash", Json{{"command", "sleep 100"}}.dump(), &out));
  d.advance(seconds(5));
  EXPECT_EQ(d.host.running(), 1u);
  call_scope.reset();  // the daemon cancelled the request
  EXPECT_FALSE(out.has_value());
  EXPECT_EQ(d.host.running(), 0u);
  EXPECT_EQ(d.host.stats().runs_killed, 1u);
  EXPECT_FALSE(d.world.step()) << "the command's timer was withdrawn";
}

TEST(Bash, SeparateStderrGivesBothStreamsInTheMetadata) {
  Daemon d;
  ToolResult r = d.call(
      "bash", Json{{"command", "echo out; echo err >&2; exit 3"}, {"separate_stderr", true}});
  EXPECT_EQ(r.error_code, "failed");
  EXPECT_EQ(r.content, "out\nerr\n[exit code: 3]") << "stdout then stderr";
  EXPECT_EQ(r.metadata.at("exit_code"), 3);
  EXPECT_EQ(r.metadata.at("stdout"), "out\n");
  EXPECT_EQ(r.metadata.at("stderr"), "err\n");

  r = d.call("bash", Json{{"command", "echo out; echo err >&2"}});
  EXPECT_EQ(r.content, "out\nerr\n");
  EXPECT_FALSE(r.metadata.contains("stdout")) << "only when asked";

  // Each stream is capped on its own, never inside a character; the content as a whole too.
  d.host.on_command("noisy", sim::SimCommandScript::reply_with_stderr(
                                 std::string(4095, 'o') + "\xC3\xA9", std::string(5000, 'e')));
  r = d.call("bash", Json{{"command", "noisy"}, {"separate_stderr", true}});
  EXPECT_FALSE(r.is_error) << r.content;
  EXPECT_EQ(r.metadata.at("stdout"), std::string(4095, 'o'));
  EXPECT_EQ(r.metadata.at("stderr"), std::string(4096, 'e'));
  EXPECT_EQ(r.metadata.at("truncated"), true);
  EXPECT_EQ(r.metadata.at("output_bytes"), 9097);
  EXPECT_EQ(r.content,
            std::string(4095, 'o') + "\n[output truncated: 5002 bytes over the limit of 4096]");
}

TEST(Bash, EnvAddsVariablesToTheCommand) {
  Daemon d;
  std::map<std::string, std::string> seen;
  d.host.on_prefix("show-env", [&seen](sim::SimHost&, const sim::SimCommandCall& call) {
    seen = call.env;
    return sim::SimCommandScript::reply("shown\n");
  });
  ToolResult r =
      d.call("bash", Json{{"command", "show-env"}, {"env", {{"GREETING", "hi"}, {"_N2", ""}}}});
  EXPECT_FALSE(r.is_error) << r.content;
  EXPECT_EQ(seen, (std::map<std::string, std::string>{{"GREETING", "hi"}, {"_N2", ""}}));

  r = d.call(
      "bash",
      Json{{"command", "show-env"}, {"env", {{"GREETING", "hi"}}}, {"run_in_background", true}});
  ASSERT_FALSE(r.is_error) << r.content;
  seen.clear();
  d.advance(seconds(1));
  EXPECT_EQ(seen, (std::map<std::string, std::string>{{"GREETING", "hi"}})) << "in background";
}

TEST(Bash, EnvMustMapVariableNamesToStrings) {
  Daemon d;
  struct Refusal {
    Json env;
    std::string message;
  };
  const Refusal refusals[] = {
      {Json{{"N", 1}}, "field \"env\": the value of \"N\" must be a string, got number"},
      {Json{{"1ABC", "x"}},
       "field \"env\": \"1ABC\" is not a variable name (letters, digits and '_', not starting "
       "with a digit)"},
      {Json{{"N", std::string("a\0b", 3)}},
       "field \"env\": the value of \"N\" holds a NUL character"},
      {Json::array({"N=1"}), "field \"env\" must be an object, got array"},
  };
  for (const auto& [env, message] : refusals) {
    const ToolResult r = d.call("bash", Json{{"command", "ls"}, {"env", env}});
    EXPECT_EQ(r.error_code, "invalid_input") << message;
    EXPECT_EQ(r.content, message);
  }
  for (const std::string name : {"", "A-B", "A=B", "PATH ", "\xC3\xA9"}) {
    const ToolResult r = d.call("bash", Json{{"command", "ls"}, {"env", {{name, "x"}}}});
    EXPECT_EQ(r.error_code, "invalid_input") << name;
  }
  const ToolResult r = d.call("bash", Json{{"command", "ls"}, {"separate_stderr", "yes"}});
  EXPECT_EQ(r.content, "field \"separate_stderr\" must be true or false, got string");
  EXPECT_TRUE(d.host.commands_run().empty()) << "nothing ran";
}

TEST(Bash, WorkingDirRunsTheCommandElsewhereInTheWorkspace) {
  Daemon d;
  d.host.make_directory("/work/sub/deeper");
  ToolResult r = d.call("bash", Json{{"command", "pwd"}, {"working_dir", "sub"}});
  EXPECT_FALSE(r.is_error) << r.content;
  EXPECT_EQ(r.content, "/work/sub\n");
  r = d.call("bash", Json{{"command", "pwd"}, {"working_dir", "/work/sub/deeper/.."}});
  EXPECT_EQ(r.content, "/work/sub\n");

  r = d.call("bash",
             Json{{"command", "pwd"}, {"working_dir", "sub/deeper"}, {"run_in_background", true}});
  ASSERT_FALSE(r.is_error) << r.content;
  d.advance(seconds(1));
  EXPECT_EQ(d.call("bash_output", Json{{"id", d.bash(1)}}).content,
            "/work/sub/deeper\n[" + d.bash(1) + ": exited with code 0]");
}

TEST(Bash, WorkingDirIsRefusedOutsideTheWorkspaceOrWhenNotADirectory) {
  Daemon d(std::vector<std::string>{"/work"});
  d.host.put_file("/work/file.txt", "x");
  d.host.make_directory("/elsewhere");
  ToolResult r = d.call("bash", Json{{"command", "pwd"}, {"working_dir", "../elsewhere"}});
  EXPECT_EQ(r.error_code, "failed");
  EXPECT_EQ(r.content,
            "bash: working_dir /elsewhere: permission_denied: /elsewhere is outside the daemon's "
            "workspace (/work)");
  // As the file tools report it.
  EXPECT_EQ(d.call("ls", Json{{"path", "../elsewhere"}}).error_code, "failed");
  r = d.call("bash",
             Json{{"command", "pwd"}, {"working_dir", "/elsewhere"}, {"run_in_background", true}});
  EXPECT_EQ(r.error_code, "failed") << "in background too";
  r = d.call("bash", Json{{"command", "pwd"}, {"working_dir", "missing"}});
  EXPECT_EQ(r.error_code, "not_found");
  EXPECT_EQ(r.content, "bash: working_dir missing: /work/missing does not exist");
  r = d.call("bash", Json{{"command", "pwd"}, {"working_dir", "file.txt"}});
  EXPECT_EQ(r.error_code, "invalid_input");
  EXPECT_EQ(r.content, "bash: working_dir file.txt: is not a directory");
  r = d.call("bash", Json{{"command", "pwd"}, {"working_dir", 3}});
  EXPECT_EQ(r.content, "field \"working_dir\" must be a string, got number");
  EXPECT_TRUE(d.host.commands_run().empty()) << "nothing ran";
}

// --- background processes ---

sim::SimCommandScript server_script() {
  sim::SimCommandScript script;
  script.steps = {{Duration::zero(), "starting\n"},
                  {seconds(1), "ready\n"},
                  {seconds(10), "request 1\n"},
                  {seconds(100), "shutting down\n"}};
  return script;
}

TEST(Background, StartReadListKill) {
  Daemon d;
  d.host.on_command("npm run dev", server_script());
  ToolResult r = d.call(
      "bash",
      Json{{"command", "npm run dev"}, {"run_in_background", true}, {"description", "dev server"}});
  ASSERT_FALSE(r.is_error) << r.content;
  EXPECT_EQ(r.metadata.at("id"), d.bash(1));
  EXPECT_TRUE(contains(r.content, "started background process " + d.bash(1))) << r.content;

  d.advance(seconds(2));
  r = d.call("bash_output", Json{{"id", d.bash(1)}});
  EXPECT_FALSE(r.is_error);
  EXPECT_EQ(r.content, "starting\nready\n[" + d.bash(1) + ": running]");
  EXPECT_EQ(r.metadata.at("running"), true);

  r = d.call("bash_output", Json{{"id", d.bash(1)}});
  EXPECT_EQ(r.content, "(no new output)\n[" + d.bash(1) + ": running]");

  d.advance(seconds(10));
  r = d.call("bash_output", Json{{"id", d.bash(1)}});
  EXPECT_EQ(r.content, "request 1\n[" + d.bash(1) + ": running]");

  r = d.call_raw("bash_list", "{}");
  EXPECT_EQ(r.content, d.bash(1) + "  running  npm run dev  (dev server)");
  EXPECT_EQ(r.metadata.at("processes").size(), 1u);

  r = d.call("bash_kill", Json{{"id", d.bash(1)}});
  EXPECT_FALSE(r.is_error);
  EXPECT_EQ(r.content, "killed " + d.bash(1));
  EXPECT_EQ(d.host.stats().runs_killed, 1u);
  EXPECT_EQ(d.host.running(), 0u);
  EXPECT_EQ(d.background.running(), 0u);

  r = d.call("bash_output", Json{{"id", d.bash(1)}});
  EXPECT_EQ(r.content, "(no new output)\n[" + d.bash(1) + ": killed]");
  EXPECT_EQ(r.metadata.at("killed"), true);

  r = d.call("bash_kill", Json{{"id", d.bash(1)}});
  EXPECT_EQ(r.content, d.bash(1) + " had already ended: killed");

  d.advance(seconds(200));
  r = d.call("bash_output", Json{{"id", d.bash(1)}});
  EXPECT_EQ(r.content, "(no new output)\n[" + d.bash(1) + ": killed]") << "nothing after the kill";
}

TEST(Background, AProcessThatEndsByItselfReportsItsExitCode) {
  Daemon d;
  ToolResult r = d.call(
      "bash", Json{{"command", "sleep 1 && echo done && false"}, {"run_in_background", true}});
  ASSERT_FALSE(r.is_error);
  d.advance(seconds(2));
  r = d.call("bash_output", Json{{"id", d.bash(1)}});
  EXPECT_EQ(r.content, "done\n[" + d.bash(1) + ": exited with code 1]");
  EXPECT_EQ(r.metadata.at("exit_code"), 1);
  EXPECT_EQ(r.metadata.at("running"), false);
  r = d.call("bash_kill", Json{{"id", d.bash(1)}});
  EXPECT_EQ(r.content, d.bash(1) + " had already ended: exited with code 1");
  EXPECT_EQ(d.host.stats().runs_killed, 0u);
}

TEST(Background, UnreadOutputIsBoundedAndTheLossReported) {
  Daemon d;
  d.host.on_command("chatty", sim::SimCommandScript::reply(std::string(3000, 'x'), 0, seconds(60)));
  ASSERT_FALSE(d.call("bash", Json{{"command", "chatty"}, {"run_in_background", true}}).is_error);
  d.advance(seconds(1));
  const ToolResult r = d.call("bash_output", Json{{"id", d.bash(1)}});
  EXPECT_EQ(r.content,
            "[1976 earlier bytes were dropped: only the newest output is kept between "
            "reads]\n" +
                std::string(1024, 'x') + "\n[" + d.bash(1) + ": running]");
  EXPECT_EQ(r.metadata.at("dropped_bytes"), 1976);
  EXPECT_EQ(r.metadata.at("output_bytes"), 3000);
}

TEST(Background, UnknownIdsAreNotFound) {
  Daemon d;
  ToolResult r = d.call("bash_output", Json{{"id", d.bash(9)}});
  EXPECT_EQ(r.error_code, "not_found");
  EXPECT_EQ(r.content, "no background process \"" + d.bash(9) +
                           "\" (forgotten, never started, or started before the daemon restarted)");
  r = d.call("bash_kill", Json{{"id", d.bash(9)}});
  EXPECT_EQ(r.error_code, "not_found");
  r = d.call_raw("bash_output", "{}");
  EXPECT_EQ(r.error_code, "invalid_input");
  r = d.call_raw("bash_list", "{}");
  EXPECT_EQ(r.content, "(no background processes)");
}

// A daemon that restarts begins a new registry: an id handed out before names no process of the
// new one (a model's bash_kill of an old id must not kill whatever now has its number).
TEST(Background, AnIdFromBeforeARestartNamesNoNewerProcess) {
  Daemon d;
  d.host.on_command("npm run dev", server_script());
  ToolResult r = d.call("bash", Json{{"command", "npm run dev"}, {"run_in_background", true}});
  ASSERT_FALSE(r.is_error) << r.content;
  const std::string before = r.metadata.at("id");
  d.advance(seconds(5));

  BackgroundProcesses restarted{d.executor, d.host, /*buffer_limit_bytes=*/1024,
                                /*max_processes=*/4};
  ProcessSpec spec;
  spec.command = "npm run dev";
  auto after = restarted.start(std::move(spec), "dev server");
  ASSERT_TRUE(after.has_value()) << after.error().describe();
  EXPECT_NE(*after, before);
  EXPECT_TRUE(after->starts_with("bash_") && after->ends_with("_1")) << *after;
  const auto old = restarted.kill(before);
  ASSERT_FALSE(old.has_value());
  EXPECT_EQ(old.error().code, ErrorCode::not_found);
  EXPECT_EQ(restarted.running(), 1u) << "the newer process still runs";
}

TEST(Background, AtMostMaxProcessesRunAndEndedOnesMakeRoom) {
  Daemon d;
  for (int i = 1; i <= 4; ++i) {
    const ToolResult r = d.call(
        "bash", Json{{"command", "sleep " + std::to_string(i * 10)}, {"run_in_background", true}});
    ASSERT_FALSE(r.is_error) << r.content;
  }
  d.advance(seconds(1));
  ToolResult r = d.call("bash", Json{{"command", "sleep 5"}, {"run_in_background", true}});
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.error_code, "failed");
  EXPECT_TRUE(contains(r.content, "already 4 background processes running")) << r.content;

  d.advance(seconds(10));  // bash_1 (sleep 10) has ended: it is forgotten to make room
  r = d.call("bash", Json{{"command", "sleep 5"}, {"run_in_background", true}});
  ASSERT_FALSE(r.is_error) << r.content;
  EXPECT_EQ(r.metadata.at("id"), d.bash(5));
  EXPECT_EQ(d.call("bash_output", Json{{"id", d.bash(1)}}).error_code, "not_found");
  EXPECT_EQ(d.background.list().size(), 4u);
}

TEST(Background, DestroyingTheTableKillsEveryRunningProcess) {
  Daemon d;
  {
    BackgroundProcesses table(d.executor, d.host);
    ASSERT_TRUE(table.start(command_spec("sleep 50"), "").has_value());
    ASSERT_TRUE(table.start(command_spec("sleep 60"), "").has_value());
    d.advance(seconds(1));
    EXPECT_EQ(d.host.running(), 2u);
  }
  EXPECT_EQ(d.host.running(), 0u);
  EXPECT_EQ(d.host.stats().runs_killed, 2u);
}

TEST(Background, AStartFailureIsReported) {
  Daemon d;
  d.ctx.working_dir = "/nowhere";
  const ToolResult r = d.call("bash", Json{{"command", "ls"}, {"run_in_background", true}});
  ASSERT_FALSE(r.is_error);
  d.advance(seconds(1));
  const ToolResult out = d.call("bash_output", Json{{"id", d.bash(1)}});
  EXPECT_EQ(out.content, "(no new output)\n[" + d.bash(1) +
                             ": failed to start: not_found: working directory /nowhere "
                             "does not exist]");
}

// --- view ---

TEST(View, ShowsNumberedLines) {
  Daemon d;
  d.host.put_file("/work/notes.txt", "one\ntwo\r\nthree\n");
  ToolResult r = d.call("view", Json{{"file_path", "notes.txt"}});
  EXPECT_FALSE(r.is_error) << r.content;
  EXPECT_EQ(r.content, "     1\tone\n     2\ttwo\n     3\tthree\n");
  EXPECT_EQ(r.metadata.at("total_lines"), 3);

  r = d.call("view", Json{{"file_path", "/work/notes.txt"}, {"offset", 2}, {"limit", 1}});
  EXPECT_EQ(r.content, "     2\ttwo\n[showing lines 2-2 of 3; use offset and limit to see more]\n");

  d.host.put_file("/work/no_newline.txt", "a\nb");
  r = d.call("view", Json{{"file_path", "no_newline.txt"}, {"offset", 2}});
  EXPECT_EQ(r.content, "     2\tb\n");
}

TEST(View, CutsVeryLongLines) {
  Daemon d;
  d.host.put_file("/work/min.js", std::string(3000, 'q') + "\n");
  const ToolResult r = d.call("view", Json{{"file_path", "min.js"}});
  EXPECT_EQ(r.content, "     1\t" + std::string(2000, 'q') + " [line cut at 2000 bytes]\n");
  EXPECT_EQ(r.metadata.at("cut_lines"), 1);
}

TEST(View, ErrorsArePrecise) {
  Daemon d;
  d.host.put_file("/work/src/a.cc", "x\n");
  d.host.put_file("/work/empty.txt", "");
  ToolResult r = d.call("view", Json{{"file_path", "missing.txt"}});
  EXPECT_EQ(r.error_code, "not_found");
  EXPECT_EQ(r.content, "view missing.txt: /work/missing.txt does not exist");

  r = d.call("view", Json{{"file_path", "src"}});
  EXPECT_EQ(r.error_code, "invalid_input");
  EXPECT_EQ(r.content, "view src: is a directory (use ls to list it)");

  r = d.call("view", Json{{"file_path", "src/a.cc"}, {"offset", 5}});
  EXPECT_EQ(r.error_code, "invalid_input");
  EXPECT_EQ(r.content, "view src/a.cc: offset 5 is past the end of the file (1 lines)");

  r = d.call("view", Json{{"file_path", "src/a.cc"}, {"offset", 0}});
  EXPECT_EQ(r.content, "field \"offset\" is a 1-based line number, got 0");
  r = d.call("view", Json{{"file_path", "src/a.cc"}, {"limit", 0}});
  EXPECT_EQ(r.content, "field \"limit\" must be at least 1, got 0");

  d.host.put_file("/work/huge.log", std::string((32 << 20) + 1, 'z'));
  r = d.call("view", Json{{"file_path", "huge.log"}});
  EXPECT_EQ(r.error_code, "invalid_input");
  EXPECT_EQ(r.content,
            "view huge.log: the file is too large to view (33554433 bytes); search it "
            "with grep or slice it with bash");

  r = d.call("view", Json{{"file_path", "empty.txt"}});
  EXPECT_FALSE(r.is_error);
  EXPECT_EQ(r.content, "(empty.txt is empty)");
}

// --- write ---

TEST(Write, CreatesAndReplacesFiles) {
  Daemon d;
  ToolResult r = d.call("write", Json{{"file_path", "deep/new/file.txt"}, {"content", "hello"}});
  EXPECT_FALSE(r.is_error) << r.content;
  EXPECT_EQ(r.content, "created deep/new/file.txt (5 bytes)");
  EXPECT_EQ(d.host.file("/work/deep/new/file.txt"), "hello");
  EXPECT_EQ(r.metadata.at("created"), true);

  r = d.call("write", Json{{"file_path", "/work/deep/new/file.txt"}, {"content", ""}});
  EXPECT_EQ(r.content, "wrote deep/new/file.txt (0 bytes)");
  EXPECT_EQ(d.host.file("/work/deep/new/file.txt"), "");

  r = d.call("write", Json{{"file_path", "../outside.txt"}, {"content", "x"}});
  EXPECT_EQ(r.content, "created /outside.txt (1 bytes)") << "paths outside are shown absolute";
}

TEST(Write, ErrorsArePrecise) {
  Daemon d;
  d.host.put_file("/work/file.txt", "x");
  ToolResult r = d.call("write", Json{{"file_path", "deep"}, {"content", "x"}});
  EXPECT_FALSE(r.is_error);  // "deep" did not exist: it is a new file
  d.host.make_directory("/work/dir");
  r = d.call("write", Json{{"file_path", "dir"}, {"content", "x"}});
  EXPECT_EQ(r.error_code, "invalid_input");
  EXPECT_EQ(r.content, "write dir: is a directory");
  r = d.call("write", Json{{"file_path", "file.txt/inner"}, {"content", "x"}});
  EXPECT_EQ(r.error_code, "invalid_input");
  EXPECT_EQ(r.content,
            "write file.txt/inner: cannot create /work/file.txt/inner: /work/file.txt is a file");
  r = d.call("write", Json{{"file_path", "a.txt"}});
  EXPECT_EQ(r.content, "missing required field \"content\" (a string)");
}

// --- edit ---

TEST(Edit, ReplacesAUniqueString) {
  Daemon d;
  d.host.put_file("/work/main.cc", "int main() {\n  return 1;\n}\n");
  const ToolResult r = d.call(
      "edit",
      Json{{"file_path", "main.cc"}, {"old_string", "return 1;"}, {"new_string", "return 0;"}});
  EXPECT_FALSE(r.is_error) << r.content;
  EXPECT_EQ(r.content, "replaced 1 occurrence in main.cc");
  EXPECT_EQ(d.host.file("/work/main.cc"), "int main() {\n  return 0;\n}\n");
}

TEST(Edit, NotFoundAndNotUniqueAreErrors) {
  Daemon d;
  d.host.put_file("/work/a.txt", "x = 1\nx = 1\nx = 1\n");
  ToolResult r = d.call(
      "edit", Json{{"file_path", "a.txt"}, {"old_string", "y = 1"}, {"new_string", "y = 2"}});
  EXPECT_EQ(r.error_code, "not_found");
  EXPECT_TRUE(contains(r.content, "old_string was not found")) << r.content;

  r = d.call("edit",
             Json{{"file_path", "a.txt"}, {"old_string", "x = 1"}, {"new_string", "x = 2"}});
  EXPECT_EQ(r.error_code, "not_unique");
  EXPECT_TRUE(contains(r.content, "old_string occurs 3 times")) << r.content;
  EXPECT_EQ(r.metadata.at("occurrences"), 3);
  EXPECT_EQ(d.host.file("/work/a.txt"), "x = 1\nx = 1\nx = 1\n") << "unchanged";

  r = d.call("edit", Json{{"file_path", "a.txt"},
                          {"old_string", "x = 1"},
                          {"new_string", "x = 2"},
                          {"replace_all", true}});
  EXPECT_FALSE(r.is_error);
  EXPECT_EQ(r.content, "replaced 3 occurrences in a.txt");
  EXPECT_EQ(d.host.file("/work/a.txt"), "x = 2\nx = 2\nx = 2\n");
}

TEST(Edit, OtherErrors) {
  Daemon d;
  d.host.put_file("/work/a.txt", "abc");
  ToolResult r =
      d.call("edit", Json{{"file_path", "a.txt"}, {"old_string", "b"}, {"new_string", "b"}});
  EXPECT_EQ(r.error_code, "invalid_input");
  EXPECT_EQ(r.content, "old_string and new_string are the same: nothing to change");

  r = d.call("edit", Json{{"file_path", "nope.txt"}, {"old_string", "a"}, {"new_string", "b"}});
  EXPECT_EQ(r.error_code, "not_found");
  EXPECT_EQ(r.content, "edit nope.txt: /work/nope.txt does not exist");

  r = d.call("edit", Json{{"file_path", "a.txt"}, {"old_string", ""}, {"new_string", "new"}});
  EXPECT_EQ(r.error_code, "invalid_input");
  EXPECT_EQ(d.host.file("/work/a.txt"), "abc");

  r = d.call("edit", Json{{"file_path", "fresh.txt"}, {"old_string", ""}, {"new_string", "new"}});
  EXPECT_FALSE(r.is_error) << r.content;
  EXPECT_EQ(r.content, "created fresh.txt");
  EXPECT_EQ(d.host.file("/work/fresh.txt"), "new");
}

// replace_all on a 1 MB file with a 2 KB replacement would build a 2 GB string (issue 38): the
// result is measured first and refused past what the file tools write, the file unchanged.
TEST(Edit, AResultLargerThanAWriteIsRefusedBeforeItIsBuilt) {
  Daemon d;
  const std::string file(1 << 20, 'a');
  d.host.put_file("/work/big.txt", file);
  const ToolResult r = d.call("edit", Json{{"file_path", "big.txt"},
                                           {"old_string", "a"},
                                           {"new_string", std::string(2048, 'b')},
                                           {"replace_all", true}});
  EXPECT_EQ(r.error_code, "invalid_input");
  EXPECT_TRUE(contains(
      r.content, "the file would hold 2147483648 bytes; the file tools write at most 67108864"))
      << r.content;
  EXPECT_EQ(d.host.file("/work/big.txt"), file) << "unchanged";
  // Shrinking a large file is fine.
  const ToolResult shrunk = d.call("edit", Json{{"file_path", "big.txt"},
                                                {"old_string", "aaaa"},
                                                {"new_string", "b"},
                                                {"replace_all", true}});
  EXPECT_FALSE(shrunk.is_error) << shrunk.content;
  EXPECT_EQ(d.host.file("/work/big.txt"), std::string(1 << 18, 'b'));
}

// --- ls ---

TEST(Ls, ListsADirectory) {
  Daemon d;
  d.host.put_file("/work/b.txt", "b");
  d.host.put_file("/work/a/inner.txt", "i");
  d.host.put_file("/work/.env", "SECRET=1");
  d.host.make_directory("/work/empty");
  ToolResult r = d.call_raw("ls", "{}");
  EXPECT_FALSE(r.is_error) << r.content;
  EXPECT_EQ(r.content, ".env\na/\nb.txt\nempty/");
  EXPECT_EQ(r.metadata.at("entries"), 4);

  r = d.call("ls", Json{{"path", "empty"}});
  EXPECT_EQ(r.content, "(empty is empty)");

  r = d.call("ls", Json{{"path", "missing"}});
  EXPECT_EQ(r.error_code, "not_found");
  EXPECT_EQ(r.content, "ls missing: /work/missing does not exist");

  r = d.call("ls", Json{{"path", "b.txt"}});
  EXPECT_EQ(r.error_code, "invalid_input");
  EXPECT_EQ(r.content, "ls b.txt: /work/b.txt is not a directory");
}

// --- glob ---

void plant_tree(sim::SimHost& host) {
  host.put_file("/work/README.md", "# readme\n");
  host.put_file("/work/src/a.cc", "int a;\n// TODO fix a\n");
  host.put_file("/work/src/b.h", "// TODO header\n");
  host.put_file("/work/src/sub/c.cc", "int c; // todo lower\n");
  host.put_file("/work/src/.hidden.cc", "// TODO hidden\n");
  host.put_file("/work/.git/objects.cc", "// TODO in git\n");
  host.put_file("/work/bin/tool", std::string("\x7f"
                                              "ELF\0TODO",
                                              9));
}

TEST(Glob, MatchesWithStarQuestionDoubleStarAndBraces) {
  Daemon d;
  plant_tree(d.host);
  auto glob = [&](Json input) { return d.call("glob", input); };
  EXPECT_EQ(glob({{"pattern", "**/*.cc"}}).content, "src/a.cc\nsrc/sub/c.cc");
  EXPECT_EQ(glob({{"pattern", "src/*.{cc,h}"}}).content, "src/a.cc\nsrc/b.h");
  EXPECT_EQ(glob({{"pattern", "src/?.cc"}}).content, "src/a.cc");
  EXPECT_EQ(glob({{"pattern", "src/[ab].*"}}).content, "src/a.cc\nsrc/b.h");
  EXPECT_EQ(glob({{"pattern", "*.md"}}).content, "README.md");
  EXPECT_EQ(glob({{"pattern", "*.cc"}, {"path", "src"}}).content, "src/a.cc");
  EXPECT_EQ(glob({{"pattern", "src/**"}}).content, "src/a.cc\nsrc/b.h\nsrc/sub/c.cc");
  EXPECT_EQ(glob({{"pattern", ".git/*.cc"}}).content, ".git/objects.cc") << "named explicitly";
  EXPECT_EQ(glob({{"pattern", "src/.*.cc"}}).content, "src/.hidden.cc");
  EXPECT_EQ(glob({{"pattern", "/work/src/sub/*.cc"}}).content, "src/sub/c.cc");
  const ToolResult all = glob({{"pattern", "**"}});
  EXPECT_EQ(all.content, "README.md\nbin/tool\nsrc/a.cc\nsrc/b.h\nsrc/sub/c.cc");
  EXPECT_EQ(all.metadata.at("matches"), 5);
}

TEST(Glob, NoMatchAndErrors) {
  Daemon d;
  plant_tree(d.host);
  ToolResult r = d.call("glob", Json{{"pattern", "**/*.rs"}});
  EXPECT_FALSE(r.is_error);
  EXPECT_EQ(r.content, "no files match \"**/*.rs\" under .");
  r = d.call("glob", Json{{"pattern", "src/*.{cc"}});
  EXPECT_EQ(r.error_code, "invalid_input");
  EXPECT_EQ(r.content, "invalid glob pattern \"src/*.{cc\": unbalanced '{' in pattern");
  r = d.call("glob", Json{{"pattern", "*.cc"}, {"path", "nowhere"}});
  EXPECT_EQ(r.error_code, "not_found");
  r = d.call("glob", Json{{"pattern", "*.cc"}, {"path", "README.md"}});
  EXPECT_EQ(r.error_code, "invalid_input");
  EXPECT_EQ(r.content, "glob README.md: not a directory");
}

// --- grep ---

TEST(Grep, FindsMatchingLines) {
  Daemon d;
  plant_tree(d.host);
  ToolResult r = d.call("grep", Json{{"pattern", "TODO"}});
  EXPECT_FALSE(r.is_error) << r.content;
  EXPECT_EQ(r.content, "src/a.cc:2:// TODO fix a\nsrc/b.h:1:// TODO header\n")
      << "hidden and binary files are skipped";
  EXPECT_EQ(r.metadata.at("matches"), 2);
  EXPECT_EQ(r.metadata.at("files_with_matches"), 2);
  EXPECT_EQ(r.metadata.at("skipped_binary"), 1);

  r = d.call("grep", Json{{"pattern", "todo"}, {"-i", true}, {"glob", "*.cc"}});
  EXPECT_EQ(r.content, "src/a.cc:2:// TODO fix a\nsrc/sub/c.cc:1:int c; // todo lower\n");

  r = d.call("grep", Json{{"pattern", "^int \\w+;"}, {"path", "src/sub/c.cc"}});
  EXPECT_EQ(r.content, "src/sub/c.cc:1:int c; // todo lower\n");

  r = d.call("grep", Json{{"pattern", "TODO"}, {"glob", "src/**/*.{h,md}"}});
  EXPECT_EQ(r.content, "src/b.h:1:// TODO header\n");

  r = d.call("grep", Json{{"pattern", "nothing here"}});
  EXPECT_FALSE(r.is_error);
  EXPECT_EQ(r.content, "no matches for /nothing here/ in .");
}

TEST(Grep, ErrorsArePrecise) {
  Daemon d;
  plant_tree(d.host);
  ToolResult r = d.call("grep", Json{{"pattern", "(unclosed"}});
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.error_code, "invalid_input");
  EXPECT_TRUE(contains(r.content, "invalid regular expression \"(unclosed\": ")) << r.content;
  r = d.call("grep", Json{{"pattern", "x"}, {"path", "missing"}});
  EXPECT_EQ(r.error_code, "not_found");
  r = d.call("grep", Json{{"pattern", "x"}, {"glob", "{a"}});
  EXPECT_EQ(r.error_code, "invalid_input");
  r = d.call("grep", Json{{"pattern", ""}});
  EXPECT_EQ(r.content, "field \"pattern\" is empty");
}

// RE2, not ECMAScript (issue 38): linear-time matching has no backreferences nor lookaround,
// and the tool's description says so to the model.
TEST(Grep, TakesRe2SyntaxAndSaysSo) {
  Daemon d;
  plant_tree(d.host);
  ToolResult r = d.call("grep", Json{{"pattern", "(?i)todo"}, {"glob", "*.cc"}});
  EXPECT_EQ(r.content, "src/a.cc:2:// TODO fix a\nsrc/sub/c.cc:1:int c; // todo lower\n");
  for (const std::string unsupported : {"(a)\\1", "TODO(?= fix)"}) {
    r = d.call("grep", Json{{"pattern", unsupported}});
    EXPECT_EQ(r.error_code, "invalid_input") << unsupported;
    EXPECT_TRUE(contains(r.content, "invalid regular expression \"" + unsupported + "\": "))
        << r.content;
  }
  EXPECT_TRUE(contains(std::string(d.tools.find("grep")->description()), "RE2"));
  d.host.put_file("/work/long.txt", std::string(600, 'y') + " needle\n");
  r = d.call("grep", Json{{"pattern", "needle"}, {"path", "long.txt"}});
  EXPECT_EQ(r.content, "long.txt:1:" + std::string(500, 'y') + " [...]\n")
      << "a long line is searched whole and shown cut";
  r = d.call("grep", Json{{"pattern", "(x+x+)+y"}, {"path", "long.txt"}});
  EXPECT_EQ(r.content, "no matches for /(x+x+)+y/ in long.txt");
}

TEST(Grep, OutputIsCappedWithANotice) {
  Daemon d;
  std::string big;
  for (int i = 0; i < 1000; ++i) big += "match line " + std::to_string(i) + "\n";
  d.host.put_file("/work/big.log", big);
  const ToolResult r = d.call("grep", Json{{"pattern", "match"}});
  EXPECT_FALSE(r.is_error);
  EXPECT_LE(r.content.size(), 4096u + 200u);
  EXPECT_TRUE(contains(r.content, "[output truncated: more matches beyond the limit of 4096 bytes"))
      << r.content.substr(r.content.size() - 200);
  EXPECT_EQ(r.metadata.at("truncated"), true);
}

// --- helpers ---

TEST(ToolSupport, CapOutputAndUtf8) {
  EXPECT_EQ(cap_output("hello", 10), "hello");
  EXPECT_EQ(cap_output("hello world", 5), "hello\n[output truncated: 6 bytes over the limit of 5]");
  EXPECT_EQ(cap_output("hello", 5, 7), "hello\n[output truncated: 7 bytes over the limit of 5]");
  EXPECT_EQ(cap_output("abc", 0), "abc") << "zero means no limit";
  EXPECT_EQ(utf8_prefix_length("a\xE2\x82\xAC", 3), 1u) << "never half of the euro sign";
  EXPECT_EQ(utf8_prefix_length("a\xE2\x82\xAC", 4), 4u);
  EXPECT_EQ(utf8_prefix_length("a\xE2\x82", 9), 1u) << "already cut inside the sequence";
  EXPECT_EQ(utf8_prefix_length("abc", 2), 2u);
  EXPECT_EQ(repair_utf8("ok"), "ok");
  EXPECT_EQ(repair_utf8("\xC3"), "\xEF\xBF\xBD");
  EXPECT_EQ(repair_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD") << "surrogate";
}

}  // namespace
}  // namespace reliant::daemon

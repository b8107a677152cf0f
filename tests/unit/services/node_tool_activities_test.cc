// `create_worktree` nodes (services/agent/node_tool_activities.cc): in virtual time, the command
// the node sends to its daemon's bash tool, its output and the worktree recorded on the run's
// project (once, however often the step runs), a git failure failing the node with git's reason,
// and names that could escape the command refused before anything runs; then on a real monolith
// stack (PosixHost, SQLite file) against a real git repository in a temp dir: the worktree is
// checked out on its new branch, ignored by the repository, with the copied untracked files.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <stdio.h>
#include <sys/wait.h>

#include "adapters/asio/asio_executor.h"
#include "adapters/host/posix_host.h"
#include "adapters/memory/in_process_bus.h"
#include "adapters/sqlite/sqlite_store.h"
#include "services/storage/projects.h"
#include "unit/services/agent_monolith.h"
#include "unit/support/await_into.h"
#include "unit/support/real_loop.h"
#include "unit/support/temp_dir.h"

namespace reliant::agent {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// The command the node sends starts this way (node_tool_activities.cc builds it).
constexpr const char* kWorktreeScript = "set -e; top=$(git rev-parse --show-toplevel)";

Result<void> add_project(SqlTransaction& tx, const std::string& path) {
  return insert_project(tx, ProjectRecord{"proj-1", "user-1", "demo", path, 1, {}});
}

std::vector<WorktreeRecord> worktrees_of(Monolith& m) {
  auto found = m.run(m.store.transact_for(
      [](SqlTransaction& tx) { return find_project(tx, "user-1", "proj-1"); }));
  EXPECT_TRUE(found.has_value() && found->has_value());
  return found && *found ? (**found).worktrees : std::vector<WorktreeRecord>{};
}

constexpr const char* kBranchOff = R"(name: branch-off
entry: tree
nodes:
  - id: tree
    type: create_worktree
    name: feature/login
    base_branch: main
    copy_files: [.env, config/local.json]
outputs:
  path: "{{ nodes.tree.path }}"
  branch: "{{ nodes.tree.branch }}"
  daemon: "{{ nodes.tree.daemon_id }}"
  worktree: "{{ nodes.tree.worktree_id }}"
)";

TEST(WorkflowWorktree, TheNodeRunsGitWorktreeAddOnItsDaemonAndRecordsItOnTheProject) {
  Monolith m;
  std::vector<std::string> issued;
  m.host.on_prefix(kWorktreeScript, [&issued](sim::SimHost&, const sim::SimCommandCall& call) {
    issued.push_back(call.command);
    return sim::SimCommandScript::reply_with_stderr(
        "/work/.reliant/worktrees/feature/login\n",
        "Preparing worktree (new branch 'feature/login')\n");
  });
  auto added =
      m.run(m.store.transact_for([](SqlTransaction& tx) { return add_project(tx, "/work"); }));
  ASSERT_TRUE(added.has_value()) << added.error().message;
  start_yaml_run(m, "tree-1", kBranchOff, Json{{"project_id", "proj-1"}});
  const engine::RunSummary run = ended_run(m, "tree-1");
  ASSERT_EQ(run.status, engine::RunStatus::completed) << run.error.value_or("");

  // One command on daemon-1: a new branch off main into the repository's .reliant/worktrees,
  // which the repository is told to ignore, then the listed files copied in.
  ASSERT_EQ(issued.size(), 1u);
  const std::string& command = issued[0];
  EXPECT_NE(command.find("dir=\"$top/.reliant/worktrees/feature/login\""), std::string::npos)
      << command;
  EXPECT_NE(command.find("git worktree add -b 'feature/login' \"$dir\" 'main'"), std::string::npos)
      << command;
  EXPECT_NE(command.find("echo '.reliant/' >> \"$(git rev-parse --git-common-dir)/info/exclude\""),
            std::string::npos)
      << command;
  EXPECT_NE(command.find("cp -R \"$top\"/'.env' \"$dir\"/'.env'"), std::string::npos) << command;
  EXPECT_NE(command.find("cp -R \"$top\"/'config/local.json' \"$dir\"/'config/local.json'"),
            std::string::npos)
      << command;

  const Json outputs = (*run.result)["outputs"];
  EXPECT_EQ(outputs["path"], "/work/.reliant/worktrees/feature/login") << outputs.dump();
  EXPECT_EQ(outputs["branch"], "feature/login");
  EXPECT_EQ(outputs["daemon"], "daemon-1");
  const std::vector<WorktreeRecord> recorded = worktrees_of(m);
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].id, outputs["worktree"]);
  EXPECT_EQ(recorded[0].path, "/work/.reliant/worktrees/feature/login");
  EXPECT_EQ(recorded[0].branch, "feature/login");
}

TEST(WorkflowWorktree, ForceResetsTheBranchAndAGitFailureFailsTheNodeWithItsReason) {
  Monolith m;
  std::vector<std::string> issued;
  m.host.on_prefix(kWorktreeScript, [&issued](sim::SimHost&, const sim::SimCommandCall& call) {
    issued.push_back(call.command);
    return sim::SimCommandScript::reply_with_stderr(
        "", "fatal: a branch named 'wip' already exists\n", 128);
  });
  start_yaml_run(m, "tree-2", R"(name: again
entry: tree
nodes:
  - {id: tree, type: create_worktree, name: wip, force: true}
)");
  const engine::RunSummary run = ended_run(m, "tree-2");
  ASSERT_EQ(run.status, engine::RunStatus::failed);
  EXPECT_NE(run.error.value_or("").find(
                "git worktree add failed: fatal: a branch named 'wip' already exists"),
            std::string::npos)
      << run.error.value_or("");
  ASSERT_FALSE(issued.empty());
  // --force -B resets an existing branch; the base defaults to HEAD.
  EXPECT_NE(issued[0].find("git worktree add --force -B 'wip' \"$dir\" 'HEAD'"), std::string::npos)
      << issued[0];
}

TEST(WorkflowWorktree, NamesThatCouldEscapeTheCommandAreRefusedBeforeAnythingRuns) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"name: \"../../etc\"", "name must be a plain name"},
      {"name: \"x; rm -rf /\"", "name must be a plain name"},
      {"name: ok, base_branch: \"main' && touch pwned '\"", "base_branch"},
      {"name: ok, copy_files: [\"../secrets\"]", "copy_files must list plain relative paths"},
      {"name: ok, copy_files: [\"/etc/passwd\"]", "copy_files must list plain relative paths"},
      // Args of the wrong type fail the node; they do not take the worker down.
      {"name: [a, b]", "name must be a plain name"},
      {"name: ok, base_branch: {b: 1}", "base_branch"},
      {"name: ok, force: \"yes\"", "force must be true or false"},
  };
  for (const auto& [args, reason] : cases) {
    Monolith m;
    bool ran = false;
    m.host.on_prefix(kWorktreeScript, [&ran](sim::SimHost&, const sim::SimCommandCall&) {
      ran = true;
      return sim::SimCommandScript::reply("/work/.reliant/worktrees/ok\n");
    });
    start_yaml_run(m, "tree-bad",
                   "name: bad\nentry: tree\nnodes:\n  - {id: tree, type: "
                   "create_worktree, " +
                       args + "}\n");
    const engine::RunSummary run = ended_run(m, "tree-bad");
    EXPECT_EQ(run.status, engine::RunStatus::failed) << args;
    EXPECT_NE(run.error.value_or("").find(reason), std::string::npos)
        << args << ": " << run.error.value_or("");
    EXPECT_FALSE(ran) << args;
  }
}

// ---- against real git ----

// Runs `command` with /bin/sh in `dir`; its exit status and output (stdout and stderr).
std::pair<int, std::string> shell(const fs::path& dir, const std::string& command) {
  const std::string line = "cd '" + dir.string() + "' && { " + command + " ; } 2>&1";
  FILE* pipe = ::popen(line.c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  std::string out;
  char buffer[512];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// The monolith's parts on a real executor, a SQLite file and the in-process daemon of user-1 on
// a PosixHost whose workspace is `work` — a git repository with one commit on `main`.
struct RealStack {
  testing::TempDir temp{"reliant-worktree"};
  fs::path work = temp.path / "work";
  AsioExecutor executor;
  std::unique_ptr<SqliteStore> store;
  InProcessBroker broker{1};
  InProcessBus bus{broker, executor};
  std::unique_ptr<PosixHost> host;
  Random random{7};
  std::unique_ptr<Env> env;
  daemon::MemoryRequestJournal journal;
  std::unique_ptr<routing::LocalDaemonRouter> router;
  ScriptedLlm llm;
  engine::WorkflowRegistry workflows;
  engine::ActivityRegistry activities;
  std::unique_ptr<engine::Worker> worker;
  std::unique_ptr<Scope> scope;

  RealStack() {
    fs::create_directories(work);
    auto opened = SqliteStore::open(executor, (temp.path / "reliant.db").string());
    EXPECT_TRUE(opened.has_value()) << opened.error().describe();
    if (opened) store = std::move(*opened);
    host = std::make_unique<PosixHost>(executor, work.string());
    env = std::make_unique<Env>(Env{executor, random, &bus, nullptr, store.get(), host.get()});
    scope = std::make_unique<Scope>(executor);
    EXPECT_TRUE(run(migrate_up(*store, executor.now())).has_value());
    auto seeded = run(store->transact_for([this](SqlTransaction& tx) -> Result<void> {
      if (auto ok = insert_user(tx, User{"user-1", "ada@example.com", "ada", 0}); !ok) return ok;
      DaemonRecord daemon;
      daemon.id = "daemon-1";
      daemon.user_id = "user-1";
      daemon.name = "laptop";
      daemon.status = DaemonStatus::active;
      daemon.connection_id = "c1";
      daemon.connected_at_ms = 1;
      if (auto ok = record_daemon_connected(tx, daemon); !ok) return ok;
      return add_project(tx, work.string());
    }));
    EXPECT_TRUE(seeded.has_value()) << seeded.error().describe();
    router = std::make_unique<routing::LocalDaemonRouter>(executor, *host, work.string(), journal,
                                                          "daemon-1", "user-1");
    register_agent_workflow(workflows);
    register_agent_activities(
        activities, AgentDeps{*store, &bus, llm, *router, "scripted", builtin_tool_specs()});
    engine::WorkerConfig config;
    config.worker_id = "w1";
    config.poll_interval = milliseconds(50);
    worker = std::make_unique<engine::Worker>(*env, config, workflows, activities);
  }
  ~RealStack() {
    scope.reset();
    worker.reset();
    router.reset();
    testing::run_for(executor, std::chrono::milliseconds(20));
  }

  template <class T>
  T run(Task<T> task) {
    std::optional<T> out;
    scope->spawn(await_into(std::move(task), &out));
    EXPECT_TRUE(testing::run_until(
        executor, [&] { return out.has_value(); }, std::chrono::seconds(30)))
        << "the task never finished";
    return std::move(*out);
  }
};

TEST(WorkflowWorktree, ARealGitWorktreeIsCheckedOutIgnoredAndRecorded) {
  testing::TempDir probe{"reliant-git-probe"};
  if (shell(probe.path, "git --version").first != 0) GTEST_SKIP() << "git is not installed";
  RealStack s;
  const std::string git = "git -c user.name=Test -c user.email=test@example.com";
  auto [made, log] = shell(s.work,
                           "git init -q -b main . && mkdir config && echo tracked > "
                           "README.md && " +
                               git + " add README.md && " + git +
                               " commit -q -m init && echo SECRET=1 > .env && echo '{}' > "
                               "config/local.json");
  ASSERT_EQ(made, 0) << log;

  workflow::RunRequest request;
  request.user_id = "user-1";
  request.file = "branch-off.yaml";
  request.source = kBranchOff;
  request.context = Json{{"user_id", "user-1"}, {"project_id", "proj-1"}};
  const engine::NewRun new_run{"tree-real", "reliant", std::string(workflow::kEngineWorkflowName),
                               workflow::to_json(request)};
  auto started =
      s.run(s.store->transact_for([new_run, dialect = s.store->dialect()](SqlTransaction& tx) {
        return engine::start_run(tx, dialect, new_run, 1);
      }));
  ASSERT_TRUE(started.has_value()) << started.error().describe();
  // The run's state is read between stretches of the executor's own running, never inside one.
  std::optional<engine::RunSummary> ended;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!ended && std::chrono::steady_clock::now() < deadline) {
    testing::run_for(s.executor, std::chrono::milliseconds(20));
    auto run = s.run(
        s.store->transact_for([](SqlTransaction& tx) { return engine::get_run(tx, "tree-real"); }));
    if (run && run->terminal()) ended = *run;
  }
  ASSERT_TRUE(ended.has_value()) << "the run never ended";
  ASSERT_EQ(ended->status, engine::RunStatus::completed) << ended->error.value_or("");

  const fs::path tree = s.work / ".reliant/worktrees/feature/login";
  const Json outputs = (*ended->result)["outputs"];
  EXPECT_EQ(fs::canonical(outputs["path"].get<std::string>()), fs::canonical(tree))
      << outputs.dump();
  // A worktree of the repository on its new branch, with the commit and the copied files.
  auto [listed, worktrees] = shell(s.work, "git worktree list --porcelain");
  EXPECT_EQ(listed, 0);
  EXPECT_NE(worktrees.find("branch refs/heads/feature/login"), std::string::npos) << worktrees;
  auto [head, branch] = shell(tree, "git rev-parse --abbrev-ref HEAD");
  EXPECT_EQ(head, 0);
  EXPECT_EQ(branch, "feature/login\n");
  std::ifstream readme(tree / "README.md");
  std::stringstream text;
  text << readme.rdbuf();
  EXPECT_EQ(text.str(), "tracked\n");
  EXPECT_TRUE(fs::exists(tree / ".env")) << "an untracked file listed in copy_files";
  EXPECT_TRUE(fs::exists(tree / "config/local.json"));
  // The main checkout does not see the worktree as something to commit.
  auto [status_code, status] = shell(s.work, "git status --porcelain --untracked-files=all");
  EXPECT_EQ(status_code, 0);
  EXPECT_EQ(status.find(".reliant"), std::string::npos) << status;

  auto project = s.run(s.store->transact_for(
      [](SqlTransaction& tx) { return find_project(tx, "user-1", "proj-1"); }));
  ASSERT_TRUE(project.has_value() && project->has_value());
  ASSERT_EQ((**project).worktrees.size(), 1u);
  EXPECT_EQ((**project).worktrees[0].branch, "feature/login");
  EXPECT_EQ(fs::canonical((**project).worktrees[0].path), fs::canonical(tree));
}

}  // namespace
}  // namespace reliant::agent

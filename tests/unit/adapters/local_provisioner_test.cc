// The local provisioner with a stand-in daemon binary (a script that sleeps): it starts a
// process in the daemon's own folder and session, with its own HOME, a free port and nothing
// this process holds open; sees it exit and says how; a second provisioner (a restarted control
// plane) adopts what the first started instead of starting it twice; stops it by its process
// group; removes its folder; and refuses an image in preflight.
#include "adapters/host/local_provisioner.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "runtime/scope.h"
#include "unit/support/await_into.h"
#include "unit/support/temp_dir.h"

namespace reliant {
namespace {

namespace fs = std::filesystem;

// How many processes are in process group `group` (from /proc/*/stat's fifth field).
int group_members(pid_t group) {
  int members = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string state;
    pid_t parent = 0, pgrp = 0;
    if (rest >> state >> parent >> pgrp && pgrp == group && state != "Z") ++members;
  }
  return members;
}

struct Machine {
  AsioExecutor executor;
  testing::TempDir temp{"reliant-provisioner"};
  fs::path daemon = temp.path / "fake-daemon";
  std::unique_ptr<Scope> scope = std::make_unique<Scope>(executor);

  Machine() {
    // It writes what it holds open and what it was started with, then waits to be stopped
    // (as the shell: its command line, which adoption checks, stays the daemon's).
    std::ofstream(daemon) << "#!/bin/sh\nfor f in /proc/$$/fd/*; do readlink \"$f\"; done > "
                             "\"$HOME/fds\"\n"
                             "echo \"$HOME|$*|$GREETING\" > \"$HOME/started\"\n"
                             "sleep 300\n";
    ::chmod(daemon.c_str(), 0700);
  }
  LocalProvisionerOptions options() const {
    LocalProvisionerOptions o;
    o.root_dir = (temp.path / "managed").string();
    o.binary = daemon.string();
    o.stop_grace = milliseconds(500);
    return o;
  }
  template <class T>
  T wait(Task<T> task) {
    std::optional<T> out;
    scope->spawn(await_into(std::move(task), &out));
    bool expired = false;
    const TimerId deadline = executor.after(seconds(20), [&] { expired = true; });
    std::function<void()> tick;
    TimerId ticker = 0;
    tick = [&] { ticker = executor.after(milliseconds(10), tick); };
    tick();
    executor.run_until([&] { return expired || out.has_value(); });
    executor.cancel(deadline);
    executor.cancel(ticker);
    EXPECT_TRUE(out.has_value()) << "timed out";
    return std::move(*out);
  }
  static DaemonDeployment deployment() {
    DaemonDeployment d;
    d.daemon_id = "01DAEMONLOCAL";
    d.user_id = "u1";
    d.spec.name = "box";
    d.spec.permissions = PermissionProfile::read_only;
    d.spec.env = {{"GREETING", "hello"}};
    d.spec.labels = {{"pool", "cloud"}};
    return d;
  }
};

TEST(LocalProvisioner, StartsObservesAdoptsStopsAndRemovesADaemonProcess) {
  Machine m;
  auto provisioner = std::make_unique<LocalProvisioner>(m.executor, m.options());
  auto absent = m.wait(provisioner->observe("01DAEMONLOCAL"));
  ASSERT_TRUE(absent.has_value());
  EXPECT_EQ(absent->presence, PodState::absent);

  // What this process holds open, a listening socket say, stays out of the daemon: a server
  // restarted while the daemon runs on could not listen again.
  const fs::path held = m.temp.path / "held-open";
  std::ofstream(held) << "x";
  const int held_fd = ::open(held.c_str(), O_RDONLY);  // no O_CLOEXEC, on purpose
  ASSERT_GE(held_fd, 0);
  auto started = m.wait(provisioner->start(Machine::deployment()));
  ::close(held_fd);
  ASSERT_TRUE(started.has_value()) << started.error().message;
  EXPECT_EQ(started->presence, PodState::running);
  EXPECT_TRUE(started->address.starts_with("http://127.0.0.1:")) << started->address;
  const fs::path folder = m.temp.path / "managed" / "01DAEMONLOCAL";
  std::string line;
  for (int i = 0; i < 200 && line.empty(); ++i) {
    std::ifstream started_file(folder / "home" / "started");
    std::getline(started_file, line);
    if (line.empty()) ::usleep(10'000);
  }
  EXPECT_NE(line.find((folder / "home").string() + "|daemon start --managed --port "),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("--permissions read-only --labels pool=cloud --tool-env GREETING|hello"),
            std::string::npos)
      << line;
  std::stringstream fds;
  fds << std::ifstream(folder / "home" / "fds").rdbuf();
  EXPECT_EQ(fds.str().find("held-open"), std::string::npos) << fds.str();

  // A restarted control plane finds it running rather than starting another.
  provisioner = std::make_unique<LocalProvisioner>(m.executor, m.options());
  auto adopted = m.wait(provisioner->observe("01DAEMONLOCAL"));
  ASSERT_TRUE(adopted.has_value());
  EXPECT_EQ(adopted->presence, PodState::running);
  EXPECT_EQ(adopted->address, started->address);
  auto again = m.wait(provisioner->start(Machine::deployment()));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->address, started->address) << "not started twice";

  auto stopped = m.wait(provisioner->stop("01DAEMONLOCAL"));
  ASSERT_TRUE(stopped.has_value()) << stopped.error().message;
  auto after = m.wait(provisioner->observe("01DAEMONLOCAL"));
  EXPECT_EQ(after->presence, PodState::absent);
  EXPECT_TRUE(fs::exists(folder / "workspace")) << "a suspended daemon keeps its folder";
  auto removed = m.wait(provisioner->remove("01DAEMONLOCAL"));
  ASSERT_TRUE(removed.has_value());
  EXPECT_FALSE(fs::exists(folder));
}

TEST(LocalProvisioner, SaysHowItsDaemonEndedAndRefusesWhatItCannotRun) {
  Machine m;
  LocalProvisioner provisioner(m.executor, m.options());
  auto started = m.wait(provisioner.start(Machine::deployment()));
  ASSERT_TRUE(started.has_value()) << started.error().message;
  const fs::path folder = m.temp.path / "managed" / "01DAEMONLOCAL";
  pid_t pid = 0;
  std::ifstream(folder / "daemon.pid") >> pid;
  ASSERT_GT(pid, 0);
  // Once it wrote `started`, the two are the shell and its `sleep` (not a `readlink` before).
  for (int i = 0; i < 200 && !fs::exists(folder / "home" / "started"); ++i) ::usleep(10'000);
  for (int i = 0; i < 200 && group_members(pid) < 2; ++i) ::usleep(10'000);
  ASSERT_EQ(group_members(pid), 2) << "the daemon and its `sleep`";
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  std::optional<Result<ProvisionedDaemon>> seen;
  for (int i = 0; i < 200; ++i) {
    seen = m.wait(provisioner.observe("01DAEMONLOCAL"));
    if (seen->has_value() && (*seen)->presence != PodState::running) break;
    ::usleep(10'000);
  }
  ASSERT_TRUE(seen && seen->has_value());
  EXPECT_EQ((*seen)->presence, PodState::exited);
  EXPECT_EQ((*seen)->detail, "killed by signal 9");

  ManagedDaemonSpec image = Machine::deployment().spec;
  image.code.image = "ghcr.io/acme/daemon:1";
  auto refused = provisioner.preflight(image);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::failed_precondition);
  EXPECT_NE(refused.error().message.find("no container runtime"), std::string::npos);
  ManagedDaemonSpec comma = Machine::deployment().spec;
  comma.labels = {{"zones", "a,b"}};
  EXPECT_FALSE(provisioner.preflight(comma).has_value());
  auto bad = m.wait(provisioner.observe("../escape"));
  EXPECT_FALSE(bad.has_value()) << "an id never reaches a path";
  // The daemon's session outlived it (its `sleep`): removing it ends that too.
  ASSERT_EQ(group_members(pid), 1);
  ASSERT_TRUE(m.wait(provisioner.remove("01DAEMONLOCAL")).has_value());
  for (int i = 0; i < 200 && group_members(pid) != 0; ++i) ::usleep(10'000);
  EXPECT_EQ(group_members(pid), 0) << "process group " << pid << " outlived the removal";
}

}  // namespace
}  // namespace reliant

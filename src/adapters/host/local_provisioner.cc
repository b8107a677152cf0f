// LocalProvisioner: managed daemons as supervised processes (local_provisioner.h).
#include "adapters/host/local_provisioner.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "runtime/sleep.h"

extern char** environ;

namespace reliant {
namespace {

namespace fs = std::filesystem;

// Ids name folders: nothing but letters, digits, '-' and '_' may reach a path.
bool safe_id(const std::string& id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

pid_t read_pid(const fs::path& folder) {
  try {
    return static_cast<pid_t>(std::stol(read_text(folder / "daemon.pid")));
  } catch (...) {
    return 0;
  }
}

// Whether `pid` is alive and is the daemon of `folder` (a recycled pid is someone else's).
bool runs_daemon_of(pid_t pid, const fs::path& folder) {
  if (pid <= 0 || ::kill(pid, 0) != 0) return false;
  std::string cmdline = read_text("/proc/" + std::to_string(pid) + "/cmdline");
  std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
  return cmdline.find((folder / "workspace").string()) != std::string::npos;
}

// A free loopback port, as the kernel hands one out.
Result<int> free_port(const std::string& bind_address) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(ErrorCode::internal, std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  if (::inet_pton(AF_INET, bind_address.c_str(), &address.sin_addr) != 1) {
    ::close(fd);
    return fail(ErrorCode::invalid_argument, "bind address " + bind_address + " is not IPv4");
  }
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const int error = errno;
    ::close(fd);
    return fail(ErrorCode::unavailable, std::string("no free port: ") + std::strerror(error));
  }
  ::close(fd);
  return static_cast<int>(ntohs(address.sin_port));
}

std::string exit_detail(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "ended";
}

// Its own HOME (its identity, journal and logs apart from every other daemon's), this process's
// PATH, LANG and TZ, its dial key and commands token, and the spec's variables.
std::vector<std::string> daemon_environment(const DaemonDeployment& d, const fs::path& dir) {
  std::vector<std::string> env = {"HOME=" + (dir / "home").string()};
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry = *e;
    if (entry.starts_with("PATH=") || entry.starts_with("LANG=") || entry.starts_with("TZ=")) {
      env.emplace_back(entry);
    }
  }
  // Before the spec's variables: the first of two same-named ones is the one a process reads.
  if (!d.dial_key.empty()) env.push_back(std::string(kDialKeyVariable) + "=" + d.dial_key);
  if (!d.commands_token.empty())
    env.push_back(std::string(kCommandsTokenVariable) + "=" + d.commands_token);
  for (const auto& [key, value] : d.spec.env) env.push_back(key + "=" + value);
  return env;
}

}  // namespace

LocalProvisioner::LocalProvisioner(AsioExecutor& executor, LocalProvisionerOptions options)
    : executor_(executor), options_(std::move(options)) {
  RELIANT_ASSERT(!options_.root_dir.empty());
  if (options_.binary.empty()) {
    std::error_code ec;
    options_.binary = fs::read_symlink("/proc/self/exe", ec).string();
  }
}

LocalProvisioner::~LocalProvisioner() = default;

std::string LocalProvisioner::folder(const std::string& daemon_id) const {
  RELIANT_ASSERT(safe_id(daemon_id));
  return (fs::path(options_.root_dir) / daemon_id).string();
}

Result<void> LocalProvisioner::preflight(const ManagedDaemonSpec& spec) const {
  if (!spec.code.image.empty()) {
    return fail(ErrorCode::failed_precondition,
                "the local platform runs daemons as processes here: no container runtime works "
                "on this machine, so code.image cannot run; leave it out (or give code.binary)");
  }
  const std::string binary = spec.code.binary.empty() ? options_.binary : spec.code.binary;
  if (::access(binary.c_str(), X_OK) != 0) {
    return fail(ErrorCode::failed_precondition, "code.binary " + binary + " is not executable");
  }
  for (const auto& [key, value] : spec.labels) {
    if (key.find_first_of(",=") != std::string::npos || value.find(',') != std::string::npos) {
      return fail(ErrorCode::invalid_argument,
                  "label " + key + "=" + value +
                      ": the local platform passes labels as "
                      "k=v,k=v, so neither may hold ',' (nor the key '=')");
    }
  }
  return {};
}

ProvisionedDaemon LocalProvisioner::seen(const std::string& daemon_id) {
  const fs::path dir = folder(daemon_id);
  ProvisionedDaemon out;
  const std::string port = read_text(dir / "daemon.port");
  if (!port.empty()) out.address = "http://" + options_.bind_address + ":" + port;
  if (const auto child = children_.find(daemon_id); child != children_.end()) {
    int status = 0;
    const pid_t pid = child->second;
    const pid_t waited = ::waitpid(pid, &status, WNOHANG);
    if (waited == 0) {
      out.presence = PodState::running;
      return out;
    }
    children_.erase(child);  // `child` is gone from here on
    out.presence = PodState::exited;
    out.detail = waited == pid ? exit_detail(status) : "lost track of it";
    return out;
  }
  // Started by an earlier run of the control plane, perhaps.
  const pid_t pid = read_pid(dir);
  if (runs_daemon_of(pid, dir)) {
    out.presence = PodState::running;
  } else {
    out.presence = pid > 0 ? PodState::exited : PodState::absent;
    if (pid > 0) out.detail = "it ended while no control plane watched it";
  }
  return out;
}

Task<Result<ProvisionedDaemon>> LocalProvisioner::observe(std::string daemon_id) {
  if (!safe_id(daemon_id)) co_return fail(ErrorCode::invalid_argument, "bad daemon id");
  co_return seen(daemon_id);
}

Result<ProvisionedDaemon> LocalProvisioner::spawn(const DaemonDeployment& d) {
  const fs::path dir = folder(d.daemon_id);
  std::error_code ec;
  for (const char* sub : {"home", "workspace"}) fs::create_directories(dir / sub, ec);
  if (ec) return fail(ErrorCode::unavailable, "cannot make " + dir.string() + ": " + ec.message());
  auto port = free_port(options_.bind_address);
  if (!port) return fail(port.error());
  const std::string binary = d.spec.code.binary.empty() ? options_.binary : d.spec.code.binary;
  std::vector<std::string> args = {binary};
  for (auto& arg :
       managed_daemon_arguments(d, {*port, options_.bind_address, (dir / "workspace").string()})) {
    args.push_back(std::move(arg));
  }
  std::vector<std::string> env = daemon_environment(d, dir);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  const std::string log = (dir / "daemon.log").string();
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  // Nothing else of this process: an inherited listening socket (the monolith's API or daemon
  // port) would outlive it in the daemon, and a restarted server could not listen again.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);  // its own session: killed whole
  pid_t pid = 0;
  const int spawned =
      ::posix_spawn(&pid, binary.c_str(), &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0) {
    return fail(ErrorCode::unavailable, "cannot start " + binary + ": " + std::strerror(spawned));
  }
  children_[d.daemon_id] = pid;
  std::ofstream(dir / "daemon.pid") << pid << "\n";
  std::ofstream(dir / "daemon.port") << *port;
  return ProvisionedDaemon{PodState::running,
                           "http://" + options_.bind_address + ":" + std::to_string(*port), ""};
}

Task<Result<ProvisionedDaemon>> LocalProvisioner::start(DaemonDeployment deployment) {
  if (!safe_id(deployment.daemon_id)) co_return fail(ErrorCode::invalid_argument, "bad daemon id");
  if (auto ok = preflight(deployment.spec); !ok) co_return fail(ok.error());
  ProvisionedDaemon now = seen(deployment.daemon_id);
  if (now.presence == PodState::running) co_return now;
  co_return spawn(deployment);
}

Task<Result<void>> LocalProvisioner::stop(std::string daemon_id) {
  if (!safe_id(daemon_id)) co_return fail(ErrorCode::invalid_argument, "bad daemon id");
  const fs::path dir = folder(daemon_id);
  const auto child = children_.find(daemon_id);
  const pid_t pid = child != children_.end() ? child->second : read_pid(dir);
  const bool ours = child != children_.end();
  auto gone = [&] {
    if (ours) {
      int status = 0;
      return ::waitpid(pid, &status, WNOHANG) != 0;
    }
    return !runs_daemon_of(pid, dir);
  };
  if (pid > 0 && !gone()) {
    ::kill(-pid, SIGTERM);  // its session's process group: the daemon and its tools
    const SteadyInstant deadline = executor_.steady_now() + options_.stop_grace;
    while (!gone() && executor_.steady_now() < deadline) {
      co_await sleep(executor_, milliseconds(50));
    }
    if (!gone()) {
      ::kill(-pid, SIGKILL);
      const SteadyInstant killed_by = executor_.steady_now() + seconds(5);
      while (!gone() && executor_.steady_now() < killed_by) {
        co_await sleep(executor_, milliseconds(20));
      }
      if (!gone())
        co_return fail(ErrorCode::unavailable,
                       "it outlived SIGKILL (pid " + std::to_string(pid) + ")");
    }
  }
  // What is left of its session (a tool's process the daemon did not outlive) goes with it.
  if (pid > 1) ::kill(-pid, SIGKILL);
  children_.erase(daemon_id);
  std::error_code ec;
  fs::remove(dir / "daemon.pid", ec);
  co_return Result<void>();
}

Task<Result<void>> LocalProvisioner::remove(std::string daemon_id) {
  Task<Result<void>> stopping = stop(daemon_id);
  Result<void> stopped = co_await stopping;
  if (!stopped) co_return stopped;
  std::error_code ec;
  fs::remove_all(folder(daemon_id), ec);
  if (ec) co_return fail(ErrorCode::unavailable, "cannot remove its folder: " + ec.message());
  co_return Result<void>();
}

}  // namespace reliant

// `reliant daemon register|start|status|stop|logs` (spec S0.3–S0.10): the tools daemon on a user's
// machine. `start` resolves the gateway URL(s) and credentials, then runs the Daemon component
// on a real host and gRPC; `--background` re-runs itself detached with a PID file and a log.
#include "app/daemon_commands.h"
#include "app/logging.h"
#include "app/process_lifecycle.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>
#include <utility>

#include "adapters/asio/asio_executor.h"
#include "adapters/grpc/grpc_transport.h"
#include "adapters/host/posix_host.h"
#include "adapters/llm/outbound_http.h"
#include "app/browser_login.h"
#include "app/daemon_command_commands.h"
#include "app/daemon_files.h"
#include "app/file_request_journal.h"
#include "app/managed_daemon_commands.h"
#include "app/mcp_files.h"
#include "app/secure_random.h"
#include "app/text_lists.h"
#include "app/version.h"
#include "app/workspace_options.h"
#include "core/managed_dial_key.h"
#include "core/personal_access_token.h"
#include "core/provisioner.h"
#include "services/daemon/daemon.h"
#include "services/daemon/http_command_source.h"
#include "services/daemon/mcp/mcp_servers.h"

namespace reliant {
namespace {

constexpr int kNotRunning = 3;  // `daemon status`, as LSB init scripts say it

struct GlobalOptions {
  std::string server = "https://reliantapi.com";
  std::string gateway;
  CLI::Option* server_option = nullptr;  // to tell an explicit --server from the default

  bool server_given() const { return server_option != nullptr && server_option->count() > 0; }
};

struct StartOptions {
  std::string name;
  int port = 9190;
  std::string grpc_url;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  std::string tls_mode = "infer";
  bool token_from_stdin = false;
  std::string user_id;  // the user the daemon must serve; empty: its credentials' user
  bool background = false;
  bool managed = false;
  std::string listen_address = "0.0.0.0";  // managed: where gateways dial it
  std::string permissions = "execution";   // or read-only
  std::string commands_url;                // managed, commands enabled: where it polls
  std::string commands_ca_file;
  std::string labels;
  std::string type = "local";
  std::string working_dir;
  double heartbeat_s = 15;
  double stale_s = 30;
  double backoff_max_s = 30;
  WorkspaceFlags workspace;
};

std::string host_name() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

// https://reliantapi.com → https://gateway.reliantapi.com (spec S0.7); the port is kept, a path
// dropped. An address or localhost names no domain to put `gateway.` in front of: that needs
// --gateway.
Result<std::string> derive_gateway(const std::string& server) {
  const auto scheme_end = server.find("://");
  const std::string scheme =
      scheme_end == std::string::npos ? "" : server.substr(0, scheme_end + 3);
  std::string authority = server.substr(scheme.size());
  authority = authority.substr(0, authority.find('/'));
  const std::string host =
      authority.substr(0, authority.rfind(':') == std::string::npos || authority.front() == '['
                              ? authority.size()
                              : authority.rfind(':'));
  const bool address =
      !host.empty() &&
      (host.front() == '[' || host.find_first_not_of("0123456789.") == std::string::npos);
  if (host.empty() || address || host == "localhost") {
    return fail(ErrorCode::invalid_argument,
                "cannot derive a gateway from --server " + server +
                    " (it names no domain to prefix with gateway.): give --gateway or "
                    "RELIANT_GATEWAY_URL");
  }
  return scheme + "gateway." + authority;
}

// The gateways a dialing daemon tries: --grpc-url, else --gateway, else derived from --server.
Result<std::vector<std::string>> gateway_urls(const GlobalOptions& g, const std::string& grpc_url) {
  if (!grpc_url.empty()) return split_list(grpc_url);
  if (!g.gateway.empty()) return split_list(g.gateway);
  auto derived = derive_gateway(g.server);
  if (!derived) return fail(derived.error());
  return std::vector<std::string>{*derived};
}

Result<std::string> read_token_from_stdin() {
  std::string token;
  std::getline(std::cin, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (!looks_like_pat(token)) {
    return fail(ErrorCode::invalid_argument,
                "stdin does not hold a personal access token (expected rlnt_pat_…)");
  }
  return token;
}

int say(const Error& error) {
  std::fprintf(stderr, "error: %s\n", error.message.c_str());
  return 1;
}

// The machine's login (`reliant auth login`) when it is for the server this command talks to:
// the default server, or the one named with --server.
std::optional<DaemonCredentials> usable_login(const DaemonPaths& paths, const GlobalOptions& g) {
  auto login = load_credentials(paths.login);
  if (!login || !*login || (*login)->token.empty()) return std::nullopt;
  if (g.server_given() && (*login)->server != g.server) return std::nullopt;
  return **login;
}

// A token of the daemon's own, made with the login's (spec S1.16: a machine logged in but not
// registered registers itself), saved as the daemon's credentials.
Result<DaemonCredentials> register_with_login(const DaemonPaths& paths,
                                              const DaemonCredentials& login) {
  auto issued = create_token_with(login.server, login.token, "daemon " + host_name());
  if (!issued) return fail(issued.error());
  DaemonCredentials credentials{issued->token, issued->user_id, login.server, login.email,
                                issued->token_id};
  if (auto saved = save_credentials(paths.credentials, credentials); !saved)
    return fail(saved.error());
  return credentials;
}

// The credentials file, and what "register again" means on this machine: a new token made with
// the machine's login (`reliant auth login`); without one, a daemon cannot get a token by itself.
class FileCredentials final : public daemon::CredentialStore {
 public:
  FileCredentials(DaemonPaths paths, DaemonCredentials credentials, DaemonIdentityFile identity,
                  std::optional<DaemonCredentials> login)
      : paths_(std::move(paths)),
        credentials_(std::move(credentials)),
        identity_(std::move(identity)),
        login_(std::move(login)) {}

  std::optional<std::string> token() const override {
    if (credentials_.token.empty()) return std::nullopt;
    return credentials_.token;
  }
  void discard_token() override {
    spdlog::warn("the gateway refused the daemon's token: deleting {}", paths_.credentials);
    credentials_.token.clear();
    if (auto ok = remove_file_if_exists(paths_.credentials); !ok)
      spdlog::error("{}", ok.error().message);
  }
  Task<Result<std::string>> reregister() override {
    if (login_) {
      // One blocking call on the daemon's loop: it is disconnected meanwhile anyway.
      auto registered = register_with_login(paths_, *login_);
      if (registered) {
        spdlog::info("registered again with the login of {}", login_->server);
        credentials_ = *registered;
        co_return registered->token;
      }
      spdlog::warn("cannot register again with the login: {}", registered.error().message);
      // The api server down or busy: the daemon retries with backoff. A refused login needs
      // a person.
      if (registered.error().code != ErrorCode::unauthenticated &&
          registered.error().code != ErrorCode::failed_precondition)
        co_return fail(registered.error());
    }
    co_return fail(ErrorCode::failed_precondition,
                   "the daemon's credentials were refused (revoked or expired?) and it cannot "
                   "register again without a login: run `reliant auth login` or `reliant daemon "
                   "register`, or pipe a new token to `reliant daemon start --token`");
  }
  std::string daemon_id() const override { return identity_.daemon_id; }
  void save_daemon_id(const std::string& id) override {
    identity_.daemon_id = id;
    if (auto ok = save_identity(paths_.identity, identity_); !ok)
      spdlog::error("{}", ok.error().message);
  }
  std::uint64_t next_registration_seq(Instant now) override {
    identity_.registration_seq = daemon::registration_seq_after(identity_.registration_seq, now);
    if (auto ok = save_identity(paths_.identity, identity_); !ok)
      spdlog::error("{}", ok.error().message);
    return identity_.registration_seq;
  }

 private:
  DaemonPaths paths_;
  DaemonCredentials credentials_;
  DaemonIdentityFile identity_;
  std::optional<DaemonCredentials> login_;
};

class LoggingObserver final : public daemon::DaemonObserver {
 public:
  explicit LoggingObserver(AsioExecutor& executor) : executor_(executor) {}
  void on_registered(const std::string& id, const std::string& gateway) override {
    spdlog::info("connected to {} as daemon {}", gateway, id);
  }
  void on_gateway_leaving(const std::string& gateway) override {
    spdlog::info("gateway {} is shutting down; connecting to the next gateway at once", gateway);
    leaving_ = true;
  }
  void on_disconnected() override {
    if (!std::exchange(leaving_, false)) spdlog::warn("disconnected; reconnecting with backoff");
  }
  void on_connect_failed(const std::string& gateway, const Error& why) override {
    spdlog::warn("cannot reach gateway {}: {}", gateway, why.message);
  }
  void on_auth_failure() override { spdlog::warn("authentication refused"); }
  void on_fatal(const Error& why) override {
    spdlog::error("{}", why.message);
    failed = true;
    executor_.stop();
  }
  bool failed = false;

 private:
  AsioExecutor& executor_;
  bool leaving_ = false;  // the gateway said it is going away: no backoff follows
};

std::optional<pid_t> running_pid(const std::string& pid_file) {
  std::ifstream in(pid_file);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return std::nullopt;
  return static_cast<pid_t>(pid);
}

// Re-runs this command detached: a new session, stdin from /dev/null, output to the log.
int start_in_background(const DaemonPaths& paths, int argc, char** argv) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(paths.log).parent_path(), ec);
  const pid_t child = ::fork();
  if (child < 0) return say(Error{ErrorCode::internal, "fork failed"});
  if (child == 0) {
    ::setsid();
    const int null = ::open("/dev/null", O_RDONLY);
    const int log = ::open(paths.log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (null >= 0) ::dup2(null, STDIN_FILENO);
    if (log >= 0) {
      ::dup2(log, STDOUT_FILENO);
      ::dup2(log, STDERR_FILENO);
    }
    std::vector<char*> args;
    for (int i = 0; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg == "--background" || arg == "--token") continue;  // the token is saved by now
      args.push_back(argv[i]);
    }
    args.push_back(nullptr);
    ::execv("/proc/self/exe", args.data());
    std::_Exit(127);
  }
  // Give it a moment: a daemon that cannot even start should say so here, not in a log.
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    int status = 0;
    if (::waitpid(child, &status, WNOHANG) == child) {
      std::fprintf(stderr, "error: the daemon exited at once (status %d); see %s\n",
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1, paths.log.c_str());
      return 1;
    }
  }
  std::printf("daemon started in the background (pid %d); logs: %s\n", child, paths.log.c_str());
  return 0;
}

// What the daemon component is told: where it dials or listens, who it says it is, its timings.
daemon::DaemonConfig daemon_config(const StartOptions& o, std::vector<std::string> gateways,
                                   const std::string& working_dir, DaemonType type,
                                   std::map<std::string, std::string> labels) {
  daemon::DaemonConfig config;
  config.gateways = std::move(gateways);
  if (o.managed) config.listen_address = o.listen_address + ":" + std::to_string(o.port);
  config.read_only = o.permissions == "read-only";
  config.identity.name = o.name.empty() ? host_name() : o.name;
  // Managed daemons are cloud daemons.
  config.identity.type = o.managed ? DaemonType::cloud : type;
  config.identity.labels = std::move(labels);
  config.identity.hostname = host_name();
  config.identity.platform = "linux";
  config.identity.working_dir = working_dir;
  config.identity.version = version_string();
  config.heartbeat_interval = milliseconds(static_cast<std::int64_t>(o.heartbeat_s * 1000));
  config.stale_after = milliseconds(static_cast<std::int64_t>(o.stale_s * 1000));
  config.reconnect.max = milliseconds(static_cast<std::int64_t>(o.backoff_max_s * 1000));
  return config;
}

// The secrets a managed daemon's control plane hands it in the environment (its dial key, its
// commands token): taken out at start, so that no process of its tools inherits them, and put
// back only for a restart's exec.
struct EnvironmentSecrets {
  std::map<std::string, std::string, std::less<>> values;

  std::string get(std::string_view name) const {
    const auto it = values.find(name);
    return it == values.end() ? std::string() : it->second;
  }
  void put_back() const {
    for (const auto& [name, value] : values) ::setenv(name.c_str(), value.c_str(), 1);
  }
};
EnvironmentSecrets take_environment_secrets() {
  EnvironmentSecrets secrets;
  for (const std::string_view name : {kDialKeyVariable, kCommandsTokenVariable}) {
    const std::string variable(name);
    const char* value = std::getenv(variable.c_str());
    if (value != nullptr && *value != '\0') secrets.values[variable] = value;
    ::unsetenv(variable.c_str());
  }
  return secrets;
}

// A managed daemon with commands enabled (seed 004) polls the api with the token its control
// plane put in the environment; a restart command runs the process afresh with the same
// secrets.
struct CommandsPolling {
  std::optional<llm::OutboundHttpClient> http;
  std::optional<daemon::HttpCommandSource> source;
};
Result<void> poll_commands(const StartOptions& o, const EnvironmentSecrets& secrets,
                           AsioExecutor& executor, CommandsPolling& polling,
                           daemon::DaemonConfig& config) {
  if (o.commands_url.empty()) return {};
  const std::string token = secrets.get(kCommandsTokenVariable);
  if (token.empty()) {
    return fail(ErrorCode::invalid_argument,
                "--commands-url needs the daemon's commands token in " +
                    std::string(kCommandsTokenVariable));
  }
  polling.http.emplace(executor, o.commands_ca_file);
  polling.source.emplace(*polling.http, o.commands_url, token);
  config.commands = &*polling.source;
  config.restart = [secrets] {
    secrets.put_back();
    restart_this_process();
  };
  spdlog::info("commands enabled: polling {}", o.commands_url);
  return {};
}

// What a managed daemon's control plane hands it: its dial key, and with --commands-url its
// commands token.
Result<void> use_control_plane_secrets(const StartOptions& o, AsioExecutor& executor,
                                       CommandsPolling& polling, daemon::DaemonConfig& config) {
  if (!o.managed && o.commands_url.empty()) return {};
  const EnvironmentSecrets secrets = take_environment_secrets();
  config.dial_key = secrets.get(kDialKeyVariable);
  return poll_commands(o, secrets, executor, polling, config);
}

int run_start(const GlobalOptions& g, const StartOptions& o, int argc, char** argv) {
  auto paths = daemon_paths();
  if (!paths) return say(paths.error());
  if (auto pid = running_pid(paths->pid); pid && *pid != ::getpid()) {
    return say(Error{ErrorCode::already_exists, "a daemon is already running (pid " +
                                                    std::to_string(*pid) +
                                                    "); stop it with `reliant daemon stop`"});
  }
  // Credentials: --token (stdin) overrides the file; then the file; then a token made with the
  // login; nothing → a precise error. A managed daemon needs none: the gateway that dials it
  // vouches for it.
  const std::optional<DaemonCredentials> login = o.managed ? std::nullopt : usable_login(*paths, g);
  DaemonCredentials credentials;
  if (o.token_from_stdin) {
    auto token = read_token_from_stdin();
    if (!token) return say(token.error());
    credentials.token = *token;
    credentials.user_id = o.user_id;
    credentials.server = g.server;
    if (auto ok = save_credentials(paths->credentials, credentials); !ok) return say(ok.error());
  } else if (!o.managed) {
    auto stored = load_credentials(paths->credentials);
    if (!stored) return say(stored.error());
    if (*stored) {
      credentials = **stored;
    } else if (login) {
      std::printf("logged in to %s but this daemon is not registered: registering it\n",
                  login->server.c_str());
      auto registered = register_with_login(*paths, *login);
      if (!registered) return say(registered.error());
      credentials = *registered;
    } else {
      return say(Error{ErrorCode::failed_precondition,
                       "no daemon credentials in " + paths->credentials +
                           ": run `reliant daemon register` (or `reliant auth login`), or pipe a "
                           "token: echo rlnt_pat_… | reliant daemon start --token"});
    }
  }
  auto identity = load_identity(paths->identity);
  if (!identity) return say(identity.error());
  if (!o.labels.empty()) {
    auto labels = parse_labels(o.labels);
    if (!labels) return say(labels.error());
    identity->labels = *labels;  // kept in daemon.json for the next start
    if (auto ok = save_identity(paths->identity, *identity); !ok) return say(ok.error());
  }
  if (o.permissions != "execution" && o.permissions != "read-only") {
    return say(Error{ErrorCode::invalid_argument,
                     "--permissions must be execution or read-only, not " + o.permissions});
  }
  const std::optional<DaemonType> type = daemon_type_named(o.type);
  if (!type) return say(Error{ErrorCode::invalid_argument, "--type must be local or cloud"});
  auto tls_mode = parse_tls_mode(o.tls_mode);
  if (!tls_mode) return say(tls_mode.error());
  std::vector<std::string> gateways;
  if (!o.managed || !o.grpc_url.empty()) {
    auto urls = gateway_urls(g, o.grpc_url);
    if (!urls) return say(urls.error());
    gateways = std::move(*urls);
  }
  if (gateways.empty() && !o.managed)
    return say(Error{ErrorCode::invalid_argument, "no gateway URL"});
  for (const auto& url : gateways) {
    if (auto ok = parse_dial_address(url, *tls_mode); !ok) return say(ok.error());
  }
  if (o.background) return start_in_background(*paths, argc, argv);

  AsioExecutor executor;
  GrpcTransportOptions transport_options;
  transport_options.role = GrpcRole::daemon;
  transport_options.tls_mode = *tls_mode;
  transport_options.tls_ca_file = o.tls_ca;
  transport_options.tls_cert_file = o.tls_cert;
  transport_options.tls_key_file = o.tls_key;
  auto transport = GrpcTransport::create(executor, transport_options);
  if (!transport) return say(transport.error());
  const std::string working_dir = o.working_dir.empty()
                                      ? std::filesystem::current_path().string()
                                      : std::filesystem::absolute(o.working_dir).string();
  // What the daemon keeps for itself (~/.reliant, its credentials) stays out of its file
  // tools' reach, also when the workspace holds it.
  auto host_config = host_options(working_dir, o.workspace, private_directories(""));
  if (!host_config) return say(host_config.error());
  // Tools' orphans (a `setsid` child, a double fork) are adopted here rather than by init, so
  // that they are reaped and can be found and killed with their tool.
  if (!enable_child_subreaper()) spdlog::warn("cannot become a child subreaper");
  PosixHost host(executor, *host_config);
  auto journal = FileRequestJournal::open(paths->journal);
  if (!journal) return say(journal.error());
  Random random(secure_random_u64());
  SpdlogLog log;
  Env env{executor, random, nullptr, transport->get(), nullptr, &host, &log};
  daemon::DaemonConfig config = daemon_config(o, gateways, working_dir, *type, identity->labels);
  // --user-id over the user the credentials were issued to (seed 001's credential order).
  config.expected_user_id = !o.user_id.empty() ? o.user_id : credentials.user_id;
  FileCredentials store(*paths, credentials, *identity, login);
  daemon::ToolSet tools = daemon::make_builtin_tools();
  if (config.read_only) tools.keep_read_only();
  // MCP servers from the mcp.json layers, started when a call first needs one.
  llm::OutboundHttpClient mcp_http(executor);  // servers of type http and sse
  mcp::McpServersOptions mcp_options;
  mcp_options.http = &mcp_http;
  mcp_options.log_dir = std::filesystem::path(paths->log).parent_path().string();
  mcp_options.working_dir = working_dir;
  mcp::McpServers mcp_servers(env, host, mcp_options);
  configure_mcp_servers(mcp_servers, working_dir);
  if (!config.read_only) tools.attach_mcp(&mcp_servers);  // MCP servers run anything
  LoggingObserver observer(executor);
  CommandsPolling commands;
  if (auto taken = use_control_plane_secrets(o, executor, commands, config); !taken)
    return say(taken.error());
  { std::ofstream(paths->pid) << ::getpid() << "\n"; }
  StopOnSignals stop_on_signals(executor);
  std::string dialing;
  for (const auto& url : gateways) dialing += (dialing.empty() ? "" : ",") + url;
  spdlog::info("daemon '{}' ({}) in {}, gateways: {}; file tools reach {}", config.identity.name,
               to_string(config.identity.type), working_dir,
               dialing.empty() ? "none (managed: gateways dial in)" : dialing,
               describe_workspace(*host_config));
  spdlog::info("the daemon's tools' processes are tracked {}", host.process_tracking());
  {
    daemon::Daemon component(env, config, store, **journal, tools, &observer);
    if (o.managed) {
      if (auto listening = component.listen(); !listening) return say(listening.error());
      spdlog::info("managed daemon: waiting for gateways on {}", config.listen_address);
    }
    executor.run();
  }
  if (running_pid(paths->pid) == ::getpid()) (void)remove_file_if_exists(paths->pid);
  return observer.failed ? 1 : 0;
}

int run_register(const GlobalOptions& g, bool token_from_stdin, bool no_browser) {
  auto paths = daemon_paths();
  if (!paths) return say(paths.error());
  if (token_from_stdin) {
    auto token = read_token_from_stdin();
    if (!token) return say(token.error());
    if (auto ok =
            save_credentials(paths->credentials, DaemonCredentials{*token, "", g.server, "", ""});
        !ok)
      return say(ok.error());
    std::printf("credentials saved to %s\n", paths->credentials.c_str());
    return 0;
  }
  // Signed in already: the login makes the daemon's token. Otherwise sign in through the
  // browser first (spec S0.3), keeping that login for later registrations.
  std::optional<DaemonCredentials> login = usable_login(*paths, g);
  if (!login) {
    BrowserLoginOptions browser;
    browser.server = g.server;
    browser.token_name = "cli login";
    browser.open_browser = !no_browser;
    auto issued = browser_login(browser);
    if (!issued) return say(issued.error());
    login = DaemonCredentials{issued->token, issued->user_id, g.server, issued->email,
                              issued->token_id};
    if (auto saved = save_credentials(paths->login, *login); !saved) return say(saved.error());
  }
  auto registered = register_with_login(*paths, *login);
  if (!registered) return say(registered.error());
  std::printf("daemon registered for %s on %s; credentials saved to %s\n",
              login->email.empty() ? login->user_id.c_str() : login->email.c_str(),
              login->server.c_str(), paths->credentials.c_str());
  return 0;
}

int run_status(const GlobalOptions& g) {
  auto paths = daemon_paths();
  if (!paths) return say(paths.error());
  auto credentials = load_credentials(paths->credentials);
  auto identity = load_identity(paths->identity);
  const auto pid = running_pid(paths->pid);
  std::printf("daemon:      %s\n",
              pid ? ("running (pid " + std::to_string(*pid) + ")").c_str() : "not running");
  std::printf(
      "credentials: %s\n",
      !credentials ? credentials.error().message.c_str()
      : !*credentials
          ? ("none (" + paths->credentials + ")").c_str()
          : (paths->credentials + " (" + pat_display_prefix((*credentials)->token) + "…)").c_str());
  if (identity) {
    std::printf("daemon id:   %s\n",
                identity->daemon_id.empty() ? "(not registered yet)" : identity->daemon_id.c_str());
    std::string labels;
    for (const auto& [k, v] : identity->labels) labels += (labels.empty() ? "" : ",") + k + "=" + v;
    std::printf("labels:      %s\n", labels.empty() ? "(none)" : labels.c_str());
  }
  std::printf("server:      %s\n", g.server.c_str());
  auto gateways = gateway_urls(g, "");
  std::string dialed;
  for (const auto& url : gateways ? *gateways : std::vector<std::string>{})
    dialed += (dialed.empty() ? "" : ",") + url;
  std::printf("gateway:     %s\n",
              gateways ? (dialed + (g.gateway.empty() ? " (derived from the server)" : "")).c_str()
                       : gateways.error().message.c_str());
  std::printf("log:         %s\n", paths->log.c_str());
  return pid ? 0 : kNotRunning;
}

int run_stop(bool force) {
  auto paths = daemon_paths();
  if (!paths) return say(paths.error());
  const auto pid = running_pid(paths->pid);
  if (!pid) {
    std::printf("the daemon is not running\n");
    return 0;
  }
  ::kill(*pid, force ? SIGKILL : SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (::kill(*pid, 0) != 0) {
      (void)remove_file_if_exists(paths->pid);
      std::printf("daemon (pid %d) stopped\n", *pid);
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return say(Error{ErrorCode::timeout, "the daemon (pid " + std::to_string(*pid) +
                                           ") did not stop within 10 s; use --force"});
}

int run_logs(bool follow, int lines) {
  auto paths = daemon_paths();
  if (!paths) return say(paths.error());
  std::ifstream in(paths->log);
  if (!in) return say(Error{ErrorCode::not_found, "no log at " + paths->log});
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (static_cast<int>(tail.size()) > lines) tail.pop_front();
  }
  for (const auto& l : tail) std::printf("%s\n", l.c_str());
  std::fflush(stdout);
  while (follow) {
    in.clear();
    while (std::getline(in, line)) std::printf("%s\n", line.c_str());
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return 0;
}

}  // namespace

namespace {

// What a managed daemon's control plane starts it with.
void add_managed_start_options(CLI::App& start, StartOptions& o) {
  start.add_flag("--managed", o.managed,
                 "A managed cloud daemon: gateways dial it on --port (no credentials needed)");
  start.add_option("--port", o.port, "Local daemon listen port (managed cloud daemons)")
      ->envname("TOOLS_DAEMON_PORT")
      ->capture_default_str();
  start
      .add_option("--listen-address", o.listen_address,
                  "Where a managed daemon listens for gateways (with --port)")
      ->capture_default_str();
  start
      .add_option("--permissions", o.permissions,
                  "Permission profile: execution, or read-only (tools that only read)")
      ->capture_default_str();
  start.add_option("--commands-url", o.commands_url,
                   "Commands enabled: the api it polls for commands, with the token in "
                   "RELIANT_COMMANDS_TOKEN (its control plane sets both)");
  start.add_option("--commands-ca-file", o.commands_ca_file,
                   "PEM roots to check the commands api's certificate with (default: the "
                   "system's)");
}

void add_register_command(CLI::App& daemon, std::shared_ptr<GlobalOptions> global, int& exit_code) {
  auto token_for_register = std::make_shared<bool>(false);
  auto no_browser = std::make_shared<bool>(false);
  auto* reg = daemon.add_subcommand("register", "Create and save this machine's credentials");
  reg->add_flag("--token", *token_for_register, "Read a PAT from stdin instead of browser auth");
  reg->add_flag("--no-browser", *no_browser, "Print the sign-in URL instead of opening it");
  reg->callback([global, token_for_register, no_browser, &exit_code] {
    exit_code = run_register(*global, *token_for_register, *no_browser);
  });
}

}  // namespace

void add_daemon_commands(CLI::App& app, int& exit_code, int argc, char** argv) {
  auto global = std::make_shared<GlobalOptions>();
  global->server_option = app.add_option("--server", global->server, "API server URL")
                              ->envname("RELIANT_SERVER_URL")
                              ->capture_default_str();
  app.add_option("--gateway", global->gateway, "Gateway URL (default: derived from --server)")
      ->envname("RELIANT_GATEWAY_URL");
  auto* daemon = app.add_subcommand("daemon", "The tools daemon on this machine");
  daemon->require_subcommand(1);
  add_managed_daemon_commands(*daemon, exit_code);
  add_daemon_command_commands(*daemon, exit_code);

  add_register_command(*daemon, global, exit_code);

  auto o = std::make_shared<StartOptions>();
  auto* start = daemon->add_subcommand("start", "Connect to the gateway and serve tool requests");
  start->add_option("--name", o->name, "Human-friendly daemon name (default: hostname)");
  start
      ->add_option("--grpc-url", o->grpc_url,
                   "Gateway URL, or a comma-separated list tried in turn on reconnect")
      ->envname("DAEMON_GRPC_URL");
  start->add_option("--tls-cert", o->tls_cert, "TLS certificate file path")
      ->envname("TLS_CERT_FILE");
  start->add_option("--tls-key", o->tls_key, "TLS key file path")->envname("TLS_KEY_FILE");
  start->add_option("--tls-ca", o->tls_ca, "PEM roots to verify the gateway with (tls mode)");
  start->add_option("--tls-mode", o->tls_mode, "tls, insecure_tls_skip_verify or h2c")
      ->envname("DAEMON_TLS_MODE")
      ->capture_default_str();
  start->add_flag("--token", o->token_from_stdin, "Read a PAT from stdin instead of browser auth");
  start
      ->add_option("--user-id", o->user_id,
                   "The user this daemon serves: a gateway that registers it for another user "
                   "(a token of someone else's) is refused")
      ->envname("RELIANT_USER_ID");
  start->add_flag("--background", o->background, "Run in the background (PID and log files)");
  start->add_option("--labels", o->labels, "Labels for daemon selection: key=value,…");
  start->add_option("--type", o->type, "local or cloud")->capture_default_str();
  add_managed_start_options(*start, *o);
  start->add_option("--working-dir", o->working_dir, "Where tools run (default: here)");
  add_workspace_flags(*start, o->workspace);
  start->add_option("--heartbeat-interval", o->heartbeat_s, "Seconds between heartbeats")
      ->capture_default_str();
  start
      ->add_option("--stale-timeout", o->stale_s,
                   "Seconds without a word from the gateway before reconnecting")
      ->capture_default_str();
  start->add_option("--backoff-max", o->backoff_max_s, "Longest wait between reconnects (s)")
      ->capture_default_str();
  start->callback(
      [global, o, &exit_code, argc, argv] { exit_code = run_start(*global, *o, argc, argv); });

  auto* status = daemon->add_subcommand("status", "Whether the daemon runs, and its identity");
  status->callback([global, &exit_code] { exit_code = run_status(*global); });
  auto force = std::make_shared<bool>(false);
  auto* stop = daemon->add_subcommand("stop", "Stop the daemon");
  stop->add_flag("--force", *force, "SIGKILL instead of a graceful stop");
  stop->callback([force, &exit_code] { exit_code = run_stop(*force); });
  auto follow = std::make_shared<bool>(false);
  auto lines = std::make_shared<int>(100);
  auto* logs = daemon->add_subcommand("logs", "Print the daemon's log");
  logs->add_flag("--follow,-f", *follow, "Keep printing new lines");
  logs->add_option("--lines,-n", *lines, "How many of the last lines")->capture_default_str();
  logs->callback([follow, lines, &exit_code] { exit_code = run_logs(*follow, *lines); });
}

}  // namespace reliant

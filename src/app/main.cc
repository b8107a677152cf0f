// `reliant`: the one binary for every role. Subcommands arrive with the issues that build each
// role (server api|worker|gateway, daemon, monolith, chat).
#include <cstdio>
#include <cstdlib>
#include <string>

#include <absl/synchronization/mutex.h>
#include <CLI/CLI.hpp>

#include "app/admin_commands.h"
#include "app/api_command.h"
#include "app/auth_commands.h"
#include "app/cel_command.h"
#include "app/chat_command.h"
#include "app/control_plane_command.h"
#include "app/daemon_commands.h"
#include "app/gateway_command.h"
#include "app/logging.h"
#include "app/mcp_command.h"
#include "app/monolith_command.h"
#include "app/preset_commands.h"
#include "app/provider_key_commands.h"
#include "app/secret_arguments.h"
#include "app/tool_call_command.h"
#include "app/trigger_commands.h"
#include "app/version.h"
#include "app/worker_command.h"
#include "app/workflow_commands.h"

#ifdef RELIANT_JEMALLOC
// jemalloc's options, read when it starts. A thread of its own gives freed pages back once
// they have gone unused for the decay time (10 s), idle or not: without it pages go back only
// as the process allocates, and a server quiet after a burst would keep its peak.
extern "C" {
// NOLINTNEXTLINE: the name jemalloc looks for.
const char* malloc_conf = "background_thread:true";
}
#endif

int main(int original_argc, char** original_argv) {
  // Debian builds Abseil without NDEBUG, which leaves its mutexes' deadlock detection on: every
  // lock inside gRPC also updates a graph of lock orders, on every message of every call
  // (callgrind shows it in a tools daemon's tool calls). Release builds of Abseil have it off;
  // the ThreadSanitizer tree still checks lock orders.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Before anything reads them: the parser gets copies, and a secret flag's value leaves the
  // process's visible command line (ps, /proc/PID/cmdline).
  reliant::ScrubbedArguments arguments =
      reliant::scrub_secret_arguments(original_argc, original_argv, reliant::kSecretFlags);
  const int argc = arguments.argc();
  char** argv = arguments.argv.data();
  CLI::App app{"Reliant: an AI software-engineering platform"};
  app.require_subcommand(1);
  int exit_code = 0;
  std::string log_format = "text";
  app.add_option("--log-format", log_format, "Log lines as text or json (every role)")
      ->envname("LOG_FORMAT")
      ->capture_default_str();
  app.fallthrough();  // `reliant daemon start --log-format json` works as well as before the
                      // command
  // Before any command runs, so its first line is already in the chosen format.
  app.parse_complete_callback([&log_format, &arguments] {
    if (auto logging = reliant::configure_logging(log_format); !logging) {
      std::fprintf(stderr, "error: %s\n", logging.error().message.c_str());
      std::exit(2);
    }
    for (const std::string& flag : arguments.scrubbed) {
      reliant::warn_secret_argument(flag);
    }
  });
  auto* version = app.add_subcommand("version", "Print the version and build details");
  version->callback([] { std::printf("%s\n", reliant::version_string().c_str()); });
  reliant::add_admin_commands(app, exit_code);
  reliant::add_workflow_commands(app, exit_code);
  reliant::add_preset_commands(app, exit_code);
  reliant::add_trigger_commands(app, exit_code);
  reliant::add_provider_key_commands(app, exit_code);
  reliant::add_tool_commands(app, exit_code);
  reliant::add_mcp_commands(app, exit_code);
  reliant::add_cel_commands(app, exit_code);
  reliant::add_daemon_commands(app, exit_code, argc, argv);
  reliant::add_monolith_command(app, exit_code);
  reliant::add_chat_command(app, exit_code);
  reliant::add_auth_commands(app, exit_code);
  auto* server = app.add_subcommand("server", "Run a server role of the distributed deployment");
  server->require_subcommand(1);
  reliant::add_api_command(*server, exit_code);
  reliant::add_worker_command(*server, exit_code);
  reliant::add_gateway_command(*server, exit_code);
  reliant::add_control_plane_command(*server, exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}

// MCP tools/call round trips through the daemon's MCP client — McpServers, McpClient and the
// stdio transport on a PosixHost, as `reliant daemon start` runs them — to a server given on the
// command line, after a warm-up. Prints one JSON line: {n, p50_us, p99_us, mean_us}.
// tools/bench_mcp.sh runs it against server-everything's echo, beside the same calls made by
// the MCP TypeScript SDK's own client (the floor: no daemon in between).
//   bench_mcp COUNT TOOL ARGUMENTS_JSON -- COMMAND ARG…
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/asio/asio_executor.h"
#include "adapters/asio/run_blocking.h"
#include "adapters/host/posix_host.h"
#include "runtime/env.h"
#include "runtime/random.h"
#include "services/daemon/mcp/mcp_servers.h"

int main(int argc, char** argv) {
  using namespace reliant;
  if (argc < 6 || std::string(argv[4]) != "--") {
    std::fprintf(stderr, "usage: bench_mcp COUNT TOOL ARGUMENTS_JSON -- COMMAND ARG...\n");
    return 2;
  }
  const int count = std::max(1, std::atoi(argv[1]));
  const std::string tool = argv[2];
  const nlohmann::json arguments = nlohmann::json::parse(argv[3]);
  mcp::McpServerConfig server;
  server.name = "bench";
  server.command = argv[5];
  for (int i = 6; i < argc; ++i) server.args.push_back(argv[i]);

  AsioExecutor executor;
  PosixHost host(executor, std::filesystem::current_path().string());
  Random random(1);
  Env env{executor, random, nullptr, nullptr, nullptr, &host};
  mcp::McpServers servers(env, host);
  servers.configure({{"bench", server}});
  const std::string exposed = mcp::exposed_name("bench", tool);
  for (int i = 0; i < 20; ++i) {  // warm-up: the server starts, the JIT settles
    auto outcome = run_blocking(executor, servers.call(exposed, arguments, seconds(30)));
    if (outcome.is_error) {
      std::fprintf(stderr, "bench_mcp: %s\n", outcome.text.c_str());
      return 1;
    }
  }
  std::vector<double> samples;
  for (int i = 0; i < count; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto outcome = run_blocking(executor, servers.call(exposed, arguments, seconds(30)));
    samples.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
            .count());
    if (outcome.is_error) {
      std::fprintf(stderr, "bench_mcp: %s\n", outcome.text.c_str());
      return 1;
    }
  }
  std::sort(samples.begin(), samples.end());
  const auto at = [&](double q) {
    return samples[std::min(samples.size() - 1, static_cast<std::size_t>(q * samples.size()))];
  };
  double sum = 0;
  for (double s : samples) sum += s;
  std::printf("{\"n\": %zu, \"p50_us\": %.0f, \"p99_us\": %.0f, \"mean_us\": %.0f}\n",
              samples.size(), at(0.5), at(0.99), sum / samples.size());
  return 0;
}

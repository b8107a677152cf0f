// Echo workload: clients exchange numbered frames with servers over streams and make
// request-reply calls through a queue group on the bus — the smallest load that exercises
// every kernel mechanism (dial, accept, stream order, half-open detection, queue groups,
// timeouts, crashes). Written against ports only, like every component.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/backoff.h"
#include "runtime/env.h"
#include "runtime/scope.h"
#include "sim/checker.h"

namespace reliant::sim {

// What a node did, kept outside the component so it survives the node's crashes.
struct EchoStats {
  std::uint64_t connections = 0;  // streams opened (client) or accepted (server)
  std::uint64_t dial_failures = 0;
  std::uint64_t stale_streams = 0;  // closed by the client for silence (half-open detection)
  std::uint64_t frames_sent = 0;
  std::uint64_t frames_echoed = 0;  // server: echoed; client: echoes received
  std::uint64_t requests_ok = 0;
  std::uint64_t requests_timeout = 0;
  std::uint64_t requests_no_responders = 0;
  std::uint64_t jobs_done = 0;      // server: requests answered
  std::uint64_t announcements = 0;  // server: published; client: received (fan-out)
};

struct EchoServerConfig {
  std::string name;            // "server-1"
  std::string listen_address;  // "server-1:7000"
  Duration announce_interval = seconds(1);
};

struct EchoClientConfig {
  std::vector<std::string> servers;  // tried in turn
  Duration interval = milliseconds(500);
  Duration stale_after = seconds(3);
  Duration request_timeout = seconds(1);
  Duration dial_timeout = seconds(2);
  BackoffPolicy backoff{milliseconds(200), seconds(5), 2.0, 0.5};
};

inline constexpr const char* kEchoWorkSubjectPattern = "work.>";
inline constexpr const char* kEchoServerGroup = "echo-servers";
inline constexpr const char* kEchoAnnouncePattern = "announce.*";

class EchoServer {
 public:
  EchoServer(Env& env, EchoServerConfig config, EchoStats& stats);

 private:
  Task<void> serve(StreamPtr stream);
  Task<void> announce();

  Env& env_;
  EchoServerConfig config_;
  EchoStats& stats_;
  ListenerPtr listener_;
  SubscriptionPtr work_;
  Scope scope_;  // last: destroyed first, before anything its tasks use
};

class EchoClient {
 public:
  EchoClient(Env& env, std::string name, EchoClientConfig config, EchoStats& stats,
             Checker& checker);

 private:
  struct Connection;
  Task<void> stream_loop();
  Task<void> heartbeat(std::shared_ptr<Connection> connection);
  Task<void> request_loop();

  Env& env_;
  std::string name_;
  EchoClientConfig config_;
  EchoStats& stats_;
  Checker& checker_;
  Backoff backoff_;
  SubscriptionPtr announcements_;
  Scope scope_;
};

}  // namespace reliant::sim

// The gateway's records of a daemon's stream and of a tool request in flight: shared by the
// gateway's translation units (gateway.cc, gateway_requests.cc, gateway_commands.cc), not by
// anyone else.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/assert.h"
#include "runtime/scope.h"
#include "runtime/transport.h"
#include "services/gateway/gateway.h"

namespace reliant::gateway {

struct Gateway::Connection {
  std::string connection_id;
  std::string daemon_id;
  std::string user_id;
  std::string session_id;
  std::string token_id;  // the PAT that admitted it; empty for a managed daemon
  Stream* stream = nullptr;
  Presence presence;
  // Tasks that use this connection; they die with it.
  std::unique_ptr<Scope> scope;
  // The daemon protocol it registered with, and its typed methods (sorted): a typed call for a
  // method it lacks is refused here; protocol 0 gets the call as its verb (legacy_daemon_calls.h).
  std::uint32_t protocol_version = 0;
  std::vector<std::string> methods;
  // What the daemon's last heartbeat said of its idleness, and when it was heard (steady).
  std::uint64_t idle_ms = 0;
  SteadyInstant idle_heard_at{};
  // Frames heard on this stream since the registration, which this gateway's heartbeats
  // acknowledge (Heartbeat.frames_heard).
  std::uint64_t frames_heard = 0;
};

// A result or status being stored, which a draining gateway waits for (it counts while it lives).
struct Gateway::WriteInProgress {
  explicit WriteInProgress(Gateway& gateway) : gateway(gateway) { ++gateway.writes_pending_; }
  ~WriteInProgress() {
    RELIANT_ASSERT(gateway.writes_pending_ > 0);
    --gateway.writes_pending_;
    gateway.drain_changed();
  }
  WriteInProgress(const WriteInProgress&) = delete;
  WriteInProgress& operator=(const WriteInProgress&) = delete;
  Gateway& gateway;
};

// A tool request this gateway sent to a daemon and awaits the answer of.
struct Gateway::InFlight {
  std::string daemon_id;
  // The daemon process it was last sent to: only that one answers it (a draining gateway waits
  // for nothing a restarted daemon will never answer).
  std::string session_id;
  bool durable = false;  // a fire-and-forget request with a row in the store
  // Synchronous callers waiting on the bus, each answered in its request's encoding.
  struct SyncInbox {
    std::string subject;
    protocol::BusEncoding encoding;
  };
  std::vector<SyncInbox> sync_inboxes;
  SteadyInstant expires_at{};
};

}  // namespace reliant::gateway

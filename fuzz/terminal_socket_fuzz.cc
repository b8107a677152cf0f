// Fuzz target: any sequence of WebSocket messages a client sends to /api/v2/terminal/ws — text
// frames (JSON control messages or not) and binary frames (keys), in any order, before or after
// authentication — gets answers that are JSON messages with a type, never a crash, a hang or a
// terminal of another user's daemon; the session ends once the client is gone. The session runs
// against the monolith's in-process daemon in a simulated world (the simulator's host runs its
// scripted terminal shell).
//
// Input: messages separated by 0xFF bytes; each message's first byte says its kind (odd:
// binary, even: text) and the rest is its payload. A few well-formed messages (open, attach,
// input) are spliced in by the bytes "\x01o", "\x01a" and "\x01i" so that the fuzzer reaches an
// open terminal quickly.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/assert.h"
#include "base/json_parse.h"
#include "runtime/sleep.h"
#include "runtime/websocket.h"
#include "services/api/terminal_socket.h"
#include "services/daemon/tool_runner.h"
#include "services/routing/local_daemon_router.h"
#include "services/storage/accounts.h"
#include "services/storage/daemons.h"
#include "services/storage/migrator.h"
#include "sim/one_node.h"
#include "sim/sim_host.h"

namespace {

using namespace reliant;
using Json = nlohmann::json;

// The client's messages in order, then gone; what the session writes is checked as it comes.
class ScriptedSocket final : public WebSocket {
 public:
  ScriptedSocket(Executor& executor, std::vector<WebSocketMessage> incoming)
      : executor_(executor), incoming_(std::move(incoming)) {}
  Task<Result<WebSocketMessage>> read() override {
    Sleep pausing = sleep(executor_, milliseconds(5));  // the session's work runs in between
    co_await pausing;
    if (next_ >= incoming_.size()) co_return fail(ErrorCode::closed, "the client went");
    co_return incoming_[next_++];
  }
  Task<bool> write(WebSocketMessage message) override {
    if (closed_) co_return false;
    if (!message.binary) {
      const Json parsed = parse_json_or_discarded(message.data);
      RELIANT_ASSERT_MSG(parsed.is_object() && parsed.value("type", Json()).is_string(),
                         "every text frame the server sends is a JSON message with a type");
      RELIANT_ASSERT_MSG(parsed.value("type", "") != "opened" ||
                             parsed.value("terminal", Json::object()).is_object(),
                         "an opened message carries its terminal");
    }
    co_return true;
  }
  void close(std::string) override { closed_ = true; }

 private:
  Executor& executor_;
  std::vector<WebSocketMessage> incoming_;
  std::size_t next_ = 0;
  bool closed_ = false;
};

struct Harness : sim::OneNode {
  sim::SimHost host{executor, "/work", {"/work"}};
  daemon::MemoryRequestJournal journal;
  std::unique_ptr<routing::LocalDaemonRouter> router;
  std::unique_ptr<api::CredentialWatches> watches;

  Harness() : OneNode(1, 1, "api", /*trace_events=*/false) {
    RELIANT_ASSERT(run(migrate_up(store, world.now())).has_value());
    auto seeded = database.database().transact([](SqlTransaction& tx) -> Result<void> {
      for (const char* user : {"user-1", "user-2"}) {
        if (auto ok = insert_user(tx, User{user, std::string(user) + "@example.com", user, 0}); !ok)
          return ok;
      }
      DaemonRecord daemon;
      daemon.id = "daemon-1";
      daemon.user_id = "user-1";
      daemon.name = "laptop";
      daemon.status = DaemonStatus::active;
      daemon.connection_id = "c1";
      daemon.connected_at_ms = 1;
      return record_daemon_connected(tx, daemon);
    });
    RELIANT_ASSERT(seeded.has_value());
    env.host = &host;
    router = std::make_unique<routing::LocalDaemonRouter>(executor, host, "/work", journal,
                                                          "daemon-1", "user-1");
    watches = std::make_unique<api::CredentialWatches>(env, seconds(30));
  }
};

Task<Result<api::Credential>> authenticate(std::string token) {
  if (token == "good") co_return api::Credential{"user-1", "tok-1", std::nullopt};
  if (token == "other") co_return api::Credential{"user-2", "tok-2", std::nullopt};
  co_return fail(ErrorCode::unauthenticated, "not a token");
}

std::vector<WebSocketMessage> messages_of(std::string_view input) {
  std::vector<WebSocketMessage> out;
  while (!input.empty() && out.size() < 64) {
    const std::size_t end = input.find('\xff');
    std::string_view piece = input.substr(0, end);
    input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
    if (piece.empty()) continue;
    const bool binary = (static_cast<unsigned char>(piece[0]) & 1) != 0;
    std::string_view payload = piece.substr(1);
    if (binary && payload == "o") {
      out.push_back({R"({"type":"open","daemon_id":"daemon-1","rows":10,"cols":40})", false});
    } else if (binary && payload == "a") {
      out.push_back({R"({"type":"attach","daemon_id":"daemon-1","terminal_id":"term_1"})", false});
    } else if (binary && payload == "i") {
      out.push_back({R"({"type":"input","data":"echo fuzz\r"})", false});
    } else {
      out.push_back({std::string(payload), binary});
    }
  }
  return out;
}

Task<bool> session_over(api::TerminalSocket* session, WebSocket* socket) {
  Task<void> running = session->run(*socket);
  co_await running;
  co_return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static std::unique_ptr<Harness> harness;
  static std::uint64_t inputs = 0;
  if (inputs++ % 2000 == 0) harness = std::make_unique<Harness>();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // Half the inputs authenticate in the upgrade, as user-1 or as someone else.
  std::optional<api::Credential> user;
  if (size > 0 && (data[0] & 2) != 0) {
    user = (data[0] & 4) != 0 ? api::Credential{"user-2", "tok-2", std::nullopt}
                              : api::Credential{"user-1", "tok-1", std::nullopt};
  }
  ScriptedSocket socket(harness->executor, messages_of(input));
  api::TerminalSocket session(harness->env, *harness->router, *harness->watches, authenticate,
                              user);
  const bool ended = harness->run(session_over(&session, &socket));
  RELIANT_ASSERT_MSG(ended, "the session ends once the client is gone");
  // What the session left running (an open terminal stays for a later attach, up to the daemon's
  // bound) settles before the next input; bounded, since an open shell never quiets down.
  for (int i = 0; i < 10000 && harness->world.step(); ++i) {
  }
  return 0;
}

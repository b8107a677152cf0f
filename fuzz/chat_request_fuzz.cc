// Fuzz target: any bytes as the body of the REST API's requests (create a chat, send a message,
// choose the session daemon, create a token or project, save settings, the CLI sign-in form and
// its code trade, Connect calls in JSON, binary and stream envelopes) or as the `since_seq` of the
// update stream or the sign-in page's query get a 2xx, 3xx or 4xx answer from ApiServer (so do they
// as a chat id in the path) — never a 5xx, an exception (the HTTP server would answer 500) or a
// crash. The requests carry a valid token and run against the real SQLite schema in a simulated
// world, so validation is reached past authentication and ownership checks.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/assert.h"
#include "base/url_encoding.h"
#include "core/personal_access_token.h"
#include "runtime/scope.h"
#include "services/agent/chat_service.h"
#include "services/api/api_server.h"
#include "services/api/grpc_api.h"
#include "services/storage/accounts.h"
#include "services/storage/daemons.h"
#include "services/storage/migrator.h"
#include "sim/one_node.h"

namespace {

using namespace reliant;

struct Answer {
  std::optional<int> status;
  std::string failure;  // what an exception said
};

Task<void> answer_into(api::ApiServer* api, HttpRequest request, Answer* out) {
  try {
    Task<HttpResponse> handling = api->handle(std::move(request));
    HttpResponse response = co_await handling;
    out->status = response.status;  // a stream (GET /updates) is dropped unread
  } catch (const std::exception& e) {
    out->failure = e.what();
  } catch (...) {
    out->failure = "unknown exception";
  }
}

// Passwords as the sign-in flow sees them, without PBKDF2's cost per input.
class PlainPasswordHasher final : public PasswordHasher {
 public:
  Task<std::string> hash(std::string password) override { co_return "plain$" + password; }
  Task<bool> verify(std::string password, std::string stored) override {
    co_return stored == "plain$" + password;
  }
};

api::ApiConfig config_with(PasswordHasher& passwords, SecretSource& secrets,
                           api::ConnectRpc& connect) {
  api::ApiConfig config;
  config.connect = &connect;
  config.passwords = &passwords;
  config.secrets = &secrets;
  return config;
}

// One user with a token and a daemon, and an ApiServer on the simulated store and bus. Shared by
// many inputs (a fresh one costs ten times the requests): what requests leave behind (chats,
// messages, queued runs, update rows) does not change how a later request is validated, since
// each input gets a fresh chat.
struct Harness : sim::OneNode {
  PlainPasswordHasher passwords;
  SeededSecretSource secrets{random};
  api::GrpcApi grpc{env, api::ApiConfig{}};
  api::ConnectRpc connect{grpc};
  api::ApiServer server{env, config_with(passwords, secrets, connect)};
  agent::ChatService chats{env, agent::ChatServiceConfig{}};
  std::string token;

  Harness() : OneNode(1, 1, "api", /*trace_events=*/false) {
    std::array<std::uint8_t, kPatRandomBytes> random_bytes{};
    random_bytes.fill(7);
    token = format_pat(random_bytes);
    auto migrated = run(migrate_up(store, world.now()));
    RELIANT_ASSERT(migrated.has_value());
    auto seeded = database.database().transact([this](SqlTransaction& tx) -> Result<void> {
      if (auto ok = insert_user(tx, User{"user-1", "user-1@example.com", "user-1", 0}); !ok)
        return ok;
      if (auto ok = set_password_hash(tx, "user-1", "plain$pw"); !ok) return ok;
      PersonalAccessToken meta{"tok-1", "user-1", "", pat_display_prefix(token), 0, {}, {}, {}};
      if (auto ok = insert_token(tx, meta, hash_pat(token)); !ok) return ok;
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
  }

  std::string new_chat() {
    auto chat = run(chats.create_chat("user-1", "fuzz"));
    RELIANT_ASSERT(chat.has_value());
    return chat->id;
  }

  void expect_client_or_success(std::string method, std::string path, std::string body,
                                std::map<std::string, std::string> query = {},
                                std::string content_type = "application/json") {
    HttpRequest request;
    request.method = std::move(method);
    request.path = std::move(path);
    request.query = std::move(query);
    request.headers["authorization"] = "Bearer " + token;
    request.headers["content-type"] = std::move(content_type);
    request.body = std::move(body);
    request.remote_address = "127.0.0.1";
    const std::string what = request.method + " " + request.path;
    Answer answer;
    scope->spawn(answer_into(&server, std::move(request), &answer));
    while (!answer.status && answer.failure.empty() && world.step()) {
    }
    const bool answered = answer.failure.empty() && answer.status.has_value();
    const bool fine = answered && *answer.status >= 200 && *answer.status < 500;
    if (!fine) {
      std::fprintf(stderr, "%s: %s\n", what.c_str(),
                   !answer.failure.empty() ? ("threw " + answer.failure).c_str()
                   : answer.status         ? ("answered " + std::to_string(*answer.status)).c_str()
                                           : "no answer");
    }
    RELIANT_ASSERT_MSG(answer.failure.empty(), "the handler threw (the server answers 500)");
    RELIANT_ASSERT_MSG(answer.status.has_value(), "the handler never answered");
    RELIANT_ASSERT_MSG(fine, "a request's bytes caused a status other than 2xx, 3xx or 4xx");
  }

  // Announcements and wake-ups the requests published; bounded in case something ticks.
  void settle() {
    for (int i = 0; i < 10000 && world.step(); ++i) {
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Rebuilt now and then so that hours of fuzzing do not grow the database without bound.
  static std::unique_ptr<Harness> harness;
  static std::uint64_t inputs = 0;
  if (inputs++ % 10000 == 0) harness = std::make_unique<Harness>();
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const std::string chat = "/api/v1/chats/" + harness->new_chat();
  harness->expect_client_or_success("POST", "/api/v1/chats", bytes);
  harness->expect_client_or_success("POST", chat + "/messages", bytes);
  harness->expect_client_or_success("PUT", chat + "/daemon", bytes);
  harness->expect_client_or_success("GET", "/api/v1/updates", "", {{"since_seq", bytes}});
  // The same bytes as a (percent-decoded) chat id: they come back in the not_found message.
  harness->expect_client_or_success("GET", "/api/v1/chats/" + bytes, "");
  harness->expect_client_or_success("POST", "/api/v1/tokens", bytes);
  harness->expect_client_or_success("PUT", "/api/v1/settings", bytes);
  harness->expect_client_or_success("POST", "/api/v1/projects", bytes);
  harness->expect_client_or_success("POST", "/api/v1/auth/cli/token", bytes);
  harness->expect_client_or_success("POST", "/cli/login", bytes);
  harness->expect_client_or_success("GET", "/cli/login", "", parse_form_urlencoded(bytes));
  // The gRPC services over Connect: the bytes as a JSON or binary request, and as a stream's
  // request envelope.
  harness->expect_client_or_success("POST", "/reliant.api.v1.ChatService/CreateChat", bytes, {},
                                    "application/json");
  harness->expect_client_or_success("POST", "/reliant.api.v1.ChatService/SendMessage", bytes, {},
                                    "application/proto");
  harness->expect_client_or_success("POST", "/reliant.api.v1.StreamingService/StreamUpdates", bytes,
                                    {}, "application/connect+json");
  harness->settle();
  return 0;
}

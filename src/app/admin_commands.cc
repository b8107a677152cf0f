// Operator commands: one transaction each, on the store chosen by --db-driver/--db-url.
#include "app/admin_commands.h"

#include <array>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>

#include "adapters/asio/asio_executor.h"
#include "adapters/asio/run_blocking.h"
#include "adapters/crypto/pbkdf2_password_hasher.h"
#include "adapters/nats/nats_bus.h"
#include "app/db_config.h"
#include "app/secure_random.h"
#include "core/managed_dial_key.h"
#include "core/personal_access_token.h"
#include "core/tool_subjects.h"
#include "protocol/codec.h"
#include "reliant/daemon/v1/daemon.pb.h"
#include "runtime/ids.h"
#include "services/storage/accounts.h"
#include "services/storage/cluster_secrets.h"
#include "services/storage/daemons.h"
#include "services/storage/migrator.h"
#include "services/storage/schema.h"

namespace reliant {
namespace {

constexpr int kExitFailure = 1;

struct AdminOptions {
  DbConfig db;
  std::string email;
  std::string name;
  std::string user;
  std::string token_id;
  std::string expires_in;
  std::string nats_url;
  std::string address;
  bool password_stdin = false;
};

constexpr std::size_t kMinPassword = 8;
constexpr std::size_t kPasswordMax = 1024;

// The first line of stdin, as a new password (a file or pipe: never a command-line argument,
// which other users can read in the process list).
Result<std::string> read_new_password() {
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.size() < kMinPassword || password.size() > kPasswordMax) {
    return fail(ErrorCode::invalid_argument,
                "the password (first line of stdin) must be 8 to 1024 characters");
  }
  return password;
}

// "90d", "12h", "30m", "45s" → milliseconds.
Result<std::int64_t> parse_lifetime_ms(const std::string& text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  const std::string unit = text.substr(digits);
  static const std::map<std::string, std::int64_t> kUnitMs = {
      {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};
  const auto found = kUnitMs.find(unit);
  if (digits == 0 || digits > 9 || found == kUnitMs.end()) {
    return fail(
        ErrorCode::invalid_argument,
        "expected a positive number and a unit s, m, h or d (e.g. 90d), got \"" + text + "\"");
  }
  const std::int64_t count = std::stoll(text.substr(0, digits));
  if (count <= 0) return fail(ErrorCode::invalid_argument, "the lifetime must be positive");
  return count * found->second;
}

int report(const Error& error) {
  std::fprintf(stderr, "error: %s\n", error.message.c_str());
  return kExitFailure;
}

std::string format_time(std::optional<std::int64_t> ms) {
  if (!ms) return "-";
  const std::time_t seconds = static_cast<std::time_t>(*ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

// Opens the store and, with `require_schema`, checks the schema is current; runs `body` (which
// returns a Result<T>) in one transaction and returns what it returned.
template <class Body>
auto transact_on(const DbConfig& config, bool require_schema, Body body)
    -> std::invoke_result_t<Body&, SqlTransaction&> {
  AsioExecutor executor;
  auto store = open_store(executor, config);
  if (!store) return fail(store.error());
  if (require_schema) {
    auto current = run_blocking(executor, require_current_schema(**store));
    if (!current) return fail(current.error());
  }
  return run_blocking(executor, (*store)->transact_for(std::move(body)));
}

// transact_on for a body with no value: the command's exit code, after reporting any error.
int with_store(const DbConfig& config, bool require_schema, TransactionBody body) {
  auto done = transact_on(config, require_schema, std::move(body));
  return done ? 0 : report(done.error());
}

void add_db(CLI::App& app, std::shared_ptr<AdminOptions> options, int& exit_code) {
  auto* db = app.add_subcommand("db", "Database administration");
  db->require_subcommand(1);
  auto* migrate = db->add_subcommand("migrate", "Schema migrations");
  migrate->require_subcommand(1);
  auto* status = migrate->add_subcommand("status", "Show applied and pending migrations");
  add_db_options(*status, options->db);
  status->callback([options, &exit_code] {
    AsioExecutor executor;
    auto store = open_store(executor, options->db);
    if (!store) {
      exit_code = report(store.error());
      return;
    }
    auto result = run_blocking(executor, schema_status(**store));
    if (!result) {
      exit_code = report(result.error());
      return;
    }
    std::printf("schema version: %lld (this binary: %lld)\n",
                static_cast<long long>(result->current), static_cast<long long>(result->latest));
    for (auto v : result->applied) std::printf("  applied  %lld\n", static_cast<long long>(v));
    for (auto v : result->pending) std::printf("  pending  %lld\n", static_cast<long long>(v));
    if (result->current > result->latest) {
      exit_code = report(Error{ErrorCode::failed_precondition,
                               "the database is newer than this binary: upgrade reliant"});
    }
  });
  auto* up = migrate->add_subcommand("up", "Apply every pending migration");
  add_db_options(*up, options->db);
  up->callback([options, &exit_code] {
    AsioExecutor executor;
    auto store = open_store(executor, options->db);
    if (!store) {
      exit_code = report(store.error());
      return;
    }
    auto applied = run_blocking(executor, migrate_up(**store, executor.now()));
    if (!applied) {
      exit_code = report(applied.error());
      return;
    }
    if (applied->empty())
      std::printf("schema is up to date (version %lld)\n",
                  static_cast<long long>(latest_schema_version()));
    for (auto v : *applied) std::printf("applied migration %lld\n", static_cast<long long>(v));
  });
}

void add_users(CLI::App& admin, std::shared_ptr<AdminOptions> options, int& exit_code) {
  auto* user = admin.add_subcommand("user", "Users");
  user->require_subcommand(1);
  auto* create = user->add_subcommand("create", "Create a user and print its id");
  add_db_options(*create, options->db);
  create->add_option("--email", options->email, "The user's email address")->required();
  create->add_option("--name", options->name, "Display name");
  create->add_flag("--password-stdin", options->password_stdin,
                   "Read a password for browser sign-in from stdin");
  create->callback([options, &exit_code] {
    std::string password_hash;
    if (options->password_stdin) {
      auto password = read_new_password();
      if (!password) {
        exit_code = report(password.error());
        return;
      }
      password_hash =
          Pbkdf2PasswordHasher::hash_now(*password, Pbkdf2PasswordHasher::kDefaultIterations);
    }
    AsioExecutor clock;
    IdGenerator ids(clock, Random(secure_random_u64()));
    const User created{ids.next(), options->email, options->name, to_ms(clock.now())};
    exit_code =
        with_store(options->db, true, [created, password_hash](SqlTransaction& tx) -> Result<void> {
          auto inserted = insert_user(tx, created);
          if (!inserted || password_hash.empty()) return inserted;
          return set_password_hash(tx, created.id, password_hash);
        });
    if (exit_code == 0) std::printf("%s\n", created.id.c_str());
  });
  auto* password = user->add_subcommand(
      "set-password", "Set a user's password for browser sign-in (read from stdin)");
  add_db_options(*password, options->db);
  password->add_option("--user", options->user, "The user's email or id")->required();
  password->callback([options, &exit_code] {
    auto password = read_new_password();
    if (!password) {
      exit_code = report(password.error());
      return;
    }
    const std::string hash =
        Pbkdf2PasswordHasher::hash_now(*password, Pbkdf2PasswordHasher::kDefaultIterations);
    const std::string key = options->user;
    exit_code = with_store(options->db, true, [key, hash](SqlTransaction& tx) -> Result<void> {
      auto user = find_user_by_id_or_email(tx, key);
      if (!user) return fail(user.error());
      if (!*user) return fail(ErrorCode::not_found, "no user " + key);
      return set_password_hash(tx, (*user)->id, hash);
    });
    if (exit_code == 0) std::printf("password set for %s\n", key.c_str());
  });
  auto* list = user->add_subcommand("list", "List users");
  add_db_options(*list, options->db);
  list->callback([options, &exit_code] {
    auto users = transact_on(options->db, true, [](SqlTransaction& tx) { return list_users(tx); });
    if (!users) {
      exit_code = report(users.error());
      return;
    }
    std::printf("%-26s  %-32s  %-20s  %s\n", "ID", "EMAIL", "NAME", "CREATED");
    for (const auto& u : *users) {
      std::printf("%-26s  %-32s  %-20s  %s\n", u.id.c_str(), u.email.c_str(), u.name.c_str(),
                  format_time(u.created_at_ms).c_str());
    }
  });
}

void add_tokens(CLI::App& admin, std::shared_ptr<AdminOptions> options, int& exit_code) {
  auto* token = admin.add_subcommand("token", "Personal access tokens");
  token->require_subcommand(1);
  auto* create = token->add_subcommand(
      "create", "Create a token for a user; it is printed once, on the last line");
  add_db_options(*create, options->db);
  create->add_option("--user", options->user, "The user's id or email")->required();
  create->add_option("--name", options->name, "What the token is for");
  create->add_option("--expires-in", options->expires_in,
                     "Lifetime, e.g. 90d, 12h, 30m (default: never expires)");
  create->callback([options, &exit_code] {
    std::optional<std::int64_t> lifetime_ms;
    if (!options->expires_in.empty()) {
      auto parsed = parse_lifetime_ms(options->expires_in);
      if (!parsed) {
        std::fprintf(stderr, "error: --expires-in: %s\n", parsed.error().message.c_str());
        exit_code = 2;
        return;
      }
      lifetime_ms = *parsed;
    }
    AsioExecutor clock;
    IdGenerator ids(clock, Random(secure_random_u64()));
    std::array<std::uint8_t, kPatRandomBytes> secret{};
    secure_random_bytes(secret.data(), secret.size());
    const std::string value = format_pat(secret);
    PersonalAccessToken meta{
        ids.next(), "", options->name, pat_display_prefix(value), to_ms(clock.now()), {}, {}, {}};
    if (lifetime_ms) meta.expires_at_ms = meta.created_at_ms + *lifetime_ms;
    const std::string user_key = options->user;
    const std::string hash = hash_pat(value);
    auto owner = transact_on(options->db, true, [&meta, user_key, hash](SqlTransaction& tx) {
      auto user = find_user_by_id_or_email(tx, user_key);
      if (!user) return Result<User>(fail(user.error()));
      if (!*user) return Result<User>(fail(ErrorCode::not_found, "no user " + user_key));
      meta.user_id = (*user)->id;
      if (auto inserted = insert_token(tx, meta, hash); !inserted)
        return Result<User>(fail(inserted.error()));
      return Result<User>(std::move(**user));
    });
    if (!owner) {
      exit_code = report(owner.error());
      return;
    }
    std::printf("token %s for %s (%s). Store it now: it is not shown again.\n", meta.id.c_str(),
                owner->email.c_str(), owner->id.c_str());
    std::printf("%s\n", value.c_str());
  });
  auto* list = token->add_subcommand("list", "List tokens (never their values)");
  add_db_options(*list, options->db);
  list->add_option("--user", options->user, "Only this user's tokens (id or email)");
  list->callback([options, &exit_code] {
    const std::string user_key = options->user;
    auto tokens =
        transact_on(options->db, true,
                    [user_key](SqlTransaction& tx) -> Result<std::vector<PersonalAccessToken>> {
                      std::optional<std::string> user_id;
                      if (!user_key.empty()) {
                        auto user = find_user_by_id_or_email(tx, user_key);
                        if (!user) return fail(user.error());
                        if (!*user) return fail(ErrorCode::not_found, "no user " + user_key);
                        user_id = (*user)->id;
                      }
                      return list_tokens(tx, user_id);
                    });
    if (!tokens) {
      exit_code = report(tokens.error());
      return;
    }
    std::printf("%-26s  %-26s  %-16s  %-14s  %-20s  %-20s  %-20s  %s\n", "ID", "USER", "NAME",
                "PREFIX", "CREATED", "LAST USED", "EXPIRES", "REVOKED");
    for (const auto& t : *tokens) {
      std::printf("%-26s  %-26s  %-16s  %-14s  %-20s  %-20s  %-20s  %s\n", t.id.c_str(),
                  t.user_id.c_str(), t.name.c_str(), (t.display_prefix + "…").c_str(),
                  format_time(t.created_at_ms).c_str(), format_time(t.last_used_at_ms).c_str(),
                  format_time(t.expires_at_ms).c_str(), format_time(t.revoked_at_ms).c_str());
    }
  });
  auto* revoke = token->add_subcommand("revoke", "Revoke a token by id");
  add_db_options(*revoke, options->db);
  revoke->add_option("id", options->token_id, "The token's id (from `admin token list`)")
      ->required();
  revoke->callback([options, &exit_code] {
    AsioExecutor clock;
    const std::string id = options->token_id;
    const std::int64_t now_ms = to_ms(clock.now());
    exit_code = with_store(options->db, true, [id, now_ms](SqlTransaction& tx) {
      return revoke_token(tx, id, now_ms);
    });
    if (exit_code == 0) std::printf("revoked %s\n", id.c_str());
  });
}

}  // namespace

// Managed (cloud) daemons: what the control plane does for them, by hand — provision a daemon
// identity, and tell the gateways to dial it.
// A hand-provisioned daemon's owner and dial key (core/managed_dial_key.h), from the store's
// cluster secret: drawn here when no control plane has drawn it yet.
struct DialTarget {
  std::string user_id;
  std::string dial_key;
};
Result<DialTarget> dial_target(const DbConfig& db, const std::string& id) {
  OsSecretSource secrets;
  AsioExecutor clock;
  return transact_on(db, true,
                     [id, drawn = draw_dial_secret(secrets),
                      now_ms = to_ms(clock.now())](SqlTransaction& tx) -> Result<DialTarget> {
                       auto row = find_daemon(tx, id);
                       if (!row) return fail(row.error());
                       if (!*row) return fail(ErrorCode::not_found, "no daemon " + id);
                       auto secret =
                           cluster_secret(tx, std::string(kDialSecretName), drawn, now_ms);
                       if (!secret) return fail(secret.error());
                       return DialTarget{(*row)->user_id, managed_dial_key(*secret, id)};
                     });
}

void add_daemon_dial_key(CLI::App& daemon, std::shared_ptr<AdminOptions> options, int& exit_code) {
  auto* dial_key = daemon.add_subcommand(
      "dial-key",
      "Print a managed daemon's dial key, for its RELIANT_DIAL_KEY: it then serves only the "
      "gateways `admin daemon connect` sends");
  add_db_options(*dial_key, options->db);
  dial_key->add_option("--daemon", options->token_id, "The managed daemon's id")->required();
  dial_key->callback([options, &exit_code] {
    auto target = dial_target(options->db, options->token_id);
    if (!target) {
      exit_code = report(target.error());
      return;
    }
    std::printf("%s\n", target->dial_key.c_str());
  });
}

void add_daemon_connect(CLI::App& daemon, std::shared_ptr<AdminOptions> options, int& exit_code) {
  auto* connect = daemon.add_subcommand(
      "connect", "Ask the gateways (through NATS) to dial a managed daemon at ADDRESS");
  add_db_options(*connect, options->db);
  connect->add_option("--nats-url", options->nats_url, "NATS server URL")
      ->envname("NATS_URL")
      ->required();
  connect->add_option("--daemon", options->token_id, "The managed daemon's id")->required();
  connect
      ->add_option("--address", options->address,
                   "Where the daemon listens: https://host:port, http://host:port or host:port")
      ->required();
  connect->callback([options, &exit_code] {
    const std::string id = options->token_id;
    auto target = dial_target(options->db, id);
    if (!target) {
      exit_code = report(target.error());
      return;
    }
    AsioExecutor executor;
    auto bus = NatsBus::connect(executor, NatsOptions{options->nats_url, "reliant-admin"});
    if (!bus) {
      exit_code = report(bus.error());
      return;
    }
    daemon::v1::ManagedConnect command;
    command.set_daemon_id(id);
    command.set_user_id(target->user_id);
    command.set_address(options->address);
    command.set_dial_key(target->dial_key);
    if (auto sent = (*bus)->publish(subjects::kGatewayConnect, protocol::to_json(command)); !sent) {
      exit_code = report(sent.error());
      return;
    }
    (void)(*bus)->flush(seconds(2));
    std::printf("asked the gateways to dial %s at %s\n", id.c_str(), options->address.c_str());
  });
}

void add_daemons(CLI::App& admin, std::shared_ptr<AdminOptions> options, int& exit_code) {
  auto* daemon = admin.add_subcommand("daemon", "Managed cloud daemons (the control plane's part)");
  daemon->require_subcommand(1);
  auto* provision = daemon->add_subcommand(
      "provision", "Create a managed daemon's identity for a user; prints its id");
  add_db_options(*provision, options->db);
  provision->add_option("--user", options->user, "The user's id or email")->required();
  provision->add_option("--name", options->name, "The daemon's name")->required();
  provision->callback([options, &exit_code] {
    AsioExecutor clock;
    IdGenerator ids(clock, Random(secure_random_u64()));
    DaemonRecord row;
    row.id = ids.next();
    row.name = options->name;
    row.type = DaemonType::cloud;
    row.connection_id = "provisioned";
    const std::string user_key = options->user;
    exit_code = with_store(options->db, true, [&row, user_key](SqlTransaction& tx) -> Result<void> {
      auto user = find_user_by_id_or_email(tx, user_key);
      if (!user) return fail(user.error());
      if (!*user) return fail(ErrorCode::not_found, "no user " + user_key);
      row.user_id = (*user)->id;
      if (auto ok = record_daemon_connected(tx, row); !ok) return ok;
      auto down =
          record_daemon_status(tx, row.id, row.connection_id, DaemonStatus::disconnected, 0);
      if (!down) return fail(down.error());
      return {};
    });
    if (exit_code == 0) std::printf("%s\n", row.id.c_str());
  });
  add_daemon_dial_key(*daemon, options, exit_code);
  add_daemon_connect(*daemon, options, exit_code);
}

void add_admin_commands(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<AdminOptions>();
  add_db(app, options, exit_code);
  auto* admin = app.add_subcommand("admin", "Users, tokens and managed daemons (operators, tests)");
  admin->require_subcommand(1);
  add_users(*admin, options, exit_code);
  add_tokens(*admin, options, exit_code);
  add_daemons(*admin, options, exit_code);
}

}  // namespace reliant

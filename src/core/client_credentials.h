// Which server a client command (`reliant chat`, `run`, `workflow run|list`, `mcp files`,
// `daemon list`, …) talks to, and with which token: the flags, then the environment, then the
// saved login of `reliant auth login`, then a monolith's data directory. Pure: the caller reads
// the environment and the files and hands them in.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reliant {

// The server when nothing names one: a monolith on this machine with its default port.
inline constexpr std::string_view kDefaultClientServer = "https://127.0.0.1:8080";

// What `reliant auth login` saved: the server it signed in to and the token it got there.
struct SavedLogin {
  std::string server;
  std::string token;
};

// Everything that may name the server or the token; an empty string is "not given".
struct ClientCredentialSources {
  std::string server_flag;        // --server
  std::string server_env;         // RELIANT_SERVER_URL
  std::string legacy_server_env;  // RELIANT_SERVER: deprecated, still read
  std::string token_flag;         // --token
  std::string token_env;          // RELIANT_TOKEN
  std::optional<SavedLogin> login;
  // --data-dir or DATA_DIR was given: the command asks for that monolith, so the saved login
  // does not choose the server (its token is still used when it is for the chosen server).
  bool data_dir_given = false;
};

enum class ServerSource { flag, environment, legacy_environment, saved_login, fallback };
enum class TokenSource { flag, environment, saved_login, data_dir };

struct ClientCredentials {
  std::string server;  // never empty
  ServerSource server_source = ServerSource::fallback;
  // Empty exactly when token_source is data_dir: the caller reads DATA_DIR/auth/token.
  std::string token;
  TokenSource token_source = TokenSource::data_dir;
  std::vector<std::string> warnings;  // one line each, for stderr (without "warning: ")
};

// Server: --server > RELIANT_SERVER_URL > RELIANT_SERVER (with a deprecation warning) > the
// saved login's (unless a data dir was given) > kDefaultClientServer. Token: --token >
// RELIANT_TOKEN > the saved login when it is for the chosen server > the data directory's.
ClientCredentials choose_client_credentials(const ClientCredentialSources& sources);

// Whether two server URLs name one server: equal but for trailing slashes.
bool same_server(std::string_view a, std::string_view b);

// Where a token came from, for messages: "--token", "RELIANT_TOKEN", "the saved login",
// "the data directory".
std::string_view token_source_name(TokenSource source);

}  // namespace reliant

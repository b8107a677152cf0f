// The daemon's files on the user's machine (spec S0.3, S0.19): the credentials file (per OS) with
// the login of `reliant auth login` next to it, the identity file ~/.reliant/daemon.json (stable
// daemon id and labels), the PID and log files of `reliant daemon start --background`, and where
// the request journal is (file_request_journal.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"

namespace reliant {

struct DaemonPaths {
  std::string credentials;  // ~/.config/reliant/auth/reliant-daemon.json on Linux
  std::string login;        // ~/.config/reliant/auth/credentials.json: `reliant auth login`
  std::string identity;     // ~/.reliant/daemon.json
  std::string journal;      // ~/.reliant/daemon-requests.journal
  std::string pid;          // ~/.reliant/daemon.pid
  std::string log;          // ~/.reliant/daemon.log
};

// From $HOME (and $XDG_CONFIG_HOME on Linux). Fails when HOME is not set.
Result<DaemonPaths> daemon_paths();

// The daemon's credentials file and the login's have this shape.
struct DaemonCredentials {
  std::string token;
  std::string user_id;   // when known
  std::string server;    // the API server it was issued by
  std::string email;     // when known
  std::string token_id;  // when known: what `auth logout` revokes
};

// nullopt when the file does not exist; an error naming the file when it is unreadable.
Result<std::optional<DaemonCredentials>> load_credentials(const std::string& path);
// Written with mode 0600 (the file holds a secret), atomically.
Result<void> save_credentials(const std::string& path, const DaemonCredentials& credentials);
Result<void> remove_file_if_exists(const std::string& path);
// Replaces `path` with `text` through a temporary file and a rename (a crash never leaves half a
// file), mode 0600, creating its folder private when it is missing.
Result<void> write_private_file(const std::string& path, const std::string& text);

struct DaemonIdentityFile {
  std::string daemon_id;
  std::map<std::string, std::string> labels;
  std::uint64_t registration_seq = 0;  // the last registration's number (Register)
};
Result<DaemonIdentityFile> load_identity(const std::string& path);  // empty when absent
Result<void> save_identity(const std::string& path, const DaemonIdentityFile& identity);

// "a=1,b=2" → {a:1, b:2}; precise error on a malformed pair.
Result<std::map<std::string, std::string>> parse_labels(const std::string& text);

}  // namespace reliant

// The server's secrets key (--secrets-key-file, RELIANT_SECRETS_KEY_FILE): 32 random bytes,
// written as 64 hex digits on the file's first line (`openssl rand -hex 32 > FILE`), that seal
// what users keep in their settings (their provider API keys) and never enter the database. The
// api servers and the workers of one deployment read the same file. The monolith makes one in
// its data directory (secrets.key, 0600) the first time it starts without one.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "base/result.h"
#include "base/sealed_box.h"

namespace reliant {

void add_secrets_key_option(CLI::App& command, std::string& file);

// The key in `path`; invalid_argument naming the file and what is wrong with it (never its text).
Result<std::shared_ptr<const SealKey>> read_secrets_key(const std::string& path);

// `file` when given, else the data directory's secrets.key, made now when it does not exist.
Result<std::shared_ptr<const SealKey>> monolith_secrets_key(const std::string& file,
                                                            const std::string& data_dir);

}  // namespace reliant

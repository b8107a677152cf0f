// The monolith's local account: the user a desktop install acts as, and a personal access
// token for it in DATA_DIR/auth/token (0600), so `reliant chat` on the same machine needs no
// login. Created on first start; a token that no longer works is replaced.
#pragma once

#include <string>

#include "adapters/asio/asio_executor.h"
#include "runtime/store.h"

namespace reliant {

struct LocalAccount {
  std::string user_id;
  std::string token_file;
  bool created = false;  // a new token was written this time
};

std::string local_token_path(const std::string& data_dir);

// Blocks on `executor` (call before it runs).
Result<LocalAccount> ensure_local_account(AsioExecutor& executor, Store& store,
                                          const std::string& data_dir);

// The token in DATA_DIR/auth/token; not_found when there is none.
Result<std::string> read_local_token(const std::string& data_dir);

// The web app's one-time sign-in link in DATA_DIR/auth/web-link (0600, replaced), for scripts
// and tests. Best effort: the log shows the link too.
void write_web_link(const std::string& data_dir, const std::string& link);

}  // namespace reliant

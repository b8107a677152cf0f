// The data directory (DATA_DIR) and the other folders that hold a process's private files:
// created so that only their owner can enter them, and claimed by the one process that owns
// the data directory's database.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "app/file_lock.h"
#include "base/result.h"

namespace reliant {

// Creates `path`, with any missing parents, the folder itself with mode 0700. An existing
// folder is left as it is: its mode is returned so that the caller can warn when others may
// enter it (the files inside are 0600 whatever the folder's mode). Fails with `unavailable`
// naming the folder when it cannot be created or is not a folder.
Result<mode_t> ensure_private_directory(const std::string& path);

// For the commands that own a data directory: ensure_private_directory, plus a warning in the
// log when the folder already existed with permissions for its group or others.
Result<void> prepare_data_dir(const std::string& path);

// Claims the directory `path` for this process while the lock lives (DATA_DIR/reliant.lock).
// Who takes it: `reliant monolith` (its engine, embedded daemon and request journal all live
// on this directory: a second monolith ran every in-flight tool again) and `reliant server
// worker` on SQLite (it would take over the monolith's engine tasks, or another worker's).
// Not the commands that only read or make small changes (admin, db migrate status, workflow
// show): SQLite serializes their writes and they run beside a monolith on purpose, as does a
// stateless `server api` or `gateway`. A second claim fails with `already_exists`:
// "another reliant process (pid N) is using DATA_DIR <path> …".
Result<std::unique_ptr<ExclusiveFileLock>> lock_data_dir(const std::string& path);

}  // namespace reliant

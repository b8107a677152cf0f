// The data directory (DATA_DIR) and the other folders that hold a process's private files:
// created so that only their owner can enter them.
#pragma once

#include <sys/types.h>

#include <string>

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

}  // namespace reliant

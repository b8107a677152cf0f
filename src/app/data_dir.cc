// Private folders (mkdir with 0700 for the leaf, a look at an existing one's mode) and the
// data directory's lock.
#include "app/data_dir.h"

#include <errno.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>

namespace reliant {

Result<mode_t> ensure_private_directory(const std::string& given) {
  namespace fs = std::filesystem;
  const std::string path = given.empty() ? "." : given;  // the folder of a bare file name
  std::error_code ec;
  const fs::path folder(path);
  if (folder.has_parent_path() && !folder.parent_path().empty()) {
    fs::create_directories(folder.parent_path(), ec);
    if (ec) {
      return fail(ErrorCode::unavailable,
                  "cannot create " + folder.parent_path().string() + ": " + ec.message());
    }
  }
  // mkdir applies the umask, which only ever removes bits: 0700 stays 0700 or less.
  if (::mkdir(path.c_str(), 0700) == 0) return mode_t{0700};
  if (errno != EEXIST) {
    return fail(ErrorCode::unavailable, "cannot create " + path + ": " + std::strerror(errno));
  }
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return fail(ErrorCode::unavailable, path + " exists and is not a directory");
  }
  return static_cast<mode_t>(info.st_mode & 07777);
}

Result<void> prepare_data_dir(const std::string& path) {
  auto mode = ensure_private_directory(path);
  if (!mode) return fail(mode.error());
  // Left as it is: the operator may share it on purpose (a group that makes backups), and the
  // database, token, key and journal inside are 0600 anyway.
  if ((*mode & 077) != 0) {
    spdlog::warn(
        "the data directory {} can be entered by others (mode {:o}); its files are private "
        "(0600), but `chmod 700 {}` keeps even their names to you",
        path, static_cast<unsigned>(*mode), path);
  }
  return {};
}

Result<std::unique_ptr<ExclusiveFileLock>> lock_data_dir(const std::string& path) {
  const std::string lock_file = (std::filesystem::path(path) / "reliant.lock").string();
  return ExclusiveFileLock::acquire(
      lock_file, "DATA_DIR " + path,
      "stop it first, or give this one another --data-dir (two processes on one data directory "
      "would run the same tools twice)");
}

}  // namespace reliant

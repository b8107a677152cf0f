// flock(2) on a file of its own, with the holder's pid inside for messages.
#include "app/file_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <optional>

namespace reliant {
namespace {

// The pid the holder of `path`'s lock wrote, when there is one.
std::optional<long> holder(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  return pid;
}

}  // namespace

Result<std::unique_ptr<ExclusiveFileLock>> ExclusiveFileLock::acquire(const std::string& path,
                                                                      std::string_view what,
                                                                      std::string_view advice) {
  // O_CLOEXEC: processes started from here (tools) must not inherit the lock and keep it alive
  // after this process is gone.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return fail(ErrorCode::unavailable,
                "cannot open the lock file " + path + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      const auto pid = holder(path);
      return fail(ErrorCode::already_exists,
                  "another reliant process" + (pid ? " (pid " + std::to_string(*pid) + ")" : "") +
                      " is using " + std::string(what) + ": " + std::string(advice));
    }
    return fail(ErrorCode::unavailable, "cannot lock " + path + ": " + std::strerror(error));
  }
  // Only for the message of whoever comes next: the lock itself is what counts.
  const std::string pid = std::to_string(::getpid()) + "\n";
  const bool recorded = ::ftruncate(fd, 0) == 0 &&
                        ::pwrite(fd, pid.data(), pid.size(), 0) == static_cast<ssize_t>(pid.size());
  (void)recorded;
  return std::unique_ptr<ExclusiveFileLock>(new ExclusiveFileLock(fd));
}

ExclusiveFileLock::~ExclusiveFileLock() { ::close(fd_); }

}  // namespace reliant

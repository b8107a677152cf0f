// Files and trees on open descriptors (descriptor_trees.h).
#include "adapters/host/descriptor_trees.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>

#include "adapters/host/errno_error.h"
#include "base/assert.h"
#include "core/path.h"
#include "runtime/host.h"

namespace reliant {

// The entries of the directory `fd` (not "." and ".."), in the order the file system gives.
Result<std::vector<std::string>> entry_names(int fd, const std::string& path) {
  Fd reading(::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!reading) return fail(from_errno(errno, "cannot list " + path));
  DIR* dir = ::fdopendir(reading.get());
  if (dir == nullptr) return fail(from_errno(errno, "cannot list " + path));
  (void)reading.release();  // the DIR owns it now
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name(entry->d_name);
    if (name != "." && name != "..") names.emplace_back(name);
    if (names.size() > kTreeEntriesMax) break;  // the callers' bounds are all below this
  }
  const int error = errno;
  ::closedir(dir);
  if (error != 0) return fail(from_errno(error, "cannot list " + path));
  return names;
}

// Reads at most bytes_max + 1 bytes of the opened file without ever waiting for data.
Result<std::string> read_opened(int fd, const std::string& p, std::size_t bytes_max) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) return fail(from_errno(errno, "cannot stat " + p));
  if (S_ISDIR(info.st_mode)) return fail(ErrorCode::invalid_argument, p + " is a directory");
  // A FIFO would block and a device may never end (/dev/zero): regular files only.
  if (!S_ISREG(info.st_mode)) {
    return fail(ErrorCode::invalid_argument, p + " is not a regular file");
  }
  if (static_cast<std::uint64_t>(info.st_size) > bytes_max) {
    return fail(ErrorCode::resource_exhausted, p + " holds " + std::to_string(info.st_size) +
                                                   " bytes, more than the " +
                                                   std::to_string(bytes_max) + " allowed");
  }
  std::string content;
  std::array<char, 64 * 1024> buffer{};
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return fail(ErrorCode::invalid_argument,
                  p + " is not a file that can be read at once (it waits for data)");
    }
    if (n < 0) return fail(from_errno(errno, "cannot read " + p));
    if (n == 0) break;
    content.append(buffer.data(), static_cast<std::size_t>(n));
    // Kernel files report size 0 and may be endless: the size is checked as they are read.
    if (content.size() > bytes_max) {
      return fail(ErrorCode::resource_exhausted,
                  p + " holds more than the " + std::to_string(bytes_max) + " bytes allowed");
    }
  }
  return content;
}

Result<void> write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(from_errno(errno, "write"));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

// Counts what lies below the directory `fd` without following links, failing past the bounds
// or, with `copyable`, at anything that is not a file, link or directory.
Result<void> measure(int fd, const std::string& path, std::uint64_t bytes_max, bool copyable,
                     int depth, TreeSize& size) {
  if (depth > kTreeDepthMax) {
    return fail(ErrorCode::resource_exhausted,
                path + " is nested deeper than " + std::to_string(kTreeDepthMax) + " directories");
  }
  auto names = entry_names(fd, path);
  if (!names) return fail(names.error());
  for (const auto& name : *names) {
    if (++size.entries > kTreeEntriesMax) {
      return fail(
          ErrorCode::resource_exhausted,
          path + " holds more than the " + std::to_string(kTreeEntriesMax) + " entries allowed");
    }
    const std::string child = join_path(path, name);
    struct stat info {};
    if (::fstatat(fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      return fail(from_errno(errno, "cannot stat " + child));
    }
    if (S_ISREG(info.st_mode)) {
      size.bytes += static_cast<std::uint64_t>(info.st_size);
      if (size.bytes > bytes_max) {
        return fail(ErrorCode::resource_exhausted,
                    path + " holds more than the " + std::to_string(bytes_max) + " bytes allowed");
      }
    } else if (S_ISDIR(info.st_mode)) {
      Fd below(::openat(fd, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!below) return fail(from_errno(errno, "cannot open " + child));
      if (auto deeper = measure(below.get(), child, bytes_max, copyable, depth + 1, size);
          !deeper) {
        return deeper;
      }
    } else if (copyable && !S_ISLNK(info.st_mode)) {
      return fail(ErrorCode::invalid_argument, child + " is not a file, link or directory");
    }
  }
  return {};
}

// Removes the entry `name` of the directory `parent`, and everything below it (links go, never
// what they point to).
Result<void> remove_tree(int parent, const std::string& name, const std::string& path, int depth) {
  struct stat info {};
  if (::fstatat(parent, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
    return fail(from_errno(errno, "cannot remove " + path));
  }
  if (S_ISDIR(info.st_mode)) {
    if (depth > kTreeDepthMax) {
      return fail(ErrorCode::resource_exhausted, path + " is nested too deep to remove");
    }
    Fd dir(::openat(parent, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) return fail(from_errno(errno, "cannot remove " + path));
    auto names = entry_names(dir.get(), path);
    if (!names) return fail(names.error());
    for (const auto& child : *names) {
      if (auto removed = remove_tree(dir.get(), child, join_path(path, child), depth + 1);
          !removed) {
        return removed;
      }
    }
  }
  if (::unlinkat(parent, name.c_str(), S_ISDIR(info.st_mode) ? AT_REMOVEDIR : 0) != 0) {
    return fail(from_errno(errno, "cannot remove " + path));
  }
  return {};
}

// Copies the entry `from_name` of `from_dir` to the new entry `to_name` of `to_dir`: files with
// their permissions, links as links, directories with everything below them.
Result<void> copy_tree(int from_dir, const std::string& from_name, int to_dir,
                       const std::string& to_name, const std::string& path, int depth,
                       std::uint64_t& bytes_left) {
  struct stat info {};
  if (::fstatat(from_dir, from_name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
    return fail(from_errno(errno, "cannot copy " + path));
  }
  const mode_t permissions = info.st_mode & 07777;
  if (S_ISLNK(info.st_mode)) {
    std::array<char, PATH_MAX> target{};
    const ssize_t n = ::readlinkat(from_dir, from_name.c_str(), target.data(), target.size() - 1);
    if (n < 0) return fail(from_errno(errno, "cannot read the link " + path));
    if (::symlinkat(target.data(), to_dir, to_name.c_str()) != 0) {
      return fail(from_errno(errno, "cannot copy the link " + path));
    }
    return {};
  }
  if (S_ISREG(info.st_mode)) {
    Fd in(::openat(from_dir, from_name.c_str(),
                   O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!in) return fail(from_errno(errno, "cannot read " + path));
    Fd out(::openat(to_dir, to_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0600));
    if (!out) return fail(from_errno(errno, "cannot create the copy of " + path));
    std::array<char, 64 * 1024> buffer{};
    for (;;) {
      const ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail(from_errno(errno, "cannot read " + path));
      if (n == 0) break;
      // The file may have grown since it was measured.
      if (static_cast<std::uint64_t>(n) > bytes_left) {
        return fail(ErrorCode::resource_exhausted,
                    "the copy of " + path + " would write more than the " +
                        std::to_string(kCopyBytesMax) + " bytes allowed");
      }
      bytes_left -= static_cast<std::uint64_t>(n);
      if (auto written = write_all(out.get(), {buffer.data(), static_cast<std::size_t>(n)});
          !written) {
        return fail(from_errno(errno, "cannot write the copy of " + path));
      }
    }
    (void)::fchmod(out.get(), permissions);
    return {};
  }
  if (!S_ISDIR(info.st_mode)) {
    return fail(ErrorCode::invalid_argument, path + " is not a file, link or directory");
  }
  if (depth > kTreeDepthMax) {
    return fail(ErrorCode::resource_exhausted, path + " is nested too deep to copy");
  }
  Fd source(::openat(from_dir, from_name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!source) return fail(from_errno(errno, "cannot open " + path));
  if (::mkdirat(to_dir, to_name.c_str(), 0700) != 0) {
    return fail(from_errno(errno, "cannot create the copy of " + path));
  }
  Fd target(::openat(to_dir, to_name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!target) return fail(from_errno(errno, "cannot open the copy of " + path));
  auto names = entry_names(source.get(), path);
  if (!names) return fail(names.error());
  for (const auto& child : *names) {
    if (auto copied = copy_tree(source.get(), child, target.get(), child, join_path(path, child),
                                depth + 1, bytes_left);
        !copied) {
      return copied;
    }
  }
  (void)::fchmod(target.get(), permissions);
  return {};
}

}  // namespace reliant

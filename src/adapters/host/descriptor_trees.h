// Files and trees on open descriptors, beneath which ConfinedFiles has already resolved a path:
// none of these follows a link or leaves the directory it was given. A directory's names, a
// file read without waiting or written whole, and a tree measured, removed or copied, each
// bounded in depth and size. `path` in each names the entry in error messages only.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace reliant {

// A descriptor closed when it goes.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.release();
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

inline Fd duplicate(int fd) { return Fd(::fcntl(fd, F_DUPFD_CLOEXEC, 0)); }

// How deep a recursive remove, copy or measure descends (each level holds a descriptor).
inline constexpr int kTreeDepthMax = 256;

// The entries of the directory `fd` (not "." and ".."), in the order the file system gives.
Result<std::vector<std::string>> entry_names(int fd, const std::string& path);

// Reads at most bytes_max + 1 bytes of the opened file without ever waiting for data.
Result<std::string> read_opened(int fd, const std::string& p, std::size_t bytes_max);

Result<void> write_all(int fd, std::string_view bytes);

// Counts what lies below the directory `fd` without following links, failing past the bounds
// or, with `copyable`, at anything that is not a file, link or directory.
struct TreeSize {
  std::size_t entries = 0;
  std::uint64_t bytes = 0;
};
Result<void> measure(int fd, const std::string& path, std::uint64_t bytes_max, bool copyable,
                     int depth, TreeSize& size);

// Removes the entry `name` of the directory `parent`, and everything below it (links go, never
// what they point to).
Result<void> remove_tree(int parent, const std::string& name, const std::string& path, int depth);

// Copies the entry `from_name` of `from_dir` to the new entry `to_name` of `to_dir`: files with
// their permissions, links as links, directories with everything below them.
Result<void> copy_tree(int from_dir, const std::string& from_name, int to_dir,
                       const std::string& to_name, const std::string& path, int depth,
                       std::uint64_t& bytes_left);

}  // namespace reliant

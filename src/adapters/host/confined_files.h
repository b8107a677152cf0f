// ConfinedFiles: the real host's file operations, confined to its workspace roots without a race
// between checking a path and using it. Every path is opened beneath an open directory — with
// openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) from a root's descriptor where the kernel has
// it, else one component at a time with O_NOFOLLOW, following a symbolic link by reading it and
// resolving its target again from a root — and every operation then acts on that directory's
// descriptor and one name in it (openat, renameat2, unlinkat, mkdirat). A link that flips
// between the check and the use can no longer lead outside: nothing is looked up by a path
// twice. Excluded directories (the daemon's own data: its token, keys and database) are refused
// wherever a resolution meets them, by device and inode, also inside a root.
//
// Blocking and thread-safe: PosixHost calls it on its file threads. Paths are absolute and
// normalized.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "runtime/host.h"

namespace reliant {

struct ConfinedFilesOptions {
  // Absolute directories operations stay under; empty: anywhere this OS user can reach ("/").
  std::vector<std::string> roots;
  // Absolute directories never read, listed, changed or walked into, wherever they lie; one
  // that does not exist is ignored.
  std::vector<std::string> excluded;
  // False: always the component walk (tests cover both ways with it).
  bool use_openat2 = true;
};

class ConfinedFiles {
 public:
  explicit ConfinedFiles(ConfinedFilesOptions options);
  ~ConfinedFiles();
  ConfinedFiles(const ConfinedFiles&) = delete;
  ConfinedFiles& operator=(const ConfinedFiles&) = delete;

  // As the Host methods of the same names (runtime/host.h), path for path.
  Result<std::string> read(const std::string& path, std::size_t bytes_max) const;
  Result<void> write(const std::string& path, const std::string& content,
                     const std::string& temp_suffix) const;
  Result<std::vector<FileEntry>> list(const std::string& path, std::size_t entries_max) const;
  // The entry's path is `as_given`.
  Result<FileEntry> stat(const std::string& path, const std::string& as_given) const;
  Result<void> create_directory(const std::string& path) const;
  Result<void> remove(const std::string& path, bool recursive) const;
  Result<void> move(const std::string& from, const std::string& to) const;
  Result<void> copy(const std::string& from, const std::string& to) const;

  // Whether resolutions go through openat2 (the kernel has it, and it was asked for).
  bool uses_openat2() const { return openat2_.load(); }

  struct Place;  // a directory known by its descriptor, device and inode (internal)
  struct Located;

 private:
  // The directory holding `path`'s entry and the entry's name in it ("." for a root itself),
  // opened beneath a root. `follow_last`: a link at the end is followed (read, write); else it
  // is the entry (remove, move). `create_parents`: missing directories on the way are made.
  Result<Located> locate(const std::string& path, bool follow_last, bool create_parents) const;
  Result<Located> locate_fast(const std::string& path, bool follow_last) const;
  Result<Located> walk(const std::string& path, bool follow_last, bool create_parents) const;
  const Place* root_of(const std::string& path, std::string& relative) const;
  bool is_excluded(const struct stat& info) const;
  bool is_root(const struct stat& info) const;
  // Whether an excluded directory (or, with `roots_too`, a root) lies at or below the directory
  // `info` describes.
  bool holds_protected(const struct stat& info, bool roots_too) const;
  Error outside(const std::string& path, const std::string& landed) const;
  Error excluded_error(const std::string& path) const;
  // The target of a move or copy: absent, and its parents made.
  Result<Located> new_entry(const std::string& to) const;
  // The entry `path` itself (a link, not its target) for a remove or move: it exists, and is
  // neither "/", a root, nor a directory holding a root or an excluded directory. `info`: its
  // lstat.
  Result<Located> entry_to_change(const std::string& path, struct stat& info) const;

  std::vector<Place> roots_;  // "/" alone when confinement is off
  std::vector<Place> excluded_;
  std::unique_ptr<Place> slash_;  // "/", where a walk that starts outside every root begins
  std::string roots_listed_;      // for messages
  mutable std::atomic<bool> openat2_{false};
};

}  // namespace reliant

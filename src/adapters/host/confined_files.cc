// ConfinedFiles: resolving paths beneath the roots' descriptors (openat2, or a walk with
// O_NOFOLLOW that follows links itself), refusing excluded directories by device and inode,
// and the file operations on the directory descriptor and name a resolution gives.
#include "adapters/host/confined_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <limits>
#include <optional>

#include "adapters/host/descriptor_trees.h"
#include "adapters/host/errno_error.h"
#include "base/assert.h"
#include "core/path.h"

namespace reliant {

namespace {

// The symbolic links one resolution follows, as the kernel's own bound (ELOOP).
constexpr int kLinksMax = 40;
// How often an operation resolves again when the entry it found turned into a link before it
// could open it (someone keeps flipping it): each try is race-free; this bounds the retries.
constexpr int kAttemptsMax = 8;
// How far up from a directory a search for its ancestors goes.
constexpr int kAncestorsMax = 4096;

bool same_file(const struct stat& a, dev_t dev, ino_t ino) {
  return a.st_dev == dev && a.st_ino == ino;
}

std::vector<std::string> components(std::string_view relative) {
  std::vector<std::string> out;
  while (!relative.empty()) {
    const std::size_t slash = relative.find('/');
    const std::string_view part = relative.substr(0, slash);
    if (!part.empty()) out.emplace_back(part);
    relative.remove_prefix(slash == std::string_view::npos ? relative.size() : slash + 1);
  }
  return out;
}

// The target of the link `fd` was opened on (O_PATH | O_NOFOLLOW): the link itself, read once.
Result<std::string> read_link(int fd, const std::string& path) {
  std::array<char, PATH_MAX> buffer{};
  const ssize_t n = ::readlinkat(fd, "", buffer.data(), buffer.size());
  if (n < 0) return fail(from_errno(errno, "cannot read the link " + path));
  if (static_cast<std::size_t>(n) == buffer.size()) {
    return fail(ErrorCode::invalid_argument, "the link " + path + " is too long");
  }
  return std::string(buffer.data(), static_cast<std::size_t>(n));
}

// Where resolving goes on after a link: its target (relative to the link's directory `dir`)
// followed by what was left of the path.
std::string after_link(const std::string& dir, const std::string& target,
                       const std::vector<std::string>& parts, std::size_t next) {
  std::string out = is_absolute_path(target) ? target : join_path(dir, target);
  for (std::size_t i = next; i < parts.size(); ++i) out += "/" + parts[i];
  return normalize_path(out);
}

long openat2_call(int dir, const char* path, std::uint64_t flags) {
  open_how how{};
  how.flags = flags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return ::syscall(SYS_openat2, dir, path, &how, sizeof how);
}

}  // namespace

struct ConfinedFiles::Place {
  std::string path;       // as configured (absolute, normalized)
  std::string canonical;  // with its links resolved when it was opened
  Fd fd;                  // O_PATH; closed when absent
  dev_t dev = 0;
  ino_t ino = 0;
  bool holds_excluded = false;  // (roots) an excluded directory lies below it
};

struct ConfinedFiles::Located {
  Fd dir;            // O_PATH, beneath a root
  std::string name;  // of the entry in `dir`; "." for a root itself
  std::string path;  // where the entry is, links resolved (for messages)
};

namespace {

ConfinedFiles::Place open_place(const std::string& path) {
  ConfinedFiles::Place place;
  place.path = normalize_path(path);
  place.canonical = place.path;
  place.fd = Fd(::open(place.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!place.fd) return place;
  struct stat info {};
  if (::fstat(place.fd.get(), &info) != 0) {
    place.fd.reset();
    return place;
  }
  place.dev = info.st_dev;
  place.ino = info.st_ino;
  if (char* real = ::realpath(place.path.c_str(), nullptr)) {
    place.canonical = real;
    ::free(real);
  }
  return place;
}

// Whether the directory `start` is, or lies below, the directory (dev, ino): up through ".."
// from where `start` is now, so a directory moved since it was opened is judged where it is.
bool lies_within(int start, dev_t dev, ino_t ino) {
  Fd current = duplicate(start);
  for (int level = 0; current && level < kAncestorsMax; ++level) {
    struct stat info {};
    if (::fstat(current.get(), &info) != 0) return false;
    if (same_file(info, dev, ino)) return true;
    Fd parent(::openat(current.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
    struct stat above {};
    if (!parent || ::fstat(parent.get(), &above) != 0) return false;
    if (same_file(above, info.st_dev, info.st_ino)) return false;  // "/": its own parent
    current = std::move(parent);
  }
  return false;
}

}  // namespace

ConfinedFiles::ConfinedFiles(ConfinedFilesOptions options) {
  slash_ = std::make_unique<Place>(open_place("/"));
  RELIANT_ASSERT_MSG(slash_->fd, "cannot open /");
  if (options.roots.empty()) options.roots = {"/"};
  for (const auto& root : options.roots) {
    RELIANT_ASSERT_MSG(is_absolute_path(root), "workspace roots are absolute paths");
    roots_.push_back(open_place(root));
    roots_listed_ += (roots_listed_.empty() ? "" : ", ") + roots_.back().canonical;
  }
  for (const auto& path : options.excluded) {
    RELIANT_ASSERT_MSG(is_absolute_path(path), "excluded directories are absolute paths");
    Place place = open_place(path);
    if (place.fd) excluded_.push_back(std::move(place));
  }
  for (auto& root : roots_) {
    for (const auto& excluded : excluded_) {
      if (root.fd && lies_within(excluded.fd.get(), root.dev, root.ino)) root.holds_excluded = true;
    }
  }
  if (options.use_openat2) {
    // Probed once: ENOSYS where the kernel predates it (5.6), EPERM where a seccomp filter
    // refuses system calls it does not know.
    Fd probe(static_cast<int>(openat2_call(slash_->fd.get(), ".", O_PATH | O_CLOEXEC)));
    openat2_ = static_cast<bool>(probe);
  }
}

ConfinedFiles::~ConfinedFiles() = default;

const ConfinedFiles::Place* ConfinedFiles::root_of(const std::string& path,
                                                   std::string& relative) const {
  const Place* best = nullptr;
  std::size_t best_length = 0;
  for (const auto& root : roots_) {
    for (const std::string* form : {&root.path, &root.canonical}) {
      if (path_within(*form, path) && (best == nullptr || form->size() > best_length)) {
        best = &root;
        best_length = form->size();
        relative = path.substr(std::min(path.size(), *form == "/" ? 1 : form->size() + 1));
      }
    }
  }
  return best;
}

bool ConfinedFiles::is_excluded(const struct stat& info) const {
  return std::any_of(excluded_.begin(), excluded_.end(),
                     [&](const Place& place) { return same_file(info, place.dev, place.ino); });
}

bool ConfinedFiles::is_root(const struct stat& info) const {
  return std::any_of(roots_.begin(), roots_.end(), [&](const Place& place) {
    return place.fd && same_file(info, place.dev, place.ino);
  });
}

bool ConfinedFiles::holds_protected(const struct stat& info, bool roots_too) const {
  for (const auto* places : {&excluded_, &roots_}) {
    if (places == &roots_ && !roots_too) continue;
    for (const auto& place : *places) {
      if (place.fd && lies_within(place.fd.get(), info.st_dev, info.st_ino)) return true;
    }
  }
  return false;
}

Error ConfinedFiles::outside(const std::string& path, const std::string& landed) const {
  return Error{ErrorCode::permission_denied,
               path + (landed != path ? " (" + landed + ")" : std::string()) +
                   " is outside the daemon's workspace (" + roots_listed_ +
                   "); a daemon started with --workspace-root or --unconfined reaches more"};
}

Error ConfinedFiles::excluded_error(const std::string& path) const {
  return Error{ErrorCode::permission_denied,
               path +
                   " is in the daemon's own data (its credentials and database), which its "
                   "file tools never reach"};
}

Result<ConfinedFiles::Located> ConfinedFiles::locate(const std::string& path, bool follow_last,
                                                     bool create_parents) const {
  RELIANT_ASSERT(is_absolute_path(path));
  // The system's calls end a path at its first NUL: one that holds a NUL would name another
  // file than the one asked for.
  if (path.find('\0') != std::string::npos) {
    return fail(ErrorCode::invalid_argument, "a path cannot hold a NUL byte");
  }
  if (openat2_.load()) {
    auto fast = locate_fast(path, follow_last);
    if (fast) return fast;
    // Anything but a plain answer (a link to follow at the end, a link out of the root, a
    // missing parent to create, an error to name precisely) goes the careful way.
  }
  return walk(path, follow_last, create_parents);
}

// One openat2 for the directories, beneath the root they lie in. Fails (with no meaning of its
// own) whenever the walk must decide; only for roots with nothing excluded below them, since
// openat2 cannot refuse a directory on its way.
Result<ConfinedFiles::Located> ConfinedFiles::locate_fast(const std::string& path,
                                                          bool follow_last) const {
  std::string relative;
  const Place* root = root_of(path, relative);
  if (root == nullptr || !root->fd || root->holds_excluded || relative.empty()) {
    return fail(ErrorCode::failed_precondition, "walk");
  }
  const std::size_t slash = relative.rfind('/');
  Located out;
  out.name = slash == std::string::npos ? relative : relative.substr(slash + 1);
  out.path = path;
  if (slash == std::string::npos) {
    out.dir = duplicate(root->fd.get());
  } else {
    const std::string dir = relative.substr(0, slash);
    const long fd = openat2_call(root->fd.get(), dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOSYS) openat2_ = false;
      return fail(ErrorCode::failed_precondition, "walk");
    }
    out.dir = Fd(static_cast<int>(fd));
  }
  struct stat info {};
  if (follow_last && ::fstatat(out.dir.get(), out.name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISLNK(info.st_mode)) {
    return fail(ErrorCode::failed_precondition, "walk");
  }
  return out;
}

// One component at a time, each opened with O_NOFOLLOW relative to the last: a link is read
// and its target resolved again from the start (a root, when it lies lexically in one, else
// "/"), so an absolute target or ".." that leaves a root is judged like any other path. The
// walk is inside once it stands in a root — by device and inode, not by name — and refuses an
// excluded directory the moment it meets one.
Result<ConfinedFiles::Located> ConfinedFiles::walk(const std::string& path, bool follow_last,
                                                   bool create_parents) const {
  std::string pending = path;
  for (int links = 0;; ++links) {
    if (links > kLinksMax) {
      return fail(ErrorCode::invalid_argument, path + ": too many levels of symbolic links");
    }
    std::string relative;
    const Place* root = root_of(pending, relative);
    const Place& start = root != nullptr ? *root : *slash_;
    if (!start.fd)
      return fail(ErrorCode::not_found, "workspace root " + start.path + " does not exist");
    bool inside = root != nullptr;
    std::string walked = root != nullptr
                             ? normalize_path(pending.substr(0, pending.size() - relative.size()))
                             : std::string("/");
    const std::vector<std::string> parts = components(relative);
    if (parts.empty()) {
      if (!inside) return fail(outside(path, pending));
      return Located{duplicate(start.fd.get()), ".", walked};
    }
    Fd owned;
    int current = start.fd.get();
    std::optional<std::string> next;
    for (std::size_t i = 0; i < parts.size() && !next; ++i) {
      const std::string& part = parts[i];
      const std::string here = join_path(walked, part);
      if (i + 1 == parts.size()) {
        struct stat info {};
        const bool exists = ::fstatat(current, part.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0;
        if (exists && S_ISLNK(info.st_mode) && follow_last) {
          Fd link(::openat(current, part.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
          if (!link) return fail(from_errno(errno, "cannot open " + here));
          auto target = read_link(link.get(), here);
          if (!target) return fail(target.error());
          next = after_link(walked, *target, parts, i + 1);
          break;
        }
        if (!inside) return fail(outside(path, here));
        if (exists && S_ISDIR(info.st_mode) && is_excluded(info)) return fail(excluded_error(path));
        return Located{owned ? std::move(owned) : duplicate(current), part, here};
      }
      Fd below(::openat(current, part.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
      if (!below && errno == ENOENT && inside && create_parents) {
        if (::mkdirat(current, part.c_str(), 0777) != 0 && errno != EEXIST) {
          return fail(from_errno(errno, "cannot create " + here));
        }
        below = Fd(::openat(current, part.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
      }
      if (!below) {
        if (errno == ENOENT && !inside) return fail(outside(path, pending));
        if (errno == ENOENT) return fail(ErrorCode::not_found, path + " does not exist");
        return fail(from_errno(errno, "cannot open " + here));
      }
      struct stat info {};
      if (::fstat(below.get(), &info) != 0) return fail(from_errno(errno, "cannot stat " + here));
      if (S_ISLNK(info.st_mode)) {
        auto target = read_link(below.get(), here);
        if (!target) return fail(target.error());
        next = after_link(walked, *target, parts, i + 1);
        break;
      }
      if (!S_ISDIR(info.st_mode)) {
        return fail(ErrorCode::invalid_argument, path + ": " + here + " is not a directory");
      }
      if (is_excluded(info)) return fail(excluded_error(path));
      if (!inside && is_root(info)) inside = true;
      walked = here;
      owned = std::move(below);
      current = owned.get();
    }
    RELIANT_ASSERT(next.has_value());
    pending = std::move(*next);
  }
}

Result<std::string> ConfinedFiles::read(const std::string& path, std::size_t bytes_max) const {
  for (int attempt = 0; attempt < kAttemptsMax; ++attempt) {
    auto at = locate(path, true, false);
    if (!at) return fail(at.error());
    Fd file(::openat(at->dir.get(), at->name.c_str(),
                     O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC));
    if (!file && errno == ELOOP) continue;  // became a link since it was found: resolve again
    if (!file && errno == ENOENT) return fail(ErrorCode::not_found, path + " does not exist");
    if (!file) return fail(from_errno(errno, "cannot open " + path));
    return read_opened(file.get(), path, bytes_max);
  }
  return fail(ErrorCode::unavailable, path + " kept changing while it was opened");
}

Result<void> ConfinedFiles::write(const std::string& path, const std::string& content,
                                  const std::string& temp_suffix) const {
  for (int attempt = 0; attempt < kAttemptsMax; ++attempt) {
    // Through a link to its target (replacing the link itself would surprise the user), which
    // must be inside too; the directories on the way are made.
    auto at = locate(path, true, true);
    if (!at) return fail(at.error());
    if (at->name == ".") return fail(ErrorCode::invalid_argument, path + " is a directory");
    struct stat info {};
    const bool exists = ::fstatat(at->dir.get(), at->name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists && S_ISLNK(info.st_mode)) continue;  // became a link since it was found
    if (exists && S_ISDIR(info.st_mode)) {
      return fail(ErrorCode::invalid_argument, path + " is a directory");
    }
    // A temporary file beside it, then a rename over it: readers see the old file or the new
    // one, never half of it. Both act on the directory's descriptor, never on a path.
    std::string temp = "." + at->name + ".reliant-" + temp_suffix;
    if (temp.size() > NAME_MAX) temp = ".reliant-" + temp_suffix;
    Fd file(::openat(at->dir.get(), temp.c_str(),
                     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666));
    if (!file) return fail(from_errno(errno, "cannot create a temporary file beside " + path));
    if (exists) (void)::fchmod(file.get(), info.st_mode & 07777);
    int error = 0;
    if (auto written = write_all(file.get(), content); !written) error = errno;
    if (error == 0 && ::fsync(file.get()) != 0) error = errno;
    if (::close(file.release()) != 0 && error == 0) error = errno;
    if (error == 0 &&
        ::renameat(at->dir.get(), temp.c_str(), at->dir.get(), at->name.c_str()) != 0) {
      error = errno;
    }
    if (error != 0) {
      (void)::unlinkat(at->dir.get(), temp.c_str(), 0);
      if (error == EISDIR) return fail(ErrorCode::invalid_argument, path + " is a directory");
      return fail(from_errno(error, "cannot write " + path));
    }
    return {};
  }
  return fail(ErrorCode::unavailable, path + " kept changing while it was written");
}

Result<std::vector<FileEntry>> ConfinedFiles::list(const std::string& path,
                                                   std::size_t entries_max) const {
  for (int attempt = 0; attempt < kAttemptsMax; ++attempt) {
    auto at = locate(path, true, false);
    if (!at) return fail(at.error());
    Fd dir(::openat(at->dir.get(), at->name.c_str(),
                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!dir) {
      const int error = errno;
      struct stat info {};
      const bool exists =
          ::fstatat(at->dir.get(), at->name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0;
      if (exists && S_ISLNK(info.st_mode)) continue;  // became a link since it was found
      if (!exists) return fail(ErrorCode::not_found, path + " does not exist");
      if (error == ENOTDIR) return fail(ErrorCode::invalid_argument, path + " is not a directory");
      return fail(from_errno(error, "cannot list " + path));
    }
    struct stat self {};
    if (::fstat(dir.get(), &self) != 0) return fail(from_errno(errno, "cannot list " + path));
    if (is_excluded(self)) return fail(excluded_error(path));
    auto names = entry_names(dir.get(), path);
    if (!names) return fail(names.error());
    std::vector<FileEntry> entries;
    for (const auto& name : *names) {
      struct stat info {};
      if (::fstatat(dir.get(), name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone
      // The daemon's own data is not even shown.
      if (S_ISDIR(info.st_mode) && is_excluded(info)) continue;
      if (entries.size() == entries_max) {
        return fail(
            ErrorCode::resource_exhausted,
            path + " holds more than the " + std::to_string(entries_max) + " entries allowed");
      }
      FileEntry entry;
      entry.path = (path == "/" ? std::string("/") : path + "/") + name;
      entry.is_symlink = S_ISLNK(info.st_mode);
      struct stat target = info;
      if (entry.is_symlink && ::fstatat(dir.get(), name.c_str(), &target, 0) != 0) target = info;
      entry.is_directory = S_ISDIR(target.st_mode);  // follows links
      if (S_ISREG(target.st_mode)) entry.size_bytes = static_cast<std::uint64_t>(target.st_size);
      entries.push_back(std::move(entry));
    }
    std::sort(entries.begin(), entries.end(),
              [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
    return entries;
  }
  return fail(ErrorCode::unavailable, path + " kept changing while it was listed");
}

Result<FileEntry> ConfinedFiles::stat(const std::string& path, const std::string& as_given) const {
  auto entry_at = locate(path, false, false);
  if (!entry_at) return fail(entry_at.error());
  struct stat info {};
  if (::fstatat(entry_at->dir.get(), entry_at->name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return fail(ErrorCode::not_found, path + " does not exist");
    return fail(from_errno(errno, "cannot stat " + path));
  }
  FileEntry entry;
  entry.path = as_given;
  entry.is_symlink = S_ISLNK(info.st_mode);
  if (entry.is_symlink) {
    // What it points to, which must be inside too; a dangling link does not exist.
    auto target_at = locate(path, true, false);
    if (!target_at) return fail(target_at.error());
    if (::fstatat(target_at->dir.get(), target_at->name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return fail(ErrorCode::not_found, path + " does not exist");
      return fail(from_errno(errno, "cannot stat " + path));
    }
  }
  if (S_ISDIR(info.st_mode) && is_excluded(info)) return fail(excluded_error(path));
  entry.is_directory = S_ISDIR(info.st_mode);
  if (S_ISREG(info.st_mode)) entry.size_bytes = static_cast<std::uint64_t>(info.st_size);
  return entry;
}

Result<void> ConfinedFiles::create_directory(const std::string& path) const {
  auto at = locate(path, true, true);
  if (!at) return fail(at.error());
  if (at->name == ".") return {};  // a root: a directory already
  if (::mkdirat(at->dir.get(), at->name.c_str(), 0777) == 0) return {};
  if (errno != EEXIST) return fail(from_errno(errno, "cannot create " + path));
  struct stat info {};
  if (::fstatat(at->dir.get(), at->name.c_str(), &info, 0) != 0 || !S_ISDIR(info.st_mode)) {
    return fail(ErrorCode::invalid_argument, path + " is a file");
  }
  if (is_excluded(info)) return fail(excluded_error(path));
  return {};
}

Result<ConfinedFiles::Located> ConfinedFiles::entry_to_change(const std::string& path,
                                                              struct stat& info) const {
  if (path == "/") return fail(ErrorCode::permission_denied, "/ cannot be changed");
  auto at = locate(path, false, false);
  if (!at) return fail(at.error());
  if (at->name != "." &&
      ::fstatat(at->dir.get(), at->name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return fail(ErrorCode::not_found, path + " does not exist");
    return fail(from_errno(errno, "cannot change " + path));
  }
  if (at->name == "." || is_root(info)) {
    return fail(ErrorCode::permission_denied,
                path + " is a workspace root of the daemon, which it does not change");
  }
  if (S_ISDIR(info.st_mode) && holds_protected(info, true)) {
    return fail(
        ErrorCode::permission_denied,
        path + " holds the daemon's own data or a workspace root, which it does not change");
  }
  return at;
}

Result<void> ConfinedFiles::remove(const std::string& path, bool recursive) const {
  struct stat info {};
  auto at = entry_to_change(path, info);
  if (!at) return fail(at.error());
  if (!S_ISDIR(info.st_mode)) {
    if (::unlinkat(at->dir.get(), at->name.c_str(), 0) != 0) {
      return fail(from_errno(errno, "cannot remove " + path));
    }
    return {};
  }
  Fd dir(::openat(at->dir.get(), at->name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) return fail(from_errno(errno, "cannot remove " + path));
  auto names = entry_names(dir.get(), path);
  if (!names) return fail(names.error());
  if (!names->empty() && !recursive) {
    return fail(ErrorCode::failed_precondition,
                path + " is a directory that is not empty (remove it recursively)");
  }
  TreeSize size;
  if (auto measured =
          measure(dir.get(), path, std::numeric_limits<std::uint64_t>::max(), false, 0, size);
      !measured) {
    return measured;
  }
  return remove_tree(at->dir.get(), at->name, path, 0);
}

Result<ConfinedFiles::Located> ConfinedFiles::new_entry(const std::string& to) const {
  auto at = locate(to, false, false);
  if (!at && at.error().code == ErrorCode::not_found) at = locate(to, false, true);
  if (!at) return fail(at.error());
  struct stat info {};
  if (at->name == ".") {
    return fail(ErrorCode::permission_denied,
                to + " is a workspace root of the daemon, which it does not change");
  }
  if (::fstatat(at->dir.get(), at->name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0) {
    return fail(ErrorCode::already_exists, to + " exists already");
  }
  return at;
}

Result<void> ConfinedFiles::move(const std::string& from, const std::string& to) const {
  struct stat info {};
  auto source = entry_to_change(from, info);
  if (!source) return fail(source.error());
  if (path_within(from, to) || path_within(source->path, to)) {
    return fail(ErrorCode::invalid_argument, "cannot put " + from + " inside itself (" + to + ")");
  }
  auto target = new_entry(to);
  if (!target) return fail(target.error());
  if (::renameat2(source->dir.get(), source->name.c_str(), target->dir.get(), target->name.c_str(),
                  RENAME_NOREPLACE) == 0) {
    return {};
  }
  if (errno == EEXIST) return fail(ErrorCode::already_exists, to + " exists already");
  if (errno == EINVAL) {
    return fail(ErrorCode::invalid_argument, "cannot put " + from + " inside itself (" + to + ")");
  }
  if (errno != EXDEV) return fail(from_errno(errno, "cannot move " + from + " to " + to));
  // Another file system: a copy, then the original goes.
  if (auto copied = copy(from, to); !copied) return copied;
  return remove(from, true);
}

Result<void> ConfinedFiles::copy(const std::string& from, const std::string& to) const {
  // The source is read through whatever links lead to it: confined as a read is.
  auto source = locate(from, true, false);
  if (!source) return fail(source.error());
  struct stat info {};
  if (::fstatat(source->dir.get(), source->name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return fail(ErrorCode::not_found, from + " does not exist");
    return fail(from_errno(errno, "cannot copy " + from));
  }
  if (path_within(from, to) || path_within(source->path, to)) {
    return fail(ErrorCode::invalid_argument, "cannot put " + from + " inside itself (" + to + ")");
  }
  if (S_ISDIR(info.st_mode)) {
    if (holds_protected(info, false)) {
      return fail(ErrorCode::permission_denied,
                  from + " holds the daemon's own data, which it does not copy");
    }
    Fd dir(::openat(source->dir.get(), source->name.c_str(),
                    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) return fail(from_errno(errno, "cannot copy " + from));
    TreeSize size;
    if (auto measured = measure(dir.get(), from, kCopyBytesMax, true, 0, size); !measured) {
      return measured;
    }
  } else if (S_ISREG(info.st_mode)) {
    if (static_cast<std::uint64_t>(info.st_size) > kCopyBytesMax) {
      return fail(
          ErrorCode::resource_exhausted,
          from + " holds more than the " + std::to_string(kCopyBytesMax) + " bytes allowed");
    }
  } else {
    return fail(ErrorCode::invalid_argument, from + " is not a file, link or directory");
  }
  auto target = new_entry(to);
  if (!target) return fail(target.error());
  std::uint64_t bytes_left = kCopyBytesMax;
  auto copied = copy_tree(source->dir.get(), source->name, target->dir.get(), target->name, from, 0,
                          bytes_left);
  if (!copied) {
    (void)remove_tree(target->dir.get(), target->name, to, 0);  // a half copy is worse than none
    return copied;
  }
  return {};
}

}  // namespace reliant

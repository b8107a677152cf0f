// The request journal in a mapped file: read back at open, an id recorded by a copy, and the
// rewrite that keeps it bounded.
#include "app/file_request_journal.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "adapters/host/errno_error.h"
#include "app/data_dir.h"
#include "base/assert.h"

namespace reliant {
namespace {

// The smallest mapping: about 27,000 ids of a UUID's length before it first grows.
constexpr std::size_t kMinimumBytes = std::size_t{1} << 20;

std::size_t page_rounded(std::size_t bytes) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
}

Result<int> open_file(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | flags, 0600);
  if (fd < 0) return fail(from_errno(errno, "cannot open the request journal " + path));
  return fd;
}

Result<char*> map_file(int fd, std::size_t bytes, const std::string& path) {
  void* at = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (at == MAP_FAILED) return fail(from_errno(errno, "cannot map the request journal " + path));
  return static_cast<char*>(at);
}

// The file's blocks, allocated up to `bytes` (its size grows to that, with zeros).
Result<void> allocate(int fd, std::size_t bytes, const std::string& path) {
  if (const int error = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes)); error != 0)
    return fail(from_errno(error, "cannot allocate the request journal " + path));
  return {};
}

}  // namespace

FileRequestJournal::FileRequestJournal(std::string path, std::size_t capacity)
    : path_(std::move(path)), capacity_(capacity), memory_(capacity) {
  RELIANT_ASSERT(capacity_ > 0);
}

FileRequestJournal::~FileRequestJournal() {
  if (mapped_ != nullptr) ::munmap(mapped_, mapped_bytes_);
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<FileRequestJournal>> FileRequestJournal::open(const std::string& path,
                                                                     std::size_t capacity) {
  std::unique_ptr<FileRequestJournal> journal(new FileRequestJournal(path, capacity));
  if (auto made = ensure_private_directory(std::filesystem::path(path).parent_path().string());
      !made)
    return fail(made.error());
  auto lock = ExclusiveFileLock::acquire(
      path + ".lock", "the request journal " + path + " (a daemon of this user on this machine)",
      "stop it first (`reliant daemon stop`); two processes on one journal would run a tool "
      "request twice");
  if (!lock) return fail(lock.error());
  journal->lock_ = std::move(*lock);

  auto fd = open_file(path, 0);
  if (!fd) return fail(fd.error());
  struct stat file {};
  if (::fstat(*fd, &file) != 0) {
    const int error = errno;
    ::close(*fd);
    return fail(from_errno(error, "cannot read the request journal " + path));
  }
  // A journal written a line at a time (before the mapping) has no zeros after its lines: it
  // gets them here.
  const std::size_t bytes =
      page_rounded(std::max(static_cast<std::size_t>(file.st_size), kMinimumBytes));
  if (auto allocated = allocate(*fd, bytes, path); !allocated) {
    ::close(*fd);
    return fail(allocated.error());
  }
  if (auto mapped = journal->map(*fd, bytes); !mapped) {
    ::close(*fd);
    return fail(mapped.error());
  }

  const char* data = journal->mapped_;
  const void* zero = std::memchr(data, 0, bytes);
  journal->end_ =
      zero == nullptr ? bytes : static_cast<std::size_t>(static_cast<const char*>(zero) - data);
  std::string_view lines(data, journal->end_);
  while (!lines.empty()) {
    const std::size_t newline = std::min(lines.find('\n'), lines.size());
    if (newline > 0) {
      (void)journal->memory_.insert(std::string(lines.substr(0, newline)));
      ++journal->lines_;
    }
    lines.remove_prefix(std::min(newline + 1, lines.size()));
  }
  // A line cut short by a crash during its copy (its tool never started): ended, so that the
  // next id starts a line of its own.
  if (journal->end_ > 0 && data[journal->end_ - 1] != '\n') {
    if (!journal->make_room(1))
      return fail(ErrorCode::resource_exhausted, "cannot grow the request journal " + path);
    journal->mapped_[journal->end_++] = '\n';
  }
  return journal;
}

Result<void> FileRequestJournal::map(int fd, std::size_t bytes) {
  auto at = map_file(fd, bytes, path_);
  if (!at) return fail(at.error());
  adopt(fd, *at, bytes);
  return {};
}

void FileRequestJournal::adopt(int fd, char* mapped, std::size_t bytes) {
  if (mapped_ != nullptr) ::munmap(mapped_, mapped_bytes_);
  if (fd_ >= 0 && fd_ != fd) ::close(fd_);
  fd_ = fd;
  mapped_ = mapped;
  mapped_bytes_ = bytes;
}

bool FileRequestJournal::make_room(std::size_t bytes) {
  if (end_ + bytes <= mapped_bytes_) return true;
  const std::size_t grown = page_rounded(std::max(2 * mapped_bytes_, end_ + bytes));
  return allocate(fd_, grown, path_) && map(fd_, grown);
}

bool FileRequestJournal::contains(const std::string& request_id) const {
  return memory_.contains(request_id);
}

void FileRequestJournal::add(const std::string& request_id) {
  if (!memory_.insert(request_id)) return;
  if (!make_room(request_id.size() + 1)) return;
  std::memcpy(mapped_ + end_, request_id.data(), request_id.size());
  mapped_[end_ + request_id.size()] = '\n';
  end_ += request_id.size() + 1;
  if (++lines_ >= compact_at_lines_) compact();
}

void FileRequestJournal::compact() {
  // The newest capacity_ lines start after the newline that ends the one before them.
  std::size_t start = end_;
  std::size_t newlines = 0;
  while (start > 0 && !(mapped_[start - 1] == '\n' && ++newlines > capacity_)) --start;
  const std::string_view kept(mapped_ + start, end_ - start);

  // Should the rewrite fail (a full disk), the file grows on and the next try is later.
  compact_at_lines_ = lines_ + capacity_;
  const std::string temp = path_ + ".tmp";
  auto fd = open_file(temp, O_TRUNC);
  if (!fd) return;
  const std::size_t bytes = page_rounded(std::max(2 * kept.size(), kMinimumBytes));
  std::size_t written = 0;
  bool ok = static_cast<bool>(allocate(*fd, bytes, temp));
  while (ok && written < kept.size()) {
    const ssize_t n =
        ::pwrite(*fd, kept.data() + written, kept.size() - written, static_cast<off_t>(written));
    ok = n > 0;
    if (ok) written += static_cast<std::size_t>(n);
  }
  // Mapped before the rename: once renamed, the new file is the journal and must be the one
  // written to.
  char* mapped = nullptr;
  if (ok) {
    auto at = map_file(*fd, bytes, temp);
    if (at) mapped = *at;
  }
  if (mapped == nullptr || std::rename(temp.c_str(), path_.c_str()) != 0) {
    if (mapped != nullptr) ::munmap(mapped, bytes);
    ::close(*fd);
    (void)std::remove(temp.c_str());
    return;
  }
  adopt(*fd, mapped, bytes);
  end_ = written;
  lines_ = std::min(lines_, capacity_);
  compact_at_lines_ = 2 * capacity_;
}

}  // namespace reliant

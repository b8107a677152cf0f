// The daemon's request journal on disk (~/.reliant/daemon-requests.journal, the monolith's
// DATA_DIR/daemon-journal): the ids of the tool requests this machine started, kept across
// restarts of the process, so that a retry of a request an earlier run started is answered
// daemon_lost instead of running twice.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "app/file_lock.h"
#include "base/result.h"
#include "services/daemon/tool_runner.h"

namespace reliant {

// One id a line in a file mapped into memory. Recording an id is a copy into the mapping, no
// system call: the mapping is the kernel's page cache, so the copy survives a crash of the
// process as a write(2) would, which a tool call paid for at sustained load (the write, the
// stream's locking and the inode's time stamp). Neither survives the machine's power loss: the
// journal guards against the daemon's crash, not the machine's.
//
// The file is a run of lines and then zeros: its blocks are allocated before they are mapped,
// so a full disk fails the file's growth with an error, never a SIGBUS on the copy. Bounded:
// at twice `capacity` ids it is rewritten with the newest `capacity`, through a new file renamed
// over it, so a crash during the rewrite loses nothing. One process at a time: the file is read
// once, at open, and an exclusive lock on `path`.lock keeps a second process out.
class FileRequestJournal final : public daemon::RequestJournal {
 public:
  // Fails with already_exists, naming the holder's pid, while another process has the journal
  // open; with the system's error when the file cannot be created, allocated or mapped.
  static Result<std::unique_ptr<FileRequestJournal>> open(const std::string& path,
                                                          std::size_t capacity = 65536);
  ~FileRequestJournal() override;
  FileRequestJournal(const FileRequestJournal&) = delete;
  FileRequestJournal& operator=(const FileRequestJournal&) = delete;

  bool contains(const std::string& request_id) const override;
  // Always remembered for this process's life; in the file too unless the file cannot grow
  // (a full disk), when the file keeps what it had.
  void add(const std::string& request_id) override;

  std::size_t ids_in_file() const { return lines_; }

 private:
  FileRequestJournal(std::string path, std::size_t capacity);
  // Maps `fd` (allocated to at least `bytes`) in place of the current mapping and file.
  Result<void> map(int fd, std::size_t bytes);
  void adopt(int fd, char* mapped, std::size_t bytes);
  // Room for `bytes` more after end_: the file allocated further and mapped again.
  bool make_room(std::size_t bytes);
  // Rewrites the file with its newest `capacity_` ids.
  void compact();

  std::string path_;
  std::size_t capacity_;
  std::unique_ptr<ExclusiveFileLock> lock_;
  daemon::MemoryRequestJournal memory_;
  int fd_ = -1;
  char* mapped_ = nullptr;
  std::size_t mapped_bytes_ = 0;
  std::size_t end_ = 0;    // where the next id goes: the lines end here, zeros follow
  std::size_t lines_ = 0;  // ids in the file
  std::size_t compact_at_lines_ = 2 * capacity_;
};

}  // namespace reliant

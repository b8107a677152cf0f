// PosixHost: the real Host on the user's machine — commands through posix_spawn("/bin/sh -c"),
// files through std::filesystem — on an AsioExecutor's io_context, so output is read without
// ever blocking the component's executor.
//
// Each command runs in a process group of its own. A timeout or a cancel (destroying the task
// awaiting run()) sends SIGKILL to that whole group, so `sleep 30 & sleep 30` leaves nothing
// behind; killed processes are reaped asynchronously. A command that exits normally returns
// at once even when a background child it started still holds its output open; that child is
// left running (the pipe's read end is closed, so it gets SIGPIPE if it writes).
//
// File operations run inline on the executor thread: local files are small and fast, and the
// daemon has nothing else to do while a tool waits for one.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "adapters/asio/asio_executor.h"
#include "runtime/host.h"

namespace reliant {

class PosixHost final : public Host {
 public:
  // `working_dir` must be absolute; relative paths (and commands without one) use it.
  PosixHost(AsioExecutor& executor, std::string working_dir);
  ~PosixHost() override;
  PosixHost(const PosixHost&) = delete;
  PosixHost& operator=(const PosixHost&) = delete;

  Task<Result<ProcessOutcome>> run(ProcessSpec spec) override;
  Task<Result<std::string>> read_file(std::string path) override;
  Task<Result<void>> write_file(std::string path, std::string content) override;
  Task<Result<std::vector<FileEntry>>> list_directory(std::string path) override;
  Task<Result<FileEntry>> stat(std::string path) override;

  const std::string& working_dir() const { return working_dir_; }

 private:
  std::string resolve(const std::string& path) const;

  AsioExecutor& executor_;
  std::string working_dir_;
  std::uint64_t next_temp_ = 1;  // names of write_file's temporary files
};

// The daemon's Host. `working_dir` must be absolute.
std::unique_ptr<Host> make_posix_host(AsioExecutor& executor, std::string working_dir);

}  // namespace reliant

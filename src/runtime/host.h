// Host: the daemon's access to its machine — processes and files (docs/architecture.md §4).
//
// The real adapter uses posix_spawn and the file system; the simulator's host is an in-memory
// file system with scripted commands. Paths are absolute or relative to the host's working
// directory. Call every method on the owner's executor thread; every task resumes there.
//
// Higher-level file tools (glob, grep, edit) are built on these few operations in the daemon's
// tool layer, so they behave identically on every host.
//
// File operations are bounded: in bytes and entries (the limits below, or tighter ones the
// caller passes), and in time — a host never lets one stall its owner's executor, and an
// operation that does not finish within the host's own deadline fails with `timeout`. A host
// may confine them to workspace roots: a path outside every root, once `..` and symbolic links
// are resolved, fails with `permission_denied` and is never touched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "runtime/process_input.h"
#include "runtime/task.h"

namespace reliant {

struct ProcessSpec {
  std::string command;                     // run by the shell: /bin/sh -c "<command>"
  std::string working_dir;                 // empty: the host's working directory
  std::map<std::string, std::string> env;  // added to the host's environment
  Duration timeout{};                      // zero: no limit
  // Zero: no limit; beyond it output is cut (with separate_stderr, each stream on its own).
  std::size_t output_limit_bytes = 0;
  // Called on the executor's thread with each piece of output as it is produced — all of it,
  // regardless of output_limit_bytes (a streaming caller bounds its own copy); stdout only with
  // separate_stderr. Never called after the run's task has finished or been destroyed.
  std::function<void(std::string_view)> on_output;
  // False: ProcessOutcome::output stays empty (the caller keeps what on_output gave it).
  // error_output is collected either way: on_output never sees it.
  bool collect_output = true;
  // True: stderr is kept apart in ProcessOutcome::error_output (a caller that must tell a
  // command's result from its diagnostics, such as a workflow's run node); false: stdout and
  // stderr share one stream, interleaved as written.
  bool separate_stderr = false;
  // A process the caller talks to while it runs (an MCP server): its stdin, fed from here.
  // Null: stdin is /dev/null. The host ends it (ProcessInput::end) when the process ends.
  std::shared_ptr<ProcessInput> input;
  // Set: the command runs on a new pseudo-terminal of this size (needs `input`): its stdin,
  // stdout and stderr are the terminal, it leads a session of its own with the terminal as its
  // controlling one, TERM is xterm-256color unless `env` says otherwise, and the output is what
  // the terminal shows (the terminal echoes input, and ends lines with CR LF).
  // separate_stderr does not apply.
  std::optional<TerminalSize> terminal;
};

struct ProcessOutcome {
  int exit_code = 0;  // -1 when killed by a signal or on timeout
  bool timed_out = false;
  bool truncated = false;          // output or error_output exceeded output_limit_bytes
  std::string output;              // stdout and stderr interleaved; stdout only when separate
  std::string error_output;        // stderr with separate_stderr, else empty
  std::uint64_t output_bytes = 0;  // everything the process wrote (both streams), even if cut
};

struct FileEntry {
  std::string path;           // list_directory: the listed directory joined with the entry's name
  bool is_directory = false;  // follows symbolic links
  bool is_symlink = false;    // walkers do not descend into linked directories (no cycles)
  std::uint64_t size_bytes = 0;
};

// Decides whether one line of text matches (grep's pattern). A host may call it on threads of
// its own while the caller's executor goes on, so it must be safe to call from any thread at
// once: it keeps no state that matching changes. It must take time linear in the line.
class LineMatcher {
 public:
  virtual ~LineMatcher() = default;
  virtual bool matches(std::string_view line) const = 0;
};

// What one search_file looks at and keeps.
struct FileSearchLimits {
  std::size_t file_bytes_max = 10u << 20;  // a larger file fails with resource_exhausted
  // A file with a NUL byte in its first this many bytes is binary: not searched.
  std::size_t binary_probe_bytes = 8'192;
  // Only this much of a line is matched (a minified file may be one line of megabytes).
  std::size_t line_bytes_searched_max = 64u << 10;
  // Each matching line is kept up to this many bytes (cut at a UTF-8 boundary).
  std::size_t shown_line_bytes_max = 500;
  // The search stops once the kept lines hold this many bytes (zero: no limit).
  std::size_t shown_bytes_max = 0;
  // A search still matching after this long fails with `timeout` (and its thread is freed).
  Duration time_max = seconds(30);
};

struct MatchedLine {
  std::uint64_t number = 0;  // from 1
  std::string text;          // without its line end; cut at shown_line_bytes_max
  bool cut = false;          // the line was longer than what text keeps
};

struct FileSearch {
  std::uint64_t bytes = 0;  // the file's size
  bool binary = false;      // not searched: it looks binary
  std::vector<MatchedLine> lines;
  bool stopped = false;  // shown_bytes_max was reached: lines after the last kept one not searched
};

// The largest file read_file returns, and the most entries list_directory returns, unless the
// caller asks for less.
inline constexpr std::size_t kReadFileBytesMax = 64u << 20;
inline constexpr std::size_t kListEntriesMax = 100'000;
// The most entries a recursive remove or copy walks, and the most bytes a copy writes: past
// either, it fails with `resource_exhausted` before it changes anything.
inline constexpr std::size_t kTreeEntriesMax = 100'000;
inline constexpr std::uint64_t kCopyBytesMax = 1ull << 30;

class Host {
 public:
  virtual ~Host() = default;

  // Runs a command to completion (or timeout). Fails only when it cannot be started; a non-zero
  // exit is a successful outcome with that exit code. On timeout the process and everything it
  // started — its process group and every descendant, also those that left the group — are
  // killed and the outcome has timed_out set.
  //
  // Cancelling: destroying the task that awaits run() (e.g. destroying its Scope) kills the
  // process and every descendant at once; on_output is not called again. A command does not
  // see the environment of the process the host runs in, only ordinary variables (PATH, HOME,
  // locale...) and spec.env: no secret of the server or daemon reaches a tool.
  virtual Task<Result<ProcessOutcome>> run(ProcessSpec spec) = 0;

  // The whole file. Fails with `not_found` when absent, `invalid_argument` for a directory or
  // anything but a regular file that can be read at once (a FIFO, a device, a kernel file that
  // waits for data such as /proc/kmsg), and `resource_exhausted` when it holds more than
  // `bytes_max`.
  virtual Task<Result<std::string>> read_file(std::string path,
                                              std::size_t bytes_max = kReadFileBytesMax) = 0;
  // Creates parent directories as needed; replaces the file atomically. Fails with
  // `invalid_argument` when `path` is a directory or a parent is a file.
  virtual Task<Result<void>> write_file(std::string path, std::string content) = 0;
  // Entries directly under `path`, sorted by name. Fails with `not_found` when absent,
  // `invalid_argument` when `path` is not a directory, and `resource_exhausted` when it holds
  // more than `entries_max`.
  virtual Task<Result<std::vector<FileEntry>>> list_directory(
      std::string path, std::size_t entries_max = kListEntriesMax) = 0;
  // Fails with `not_found` when absent. The entry's path is `path` as given.
  virtual Task<Result<FileEntry>> stat(std::string path) = 0;
  // The lines of a text file that `matcher` matches, in order — read and matched where the
  // caller's executor is not held up (a slow pattern or a large file never stalls it). Fails as
  // read_file does (`resource_exhausted` past limits.file_bytes_max), and with `timeout` when
  // matching takes longer than limits.time_max.
  virtual Task<Result<FileSearch>> search_file(std::string path,
                                               std::shared_ptr<const LineMatcher> matcher,
                                               FileSearchLimits limits) = 0;

  // Creates a directory and its missing parents; succeeds when it is a directory already.
  // Fails with `invalid_argument` when it, or a parent, is a file.
  virtual Task<Result<void>> create_directory(std::string path) = 0;
  // Removes a file, a symbolic link (never what it points to) or an empty directory; with
  // `recursive`, a directory and everything under it. Fails with `not_found` when absent,
  // `failed_precondition` for a directory that is not empty without `recursive`,
  // `resource_exhausted` past kTreeEntriesMax entries (nothing is removed), and
  // `permission_denied` for a workspace root itself.
  virtual Task<Result<void>> remove_path(std::string path, bool recursive) = 0;
  // Moves (renames) a file, link or directory to `to`, creating `to`'s parents. Fails with
  // `not_found` when `from` is absent, `already_exists` when `to` exists, `invalid_argument`
  // when `to` lies inside `from`, and `permission_denied` for a workspace root itself.
  virtual Task<Result<void>> move_path(std::string from, std::string to) = 0;
  // Copies a file, or a directory and everything under it, to `to`, creating `to`'s parents;
  // links inside a copied directory are copied as links, never followed. Fails as move_path
  // does, and with `resource_exhausted` past kTreeEntriesMax entries or kCopyBytesMax bytes
  // (nothing is copied).
  virtual Task<Result<void>> copy_path(std::string from, std::string to) = 0;
};

}  // namespace reliant

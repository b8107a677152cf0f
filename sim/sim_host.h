// SimHost: the simulator's Host — an in-memory file system and scripted commands in virtual
// time. Deterministic, no real I/O: a command's output and exit happen at virtual instants on
// the owner's executor, and destroying the awaiting task withdraws its timer (that is the kill).
//
// Commands resolve in this order: an exact command registered with on_command, the longest
// prefix registered with on_prefix, then a small built-in shell that splits `;`, `&&`, `||`,
// honours quotes, `> file`, `>> file`, `>&2` and `2>&1`, and knows echo, cat, ls, pwd, cd, sleep
// (virtual time), true, false, exit and `:`. Anything else exits 127 "not found", like /bin/sh.
// Its complaints (not found, syntax errors, cd, sleep, a redirection it cannot create) go to
// stderr (cat's and ls's stay on stdout); stderr joins the output unless separate_stderr.
//
// A command given an input (ProcessSpec::input) that matches on_interactive runs as a scripted
// process that talks (a SimInteractive, e.g. sim/sim_mcp_server.h); a bare `cat` echoes it.
// Any command on a terminal (ProcessSpec::terminal) runs as a small interactive shell: the
// terminal echoes what is typed (CR LF for Enter, backspace erases), each line then runs as
// `echo`, `pwd`, `stty size` or an exact command registered with on_command (its output with CR
// LF line ends), after a `$ ` prompt; `exit [N]` or ^D on an empty line ends it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/executor.h"
#include "runtime/host.h"
#include "runtime/random.h"

namespace reliant::sim {

// One step of a scripted command: wait `after`, then write `output` to stdout, or to stderr.
struct SimCommandStep {
  Duration after{};
  std::string output;
  bool to_stderr = false;
};

struct SimCommandScript {
  std::vector<SimCommandStep> steps;
  int exit_code = 0;

  // Writes `output` at once, then exits with `exit_code` after `duration`.
  static SimCommandScript reply(std::string output, int exit_code = 0,
                                Duration duration = Duration::zero());
  // Writes `output` to stdout, then `error_output` to stderr, and exits with `exit_code`.
  static SimCommandScript reply_with_stderr(std::string output, std::string error_output,
                                            int exit_code = 0);
};

struct SimCommandCall {
  std::string command;      // the simple command (one link of a `;`/`&&` chain) or the whole line
  std::string working_dir;  // absolute
  std::map<std::string, std::string> env;
};

class SimHost;

// How a scripted process that talks (an MCP server over stdio) answers: what it writes and when
// it exits, in virtual time. Output never overtakes what the process wrote before it.
class SimProcessIo {
 public:
  virtual ~SimProcessIo() = default;
  virtual void write(std::string output, Duration after = Duration::zero(),
                     bool to_stderr = false) = 0;
  virtual void exit(int code, Duration after = Duration::zero()) = 0;
};

// A scripted process that talks: started for a run() whose spec has an input, told each piece
// of that input as it arrives (not split into lines: a reader buffers), and end of file.
class SimInteractive {
 public:
  virtual ~SimInteractive() = default;
  virtual void on_start(SimProcessIo& /*io*/) {}
  virtual void on_input(std::string_view data, SimProcessIo& io) = 0;
  virtual void on_end_of_input(SimProcessIo& io) { io.exit(0); }
  // The process's terminal was resized (ProcessSpec::terminal).
  virtual void on_resize(TerminalSize /*size*/, SimProcessIo& /*io*/) {}
};

struct SimCommandCall;
using SimInteractiveFactory =
    std::function<std::unique_ptr<SimInteractive>(SimHost& host, const SimCommandCall& call)>;

// Decides what a command does, at the virtual instant it starts. May read or change the file
// system through `host` (a scripted `make` can write its outputs).
using SimCommandHandler = std::function<SimCommandScript(SimHost& host, const SimCommandCall&)>;

// The faults of the machines under daemons, for one run (drawn per seed, cleared when the run
// heals): a command that hangs — no output, no exit, only its timeout or a kill ends it — and a
// write that finds the disk full. The world's one source, shared by every SimHost it is given to.
struct HostFaults {
  double hang = 0;       // per command run without an input
  double disk_full = 0;  // per file written through the port
  bool any() const { return hang > 0 || disk_full > 0; }
};

struct HostFaultStats {
  std::uint64_t hangs = 0;
  std::uint64_t disk_full = 0;
};

class SimHostFaults {
 public:
  explicit SimHostFaults(Random random) : random_(std::move(random)) {}
  HostFaults& faults() { return faults_; }
  const HostFaultStats& stats() const { return stats_; }
  // Whether this command hangs, this write finds the disk full; each yes is counted.
  bool hang() { return draw(faults_.hang, stats_.hangs); }
  bool disk_full() { return draw(faults_.disk_full, stats_.disk_full); }

 private:
  bool draw(double chance, std::uint64_t& count) {
    if (!random_.chance(chance)) return false;
    ++count;
    return true;
  }

  Random random_;
  HostFaults faults_;
  HostFaultStats stats_;
};

struct SimHostStats {
  std::uint64_t runs_started = 0;
  std::uint64_t runs_finished = 0;  // ended by themselves (any exit code)
  std::uint64_t runs_timed_out = 0;
  std::uint64_t runs_killed = 0;  // their task was destroyed first (cancel, crash)
};

class SimHost final : public Host {
 public:
  // `working_dir` (absolute) resolves relative paths; it is created. `roots`: file operations
  // stay under these directories (absolute; the in-memory file system has no symbolic links,
  // so `..` is all there is to resolve); empty: not confined.
  explicit SimHost(Executor& executor, std::string working_dir = "/",
                   std::vector<std::string> roots = {});
  // Destroy every task awaiting run() before the host.
  ~SimHost() override = default;

  // File operations never reach `directory` (absolute), nor anything below it, wherever it lies
  // — the daemon's own data (PosixHostOptions::excluded); listings leave it out.
  void exclude(std::string_view directory);

  // Commands may hang and writes find the disk full, as `faults` says (null: never).
  void set_faults(SimHostFaults* faults) { faults_ = faults; }

  // Scripted commands. A later registration of the same command or prefix replaces it.
  void on_command(std::string command, SimCommandScript script);
  void on_prefix(std::string prefix, SimCommandHandler handler);
  // Commands starting with `prefix` that are given an input run as `factory`'s process (the
  // longest prefix wins; without an input they run as any other command).
  void on_interactive(std::string prefix, SimInteractiveFactory factory);

  // The file system, for scenarios and tests to set up and check (components use the port).
  void put_file(std::string_view path, std::string content);
  void make_directory(std::string_view path);
  bool remove(std::string_view path);  // a file, or a directory with everything below it
  std::optional<std::string> file(std::string_view path) const;
  bool is_file(std::string_view path) const;
  bool is_directory(std::string_view path) const;
  const std::string& working_dir() const { return working_dir_; }

  // The script registered with on_command for exactly `command`, if any.
  std::optional<SimCommandScript> script_of(std::string_view command) const;
  // Every command line run() was given, in order.
  const std::vector<std::string>& commands_run() const { return commands_run_; }
  // Told of every run's end, as it happens: its command, and whether it was killed (cancelled,
  // or its caller destroyed) rather than ending by itself.
  using ProcessEnded = std::function<void(const std::string& command, bool killed)>;
  void on_process_end(ProcessEnded hook) { process_ended_ = std::move(hook); }
  std::size_t running() const { return running_; }
  const SimHostStats& stats() const { return stats_; }

  Task<Result<ProcessOutcome>> run(ProcessSpec spec) override;
  Task<Result<std::string>> read_file(std::string path, std::size_t bytes_max) override;
  Task<Result<void>> write_file(std::string path, std::string content) override;
  Task<Result<std::vector<FileEntry>>> list_directory(std::string path,
                                                      std::size_t entries_max) override;
  Task<Result<FileEntry>> stat(std::string path) override;
  Task<Result<FileSearch>> search_file(std::string path, std::shared_ptr<const LineMatcher> matcher,
                                       FileSearchLimits limits) override;
  Task<Result<void>> create_directory(std::string path) override;
  Task<Result<void>> remove_path(std::string path, bool recursive) override;
  Task<Result<void>> move_path(std::string from, std::string to) override;
  Task<Result<void>> copy_path(std::string from, std::string to) override;

 private:
  struct Run;  // one run() in progress: its outcome, working directory and deadline

  std::string resolve(std::string_view path) const;
  // Fails with permission_denied when `absolute` lies outside every root.
  Result<void> confined(const std::string& absolute) const;
  // As confined, and also when `absolute` is a root or "/": those are never changed.
  Result<void> confined_entry(const std::string& absolute) const;
  // Checks a move or copy: `from` exists, `to` does not and is not inside `from`; makes `to`'s
  // parents. Counts the entries and bytes under `from` against the bounds.
  Result<void> check_transfer(const std::string& from, const std::string& to);
  // Every file and explicit directory at or under `absolute`, as paths relative to it.
  std::vector<std::string> files_under(const std::string& absolute) const;
  std::vector<std::string> directories_under(const std::string& absolute) const;
  std::string resolve_from(std::string_view dir, std::string_view path) const;
  const SimCommandHandler* handler_for(std::string_view command) const;
  Result<void> store_file(const std::string& absolute, std::string content, bool append);
  std::vector<FileEntry> children(const std::string& dir) const;
  // Plays one script's steps into `run`; false when the deadline passed (the run timed out).
  Task<bool> play(Run& run, SimCommandScript script, std::optional<std::string> redirect,
                  bool append);
  SimCommandScript builtin(Run& run, const std::vector<std::string>& words);
  const SimInteractiveFactory* interactive_for(std::string_view command) const;
  // Runs a talking process until it exits; false when the deadline passed first.
  Task<bool> talk(Run& run, std::unique_ptr<SimInteractive> process);

  Executor& executor_;
  std::string working_dir_;
  std::vector<std::string> roots_;                         // normalized; empty: not confined
  std::vector<std::string> excluded_;                      // normalized
  std::map<std::string, std::string, std::less<>> files_;  // absolute path -> content
  std::set<std::string, std::less<>> directories_;         // explicit (possibly empty) ones
  std::map<std::string, SimCommandScript, std::less<>> exact_;
  std::map<std::string, SimCommandHandler, std::less<>> prefixes_;
  std::map<std::string, SimInteractiveFactory, std::less<>> interactive_;
  std::vector<std::string> commands_run_;
  ProcessEnded process_ended_;
  std::size_t running_ = 0;
  SimHostStats stats_;
  SimHostFaults* faults_ = nullptr;
};

}  // namespace reliant::sim

// ProcessTracker: which processes belong to which run of a command on the real host, so that a
// cancel, a timeout or the host's end kills all of them — also a descendant that left the
// process group and the session (setsid) and scrubbed its environment (env -i).
//
// Two ways, chosen when the host starts (docs/architecture.md §4):
//   - cgroup: each run's shell starts inside a cgroup v2 of its own (clone3 CLONE_INTO_CGROUP),
//     made under this process's cgroup (/proc/self/cgroup, wherever cgroup2 is mounted); every
//     process it starts stays in it, and a kill is cgroup.kill (where the kernel lacks it: freeze,
//     SIGKILL each pid of cgroup.procs, thaw). Needs a cgroup this process may create children
//     of and move processes into (root, or a delegated subtree such as systemd's Delegate=yes).
//   - parentage: where no such cgroup can be made. A thread reads /proc every kScanInterval
//     while anything of the host's runs lives and gives each new process the runs of its parent,
//     or of the process whose group or session it is in; a process this process adopted (it is
//     the child subreaper, enable_child_subreaper) goes to every run active when it was adopted.
//     A kill stops every member with SIGSTOP, looks again for members started meanwhile until
//     none is new, then sends SIGKILL — each through a pidfd checked against the start time
//     recorded, so a reused pid is never hit.
// No environment variable marks a run's processes: a process can drop or bury any marker.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace reliant {

enum class ProcessTracking {
  automatic,  // a cgroup per run where one can be made, else parentage
  parentage,  // never cgroups
};

class ProcessTracker {
 public:
  // `label` names the host's cgroup ("reliant-<pid>-<n>"). Probes cgroup v2 delegation (by
  // starting a process into a cgroup of its own) unless `wanted` is parentage.
  ProcessTracker(ProcessTracking wanted, std::string label);
  // Stops the scanner; kills nothing (kill_all does) and removes the cgroups that are empty.
  ~ProcessTracker();
  ProcessTracker(const ProcessTracker&) = delete;
  ProcessTracker& operator=(const ProcessTracker&) = delete;

  bool uses_cgroups() const;
  // One line for the start-up log: which way runs, and why not the other.
  std::string describe() const;

  // A run about to start. Returns its id, and in the cgroup way the descriptor of its cgroup to
  // start the shell in (owned by the tracker, valid until started()); -1 otherwise.
  struct RunStart {
    std::uint64_t id = 0;
    int cgroup_fd = -1;
  };
  RunStart begin_run();
  // The run's shell started as `shell`; 0 when it did not start. `in_cgroup`: it started
  // inside the run's cgroup (false: it could not, and the run goes by parentage).
  void started(std::uint64_t run, pid_t shell, bool in_cgroup);
  // Every process of the run dies. Blocking (reads /proc or cgroupfs, may sleep briefly): for a
  // file thread, never an executor. Safe to call again, and for a run that already ended.
  void kill_run(std::uint64_t run);
  // The run's shell exited by itself: what it left running in the background stays (until
  // kill_all), and its cgroup goes once empty.
  void finished(std::uint64_t run);
  // Every process of every run, the ended ones' leftovers included (the host is going). Blocking.
  void kill_all();

  // How often the parentage way reads /proc while something of the host's runs lives.
  static constexpr auto kScanInterval = std::chrono::milliseconds(20);

 private:
  struct Known {                        // a process seen in /proc
    unsigned long long start_time = 0;  // clock ticks after boot: with the pid, its identity
    pid_t parent = 0;
    std::set<std::uint64_t> runs;  // the runs it belongs to
    bool ours = false;             // belongs to this host (a run, or adopted)
  };
  struct Run {
    pid_t shell = 0;
    bool starting = true;  // between begin_run and started
    bool active = true;    // its shell runs (or is being killed)
    int cgroup_fd = -1;    // the cgroup way: its cgroup directory (O_RDONLY)
    std::string cgroup_name;
  };

  void probe_cgroups(const std::string& label);
  void scanner_loop();
  // Both take `lock` (held) and let it go while they read /proc or send signals.
  void scan(std::unique_lock<std::mutex>& lock);
  void kill_members(std::unique_lock<std::mutex>& lock,
                    const std::function<bool(const Known&)>& member);
  bool anything_ours_locked() const;
  void kill_cgroup(int cgroup_fd);
  void remove_empty_cgroups_locked();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::thread scanner_;
  bool stopping_ = false;
  pid_t self_ = 0;
  std::uint64_t next_run_ = 1;
  std::map<std::uint64_t, Run> runs_;
  std::map<pid_t, Known> known_;
  // The cgroup way: this host's cgroup (children: one per run) and its path; why not, if not.
  int host_cgroup_fd_ = -1;
  std::string host_cgroup_path_;
  std::string no_cgroups_because_;
  std::vector<std::string> lingering_;  // ended runs' cgroups still holding processes
};

// Like fork(), with the child starting in the cgroup v2 directory `cgroup_fd` — never, not for
// a moment, in this process's own (clone3 with CLONE_INTO_CGROUP, Linux 5.7). -1 with errno on
// failure. The child may make only async-signal-safe calls until it execs or exits.
pid_t fork_into_cgroup(int cgroup_fd);

// Starts a child in the cgroup v2 directory `cgroup_fd` that runs `child(arg)` and must exec or
// _exit there (async-signal-safe calls only); returns once it has (the parent waits, as after a
// vfork), with its pid, or -1 with errno. Where it can (x86-64, no sanitizer that tracks
// threads or stacks), the child shares this process's memory on a stack of its own, as
// posix_spawn's does: a fork of a process of some hundred MB copied its page tables and then
// paid copy-on-write faults in every thread, about 5 ms a tool call (3.5x an `echo` run node's
// whole cost). Elsewhere it is fork_into_cgroup. The child must not return into this process's
// state: everything it writes is this process's memory.
pid_t spawn_into_cgroup(int cgroup_fd, void (*child)(void*), void* arg);

// Reaps this process's zombie children for which `owned_elsewhere` says no: descendants of
// tools that were orphaned and adopted (this process being the child subreaper), once dead.
void reap_adopted_zombies(const std::function<bool(pid_t)>& owned_elsewhere);

}  // namespace reliant

// ProcessTracker: a cgroup v2 per run where this process may make one (clone3 into it,
// cgroup.kill), else parentage read from /proc by a thread of its own, with stop-then-kill
// through pidfds.
#include "adapters/host/process_tracker.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/assert.h"

namespace reliant {

namespace {

// clone3's arguments up to `cgroup` (CLONE_ARGS_SIZE_VER2), as <linux/sched.h> has them; not
// included from there because it redefines what <sched.h> defines.
struct CloneArgs {
  std::uint64_t flags = 0;
  std::uint64_t pidfd = 0;
  std::uint64_t child_tid = 0;
  std::uint64_t parent_tid = 0;
  std::uint64_t exit_signal = 0;
  std::uint64_t stack = 0;
  std::uint64_t stack_size = 0;
  std::uint64_t tls = 0;
  std::uint64_t set_tid = 0;
  std::uint64_t set_tid_size = 0;
  std::uint64_t cgroup = 0;
};
constexpr std::uint64_t kCloneIntoCgroup = 0x200000000ULL;  // CLONE_INTO_CGROUP (Linux 5.7)

// A kill's rounds: each stops what it finds, and the kill ends after a round finds nothing new
// (stopped processes fork no more). Bounded against a fork bomb faster than /proc can be read.
constexpr int kKillRoundsMax = 50;
// How long a kill waits for a cgroup to empty, and between looks.
constexpr auto kCgroupEmptyWaitMax = std::chrono::seconds(4);
constexpr auto kCgroupPollInterval = std::chrono::milliseconds(5);

std::vector<pid_t> all_processes() {
  std::vector<pid_t> pids;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return pids;
  while (const dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (end != entry->d_name && *end == '\0' && pid > 0) pids.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(proc);
  return pids;
}

struct ProcStat {
  char state = '?';  // R, S, D, Z, X, …
  pid_t parent = 0;
  pid_t group = 0;
  pid_t session = 0;
  unsigned long flags = 0;  // the kernel's PF_* flags
  unsigned long long start_time = 0;
};

// "pid (comm) state ppid pgrp session tty_nr tpgid flags … starttime(22) …": comm may hold
// spaces and parentheses; the last ')' ends it. Nothing for a process that is gone.
std::optional<ProcStat> read_proc_stat(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::array<char, 1024> buffer{};
  const ssize_t n = ::read(fd, buffer.data(), buffer.size() - 1);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  const std::string_view text(buffer.data(), static_cast<std::size_t>(n));
  const std::size_t paren = text.rfind(')');
  if (paren == std::string_view::npos || paren + 4 >= text.size()) return std::nullopt;
  // Fields from the state on (field 3), split at spaces.
  std::istringstream fields(std::string(text.substr(paren + 2)));
  std::string state;
  ProcStat stat;
  unsigned long long skip = 0;
  long long tty = 0;
  long long foreground = 0;
  fields >> state >> stat.parent >> stat.group >> stat.session >> tty >> foreground >> stat.flags;
  for (int field = 10; field < 22; ++field) fields >> skip;  // minflt … itrealvalue
  fields >> stat.start_time;
  if (!fields || state.empty()) return std::nullopt;
  stat.state = state[0];
  return stat;
}

// A pidfd for `pid` if it is still the process first seen starting at `start_time`; -1 when it
// is gone or its pid now names another process. (Where the kernel has no pidfds, -2: the caller
// signals by pid after the same check.)
int open_checked(pid_t pid, unsigned long long start_time) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0 && errno != ENOSYS) return -1;
  // With the pidfd open the pid cannot be reused, so this check holds for what it names.
  const auto stat = read_proc_stat(pid);
  if (!stat || stat->start_time != start_time) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd >= 0 ? fd : -2;
}

bool send(int pidfd, pid_t pid, int signal) {
  if (pidfd >= 0) return ::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0) == 0;
  return ::kill(pid, signal) == 0;
}

bool write_file_at(int dir, const char* name, std::string_view text) {
  const int fd = ::openat(dir, name, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

std::string read_file_at(int dir, const char* name) {
  const int fd = ::openat(dir, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string out;
  std::array<char, 4096> buffer{};
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n <= 0) break;
    out.append(buffer.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

bool cgroup_empty(int dir) {
  return read_file_at(dir, "cgroup.events").find("populated 0") != std::string::npos;
}

// The directory of this process's cgroup v2: where cgroup2 is mounted (/proc/self/mountinfo)
// joined with the path /proc/self/cgroup gives for the unified hierarchy ("0::PATH").
std::optional<std::string> own_cgroup_dir(std::string& why_not) {
  std::ifstream cgroups("/proc/self/cgroup");
  std::string line;
  std::optional<std::string> path;
  while (std::getline(cgroups, line)) {
    if (line.rfind("0::", 0) == 0) path = line.substr(3);
  }
  if (!path) {
    why_not = "this process is in no cgroup v2 (no \"0::\" line in /proc/self/cgroup)";
    return std::nullopt;
  }
  std::ifstream mounts("/proc/self/mountinfo");
  while (std::getline(mounts, line)) {
    // "id parent major:minor root mount-point options… - fstype source super-options"
    const std::size_t dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream fields(line.substr(0, dash));
    std::string id, parent, device, root, mount_point;
    fields >> id >> parent >> device >> root >> mount_point;
    // A mount of a subtree (root "/x") holds the paths below it.
    std::string relative = *path;
    if (root != "/") {
      if (relative.rfind(root, 0) != 0) continue;
      relative = relative.substr(root.size());
    }
    return mount_point + (relative == "/" ? std::string() : relative);
  }
  why_not = "cgroup2 is not mounted";
  return std::nullopt;
}

// Removes the empty cgroups that hosts of processes no longer alive left under `own` — a daemon
// killed with SIGKILL never removes its own — named "reliant-<pid>-<n>" as ProcessTracker names
// them. One whose processes still run stays (rmdir fails with EBUSY): nothing is killed here.
void remove_stale_cgroups(const std::string& own) {
  DIR* dir = ::opendir(own.c_str());
  if (dir == nullptr) return;
  std::vector<std::string> stale;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name(entry->d_name);
    if (name.rfind("reliant-", 0) != 0) continue;
    char* end = nullptr;
    const long pid = std::strtol(name.data() + 8, &end, 10);
    if (end == name.data() + 8 || *end != '-' || pid <= 0) continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) stale.emplace_back(name);
  }
  ::closedir(dir);
  for (const auto& name : stale) {
    const std::string host = own + "/" + name;
    if (DIR* runs = ::opendir(host.c_str())) {
      std::vector<std::string> children;
      while (const dirent* entry = ::readdir(runs)) {
        const std::string_view child(entry->d_name);
        if (child.rfind("run-", 0) == 0 || child == "probe") children.emplace_back(child);
      }
      ::closedir(runs);
      for (const auto& child : children) (void)::rmdir((host + "/" + child).c_str());
    }
    (void)::rmdir(host.c_str());
  }
}

}  // namespace

pid_t fork_into_cgroup(int cgroup_fd) {
  CloneArgs args;
  args.flags = kCloneIntoCgroup;
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<std::uint64_t>(cgroup_fd);
  return static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args));
}

#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
// The sanitizers keep per-thread state that a child sharing this memory would write to as if it
// were the thread that started it: those builds fork.
#define RELIANT_SPAWN_SHARES_MEMORY 1
#endif

#ifdef RELIANT_SPAWN_SHARES_MEMORY
namespace {

// The child's stack: its frames until the exec are small (become_command's).
constexpr std::size_t kSpawnStackBytes = 256 * 1024;

// clone3 with the child running `child(arg)` on the stack given in `args`. The syscall returns
// in the child on that new stack with nothing to return to, so the child's side is written
// here: it calls `child` at once and, should that return, exits. The parent is suspended
// (CLONE_VFORK) until the child execs or exits, so nothing else uses what it shares meanwhile.
long clone3_calling(CloneArgs* args, void (*child)(void*), void* arg) {
  long result = SYS_clone3;
  // Callee-saved registers: the child has them as the parent had them before the syscall.
  register void (*child_function)(void*) asm("r12") = child;
  register void* child_arg asm("r13") = arg;
  asm volatile(
      "syscall\n\t"
      "testq %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      // The child: a fresh frame chain on its own stack (16-byte aligned at the call).
      "xorl %%ebp, %%ebp\n\t"
      "movq %%r13, %%rdi\n\t"
      "callq *%%r12\n\t"
      "movl $231, %%eax\n\t"  // exit_group(127), should `child` ever return
      "movl $127, %%edi\n\t"
      "syscall\n\t"
      "hlt\n\t"
      "1:\n\t"
      : "+a"(result)
      : "D"(args), "S"(sizeof(CloneArgs)), "r"(child_function), "r"(child_arg)
      : "rcx", "r11", "memory", "cc");
  return result;
}

}  // namespace
#endif

pid_t spawn_into_cgroup(int cgroup_fd, void (*child)(void*), void* arg) {
#ifdef RELIANT_SPAWN_SHARES_MEMORY
  void* stack = ::mmap(nullptr, kSpawnStackBytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return -1;
  CloneArgs args;
  args.flags = kCloneIntoCgroup | CLONE_VM | CLONE_VFORK;
  args.exit_signal = SIGCHLD;
  args.stack = reinterpret_cast<std::uint64_t>(stack);
  args.stack_size = kSpawnStackBytes;
  args.cgroup = static_cast<std::uint64_t>(cgroup_fd);
  const long pid = clone3_calling(&args, child, arg);
  ::munmap(stack, kSpawnStackBytes);  // the child has exec'd or exited: it is ours again
  if (pid < 0) {
    errno = static_cast<int>(-pid);
    return -1;
  }
  return static_cast<pid_t>(pid);
#else
  const pid_t pid = fork_into_cgroup(cgroup_fd);
  if (pid == 0) {
    child(arg);
    ::_exit(127);
  }
  return pid;
#endif
}

void reap_adopted_zombies(const std::function<bool(pid_t)>& owned_elsewhere) {
  const pid_t self = ::getpid();
  for (const pid_t pid : all_processes()) {
    const auto stat = read_proc_stat(pid);
    if (!stat || stat->state != 'Z' || stat->parent != self || owned_elsewhere(pid)) continue;
    int status = 0;
    (void)::waitpid(pid, &status, WNOHANG);
  }
}

ProcessTracker::ProcessTracker(ProcessTracking wanted, std::string label) : self_(::getpid()) {
  if (wanted == ProcessTracking::parentage) {
    no_cgroups_because_ = "cgroups were turned off";
  } else {
    probe_cgroups(label);
  }
  if (host_cgroup_fd_ < 0) scanner_ = std::thread([this] { scanner_loop(); });
}

ProcessTracker::~ProcessTracker() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (scanner_.joinable()) scanner_.join();
  std::lock_guard lock(mutex_);
  for (auto& [id, run] : runs_) {
    if (run.cgroup_fd >= 0) ::close(run.cgroup_fd);
    if (!run.cgroup_name.empty()) lingering_.push_back(run.cgroup_name);
  }
  remove_empty_cgroups_locked();
  if (host_cgroup_fd_ >= 0) {
    ::close(host_cgroup_fd_);
    (void)::rmdir(host_cgroup_path_.c_str());  // fails while something still runs in it
  }
}

// Makes this host's cgroup under this process's own and proves a process can be started in a
// child of it: a cgroup that may be made but not entered (no write access to an ancestor's
// cgroup.procs) is no use.
void ProcessTracker::probe_cgroups(const std::string& label) {
  std::string why_not;
  const auto own = own_cgroup_dir(why_not);
  if (!own) {
    no_cgroups_because_ = why_not;
    return;
  }
  remove_stale_cgroups(*own);
  const std::string path = *own + "/" + label;
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    no_cgroups_because_ = "cannot make a cgroup under " + *own + ": " + std::strerror(errno);
    return;
  }
  const int host = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (host < 0) {
    no_cgroups_because_ = "cannot open " + path + ": " + std::strerror(errno);
    (void)::rmdir(path.c_str());
    return;
  }
  bool killable = ::faccessat(host, "cgroup.kill", W_OK, 0) == 0 ||
                  ::faccessat(host, "cgroup.freeze", W_OK, 0) == 0;
  std::string failure = killable ? "" : "the kernel has neither cgroup.kill nor cgroup.freeze";
  if (killable && ::mkdirat(host, "probe", 0755) == 0) {
    const int probe = ::openat(host, "probe", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const pid_t child = probe >= 0 ? fork_into_cgroup(probe) : -1;
    if (child == 0) ::_exit(0);  // the child: proof enough that it started in there
    if (child < 0) {
      failure =
          std::string("cannot start a process in a cgroup of its own: ") + std::strerror(errno);
    } else {
      int status = 0;
      (void)::waitpid(child, &status, 0);
    }
    if (probe >= 0) ::close(probe);
    (void)::unlinkat(host, "probe", AT_REMOVEDIR);
  } else if (killable) {
    failure = "cannot make a cgroup under " + path + ": " + std::strerror(errno);
  }
  if (!failure.empty()) {
    no_cgroups_because_ = failure;
    ::close(host);
    (void)::rmdir(path.c_str());
    return;
  }
  host_cgroup_fd_ = host;
  host_cgroup_path_ = path;
}

bool ProcessTracker::uses_cgroups() const { return host_cgroup_fd_ >= 0; }

std::string ProcessTracker::describe() const {
  if (uses_cgroups()) {
    return "by a cgroup v2 per tool call (under " + host_cgroup_path_ + ")";
  }
  return "by parentage through /proc, as the child subreaper (no cgroup v2: " +
         no_cgroups_because_ + ")";
}

ProcessTracker::RunStart ProcessTracker::begin_run() {
  std::lock_guard lock(mutex_);
  remove_empty_cgroups_locked();
  // Ended runs are forgotten (their processes keep the runs they were given): a shell's pid,
  // reaped, may name another process soon.
  for (auto it = runs_.begin(); it != runs_.end();) {
    const Run& run = it->second;
    it = !run.active && !run.starting && run.cgroup_fd < 0 ? runs_.erase(it) : std::next(it);
  }
  RunStart start;
  start.id = next_run_++;
  Run& run = runs_[start.id];
  if (host_cgroup_fd_ >= 0) {
    run.cgroup_name = "run-" + std::to_string(start.id);
    if (::mkdirat(host_cgroup_fd_, run.cgroup_name.c_str(), 0755) == 0) {
      run.cgroup_fd =
          ::openat(host_cgroup_fd_, run.cgroup_name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (run.cgroup_fd < 0) run.cgroup_name.clear();  // this run goes by parentage
    start.cgroup_fd = run.cgroup_fd;
  }
  wake_.notify_all();
  return start;
}

void ProcessTracker::started(std::uint64_t id, pid_t shell, bool in_cgroup) {
  {
    std::lock_guard lock(mutex_);
    auto it = runs_.find(id);
    if (it == runs_.end() || !it->second.starting) return;  // told already
    Run& run = it->second;
    run.starting = false;
    run.shell = shell;
    if (shell == 0) run.active = false;
    if ((shell == 0 || !in_cgroup) && run.cgroup_fd >= 0) {
      ::close(run.cgroup_fd);
      run.cgroup_fd = -1;
      (void)::unlinkat(host_cgroup_fd_, run.cgroup_name.c_str(), AT_REMOVEDIR);
      run.cgroup_name.clear();
    }
    // A run outside cgroups needs the scanner, which a host using cgroups has not started.
    if (shell != 0 && !in_cgroup && !scanner_.joinable()) {
      scanner_ = std::thread([this] { scanner_loop(); });
    }
  }
  wake_.notify_all();
}

void ProcessTracker::finished(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  auto it = runs_.find(id);
  if (it == runs_.end()) return;
  it->second.active = false;
  if (it->second.cgroup_fd >= 0) {
    ::close(it->second.cgroup_fd);
    it->second.cgroup_fd = -1;
    lingering_.push_back(it->second.cgroup_name);
    it->second.cgroup_name.clear();
    remove_empty_cgroups_locked();
  }
}

void ProcessTracker::kill_run(std::uint64_t id) {
  std::unique_lock lock(mutex_);
  auto it = runs_.find(id);
  if (it == runs_.end()) return;
  if (it->second.cgroup_fd >= 0) {
    // The run is over: its cgroup goes once empty, whatever the kill leaves for a moment.
    const int fd = it->second.cgroup_fd;
    it->second.cgroup_fd = -1;
    it->second.active = false;
    lingering_.push_back(std::move(it->second.cgroup_name));
    it->second.cgroup_name.clear();
    lock.unlock();
    kill_cgroup(fd);
    ::close(fd);
    lock.lock();
    remove_empty_cgroups_locked();
    return;
  }
  // Active while it is killed: what the kill orphans is adopted during the run, and its.
  it->second.active = true;
  kill_members(lock, [id](const Known& known) { return known.runs.count(id) != 0; });
  it = runs_.find(id);
  if (it != runs_.end()) it->second.active = false;
}

void ProcessTracker::kill_all() {
  if (host_cgroup_fd_ >= 0) kill_cgroup(host_cgroup_fd_);  // the whole subtree at once
  std::unique_lock lock(mutex_);
  for (auto& [id, run] : runs_) run.active = true;
  if (!known_.empty() || scanner_.joinable()) {
    kill_members(lock, [](const Known& known) { return known.ours; });
  }
  for (auto& [id, run] : runs_) {
    run.active = false;
    if (run.cgroup_fd >= 0) {
      ::close(run.cgroup_fd);
      run.cgroup_fd = -1;
      lingering_.push_back(run.cgroup_name);
      run.cgroup_name.clear();
    }
  }
  remove_empty_cgroups_locked();
  // The host's own cgroup goes now, not when the tracker does: a process exiting after its
  // host never runs the destructors of what its event loop still holds.
  if (host_cgroup_fd_ >= 0 && lingering_.empty()) (void)::rmdir(host_cgroup_path_.c_str());
}

// cgroup.kill (Linux 5.14) kills everything in the cgroup and below at once; without it, the
// freezer stops the cgroup's processes so none forks while each gets SIGKILL (a frozen process
// still dies of it), then thaws. Waits (bounded) for the cgroup to empty.
void ProcessTracker::kill_cgroup(int cgroup_fd) {
  if (!write_file_at(cgroup_fd, "cgroup.kill", "1")) {
    (void)write_file_at(cgroup_fd, "cgroup.freeze", "1");
    std::istringstream pids(read_file_at(cgroup_fd, "cgroup.procs"));
    for (pid_t pid = 0; pids >> pid;) (void)::kill(pid, SIGKILL);
    (void)write_file_at(cgroup_fd, "cgroup.freeze", "0");
  }
  const auto deadline = std::chrono::steady_clock::now() + kCgroupEmptyWaitMax;
  while (!cgroup_empty(cgroup_fd) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(kCgroupPollInterval);
  }
}

void ProcessTracker::remove_empty_cgroups_locked() {
  std::vector<std::string> still;
  for (const auto& name : lingering_) {
    if (::unlinkat(host_cgroup_fd_, name.c_str(), AT_REMOVEDIR) != 0 && errno == EBUSY) {
      still.push_back(name);
    }
  }
  lingering_ = std::move(still);
}

// Stops every member, rescanning until a round finds no member not stopped yet (a stopped
// process forks no more, and a child it forked before is found by its parent), then kills them.
// The lock is let go while /proc is read and signals are sent, so the executor's begin_run and
// started never wait for a kill.
void ProcessTracker::kill_members(std::unique_lock<std::mutex>& lock,
                                  const std::function<bool(const Known&)>& member) {
  RELIANT_ASSERT(lock.owns_lock());
  struct Member {
    pid_t pid;
    unsigned long long start_time;
  };
  struct Stopped {
    pid_t pid;
    int pidfd;
  };
  std::vector<Stopped> stopped;
  std::set<pid_t> seen;
  for (int round = 0; round < kKillRoundsMax; ++round) {
    scan(lock);
    std::vector<Member> fresh;
    for (const auto& [pid, known] : known_) {
      if (member(known) && seen.insert(pid).second) fresh.push_back({pid, known.start_time});
    }
    if (fresh.empty()) break;
    lock.unlock();
    for (const Member& process : fresh) {
      const int pidfd = open_checked(process.pid, process.start_time);
      if (pidfd == -1) continue;  // gone, or its pid is another process's now
      (void)send(pidfd, process.pid, SIGSTOP);
      stopped.push_back({process.pid, pidfd});
    }
    lock.lock();
  }
  lock.unlock();
  for (const auto& process : stopped) {
    (void)send(process.pidfd, process.pid, SIGKILL);
    if (process.pidfd >= 0) ::close(process.pidfd);
  }
  lock.lock();
}

bool ProcessTracker::anything_ours_locked() const {
  for (const auto& [id, run] : runs_) {
    if (run.active && run.cgroup_fd < 0) return true;
  }
  for (const auto& [pid, known] : known_) {
    if (known.ours) return true;
  }
  return false;
}

void ProcessTracker::scanner_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (anything_ours_locked()) {
      scan(lock);
      wake_.wait_for(lock, kScanInterval, [this] { return stopping_; });
    } else {
      wake_.wait(lock, [this] { return stopping_ || anything_ours_locked(); });
    }
  }
}

// One look at /proc: forgets the processes gone, and places each new one — in its parent's
// runs, in the runs of the process leading its group or session, or (adopted by this process,
// the child subreaper) in every run active now. A new child of this process while a run is
// between begin_run and started may be that run's shell: decided on the next look.
void ProcessTracker::scan(std::unique_lock<std::mutex>& lock) {
  RELIANT_ASSERT(lock.owns_lock());
  std::set<pid_t> seen_before;
  for (const auto& [pid, known] : known_) seen_before.insert(pid);
  // /proc is read without the lock; what was read is placed with it.
  lock.unlock();
  const std::vector<pid_t> pids = all_processes();
  std::map<pid_t, ProcStat> fresh;
  for (const pid_t pid : pids) {
    if (pid == self_ || seen_before.count(pid) != 0) continue;
    if (auto stat = read_proc_stat(pid)) fresh.emplace(pid, *stat);
  }
  lock.lock();
  const std::set<pid_t> alive(pids.begin(), pids.end());
  for (auto it = known_.begin(); it != known_.end();) {
    it = alive.count(it->first) == 0 ? known_.erase(it) : std::next(it);
  }
  for (auto it = fresh.begin(); it != fresh.end();) {
    it = known_.count(it->first) != 0 ? fresh.erase(it) : std::next(it);  // placed meanwhile
  }
  std::map<pid_t, std::uint64_t> shells;
  bool starting = false;
  std::set<std::uint64_t> active;
  for (const auto& [id, run] : runs_) {
    if (run.shell != 0) shells[run.shell] = id;
    starting = starting || run.starting;
    if (run.active) active.insert(id);
  }
  // Parents first: each pass places what it can; a process whose parent is new too waits for
  // the pass that places the parent (the chain is as long as the passes it takes).
  for (bool placed = true; placed && !fresh.empty();) {
    placed = false;
    for (auto it = fresh.begin(); it != fresh.end();) {
      const pid_t pid = it->first;
      const ProcStat& stat = it->second;
      Known known;
      known.start_time = stat.start_time;
      known.parent = stat.parent;
      bool decided = true;
      if (auto shell = shells.find(pid); shell != shells.end()) {
        known.runs = {shell->second};
        known.ours = true;
      } else if (auto parent = known_.find(stat.parent); parent != known_.end()) {
        known.runs = parent->second.runs;
        known.ours = parent->second.ours;
      } else if (fresh.count(stat.parent) != 0) {
        decided = false;  // the parent is placed first
      } else if (stat.parent == self_) {
        if (starting) {
          it = std::next(it);  // perhaps a shell not yet told: next look
          continue;
        }
        known.runs = active;  // adopted while these ran
        known.ours = true;
      }
      if (decided && !known.ours) {
        // A group or session that a process of ours leads (a setsid'd one, its children).
        for (const pid_t leader : {stat.group, stat.session}) {
          auto led = known_.find(leader);
          if (leader != pid && led != known_.end() && led->second.ours) {
            known.runs.insert(led->second.runs.begin(), led->second.runs.end());
            known.ours = true;
          }
        }
      }
      if (!decided) {
        it = std::next(it);
        continue;
      }
      known_[pid] = std::move(known);
      it = fresh.erase(it);
      placed = true;
    }
  }
  // What is left waits on a parent that is waiting itself (a shell not yet told): next look.
}

}  // namespace reliant

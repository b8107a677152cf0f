// `reliant-sim`: run a scenario under one seed, or sweep many seeds. This file is the
// simulator's only edge with the outside world (it reads the scenario file, the wall clock for
// progress, and runs each seed of a sweep in a child process), so the I/O lint exempts it.
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/sha256.h"
#include "sim/cli/seed_workers.h"
#include "sim/coverage.h"
#include "sim/fault_mix.h"
#include "sim/runner.h"
#include "sim/scenario.h"
#include "sim/schema_image.h"
#include "sim/shrink.h"

namespace {

using reliant::Result;
using reliant::sim::Scenario;

constexpr int kExitFailed = 1;  // an invariant failed
constexpr int kExitUsage = 2;   // bad arguments or scenario file

Result<Scenario> load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return reliant::fail(reliant::ErrorCode::not_found, path + ": cannot open the scenario file");
  std::ostringstream text;
  text << in.rdbuf();
  return reliant::sim::parse_scenario(text.str(), path);
}

// "3..40" → {3, 40}
bool parse_seed_range(const std::string& text, std::uint64_t& first, std::uint64_t& last) {
  const auto dots = text.find("..");
  if (dots == std::string::npos) return false;
  try {
    std::size_t used = 0;
    first = std::stoull(text.substr(0, dots), &used);
    if (used != dots) return false;
    const std::string rest = text.substr(dots + 2);
    last = std::stoull(rest, &used);
    if (used != rest.size()) return false;
  } catch (const std::exception&) {
    return false;
  }
  return first <= last;
}

// The GNU build id among the ELF notes in [at, end), as hex; empty when there is none.
std::string build_id_note(const char* at, const char* end) {
  while (at + sizeof(ElfW(Nhdr)) <= end) {
    const auto* note = reinterpret_cast<const ElfW(Nhdr)*>(at);
    const char* name = at + sizeof(ElfW(Nhdr));
    const char* desc = name + ((note->n_namesz + 3) & ~3u);
    if (desc + note->n_descsz > end) break;
    if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0)
      return reliant::to_hex(reinterpret_cast<const std::uint8_t*>(desc), note->n_descsz);
    at = desc + ((note->n_descsz + 3) & ~3u);
  }
  return {};
}

// The linker's GNU build-id note of this executable (a hash of its contents), as hex; empty
// when it was linked without one.
std::string gnu_build_id() {
  std::string id;
  // The first object dl_iterate_phdr lists is the executable itself; returning 1 stops there.
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* out) -> int {
        auto& found = *static_cast<std::string*>(out);
        for (int i = 0; i < info->dlpi_phnum && found.empty(); ++i) {
          const ElfW(Phdr)& segment = info->dlpi_phdr[i];
          if (segment.p_type != PT_NOTE) continue;
          const char* at = reinterpret_cast<const char*>(info->dlpi_addr + segment.p_vaddr);
          found = build_id_note(at, at + segment.p_memsz);
        }
        return 1;
      },
      &id);
  return id;
}

// Which binary this is, named in every repro line, since a seed reproduces a run only on the
// build that ran it: the first 12 hex digits of the linker's build id, which costs nothing to
// read, or of the executable's SHA-256 (about a second of hashing) when it has none.
const std::string& build_id() {
  static const std::string id = [] {
    if (std::string note = gnu_build_id(); !note.empty()) return note.substr(0, 12);
    std::ifstream in("/proc/self/exe", std::ios::binary);
    if (!in) return std::string("unknown");
    reliant::Sha256 hash;
    char buffer[1 << 16];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
      hash.update(buffer, static_cast<std::size_t>(in.gcount()));
    }
    return reliant::to_hex(hash.finish()).substr(0, 12);
  }();
  return id;
}

int run(const std::string& path, std::uint64_t seed, bool echo_log) {
  auto scenario = load(path);
  if (!scenario) {
    std::fprintf(stderr, "error: %s\n", scenario.error().message.c_str());
    return kExitUsage;
  }
  reliant::sim::RunHooks hooks;
  if (echo_log) {
    hooks.on_log_line = [](const std::string& line) { std::printf("%s\n", line.c_str()); };
  }
  auto report = reliant::sim::run_scenario(*scenario, seed, hooks);
  report.build = build_id();
  std::fputs(reliant::sim::format_report(report).c_str(), stdout);
  return report.passed() ? 0 : kExitFailed;
}

// One seed's outcome as its child process reported it (or died before it could).
struct SeedOutcome {
  std::uint64_t seed = 0;
  std::string fault_mix;  // first thing the child sends, before the run starts
  bool finished = false;  // the child reported a result
  bool passed = false;
  std::string trace_hash;
  std::uint64_t events = 0;
  std::string invariant;  // the first violation
  std::string detail;
  std::string crash;                     // how the child died, when it did not finish
  std::vector<std::string> last_events;  // a crashed seed's, from its rerun
  reliant::sim::Coverage coverage;
};

std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  return text;
}

void write_all(int fd, const std::string& text) {
  std::size_t at = 0;
  while (at < text.size()) {
    const ssize_t n = ::write(fd, text.data() + at, text.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    at += static_cast<std::size_t>(n);
  }
}

// RELIANT_SIM_ABORT_AT_EVENT=N makes a sweep's children abort at their Nth trace event: how the
// tests check that a crashing seed is reported with its signal, last events and repro line.
std::uint64_t abort_at_event() {
  const char* text = std::getenv("RELIANT_SIM_ABORT_AT_EVENT");
  return text == nullptr ? 0 : std::strtoull(text, nullptr, 10);
}

void abort_when_due(std::uint64_t& seen) {
  static const std::uint64_t due = abort_at_event();
  if (due > 0 && ++seen == due) std::abort();
}

// In a sweep's worker: runs the seed and reports on `fd`, line by line.
void run_seed_in_worker(const Scenario& scenario, std::uint64_t seed, int fd) {
  reliant::sim::RunHooks hooks;
  hooks.on_fault_mix = [fd](const std::string& mix) {
    write_all(fd, "mix\t" + one_line(mix) + "\n");
  };
  if (abort_at_event() > 0) {
    hooks.on_trace = [seen = std::uint64_t{0}](const reliant::sim::TraceRecord&,
                                               const std::string&) mutable {
      abort_when_due(seen);
    };
  }
  const auto report = reliant::sim::run_scenario(scenario, seed, hooks);
  std::string out = "result\t" + std::string(report.passed() ? "1" : "0") + "\t" +
                    report.trace_hash + "\t" + std::to_string(report.trace_events) + "\n";
  out += "coverage\t" + report.coverage.encode() + "\n";
  if (!report.passed()) {
    out += "violation\t" + one_line(report.violations.front().invariant) + "\t" +
           one_line(report.violations.front().detail) + "\n";
  }
  write_all(fd, out);
}

void parse_child_output(const std::string& text, SeedOutcome& outcome) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> fields;
    std::istringstream parts(line);
    std::string field;
    while (std::getline(parts, field, '\t')) fields.push_back(field);
    if (fields.size() >= 2 && fields[0] == "mix") {
      outcome.fault_mix = fields[1];
    } else if (fields.size() >= 4 && fields[0] == "result") {
      outcome.finished = true;
      outcome.passed = fields[1] == "1";
      outcome.trace_hash = fields[2];
      outcome.events = std::strtoull(fields[3].c_str(), nullptr, 10);
    } else if (fields.size() >= 3 && fields[0] == "violation") {
      outcome.invariant = fields[1];
      outcome.detail = fields[2];
    } else if (fields.size() >= 2 && fields[0] == "coverage") {
      outcome.coverage = reliant::sim::Coverage::decode(fields[1]);
    } else if (fields.size() >= 2 && fields[0] == "event") {
      outcome.last_events.push_back(fields[1]);
    }
  }
}

// A crashed seed's last events. The seed runs again in a child that keeps its last trace events
// as ready-made lines in a static ring, which a fatal signal's handler writes to the pipe (write
// is async-signal-safe; formatting is not, so it happens as the events come) before the child
// dies of the same signal.
constexpr std::size_t kCrashEventsKept = 24;
constexpr std::size_t kCrashEventLineMax = 192;
char crash_ring[kCrashEventsKept][kCrashEventLineMax];
std::size_t crash_ring_next = 0;
int crash_fd = -1;

extern "C" void write_crash_ring(int signal_number) {
  for (std::size_t i = 0; i < kCrashEventsKept; ++i) {
    const char* line = crash_ring[(crash_ring_next + i) % kCrashEventsKept];
    std::size_t length = 0;
    while (length < kCrashEventLineMax && line[length] != '\0') ++length;
    if (length > 0) (void)!::write(crash_fd, line, length);
  }
  ::raise(signal_number);  // the default action again (SA_RESETHAND), so the child dies of it
}

[[noreturn]] void rerun_crashed_seed_in_child(const Scenario& scenario, std::uint64_t seed,
                                              int fd) {
  crash_fd = fd;
  struct sigaction on_fatal {};
  on_fatal.sa_handler = write_crash_ring;
  on_fatal.sa_flags = SA_RESETHAND | SA_NODEFER;
  for (int fatal : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL})
    ::sigaction(fatal, &on_fatal, nullptr);
  reliant::sim::RunHooks hooks;
  hooks.on_trace = [](const reliant::sim::TraceRecord& r, const std::string& node) {
    char* line = crash_ring[crash_ring_next];
    std::snprintf(line, kCrashEventLineMax, "event\tt=%s %s %s %016llx\n",
                  reliant::format_duration(r.at - reliant::sim::kSimEpoch).c_str(), node.c_str(),
                  r.kind, static_cast<unsigned long long>(r.digest));
    crash_ring_next = (crash_ring_next + 1) % kCrashEventsKept;
    static std::uint64_t seen = 0;
    abort_when_due(seen);
  };
  (void)reliant::sim::run_scenario(scenario, seed, hooks);
  write_all(fd, "event\t(the rerun did not crash: the crash depends on more than the seed)\n");
  ::_exit(0);
}

// Runs the crashed seed again (in a child) for the events that led up to the crash.
std::vector<std::string> last_events_before_crash(const Scenario& scenario, std::uint64_t seed) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {"(no pipe for the rerun)"};
  std::fflush(stdout);
  const pid_t pid = ::fork();
  if (pid < 0) return {"(no process for the rerun)"};
  if (pid == 0) {
    ::close(fds[0]);
    rerun_crashed_seed_in_child(scenario, seed, fds[1]);
  }
  ::close(fds[1]);
  std::string output;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n > 0) {
      output.append(buffer, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  SeedOutcome rerun;
  parse_child_output(output, rerun);
  return rerun.last_events;
}

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) {
    const int signal = WTERMSIG(status);
    const char* name = ::sigabbrev_np(signal);
    return "crashed with signal " + std::to_string(signal) + " (SIG" +
           (name != nullptr ? name : "?") + ")";
  }
  if (WIFEXITED(status)) {
    return "exited with status " + std::to_string(WEXITSTATUS(status)) + " before reporting";
  }
  return "ended abnormally";
}

// Each seed runs in a child process, up to `jobs` at once: a seed that crashes the simulator
// (a bug in a component or in the simulator) is a failure like any other, with its fault mix
// and the line that reproduces it, and the sweep goes on.
int sweep(const std::string& path, const std::string& seeds, int jobs, bool show_coverage) {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  if (!parse_seed_range(seeds, first, last)) {
    std::fprintf(stderr, "error: --seeds '%s': expected A..B with A <= B, e.g. 1..100\n",
                 seeds.c_str());
    return kExitUsage;
  }
  if (jobs < 1 || jobs > 256) {
    std::fprintf(stderr, "error: --jobs %d: expected 1..256\n", jobs);
    return kExitUsage;
  }
  auto scenario = load(path);
  if (!scenario) {
    std::fprintf(stderr, "error: %s\n", scenario.error().message.c_str());
    return kExitUsage;
  }
  const auto started = std::chrono::steady_clock::now();
  // Built here, before the first fork, so that the workers share it.
  if (scenario->has_database()) (void)reliant::sim::migrated_schema_image();
  const std::uint64_t total = last - first + 1;
  std::uint64_t passed = 0;
  std::uint64_t events = 0;
  std::vector<SeedOutcome> failures;
  reliant::sim::SweepCoverage coverage;

  std::map<std::uint64_t, SeedOutcome> done;  // finished out of order, printed in order
  std::uint64_t next_to_print = first;
  bool exhausted = false;

  auto print_ready = [&] {
    for (auto it = done.find(next_to_print); it != done.end(); it = done.find(next_to_print)) {
      const SeedOutcome& o = it->second;
      const std::uint64_t index = o.seed - first + 1;
      const bool ok = o.finished && o.passed;
      std::printf("[%llu/%llu] seed %llu %s trace %s | %s\n",
                  static_cast<unsigned long long>(index), static_cast<unsigned long long>(total),
                  static_cast<unsigned long long>(o.seed), ok ? "ok  " : "FAIL",
                  o.finished ? o.trace_hash.c_str() : "-", o.fault_mix.c_str());
      if (!o.finished)
        std::printf("    seed %llu %s\n", static_cast<unsigned long long>(o.seed), o.crash.c_str());
      std::fflush(stdout);
      events += o.events;
      if (o.finished) coverage.add(o.coverage);
      if (ok) {
        ++passed;
      } else {
        failures.push_back(o);
      }
      done.erase(it);
      if (next_to_print == last) {
        exhausted = true;
        break;
      }
      ++next_to_print;
    }
  };

  const bool ran = reliant::sim::run_seeds_in_workers(
      first, last, jobs,
      [&](std::uint64_t seed, int fd) { run_seed_in_worker(*scenario, seed, fd); },
      [&](std::uint64_t seed, const std::string& report, std::optional<int> died_with_status) {
        SeedOutcome outcome;
        outcome.seed = seed;
        parse_child_output(report, outcome);
        if (died_with_status || !outcome.finished) {
          outcome.finished = false;
          outcome.crash = describe_exit(died_with_status.value_or(0));
          outcome.last_events = last_events_before_crash(*scenario, seed);
        }
        done.emplace(seed, std::move(outcome));
        if (!exhausted) print_ready();
      });
  if (!ran) return kExitUsage;
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("\nsweep of %s, seeds %llu..%llu\n", scenario->name.c_str(),
              static_cast<unsigned long long>(first), static_cast<unsigned long long>(last));
  std::printf(
      "  %-10s %llu\n  %-10s %llu\n  %-10s %zu\n  %-10s %llu (%.0f per second of wall time)\n",
      "seeds", static_cast<unsigned long long>(total), "passed",
      static_cast<unsigned long long>(passed), "failed", failures.size(), "events",
      static_cast<unsigned long long>(events),
      wall_s > 0 ? static_cast<double>(events) / wall_s : 0.0);
  const std::string repro_prefix = "reliant-sim run " + path + " --seed ";
  for (const auto& f : failures) {
    const std::string what = f.finished ? f.invariant + ": " + f.detail : f.crash;
    std::printf("  FAILED seed %llu: %s\n    faults: %s\n", static_cast<unsigned long long>(f.seed),
                what.c_str(), f.fault_mix.c_str());
    if (!f.last_events.empty()) {
      std::printf("    last events before the crash:\n");
      for (const auto& e : f.last_events) std::printf("      %s\n", e.c_str());
    }
    std::printf("    reproduce: %s%llu  # build %s\n", repro_prefix.c_str(),
                static_cast<unsigned long long>(f.seed), build_id().c_str());
  }
  // A fault the scenario declares that no seed fired tests nothing: the sweep fails.
  const std::set<std::string> declared = reliant::sim::declared_faults(*scenario);
  if (show_coverage) std::printf("\n%s", coverage.table(declared).c_str());
  const std::set<std::string> unfired = coverage.never_fired(declared);
  for (const auto& name : unfired) {
    std::printf("  FAILED coverage: the scenario declares %s, which fired in none of %llu seeds\n",
                name.c_str(), static_cast<unsigned long long>(coverage.runs));
  }
  return failures.empty() && unfired.empty() ? 0 : kExitFailed;
}

// Shrinks a failing seed to the smallest scenario that still breaks the same invariant, writes
// it to `out` and prints its repro line.
int shrink(const std::string& path, std::uint64_t seed, std::string out, int runs_max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "error: %s: cannot open the scenario file\n", path.c_str());
    return kExitUsage;
  }
  std::ostringstream text;
  text << in.rdbuf();
  reliant::sim::ShrinkOptions options;
  options.runs_max = runs_max;
  options.progress = [](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  };
  auto shrunk = reliant::sim::shrink_scenario(text.str(), path, seed, options);
  if (!shrunk) {
    std::fprintf(stderr, "error: %s\n", shrunk.error().message.c_str());
    return shrunk.error().code == reliant::ErrorCode::failed_precondition ? kExitFailed
                                                                          : kExitUsage;
  }
  if (out.empty()) {
    std::string stem = path.substr(path.find_last_of('/') + 1);
    if (stem.ends_with(".yaml")) stem.resize(stem.size() - 5);
    out = stem + "-seed" + std::to_string(seed) + "-shrunk.yaml";
  }
  std::ofstream file(out, std::ios::binary);
  file << "# Shrunk by `reliant-sim shrink " << path << " --seed " << seed << "` (" << shrunk->runs
       << " runs" << (shrunk->exhausted ? ", stopped at --runs" : "")
       << "): the smallest scenario\n"
       << "# found that still breaks " << shrunk->invariant << " under seed " << seed << ".\n"
       << shrunk->yaml;
  if (!file) {
    std::fprintf(stderr, "error: cannot write %s\n", out.c_str());
    return kExitUsage;
  }
  std::printf(
      "shrunk in %d runs%s: %zu steps; still breaks %s\nwrote %s\nreproduce: reliant-sim run %s "
      "--seed %llu\n",
      shrunk->runs, shrunk->exhausted ? " (stopped at --runs)" : "", shrunk->steps.size(),
      shrunk->invariant.c_str(), out.c_str(), out.c_str(), static_cast<unsigned long long>(seed));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"reliant-sim: deterministic simulation of Reliant topologies under faults"};
  app.require_subcommand(1);

  std::string run_path;
  std::uint64_t seed = 1;
  auto* run_cmd = app.add_subcommand("run", "Run a scenario under one seed and print its summary");
  run_cmd->add_option("scenario", run_path, "Scenario YAML file")->required();
  run_cmd->add_option("--seed", seed, "Seed for every random choice in the run");
  bool echo_log = false;
  run_cmd->add_flag("--log", echo_log, "Print what the simulated processes log, as they log it");

  std::string sweep_path;
  std::string seeds = "1..20";
  auto* sweep_cmd =
      app.add_subcommand("sweep", "Run a scenario under a range of seeds and summarise");
  sweep_cmd->add_option("scenario", sweep_path, "Scenario YAML file")->required();
  sweep_cmd->add_option("--seeds", seeds, "Seed range A..B (inclusive)");
  int jobs = 1;
  sweep_cmd->add_option("--jobs", jobs, "Seeds run at once, each in its own process");
  bool show_coverage = false;
  sweep_cmd->add_flag("--coverage", show_coverage,
                      "Print how often each fault, BUGGIFY site and sometimes marker fired");

  std::string shrink_path;
  std::string shrink_out;
  std::uint64_t shrink_seed = 1;
  int shrink_runs = 300;
  auto* shrink_cmd = app.add_subcommand(
      "shrink", "Shrink a failing seed to the smallest scenario that still fails the same way");
  shrink_cmd->add_option("scenario", shrink_path, "Scenario YAML file")->required();
  shrink_cmd->add_option("--seed", shrink_seed, "The failing seed")->required();
  shrink_cmd->add_option("--out", shrink_out,
                         "Where the minimal scenario goes (default: NAME-seedN-shrunk.yaml here)");
  shrink_cmd->add_option("--runs", shrink_runs, "At most this many simulation runs")
      ->check(CLI::PositiveNumber);

  std::string check_path;
  auto* check_cmd = app.add_subcommand("check", "Validate a scenario file without running it");
  check_cmd->add_option("scenario", check_path, "Scenario YAML file")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }
  if (*run_cmd) return run(run_path, seed, echo_log);
  if (*sweep_cmd) return sweep(sweep_path, seeds, jobs, show_coverage);
  if (*shrink_cmd) return shrink(shrink_path, shrink_seed, shrink_out, shrink_runs);
  auto scenario = load(check_path);
  if (!scenario) {
    std::fprintf(stderr, "error: %s\n", scenario.error().message.c_str());
    return kExitUsage;
  }
  std::printf("%s: ok (%zu nodes, %s, %zu scripted faults)\n", check_path.c_str(),
              scenario->node_names().size(), reliant::format_duration(scenario->duration).c_str(),
              scenario->plan.size());
  return 0;
}

// SimHost: command resolution, the built-in shell and virtual-time playback of scripted output
// (its file system: sim_host_files.cc; the shell's syntax: sim_shell_syntax.cc).
#include "sim/sim_host.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <utility>

#include "base/assert.h"
#include "core/line_search.h"
#include "core/path.h"
#include "runtime/future.h"
#include "runtime/sleep.h"
#include "sim/sim_shell_syntax.h"

namespace reliant::sim {

SimCommandScript SimCommandScript::reply(std::string output, int exit_code, Duration duration) {
  SimCommandScript script;
  script.steps.push_back({Duration::zero(), std::move(output)});
  if (duration > Duration::zero()) script.steps.push_back({duration, ""});
  script.exit_code = exit_code;
  return script;
}

SimCommandScript SimCommandScript::reply_with_stderr(std::string output, std::string error_output,
                                                     int exit_code) {
  SimCommandScript script;
  script.steps.push_back({Duration::zero(), std::move(output)});
  script.steps.push_back({Duration::zero(), std::move(error_output), /*to_stderr=*/true});
  script.exit_code = exit_code;
  return script;
}

struct SimHost::Run {
  Run(SimHost& host_in, ProcessSpec& spec_in, std::string cwd_in, SteadyInstant deadline_in)
      : host(host_in), spec(spec_in), cwd(std::move(cwd_in)), deadline(deadline_in) {
    ++host.running_;
    ++host.stats_.runs_started;
  }
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;
  // Runs when the run ends and when its frame is destroyed early: the latter is a kill.
  ~Run() {
    --host.running_;
    if (!ended) ++host.stats_.runs_killed;
    if (spec.input) spec.input->end();  // a killed process reads no more
    if (host.process_ended_) host.process_ended_(spec.command, !ended);
  }

  // Stderr joins stdout, as written, unless the spec keeps it apart.
  void emit(std::string_view chunk, bool to_stderr = false) {
    if (chunk.empty()) return;
    outcome.output_bytes += chunk.size();
    const bool apart = to_stderr && spec.separate_stderr;
    std::string& kept = apart ? outcome.error_output : outcome.output;
    if (apart || spec.collect_output) {
      std::size_t room = chunk.size();
      if (spec.output_limit_bytes != 0) {
        const std::size_t used = kept.size();
        room = used >= spec.output_limit_bytes
                   ? 0
                   : std::min(chunk.size(), spec.output_limit_bytes - used);
      }
      if (room < chunk.size()) outcome.truncated = true;
      kept.append(chunk.substr(0, room));
    }
    if (!apart && spec.on_output) spec.on_output(chunk);
  }

  SimHost& host;
  ProcessSpec& spec;
  std::string cwd;
  SteadyInstant deadline;
  ProcessOutcome outcome;
  bool ended = false;
};

SimHost::SimHost(Executor& executor, std::string working_dir, std::vector<std::string> roots)
    : executor_(executor), working_dir_(normalize_path(working_dir)) {
  for (const auto& root : roots) roots_.push_back(normalize_path(root));
  make_directory(working_dir_);
}

void SimHost::on_command(std::string command, SimCommandScript script) {
  exact_[std::string(trim(command))] = std::move(script);
}

void SimHost::on_prefix(std::string prefix, SimCommandHandler handler) {
  RELIANT_ASSERT(!prefix.empty());
  RELIANT_ASSERT(handler != nullptr);
  prefixes_[std::move(prefix)] = std::move(handler);
}

void SimHost::on_interactive(std::string prefix, SimInteractiveFactory factory) {
  RELIANT_ASSERT(!prefix.empty());
  RELIANT_ASSERT(factory != nullptr);
  interactive_[std::move(prefix)] = std::move(factory);
}

std::string SimHost::resolve(std::string_view path) const {
  return resolve_from(working_dir_, path);
}

std::string SimHost::resolve_from(std::string_view dir, std::string_view path) const {
  return resolve_path(dir, path);
}

// --- commands ---

namespace {

// The entry of `by_prefix` whose key is the longest prefix of `command`, or null.
template <class Map>
const typename Map::mapped_type* longest_prefix(const Map& by_prefix, std::string_view command) {
  const typename Map::mapped_type* best = nullptr;
  std::size_t best_length = 0;
  for (const auto& [prefix, entry] : by_prefix) {
    if (command.starts_with(prefix) && prefix.size() >= best_length) {
      best = &entry;
      best_length = prefix.size();
    }
  }
  return best;
}

}  // namespace

const SimCommandHandler* SimHost::handler_for(std::string_view command) const {
  return longest_prefix(prefixes_, command);
}

const SimInteractiveFactory* SimHost::interactive_for(std::string_view command) const {
  return longest_prefix(interactive_, command);
}

namespace {

// A talking process's side of its run: writes and the exit land at their virtual instants, in
// order, while the run lasts (callbacks hold it weakly, so a killed run hears nothing more).
class Talk final : public SimProcessIo, public std::enable_shared_from_this<Talk> {
 public:
  using Emit = std::function<void(std::string_view, bool)>;
  Talk(Executor& executor, Emit emit, Promise<int> exited)
      : executor_(executor), emit_(std::move(emit)), exited_(std::move(exited)) {}

  void write(std::string output, Duration after, bool to_stderr) override {
    at(after,
       [output = std::move(output), to_stderr](Talk& self) { self.emit_(output, to_stderr); });
  }
  void exit(int code, Duration after) override {
    at(after, [code](Talk& self) {
      self.done_ = true;
      self.exited_.set(code);
    });
  }
  bool done() const { return done_; }

 private:
  void at(Duration after, std::function<void(Talk&)> what) {
    if (done_) return;
    const SteadyInstant when =
        std::max(executor_.steady_now() + std::max(after, Duration::zero()), last_at_);
    last_at_ = when;
    executor_.after(when - executor_.steady_now(),
                    [weak = weak_from_this(), what = std::move(what)] {
                      auto self = weak.lock();
                      if (self && !self->done_) what(*self);
                    });
  }

  Executor& executor_;
  Emit emit_;
  Promise<int> exited_;
  SteadyInstant last_at_{};
  bool done_ = false;
};

// `cat` reading its stdin.
class EchoInput final : public SimInteractive {
 public:
  void on_input(std::string_view data, SimProcessIo& io) override { io.write(std::string(data)); }
};

// The shell a terminal runs (see the header): line editing as a terminal in canonical mode
// does it, then a few commands.
class TerminalShell final : public SimInteractive {
 public:
  TerminalShell(SimHost& host, TerminalSize size) : host_(host), size_(size) {}
  void on_start(SimProcessIo& io) override { io.write("$ "); }
  void on_resize(TerminalSize size, SimProcessIo&) override { size_ = size; }
  void on_input(std::string_view data, SimProcessIo& io) override {
    for (const char c : data) {
      if (exited_) return;
      if (c == '\r' || c == '\n') {
        io.write("\r\n");
        run_line(io);
        line_.clear();
      } else if (c == '\x7f' || c == '\b') {
        if (!line_.empty()) {
          line_.pop_back();
          io.write("\b \b");
        }
      } else if (c == '\x04') {
        if (line_.empty()) exit(0, io);
      } else if (static_cast<unsigned char>(c) >= 0x20) {
        line_ += c;
        io.write(std::string(1, c));
      }
    }
  }
  void on_end_of_input(SimProcessIo& io) override { exit(0, io); }

 private:
  void exit(int code, SimProcessIo& io) {
    exited_ = true;
    io.exit(code);
  }
  static std::string with_crlf(std::string_view text) {
    std::string out;
    for (const char c : text) {
      if (c == '\n') out += '\r';
      out += c;
    }
    return out;
  }
  void run_line(SimProcessIo& io) {
    const std::string_view line = trim(line_);
    if (line == "exit" || line.starts_with("exit ")) {
      exit(line == "exit" ? 0 : std::atoi(std::string(line.substr(5)).c_str()) & 0xff, io);
      return;
    }
    std::string output;
    if (line.empty()) {
    } else if (line == "echo" || line.starts_with("echo ")) {
      output = std::string(line == "echo" ? "" : trim(line.substr(5))) + "\n";
    } else if (line == "pwd") {
      output = host_.working_dir() + "\n";
    } else if (line == "stty size") {
      output = std::to_string(size_.rows) + " " + std::to_string(size_.cols) + "\n";
    } else if (auto script = host_.script_of(line)) {
      for (const SimCommandStep& step : script->steps) output += step.output;
    } else {
      output = "sh: 1: " + std::string(line.substr(0, line.find(' '))) + ": not found\n";
    }
    io.write(with_crlf(output) + "$ ");
  }

  SimHost& host_;
  TerminalSize size_;
  std::string line_;
  bool exited_ = false;
};

}  // namespace

std::optional<SimCommandScript> SimHost::script_of(std::string_view command) const {
  const auto exact = exact_.find(command);
  if (exact == exact_.end()) return std::nullopt;
  return exact->second;
}

Task<bool> SimHost::talk(Run& run, std::unique_ptr<SimInteractive> process) {
  auto [exited, exit_code] = make_promise<int>(executor_);
  auto io = std::make_shared<Talk>(
      executor_, [&run](std::string_view chunk, bool to_stderr) { run.emit(chunk, to_stderr); },
      exited);
  std::shared_ptr<SimInteractive> script(std::move(process));
  std::shared_ptr<ProcessInput> input = run.spec.input;
  auto told_end = std::make_shared<bool>(false);
  // Each write or close is taken on a later turn of the executor, as a pipe would deliver it.
  auto feed = [weak = std::weak_ptr<Talk>(io), script, input, told_end] {
    auto self = weak.lock();
    if (!self || self->done()) return;
    if (auto size = input->take_resize()) script->on_resize(*size, *self);
    const std::string data = input->take();
    if (!data.empty()) script->on_input(data, *self);
    if (input->closed() && input->queued_bytes() == 0 && !*told_end) {
      *told_end = true;
      script->on_end_of_input(*self);
    }
  };
  input->on_ready([this, feed] { executor_.post(feed); });
  script->on_start(*io);
  executor_.post(feed);  // what was written before the start
  std::optional<TimerId> deadline;
  if (run.deadline != SteadyInstant::max()) {
    deadline = executor_.after(run.deadline - executor_.steady_now(),
                               [exited = exited] { exited.set(std::numeric_limits<int>::min()); });
  }
  const int code = co_await exit_code;
  if (deadline) executor_.cancel(*deadline);
  input->end();
  if (code == std::numeric_limits<int>::min()) co_return false;
  run.outcome.exit_code = code;
  co_return true;
}

Task<bool> SimHost::play(Run& run, SimCommandScript script, std::optional<std::string> redirect,
                         bool append) {
  std::optional<std::string> target;
  if (redirect) {
    target = resolve_from(run.cwd, *redirect);
    auto created = store_file(*target, "", append);
    if (!created) {
      run.emit("sh: 1: cannot create " + *redirect + ": " + created.error().message + "\n", true);
      run.outcome.exit_code = 2;
      co_return true;
    }
  }
  for (auto& step : script.steps) {
    const SteadyInstant now = executor_.steady_now();
    if (now + step.after > run.deadline) {
      co_await sleep(executor_, run.deadline - now);
      co_return false;
    }
    if (step.after > Duration::zero()) co_await sleep(executor_, step.after);
    if (target && !step.to_stderr) {
      // The target may have been removed or replaced meanwhile: write wherever it is now.
      (void)store_file(*target, step.output, true);
    } else {
      run.emit(step.output, step.to_stderr);
    }
  }
  run.outcome.exit_code = script.exit_code;
  co_return true;
}

SimCommandScript SimHost::builtin(Run& run, const std::vector<std::string>& words) {
  RELIANT_ASSERT(!words.empty());
  const std::string& name = words[0];
  if (name == "true" || name == ":") return {};
  if (name == "false") return SimCommandScript::reply("", 1);
  if (name == "pwd") return SimCommandScript::reply(run.cwd + "\n");
  if (name == "echo") {
    std::size_t first = 1;
    bool newline = true;
    if (words.size() > 1 && words[1] == "-n") {
      newline = false;
      first = 2;
    }
    std::string out;
    for (std::size_t i = first; i < words.size(); ++i) {
      if (i > first) out += ' ';
      out += words[i];
    }
    if (newline) out += '\n';
    return SimCommandScript::reply(std::move(out));
  }
  if (name == "cat") {
    std::string out;
    int exit_code = 0;
    for (std::size_t i = 1; i < words.size(); ++i) {
      const std::string p = resolve_from(run.cwd, words[i]);
      if (auto it = files_.find(p); it != files_.end()) {
        out += it->second;
      } else if (is_directory(p)) {
        out += "cat: " + words[i] + ": Is a directory\n";
        exit_code = 1;
      } else {
        out += "cat: " + words[i] + ": No such file or directory\n";
        exit_code = 1;
      }
    }
    return SimCommandScript::reply(std::move(out), exit_code);
  }
  if (name == "ls") {
    bool all = false;
    std::vector<std::string> targets;
    for (std::size_t i = 1; i < words.size(); ++i) {
      if (words[i].starts_with("-")) {
        all = all || words[i].find('a') != std::string::npos;
      } else {
        targets.push_back(words[i]);
      }
    }
    if (targets.empty()) targets.push_back(".");
    std::string out;
    int exit_code = 0;
    for (const auto& target : targets) {
      const std::string p = resolve_from(run.cwd, target);
      if (files_.count(p) != 0) {
        out += target + "\n";
      } else if (is_directory(p)) {
        if (targets.size() > 1) out += target + ":\n";
        for (const auto& entry : children(p)) {
          const std::string_view entry_name = file_name(entry.path);
          if (!all && entry_name.starts_with(".")) continue;
          out.append(entry_name);
          out += '\n';
        }
      } else {
        out += "ls: cannot access '" + target + "': No such file or directory\n";
        exit_code = 2;
      }
    }
    return SimCommandScript::reply(std::move(out), exit_code);
  }
  if (name == "sleep") {
    if (words.size() != 2) {
      return SimCommandScript::reply_with_stderr("", "sleep: missing operand\n", 1);
    }
    const auto delay = parse_seconds(words[1]);
    if (!delay) {
      return SimCommandScript::reply_with_stderr(
          "", "sleep: invalid time interval '" + words[1] + "'\n", 1);
    }
    SimCommandScript script;
    script.steps.push_back({*delay, ""});
    return script;
  }
  return SimCommandScript::reply_with_stderr("", "sh: 1: " + name + ": not found\n", 127);
}

Task<Result<ProcessOutcome>> SimHost::run(ProcessSpec spec) {
  commands_run_.push_back(spec.command);
  std::string cwd = spec.working_dir.empty() ? working_dir_ : resolve(spec.working_dir);
  if (!is_directory(cwd)) {
    co_return fail(ErrorCode::not_found, "working directory " + cwd + " does not exist");
  }
  const SteadyInstant deadline = spec.timeout > Duration::zero()
                                     ? executor_.steady_now() + spec.timeout
                                     : SteadyInstant::max();
  Run run(*this, spec, std::move(cwd), deadline);
  if (!spec.input && faults_ != nullptr && faults_->hang()) {
    // Hung (an NFS mount gone, a lock never released): silent until its deadline or a kill.
    Task<bool> hanging =
        play(run, SimCommandScript{{{hours(24), "", false}}, 0}, std::nullopt, false);
    const bool in_time = co_await hanging;
    run.ended = true;
    run.outcome.timed_out = !in_time;
    run.outcome.exit_code = in_time ? 0 : -1;
    ++(in_time ? stats_.runs_finished : stats_.runs_timed_out);
    co_return std::move(run.outcome);
  }
  const std::string_view line = trim(spec.command);
  bool in_time = true;

  // A process that talks, given something to say to it (a bare `cat` echoes it).
  // (`exec` only makes the shell the process: a talker is matched on what follows.)
  const std::string_view talk_line = line.starts_with("exec ") ? trim(line.substr(5)) : line;
  const SimInteractiveFactory* talker = spec.input ? interactive_for(talk_line) : nullptr;
  static const SimInteractiveFactory echo = [](SimHost&, const SimCommandCall&) {
    return std::unique_ptr<SimInteractive>(std::make_unique<EchoInput>());
  };
  if (spec.input && talker == nullptr && talk_line == "cat") talker = &echo;
  const TerminalSize terminal_size = spec.terminal.value_or(TerminalSize{});
  const SimInteractiveFactory terminal = [terminal_size](SimHost& host, const SimCommandCall&) {
    return std::unique_ptr<SimInteractive>(std::make_unique<TerminalShell>(host, terminal_size));
  };
  if (spec.terminal) {
    if (!spec.input || !spec.terminal->valid()) {
      co_return fail(ErrorCode::invalid_argument,
                     "a command on a terminal needs an input and a size of 1 to " +
                         std::to_string(TerminalSize::kCellsMax) + " rows and columns");
    }
    talker = &terminal;
  }
  // A script for the whole line wins over the shell's own parsing.
  auto exact = exact_.find(line);
  const SimCommandHandler* whole = exact == exact_.end() ? handler_for(line) : nullptr;
  const bool scripted = exact != exact_.end() || whole != nullptr;
  Result<std::vector<ChainLink>> links =
      scripted || talker != nullptr ? Result<std::vector<ChainLink>>(std::vector<ChainLink>{})
                                    : parse_chain(line);
  if (talker != nullptr) {
    Task<bool> talked =
        talk(run, (*talker)(*this, SimCommandCall{std::string(talk_line), run.cwd, spec.env}));
    in_time = co_await talked;
  } else if (scripted) {
    SimCommandScript script;
    if (exact != exact_.end()) {
      script = exact->second;
    } else {
      script = (*whole)(*this, SimCommandCall{std::string(line), run.cwd, spec.env});
    }
    Task<bool> played = play(run, std::move(script), std::nullopt, false);
    in_time = co_await played;
  } else if (!links) {
    run.emit("sh: 1: Syntax error: " + links.error().message + "\n", true);
    run.outcome.exit_code = 2;
  } else {
    for (const ChainLink& link : *links) {
      if (link.join == Join::if_ok && run.outcome.exit_code != 0) continue;
      if (link.join == Join::if_failed && run.outcome.exit_code == 0) continue;
      const std::string_view text = trim(link.text);
      auto words = split_words(text);
      if (!words) {
        run.emit("sh: 1: Syntax error: " + words.error().message + "\n", true);
        run.outcome.exit_code = 2;
        break;
      }
      Redirect redirect = take_redirect(*words);
      if (words->empty()) continue;
      if ((*words)[0] == "exit") {
        int code = 0;
        if (words->size() > 1) code = std::atoi((*words)[1].c_str());
        run.outcome.exit_code = code & 0xff;
        break;
      }
      if ((*words)[0] == "cd") {
        const std::string target =
            words->size() > 1 ? resolve_from(run.cwd, (*words)[1]) : working_dir_;
        if (is_directory(target)) {
          run.cwd = target;
          run.outcome.exit_code = 0;
        } else {
          run.emit("sh: 1: cd: can't cd to " + (words->size() > 1 ? (*words)[1] : target) + "\n",
                   true);
          run.outcome.exit_code = 2;
        }
        continue;
      }
      SimCommandScript script;
      auto link_exact = exact_.find(text);
      if (link_exact != exact_.end()) {
        script = link_exact->second;
      } else if (const SimCommandHandler* handler = handler_for(text)) {
        script = (*handler)(*this, SimCommandCall{std::string(text), run.cwd, spec.env});
      } else {
        script = builtin(run, *words);
      }
      if (redirect.to_stderr) {
        for (auto& step : script.steps) step.to_stderr = *redirect.to_stderr;
      }
      Task<bool> played = play(run, std::move(script), redirect.path, redirect.append);
      in_time = co_await played;
      if (!in_time) break;
    }
  }

  run.ended = true;
  if (!in_time) {
    run.outcome.timed_out = true;
    run.outcome.exit_code = -1;
    ++stats_.runs_timed_out;
  } else {
    ++stats_.runs_finished;
  }
  co_return std::move(run.outcome);
}

}  // namespace reliant::sim

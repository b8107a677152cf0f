// The shell tools: bash (foreground or background), and bash_output, bash_kill, bash_list for
// the background processes it starts.
#include <algorithm>
#include <map>
#include <string>

#include "core/variable_name.h"
#include "services/daemon/tools/background_processes.h"
#include "services/daemon/tools/tool_support.h"

namespace reliant::daemon {

namespace {

constexpr std::int64_t kDefaultTimeoutMs = 120'000;
constexpr std::int64_t kTimeoutMsMax = 600'000;

Json status_metadata(const BackgroundStatus& status) {
  Json out = {{"id", status.id},
              {"command", status.command},
              {"running", status.running},
              {"killed", status.killed},
              {"timed_out", status.timed_out},
              {"output_bytes", status.output_bytes},
              {"dropped_bytes", status.dropped_bytes}};
  if (!status.description.empty()) out["description"] = status.description;
  if (status.exit_code) out["exit_code"] = *status.exit_code;
  if (status.start_error) out["start_error"] = *status.start_error;
  return out;
}

// The "env" input: variables added to the command's environment.
Result<std::map<std::string, std::string>> environment_input(const Json& input) {
  std::map<std::string, std::string> out;
  auto it = input.find("env");
  if (it == input.end() || it->is_null()) return out;
  if (!it->is_object()) {
    return fail(ErrorCode::invalid_argument,
                "field \"env\" must be an object, got " + std::string(it->type_name()));
  }
  for (const auto& [name, value] : it->items()) {
    if (!is_variable_name(name)) {
      return fail(ErrorCode::invalid_argument,
                  "field \"env\": \"" + name +
                      "\" is not a variable name (letters, digits and '_', not starting with a "
                      "digit)");
    }
    if (!value.is_string()) {
      return fail(ErrorCode::invalid_argument, "field \"env\": the value of \"" + name +
                                                   "\" must be a string, got " +
                                                   std::string(value.type_name()));
    }
    // An environment entry ends at its first NUL: the command would see a shorter value.
    if (value.get_ref<const std::string&>().find('\0') != std::string::npos) {
      return fail(ErrorCode::invalid_argument,
                  "field \"env\": the value of \"" + name + "\" holds a NUL character");
    }
    out[name] = value.get<std::string>();
  }
  return out;
}

// One stream for metadata: at most the limit, never cut inside a character, valid UTF-8 (the
// host cut bytes, and JSON carries text).
std::string stream_text(std::string text, std::size_t limit_bytes) {
  if (limit_bytes != 0 && text.size() >= limit_bytes) {
    text.resize(utf8_prefix_length(text, limit_bytes));
  }
  return repair_utf8(text);
}

Json id_schema() {
  return {{"type", "object"},
          {"properties",
           {{"id",
             {{"type", "string"},
              {"description", "The id bash returned, e.g. \"bash_mi2k3f0a_1\"."}}}}},
          {"required", {"id"}},
          {"additionalProperties", false}};
}

class BashTool final : public Tool {
 public:
  std::string_view name() const override { return "bash"; }
  ToolTags tags() const override { return {.shell = true}; }
  std::string_view description() const override {
    return "Runs a shell command with /bin/sh -c in the working directory (or working_dir) and "
           "returns its combined stdout and stderr; with separate_stderr, stdout then stderr, "
           "and each apart in the metadata. env adds environment variables. A non-zero exit "
           "code is reported as an error with the output. The command is killed after "
           "timeout_ms (default 120000, at most 600000). With run_in_background it returns a "
           "process id at once; read its output with bash_output and stop it with bash_kill.";
  }
  Json input_schema() const override {
    return {{"type", "object"},
            {"properties",
             {{"command", {{"type", "string"}, {"description", "The command to run."}}},
              {"timeout_ms",
               {{"type", "integer"},
                {"minimum", 1},
                {"maximum", kTimeoutMsMax},
                {"description", "Kill the command after this many milliseconds."}}},
              {"run_in_background",
               {{"type", "boolean"},
                {"description", "Start it and return at once with an id for bash_output."}}},
              {"description",
               {{"type", "string"},
                {"description", "Five to ten words saying what the command does."}}},
              {"separate_stderr",
               {{"type", "boolean"},
                {"description",
                 "Keep stderr apart: the metadata then holds stdout and stderr, each cut at the "
                 "output limit. Ignored with run_in_background."}}},
              {"env",
               {{"type", "object"},
                {"additionalProperties", {{"type", "string"}}},
                {"description",
                 "Environment variables to add, name to value; names are letters, digits and "
                 "'_', not starting with a digit."}}},
              {"working_dir",
               {{"type", "string"},
                {"description",
                 "The directory to run in, absolute or relative to the working directory; it "
                 "must lie inside the daemon's workspace."}}}}},
            {"required", {"command"}},
            {"additionalProperties", false}};
  }

  Task<ToolResult> run(ToolContext& ctx, Json input) override {
    auto command = required_string(input, "command");
    if (!command) co_return invalid_input(command.error());
    if (command->find_first_not_of(" \t\r\n") == std::string::npos) {
      co_return tool_failure(tool_error::invalid_input, "field \"command\" is empty");
    }
    auto timeout_ms = optional_integer(input, "timeout_ms");
    if (!timeout_ms) co_return invalid_input(timeout_ms.error());
    if (*timeout_ms && (**timeout_ms < 1 || **timeout_ms > kTimeoutMsMax)) {
      co_return tool_failure(tool_error::invalid_input,
                             "field \"timeout_ms\" must be between 1 and " +
                                 std::to_string(kTimeoutMsMax) + ", got " +
                                 std::to_string(**timeout_ms));
    }
    auto background = optional_bool(input, "run_in_background", false);
    if (!background) co_return invalid_input(background.error());
    auto description = optional_string(input, "description");
    if (!description) co_return invalid_input(description.error());
    auto separate_stderr = optional_bool(input, "separate_stderr", false);
    if (!separate_stderr) co_return invalid_input(separate_stderr.error());
    auto env = environment_input(input);
    if (!env) co_return invalid_input(env.error());
    auto given_dir = optional_string(input, "working_dir");
    if (!given_dir) co_return invalid_input(given_dir.error());

    ProcessSpec spec;
    spec.command = *command;
    spec.working_dir = ctx.working_dir;
    spec.env = std::move(*env);
    spec.output_limit_bytes = ctx.output_limit_bytes;
    if (*given_dir) {
      // Confined the way the file tools are: the host refuses a path outside its workspace.
      const std::string dir = resolve_input_path(ctx, **given_dir);
      const std::string what = "bash: working_dir " + shown_path(ctx, dir);
      Task<Result<FileEntry>> stat_task = ctx.host.stat(dir);
      Result<FileEntry> entry = co_await stat_task;
      if (!entry) co_return host_failure(entry.error(), what);
      if (!entry->is_directory) {
        co_return tool_failure(tool_error::invalid_input, what + ": is not a directory");
      }
      spec.working_dir = dir;
    }
    if (*background) {
      // A background process runs until it ends or is killed, unless a timeout was asked for.
      if (*timeout_ms) spec.timeout = milliseconds(**timeout_ms);
      auto id = ctx.background.start(std::move(spec), description->value_or(""));
      if (!id) co_return tool_failure(tool_error::failed, "bash: " + id.error().message);
      co_return tool_success("started background process " + *id +
                                 "; read its output with bash_output {\"id\": \"" + *id +
                                 "\"}, stop it with bash_kill",
                             {{"id", *id}, {"background", true}});
    }

    const std::int64_t limit_ms = timeout_ms->value_or(kDefaultTimeoutMs);
    spec.timeout = milliseconds(limit_ms);
    spec.separate_stderr = *separate_stderr;
    spec.on_output = ctx.on_output;
    const SteadyInstant started = ctx.executor.steady_now();
    Task<Result<ProcessOutcome>> running = ctx.host.run(std::move(spec));
    Result<ProcessOutcome> outcome = co_await running;
    if (!outcome) co_return host_failure(outcome.error(), "bash: could not run the command");

    const std::uint64_t kept = outcome->output.size() + outcome->error_output.size();
    const std::uint64_t cut = outcome->output_bytes > kept ? outcome->output_bytes - kept : 0;
    Json metadata = {{"exit_code", outcome->exit_code},
                     {"timed_out", outcome->timed_out},
                     {"truncated", outcome->truncated || cut > 0},
                     {"output_bytes", outcome->output_bytes},
                     {"duration_ms", to_ms(ctx.executor.steady_now() - started)}};
    if (*separate_stderr) {
      metadata["stdout"] = stream_text(outcome->output, ctx.output_limit_bytes);
      metadata["stderr"] = stream_text(outcome->error_output, ctx.output_limit_bytes);
    }
    std::string content =
        cap_output(std::move(outcome->output) + outcome->error_output, ctx.output_limit_bytes, cut);
    if (outcome->timed_out) {
      append_line(content,
                  "[timed out after " + std::to_string(limit_ms) + " ms: the command was killed]");
      co_return tool_failure(tool_error::timeout, std::move(content), std::move(metadata));
    }
    if (outcome->exit_code != 0) {
      append_line(content, "[exit code: " + std::to_string(outcome->exit_code) + "]");
      co_return tool_failure(tool_error::failed, std::move(content), std::move(metadata));
    }
    if (content.empty()) content = "(no output)";
    co_return tool_success(std::move(content), std::move(metadata));
  }
};

class BashOutputTool final : public Tool {
 public:
  std::string_view name() const override { return "bash_output"; }
  ToolTags tags() const override { return {.read_only = true, .shell = true}; }
  std::string_view description() const override {
    return "Returns the output a background process (started by bash with run_in_background) "
           "wrote since the last call, and whether it is still running or how it ended.";
  }
  Json input_schema() const override { return id_schema(); }

  Task<ToolResult> run(ToolContext& ctx, Json input) override {
    auto id = required_string(input, "id");
    if (!id) co_return invalid_input(id.error());
    auto read = ctx.background.read(*id);
    if (!read) co_return tool_failure(tool_error::not_found, read.error().message);
    std::string content;
    if (read->dropped_bytes > 0) {
      content = "[" + std::to_string(read->dropped_bytes) +
                " earlier bytes were dropped: only the newest output is kept between reads]\n";
    }
    content += read->output.empty() ? std::string("(no new output)") : std::move(read->output);
    content = cap_output(std::move(content), ctx.output_limit_bytes);
    append_line(content, "[" + read->status.id + ": " + read->status.describe() + "]");
    co_return tool_success(std::move(content), status_metadata(read->status));
  }
};

class BashKillTool final : public Tool {
 public:
  std::string_view name() const override { return "bash_kill"; }
  ToolTags tags() const override { return {.shell = true}; }
  std::string_view description() const override {
    return "Kills a background process started by bash (and everything it started).";
  }
  Json input_schema() const override { return id_schema(); }

  Task<ToolResult> run(ToolContext& ctx, Json input) override {
    auto id = required_string(input, "id");
    if (!id) co_return invalid_input(id.error());
    const bool was_running = [&] {
      for (const auto& status : ctx.background.list()) {
        if (status.id == *id) return status.running;
      }
      return false;
    }();
    auto status = ctx.background.kill(*id);
    if (!status) co_return tool_failure(tool_error::not_found, status.error().message);
    Json metadata = status_metadata(*status);
    if (!was_running) {
      co_return tool_success(status->id + " had already ended: " + status->describe(),
                             std::move(metadata));
    }
    co_return tool_success("killed " + status->id, std::move(metadata));
  }
};

class BashListTool final : public Tool {
 public:
  std::string_view name() const override { return "bash_list"; }
  ToolTags tags() const override { return {.read_only = true, .shell = true}; }
  std::string_view description() const override {
    return "Lists the background processes started by bash: id, status and command.";
  }
  Json input_schema() const override {
    return {{"type", "object"}, {"properties", Json::object()}, {"additionalProperties", false}};
  }

  Task<ToolResult> run(ToolContext& ctx, Json) override {
    const auto processes = ctx.background.list();
    Json items = Json::array();
    std::string content;
    for (const auto& status : processes) {
      std::string line = status.id + "  " + status.describe() + "  " + status.command;
      if (!status.description.empty()) line += "  (" + status.description + ")";
      append_line(content, line);
      items.push_back(status_metadata(status));
    }
    if (content.empty()) content = "(no background processes)";
    co_return tool_success(cap_output(std::move(content), ctx.output_limit_bytes),
                           {{"processes", std::move(items)}});
  }
};

}  // namespace

std::unique_ptr<Tool> make_bash_tool() { return std::make_unique<BashTool>(); }
std::unique_ptr<Tool> make_bash_output_tool() { return std::make_unique<BashOutputTool>(); }
std::unique_ptr<Tool> make_bash_kill_tool() { return std::make_unique<BashKillTool>(); }
std::unique_ptr<Tool> make_bash_list_tool() { return std::make_unique<BashListTool>(); }

}  // namespace reliant::daemon

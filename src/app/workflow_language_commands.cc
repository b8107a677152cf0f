// Workflow files and scenario files from disk (or builtin://NAME), through the core loader and
// scenario runner; errors as file:line:column.
#include "app/workflow_language_commands.h"
#include "app/zone_files.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/workflow/builtins.h"
#include "core/workflow/loader.h"
#include "core/workflow/scenario.h"

namespace reliant {

Result<std::string> read_workflow_source(const std::string& name) {
  if (name.starts_with("builtin://")) {
    const auto* builtin = workflow::builtin_workflow(name.substr(10));
    if (builtin == nullptr) {
      return fail(ErrorCode::not_found,
                  name + ": no such built-in workflow (have: " + workflow::builtin_names() + ")");
    }
    return std::string(builtin->yaml);
  }
  std::ifstream in(name, std::ios::binary);
  if (!in) return fail(ErrorCode::not_found, name + ": cannot read the file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (buffer.str().size() > workflow::kWorkflowBytesMax) {
    return fail(ErrorCode::invalid_argument,
                name + ": larger than " + std::to_string(workflow::kWorkflowBytesMax) + " bytes");
  }
  return buffer.str();
}

namespace {

constexpr int kFailed = 1;

struct LanguageOptions {
  std::vector<std::string> files;
  std::string workflow;
  bool verbose = false;
};

// read_workflow_source, its failure printed.
bool read_source(const std::string& name, std::string& text) {
  auto read = read_workflow_source(name);
  if (!read) {
    std::fprintf(stderr, "%s\n", read.error().message.c_str());
    return false;
  }
  text = std::move(*read);
  return true;
}

void print_errors(const std::string& file, const std::vector<workflow::Diagnostic>& errors) {
  std::fprintf(stderr, "%s\n", workflow::format_all(file, errors).c_str());
}

std::shared_ptr<const workflow::Definition> load(const std::string& file) {
  std::string text;
  if (!read_source(file, text)) return nullptr;
  auto definition = workflow::load_workflow(text, file, system_time_zones());
  if (!definition) {
    print_errors(file, definition.error());
    return nullptr;
  }
  return std::make_shared<const workflow::Definition>(std::move(*definition));
}

int validate(const LanguageOptions& o) {
  int status = 0;
  for (const auto& file : o.files) {
    const auto definition = load(file);
    if (definition == nullptr) {
      status = kFailed;
      continue;
    }
    std::printf("%s: ok (workflow \"%s\", %zu nodes, %zu inputs)\n", file.c_str(),
                definition->name.c_str(), definition->graph->nodes.size(),
                definition->inputs.size());
  }
  return status;
}

int run_scenarios(const LanguageOptions& o) {
  const auto definition = load(o.workflow);
  if (definition == nullptr) return kFailed;
  std::size_t passed = 0;
  std::size_t failed = 0;
  for (const auto& file : o.files) {
    std::string text;
    if (!read_source(file, text)) {
      ++failed;
      continue;
    }
    auto scenarios = workflow::load_scenarios(text);
    if (!scenarios) {
      print_errors(file, scenarios.error());
      ++failed;
      continue;
    }
    for (const auto& scenario : *scenarios) {
      const auto outcome = workflow::run_scenario(definition, scenario);
      const auto where = file + ":" + std::to_string(scenario.mark.line);
      if (outcome.passed) {
        ++passed;
        std::printf("PASS %s (%s)\n", scenario.name.c_str(), where.c_str());
        continue;
      }
      ++failed;
      std::string why;
      for (const auto& f : outcome.failures) why += (why.empty() ? "" : "; ") + f;
      std::printf("FAIL %s (%s): %s\n", scenario.name.c_str(), where.c_str(), why.c_str());
      if (o.verbose) {
        std::string path;
        for (const auto& p : outcome.reached) path += (path.empty() ? "" : " → ") + p;
        std::printf("     reached: %s\n", path.c_str());
        std::string unscripted;
        for (const auto& p : outcome.unscripted) unscripted += (unscripted.empty() ? "" : ", ") + p;
        if (!unscripted.empty())
          std::printf("     completed without an event: %s\n", unscripted.c_str());
      }
    }
  }
  std::printf("%zu passed, %zu failed\n", passed, failed);
  return failed == 0 ? 0 : kFailed;
}

}  // namespace

void add_workflow_language_commands(CLI::App& workflow_app, int& exit_code) {
  auto options = std::make_shared<LanguageOptions>();
  auto* validate_command = workflow_app.add_subcommand(
      "validate", "Check workflow files (or builtin://NAME); errors as file:line:column");
  validate_command->add_option("files", options->files, "Workflow YAML files")->required();
  validate_command->callback([options, &exit_code] { exit_code = validate(*options); });

  auto* scenario =
      workflow_app.add_subcommand("scenario", "Scenario files: scripted runs of a workflow");
  scenario->require_subcommand(1);
  auto* run = scenario->add_subcommand(
      "run",
      "Run each scenario against the workflow: one line each and a summary; exit 1 on a failure");
  run->add_option("--workflow", options->workflow, "The workflow file, or builtin://NAME")
      ->required();
  run->add_option("files", options->files, "Scenario files (one scenario per YAML document)")
      ->required();
  run->add_flag("--verbose", options->verbose, "Show the path each failing scenario took");
  run->callback([options, &exit_code] { exit_code = run_scenarios(*options); });
}

}  // namespace reliant

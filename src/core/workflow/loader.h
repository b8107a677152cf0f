// Reads a workflow from YAML into a Definition, checking everything that can be checked before
// a run: keys, node types, entry, edges, cycles, templates, inputs and their defaults. Every
// mistake is reported with its place in the file, as "file:line:column: what is wrong".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "core/cel/time_zones.h"
#include "core/workflow/definition.h"

namespace reliant::workflow {

struct Diagnostic {
  Mark mark;
  std::string message;
};

// "file:line:column: message" (without line and column when the mark has none).
std::string format(std::string_view file, const Diagnostic& diagnostic);
// Every diagnostic formatted, one per line.
std::string format_all(std::string_view file, const std::vector<Diagnostic>& diagnostics);

// Bounds on what a workflow file may hold, so a hostile file costs bounded work.
inline constexpr std::size_t kWorkflowBytesMax = 4 * 1024 * 1024;
inline constexpr std::size_t kNodesMax = 2'000;
inline constexpr int kNestingMax = 32;  // loops and groups inside each other

// All the mistakes found, in file order, or the definition. `file` names the source in
// messages and in Definition::file. `zones` loads the time zones schedule triggers name, to
// check them; without it (the first form) a zone's name is checked for its form only.
tl::expected<Definition, std::vector<Diagnostic>> load_workflow(std::string_view yaml,
                                                                std::string_view file);
tl::expected<Definition, std::vector<Diagnostic>> load_workflow(std::string_view yaml,
                                                                std::string_view file,
                                                                const cel::TimeZoneLoader& zones);

}  // namespace reliant::workflow

// Lookup over the embedded built-in workflows (the table is generated: builtin_sources.cc).
#include "core/workflow/builtins.h"

namespace reliant::workflow {

std::span<const BuiltinWorkflow> embedded_builtin_workflows();  // builtin_sources.cc

std::span<const BuiltinWorkflow> builtin_workflows() { return embedded_builtin_workflows(); }

const BuiltinWorkflow* builtin_workflow(std::string_view name) {
  for (const auto& builtin : builtin_workflows()) {
    if (builtin.name == name) return &builtin;
  }
  return nullptr;
}

std::string builtin_names() {
  std::string out;
  for (const auto& builtin : builtin_workflows())
    out += (out.empty() ? "" : ", ") + std::string(builtin.name);
  return out;
}

}  // namespace reliant::workflow

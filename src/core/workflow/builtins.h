// The workflows shipped inside the binary (builtin://NAME): their YAML, embedded at build time
// from workflows/builtin/*.yaml.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace reliant::workflow {

struct BuiltinWorkflow {
  std::string_view name;  // "agent" for builtin://agent
  std::string_view yaml;
};

std::span<const BuiltinWorkflow> builtin_workflows();
const BuiltinWorkflow* builtin_workflow(std::string_view name);
// "agent, plan-then-implement, …", for messages.
std::string builtin_names();

}  // namespace reliant::workflow

// `echo`: returns its `text` unchanged, touching nothing on the machine. For checking the tool
// path end to end (`reliant tool call --tool echo --input '{"text":"hi"}'`) and for measuring
// the path's own latency without a process or a file in the way. And `calculate`, which runs
// here or, with no daemon connected, on the worker (services/agent/server_tools.h).
#include "core/calculate.h"
#include "services/daemon/tools/tool_support.h"

namespace reliant::daemon {
namespace {

class EchoTool final : public Tool {
 public:
  std::string_view name() const override { return "echo"; }
  ToolTags tags() const override { return {.read_only = true}; }
  std::string_view description() const override {
    return "Returns `text` unchanged; runs nothing. Checks that tool calls reach this machine.";
  }
  Json input_schema() const override {
    return {{"type", "object"},
            {"properties", {{"text", {{"type", "string"}, {"description", "What to return."}}}}},
            {"additionalProperties", false}};
  }
  Task<ToolResult> run(ToolContext&, Json input) override {
    auto text = optional_string(input, "text");
    if (!text) co_return tool_failure(tool_error::invalid_input, text.error().message);
    co_return tool_success(std::move(*text).value_or(""), Json::object());
  }
};

// `calculate` (core/calculate.h): a tool that runs anywhere; here when a daemon is connected.
class CalculateTool final : public Tool {
 public:
  std::string_view name() const override { return kCalculateTool; }
  ToolTags tags() const override { return {.read_only = true}; }
  std::string_view description() const override { return calculate_description(); }
  Json input_schema() const override { return calculate_input_schema(); }
  Task<ToolResult> run(ToolContext&, Json input) override {
    auto value = calculate(input);
    if (!value) co_return tool_failure(tool_error::invalid_input, value.error().message);
    co_return tool_success(*value, Json::object());
  }
};

}  // namespace

std::unique_ptr<Tool> make_echo_tool() { return std::make_unique<EchoTool>(); }
std::unique_ptr<Tool> make_calculate_tool() { return std::make_unique<CalculateTool>(); }

}  // namespace reliant::daemon

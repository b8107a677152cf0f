// `echo`: returns its `text` unchanged, touching nothing on the machine. For checking the tool
// path end to end (`reliant tool call --tool echo --input '{"text":"hi"}'`) and for measuring
// the path's own latency without a process or a file in the way.
#include "services/daemon/tools/tool_support.h"

namespace reliant::daemon {
namespace {

class EchoTool final : public Tool {
 public:
  std::string_view name() const override { return "echo"; }
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
    co_return tool_success(text->value_or(""), Json::object());
  }
};

}  // namespace

std::unique_ptr<Tool> make_echo_tool() { return std::make_unique<EchoTool>(); }

}  // namespace reliant::daemon

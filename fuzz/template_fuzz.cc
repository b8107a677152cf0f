// Fuzz target: any bytes given as a template (text with {{ }} holes) parse to a template or to
// an error at an offset inside the text, never a crash; a parsed template evaluates to a value
// or an error within the CEL budget, and a bare expression parses the same way.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/assert.h"
#include "core/workflow/template.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace reliant;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static const cel::Activation variables = [] {
    cel::Activation a;
    a.bind("inputs", cel::from_json(nlohmann::json::parse(R"({"n": 2, "s": "x", "l": [1, "a"]})")));
    a.bind("nodes",
           cel::from_json(nlohmann::json::parse(R"({"a": {"tool_calls": [], "v": null}})")));
    return a;
  }();
  for (const bool expression : {false, true}) {
    auto parsed =
        expression ? workflow::Template::parse_expression(text) : workflow::Template::parse(text);
    if (!parsed) {
      RELIANT_ASSERT(!parsed.error().message.empty());
      RELIANT_ASSERT(parsed.error().offset <= size);
      continue;
    }
    auto value = parsed->evaluate(variables, cel::EvalOptions{20'000});
    if (value) (void)workflow::interpolated(*value);
  }
  return 0;
}

// matches(): RE2 regular expressions (cel-spec: RE2 syntax, true when the pattern matches any
// part of the string). RE2 runs in time linear in the text, so charging by size bounds the work;
// a pattern that does not compile, or would need more than 1 MB compiled, is an error value.
#include <re2/re2.h>

#include "core/cel/functions.h"

namespace reliant::cel {
namespace {

constexpr std::int64_t kCompiledBytesMax = 1 << 20;

// matches(text, pattern) and text.matches(pattern) alike.
std::optional<CallResult> matches(const Args& args, bool, CallContext& context) {
  if (args.size() != 2) return std::nullopt;
  const auto* text = args[0].get_if<std::string>();
  const auto* pattern = args[1].get_if<std::string>();
  if (!text || !pattern) return std::nullopt;
  // Compiling costs about the pattern's size, matching about text × pattern in the worst case.
  if (!context.budget.charge_bytes(pattern->size()) ||
      !context.budget.charge_bytes(text->size() * (1 + pattern->size() / 64))) {
    return budget_exceeded();
  }
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kCompiledBytesMax);
  const RE2 regex(*pattern, options);
  if (!regex.ok()) return fail("invalid regular expression: " + regex.error());
  return Value(RE2::PartialMatch(*text, regex));
}

}  // namespace

void add_regex_functions(FunctionTable& table) { add_function(table, "matches", matches); }

}  // namespace reliant::cel

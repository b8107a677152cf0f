// NATS subject syntax and matching: `.`-separated tokens, `*` matches one token, `>` the rest.
#pragma once

#include <string_view>

#include "base/result.h"

namespace reliant {

// A subject one may publish to: non-empty tokens, no wildcards, no whitespace.
Result<void> validate_subject(std::string_view subject);
// A subscription pattern: like a subject, but `*` may stand for any whole token and `>` for the
// final token.
Result<void> validate_pattern(std::string_view pattern);
// Whether a valid `pattern` matches a valid `subject`.
bool subject_matches(std::string_view pattern, std::string_view subject);

}  // namespace reliant

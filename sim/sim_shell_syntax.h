// The simulated shell's syntax (SimHost's built-in shell): command chains, words, redirections
// and sleep's durations. Pure functions, for SimHost::run and its tests.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/time.h"

namespace reliant::sim {

// `s` without leading and trailing blanks (space, tab, CR, LF).
std::string_view trim(std::string_view s);

// How a link of a command chain runs after the previous one.
enum class Join { always, if_ok, if_failed };

struct ChainLink {
  Join join = Join::always;
  std::string text;
};

// Splits a command line at top-level `;`, `&&`, `||` (and `&`, which here runs in sequence:
// the simulated shell has no job control). Pipes are refused: register a handler instead.
Result<std::vector<ChainLink>> parse_chain(std::string_view line);

// Shell words: quotes group and are removed, backslash escapes the next character.
Result<std::vector<std::string>> split_words(std::string_view text);

// A redirection taken out of a command's words.
struct Redirect {
  std::optional<std::string> path;
  bool append = false;
  std::optional<bool> to_stderr;  // `>&2`: every step to stderr; `2>&1`: every step to stdout
};

// Pulls `> file`, `>> file`, `>file`, `>&2` and `2>&1` out of the words.
Redirect take_redirect(std::vector<std::string>& words);

// sleep's operand: a non-negative number of seconds, or of minutes (m) or hours (h).
std::optional<Duration> parse_seconds(std::string_view text);

}  // namespace reliant::sim

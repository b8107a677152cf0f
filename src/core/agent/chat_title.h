// Chat titles: the one a chat takes from its first message, and the check a title a person
// gives (a rename) must pass.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"

namespace reliant::agent {

inline constexpr std::size_t kChatTitleBytesMax = 500;    // what a title may hold, in bytes
inline constexpr std::size_t kDerivedTitleCharsMax = 60;  // a title made from a message

// The first line of `message` that has text, trimmed, each run of spaces and tabs made one space,
// and cut to at most kDerivedTitleCharsMax characters (code points) — at the last space when one
// is in its second half — with "…" where it was cut. Empty when the message has no text.
std::string title_from_message(std::string_view message);

// A title a person gave, without its leading and trailing white space; invalid_argument when
// that is empty, longer than kChatTitleBytesMax bytes, or holds a line break or another control
// character.
Result<std::string> checked_title(std::string_view title);

}  // namespace reliant::agent

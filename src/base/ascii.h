// ASCII character classes that do not depend on the C locale, as parsers of wire formats need.
#pragma once

namespace reliant {

constexpr bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace reliant

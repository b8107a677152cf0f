// Comparison whose duration does not depend on where two secrets differ.
#pragma once

#include <string_view>

namespace reliant {

// True when equal. Takes time proportional to the longer input, whatever the contents, so a
// caller comparing a secret (or its hash) leaks only the length.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace reliant
